// HTTP/1.1 keep-alive on esink's own routes (/publish, /health, /ping, /metrics, static files):
// connections reused by Node's keep-alive agent, pipelined requests answered in order, the
// hand-over of a connection to websocketpp when an Engine.IO request follows, Expect:
// 100-continue, Connection: close and HTTP/1.0, slow and cut-short clients, idle timeout, and
// no event lost or duplicated when many keep-alive connections publish at once.
import { describe, it, before, after } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import http from "node:http";
import net from "node:net";
import path from "node:path";
import { start_service, connect_user, scratch_dir } from "./lib/service_server.mjs";
import { within, sleep } from "./lib/util.mjs";

const SECRET = "keepalive-s3cret";

/// A raw TCP connection that splits what it receives into HTTP responses (Content-Length framed).
class raw_conn {
  constructor(port) {
    this.socket = net.connect(port, "127.0.0.1");
    this.buf = Buffer.alloc(0);
    this.waiters = [];
    this.ended = new Promise((resolve) => this.socket.once("close", resolve));
    this.socket.on("data", (d) => { this.buf = Buffer.concat([this.buf, d]); this.wake(); });
    this.socket.on("close", () => this.wake());
    this.socket.on("error", () => {});
    this.ready = new Promise((resolve, reject) => { this.socket.once("connect", resolve); this.socket.once("error", reject); });
  }
  wake() { for (const w of this.waiters.splice(0)) w(); }
  write(text) { this.socket.write(text); }
  /// The next response: {status, headers (lower-case names), body}; interim 1xx ones too.
  async next(ms = 5000) {
    const deadline = Date.now() + ms;
    for (;;) {
      const text = this.buf.toString("latin1");
      const end = text.indexOf("\r\n\r\n");
      if (end >= 0) {
        const lines = text.slice(0, end).split("\r\n");
        const status = Number(/^HTTP\/1\.1 (\d{3}) /.exec(lines[0])?.[1]);
        assert.ok(status, `a status line: ${JSON.stringify(lines[0])}`);
        const headers = {};
        for (const l of lines.slice(1)) {
          const c = l.indexOf(":");
          headers[l.slice(0, c).toLowerCase()] = l.slice(c + 1).trim();
        }
        const length = status < 200 || status === 204 || status === 304 ? 0 : Number(headers["content-length"]);
        assert.ok(Number.isInteger(length), `Content-Length in ${JSON.stringify(text.slice(0, end))}`);
        if (this.buf.length >= end + 4 + length) {
          const body = this.buf.subarray(end + 4, end + 4 + length).toString("utf8");
          this.buf = this.buf.subarray(end + 4 + length);
          return { status, headers, body };
        }
      }
      if (this.socket.destroyed || this.socket.readyState === "closed") throw new Error(`closed; have ${JSON.stringify(text)}`);
      if (Date.now() > deadline) throw new Error(`no complete response within ${ms} ms; have ${JSON.stringify(text)}`);
      await within(new Promise((r) => this.waiters.push(r)), deadline - Date.now() + 10, "a response").catch(() => {});
    }
  }
  close() { this.socket.destroy(); }
}

function publish_body(user, n) {
  return JSON.stringify({ securityToken: SECRET, userId: String(user), table: "items", type: "insert", data: { n } });
}

function post_publish(body) {
  return `POST /publish HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`;
}

