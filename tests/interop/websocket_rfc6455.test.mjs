// RFC 6455 conformance of the WebSocket layer, spoken raw over TCP to /socket.io/ on
// socketio_echo: the opening handshake (section 4: 101, Sec-WebSocket-Accept, version and key
// checks, split and pipelined requests), the framing rules a server MUST enforce (section 5:
// client masking, RSV bits, opcodes, control frames, fragmentation, 64-bit lengths), UTF-8
// (section 8.1), the closing handshake and close codes (sections 5.5.1, 7.4), and the size limit
// (1009 before the body arrives). Failing a connection means a Close frame with the status, then
// TCP closed by the server without waiting for the client (section 7.1.7). After every offender a
// socket.io-client still connects and echoes.
import { describe, it, before, after } from "node:test";
import assert from "node:assert/strict";
import crypto from "node:crypto";
import net from "node:net";
import { start_server } from "./lib/server.mjs";
import { connect, echo } from "./lib/sio.mjs";
import { DEFAULT_WAIT_MS, sleep } from "./lib/util.mjs";

const GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
const PATH = "/socket.io/?EIO=4&transport=websocket";
const OP = { cont: 0x0, text: 0x1, binary: 0x2, close: 0x8, ping: 0x9, pong: 0xa };
const CASE = { timeout: 20000 };
// Failing a connection is immediate; the server must not wait for the client's Close reply.
// Short bounds keep a run where every case fails under CTest's 180 s.
const CLOSE_FRAME_MS = 3000;
const TCP_CLOSE_MS = 2000;

let server;

/// One client frame; `mask: false` sends it unmasked, `length` overrides the declared length.
function frame(opcode, payload = Buffer.alloc(0), { fin = true, rsv = 0, mask = true, length } = {}) {
  const data = Buffer.from(payload);
  const len = length ?? BigInt(data.length);
  const n = BigInt(len);
  let head;
  if (n < 126n) head = Buffer.from([0, Number(n)]);
  else if (n < 65536n) { head = Buffer.alloc(4); head[1] = 126; head.writeUInt16BE(Number(n), 2); }
  else { head = Buffer.alloc(10); head[1] = 127; head.writeBigUInt64BE(n, 2); }
  head[0] = (fin ? 0x80 : 0) | (rsv << 4) | opcode;
  if (!mask) return Buffer.concat([head, data]);
  head[1] |= 0x80;
  const key = crypto.randomBytes(4);
  const body = Buffer.from(data);
  for (let i = 0; i < body.length; i++) body[i] ^= key[i & 3];
  return Buffer.concat([head, key, body]);
}

const text = (s, opts) => frame(OP.text, Buffer.from(s), opts);
const close_payload = (code, reason = Buffer.alloc(0)) => {
  const b = Buffer.alloc(2);
  b.writeUInt16BE(code);
  return Buffer.concat([b, Buffer.from(reason)]);
};

function handshake(port, { method = "GET", key = crypto.randomBytes(16).toString("base64"),
                           version = "13", extra = "" } = {}) {
  return `${method} ${PATH} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nUpgrade: websocket\r\n` +
         `Connection: Upgrade\r\n${key === null ? "" : `Sec-WebSocket-Key: ${key}\r\n`}` +
         `Sec-WebSocket-Version: ${version}\r\n${extra}\r\n`;
}

/// A raw TCP client: reads one HTTP response head, then server frames; every wait is bounded.
class raw_client {
  constructor(port) {
    this.buf = Buffer.alloc(0);
    this.ended = false;
    this.ended_at = 0;
    this.waiter = null;
    this.sock = net.connect(port, "127.0.0.1");
    this.sock.setNoDelay(true);
    this.connected = new Promise((resolve, reject) => {
      this.sock.once("connect", resolve);
      this.sock.once("error", reject);
    });
    this.connected.catch(() => {});
    this.sock.on("data", (d) => { this.buf = Buffer.concat([this.buf, d]); this.wake(); });
    this.sock.on("error", () => {});
    this.sock.on("close", () => { this.ended = true; this.ended_at = Date.now(); this.wake(); });
  }

