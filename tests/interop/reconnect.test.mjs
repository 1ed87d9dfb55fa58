// socket.io-client reconnects by itself after socketio_echo is killed and restarted on the same port.
import { describe, it, after } from "node:test";
import assert from "node:assert/strict";
import { start_server } from "./lib/server.mjs";
import { connect, echo } from "./lib/sio.mjs";
import { wait_for } from "./lib/util.mjs";

const RECONNECT = { reconnection: true, reconnectionDelay: 100, reconnectionDelayMax: 500,
                    randomizationFactor: 0, timeout: 2000 };

describe("reconnect after a server restart", () => {
  let server;
  after(async () => { await server?.stop(); });

  for (const [label, opts] of [["websocket", { transports: ["websocket"] }],
                               ["polling", { transports: ["polling"] }],
                               ["default", {}]]) {
    it(`reconnects and echoes again (${label})`, async () => {
      server = await start_server();
      const port = server.port;
      const { socket } = await connect(server.url, { ...opts, ...RECONNECT, auth: { round: 1 } });
      assert.deepEqual(await echo(socket, ["before", 1]), ["before", 1]);

      const lost = wait_for(socket, "disconnect", 10000);
      await server.stop();
      server = null;
      const [reason] = await lost;
      assert.ok(["transport close", "transport error", "ping timeout"].includes(reason),
                `unexpected disconnect reason ${reason}`);
      assert.equal(socket.active, true, "the client gave up instead of trying to reconnect");

      const reconnected = wait_for(socket.io, "reconnect", 15000);
      const connected = wait_for(socket, "connect", 15000);
      const auth_again = wait_for(socket, "auth", 15000);
      server = await start_server([], { port });
      await reconnected;
      await connected;
      assert.equal(socket.connected, true);
      assert.deepEqual((await auth_again)[0], { round: 1 });
      assert.deepEqual(await echo(socket, ["after", 2, { ok: true }]), ["after", 2, { ok: true }]);
      socket.close();
      await server.stop();
      server = null;
    });
  }
});
