#!/usr/bin/env bash
# The first command on a fresh Debian 12 machine: installs what is missing (tools/setup.sh),
# builds esink_service (build/, Release) and starts it on its embedded SQLite default with the
# demo of samples/esink_service/demo: sample tables, a writer process that keeps changing rows,
# and a page served by esink at http://localhost:PORT/ showing the events live, per table, for
# a chosen demo user. Ctrl-C stops everything.
#
#   tools/demo.sh [--port N] [--interval SECONDS] [--build-dir DIR] [--no-setup]
#
#   --port N          listen on N (default: $PORT, else 3000)
#   --interval S      seconds between two writes of the writer (default 1)
#   --build-dir DIR   CMake build directory (default build); the database goes to DIR/demo-data
#   --no-setup        skip tools/setup.sh (packages and npm modules already installed)
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

port=${PORT:-3000}
interval=1
build=build
setup=1
while [ $# -gt 0 ]; do
  case "$1" in
    --port) port=${2:?--port needs a number}; shift 2 ;;
    --interval) interval=${2:?--interval needs seconds}; shift 2 ;;
    --build-dir) build=${2:?--build-dir needs a directory}; shift 2 ;;
    --no-setup) setup=0; shift ;;
    -h|--help) sed -n '2,13p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "demo: unknown argument '$1' (see tools/demo.sh --help)" >&2; exit 2 ;;
  esac
done
case "$port" in ''|*[!0-9]*) echo "demo: the port must be a number, got '$port'" >&2; exit 2 ;; esac
case "$interval" in ''|*[!0-9.]*) echo "demo: the interval must be a number of seconds, got '$interval'" >&2; exit 2 ;; esac

demo=$root/samples/esink_service/demo
case "$build" in /*) ;; *) build=$root/$build ;; esac
data=$build/demo-data                 # in the build directory; a fresh database every start
service=$build/samples/esink_service/esink_service

if [ $setup -eq 1 ]; then tools/setup.sh; fi

echo "demo: building esink_service (Release, in ${build#"$root"/})"
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$build" --target esink_service -j"$(nproc)"

# The official socket.io browser client, pinned by the demo's package-lock.json (setup.sh does this too).
if [ ! -f "$demo/node_modules/socket.io-client/dist/socket.io.min.js" ]; then
  echo "demo: npm ci in samples/esink_service/demo"
  (cd "$demo" && npm ci --no-audit --no-fund --loglevel=error)
fi

mkdir -p "$data"
rm -f "$data/demo.db" "$data/demo.db-wal" "$data/demo.db-shm"
sqlite3 "$data/demo.db" < "$demo/schema.sql"

esink_pid=""
writer_pid=""
# shellcheck disable=SC2317  # called from the traps
stop() {
  trap - INT TERM HUP EXIT
  set +e
  if [ -n "$writer_pid" ]; then kill "$writer_pid" 2>/dev/null; wait "$writer_pid" 2>/dev/null; fi
  if [ -n "$esink_pid" ]; then
    echo "demo: stopping esink_service"
    kill -TERM "$esink_pid" 2>/dev/null
    wait "$esink_pid" 2>/dev/null
  fi
  return 0
}
trap 'stop; exit 130' INT
trap 'stop; exit 143' TERM
trap 'stop; exit 129' HUP
trap stop EXIT

# No database server configured: esink_service runs its embedded SQLite default on demo.db.
(
  set -a
  # shellcheck source=/dev/null
  . "$demo/demo.env"
  set +a
  export PORT=$port ESINK_SQLITE_PATH="$data/demo.db" ESINK_STATIC_DIR="$demo/public" \
         ESINK_SOCKETIO_CLIENT_DIR="$demo/node_modules/socket.io-client/dist"
  # Its own session: Ctrl-C reaches this script only, which then sends esink one SIGTERM.
  exec setsid "$service"
) >"$data/esink.out" &
esink_pid=$!

for _ in $(seq 1 100); do
  if grep -q '^listening on port' "$data/esink.out" 2>/dev/null; then break; fi
  if ! kill -0 "$esink_pid" 2>/dev/null; then
    wait "$esink_pid" || true
    esink_pid=""
    echo "demo: esink_service did not start (see the line above); another port: tools/demo.sh --port 3001" >&2
    exit 1
  fi
  sleep 0.1
done
grep -q '^listening on port' "$data/esink.out" || { echo "demo: esink_service did not listen within 10 s" >&2; exit 1; }
port=$(sed -n 's/^listening on port \([0-9]*\)$/\1/p' "$data/esink.out")   # the real one with --port 0

"$demo/writer.sh" "$data/demo.db" "$interval" >"$data/writer.log" 2>&1 &
writer_pid=$!

rel_data=${data#"$root"/}
cat <<EOF

  esink demo is running: esink_service on its embedded SQLite default, a writer changing rows.

    Open  http://localhost:$port/              (as alice)
          http://localhost:$port/?user=bob     (side by side: each user sees only their own rows)

    Demo users (AUTH_TABLE=users, AUTH_COLUMN=token):
EOF
sqlite3 -separator ' ' "$data/demo.db" "SELECT printf('      %-6s token %-12s user id %d', name, token, id) FROM users ORDER BY id"
cat <<EOF
      TEST   token TEST         user id -1 (announcements only)

    Tables: orders -> user_id, messages -> sender_id and recipient_id, announcements -> everyone
    (samples/esink_service/demo/demo.env; orders.card_number is filtered out).

    Database  $rel_data/demo.db   writer log  $rel_data/writer.log (one change every ${interval} s)
    Write a row yourself (appears on alice's page):
      sqlite3 $rel_data/demo.db "INSERT INTO orders (user_id, item, quantity) VALUES (1, 'pizza', 2)"
    Publish without the database:
      curl -s localhost:$port/publish -H 'Content-Type: application/json' \\
        -d '{"securityToken": "demo-publish-token", "table": "announcements", "type": "insert", "userId": "*", "data": {"title": "hello"}}'

  Ctrl-C stops esink_service and the writer.

EOF

# Runs until Ctrl-C, or until esink_service ends by itself.
set +e
wait "$esink_pid"
code=$?
esink_pid=""
echo "demo: esink_service exited with status $code" >&2
exit "$code"
