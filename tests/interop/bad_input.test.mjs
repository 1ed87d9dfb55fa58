// Bad input: each offender is rejected or closed with the right status, and clients connected
// before it (socket.io-client over WebSocket and over polling) keep being served afterwards.
import { describe, it, before, after } from "node:test";
import assert from "node:assert/strict";
import { start_server } from "./lib/server.mjs";
import { connect, echo } from "./lib/sio.mjs";
import { raw_ws, open_sio, http_request, polling_session, tcp_exchange, status_of } from "./lib/raw.mjs";
import { assert_error } from "./lib/engineio_suite.mjs";

let server;
let healthy = [];
let healthy_disconnects = [];
let rounds = 0;

/// A describe block with its own server and healthy clients, so a crash stays in its group.
function group(name, body) {
  describe(name, () => {
    before(async () => {
      server = await start_server();
      healthy = [];
      healthy_disconnects = [];
      for (const [label, opts] of [["websocket", { transports: ["websocket"] }],
                                   ["polling", { transports: ["polling"] }]]) {
        const { socket } = await connect(server.url, opts);
        socket.on("disconnect", (reason) => healthy_disconnects.push(`${label}: ${reason}`));
        healthy.push({ name: label, socket });
      }
    });
    after(async () => {
      for (const h of healthy) h.socket.close();
      await server?.stop();
    });
    body();
  });
}

/// The other half of every test: the server is alive, the clients connected before the offender
/// were not disconnected and still echo, and a new client can connect.
async function others_unaffected() {
  server.assert_alive();
  rounds++;
  for (const h of healthy) {
    let back;
    try {
      back = await echo(h.socket, ["still served", rounds, h.name]);
    } catch (e) {
      server.assert_alive();
      throw new Error(`the ${h.name} client connected before the offender no longer echoes ` +
                      `(connected: ${h.socket.connected}, transport: ` +
                      `${h.socket.io.engine?.transport?.name}): ${e.message}`);
    }
    assert.deepEqual(back, ["still served", rounds, h.name]);
  }
  assert.deepEqual(healthy_disconnects, [], "a client connected before the offender was disconnected");
  const { socket } = await connect(server.url, { transports: ["websocket"] });
  assert.deepEqual(await echo(socket, ["newcomer"]), ["newcomer"]);
  socket.close();
}

/// After a bad request on a polling session, that session is gone: GETs may still drain a noop or
/// close packet, then answer 400 "Session ID unknown".
async function expect_session_closed(session) {
  for (let i = 0; i < 3; i++) {
    // A live session would park this GET until its next ping (25 s): 5 s is enough to tell.
    const res = await session.get("", 5000).catch((e) => {
      throw new Error(`the session is still open: ${e.message}`);
    });
    if (res.status === 400) { assert_error(res, 1, "Session ID unknown"); return; }
    assert.equal(res.status, 200, `GET answered ${res.status} ${JSON.stringify(res.body)}`);
    for (const packet of res.body.split("\x1e"))
      assert.ok(packet === "6" || packet === "1",
                `the closed session still delivered ${JSON.stringify(res.body)}`);
  }
  assert.fail("the session still answers GET after 3 polls");
}

/// A POST whose answer may be lost when the server resets the connection.
async function post_maybe_reset(session, body) {
  try { return await session.post(body); } catch { return null; }
}

const HOST = () => `Host: 127.0.0.1:${server.port}\r\n`;

