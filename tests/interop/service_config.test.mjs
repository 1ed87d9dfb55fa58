// esink_service without a database server (the SQLite default): configuration errors, the HTTP
// API's status codes, the TEST token, republishing, stopping.
import { describe, it, before, after } from "node:test";
import assert from "node:assert/strict";
import { start_service, run_service, connect_user, publish } from "./lib/service_server.mjs";
import { within, wait_for } from "./lib/util.mjs";

describe("configuration errors: one line on stderr, exit 2", () => {
  const cases = [
    [{ PORT: "http" }, /^esink: PORT: expected a port number 0-65535, got 'http'$/],
    [{ PORT: "70000" }, /^esink: PORT: expected a port number 0-65535, got '70000'$/],
    [{ POSTGRES_DATABASE_URL: "postgresql://x/y", MYSQL_DATABASE: "y", TABLE_NAMES: "a" },
     /^esink: POSTGRES_DATABASE_URL and MYSQL_DATABASE are both set/],
    [{ TABLE_NAMES: "a", TABLE_AUTH_COLUMN_ROUTING: `{"a": "id", "b": "id"}` },
     /^esink: TABLE_AUTH_COLUMN_ROUTING: table "b" is not watched \(TABLE_NAMES: a\)$/],
    [{ AUTH_TABLE: "users" }, /^esink: AUTH_TABLE is set but AUTH_COLUMN is not/],
    [{ AUTH_COLUMN: "token" }, /^esink: AUTH_COLUMN is set but AUTH_TABLE is not/],
    [{ TABLE_NAMES: "a", TABLE_AUTH_COLUMN_ROUTING: `{\n  "a": "id"\n  "b": 1}` },
     /^esink: TABLE_AUTH_COLUMN_ROUTING: invalid JSON at line 3, column 3: /],
    [{ TABLE_NAMES: "a", TABLE_AUTH_COLUMN_ROUTING: `{"a": 5}` },
     /^esink: TABLE_AUTH_COLUMN_ROUTING: table "a": expected a column name, an array of column names, or "\*"$/],
    [{ ALLOW_REPUBLISHING: "maybe" }, /^esink: ALLOW_REPUBLISHING: expected true or false, got 'maybe'$/],
    [{ FILTERS: "users" }, /^esink: FILTERS: expected table.column, got 'users' \(item 1\)$/],
    [{ POSTGRES_DATABASE_URL: "postgresql://x/y" }, /^esink: TABLE_NAMES: required with POSTGRES_DATABASE_URL/],
    [{ MYSQL_HOST: "db" }, /^esink: MYSQL_HOST is set but MYSQL_DATABASE is not/],
    [{ POSTGRES_DATABASE_URL: "postgresql://x/y", TABLE_NAMES: "a", ESINK_PG_CAPTURE: "wal", LOG_LEVEL: "error" },
     /^esink: ESINK_PG_CAPTURE: expected 'table' or 'logical', got 'wal'$/],
  ];
  for (const [env, re] of cases) {
    it(JSON.stringify(env), async () => {
      const r = await run_service({ PORT: "0", ...env });
      assert.equal(r.code, 2, r.stderr);
      const lines = r.stderr.trim().split("\n");
      assert.equal(lines.length, 1, r.stderr);
      assert.match(lines[0], re);
      assert.equal(r.stdout, "");
    });
  }

  it("a port in use is a one-line startup error, exit 1", async () => {
    const first = await start_service({});
    try {
      const r = await run_service({ PORT: String(first.port) });
      assert.equal(r.code, 1, r.stderr);
      assert.match(r.stderr, new RegExp(`^esink: cannot listen on PORT ${first.port}: .*$`, "m"));
      assert.equal(r.stderr.trim().split("\n").filter((l) => !l.includes("warning")).length, 1, r.stderr);
    } finally {
      assert.equal(await first.stop(), 0);
    }
  });
});

