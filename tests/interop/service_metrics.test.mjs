// esink_service's operator surface, end to end with socket.io-client: GET /metrics (Prometheus
// text format 0.0.4) moving with real rows and clients, GET /health (503 while the throwaway
// PostgreSQL connection is cut), structured logs without secrets, the graceful SIGTERM shutdown.
import { describe, it, before, after } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import path from "node:path";
import { start_service, connect_user, publish, scratch_dir } from "./lib/service_server.mjs";
import { postgres } from "./lib/service_db.mjs";
import { within, DEFAULT_WAIT_MS } from "./lib/util.mjs";
import { WebSocket } from "./lib/deps.mjs";

const SECRET = "pub-s3cret-value";

/// Parses the exposition strictly: every line a HELP, a TYPE or a sample of a declared family;
/// histogram buckets cumulative and ending in +Inf = _count. Returns {series: value}.
function parse_prometheus(text) {
  assert.ok(text.endsWith("\n"), "exposition ends with a newline");
  const types = new Map(), helps = new Set(), out = new Map();
  const name_re = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
  const sample_re = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(?:[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\[\\"n])*",?)*\})? (\S+)$/;
  for (const line of text.slice(0, -1).split("\n")) {
    let m;
    if ((m = /^# HELP (\S+) (.*)$/.exec(line))) {
      assert.match(m[1], name_re);
      assert.ok(!helps.has(m[1]), `one HELP per family: ${m[1]}`);
      helps.add(m[1]);
      continue;
    }
    if ((m = /^# TYPE (\S+) (counter|gauge|histogram|summary|untyped)$/.exec(line))) {
      assert.ok(helps.has(m[1]), `HELP before TYPE: ${m[1]}`);
      types.set(m[1], m[2]);
      continue;
    }
    m = sample_re.exec(line);
    assert.ok(m, `not a sample line: ${JSON.stringify(line)}`);
    const family = types.has(m[1]) ? m[1] : m[1].replace(/_(bucket|sum|count)$/, "");
    assert.ok(types.has(family), `sample of an undeclared family: ${line}`);
    assert.ok(m[1].startsWith("esink_"), line);
    const value = m[3] === "+Inf" ? Infinity : m[3] === "-Inf" ? -Infinity : Number(m[3]);
    assert.ok(m[3] === "NaN" || !Number.isNaN(value), `value of ${line}`);
    const key = m[1] + (m[2] ?? "");
    assert.ok(!out.has(key), `duplicate series ${key}`);
    out.set(key, value);
  }
  for (const [family, type] of types) {
    if (type !== "histogram") continue;
    const buckets = [...out].filter(([k]) => k.startsWith(family + "_bucket{"));
    assert.ok(buckets.length > 1, `${family} has buckets`);
    for (let i = 1; i < buckets.length; ++i) assert.ok(buckets[i][1] >= buckets[i - 1][1], `${family} cumulative`);
    assert.match(buckets.at(-1)[0], /le="\+Inf"/);
    assert.equal(out.get(family + "_count"), buckets.at(-1)[1], `${family}_count equals the +Inf bucket`);
  }
  return out;
}

async function scrape(url, headers = {}) {
  const r = await fetch(url + "/metrics", { headers });
  assert.equal(r.status, 200);
  assert.equal(r.headers.get("content-type"), "text/plain; version=0.0.4; charset=utf-8");
  return parse_prometheus(await r.text());
}

async function until(pred, what, ms = DEFAULT_WAIT_MS * 2) {
  const deadline = Date.now() + ms;
  while (!(await pred())) {
    if (Date.now() > deadline) throw new Error(`timed out: ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

function sqlite_db() {
  const dir = scratch_dir();
  const db = path.join(dir, "ops.db");
  execFileSync("sqlite3", [db, "CREATE TABLE items (id INTEGER PRIMARY KEY, owner INTEGER, title TEXT);"]);
  return { dir, db, sql: (text) => execFileSync("sqlite3", ["-batch", "-bail", "-cmd", ".timeout 5000", db, text]) };
}

function service_env(db, extra = {}) {
  return { ESINK_SQLITE_PATH: db, TABLE_NAMES: "items", TABLE_AUTH_COLUMN_ROUTING: `{"items": "owner"}`,
           SECURITY_TOKEN: SECRET, ...extra };
}

/// Resolves {code, ms} when the process exits after SIGTERM.
function terminate(svc) {
  const t0 = Date.now();
  const exited = new Promise((resolve) => svc.child.once("close", (code, signal) => resolve({ code, signal, ms: Date.now() - t0 })));
  svc.child.kill("SIGTERM");
  return exited;
}

describe("GET /metrics and /health", () => {
  let db, svc;
  before(async () => {
    db = sqlite_db();
    svc = await start_service(service_env(db.db), { cwd: db.dir });
  });
  after(async () => { assert.equal(await svc.stop(), 0); });

  it("counters move with clients, rows, publishes and refused tokens", async () => {
    const before = await scrape(svc.url);
    for (const k of ["esink_connected_clients", "esink_auth_failures_total", "esink_payload_bytes_total",
                     "esink_slow_client_disconnects_total", "esink_source_lag_seconds", "esink_source_up",
                     'esink_connections{transport="polling"}', 'esink_connections{transport="websocket"}',
                     'esink_events_delivered_total{origin="database"}', "esink_commit_to_send_seconds_count",
                     'esink_publish_total{via="http",result="accepted"}'])
      assert.ok(before.has(k), `${k} is exported before any traffic`);
    assert.equal(before.get("esink_source_up"), 1);

    const ws = await connect_user(svc.url, "TEST");
    const polling = await connect_user(svc.url, "TEST", { transports: ["polling"], upgrade: false });
    const refused = await connect_user(svc.url, "not-a-token");
    assert.deepEqual(refused.error, { code: 401, message: "Unauthorized" });
    refused.socket.close();
    const got = { ws: [], polling: [] };
    ws.socket.on("items", (e) => got.ws.push(e));
    polling.socket.on("items", (e) => got.polling.push(e));
    try {
      // The refused client's connection closes asynchronously (client and server both close it
      // after the 401): wait for the gauge to settle instead of racing that close.
      let m;
      await until(async () => (m = await scrape(svc.url)).get('esink_connections{transport="websocket"}') === 1,
                  "the refused client's connection is gone");
      assert.equal(m.get("esink_connected_clients"), 2);
      assert.equal(m.get('esink_connections{transport="websocket"}'), 1);
      assert.equal(m.get('esink_connections{transport="polling"}'), 1);
      assert.equal(m.get("esink_auth_failures_total"), before.get("esink_auth_failures_total") + 1);
      assert.equal(m.get("esink_clients_admitted_total"), before.get("esink_clients_admitted_total") + 2);

      db.sql("INSERT INTO items (owner, title) VALUES (-1, 'a'), (-1, 'b'), (5, 'nobody'); UPDATE items SET title = 'c' WHERE title = 'a';");
      await until(() => got.ws.length >= 3 && got.polling.length >= 3, "3 events on both clients");
      const r = await publish(svc.url, { securityToken: SECRET, userId: "-1", table: "items", type: "insert", data: {} });
      assert.equal(r.status, 200, r.text);
      assert.equal((await publish(svc.url, { securityToken: "wrong" })).status, 401);

      // Clients may hold the last event a moment before the counters move; the exact checks
      // below still catch any overcount.
      await until(async () => {
        m = await scrape(svc.url);
        return m.get("esink_commit_to_send_seconds_count") >= 3 &&
               m.get('esink_events_received_total{source="sqlite",table="items"}') >= 4;
      }, "the last change is counted");
      assert.equal(m.get('esink_events_received_total{source="sqlite",table="items"}'), 4);
      assert.equal(m.get('esink_events_delivered_total{origin="database"}'), 3);  // per user, not per client
      assert.equal(m.get('esink_events_delivered_total{origin="publish"}'), 1);
      assert.equal(m.get("esink_commit_to_send_seconds_count"), 3);
      assert.ok(m.get("esink_commit_to_send_seconds_sum") >= 0);
      assert.equal(m.get('esink_publish_total{via="http",result="accepted"}'), 1);
      assert.equal(m.get('esink_publish_total{via="http",result="rejected"}'), 1);
      // Two clients, two packets (table event and `changes`) per delivery.
      assert.ok(m.get("esink_payload_bytes_total") - before.get("esink_payload_bytes_total") > 2 * 2 * 4 * 50);
      assert.equal(m.get("esink_delivery_queue_events"), 0);
      assert.equal(m.get("esink_source_lag_seconds"), 0);
      const text = await (await fetch(svc.url + "/metrics")).text();
      for (const s of [SECRET, "not-a-token", "TEST"]) assert.ok(!text.includes(s), `metrics mention ${s}`);
    } finally {
      ws.socket.close();
      polling.socket.close();
    }
    await until(async () => (await scrape(svc.url)).get("esink_connected_clients") === 0, "clients gone");
  });

  it("GET /health: 200 with the source connected and caught up", async () => {
    const r = await fetch(svc.url + "/health");
    assert.equal(r.status, 200);
    assert.match(r.headers.get("content-type"), /^application\/json/);
    const h = await r.json();
    assert.equal(h.status, "ok");
    assert.equal(h.source, "connected");
    assert.equal(h.caughtUp, true);
    assert.equal(h.queued, 0);
    assert.equal((await fetch(svc.url + "/health", { method: "POST" })).status, 405);
  });

  it("logs are logfmt lines, rejections with a reason, and never a secret", () => {
    const lines = svc.stderr.trim().split("\n");
    for (const l of lines) assert.match(l, /^ts=\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z level=(error|warn|info|debug) msg=/, l);
    assert.ok(lines.some((l) => / level=info msg="esink started" port=\d+ /.test(l)), svc.stderr);
    assert.ok(lines.some((l) => / msg=configuration .*security_token=\*\*\* /.test(l)), svc.stderr);
    assert.ok(lines.some((l) => / msg="source connected" source=sqlite/.test(l)), svc.stderr);
    assert.ok(lines.some((l) => / msg="client rejected" reason="invalid token" code=401 /.test(l)), svc.stderr);
    assert.ok(!svc.stderr.includes(SECRET) && !svc.stderr.includes("not-a-token"), svc.stderr);
  });
});

describe("GET /health on PostgreSQL", () => {
  it("503 while the database connection is lost, 200 once the source is back", async () => {
    const db = postgres();
    await db.sql("DROP TABLE IF EXISTS ops_items; CREATE TABLE ops_items (id SERIAL PRIMARY KEY, owner INT);");
    const svc = await start_service({ ...db.env, TABLE_NAMES: "ops_items", ESINK_CONSUMER: "ops_health",
                                      TABLE_AUTH_COLUMN_ROUTING: `{"ops_items": "owner"}` });
    try {
      await until(async () => (await fetch(svc.url + "/health")).status === 200, "healthy after start");
      const seen = [];
      let polling = true;
      const poller = (async () => {
        while (polling) {
          const r = await fetch(svc.url + "/health");
          seen.push({ status: r.status, body: await r.json() });
          await new Promise((resolve) => setTimeout(resolve, 5));
        }
      })();
      try {
        // Cut every connection to the database but psql's own: esink's source loses its own.
        await db.sql("SELECT pg_terminate_backend(pid) FROM pg_stat_activity " +
                     "WHERE datname = current_database() AND pid <> pg_backend_pid();");
        await until(() => seen.some((h) => h.status === 503), "a 503 after the connection loss");
        await until(() => seen.at(-1).status === 200, "200 again after the reconnect");
      } finally {
        polling = false;
        await poller;
      }
      const down = seen.find((h) => h.status === 503);
      assert.deepEqual([down.body.status, down.body.source, down.body.caughtUp], ["unavailable", "disconnected", false]);
      assert.equal((await scrape(svc.url)).get("esink_source_up"), 1);
      // The status flips before its log line reaches stderr.
      await until(() => /level=error msg="source lost" source=postgres /.test(svc.stderr) &&
                        /level=warn msg="source reconnected" source=postgres/.test(svc.stderr),
                  "the loss and the reconnect are logged");
    } finally {
      assert.equal(await svc.stop(), 0);
    }
  });
});

describe("slow clients", () => {
  it("a client that stops reading is cut off and counted", async () => {
    const db = sqlite_db();
    const svc = await start_service(service_env(db.db, { ESINK_MAX_BODY_BYTES: "2000000" }), { cwd: db.dir });
    const ws = new WebSocket(`ws://127.0.0.1:${svc.port}/socket.io/?EIO=4&transport=websocket`);
    try {
      const frames = [];
      ws.on("message", (d) => frames.push(String(d)));
      await until(() => frames.some((f) => f.startsWith("0{")), "Engine.IO open");
      ws.send(`40${JSON.stringify({ token: "TEST" })}`);
      await until(() => frames.some((f) => f.startsWith('42["connected"')), "the connected event");
      ws._socket.pause();  // stops reading: the server's outgoing data piles up
      const blob = "x".repeat(1000000);
      let m;
      for (let i = 0; i < 60; ++i) {
        const r = await publish(svc.url, { securityToken: SECRET, userId: "-1", table: "items", type: "insert", data: { blob } });
        assert.equal(r.status, 200, r.text);
        m = await scrape(svc.url);
        if (m.get("esink_slow_client_disconnects_total") === 1) break;
      }
      assert.equal(m.get("esink_slow_client_disconnects_total"), 1, "cut off after at most 60 MB");
      // The session is counted as closed a moment before its socket leaves the namespace.
      await until(async () => (m = await scrape(svc.url)).get("esink_connected_clients") === 0,
                  "the cut-off client left the namespace");
      assert.equal(m.get("esink_slow_client_disconnects_total"), 1);
      assert.ok(m.get("esink_payload_bytes_total") > 16e6);
    } finally {
      ws.terminate();
      assert.equal(await svc.stop(), 0);
    }
  });
});

describe("METRICS_TOKEN and LOG_LEVEL", () => {
  it("METRICS_TOKEN requires a bearer token; NODE_ENV=production logs warnings only", async () => {
    const db = sqlite_db();
    const svc = await start_service(service_env(db.db, { METRICS_TOKEN: "m-token", NODE_ENV: "production",
                                                         ESINK_ALLOW_TEST_TOKEN: "true" }), { cwd: db.dir });
    try {
      assert.equal((await fetch(svc.url + "/metrics")).status, 401);
      assert.equal((await fetch(svc.url + "/metrics", { headers: { Authorization: "Bearer nope" } })).status, 401);
      const m = await scrape(svc.url, { Authorization: "Bearer m-token" });
      assert.equal(m.get("esink_source_up"), 1);
      assert.equal((await fetch(svc.url + "/health")).status, 200);
    } finally {
      assert.equal(await svc.stop(), 0);
    }
    for (const l of svc.stderr.trim().split("\n").filter(Boolean))
      assert.match(l, / level=(warn|error) /, "production is quiet: " + l);
  });
});

describe("SIGTERM", () => {
  it("delivers rows the source already read, disconnects every client, exits 0", async () => {
    const db = sqlite_db();
    const svc = await start_service(service_env(db.db, { ESINK_SHUTDOWN_TIMEOUT_MS: "5000" }), { cwd: db.dir });
    const clients = [await connect_user(svc.url, "TEST"),
                     await connect_user(svc.url, "TEST", { transports: ["polling"], upgrade: false })];
    const state = clients.map(({ socket }) => {
      const s = { ids: [], reason: null, after: 0 };
      socket.on("items", (e) => s.ids.push(e.data.id));
      socket.on("disconnect", (reason) => { s.reason = reason; s.after = s.ids.length; });
      return s;
    });
    const n = 300;
    const values = Array.from({ length: n }, (_, i) => `(-1, 'row ${i}')`).join(",");
    db.sql(`INSERT INTO items (owner, title) VALUES ${values};`);
    // Read by the source (handed to the service), not necessarily delivered yet: now stop.
    await until(async () => (await scrape(svc.url)).get('esink_events_received_total{source="sqlite",table="items"}') === n,
                "the source read every row");
    const { code, ms } = await terminate(svc);
    assert.equal(code, 0, svc.stderr);
    assert.ok(ms < 5000 + 1000, `exited after ${ms} ms`);
    await until(() => state.every((s) => s.reason !== null), "both clients disconnected");
    for (const s of state) {
      assert.equal(s.reason, "io server disconnect");
      assert.equal(s.after, n, "every row arrived before the disconnect");
      assert.deepEqual(s.ids, Array.from({ length: n }, (_, i) => i + 1));
    }
    assert.match(svc.stderr, / level=info msg="shutdown requested" signal=SIGTERM/);
    assert.match(svc.stderr, / level=info msg="shutdown complete" /);
  });

  it("waits for stalled sessions only up to ESINK_SHUTDOWN_TIMEOUT_MS, /health says stopping meanwhile", async () => {
    const db = sqlite_db();
    const svc = await start_service(service_env(db.db, { ESINK_SHUTDOWN_TIMEOUT_MS: "2000" }), { cwd: db.dir });
    // An Engine.IO session that never connects a namespace nor polls again: it cannot be told.
    const open = await fetch(svc.url + "/socket.io/?EIO=4&transport=polling");
    assert.equal(open.status, 200);
    await open.text();
    const t0 = Date.now();
    const exited = terminate(svc);
    await until(async () => {
      const r = await fetch(svc.url + "/health").catch(() => null);
      if (!r) return false;
      const body = await r.json();
      return r.status === 503 && body.status === "stopping";
    }, "/health answers 503 stopping", 1500);
    // New sessions are refused meanwhile.
    assert.equal((await fetch(svc.url + "/socket.io/?EIO=4&transport=polling")).status, 503);
    const { code } = await exited;
    const ms = Date.now() - t0;
    assert.equal(code, 0, svc.stderr);
    assert.ok(ms >= 1000 && ms < 2000 + 1000, `exited after ${ms} ms`);
    assert.match(svc.stderr, /msg="shutdown complete" .*closed_by_server=1 /);
  });

  it("a second signal exits at once", async () => {
    const db = sqlite_db();
    const svc = await start_service(service_env(db.db, { ESINK_SHUTDOWN_TIMEOUT_MS: "20000" }), { cwd: db.dir });
    const open = await fetch(svc.url + "/socket.io/?EIO=4&transport=polling");
    await open.text();
    const exited = terminate(svc);
    await until(async () => (await fetch(svc.url + "/health").catch(() => null))?.status === 503, "stopping");
    const t0 = Date.now();
    svc.child.kill("SIGINT");
    const { code } = await within(exited, 3000, "exit after the second signal");
    assert.equal(code, 1);
    assert.ok(Date.now() - t0 < 2000);
    assert.match(svc.stderr, /level=error msg="second stop signal: exiting without finishing the shutdown" signal=SIGINT/);
  });
});
