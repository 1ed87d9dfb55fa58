// Engine.IO v4 conformance (socketio/engine.io-protocol test-suite) against the raw Engine.IO
// echo endpoint /engine.io/ of socketio_echo.
import { before, after } from "node:test";
import assert from "node:assert/strict";
import { start_server } from "./lib/server.mjs";
import { engineio_suite, PING_ARGS } from "./lib/engineio_suite.mjs";

let server;
before(async () => { server = await start_server(PING_ARGS); });
after(async () => { await server?.stop(); });

engineio_suite(() => server, "/engine.io/", {
  echo: true,
  roundtrip: async (ws) => {
    const word = `4ping-${Math.random()}`;
    ws.send(word);
    assert.equal(await ws.next(), word);
  },
});