group("malformed HTTP", () => {
  it("raw TCP garbage: the server answers 400 or closes, by itself", async () => {
    const garbage = Buffer.alloc(4096);
    for (let i = 0; i < garbage.length; i++) garbage[i] = (i * 131 + 17) & 0xff;
    const { data } = await tcp_exchange(server.port, [garbage, "\r\n\r\n"], { end: false });
    const status = status_of(data);
    assert.ok(status === null || (status >= 400 && status < 500), `garbage answered ${data.slice(0, 80)}`);
    await others_unaffected();
  });

  it("a 1 MB request line without CRLF is cut off, not buffered", async () => {
    const line = Buffer.alloc(1 << 20, "A");
    const { data } = await tcp_exchange(server.port, ["GET /socket.io/?", line], { end: false, ms: 10000 });
    const status = status_of(data);
    assert.ok(status === null || (status >= 400 && status < 500), `answered ${data.slice(0, 80)}`);
    await others_unaffected();
  });

  it("a truncated request followed by close", async () => {
    await tcp_exchange(server.port, [`GET /socket.io/?EIO=4&transport=polling HTTP/1.1\r\n${HOST()}Content-Le`]);
    await tcp_exchange(server.port, ["GET /socket.io/?EIO=4&tra"]);
    await others_unaffected();
  });

  it("oversized headers (64 KB) are refused", async () => {
    const big = `X-Big: ${"b".repeat(64 * 1024)}\r\n`;
    const { data } = await tcp_exchange(server.port,
      [`GET /socket.io/?EIO=4&transport=polling HTTP/1.1\r\n${HOST()}${big}\r\n`], { end: false });
    const status = status_of(data);
    assert.ok(status === null || (status >= 400 && status < 500), `answered ${data.slice(0, 80)}`);
    await others_unaffected();
  });

  it("an invalid Content-Length is refused with 400", async () => {
    const s = await polling_session.open(server.url, "/socket.io/");
    const url = new URL(s.url());
    const { data } = await tcp_exchange(server.port,
      [`POST ${url.pathname}${url.search} HTTP/1.1\r\n${HOST()}Content-Length: abc\r\n\r\n4x`], { end: false });
    const status = status_of(data);
    assert.ok(status === null || status === 400, `answered ${data.slice(0, 80)}`);
    await others_unaffected();
  });
});

group("bad polling requests", () => {
  it("a POST body truncated by a closed connection closes that session", async () => {
    const s = await polling_session.open(server.url, "/socket.io/");
    const url = new URL(s.url());
    await tcp_exchange(server.port,
      [`POST ${url.pathname}${url.search} HTTP/1.1\r\n${HOST()}Content-Type: text/plain\r\n` +
       `Content-Length: 100\r\n\r\n40`]);
    await expect_session_closed(s);
    await others_unaffected();
  });

  it("an oversized body (Content-Length 2 MB > maxPayload) is refused with 413, session closed", async () => {
    const s = await polling_session.open(server.url, "/socket.io/");
    const url = new URL(s.url());
    const size = 2000000;
    const chunk = Buffer.alloc(64 * 1024, "a");
    const chunks = [`POST ${url.pathname}${url.search} HTTP/1.1\r\n${HOST()}Content-Type: text/plain\r\n` +
                    `Content-Length: ${size}\r\n\r\n4`];
    for (let sent = 1; sent < size; sent += chunk.length) chunks.push(chunk.subarray(0, Math.min(chunk.length, size - sent)));
    const { data } = await tcp_exchange(server.port, chunks, { end: false, ms: 10000 });
    const status = status_of(data);
    assert.ok(status === null || status === 413, `answered ${data.slice(0, 80)}`);
    await expect_session_closed(s);
    await others_unaffected();
  });

  it("an oversized chunked body is refused, session closed", async () => {
    const s = await polling_session.open(server.url, "/socket.io/");
    const url = new URL(s.url());
    const piece = Buffer.alloc(64 * 1024, "a");
    const chunks = [`POST ${url.pathname}${url.search} HTTP/1.1\r\n${HOST()}Content-Type: text/plain\r\n` +
                    `Transfer-Encoding: chunked\r\n\r\n`];
    for (let i = 0; i < 32; i++) chunks.push(`${piece.length.toString(16)}\r\n`, piece, "\r\n");
    chunks.push("0\r\n\r\n");
    const { data } = await tcp_exchange(server.port, chunks, { end: false, ms: 10000 });
    const status = status_of(data);
    assert.ok(status === null || (status >= 400 && status < 500), `answered ${data.slice(0, 80)}`);
    await expect_session_closed(s);
    await others_unaffected();
  });

  for (const [what, body] of [["an unknown packet type", "9hello"],
                              ["an empty payload", ""],
                              ["an empty packet inside a payload", "40\x1e\x1e42[\"message\"]"],
                              ["bad base64", "b!!!!"],
                              ["a Socket.IO packet of unknown type", "4abc"],
                              ["truncated Socket.IO JSON", "40\x1e42[\"message\""]]) {
    it(`a polling payload with ${what} closes that session`, async () => {
      const s = await polling_session.open(server.url, "/socket.io/");
      const push = await post_maybe_reset(s, body);
      if (push) assert.ok([200, 400].includes(push.status), `POST answered ${push.status} ${push.body}`);
      await expect_session_closed(s);
      await others_unaffected();
    });
  }

  it("unknown sid is refused with 400 code 1 (GET, POST, WebSocket)", async () => {
    const q = `${server.url}/socket.io/?EIO=4&transport=polling&sid=does-not-exist`;
    assert_error(await http_request(q), 1, "Session ID unknown");
    assert_error(await http_request(q, { method: "POST", body: "40" }), 1, "Session ID unknown");
    const ws = new raw_ws(`${server.ws_url}/socket.io/?EIO=4&transport=websocket&sid=does-not-exist`);
    await assert.rejects(ws.opened.then(() => ws.next()));
    await others_unaffected();
  });

  it("a second concurrent GET for one sid: 400 and the session closed", async () => {
    const s = await polling_session.open(server.url, "/socket.io/");
    const [a, b] = await Promise.all([s.get(), s.get("&t=second")]);
    const statuses = [a.status, b.status].sort();
    assert.ok(statuses[0] === 200 && [400, 500].includes(statuses[1]),
              `answered ${a.status} ${JSON.stringify(a.body)} and ${b.status} ${JSON.stringify(b.body)}`);
    await expect_session_closed(s);
    await others_unaffected();
  });
});

