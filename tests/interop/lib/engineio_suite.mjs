// The Engine.IO v4 conformance cases of socketio/engine.io-protocol's test-suite, rewritten for
// node:test, run against one Engine.IO endpoint (`/engine.io/` or `/socket.io/`) of a server
// started with --ping-interval 300 --ping-timeout 200.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import net from "node:net";
import { raw_ws, open_ws, http_request, json_of, polling_session } from "./raw.mjs";
import { sleep } from "./util.mjs";

export const PING_INTERVAL = 300;
export const PING_TIMEOUT = 200;
export const PING_ARGS = ["--ping-interval", String(PING_INTERVAL), "--ping-timeout", String(PING_TIMEOUT)];

const HANDSHAKE_KEYS = ["maxPayload", "pingInterval", "pingTimeout", "sid", "upgrades"];

/// An upgrade attempt that must not yield a session: refused with HTTP 400, or closed before any
/// Engine.IO open packet (the reference accepts some upgrades, then closes).
export async function expect_ws_rejected(url) {
  const ws = new raw_ws(url);
  try {
    await ws.opened;
  } catch (e) {
    if (e.status === undefined) return;  // closed during the handshake
    assert.equal(e.status, 400, `upgrade to ${url} refused with ${e.status}, expected 400`);
    return;
  }
  await ws.expect_close();
  assert.ok(!ws.queue.some((m) => typeof m === "string" && m.startsWith("0")),
            `${url} sent an Engine.IO open packet although the request is invalid`);
}

/// Asserts an HTTP 400 with the reference server's JSON error body.
export function assert_error(res, code, message) {
  assert.equal(res.status, 400, `expected HTTP 400, got ${res.status} ${JSON.stringify(res.body)}`);
  assert.deepEqual(json_of(res), { code, message });
  assert.match(String(res.headers["content-type"]), /^application\/json/);
}

/// Writes a GET for `session` on a raw connection and resolves once the bytes left this process,
/// with a promise of the response; the GET is then (almost always) parked at the server first.
function parked_get(session) {
  const url = new URL(session.url());
  const sock = net.connect(Number(url.port), url.hostname);
  const chunks = [];
  const response = new Promise((resolve, reject) => {
    sock.on("data", (d) => {
      chunks.push(d);
      const text = Buffer.concat(chunks).toString();
      const head_end = text.indexOf("\r\n\r\n");
      if (head_end < 0) return;
      const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(text)?.[1]);
      const length = /\r\ncontent-length: *(\d+)/i.exec(text.slice(0, head_end));
      const body = text.slice(head_end + 4);
      if (length && Buffer.byteLength(body) >= Number(length[1])) {
        sock.destroy();
        resolve({ status, body });
      }
    });
    sock.on("end", () => {
      const text = Buffer.concat(chunks).toString();
      const head_end = text.indexOf("\r\n\r\n");
      resolve({ status: Number(/^HTTP\/1\.1 (\d{3})/.exec(text)?.[1]),
                body: head_end < 0 ? "" : decode_chunked_maybe(text.slice(0, head_end), text.slice(head_end + 4)) });
    });
    sock.on("error", reject);
  });
  const written = new Promise((resolve) => sock.write(
    `GET ${url.pathname}${url.search} HTTP/1.1\r\nHost: ${url.host}\r\nConnection: close\r\n\r\n`, resolve));
  return written.then(() => new Promise((r) => setImmediate(r))).then(() => ({ response }));
}

function decode_chunked_maybe(head, body) {
  if (!/\r\ntransfer-encoding: *chunked/i.test(head)) return body;
  let out = "";
  let rest = body;
  for (;;) {
    const eol = rest.indexOf("\r\n");
    if (eol < 0) return out;
    const size = parseInt(rest.slice(0, eol), 16);
    if (!size) return out;
    out += rest.slice(eol + 2, eol + 2 + size);
    rest = rest.slice(eol + 4 + size);
  }
}

