// The esink demo page: connects with the official socket.io client (served by esink at
// /socket.io/socket.io.min.js) as one demo user and shows, per table, the changes esink sends
// to that user. Open /?user=bob (or /?token=...) to start as someone else.
"use strict";

// The rows of the users table in schema.sql (AUTH_TABLE=users, AUTH_COLUMN=token).
const DEMO_USERS = [
  { name: "alice", token: "alice-token" },
  { name: "bob", token: "bob-token" },
  { name: "carol", token: "carol-token" },
  { name: "TEST", token: "TEST", note: "user -1: announcements only" },
];
const TABLES = ["orders", "messages", "announcements"];  // TABLE_NAMES, shown even before a change
const MAX_ROWS = 50;                                      // per table: the page stays small

const byId = (id) => document.getElementById(id);
const panels = new Map();
let socket = null;

function el(tag, props = {}, ...children) {
  const e = Object.assign(document.createElement(tag), props);
  e.append(...children);
  return e;
}

function panel(table) {
  let p = panels.get(table);
  if (p) return p;
  const count = el("span", { className: "count", textContent: "0 events" });
  const list = el("ol");
  const empty = el("p", { className: "empty", textContent: "waiting for changes…" });
  const section = el("section", {}, el("h2", {}, el("span", { textContent: table }), count), empty, list);
  section.dataset.table = table;
  byId("tables").append(section);
  p = { count, list, empty, n: 0 };
  panels.set(table, p);
  return p;
}

function reset() {
  byId("tables").replaceChildren();
  panels.clear();
  for (const t of TABLES) panel(t);
}

// One change: {id, type, table, data, timestamp, source, version, userId} (docs/client-protocol.md).
function show(change) {
  const p = panel(String(change.table));
  p.n += 1;
  p.count.textContent = `${p.n} event${p.n === 1 ? "" : "s"}`;
  p.empty.remove();
  const time = new Date(change.timestamp).toLocaleTimeString();
  // Commit to screen, on this machine's clock (meaningless when esink's clock differs).
  const lag = Date.now() - change.timestamp;
  const li = el("li", {},
    el("div", { className: "meta" },
      el("span", { className: "type", textContent: change.type }),
      el("span", { textContent: time }),
      el("span", { textContent: `source ${change.source}` }),
      el("span", { className: "lag", textContent: lag >= 0 && lag < 60000 ? `${lag} ms after commit` : "" })),
    el("pre", { className: "row", textContent: JSON.stringify(change.data) }));
  li.dataset.table = change.table;
  li.dataset.type = change.type;
  li.dataset.eventId = change.id;
  p.list.prepend(li);
  while (p.list.children.length > MAX_ROWS) p.list.lastElementChild.remove();
}

function status(state, text, userId) {
  const s = byId("status");
  s.dataset.state = state;
  if (userId === undefined) delete s.dataset.userId;
  else s.dataset.userId = String(userId);
  s.textContent = text;
}

function connect(token) {
  if (socket) {
    socket.off();
    socket.disconnect();
  }
  reset();
  const known = DEMO_USERS.find((u) => u.token === token);
  const who = known ? known.name : "custom token";
  const url = new URL(location.href);
  url.search = known ? `?user=${encodeURIComponent(known.name)}` : `?token=${encodeURIComponent(token)}`;
  history.replaceState(null, "", url);
  document.title = `esink demo: ${who}`;

  let refused = false;
  status("connecting", `connecting as ${who}…`);
  socket = io({ auth: { token } });
  socket.on("connect", () => status("connecting", `authenticating as ${who}…`));
  socket.on("connected", (hello) => {
    const transport = () => socket.io.engine ? socket.io.engine.transport.name : "?";
    const say = () => status("connected", `connected as ${who}, user id ${hello.userId} (${transport()})`, hello.userId);
    say();
    socket.io.engine.once("upgrade", say);
  });
  socket.on("error", (e) => {
    refused = true;
    status("refused", e && e.code === 401 ? `token refused (401 Unauthorized): ${who}`
                                          : `esink error ${e && e.code}: ${e && e.message}`);
  });
  socket.on("disconnect", (reason) => {
    if (!refused) status("disconnected", `disconnected (${reason}), reconnecting…`);
  });
  socket.on("connect_error", (err) => status("disconnected", `cannot reach esink (${err.message}), retrying…`));
  socket.on("changes", show);
}

function start() {
  const select = byId("user");
  const token = byId("token");
  for (const u of DEMO_USERS)
    select.append(el("option", { value: u.token, textContent: u.note ? `${u.name} (${u.note})` : u.name }));
  select.append(el("option", { value: "", textContent: "other token…" }));
  select.addEventListener("change", () => {
    token.value = select.value;
    if (select.value) connect(select.value);
    else token.focus();
  });
  byId("login").addEventListener("submit", (ev) => {
    ev.preventDefault();
    const t = token.value.trim();
    select.value = DEMO_USERS.some((u) => u.token === t) ? t : "";
    if (t) connect(t);
  });

  const params = new URLSearchParams(location.search);
  const named = DEMO_USERS.find((u) => u.name === params.get("user"));
  const initial = params.get("token") || (named || DEMO_USERS[0]).token;
  token.value = initial;
  select.value = DEMO_USERS.some((u) => u.token === initial) ? initial : "";
  if (typeof io !== "function") {
    status("refused", "the socket.io client did not load from /socket.io/socket.io.min.js (ESINK_SOCKETIO_CLIENT_DIR)");
    return;
  }
  connect(initial);
}

start();
