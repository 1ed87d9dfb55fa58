// The official socket.io-client over each transport setting against socketio_echo: auth, echo,
// acks both ways, binary both ways, both namespaces on one Manager, unknown namespace.
import { describe, it, before, after } from "node:test";
import assert from "node:assert/strict";
import { Manager } from "./lib/deps.mjs";
import { start_server } from "./lib/server.mjs";
import { connect, emit_with_ack, echo, TRANSPORTS } from "./lib/sio.mjs";
import { wait_for, normalise_binary, bytes_of } from "./lib/util.mjs";

const MIXED = [1, "2", { 3: [true] }, null, -1.5, "ünïcødé €亜Б 😀", [], {}, false, "a\u001eb"];

function binary_args() {
  const big = Buffer.alloc(70000);
  for (let i = 0; i < big.length; i++) big[i] = (i * 31 + 7) & 0xff;
  return [
    Buffer.from([0, 1, 2, 254, 255]),
    { nested: { bytes: Uint8Array.from([9, 8, 7]), list: ["x", Buffer.from("héllo")] } },
    "text between",
    big,
    [Buffer.alloc(0), 42],
  ];
}

/// "upgrade" once the engine switched to WebSocket, or what went wrong instead.
function upgrade_outcome(engine, ms = 5000) {
  return new Promise((resolve) => {
    const done = (outcome) => {
      clearTimeout(timer);
      engine.off("upgrade", on_upgrade);
      engine.off("upgradeError", on_error);
      resolve(outcome);
    };
    const on_upgrade = () => done("upgrade");
    const on_error = (e) => done(`upgradeError: ${e?.message}`);
    const timer = setTimeout(() => done(`no upgrade within ${ms} ms`), ms);
    engine.on("upgrade", on_upgrade);
    engine.on("upgradeError", on_error);
  });
}

let server;
before(async () => { server = await start_server(); });
after(async () => { await server?.stop(); });

for (const [label, opts] of Object.entries(TRANSPORTS)) {
  describe(`transport: ${label}`, () => {
    const open = async (extra = {}, nsp = "/") => {
      const client = await connect(server.url, { ...opts, ...extra }, nsp);
      if (label.startsWith("default")) {
        const engine = client.socket.io.engine;
        if (engine.transport.name !== "websocket") assert.equal(await upgrade_outcome(engine), "upgrade");
        assert.equal(engine.transport.name, "websocket");
      } else {
        assert.equal(client.socket.io.engine.transport.name, opts.transports[0]);
      }
      return client;
    };

    it("connects and echoes the handshake auth payload", async () => {
      const auth = { token: "abc", n: 1, nested: { list: [1, "2", null] } };
      const { socket, auth: got } = await open({ auth });
      assert.deepEqual(got, auth);
      socket.close();
    });

    it("sends {} as auth when the client gives none", async () => {
      const { socket, auth } = await open();
      assert.deepEqual(auth, {});
      socket.close();
    });

    it("echoes message with mixed arguments as message-back", async () => {
      const { socket } = await open();
      assert.deepEqual(await echo(socket, MIXED), MIXED);
      assert.deepEqual(await echo(socket, []), []);
      socket.close();
    });

    it("acks message-with-ack with the same arguments", async () => {
      const { socket } = await open();
      assert.deepEqual(await emit_with_ack(socket, "message-with-ack", MIXED), MIXED);
      assert.deepEqual(await emit_with_ack(socket, "message-with-ack", []), []);
      socket.close();
    });

    it("echoes binary arguments nested in objects, bytes and order intact", async () => {
      const { socket } = await open();
      const args = binary_args();
      const back = await echo(socket, args);
      assert.ok(Buffer.isBuffer(back[0]) || back[0] instanceof ArrayBuffer,
                `first argument came back as ${typeof back[0]}, not binary`);
      assert.deepEqual(normalise_binary(back), normalise_binary(args));
      assert.deepEqual(bytes_of(back[3]), args[3]);
      socket.close();
    });

    it("acks with binary arguments (BINARY_ACK)", async () => {
      const { socket } = await open();
      const args = binary_args();
      assert.deepEqual(normalise_binary(await emit_with_ack(socket, "message-with-ack", args)),
                       normalise_binary(args));
      socket.close();
    });

    it("server-to-client ack: the client's ack arguments reach the server", async () => {
      const { socket } = await open();
      const request = wait_for(socket, "ack-request");
      socket.emit("request-ack", "question", 42, { bin: Buffer.from([1, 2, 3]) });
      const args = await request;
      const ack = args.pop();
      assert.equal(typeof ack, "function", "ack-request came without an ack callback");
      assert.deepEqual(normalise_binary(args),
                       normalise_binary(["question", 42, { bin: Buffer.from([1, 2, 3]) }]));
      const response = wait_for(socket, "ack-response");
      const reply = ["answer", { ok: true }, Buffer.from([4, 5, 6]), null];
      ack(...reply);
      assert.deepEqual(normalise_binary(await response), normalise_binary(reply));
      socket.close();
    });

    it("serves / and /custom at once on one Manager (one Engine.IO session)", async () => {
      const manager = new Manager(server.url, { ...opts, reconnection: false });
      const root = manager.socket("/", { auth: { who: "root" } });
      const custom = manager.socket("/custom", { auth: { who: "custom" } });
      const root_auth = wait_for(root, "auth");
      const custom_auth = wait_for(custom, "auth");
      await Promise.all([root_auth, custom_auth]);
      assert.deepEqual((await root_auth)[0], { who: "root" });
      assert.deepEqual((await custom_auth)[0], { who: "custom" });
      assert.equal(root.io.engine, custom.io.engine);

      const crossed = [];
      root.on("message-back", (...a) => { if (a[0] === "for custom") crossed.push(a); });
      custom.on("message-back", (...a) => { if (a[0] === "for root") crossed.push(a); });
      const [r, c] = await Promise.all([echo(root, ["for root", 1]), echo(custom, ["for custom", 2])]);
      assert.deepEqual(r, ["for root", 1]);
      assert.deepEqual(c, ["for custom", 2]);
      assert.deepEqual(await emit_with_ack(custom, "message-with-ack", ["c"]), ["c"]);
      assert.deepEqual(await emit_with_ack(root, "message-with-ack", ["r"]), ["r"]);
      assert.deepEqual(crossed, [], "a namespace received the other namespace's event");

      const custom_gone = wait_for(custom, "disconnect");
      custom.disconnect();
      await custom_gone;
      assert.deepEqual(await echo(root, ["root still here"]), ["root still here"]);
      root.close();
      manager.engine?.close();
    });

    it("rejects an unknown namespace with connect_error 'Invalid namespace'", async () => {
      const manager = new Manager(server.url, { ...opts, reconnection: false });
      const root = manager.socket("/");
      const bad = manager.socket("/nope");
      const rejected = wait_for(bad, "connect_error");
      await wait_for(root, "connect");
      const [err] = await rejected;
      assert.equal(err.message, "Invalid namespace");
      assert.equal(bad.connected, false);
      assert.deepEqual(await echo(root, ["after rejection"]), ["after rejection"]);
      root.close();
      manager.engine?.close();
    });

    it("disconnect-me: the server disconnects the socket ('io server disconnect')", async () => {
      const { socket } = await open();
      const gone = wait_for(socket, "disconnect");
      socket.emit("disconnect-me");
      const [reason] = await gone;
      assert.equal(reason, "io server disconnect");
    });
  });
}
