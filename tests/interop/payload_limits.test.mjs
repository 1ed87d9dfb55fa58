// maxPayload: a message near the limit is echoed intact on both transports; a message over it
// disconnects only the client that sent it.
import { describe, it, before, after } from "node:test";
import assert from "node:assert/strict";
import { start_server } from "./lib/server.mjs";
import { connect, echo, emit_with_ack } from "./lib/sio.mjs";
import { http_request } from "./lib/raw.mjs";
import { wait_for, bytes_of, within } from "./lib/util.mjs";

const WS = { transports: ["websocket"] };
const POLLING = { transports: ["polling"] };

function text_of(length) {
  // Mixed ASCII so that nothing is escaped by JSON: the packet stays close to `length` bytes.
  let s = "";
  const alphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_";
  while (s.length < length) s += alphabet;
  return s.slice(0, length);
}

function bytes(length) {
  const b = Buffer.alloc(length);
  for (let i = 0; i < length; i++) b[i] = (i * 7919) & 0xff;
  return b;
}

describe("near maxPayload (default 1000000)", () => {
  let server;
  before(async () => { server = await start_server(); });
  after(async () => { await server?.stop(); });

  for (const [label, opts] of [["websocket", WS], ["polling", POLLING]]) {
    it(`echoes a 900 KB string intact over ${label}`, async () => {
      const { socket } = await connect(server.url, opts);
      const big = text_of(900 * 1024);
      const [back] = await echo(socket, [big], 20000);
      assert.equal(back.length, big.length);
      assert.ok(back === big, "the 900 KB string came back altered");
      socket.close();
    });

    it(`acks a 900 KB string intact over ${label}`, async () => {
      const { socket } = await connect(server.url, opts);
      const big = text_of(900 * 1024);
      const [back] = await emit_with_ack(socket, "message-with-ack", [big], 20000);
      assert.ok(back === big, "the 900 KB string came back altered");
      socket.close();
    });

    it(`echoes a 600 KB binary attachment intact over ${label}`, async () => {
      // 600 KB stays under the limit even as base64 in a polling payload (800 KB).
      const { socket } = await connect(server.url, opts);
      const big = bytes(600 * 1024);
      const [back] = await echo(socket, [{ data: big }], 20000);
      assert.ok(bytes_of(back.data).equals(big), "the 600 KB attachment came back altered");
      socket.close();
    });
  }
});

describe("over maxPayload (--max-payload 100000)", () => {
  let server;
  before(async () => { server = await start_server(["--max-payload", "100000"]); });
  after(async () => { await server?.stop(); });

  it("announces maxPayload 100000 in the handshake", async () => {
    const res = await http_request(`${server.url}/socket.io/?EIO=4&transport=polling`);
    assert.equal(res.status, 200);
    assert.equal(JSON.parse(res.body.slice(1)).maxPayload, 100000);
  });

  for (const [label, opts] of [["websocket", WS], ["polling", POLLING]]) {
    it(`a 200 KB message over ${label} disconnects its sender only`, async () => {
      const { socket: healthy } = await connect(server.url, opts);
      const { socket: offender } = await connect(server.url, opts);
      const healthy_disconnects = [];
      healthy.on("disconnect", (reason) => healthy_disconnects.push(reason));

      assert.deepEqual(await echo(offender, ["small first"]), ["small first"]);
      const gone = wait_for(offender, "disconnect", 10000);
      const echoed = [];
      offender.on("message-back", (...a) => echoed.push(a[0]?.length));
      offender.emit("message", text_of(200 * 1024));
      const [reason] = await gone;
      assert.ok(["transport close", "transport error", "io server disconnect"].includes(reason),
                `unexpected disconnect reason ${reason}`);
      assert.deepEqual(echoed, [], "the over-limit message was echoed instead of refused");

      assert.deepEqual(await echo(healthy, ["still served"]), ["still served"]);
      const near = text_of(90 * 1000);
      assert.ok((await echo(healthy, [near]))[0] === near, "a 90 KB message under the limit was altered");
      assert.deepEqual(healthy_disconnects, []);
      healthy.close();
    });
  }

  it("a fresh client connects after an offender was dropped", async () => {
    const { socket: offender } = await connect(server.url, WS);
    const gone = wait_for(offender, "disconnect", 10000);
    offender.emit("message", text_of(200 * 1024));
    await gone;
    const { socket } = await within(connect(server.url, WS), 5000, "reconnecting after the offender");
    assert.deepEqual(await echo(socket, ["fresh"]), ["fresh"]);
    socket.close();
  });
});