describe("HTTP keep-alive on esink's own routes", () => {
  let svc, port;
  before(async () => {
    const dir = scratch_dir();
    const db = path.join(dir, "ka.db");
    execFileSync("sqlite3", [db, "CREATE TABLE items (id INTEGER PRIMARY KEY, owner INTEGER, title TEXT);"]);
    svc = await start_service({ ESINK_SQLITE_PATH: db, TABLE_NAMES: "items", TABLE_AUTH_COLUMN_ROUTING: `{"items": "owner"}`,
                                SECURITY_TOKEN: SECRET }, { cwd: dir });
    port = Number(new URL(svc.url).port);
  });
  after(async () => { assert.equal(await svc.stop(), 0); });

  it("Node's keep-alive agent reuses one connection for every /publish, and each event arrives once", async () => {
    const user = await connect_user(svc.url, "TEST");
    const got = [];
    user.socket.on("items", (e) => got.push(e.data.n));
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    try {
      const reused = [];
      for (let n = 0; n < 30; ++n) {
        const { status, body, reusedSocket } = await new Promise((resolve, reject) => {
          const req = http.request(svc.url + "/publish", { method: "POST", agent, headers: { "Content-Type": "application/json" } },
            (res) => {
              let text = "";
              res.on("data", (d) => { text += d; });
              res.on("end", () => resolve({ status: res.statusCode, body: text, reusedSocket: req.reusedSocket }));
            });
          req.on("error", reject);
          req.end(publish_body(-1, n));
        });
        assert.equal(status, 200, body);
        reused.push(reusedSocket);
      }
      assert.deepEqual(reused, [false, ...Array(29).fill(true)], "one TCP connection for all 30 requests");
      await within((async () => { while (got.length < 30) await sleep(20); })(), 5000, "30 events");
      await sleep(100);
      assert.deepEqual(got, [...Array(30).keys()], "every publish delivered once, in order");
    } finally {
      agent.destroy();
      user.socket.close();
    }
  });

  it("answers pipelined requests in order, then hands the connection to Engine.IO polling", async () => {
    const c = new raw_conn(port);
    await c.ready;
    try {
      c.write("GET /ping HTTP/1.1\r\nHost: x\r\n\r\n" + post_publish(publish_body(7, 1)) +
              "GET /health HTTP/1.1\r\nHost: x\r\nOrigin: http://app.example\r\n\r\n" +
              "GET /socket.io/?EIO=4&transport=polling HTTP/1.1\r\nHost: x\r\n\r\n");
      const ping = await c.next();
      assert.deepEqual([ping.status, ping.body, ping.headers.connection], [200, "pong", "keep-alive"]);
      assert.equal(ping.headers["keep-alive"], "timeout=5");
      const pub = await c.next();
      assert.equal(pub.status, 200, pub.body);
      assert.equal(JSON.parse(pub.body).message, "Created and sent to socket.io");
      const health = await c.next();
      assert.equal(health.status, 200);
      assert.equal(JSON.parse(health.body).status, "ok");
      assert.equal(health.headers["access-control-allow-origin"], "*");
      const open = await c.next();
      assert.equal(open.status, 200);
      assert.match(open.body, /^0\{"sid":"[^"]+","upgrades":\["websocket"\]/);
      await within(c.ended, 5000, "the connection closes after the Engine.IO answer");
    } finally {
      c.close();
    }
  });

  it("keeps serving its own routes after any number of requests, and 404 for unknown paths", async () => {
    const c = new raw_conn(port);
    await c.ready;
    try {
      for (let i = 0; i < 50; ++i) {
        c.write(i % 2 ? "GET /ping HTTP/1.1\r\nHost: x\r\n\r\n" : post_publish(`{"securityToken":"wrong"}`));
        const r = await c.next();
        assert.equal(r.status, i % 2 ? 200 : 401, r.body);
        assert.equal(r.headers.connection, "keep-alive");
      }
      c.write("GET /no-such-route HTTP/1.1\r\nHost: x\r\n\r\n");
      assert.equal((await c.next()).status, 404);
    } finally {
      c.close();
    }
  });

  it("a head longer than the first peek (10 KB of headers) is served, and the connection kept", async () => {
    const c = new raw_conn(port);
    await c.ready;
    try {
      const body = publish_body(-1, 5);
      c.write(`POST /publish HTTP/1.1\r\nHost: x\r\nX-Padding: ${"p".repeat(10000)}\r\n` +
              `Content-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n${body}` +
              "GET /ping HTTP/1.1\r\nHost: x\r\n\r\n");
      const r = await c.next();
      assert.equal(r.status, 200, r.body);
      assert.equal(r.headers.connection, "keep-alive");
      assert.deepEqual([(await c.next()).body], ["pong"]);
    } finally {
      c.close();
    }
  });

  it("Connection: close and HTTP/1.0 end the connection after the response", async () => {
    for (const req of ["GET /ping HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", "GET /ping HTTP/1.0\r\n\r\n"]) {
      const c = new raw_conn(port);
      await c.ready;
      c.write(req);
      const r = await c.next();
      assert.deepEqual([r.status, r.body, r.headers.connection], [200, "pong", "close"], req);
      await within(c.ended, 5000, `the server closes after ${JSON.stringify(req)}`);
    }
    const c = new raw_conn(port);
    await c.ready;
    c.write("GET /ping HTTP/1.0\r\nConnection: keep-alive\r\n\r\nGET /ping HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
    assert.equal((await c.next()).headers.connection, "keep-alive");
    assert.equal((await c.next()).status, 200);
    c.close();
  });

  it("Expect: 100-continue gets 100 before the body is sent", async () => {
    const c = new raw_conn(port);
    await c.ready;
    try {
      const body = publish_body(-1, 99);
      c.write(`POST /publish HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n`);
      assert.equal((await c.next()).status, 100);
      c.write(body);
      const r = await c.next();
      assert.equal(r.status, 200, r.body);
    } finally {
      c.close();
    }
  });

  it("a head sent in pieces and a chunked body are still answered (by websocketpp, as before)", async () => {
    const c = new raw_conn(port);
    await c.ready;
    c.write("GET /pi");
    await sleep(150);
    c.write("ng HTTP/1.1\r\nHost: x\r\n\r\n");
    const r = await c.next();
    assert.deepEqual([r.status, r.body], [200, "pong"]);
    c.close();
  });

  it("a Content-Length over the limit is refused with 413", async () => {
    const c = new raw_conn(port);
    await c.ready;
    c.write("POST /publish HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 50000000\r\n\r\n{");
    const r = await c.next();
    assert.equal(r.status, 413);
    assert.deepEqual(JSON.parse(r.body), { code: 413, message: "Payload Too Large", limit: 2004096 });
    assert.equal(r.headers.connection, "close");
    await within(c.ended, 5000, "the connection closes after a 413");
    c.close();
  });

  it("an idle connection is closed after 5 s; a body cut short after 10 s; others are served meanwhile", { timeout: 30000 }, async () => {
    const idle = new raw_conn(port), short = new raw_conn(port);
    await Promise.all([idle.ready, short.ready]);
    idle.write("GET /ping HTTP/1.1\r\nHost: x\r\n\r\n");
    assert.equal((await idle.next()).status, 200);
    const t0 = Date.now();
    short.write("POST /publish HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"a\":");
    const idle_closed = idle.ended.then(() => Date.now() - t0);
    const short_closed = short.ended.then(() => Date.now() - t0);
    const r = await fetch(svc.url + "/ping");
    assert.equal(await r.text(), "pong");
    const [idle_ms, short_ms] = await within(Promise.all([idle_closed, short_closed]), 20000, "both connections closed");
    assert.ok(idle_ms >= 4500 && idle_ms < 9000, `idle connection closed after ${idle_ms} ms`);
    assert.ok(short_ms >= 9500 && short_ms < 15000, `cut-short body closed after ${short_ms} ms`);
    assert.equal(short.buf.length, 0, "no response to a request that never completed");
  });

  it("16 keep-alive connections publishing at once: every event delivered exactly once to its user only", async () => {
    const alice = await connect_user(svc.url, "TEST");           // user -1
    const got = { alice: [], other: [] };
    alice.socket.on("items", (e) => got.alice.push(e.data.n));
    const conns = Array.from({ length: 16 }, () => new raw_conn(port));
    await Promise.all(conns.map((c) => c.ready));
    try {
      const per = 40;
      await Promise.all(conns.map(async (c, i) => {
        for (let k = 0; k < per; ++k) {
          // Alternate users: -1 (alice) and 12345 (nobody connected).
          const user = k % 2 ? 12345 : -1;
          c.write(post_publish(publish_body(user, i * per + k)));
          const r = await c.next(10000);
          assert.equal(r.status, 200, r.body);
        }
      }));
      const expected = [];
      for (let i = 0; i < 16; ++i) for (let k = 0; k < per; k += 2) expected.push(i * per + k);
      await within((async () => { while (got.alice.length < expected.length) await sleep(20); })(), 10000,
                   `${expected.length} events for alice`);
      await sleep(200);
      assert.deepEqual([...got.alice].sort((a, b) => a - b), expected.sort((a, b) => a - b));
    } finally {
      for (const c of conns) c.close();
      alice.socket.close();
    }
  });
});

describe("HTTP keep-alive and shutdown", () => {
  it("an open keep-alive connection does not hold up SIGTERM", async () => {
    const dir = scratch_dir();
    const db = path.join(dir, "ka.db");
    execFileSync("sqlite3", [db, "CREATE TABLE items (id INTEGER PRIMARY KEY, owner INTEGER, title TEXT);"]);
    const svc = await start_service({ ESINK_SQLITE_PATH: db, TABLE_NAMES: "items", SECURITY_TOKEN: SECRET }, { cwd: dir });
    const c = new raw_conn(Number(new URL(svc.url).port));
    await c.ready;
    c.write("GET /ping HTTP/1.1\r\nHost: x\r\n\r\n");
    assert.equal((await c.next()).status, 200);
    const t0 = Date.now();
    assert.equal(await svc.stop(), 0);
    assert.ok(Date.now() - t0 < 3000, `stopped after ${Date.now() - t0} ms`);
    await within(c.ended, 2000, "the keep-alive connection is closed");
  });
});
