// Raw-protocol clients: a WebSocket that queues Engine.IO packets, plain HTTP requests on fresh
// connections, and raw TCP exchanges for malformed HTTP.
import http from "node:http";
import net from "node:net";
import { WebSocket } from "./deps.mjs";
import { DEFAULT_WAIT_MS } from "./util.mjs";

const describe_msg = (m) => (typeof m === "string" ? JSON.stringify(m.slice(0, 200))
                                                    : `<binary ${m.length} bytes>`);

/// A WebSocket whose incoming messages are queued: text as strings, binary as Buffers.
/// Engine.IO pings ("2") are answered with "3" unless `auto_pong` is false, and are skipped by
/// `next()` unless asked for.
export class raw_ws {
  constructor(url, { auto_pong = true } = {}) {
    this.url = url;
    this.queue = [];
    this.waiter = null;
    this.close_info = null;
    this.error = null;
    this.ws = new WebSocket(url, { perMessageDeflate: false });
    this.ws.on("message", (data, is_binary) => {
      const msg = is_binary ? Buffer.from(data) : data.toString();
      if (msg === "2" && auto_pong) this.ws.send("3");
      this.queue.push(msg);
      this.wake();
    });
    this.ws.on("error", (e) => { this.error = e; });
    this.opened = new Promise((resolve, reject) => {
      this.ws.once("open", resolve);
      this.ws.once("unexpected-response", (req, res) => {
        const err = new Error(`WebSocket upgrade to ${url} refused with HTTP ${res.statusCode}`);
        err.status = res.statusCode;
        res.resume();
        req.destroy();
        reject(err);
      });
      this.ws.once("close", () => reject(new Error(`WebSocket ${url} closed before opening: ` +
                                                   `${this.error?.message ?? "no error"}`)));
    });
    this.opened.catch(() => {});
    this.closed = new Promise((resolve) => {
      this.ws.once("close", (code, reason) => {
        this.close_info = { code, reason: reason.toString() };
        this.wake();
        resolve(this.close_info);
      });
    });
  }

  wake() {
    if (this.waiter) { const w = this.waiter; this.waiter = null; w(); }
  }

