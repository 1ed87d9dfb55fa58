// 500 WebSocket clients and 50 polling clients each receive every broadcast exactly once, and in
// the order each sender emitted them.
import { describe, it, before, after } from "node:test";
import assert from "node:assert/strict";
import { io } from "./lib/deps.mjs";
import { start_server } from "./lib/server.mjs";
import { within } from "./lib/util.mjs";

const WS_CLIENTS = 500;
const POLLING_CLIENTS = 50;
const BATCH = 50;

/// Opens `count` clients in batches; each records, per round and sender, the `seq` of every
/// broadcast it receives.
async function open_clients(url, count, opts, label) {
  const clients = [];
  for (let first = 0; first < count; first += BATCH) {
    const batch = [];
    for (let i = first; i < Math.min(count, first + BATCH); i++) {
      const socket = io(url, { forceNew: true, reconnection: false, ...opts });
      const client = { name: `${label}#${i}`, socket, got: new Map(), ends: new Map(),
                       disconnects: [], waiters: [] };
      socket.on("broadcast", (msg) => {
        const key = `${msg.round}/${msg.from}`;
        if (msg.end) {
          client.ends.set(key, true);
          client.waiters = client.waiters.filter((w) => !w());
        } else {
          if (!client.got.has(key)) client.got.set(key, []);
          client.got.get(key).push(msg.seq);
        }
      });
      socket.on("disconnect", (reason) => client.disconnects.push(reason));
      batch.push(new Promise((resolve, reject) => {
        socket.once("auth", resolve);
        socket.once("connect_error", (e) => reject(new Error(`${client.name}: ${e.message}`)));
      }));
      clients.push(client);
    }
    await within(Promise.all(batch), 20000, `connecting ${label} clients ${first}..${first + BATCH}`);
  }
  return clients;
}

/// Resolves when `client` has seen the end marker of every key.
function ends_seen(client, keys) {
  return new Promise((resolve) => {
    const check = () => {
      if (keys.every((k) => client.ends.has(k))) { resolve(); return true; }
      return false;
    };
    if (!check()) client.waiters.push(check);
  });
}

/// Each sender emits `count` broadcasts then an end marker; every client must get, per sender,
/// exactly 0..count-1 in order (the end marker follows every copy of that sender's broadcasts).
async function round(clients, round_id, senders, count) {
  const keys = senders.map((s) => `${round_id}/${s}`);
  const all_ended = Promise.all(clients.map((c) => ends_seen(c, keys)));
  const payload = "x".repeat(200);
  for (let seq = 0; seq < count; seq++)
    for (const s of senders) clients[s].socket.emit("broadcast", { round: round_id, from: s, seq, payload });
  for (const s of senders) clients[s].socket.emit("broadcast", { round: round_id, from: s, end: true });
  await within(all_ended, 60000, `end markers of round ${round_id} at ${clients.length} clients ` +
               `(missing at ${clients.filter((c) => !keys.every((k) => c.ends.has(k))).length})`);

  const expected = Array.from({ length: count }, (_, i) => i);
  const wrong = [];
  for (const c of clients)
    for (const k of keys) {
      const seqs = c.got.get(k) ?? [];
      if (seqs.length !== count || seqs.some((s, i) => s !== expected[i]))
        wrong.push({ client: c.name, sender: k, seqs });
    }
  assert.deepEqual(wrong.slice(0, 5), [],
                   `${wrong.length} (client, sender) pairs got a wrong broadcast sequence`);
  const dropped = clients.filter((c) => c.disconnects.length);
  assert.deepEqual(dropped.slice(0, 5).map((c) => ({ client: c.name, reasons: c.disconnects })), []);
}

describe(`fan-out to ${WS_CLIENTS} websocket + ${POLLING_CLIENTS} polling clients`, () => {
  let server;
  let clients = [];
  before(async () => {
    server = await start_server();
    clients = [
      ...(await open_clients(server.url, WS_CLIENTS, { transports: ["websocket"] }, "ws")),
      ...(await open_clients(server.url, POLLING_CLIENTS, { transports: ["polling"] }, "polling")),
    ];
  });
  after(async () => {
    for (const c of clients) c.socket.close();
    await server?.stop();
  });

  it("one sender: every client receives each of 50 broadcasts exactly once, in order",
     { timeout: 90000 }, async () => {
    await round(clients, 1, [0], 50);
  });

  it("four concurrent senders (websocket and polling): per-sender order, no loss or duplicate",
     { timeout: 90000 }, async () => {
    await round(clients, 2, [1, 2, WS_CLIENTS, WS_CLIENTS + 1], 25);
  });
});
