// esink_service serving files (ESINK_STATIC_DIR) and the official browser client
// (ESINK_SOCKETIO_CLIENT_DIR): content types, index pages, 404 for everything not enumerated at
// startup (traversal, dotfiles, links out of the directory), 405, ETags, startup errors.
import { describe, it, before, after } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
import net from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { start_service, run_service, connect_user } from "./lib/service_server.mjs";
import { within } from "./lib/util.mjs";

const here = path.dirname(fileURLToPath(import.meta.url));
const client_dist = path.join(here, "node_modules", "socket.io-client", "dist");

/// A request with the target sent exactly as given (fetch would resolve `..` itself);
/// resolves {status, headers, body}.
function raw_get(port, target, method = "GET") {
  return within(new Promise((resolve, reject) => {
    const s = net.connect(port, "127.0.0.1");
    const chunks = [];
    s.on("connect", () => s.write(`${method} ${target} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n`));
    s.on("data", (d) => chunks.push(d));
    s.on("error", reject);
    s.on("end", () => {
      const text = Buffer.concat(chunks).toString("latin1");
      const head = text.slice(0, text.indexOf("\r\n\r\n"));
      const m = /^HTTP\/1\.1 (\d{3})/.exec(head);
      if (!m) return reject(new Error(`no HTTP status line in ${JSON.stringify(text.slice(0, 200))}`));
      resolve({ status: Number(m[1]), head, body: text.slice(head.length + 4) });
    });
  }), 5000, `${method} ${target}`);
}

function site() {
  const dir = mkdtempSync(path.join(tmpdir(), "esink-static-"));
  const png = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 1, 2, 255]);
  writeFileSync(path.join(dir, "index.html"), "<!doctype html><title>root</title>");
  writeFileSync(path.join(dir, "app.js"), "console.log('app');");
  writeFileSync(path.join(dir, "style.CSS"), "body{}");
  writeFileSync(path.join(dir, "data.json"), "{\"a\":1}");
  writeFileSync(path.join(dir, "logo.png"), png);
  writeFileSync(path.join(dir, "LICENSE"), "no extension");
  writeFileSync(path.join(dir, "ping"), "a file named ping");
  writeFileSync(path.join(dir, ".env"), "SECRET=1");
  writeFileSync(path.join(dir, "my page.html"), "space in name");
  mkdirSync(path.join(dir, "sub"));
  writeFileSync(path.join(dir, "sub", "index.html"), "<title>sub</title>");
  writeFileSync(path.join(dir, "sub", "page.html"), "<title>page</title>");
  mkdirSync(path.join(dir, ".git"));
  writeFileSync(path.join(dir, ".git", "config"), "[core]");
  symlinkSync("index.html", path.join(dir, "link.html"));
  symlinkSync("/etc/hostname", path.join(dir, "escape.txt"));
  symlinkSync("sub", path.join(dir, "subdir-link"));
  symlinkSync("missing.html", path.join(dir, "broken.html"));
  const outside = mkdtempSync(path.join(tmpdir(), "esink-static-outside-"));
  writeFileSync(path.join(outside, "secret.txt"), "outside");
  return { dir, png, outside };
}

