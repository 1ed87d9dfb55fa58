#!/usr/bin/env bash
# The demo's writer: another process than esink, changing rows of the demo database with the
# sqlite3 command-line shell, one random change per interval, forever. esink notices each
# commit (PRAGMA data_version) and streams it to the users the row belongs to.
#
#   samples/esink_service/demo/writer.sh DATABASE [INTERVAL_SECONDS]    (default 1)
set -uo pipefail

db=${1:?usage: writer.sh DATABASE [INTERVAL_SECONDS]}
interval=${2:-1}
[ -f "$db" ] || { echo "writer: $db does not exist (create it from schema.sql)" >&2; exit 2; }
command -v sqlite3 >/dev/null || { echo "writer: the sqlite3 shell is missing (apt-get install sqlite3)" >&2; exit 2; }

items=(coffee tea croissant bagel muffin juice salad soup sandwich cookie)
statuses_sql="CASE status WHEN 'placed' THEN 'paid' WHEN 'paid' THEN 'shipped' ELSE 'delivered' END"
lines=("Lunch at noon?" "The build is green" "Can you review my change?" "See you tomorrow"
       "Coffee?" "Shipping today" "Thanks!" "On my way")
titles=("Maintenance tonight" "New menu" "Release 1.2 is out" "Office closed Friday")

sql() { sqlite3 -batch -bail -cmd ".timeout 5000" "$db" "$1"; }

user() { echo $((RANDOM % 3 + 1)); }

while [ -f "$db" ]; do
  r=$((RANDOM % 100))
  if [ $r -lt 35 ]; then
    u=$(user); item=${items[RANDOM % ${#items[@]}]}
    what="insert orders: user $u orders $item"
    stmt="INSERT INTO orders (user_id, item, quantity, card_number)
          VALUES ($u, '$item', $((RANDOM % 5 + 1)), '4000-0000-0000-$((RANDOM % 9000 + 1000))');"
  elif [ $r -lt 60 ]; then
    what="update orders: next status of an open order"
    stmt="UPDATE orders SET status = $statuses_sql
          WHERE id = (SELECT id FROM orders WHERE status <> 'delivered' ORDER BY random() LIMIT 1);"
  elif [ $r -lt 70 ]; then
    what="delete orders: the oldest delivered order"
    stmt="DELETE FROM orders WHERE id = (SELECT id FROM orders WHERE status = 'delivered' ORDER BY id LIMIT 1);"
  elif [ $r -lt 90 ]; then
    s=$(user); t=$(( (s + RANDOM % 2) % 3 + 1 )); line=${lines[RANDOM % ${#lines[@]}]}
    what="insert messages: user $s to user $t"
    stmt="INSERT INTO messages (sender_id, recipient_id, body) VALUES ($s, $t, '$line');"
  elif [ $r -lt 96 ]; then
    what="update messages: one read"
    stmt="UPDATE messages SET read = 1 WHERE id = (SELECT id FROM messages WHERE read = 0 ORDER BY id LIMIT 1);"
  else
    title=${titles[RANDOM % ${#titles[@]}]}
    what="insert announcements: $title"
    stmt="INSERT INTO announcements (title) VALUES ('$title');"
  fi
  # Bounded tables: a long-running demo keeps the newest rows only (the deletes are events too).
  stmt="$stmt DELETE FROM orders WHERE id <= (SELECT max(id) - 200 FROM orders);
        DELETE FROM messages WHERE id <= (SELECT max(id) - 200 FROM messages);"
  if sql "BEGIN; $stmt COMMIT;"; then
    echo "writer: $what"
  else
    echo "writer: failed: $what" >&2
  fi
  sleep "$interval"
done
echo "writer: $db is gone, stopping" >&2
