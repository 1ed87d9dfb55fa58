// Rooms: join, leave and to-room deliver only to the room's members of the same namespace.
import { describe, it, before, after } from "node:test";
import assert from "node:assert/strict";
import { start_server } from "./lib/server.mjs";
import { connect, echo, emit_with_ack } from "./lib/sio.mjs";
import { wait_for } from "./lib/util.mjs";

/// Opens a client that records every room-message it receives.
async function member(url, opts, nsp = "/") {
  const client = await connect(url, opts, nsp);
  client.rooms_got = [];
  client.socket.on("room-message", (...args) => client.rooms_got.push(args));
  return client;
}

/// A round trip through the server: anything the server queued for this socket before has arrived.
async function drain(client) {
  assert.deepEqual(await echo(client.socket, ["drain"]), ["drain"]);
}

for (const [label, opts] of [["websocket", { transports: ["websocket"] }],
                             ["polling", { transports: ["polling"] }]]) {
  describe(`rooms over ${label}`, () => {
    let server;
    before(async () => { server = await start_server(); });
    after(async () => { await server?.stop(); });

    it("to-room reaches members only (sender included when a member), per namespace", async () => {
      const a = await member(server.url, opts);
      const b = await member(server.url, opts);
      const outsider = await member(server.url, opts);
      const other_nsp = await member(server.url, opts, "/custom");

      assert.deepEqual(await emit_with_ack(a.socket, "join", ["r1"]), [true]);
      assert.deepEqual(await emit_with_ack(b.socket, "join", ["r1"]), [true]);
      assert.deepEqual(await emit_with_ack(other_nsp.socket, "join", ["r1"]), [true]);

      const at_a = wait_for(a.socket, "room-message");
      const at_b = wait_for(b.socket, "room-message");
      outsider.socket.emit("to-room", "r1", "hello", 1, { x: [true] });
      assert.deepEqual(await at_a, ["hello", 1, { x: [true] }]);
      assert.deepEqual(await at_b, ["hello", 1, { x: [true] }]);

      const self_a = wait_for(a.socket, "room-message");
      const self_b = wait_for(b.socket, "room-message");
      a.socket.emit("to-room", "r1", "from a");
      assert.deepEqual(await self_a, ["from a"]);
      assert.deepEqual(await self_b, ["from a"]);

      await Promise.all([drain(outsider), drain(other_nsp), drain(a), drain(b)]);
      assert.deepEqual(outsider.rooms_got, [], "a non-member received a room message");
      assert.deepEqual(other_nsp.rooms_got, [], "a member of /custom's r1 received /'s r1 message");
      assert.deepEqual(a.rooms_got.length, 2);
      assert.deepEqual(b.rooms_got.length, 2);
      for (const c of [a, b, outsider, other_nsp]) c.socket.close();
    });

    it("leave stops delivery; rooms are independent", async () => {
      const a = await member(server.url, opts);
      const b = await member(server.url, opts);
      assert.deepEqual(await emit_with_ack(a.socket, "join", ["r2"]), [true]);
      assert.deepEqual(await emit_with_ack(b.socket, "join", ["r2"]), [true]);
      assert.deepEqual(await emit_with_ack(b.socket, "join", ["r3"]), [true]);
      assert.deepEqual(await emit_with_ack(b.socket, "leave", ["r2"]), [true]);

      const at_a = wait_for(a.socket, "room-message");
      b.socket.emit("to-room", "r2", "after leave");
      assert.deepEqual(await at_a, ["after leave"]);

      const at_b = wait_for(b.socket, "room-message");
      a.socket.emit("to-room", "r3", "to r3");
      assert.deepEqual(await at_b, ["to r3"]);

      await Promise.all([drain(a), drain(b)]);
      assert.deepEqual(a.rooms_got, [["after leave"]]);
      assert.deepEqual(b.rooms_got, [["to r3"]]);

      // Leaving a room one is not in is acked too, and an empty room delivers nothing.
      assert.deepEqual(await emit_with_ack(a.socket, "leave", ["never-joined"]), [true]);
      a.socket.emit("to-room", "nobody-here", "void");
      await Promise.all([drain(a), drain(b)]);
      assert.equal(a.rooms_got.length, 1);
      assert.equal(b.rooms_got.length, 1);
      a.socket.close();
      b.socket.close();
    });

    it("a disconnected member no longer receives, the others still do", async () => {
      const a = await member(server.url, opts);
      const b = await member(server.url, opts);
      assert.deepEqual(await emit_with_ack(a.socket, "join", ["r4"]), [true]);
      assert.deepEqual(await emit_with_ack(b.socket, "join", ["r4"]), [true]);
      b.socket.close();
      const at_a = wait_for(a.socket, "room-message");
      a.socket.emit("to-room", "r4", "b is gone");
      assert.deepEqual(await at_a, ["b is gone"]);
      assert.deepEqual(b.rooms_got, []);
      a.socket.close();
    });
  });
}