group("malformed Socket.IO packets over WebSocket", () => {
  const PH = (n) => `{"_placeholder":true,"num":${n}}`;
  const cases = [
    ["unknown packet type (4abc)", ["4abc"]],
    ["unknown packet type (47)", ["47"]],
    ["EVENT payload not an array (42{})", ["42{}"]],
    ["invalid ack id (42abc[...])", ['42abc["message-with-ack",1,"2",{"3":[false]}]']],
    ["EVENT without event name (42[])", ["42[]"]],
    ["EVENT whose name is an object (42[{}])", ["42[{}]"]],
    ["truncated JSON", ['42["message"']],
    ["trailing garbage after the JSON", ['42["message",1]x']],
    ["BINARY_EVENT without attachment count", ['45-["message"]']],
    ["placeholder num out of range", [`451-["message",${PH(5)}]`, Buffer.from([1])]],
    ["text packet while attachments are awaited", [`452-["message",${PH(0)},${PH(1)}]`, '42["message"]']],
    ["binary frame with no BINARY_EVENT pending", [Buffer.from([1, 2, 3])]],
    ["attachment count over the limit (1000000)", ['451000000-["message"]']],
    ["EVENT for a namespace not connected", ['42/nope,["message"]']],
  ];
  for (const [what, frames] of cases) {
    it(`${what}: the connection is closed`, async () => {
      const ws = await open_sio(server.ws_url);
      for (const f of frames) ws.send(f);
      await ws.expect_close();
      await others_unaffected();
    });
  }

  it("invalid UTF-8 in a text frame: closed with 1007", async () => {
    const ws = await open_sio(server.ws_url);
    ws.send_raw_text(Buffer.from([0x34, 0x32, 0xff, 0xfe]));
    const { code } = await ws.expect_close();
    assert.equal(code, 1007);
    await others_unaffected();
  });
});

group("JSON nesting limit", () => {
  const deep_array = (n) => `42["message",${"[".repeat(n)}${"]".repeat(n)}]`;
  const deep_object = (n) => `42["message",${'{"a":'.repeat(n)}1${"}".repeat(n)}]`;

  it("moderate nesting (depth 20) is still echoed", async () => {
    const ws = await open_sio(server.ws_url);
    ws.send(deep_array(20));
    assert.equal(await ws.next(), deep_array(20).replace('"message"', '"message-back"'));
    ws.close();
    await others_unaffected();
  });

  for (const [what, frame] of [["arrays", deep_array(100000)], ["objects", deep_object(100000)]]) {
    it(`too-deep JSON ${what} (depth 100000): the connection is closed`, async () => {
      const ws = await open_sio(server.ws_url);
      ws.send(frame);
      await ws.expect_close();
      await others_unaffected();
    });
  }

});
