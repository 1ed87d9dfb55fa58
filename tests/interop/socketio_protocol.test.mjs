// Socket.IO v5 conformance (socketio/socket.io-protocol test-suite) against /socket.io/ of
// socketio_echo, plus the Engine.IO cases at that path. Server-to-client acks use the sample's
// `request-ack` / `ack-request` / `ack-response` events.
import { describe, it, before, after } from "node:test";
import assert from "node:assert/strict";
import { start_server } from "./lib/server.mjs";
import { engineio_suite, PING_ARGS } from "./lib/engineio_suite.mjs";
import { open_ws, open_sio as open_sio_at } from "./lib/raw.mjs";

let server;
before(async () => { server = await start_server(PING_ARGS); });
after(async () => { await server?.stop(); });

const PH0 = '{"_placeholder":true,"num":0}';
const PH1 = '{"_placeholder":true,"num":1}';
const B123 = () => Buffer.from([1, 2, 3]);
const B456 = () => Buffer.from([4, 5, 6]);

/// An Engine.IO WebSocket session at /socket.io/ (no namespace joined yet).
const open_engine = () => open_ws(server.ws_url, "/socket.io/").then((r) => r.ws);

const open_sio = () => open_sio_at(server.ws_url);

/// Parses the CONNECT reply `40[/nsp,]{...}` and checks that its payload is exactly {sid}.
function assert_connect_reply(data, nsp_prefix) {
  assert.ok(data.startsWith(`40${nsp_prefix}`), `expected a CONNECT reply, got ${JSON.stringify(data)}`);
  const handshake = JSON.parse(data.slice(2 + nsp_prefix.length));
  assert.deepEqual(Object.keys(handshake), ["sid"]);
  assert.equal(typeof handshake.sid, "string");
  return handshake;
}

engineio_suite(() => server, "/socket.io/", {
  echo: false,
  roundtrip: async (ws) => {
    if (!ws.sio_connected) {
      ws.send("40");
      assert_connect_reply(await ws.next(), "");
      assert.equal(await ws.next(), '42["auth",{}]');
      ws.sio_connected = true;
    }
    ws.send('42["message","roundtrip"]');
    assert.equal(await ws.next(), '42["message-back","roundtrip"]');
  },
});

describe("Socket.IO connect", () => {
  it("connects to the main namespace", async () => {
    const ws = await open_engine();
    ws.send("40");
    const a = assert_connect_reply(await ws.next(), "");
    assert.equal(await ws.next(), '42["auth",{}]');
    ws.close();
    const ws2 = await open_engine();
    ws2.send("40");
    const b = assert_connect_reply(await ws2.next(), "");
    assert.notEqual(a.sid, b.sid);
    ws2.close();
  });

  it("connects to the main namespace with an auth payload", async () => {
    const ws = await open_engine();
    ws.send('40{"token":"123"}');
    assert_connect_reply(await ws.next(), "");
    assert.equal(await ws.next(), '42["auth",{"token":"123"}]');
    ws.close();
  });

  it("connects to a custom namespace", async () => {
    const ws = await open_engine();
    ws.send("40/custom,");
    assert_connect_reply(await ws.next(), "/custom,");
    assert.equal(await ws.next(), '42/custom,["auth",{}]');
    ws.close();
  });

  it("connects to a custom namespace with an auth payload", async () => {
    const ws = await open_engine();
    ws.send('40/custom,{"token":"abc"}');
    assert_connect_reply(await ws.next(), "/custom,");
    assert.equal(await ws.next(), '42/custom,["auth",{"token":"abc"}]');
    ws.close();
  });

  it("refuses an unknown namespace with CONNECT_ERROR", async () => {
    const ws = await open_engine();
    ws.send("40/random");
    assert.equal(await ws.next(), '44/random,{"message":"Invalid namespace"}');
    ws.close();
  });

  it("closes the connection upon an invalid handshake (4abc)", async () => {
    const ws = await open_engine();
    ws.send("4abc");
    await ws.expect_close();
  });

  it("closes the connection upon a CONNECT whose payload is not an object", async () => {
    const ws = await open_engine();
    ws.send('40"token"');
    await ws.expect_close();
  });
});

describe("Socket.IO disconnect", () => {
  it("disconnects from the main namespace, keeping the Engine.IO session", async () => {
    const ws = await open_sio();
    ws.send("41");
    // Nothing is sent in reply; the next packet is the Engine.IO heartbeat.
    assert.equal(await ws.next({ pings: true }), "2");
    ws.close();
  });

  it("connects then disconnects from a custom namespace; / keeps working", async () => {
    const ws = await open_sio();
    ws.send("40/custom");
    assert_connect_reply(await ws.next(), "/custom,");
    assert.equal(await ws.next(), '42/custom,["auth",{}]');
    ws.send("41/custom");
    ws.send('42["message","message to main namespace",1,2]');
    assert.equal(await ws.next(), '42["message-back","message to main namespace",1,2]');
    ws.close();
  });
});