  static async open(port) {
    const c = new raw_client(port);
    await c.connected;
    return c;
  }

  wake() { if (this.waiter) { const w = this.waiter; this.waiter = null; w(); } }

  /// Waits until `take(buf)` returns non-null, TCP closes (throws), or `ms` pass (throws).
  async until(what, take, ms = DEFAULT_WAIT_MS) {
    const deadline = Date.now() + ms;
    for (;;) {
      const got = take();
      if (got !== null) return got;
      if (this.ended) throw new Error(`TCP closed while waiting for ${what}; unread: ${this.describe_buf()}`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no ${what} within ${ms} ms; unread: ${this.describe_buf()}`);
      await new Promise((resolve) => {
        const timer = setTimeout(resolve, left);
        this.waiter = () => { clearTimeout(timer); resolve(); };
      });
    }
  }

  describe_buf() { return JSON.stringify(this.buf.subarray(0, 120).toString("latin1")); }

  write(data) { return new Promise((resolve) => this.sock.write(data, () => resolve())); }

  /// {status, headers (lower-case names), raw} of the response head.
  read_http(ms) {
    return this.until("HTTP response", () => {
      const end = this.buf.indexOf("\r\n\r\n");
      if (end < 0) return null;
      const raw = this.buf.subarray(0, end).toString("latin1");
      this.buf = this.buf.subarray(end + 4);
      const [status_line, ...lines] = raw.split("\r\n");
      const m = /^HTTP\/1\.[01] (\d{3})/.exec(status_line);
      const headers = {};
      for (const l of lines) {
        const i = l.indexOf(":");
        const name = l.slice(0, i).trim().toLowerCase();
        const value = l.slice(i + 1).trim();
        headers[name] = headers[name] === undefined ? value : `${headers[name]}, ${value}`;
      }
      return { status: m ? Number(m[1]) : null, headers, raw };
    }, ms);
  }

  /// The next server frame {fin, rsv, opcode, masked, payload}.
  next_frame(ms) {
    return this.until("frame", () => {
      const b = this.buf;
      if (b.length < 2) return null;
      let len = b[1] & 0x7f, off = 2;
      if (len === 126) { if (b.length < 4) return null; len = b.readUInt16BE(2); off = 4; }
      else if (len === 127) { if (b.length < 10) return null; len = Number(b.readBigUInt64BE(2)); off = 10; }
      const masked = (b[1] & 0x80) !== 0;
      if (masked) off += 4;
      if (b.length < off + len) return null;
      let payload = Buffer.from(b.subarray(off, off + len));
      if (masked) for (let i = 0; i < len; i++) payload[i] ^= b[off - 4 + (i & 3)];
      this.buf = b.subarray(off + len);
      return { fin: (b[0] & 0x80) !== 0, rsv: (b[0] >> 4) & 7, opcode: b[0] & 0x0f, masked, payload };
    }, ms);
  }

  /// Next frame, checked against what RFC 6455 5.1/5.2 demands of a server frame.
  async frame(ms) {
    const f = await this.next_frame(ms);
    assert.equal(f.masked, false, "a server frame was masked (RFC 6455 5.1)");
    assert.equal(f.rsv, 0, "a server frame has RSV bits set without an extension");
    return f;
  }

  /// Next whole text message; Engine.IO pings are answered and skipped; pongs are skipped.
  async message(ms) {
    let parts = [];
    for (;;) {
      const f = await this.frame(ms);
      if (f.opcode === OP.pong) continue;
      if (f.opcode === OP.close) throw new Error(`server sent Close ${describe_close(f.payload)} instead of a message`);
      assert.ok(f.opcode === (parts.length ? OP.cont : OP.text), `unexpected opcode 0x${f.opcode.toString(16)}`);
      parts.push(f.payload);
      if (!f.fin) continue;
      const msg = Buffer.concat(parts).toString();
      parts = [];
      if (msg === "2") { await this.write(text("3")); continue; }
      return msg;
    }
  }

  /// Resolves once the server closed TCP; fails after `ms`.
  async tcp_closed(ms, after = "its Close frame") {
    await this.until("TCP close", () => (this.ended ? true : null), ms).catch((e) => {
      if (!this.ended) throw new Error(`server kept TCP open for ${ms} ms after ${after}`);
      throw e;
    });
  }

  destroy() { this.sock.destroy(); }
}

function describe_close(payload) {
  if (payload.length < 2) return `(payload ${payload.length} bytes)`;
  return `${payload.readUInt16BE(0)} ${JSON.stringify(payload.subarray(2).toString())}`;
}

/// A client past the 101, the Engine.IO open packet and the Socket.IO CONNECT reply.
async function open_session() {
  const c = await raw_client.open(server.port);
  await c.write(handshake(server.port));
  const res = await c.read_http();
  assert.equal(res.status, 101, `handshake answered ${res.raw}`);
  assert.match(await c.message(), /^0\{"sid":/);
  await c.write(text("40"));
  assert.match(await c.message(), /^40\{"sid":/);
  assert.equal(await c.message(), '42["auth",{}]');
  return c;
}

/// The server fails the connection: Close frame with `codes` (one or several allowed) in its
/// payload, data frames before it tolerated, then TCP closed without our Close reply.
async function expect_fail(c, codes) {
  const allowed = [codes].flat();
  const seen = [];
  let f;
  for (;;) {
    f = await c.frame(CLOSE_FRAME_MS).catch((e) => {
      throw new Error(`expected Close ${allowed.join("/")}; got ${seen.length ? seen.join(", ") : "no frame"}, ` +
                      `then: ${e.message}`);
    });
    if (f.opcode === OP.close) break;
    seen.push(`opcode 0x${f.opcode.toString(16)} ${JSON.stringify(f.payload.subarray(0, 60).toString())}`);
  }
  assert.ok(f.payload.length >= 2, `Close frame without a status code ${describe_close(f.payload)}`);
  const code = f.payload.readUInt16BE(0);
  assert.ok(allowed.includes(code), `expected Close ${allowed.join("/")}, got Close ${describe_close(f.payload)}`);
  await c.tcp_closed(TCP_CLOSE_MS);
  assert.equal(c.buf.length, 0, `bytes after the Close frame: ${c.describe_buf()}`);
  return code;
}

/// Sends our Close and expects the server's Close reply (its code via `check`), then TCP close.
async function expect_close_reply(c, payload, check) {
  await c.write(frame(OP.close, payload));
  let f;
  do f = await c.frame(CLOSE_FRAME_MS); while (f.opcode !== OP.close);
  check(f.payload);
  await c.tcp_closed(TCP_CLOSE_MS);
  assert.equal(c.buf.length, 0, `bytes after the Close frame: ${c.describe_buf()}`);
}

/// The server still serves a well-behaved socket.io-client.
async function others_served() {
  server.assert_alive();
  const { socket } = await connect(server.url, { transports: ["websocket"] });
  try {
    assert.deepEqual(await echo(socket, ["still served"]), ["still served"]);
  } finally {
    socket.close();
  }
}

/// A test with an offending client: its own connection, then another client must still be served.
function offender(name, body) {
  it(name, CASE, async () => {
    let c;
    try {
      c = await open_session();
      await body(c);
    } finally {
      c?.destroy();
    }
    await others_served();
  });
}

/// A raw exchange before any WebSocket exists: returns the client after the response head.
async function raw_handshake(opts) {
  const c = await raw_client.open(server.port);
  await c.write(handshake(server.port, opts));
  return c;
}

describe("RFC 6455 on socketio_echo", () => {
  before(async () => { server = await start_server(); });
  after(async () => { await server?.stop(); });

  describe("opening handshake (section 4)", () => {
    it("a valid handshake gets 101 with the right Accept, then an unmasked Engine.IO open text frame", CASE, async () => {
      const key = crypto.randomBytes(16).toString("base64");
      const c = await raw_handshake({ key });
      try {
        const res = await c.read_http();
        assert.equal(res.status, 101, `answered ${res.raw}`);
        assert.match(res.headers.upgrade ?? "", /^websocket$/i, "Upgrade header");
        assert.ok((res.headers.connection ?? "").split(",").some((t) => t.trim().toLowerCase() === "upgrade"),
                  `Connection header: ${res.headers.connection}`);
        const accept = crypto.createHash("sha1").update(key + GUID).digest("base64");
        assert.equal(res.headers["sec-websocket-accept"], accept);
        const f = await c.frame();
        assert.equal(f.opcode, OP.text);
        assert.equal(f.fin, true);
        assert.match(f.payload.toString(), /^0\{"sid":"[^"]+"/);
      } finally { c.destroy(); }
      await others_served();
    });

    // 8 is draft hybi-08, 12 no draft at all: only version 13 is RFC 6455 (4.2.2, 4.4).
    for (const version of ["8", "12"]) {
      it(`Sec-WebSocket-Version ${version}: 426 or 400 with Sec-WebSocket-Version: 13, no 101, connection closed`, CASE, async () => {
        const c = await raw_handshake({ version });
        try {
          const res = await c.read_http();
          assert.ok([426, 400].includes(res.status), `answered ${res.raw}`);
          assert.ok((res.headers["sec-websocket-version"] ?? "").split(",").map((v) => v.trim()).includes("13"),
                    `no Sec-WebSocket-Version: 13 in ${res.raw}`);
          await c.tcp_closed(DEFAULT_WAIT_MS, "refusing the handshake");
          assert.doesNotMatch(c.buf.toString("latin1"), /HTTP\/1\.[01] 101/);
        } finally { c.destroy(); }
        await others_served();
      });
    }

    for (const [what, key] of [["missing Sec-WebSocket-Key", null],
                               ["a key decoding to 15 bytes", crypto.randomBytes(15).toString("base64")],
                               ["a key decoding to 17 bytes", crypto.randomBytes(17).toString("base64")],
                               ["a key that is not base64", "not a base64 key!!!!!!=="]]) {
      it(`${what}: 4xx, no 101`, CASE, async () => {
        const c = await raw_handshake({ key });
        try {
          const res = await c.read_http();
          assert.ok(res.status >= 400 && res.status < 500, `answered ${res.raw}`);
        } finally { c.destroy(); }
        await others_served();
      });
    }

    it("POST with upgrade headers: not 101", CASE, async () => {
      const c = await raw_handshake({ method: "POST", extra: "Content-Length: 0\r\n" });
      try {
        const res = await c.read_http().catch((e) => {
          if (c.ended && c.buf.length === 0) return { status: null };  // closed without answer: fine
          throw e;
        });
        assert.notEqual(res.status, 101, `answered ${res.raw}`);
      } finally { c.destroy(); }
      await others_served();
    });

    it("a handshake written one byte at a time still gets 101", CASE, async () => {
      const c = await raw_client.open(server.port);
      try {
        const req = Buffer.from(handshake(server.port));
        for (let i = 0; i < req.length; i++) {
          await c.write(req.subarray(i, i + 1));
          if (i % 4 === 0) await sleep(1);
        }
        const res = await c.read_http();
        assert.equal(res.status, 101, `answered ${res.raw}`);
        assert.match(await c.message(), /^0\{"sid":/);
      } finally { c.destroy(); }
      await others_served();
    });

    it("a text frame in the same TCP write as the handshake is processed", CASE, async () => {
      const c = await raw_client.open(server.port);
      try {
        await c.write(Buffer.concat([Buffer.from(handshake(server.port)), text("40")]));
        const res = await c.read_http();
        assert.equal(res.status, 101, `answered ${res.raw}`);
        assert.match(await c.message(), /^0\{"sid":/);
        assert.match(await c.message(), /^40\{"sid":/);
      } finally { c.destroy(); }
      await others_served();
    });
  });

  describe("framing errors fail the connection with 1002 (section 5)", () => {
    offender("an unmasked client frame (5.1)", async (c) => {
      await c.write(text('42["message","unmasked"]', { mask: false }));
      await expect_fail(c, 1002);
    });

    for (const rsv of [4, 2, 1]) {
      offender(`RSV${rsv === 4 ? 1 : rsv === 2 ? 2 : 3} set without a negotiated extension (5.2)`, async (c) => {
        await c.write(text('42["message","rsv"]', { rsv }));
        await expect_fail(c, 1002);
      });
    }

    for (const opcode of [0x3, 0xb]) {
      offender(`reserved opcode 0x${opcode.toString(16)} (5.2)`, async (c) => {
        await c.write(frame(opcode, Buffer.from("x")));
        await expect_fail(c, 1002);
      });
    }

    offender("a ping with a 126-byte payload (5.5)", async (c) => {
      await c.write(frame(OP.ping, Buffer.alloc(126, "p")));
      await expect_fail(c, 1002);
    });

    offender("a fragmented ping (FIN=0) (5.5)", async (c) => {
      await c.write(frame(OP.ping, Buffer.from("abc"), { fin: false }));
      await expect_fail(c, 1002);
    });

    offender("a continuation frame with no message started (5.4)", async (c) => {
      await c.write(frame(OP.cont, Buffer.from('42["message","x"]')));
      await expect_fail(c, 1002);
    });

    offender("a new text frame while a fragmented message is unfinished (5.4)", async (c) => {
      await c.write(text('42["message","a', { fin: false }));
      await c.write(text('42["message","b"]'));
      await expect_fail(c, 1002);
    });

    offender("a 64-bit length with the most significant bit set (5.2): 1002 or 1009", async (c) => {
      await c.write(frame(OP.text, Buffer.alloc(0), { length: 0x8000000000000010n }).subarray(0, 14));
      await expect_fail(c, [1002, 1009]);
    });
  });

  describe("UTF-8 (section 8.1)", () => {
    for (const [what, bad] of [["C3 28", [0xc3, 0x28]], ["a surrogate ED A0 80", [0xed, 0xa0, 0x80]],
                               ["overlong C0 AF", [0xc0, 0xaf]], ["above U+10FFFF F4 90 80 80", [0xf4, 0x90, 0x80, 0x80]]]) {
      offender(`invalid UTF-8 in a text message (${what}): 1007`, async (c) => {
        await c.write(text(Buffer.concat([Buffer.from('42["message","'), Buffer.from(bad), Buffer.from('"]')])));
        await expect_fail(c, 1007);
      });
    }

    offender("a € split across two fragments is accepted and echoed", async (c) => {
      const msg = Buffer.from('42["message","€"]');
      const cut = msg.indexOf(0xe2) + 1;
      await c.write(frame(OP.text, msg.subarray(0, cut), { fin: false }));
      await c.write(frame(OP.cont, msg.subarray(cut)));
      assert.equal(await c.message(), '42["message-back","€"]');
    });
  });

  describe("control frames (section 5.5)", () => {
    offender('ping "abc" is answered with pong "abc"', async (c) => {
      await c.write(frame(OP.ping, Buffer.from("abc")));
      let f;
      do f = await c.frame(); while (f.opcode === OP.text);
      assert.equal(f.opcode, OP.pong, `got opcode 0x${f.opcode.toString(16)}`);
      assert.equal(f.fin, true);
      assert.equal(f.payload.toString("latin1"), "abc");
    });

    offender("a ping between two fragments is answered and the message still completes", async (c) => {
      await c.write(text('42["message","ab', { fin: false }));
      await c.write(frame(OP.ping, Buffer.from("xyz")));
      await c.write(frame(OP.cont, Buffer.from('c"]')));
      let pong = null, msg = null, parts = [];
      while (pong === null || msg === null) {
        const f = await c.frame();
        if (f.opcode === OP.pong) { pong = f.payload.toString(); continue; }
        assert.notEqual(f.opcode, OP.close, `server closed: ${describe_close(f.payload)}`);
        parts.push(f.payload);
        if (f.fin) msg = Buffer.concat(parts).toString();
      }
      assert.equal(pong, "xyz");
      assert.equal(msg, '42["message-back","abc"]');
    });
  });

  describe("closing handshake and close codes (sections 5.5.1, 7.4)", () => {
    offender("Close 1000: Close reply (1000 or empty), then TCP closed", async (c) => {
      await expect_close_reply(c, close_payload(1000, "bye"), (p) => {
        assert.ok(p.length === 0 || (p.length >= 2 && p.readUInt16BE(0) === 1000),
                  `Close reply ${describe_close(p)}`);
      });
    });

    offender("Close with an empty payload: Close reply (empty or 1000), then TCP closed", async (c) => {
      await expect_close_reply(c, Buffer.alloc(0), (p) => {
        assert.ok(p.length === 0 || (p.length >= 2 && p.readUInt16BE(0) === 1000),
                  `Close reply ${describe_close(p)}`);
      });
    });

    offender("Close with a 1-byte payload: 1002", async (c) => {
      await c.write(frame(OP.close, Buffer.from([0x03])));
      await expect_fail(c, 1002);
    });

    for (const code of [0, 999, 1004, 1005, 1006, 1015, 1016, 2999, 5000, 65535]) {
      offender(`Close with invalid code ${code}: 1002`, async (c) => {
        await c.write(frame(OP.close, close_payload(code)));
        await expect_fail(c, 1002);
      });
    }

    for (const code of [1001, 1003, 1011, 3000, 4999]) {
      offender(`Close with valid code ${code}: a Close reply that is not 1002`, async (c) => {
        await expect_close_reply(c, close_payload(code, "ok"), (p) => {
          assert.ok(p.length === 0 || p.readUInt16BE(0) !== 1002, `Close reply ${describe_close(p)}`);
        });
      });
    }

    offender("Close reason with invalid UTF-8: 1007 (or 1002)", async (c) => {
      await c.write(frame(OP.close, close_payload(1000, Buffer.from([0x61, 0xc3, 0x28]))));
      await expect_fail(c, [1007, 1002]);
    });
  });

  describe("sizes", () => {
    offender("a message declared over maxPayload (1000000) is refused with 1009 before its body is sent", async (c) => {
      const declared = 2000000n;
      await c.write(frame(OP.text, Buffer.alloc(0), { length: declared }).subarray(0, 14));
      await c.write(Buffer.from('42["message","'));  // a few body bytes, nowhere near the limit
      await expect_fail(c, 1009);
    });

    offender("a 100 KB event in 10 fragments written in 1000-byte chunks is echoed intact", async (c) => {
      const big = "x".repeat(100 * 1024);
      const msg = Buffer.from(`42["message","${big}"]`);
      const step = Math.ceil(msg.length / 10);
      const frames = [];
      for (let i = 0; i < 10; i++) {
        frames.push(frame(i === 0 ? OP.text : OP.cont, msg.subarray(i * step, (i + 1) * step), { fin: i === 9 }));
      }
      const wire = Buffer.concat(frames);
      for (let off = 0; off < wire.length; off += 1000) await c.write(wire.subarray(off, off + 1000));
      const back = await c.message(10000);
      assert.equal(back.length, `42["message-back","${big}"]`.length);
      assert.ok(back === `42["message-back","${big}"]`, "the 100 KB event came back altered");
    });
  });
});
