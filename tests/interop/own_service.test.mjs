// docs/examples/own_service.cpp, the "write your own server" example, run end to end: a custom
// Router, JWT auth and the SQLite source, with the official socket.io-client.
import { describe, it, before, after } from "node:test";
import assert from "node:assert/strict";
import { spawn, execFileSync } from "node:child_process";
import { createHmac } from "node:crypto";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { connect_user } from "./lib/service_server.mjs";
import { within, DEFAULT_WAIT_MS } from "./lib/util.mjs";

const SECRET = "example-secret";

function jwt(claims, secret = SECRET) {
  const b64 = (o) => Buffer.from(JSON.stringify(o)).toString("base64url");
  const input = `${b64({ alg: "HS256", typ: "JWT" })}.${b64(claims)}`;
  return `${input}.${createHmac("sha256", secret).update(input).digest("base64url")}`;
}

function binary() {
  const bin = process.env.ESINK_OWN_SERVICE;
  if (!bin) throw new Error("ESINK_OWN_SERVICE is not set (CTest sets it to $<TARGET_FILE:own_service>)");
  return bin;
}

/// Starts the example on a free port; resolves {child, url} once it prints its port.
function start(db) {
  const child = spawn(binary(), [db, SECRET, "0"], { stdio: ["ignore", "pipe", "pipe"] });
  let out = "", err = "";
  child.stderr.on("data", (d) => { err += d; });
  return within(new Promise((resolve, reject) => {
    child.stdout.on("data", (d) => {
      out += d;
      const m = /^listening on port (\d+)$/m.exec(out);
      if (m) resolve({ child, url: `http://127.0.0.1:${m[1]}` });
    });
    child.once("exit", (code) => reject(new Error(`own_service exited ${code}: ${err}`)));
  }), 20000, "own_service to listen");
}

/// Collects the `tasks` events of a socket.
function collect(socket) {
  const got = [];
  socket.on("tasks", (e) => got.push(e));
  return got;
}

async function until(pred, what) {
  const deadline = Date.now() + DEFAULT_WAIT_MS * 2;
  while (!pred()) {
    if (Date.now() > deadline) throw new Error(`timed out: ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe("docs/examples/own_service.cpp", () => {
  let dir, db, server;
  before(async () => {
    dir = mkdtempSync(path.join(tmpdir(), "esink-own-"));
    db = path.join(dir, "tasks.db");
    execFileSync("sqlite3", [db, "CREATE TABLE tasks (id INTEGER PRIMARY KEY, title TEXT, assignee INTEGER, " +
                                 "priority TEXT, internal_notes TEXT);"]);
    server = await start(db);
  });
  after(async () => {
    const exited = new Promise((resolve) => server.child.once("exit", (code) => resolve(code)));
    server.child.kill("SIGTERM");
    assert.equal(await exited, 0, "own_service exits 0 on SIGTERM");
  });

  it("routes each task to its assignee, urgent ones to everyone, without internal_notes", async () => {
    const alice = await connect_user(server.url, jwt({ sub: 1 }));
    const bob = await connect_user(server.url, jwt({ sub: 2 }));
    assert.equal(alice.connected.userId, 1);
    assert.equal(bob.connected.userId, 2);
    const a = collect(alice.socket), b = collect(bob.socket);
    try {
      execFileSync("sqlite3", ["-batch", "-bail", "-cmd", ".timeout 5000", db,
        "INSERT INTO tasks (title, assignee, priority, internal_notes) VALUES " +
        "('for alice', 1, 'normal', 'secret a'), ('for bob', 2, 'normal', 'secret b');" +
        "INSERT INTO tasks (title, assignee, priority, internal_notes) VALUES ('fire', 2, 'urgent', 'secret c');" +
        "UPDATE tasks SET assignee = 1 WHERE title = 'for bob';"]);
      await until(() => a.length >= 3 && b.length >= 2, "every task event");
      await new Promise((r) => setTimeout(r, 300));  // nothing more may arrive
      assert.deepEqual(a.map((e) => `${e.type} ${e.data.title}`), ["insert for alice", "insert fire", "update for bob"]);
      assert.deepEqual(b.map((e) => `${e.type} ${e.data.title}`), ["insert for bob", "insert fire"]);
      for (const e of [...a, ...b]) assert.equal("internal_notes" in e.data, false, JSON.stringify(e));
      assert.equal(b[1].userId, "*");
    } finally {
      alice.socket.close();
      bob.socket.close();
    }
  });

  it("refuses a token signed with another secret", async () => {
    const r = await connect_user(server.url, jwt({ sub: 1 }, "not-the-secret"));
    assert.deepEqual(r.error, { code: 401, message: "Unauthorized" });
    r.socket.close();
  });
});