  /// Next queued message; pings are skipped unless `pings` is true.
  async next({ pings = false, ms = DEFAULT_WAIT_MS } = {}) {
    const deadline = Date.now() + ms;
    for (;;) {
      while (this.queue.length) {
        const msg = this.queue.shift();
        if (msg === "2" && !pings) continue;
        return msg;
      }
      if (this.close_info)
        throw new Error(`connection closed (code ${this.close_info.code}` +
                        `${this.close_info.reason ? ` "${this.close_info.reason}"` : ""}` +
                        `${this.error ? `, client error: ${this.error.message}` : ""}) while waiting for a message`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no message within ${ms} ms on ${this.url}`);
      await new Promise((resolve) => {
        const timer = setTimeout(resolve, left);
        this.waiter = () => { clearTimeout(timer); resolve(); };
      });
    }
  }

  /// The next `count` non-ping messages.
  async take(count, opts) {
    const out = [];
    for (let i = 0; i < count; i++) out.push(await this.next(opts));
    return out;
  }

  send(data) { this.ws.send(data); }

  /// Sends bytes in a text frame without UTF-8 validation (for invalid-UTF-8 tests).
  send_raw_text(buffer) { this.ws.send(buffer, { binary: false }); }

  /// Resolves with {code, reason} when the server closes; fails naming what arrived instead.
  async expect_close(ms = DEFAULT_WAIT_MS) {
    let timer;
    const timeout = new Promise((_, reject) => {
      timer = setTimeout(() => reject(new Error(
        `server did not close ${this.url} within ${ms} ms; queued: ` +
        `[${this.queue.filter((m) => m !== "2").map(describe_msg).join(", ")}]`)), ms);
    });
    try { return await Promise.race([this.closed, timeout]); } finally { clearTimeout(timer); }
  }

  close() {
    if (this.ws.readyState === WebSocket.CONNECTING) this.ws.terminate();
    else this.ws.close();
  }
}

/// Opens an Engine.IO WebSocket session and returns it with the parsed handshake.
export async function open_ws(base_ws_url, path, opts = {}, query = "") {
  const ws = new raw_ws(`${base_ws_url}${path}?EIO=4&transport=websocket${query}`, opts);
  await ws.opened;
  const open = await ws.next();
  if (typeof open !== "string" || open[0] !== "0")
    throw new Error(`expected an Engine.IO open packet, got ${describe_msg(open)}`);
  return { ws, handshake: JSON.parse(open.slice(1)) };
}

/// One HTTP request on a fresh connection: {status, headers, body (string)}. Fails when no
/// complete response arrives within `ms` (a parked long-polling GET waits up to pingInterval).
export function http_request(url, { method = "GET", headers = {}, body, ms = 30000 } = {}) {
  return new Promise((resolve, reject) => {
    const h = { ...headers };
    if (body !== undefined && !Object.keys(h).some((k) => k.toLowerCase() === "content-type"))
      h["Content-Type"] = "text/plain;charset=UTF-8";
    const req = http.request(url, { method, headers: h, agent: false }, (res) => {
      const chunks = [];
      res.on("data", (c) => chunks.push(c));
      res.on("end", () => resolve({ status: res.statusCode, headers: res.headers,
                                    body: Buffer.concat(chunks).toString() }));
      res.on("error", reject);
    });
    req.setTimeout(ms, () => {
      req.destroy(new Error(`${method} ${url}: no complete response within ${ms} ms`));
    });
    req.on("error", reject);
    req.end(body);
  });
}

/// Parses a JSON error body, failing with the body text if it is not JSON.
export function json_of(res) {
  try { return JSON.parse(res.body); } catch {
    throw new Error(`expected a JSON body, got HTTP ${res.status} ${JSON.stringify(res.body)}`);
  }
}

/// An Engine.IO long-polling session at `path` of `base` (http://host:port).
export class polling_session {
  constructor(base, path, sid, handshake) {
    this.base = base;
    this.path = path;
    this.sid = sid;
    this.handshake = handshake;
  }

  static async open(base, path) {
    const res = await http_request(`${base}${path}?EIO=4&transport=polling`);
    if (res.status !== 200 || res.body[0] !== "0")
      throw new Error(`polling handshake failed: HTTP ${res.status} ${JSON.stringify(res.body)}`);
    const handshake = JSON.parse(res.body.slice(1));
    return new polling_session(base, path, handshake.sid, handshake);
  }

  url(extra = "") {
    return `${this.base}${this.path}?EIO=4&transport=polling&sid=${encodeURIComponent(this.sid)}${extra}`;
  }

  get(extra, ms) { return http_request(this.url(extra), { ms }); }

  post(body, headers) { return http_request(this.url(), { method: "POST", body, headers }); }
}

/// Writes `chunks` on a raw TCP connection (optionally half-closing), then collects what the
/// server sends until it closes the connection. Fails if the server keeps it open past `ms`.
export function tcp_exchange(port, chunks, { end = true, ms = DEFAULT_WAIT_MS } = {}) {
  return new Promise((resolve, reject) => {
    const sock = net.connect(port, "127.0.0.1");
    const got = [];
    let error = null;
    const timer = setTimeout(() => {
      sock.destroy();
      reject(new Error(`server kept the connection open for ${ms} ms; it sent ` +
                       JSON.stringify(Buffer.concat(got).toString().slice(0, 200))));
    }, ms);
    sock.on("data", (d) => got.push(d));
    sock.on("error", (e) => { error = e; });
    sock.on("close", () => {
      clearTimeout(timer);
      resolve({ data: Buffer.concat(got).toString("latin1"), error });
    });
    sock.on("connect", async () => {
      for (const c of chunks) {
        if (sock.destroyed) break;
        await new Promise((r) => sock.write(c, r));
      }
      if (end && !sock.destroyed) sock.end();
    });
  });
}

/// Status code of the first HTTP response in raw bytes, or null when there is none.
export function status_of(raw) {
  const m = /^HTTP\/1\.[01] (\d{3})/.exec(raw);
  return m ? Number(m[1]) : null;
}

/// A WebSocket session at /socket.io/ connected to namespace `/`, past the CONNECT reply and `auth`.
export async function open_sio(base_ws_url) {
  const { ws } = await open_ws(base_ws_url, "/socket.io/");
  ws.send("40");
  const reply = await ws.next();
  if (!reply.startsWith("40{")) throw new Error(`expected a CONNECT reply, got ${describe_msg(reply)}`);
  const auth = await ws.next();
  if (auth !== '42["auth",{}]') throw new Error(`expected the auth event, got ${describe_msg(auth)}`);
  return ws;
}
