// USE_SSL: esink_service serves HTTPS polling and WSS with the certificate from TLS_CERT_FILE /
// TLS_KEY_FILE, and nothing over plain HTTP. The official client connects with a self-signed
// certificate made here by openssl.
import { describe, it, before, after } from "node:test";
import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import path from "node:path";
import { io } from "./lib/deps.mjs";
import { start_service, run_service } from "./lib/service_server.mjs";
import { self_signed_cert, https_get } from "./lib/service_tls.mjs";
import { wait_for } from "./lib/util.mjs";

const { dir, cert, key, ca } = self_signed_cert();

describe("USE_SSL", () => {
  let svc;
  before(async () => {
    svc = await start_service({ USE_SSL: "true", TLS_CERT_FILE: cert, TLS_KEY_FILE: key,
                                ESINK_SQLITE_PATH: path.join(dir, "esink.db") });
  });
  after(async () => { assert.equal(await svc.stop(), 0); });

  for (const transports of [["polling"], ["websocket"], ["polling", "websocket"]]) {
    it(`the official client connects over TLS (${transports.join(" then ")})`, async () => {
      const s = io(`https://localhost:${svc.port}`, { forceNew: true, transports, ca, auth: { token: "TEST" } });
      try {
        const [msg] = await wait_for(s, "connected");
        assert.equal(msg.code, 200);
        assert.equal(msg.userId, -1);
        if (transports.length === 2) {
          // The upgrade to WSS completes too.
          if (s.io.engine.transport.name !== "websocket") await wait_for(s.io.engine, "upgrade");
          assert.equal(s.io.engine.transport.name, "websocket");
        }
      } finally {
        s.close();
      }
    });
  }

  it("a client that does not trust the certificate is refused", async () => {
    const s = io(`https://localhost:${svc.port}`, { forceNew: true, transports: ["websocket"], reconnection: false,
                                                    auth: { token: "TEST" } });
    try {
      const [err] = await wait_for(s, "connect_error");
      assert.match(String(err.message), /websocket error|self.signed|certificate/i);
    } finally {
      s.close();
    }
  });

  it("GET /ping answers over HTTPS; plain HTTP gets no answer", async () => {
    const r = await https_get(`https://localhost:${svc.port}/ping`, ca);
    assert.deepEqual(r, { status: 200, body: "pong" });
    await assert.rejects(fetch(`http://127.0.0.1:${svc.port}/ping`, { signal: AbortSignal.timeout(5000) }));
  });
});

describe("USE_SSL misconfigured", () => {
  it("without TLS_CERT_FILE / TLS_KEY_FILE: one line, exit 2", async () => {
    const r = await run_service({ USE_SSL: "true", PORT: "0", ESINK_SQLITE_PATH: path.join(dir, "x.db") });
    assert.equal(r.code, 2);
    assert.match(r.stderr, /USE_SSL is set: TLS_CERT_FILE and TLS_KEY_FILE must name the PEM certificate and key/);
  });

  it("an unreadable certificate: one line naming it, exit 2", async () => {
    const r = await run_service({ USE_SSL: "true", PORT: "0", TLS_CERT_FILE: path.join(dir, "missing.pem"),
                                  TLS_KEY_FILE: key, ESINK_SQLITE_PATH: path.join(dir, "x.db") });
    assert.equal(r.code, 2);
    assert.match(r.stderr, /cannot read TLS_CERT_FILE .*missing\.pem/);
  });

  it("a file that is not a certificate: one line naming it, exit 1", async () => {
    const bogus = path.join(dir, "bogus.pem");
    writeFileSync(bogus, "not a certificate\n");
    const r = await run_service({ USE_SSL: "true", PORT: "0", TLS_CERT_FILE: bogus, TLS_KEY_FILE: key,
                                  ESINK_SQLITE_PATH: path.join(dir, "x.db") });
    assert.equal(r.code, 1);
    assert.match(r.stderr, /cannot load TLS certificate '.*bogus\.pem'/);
  });
});