/// Registers the Engine.IO conformance tests for `path`. `server()` returns the running server.
/// `roundtrip(ws)` proves that an (upgraded) WebSocket session still works; `echo` tells whether
/// the endpoint echoes raw Engine.IO messages (the `/engine.io/` sample endpoint does).
export function engineio_suite(server, path, { roundtrip, echo }) {
  const url = (q) => `${server().url}${path}?${q}`;
  const ws_url = (q) => `${server().ws_url}${path}?${q}`;
  const open_polling = () => polling_session.open(server().url, path);

  describe(`Engine.IO handshake at ${path}`, () => {
    it("polling: opens a session with the announced settings", async () => {
      const res = await http_request(url("EIO=4&transport=polling"));
      assert.equal(res.status, 200);
      assert.equal(res.body[0], "0", `expected an open packet, got ${JSON.stringify(res.body)}`);
      const value = JSON.parse(res.body.slice(1));
      assert.deepEqual(Object.keys(value).sort(), HANDSHAKE_KEYS);
      assert.equal(typeof value.sid, "string");
      assert.ok(value.sid.length > 0);
      assert.deepEqual(value.upgrades, ["websocket"]);
      assert.equal(value.pingInterval, PING_INTERVAL);
      assert.equal(value.pingTimeout, PING_TIMEOUT);
      assert.equal(value.maxPayload, 1000000);
    });

    it("polling: every session gets its own sid", async () => {
      const sids = new Set();
      for (let i = 0; i < 20; i++) sids.add((await open_polling()).sid);
      assert.equal(sids.size, 20);
    });

    it("polling: fails with an invalid EIO parameter (400, code 5)", async () => {
      for (const q of ["transport=polling", "EIO=abc&transport=polling", "EIO=3&transport=polling",
                       "EIO=5&transport=polling"])
        assert_error(await http_request(url(q)), 5, "Unsupported protocol version");
    });

    it("polling: fails with an invalid transport parameter (400, code 0)", async () => {
      for (const q of ["EIO=4", "EIO=4&transport=abc", "EIO=4&transport="])
        assert_error(await http_request(url(q)), 0, "Transport unknown");
    });

    it("polling: fails with an invalid handshake method (400, code 2)", async () => {
      for (const method of ["POST", "PUT"])
        assert_error(await http_request(url("EIO=4&transport=polling"), { method, body: "" }),
                     2, "Bad handshake method");
    });

    it("a websocket handshake without an Upgrade header fails (400, code 3)", async () => {
      assert_error(await http_request(url("EIO=4&transport=websocket")), 3, "Bad request");
    });

    it("websocket: opens a session with the announced settings", async () => {
      const { ws, handshake } = await open_ws(server().ws_url, path);
      assert.deepEqual(Object.keys(handshake).sort(), HANDSHAKE_KEYS);
      assert.equal(typeof handshake.sid, "string");
      assert.deepEqual(handshake.upgrades, []);
      assert.equal(handshake.pingInterval, PING_INTERVAL);
      assert.equal(handshake.pingTimeout, PING_TIMEOUT);
      assert.equal(handshake.maxPayload, 1000000);
      ws.close();
    });

    it("websocket: fails with an invalid EIO parameter", async () => {
      for (const q of ["transport=websocket", "EIO=abc&transport=websocket", "EIO=3&transport=websocket"])
        await expect_ws_rejected(ws_url(q));
    });

    it("websocket: fails with an invalid transport parameter", async () => {
      for (const q of ["EIO=4", "EIO=4&transport=abc"]) await expect_ws_rejected(ws_url(q));
    });

    it("websocket: fails with an unknown sid", async () => {
      await expect_ws_rejected(ws_url("EIO=4&transport=websocket&sid=unknown-sid"));
    });
  });

  if (echo) {
    describe(`Engine.IO messages at ${path}`, () => {
      it("polling: a payload with one text packet", async () => {
        const s = await open_polling();
        const push = await s.post("4hello");
        assert.equal(push.status, 200);
        assert.equal(push.body, "ok");
        const poll = await s.get();
        assert.equal(poll.status, 200);
        assert.equal(poll.body, "4hello");
      });

      it("polling: a payload with several text packets", async () => {
        const s = await open_polling();
        assert.equal((await s.post("4test1\x1e4test2\x1e4test3")).body, "ok");
        assert.equal((await s.get()).body, "4test1\x1e4test2\x1e4test3");
      });

      it("polling: a payload with text and base64 binary packets", async () => {
        const s = await open_polling();
        assert.equal((await s.post("4hello\x1ebAQIDBA==")).body, "ok");
        assert.equal((await s.get()).body, "4hello\x1ebAQIDBA==");
      });

      it("polling: UTF-8 text survives (multi-byte characters, empty message)", async () => {
        const s = await open_polling();
        assert.equal((await s.post("4€亜Б😀\x1e4")).body, "ok");
        assert.equal((await s.get()).body, "4€亜Б😀\x1e4");
      });

      it("polling: closes the session upon an invalid packet format", async () => {
        const s = await open_polling();
        let push = null;
        try { push = await s.post("abc"); } catch { /* the server may reset the request */ }
        // The official suite lets the POST itself be answered either way (the Node server says
        // 200 "ok" then closes); what counts is that the session is gone.
        if (push) assert.ok([200, 400].includes(push.status), `POST "abc" answered ${push.status} ${push.body}`);
        assert_error(await s.get(), 1, "Session ID unknown");
      });

      it("websocket: a text packet", async () => {
        const { ws } = await open_ws(server().ws_url, path);
        ws.send("4hello");
        assert.equal(await ws.next(), "4hello");
        ws.close();
      });

      it("websocket: a binary packet", async () => {
        const { ws } = await open_ws(server().ws_url, path);
        ws.send(Uint8Array.from([1, 2, 3, 4]));
        assert.deepEqual(await ws.next(), Buffer.from([1, 2, 3, 4]));
        ws.close();
      });

      it("websocket: text and binary packets stay in order", async () => {
        const { ws } = await open_ws(server().ws_url, path);
        ws.send("4a");
        ws.send(Buffer.from([9]));
        ws.send("4b");
        assert.deepEqual(await ws.take(3), ["4a", Buffer.from([9]), "4b"]);
        ws.close();
      });

      it("websocket: closes the session upon an invalid packet format", async () => {
        const { ws } = await open_ws(server().ws_url, path);
        ws.send("abc");
        await ws.expect_close();
      });

      it("binary sent over polling arrives as a binary frame after an upgrade", async () => {
        const s = await open_polling();
        const ws = new raw_ws(ws_url(`EIO=4&transport=websocket&sid=${s.sid}`));
        await ws.opened;
        ws.send("2probe");
        assert.equal(await ws.next(), "3probe");
        assert.equal((await s.get()).body, "6");
        ws.send("5");
        ws.send(Buffer.from([7, 7]));
        ws.send("4x");
        assert.deepEqual(await ws.take(2), [Buffer.from([7, 7]), "4x"]);
        ws.close();
      });
    });
  }

  describe(`Engine.IO polling sessions at ${path}`, () => {
    it("closes the session upon duplicate poll requests (one answered, one 400)", async () => {
      const s = await open_polling();
      // The order in which the two GETs reach the server is not observable: whichever is second
      // gets 400 and the parked one is ended with a close packet.
      const [first, second] = await Promise.all([s.get(), s.get("&t=burst")]);
      const statuses = [first.status, second.status].sort();
      assert.ok(statuses[0] === 200 && [400, 500].includes(statuses[1]),
                `duplicate GETs answered ${first.status} ${JSON.stringify(first.body)} and ` +
                `${second.status} ${JSON.stringify(second.body)}; expected one 200 "1" and one 400`);
      const ok = first.status === 200 ? first : second;
      assert.equal(ok.body, "1");
      assert_error(await s.get(), 1, "Session ID unknown");
    });

    it("a GET with the sid of a websocket session fails (400, code 3)", async () => {
      const { ws, handshake } = await open_ws(server().ws_url, path);
      const res = await http_request(url(`EIO=4&transport=polling&sid=${handshake.sid}`));
      assert_error(res, 3, "Bad request");
      ws.close();
    });

    it("unknown sid on GET and POST fails (400, code 1)", async () => {
      assert_error(await http_request(url("EIO=4&transport=polling&sid=nope")), 1, "Session ID unknown");
      assert_error(await http_request(url("EIO=4&transport=polling&sid=nope"), { method: "POST", body: "4x" }),
                   1, "Session ID unknown");
    });
  });

  describe(`Engine.IO heartbeat at ${path}`, () => {
    it("polling: sends ping, accepts pong (3 times)", { timeout: 5000 }, async () => {
      const s = await open_polling();
      for (let i = 0; i < 3; i++) {
        const poll = await s.get();
        assert.equal(poll.status, 200);
        assert.equal(poll.body, "2");
        const push = await s.post("3");
        assert.equal(push.status, 200);
        assert.equal(push.body, "ok");
      }
    });

    it("websocket: 50 concurrent sessions answering each ping stay open (3 cycles)",
       { timeout: 10000 }, async () => {
      // Pongs are sent the moment a ping arrives: a session closed for "ping timeout" here means
      // the server lost a pong (e.g. a pong handled before the timeout was armed).
      await Promise.all(Array.from({ length: 50 }, async (_, i) => {
        const { ws } = await open_ws(server().ws_url, path, { auto_pong: false });
        for (let n = 0; n < 3; n++) {
          const m = await ws.next({ pings: true }).catch((e) => {
            throw new Error(`session ${i}, after ${n} pongs: ${e.message}`);
          });
          assert.equal(m, "2");
          ws.send("3");
        }
        ws.close();
      }));
    });

    it("polling: 10 concurrent sessions answering each ping stay open (3 cycles)",
       { timeout: 10000 }, async () => {
      await Promise.all(Array.from({ length: 10 }, async (_, i) => {
        const s = await open_polling();
        for (let n = 0; n < 3; n++) {
          const poll = await s.get();
          assert.equal(poll.body, "2", `session ${i}, after ${n} pongs: GET answered ` +
                                       `${poll.status} ${JSON.stringify(poll.body)}`);
          assert.equal((await s.post("3")).status, 200);
        }
      }));
    });

    it("polling: closes the session upon ping timeout", { timeout: 5000 }, async () => {
      const s = await open_polling();
      // Protocol timing: no pong within pingInterval + pingTimeout (plus scheduling margin).
      await sleep(PING_INTERVAL + PING_TIMEOUT + 300);
      assert_error(await s.get(), 1, "Session ID unknown");
    });

    it("websocket: sends ping, accepts pong (3 times)", { timeout: 5000 }, async () => {
      const { ws } = await open_ws(server().ws_url, path, { auto_pong: false });
      for (let i = 0; i < 3; i++) {
        assert.equal(await ws.next({ pings: true }), "2");
        ws.send("3");
      }
      ws.close();
    });

    it("websocket: closes the session upon ping timeout, after a ping", { timeout: 5000 }, async () => {
      const { ws } = await open_ws(server().ws_url, path, { auto_pong: false });
      await ws.expect_close(3000);
      assert.ok(ws.queue.includes("2"), "the server closed without having sent a ping");
    });

    it("websocket: an unsolicited pong does not break the session", async () => {
      const { ws } = await open_ws(server().ws_url, path);
      ws.send("3");
      await roundtrip(ws);
      ws.close();
    });
  });

  describe(`Engine.IO close at ${path}`, () => {
    it("polling: a close packet ends the parked GET and the session", async () => {
      const s = await open_polling();
      const { response } = await parked_get(s);
      const push = await s.post("1");
      assert.equal(push.status, 200);
      const poll = await response;
      // Normally the GET is parked before the POST arrives and is ended with a noop; should the
      // POST win the race, the GET finds no session.
      if (poll.status === 200) assert.equal(poll.body, "6");
      else assert.equal(poll.status, 400, `parked GET answered ${poll.status} ${poll.body}`);
      assert_error(await s.get(), 1, "Session ID unknown");
    });

    it("websocket: a close packet closes the connection", async () => {
      const { ws } = await open_ws(server().ws_url, path);
      ws.send("1");
      await ws.expect_close();
    });
  });

  describe(`Engine.IO upgrade at ${path}`, () => {
    const upgrade = async () => {
      const s = await open_polling();
      const ws = new raw_ws(ws_url(`EIO=4&transport=websocket&sid=${s.sid}`));
      await ws.opened;
      ws.send("2probe");
      assert.equal(await ws.next(), "3probe");
      // The server ends the polling cycle with a noop so the client can pause polling.
      const poll = await s.get();
      assert.equal(poll.status, 200);
      assert.equal(poll.body, "6");
      ws.send("5");
      await roundtrip(ws);
      return { s, ws };
    };

    it("upgrades from polling to websocket (probe, noop, upgrade)", async () => {
      const { ws } = await upgrade();
      ws.close();
    });

    it("ignores HTTP requests with the same sid after the upgrade (400, code 3)", async () => {
      const { s, ws } = await upgrade();
      assert_error(await s.get(), 3, "Bad request");
      assert_error(await s.post("4x"), 3, "Bad request");
      await roundtrip(ws);
      ws.close();
    });

    it("ignores a second WebSocket with the same sid after the upgrade", async () => {
      const { s, ws } = await upgrade();
      await expect_ws_rejected(ws_url(`EIO=4&transport=websocket&sid=${s.sid}`));
      await roundtrip(ws);
      ws.close();
    });

    it("a failed probe leaves the polling session working", async () => {
      const s = await open_polling();
      const ws = new raw_ws(ws_url(`EIO=4&transport=websocket&sid=${s.sid}`));
      await ws.opened;
      ws.send("2notprobe");
      ws.close();
      await ws.closed;
      // The session is either still usable over polling, or was closed as a whole; it must not
      // hang: a ping arrives within pingInterval either way.
      const poll = await s.get();
      assert.ok((poll.status === 200 && ["2", "6", "1"].includes(poll.body[0])) || poll.status === 400,
                `GET after a failed probe answered ${poll.status} ${JSON.stringify(poll.body)}`);
    });
  });

  describe(`CORS at ${path}`, () => {
    const origin = "http://example.com";
    it("the handshake answers a browser Origin with Access-Control-Allow-Origin", async () => {
      const res = await http_request(url("EIO=4&transport=polling"), { headers: { Origin: origin } });
      assert.equal(res.status, 200);
      assert.ok([origin, "*"].includes(res.headers["access-control-allow-origin"]),
                `Access-Control-Allow-Origin: ${res.headers["access-control-allow-origin"]}`);
    });

    it("a preflight OPTIONS is answered with the allowed methods", async () => {
      const res = await http_request(url("EIO=4&transport=polling"), {
        method: "OPTIONS",
        headers: { Origin: origin, "Access-Control-Request-Method": "POST",
                   "Access-Control-Request-Headers": "content-type" },
      });
      assert.ok([200, 204].includes(res.status), `preflight answered ${res.status}`);
      assert.ok([origin, "*"].includes(res.headers["access-control-allow-origin"]),
                `Access-Control-Allow-Origin: ${res.headers["access-control-allow-origin"]}`);
      const methods = String(res.headers["access-control-allow-methods"]).toUpperCase();
      for (const m of ["GET", "POST"]) assert.ok(methods.includes(m), `allow-methods: ${methods}`);
    });
  });
}