describe("HTTP API", () => {
  let svc, open;
  before(async () => {
    svc = await start_service({ SECURITY_TOKEN: "'s3cret'", FILTERS: "things.hidden", ESINK_MAX_BODY_BYTES: "4096" });
    open = await start_service({});
  });
  after(async () => {
    assert.equal(await svc.stop(), 0);
    assert.equal(await open.stop(), 0);
  });

  const good = () => ({ securityToken: "s3cret", userId: "-1", table: "things", type: "insert", data: { a: 1 } });

  it("GET /ping answers pong as text/plain", async () => {
    const r = await fetch(svc.url + "/ping");
    assert.equal(r.status, 200);
    assert.match(r.headers.get("content-type"), /^text\/plain/);
    assert.equal(await r.text(), "pong");
  });

  it("200 delivers to the user's clients with FILTERS applied", async () => {
    const { socket, connected } = await connect_user(svc.url, "TEST");
    assert.equal(connected.userId, -1);
    const got = wait_for(socket, "things");
    const changes = wait_for(socket, "changes");
    const r = await publish(svc.url, { ...good(), data: { a: 1, hidden: "x" }, timestamp: 1234 });
    assert.equal(r.status, 200, r.text);
    assert.equal(r.body.code, 200);
    const [p] = await got;
    assert.deepEqual(p, { id: r.body.id, type: "insert", table: "things", data: { a: 1 }, timestamp: 1234,
                          source: "API", version: 1, userId: -1 });
    assert.deepEqual((await changes)[0], p);
    socket.close();
  });

  it("400 names the invalid parameter", async () => {
    const cases = [
      [{ data: undefined }, "data"], [{ data: [1] }, "data"], [{ type: "upsert" }, "type"],
      [{ type: undefined }, "type"], [{ userId: undefined }, "userId"], [{ userId: {} }, "userId"],
      [{ table: "" }, "table"], [{ table: 5 }, "table"], [{ timestamp: "now" }, "timestamp"],
      [{ source: 1 }, "source"], [{ version: "1" }, "version"],
    ];
    for (const [patch, key] of cases) {
      const body = { ...good(), ...patch };
      for (const k of Object.keys(patch)) if (patch[k] === undefined) delete body[k];
      const r = await publish(svc.url, body);
      assert.equal(r.status, 400, `${JSON.stringify(patch)}: ${r.text}`);
      assert.equal(r.body.key, key);
      assert.match(r.body.message, new RegExp(key));
    }
    const not_json = await publish(svc.url, "{not json");
    assert.equal(not_json.status, 400);
    assert.match(not_json.body.message, /not valid JSON/);
    const array = await publish(svc.url, "[1]");
    assert.equal(array.status, 400);
  });

  it("401 for a wrong or missing securityToken", async () => {
    assert.equal((await publish(svc.url, { ...good(), securityToken: "s3cre" })).status, 401);
    assert.equal((await publish(svc.url, { ...good(), securityToken: "s3cret!" })).status, 401);
    const b = good();
    delete b.securityToken;
    assert.equal((await publish(svc.url, b)).status, 401);
  });

  it("403 without SECURITY_TOKEN configured", async () => {
    const r = await publish(open.url, good());
    assert.equal(r.status, 403);
    assert.match(r.body.message, /SECURITY_TOKEN/);
  });

  it("413 for an oversized body, 415 for another content type, 405 for GET", async () => {
    const big = await publish(svc.url, { ...good(), data: { s: "x".repeat(5000) } });
    assert.equal(big.status, 413);
    const form = await publish(svc.url, "a=1", { headers: { "Content-Type": "application/x-www-form-urlencoded" } });
    assert.equal(form.status, 415);
    const get = await fetch(svc.url + "/publish");
    assert.equal(get.status, 405);
  });
});

describe("TEST token and republishing", () => {
  it("TEST connects as user -1 in development", async () => {
    const svc = await start_service({ NODE_ENV: "development" });
    try {
      const { socket, connected } = await connect_user(svc.url, "TEST");
      assert.equal(connected.userId, -1);
      assert.equal(connected.code, 200);
      assert.equal(connected.sessionId, socket.id);
      socket.close();
      const none = await connect_user(svc.url, undefined);
      assert.deepEqual(none.error, { code: 401, message: "Unauthorized" });
      none.socket.close();
    } finally {
      assert.equal(await svc.stop(), 0);
    }
  });

  it("production refuses TEST unless ESINK_ALLOW_TEST_TOKEN=true", async () => {
    const prod = await start_service({ NODE_ENV: "production" });
    const allowed = await start_service({ NODE_ENV: "production", ESINK_ALLOW_TEST_TOKEN: "true" });
    try {
      const r = await connect_user(prod.url, "TEST");
      assert.deepEqual(r.error, { code: 401, message: "Unauthorized" });
      assert.equal(r.disconnect, "io server disconnect");
      r.socket.close();
      const ok = await connect_user(allowed.url, "TEST");
      assert.equal(ok.connected.userId, -1);
      ok.socket.close();
    } finally {
      assert.equal(await prod.stop(), 0);
      assert.equal(await allowed.stop(), 0);
    }
  });

  it("ALLOW_REPUBLISHING=true: a client publishes to its own user with source socketio", async () => {
    const svc = await start_service({ ALLOW_REPUBLISHING: "true", FILTERS: "t.secret" });
    try {
      const a = await connect_user(svc.url, "TEST");
      const b = await connect_user(svc.url, "TEST");
      const got = wait_for(b.socket, "t");
      a.socket.emit("event", { table: "t", type: "update", data: { x: 1, secret: 2 } });
      const [p] = await got;
      assert.equal(p.source, "socketio");
      assert.equal(p.userId, -1);
      assert.deepEqual(p.data, { x: 1 });
      const err = wait_for(a.socket, "error");
      a.socket.emit("event", { table: "t", type: "nope", data: {} });
      assert.deepEqual((await err)[0], { code: 400, message: "type must be insert, update or delete", key: "type" });
      const other = wait_for(a.socket, "error");
      a.socket.emit("event", { table: "t", type: "insert", data: {}, userId: 5 });
      assert.equal((await other)[0].key, "userId");
      a.socket.close();
      b.socket.close();
    } finally {
      assert.equal(await svc.stop(), 0);
    }
  });

  it("republishing is off by default", async () => {
    const svc = await start_service({});
    try {
      const a = await connect_user(svc.url, "TEST");
      let leaked = false;
      a.socket.on("t", () => { leaked = true; });
      const err = wait_for(a.socket, "error");
      a.socket.emit("event", { table: "t", type: "update", data: { x: 1 } });
      assert.equal((await err)[0].code, 403);
      // A later ping round trip proves nothing was queued behind the error.
      await within(fetch(svc.url + "/ping"), 5000, "ping");
      assert.equal(leaked, false);
      a.socket.close();
    } finally {
      assert.equal(await svc.stop(), 0);
    }
  });
});
