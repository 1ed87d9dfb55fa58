-- The demo database (tools/demo.sh creates it fresh on every start). esink adds its own
-- esink_events and esink_consumers tables and one trigger per watched table when it starts.

-- AUTH_TABLE=users, AUTH_COLUMN=token: a socket.io client sending auth {token: "alice-token"}
-- is user 1. This table is not watched (TABLE_NAMES), so the tokens never travel.
CREATE TABLE users (
  id    INTEGER PRIMARY KEY,
  name  TEXT NOT NULL,
  token TEXT NOT NULL UNIQUE
);
INSERT INTO users (id, name, token) VALUES
  (1, 'alice', 'alice-token'),
  (2, 'bob',   'bob-token'),
  (3, 'carol', 'carol-token');

-- Routed by user_id: each user sees only their own orders. card_number is in FILTERS, so it
-- never leaves esink.
CREATE TABLE orders (
  id          INTEGER PRIMARY KEY,
  user_id     INTEGER NOT NULL REFERENCES users(id),
  item        TEXT NOT NULL,
  quantity    INTEGER NOT NULL,
  status      TEXT NOT NULL DEFAULT 'placed',
  card_number TEXT
);

-- Routed by ["sender_id", "recipient_id"]: both ends of a conversation see it (once each).
CREATE TABLE messages (
  id           INTEGER PRIMARY KEY,
  sender_id    INTEGER NOT NULL REFERENCES users(id),
  recipient_id INTEGER NOT NULL REFERENCES users(id),
  body         TEXT NOT NULL,
  read         BOOLEAN NOT NULL DEFAULT 0
);

-- Routed to "*": every connected user sees every announcement.
CREATE TABLE announcements (
  id       INTEGER PRIMARY KEY,
  title    TEXT NOT NULL,
  posted_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);