describe("ESINK_STATIC_DIR and ESINK_SOCKETIO_CLIENT_DIR", () => {
  let svc, files;
  before(async () => {
    files = site();
    svc = await start_service({ ESINK_STATIC_DIR: files.dir, ESINK_SOCKETIO_CLIENT_DIR: client_dist });
    // Added after startup: never served.
    writeFileSync(path.join(files.dir, "later.html"), "too late");
  });
  after(async () => { assert.equal(await svc.stop(), 0); });

  const served = [
    ["/", "text/html; charset=utf-8", "index.html"],
    ["/index.html", "text/html; charset=utf-8", "index.html"],
    ["/app.js", "text/javascript; charset=utf-8", "app.js"],
    ["/style.CSS", "text/css; charset=utf-8", "style.CSS"],
    ["/data.json", "application/json", "data.json"],
    ["/logo.png", "image/png", "logo.png"],
    ["/LICENSE", "application/octet-stream", "LICENSE"],
    ["/sub/", "text/html; charset=utf-8", "sub/index.html"],
    ["/sub/page.html", "text/html; charset=utf-8", "sub/page.html"],
    ["/link.html", "text/html; charset=utf-8", "index.html"],
    ["/?user=bob", "text/html; charset=utf-8", "index.html"],
  ];
  for (const [url, type, file] of served) {
    it(`GET ${url} serves ${file} as ${type}`, async () => {
      const r = await fetch(svc.url + url);
      assert.equal(r.status, 200);
      assert.equal(r.headers.get("content-type"), type);
      assert.equal(r.headers.get("x-content-type-options"), "nosniff");
      assert.deepEqual(Buffer.from(await r.arrayBuffer()), readFileSync(path.join(files.dir, file)));
    });
  }

  const not_found = [
    "/../index.html", "/sub/../index.html", "/%2e%2e/index.html", "/sub/%2e%2e/sub/page.html",
    "/../../../../etc/hostname", "/%2e%2e%2f%2e%2e%2fetc%2fhostname", "//index.html", "/./index.html",
    "/.env", "/.git/config", "/escape.txt", "/my%20page.html", "/my page.html", "/later.html",
    "/sub", "/index.html/", "/subdir-link/page.html", "/broken.html", "/nope", "/INDEX.HTML",
    "/socket.io/socket.io.msgpack.min.js",
  ];
  for (const target of not_found) {
    it(`GET ${target} is 404`, async () => {
      const r = await raw_get(svc.port, target);
      assert.equal(r.status, 404, `${r.head}\n${r.body}`);
      assert.doesNotMatch(r.body, /root|outside|SECRET|core|too late|space in name/);
    });
  }

  it("the Socket.IO path itself stays Engine.IO's (400 without a query), never a file", async () => {
    const r = await raw_get(svc.port, "/socket.io/");
    assert.equal(r.status, 400, r.head);
    assert.match(r.body, /Transport unknown/);
  });

  it("only GET: other methods get 405 with Allow: GET", async () => {
    for (const method of ["POST", "PUT", "DELETE", "HEAD"]) {
      const r = await raw_get(svc.port, "/app.js", method);
      assert.equal(r.status, 405, method);
      assert.match(r.head, /\r\nAllow: GET\r?$/im, method);
    }
  });

  it("a matching If-None-Match gets 304 without a body", async () => {
    const first = await fetch(svc.url + "/app.js");
    const etag = first.headers.get("etag");
    assert.match(etag, /^"[0-9a-f]{16}-\d+"$/);
    assert.equal(first.headers.get("cache-control"), "no-cache");
    for (const header of [etag, `W/${etag}`, `"other", ${etag}`, "*"]) {
      const r = await fetch(svc.url + "/app.js", { headers: { "If-None-Match": header } });
      assert.equal(r.status, 304, header);
      assert.equal(await r.text(), "");
    }
    const changed = await fetch(svc.url + "/app.js", { headers: { "If-None-Match": "\"0000\"" } });
    assert.equal(changed.status, 200);
    assert.notEqual((await fetch(svc.url + "/data.json")).headers.get("etag"), etag);
  });

  it("the service's own routes win over files of the same path", async () => {
    const r = await fetch(svc.url + "/ping");
    assert.equal(await r.text(), "pong");
  });

  it("skipped entries are named in startup warnings; dotfiles silently", () => {
    const skipped = (detail) => new RegExp(`level=warn msg="file not served" variable=ESINK_STATIC_DIR detail="${detail}"$`, "m");
    assert.match(svc.stderr, skipped("my page\\.html: name needs percent-encoding \\(use letters, digits and -\\._~\\)"));
    assert.match(svc.stderr, skipped("escape\\.txt: symbolic link leading outside the directory"));
    assert.match(svc.stderr, skipped("subdir-link: symbolic link to something other than a regular file"));
    assert.match(svc.stderr, skipped("broken\\.html: broken symbolic link"));
    assert.equal(svc.stderr.match(/msg="file not served"/g).length, 4, svc.stderr);
    assert.doesNotMatch(svc.stderr, /\.env|\.git/);
    // 10 files of the directory (index.html also at /, link.html a link to it), 6 of the client.
    assert.match(svc.stderr, /level=info msg="serving files" files=16 bytes=\d+$/m);
  });

  for (const name of ["socket.io.min.js", "socket.io.js", "socket.io.min.js.map", "socket.io.esm.min.js"]) {
    it(`GET /socket.io/${name} serves socket.io-client's dist/${name}`, async () => {
      const r = await fetch(`${svc.url}/socket.io/${name}`);
      assert.equal(r.status, 200);
      assert.equal(r.headers.get("content-type"),
                   name.endsWith(".map") ? "application/json" : "text/javascript; charset=utf-8");
      assert.deepEqual(Buffer.from(await r.arrayBuffer()), readFileSync(path.join(client_dist, name)));
    });
  }

  it("Socket.IO still connects on the same server", async () => {
    const { socket, connected } = await connect_user(svc.url, "TEST", { transports: ["polling", "websocket"] });
    assert.equal(connected.userId, -1);
    socket.disconnect();
  });
});

describe("without ESINK_STATIC_DIR nothing is served", () => {
  it("GET / and /socket.io/socket.io.min.js are 404", async () => {
    const svc = await start_service({});
    try {
      assert.equal((await fetch(svc.url + "/")).status, 404);
      assert.equal((await fetch(svc.url + "/socket.io/socket.io.min.js")).status, 404);
    } finally {
      assert.equal(await svc.stop(), 0);
    }
  });
});

describe("bad directories stop startup: one line, exit 2", () => {
  const empty = mkdtempSync(path.join(tmpdir(), "esink-static-empty-"));
  const file = path.join(empty, "file.txt");
  writeFileSync(file, "x");
  const big = mkdtempSync(path.join(tmpdir(), "esink-static-big-"));
  writeFileSync(path.join(big, "index.html"), "ok");
  writeFileSync(path.join(big, "video.mp4"), Buffer.alloc((8 << 20) + 1));
  const cases = [
    [{ ESINK_STATIC_DIR: big },
     /^esink: ESINK_STATIC_DIR: '.*\/video\.mp4' has 8388609 bytes, more than the 8388608 allowed per file$/],
    [{ ESINK_STATIC_DIR: "/nonexistent/esink" },
     /^esink: ESINK_STATIC_DIR: cannot open directory '\/nonexistent\/esink': No such file or directory$/],
    [{ ESINK_STATIC_DIR: file }, /^esink: ESINK_STATIC_DIR: '.*file\.txt' is not a directory$/],
    [{ ESINK_SOCKETIO_CLIENT_DIR: empty },
     /^esink: ESINK_SOCKETIO_CLIENT_DIR: '.*' has no socket\.io\.js \(expected the dist directory of the npm package socket\.io-client\)$/],
  ];
  for (const [env, re] of cases) {
    it(JSON.stringify(env), async () => {
      const r = await run_service({ PORT: "0", ...env });
      assert.equal(r.code, 2, r.stderr);
      const lines = r.stderr.trim().split("\n").filter((l) => !/ level=warn /.test(l));
      assert.equal(lines.length, 1, r.stderr);
      assert.match(lines[0], re);
      assert.equal(r.stdout, "");
    });
  }
});