describe("Socket.IO acknowledgements (server to client)", () => {
  it("emits with an ack expectation and gets the client's ack", async () => {
    const ws = await open_sio();
    ws.send('42["request-ack",1,"2",{"3":[true]}]');
    const request = await ws.next();
    const m = /^42(\d+)\["ack-request",1,"2",\{"3":\[true\]\}\]$/.exec(request);
    assert.ok(m, `expected 42<id>["ack-request",1,"2",{"3":[true]}], got ${JSON.stringify(request)}`);
    ws.send(`43${m[1]}[1,"2",{"3":[true]}]`);
    assert.equal(await ws.next(), '42["ack-response",1,"2",{"3":[true]}]');
    ws.close();
  });

  it("successive server acks get distinct ids", async () => {
    const ws = await open_sio();
    ws.send('42["request-ack","a"]');
    ws.send('42["request-ack","b"]');
    const [ra, rb] = await ws.take(2);
    const ia = /^42(\d+)\["ack-request","a"\]$/.exec(ra)?.[1];
    const ib = /^42(\d+)\["ack-request","b"\]$/.exec(rb)?.[1];
    assert.ok(ia !== undefined && ib !== undefined, `got ${ra} and ${rb}`);
    assert.notEqual(ia, ib);
    ws.send(`43${ib}["B"]`);
    assert.equal(await ws.next(), '42["ack-response","B"]');
    ws.send(`43${ia}["A"]`);
    assert.equal(await ws.next(), '42["ack-response","A"]');
    ws.close();
  });

  it("emits with a binary ack expectation and gets the client's binary ack", async () => {
    const ws = await open_sio();
    const DATA = `${PH0},${PH1},"test"`;
    ws.send(`452-["request-ack",${DATA}]`);
    ws.send(B123());
    ws.send(B456());
    const [head, b0, b1] = await ws.take(3);
    const m = new RegExp(`^452-(\\d+)\\["ack-request",${DATA.replace(/[{}[\]]/g, "\\$&")}\\]$`).exec(head);
    assert.ok(m, `expected 452-<id>["ack-request",${DATA}], got ${JSON.stringify(head)}`);
    assert.deepEqual([b0, b1], [B123(), B456()]);

    ws.send(`462-${m[1]}[${DATA}]`);
    ws.send(B123());
    ws.send(B456());
    assert.deepEqual(await ws.take(3), [`452-["ack-response",${DATA}]`, B123(), B456()]);
    ws.close();
  });
});

describe("Socket.IO messages", () => {
  it("sends a plain-text packet", async () => {
    const ws = await open_sio();
    ws.send('42["message",1,"2",{"3":[true]}]');
    assert.equal(await ws.next(), '42["message-back",1,"2",{"3":[true]}]');
    ws.close();
  });

  it("sends a packet with binary attachments", async () => {
    const ws = await open_sio();
    ws.send(`452-["message",1,${PH0},${PH1}]`);
    ws.send(B123());
    ws.send(B456());
    assert.deepEqual(await ws.take(3), [`452-["message-back",1,${PH0},${PH1}]`, B123(), B456()]);
    ws.close();
  });

  it("keeps attachment order when placeholders appear out of order", async () => {
    const ws = await open_sio();
    ws.send(`452-["message",{"b":${PH1}},{"a":${PH0}}]`);
    ws.send(B123());
    ws.send(B456());
    const [head, ...bins] = await ws.take(3);
    const match = /^452-(.*)$/.exec(head);
    assert.ok(match, `expected a BINARY_EVENT with 2 attachments, got ${JSON.stringify(head)}`);
    const args = JSON.parse(match[1]);
    assert.equal(args[0], "message-back");
    // Whatever numbering the server chose, each placeholder must point at the right bytes.
    assert.deepEqual(bins[args[1].b.num], B456());
    assert.deepEqual(bins[args[2].a.num], B123());
    ws.close();
  });

  it("sends a plain-text packet with an ack", async () => {
    const ws = await open_sio();
    ws.send('42456["message-with-ack",1,"2",{"3":[false]}]');
    assert.equal(await ws.next(), '43456[1,"2",{"3":[false]}]');
    ws.close();
  });

  it("sends a packet with binary attachments and an ack", async () => {
    const ws = await open_sio();
    ws.send(`452-789["message-with-ack",1,${PH0},${PH1}]`);
    ws.send(B123());
    ws.send(B456());
    assert.deepEqual(await ws.take(3), [`462-789[1,${PH0},${PH1}]`, B123(), B456()]);
    ws.close();
  });

  it("routes packets of a custom namespace (events and acks)", async () => {
    const ws = await open_sio();
    ws.send("40/custom,");
    assert_connect_reply(await ws.next(), "/custom,");
    assert.equal(await ws.next(), '42/custom,["auth",{}]');
    ws.send('42/custom,["message","to custom"]');
    assert.equal(await ws.next(), '42/custom,["message-back","to custom"]');
    ws.send('42/custom,7["message-with-ack","x"]');
    assert.equal(await ws.next(), '43/custom,7["x"]');
    ws.send('42["message","to root"]');
    assert.equal(await ws.next(), '42["message-back","to root"]');
    ws.close();
  });

  it("closes the connection upon an invalid format (unknown packet type)", async () => {
    const ws = await open_sio();
    ws.send("4abc");
    await ws.expect_close();
  });

  it("closes the connection upon an invalid format (invalid payload format)", async () => {
    const ws = await open_sio();
    ws.send("42{}");
    await ws.expect_close();
  });

  it("closes the connection upon an invalid format (invalid ack id)", async () => {
    const ws = await open_sio();
    ws.send('42abc["message-with-ack",1,"2",{"3":[false]}]');
    await ws.expect_close();
  });
});
