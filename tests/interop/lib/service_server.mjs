// Runs samples/esink_service (path in $ESINK_SERVICE) with a given environment: started on a free
// port and stopped with SIGTERM (exit 0 required), or run to its startup failure.
import { spawn } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { io } from "./deps.mjs";
import { within, DEFAULT_WAIT_MS } from "./util.mjs";

const READY = /^listening on port (\d+)$/m;

/// Sanitizer settings of the test run (suppressions, halt_on_error) reach the service too,
/// although each test gives it an otherwise exact environment.
function sanitizer_env() {
  const out = {};
  for (const k of ["ASAN_OPTIONS", "UBSAN_OPTIONS", "TSAN_OPTIONS", "LSAN_OPTIONS"])
    if (process.env[k]) out[k] = process.env[k];
  return out;
}

export function service_binary() {
  const bin = process.env.ESINK_SERVICE;
  if (!bin) throw new Error("ESINK_SERVICE is not set: point it at the esink_service binary " +
                            "(CTest sets it to $<TARGET_FILE:esink_service>)");
  return bin;
}

/// A fresh directory to run in (the SQLite default writes ./esink.db).
export function scratch_dir() { return mkdtempSync(path.join(tmpdir(), "esink-service-")); }

/// A running esink_service.
export class service_process {
  constructor(child, port) {
    this.child = child;
    this.port = port;
    this.url = `http://127.0.0.1:${port}`;
    this.stderr = "";
  }
  alive() { return this.child.exitCode === null && this.child.signalCode === null; }
  /// SIGTERM; resolves with the exit code (tests require 0), SIGKILL after 10 s.
  async stop() {
    if (!this.alive()) throw new Error(`esink_service died early (exit ${this.child.exitCode}); stderr:\n${this.stderr}`);
    const exited = new Promise((resolve) => this.child.once("exit", (code, signal) => resolve({ code, signal })));
    this.child.kill("SIGTERM");
    const timer = setTimeout(() => this.child.kill("SIGKILL"), 10000);
    const r = await exited;
    clearTimeout(timer);
    return r.code;
  }
}

/// Starts esink_service with exactly `env` (plus PATH) and PORT=0 unless given; resolves once
/// it prints `listening on port N`.
export async function start_service(env, { cwd = scratch_dir(), timeout = 20000 } = {}) {
  const full = { PATH: process.env.PATH, ...sanitizer_env(), PORT: "0", ...env };
  const child = spawn(service_binary(), [], { env: full, cwd, stdio: ["ignore", "pipe", "pipe"] });
  let out = "", err = "";
  child.stderr.on("data", (d) => { err = (err + d).slice(-20000); if (svc) svc.stderr = err; });
  let svc = null;
  const port = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => { child.kill("SIGKILL"); reject(new Error(`esink_service did not listen within ${timeout} ms; stderr: ${err}`)); }, timeout);
    child.stdout.on("data", (d) => {
      out += d;
      const m = READY.exec(out);
      if (m) { clearTimeout(timer); resolve(Number(m[1])); }
    });
    child.once("exit", (code) => { clearTimeout(timer); reject(new Error(`esink_service exited ${code} before listening; stderr: ${err}`)); });
  });
  svc = new service_process(child, port);
  svc.stderr = err;
  return svc;
}

/// Runs esink_service expecting a startup failure; resolves with {code, stderr, stdout}.
export function run_service(env, { cwd = scratch_dir(), timeout = 20000 } = {}) {
  const full = { PATH: process.env.PATH, ...sanitizer_env(), ...env };
  return new Promise((resolve, reject) => {
    const child = spawn(service_binary(), [], { env: full, cwd, stdio: ["ignore", "pipe", "pipe"] });
    let out = "", err = "";
    child.stdout.on("data", (d) => { out += d; });
    child.stderr.on("data", (d) => { err += d; });
    const timer = setTimeout(() => { child.kill("SIGKILL"); reject(new Error(`esink_service still running after ${timeout} ms; stdout: ${out} stderr: ${err}`)); }, timeout);
    child.once("exit", (code) => { clearTimeout(timer); resolve({ code, stderr: err, stdout: out }); });
  });
}

/// Connects with `token`; resolves {socket, connected} on `connected`, or
/// {socket, error, disconnect} when the server sent `error` and disconnected.
export function connect_user(url, token, opts = {}) {
  const socket = io(url, { forceNew: true, reconnection: false, transports: ["websocket"],
                           ...(token === undefined ? {} : { auth: { token } }), ...opts });
  return within(new Promise((resolve, reject) => {
    let error = null;
    socket.once("connected", (connected) => resolve({ socket, connected }));
    socket.on("error", (e) => { error = e; });
    socket.once("disconnect", (reason) => { if (error) resolve({ socket, error, disconnect: reason }); });
    socket.once("connect_error", (e) => reject(new Error(`connect_error: ${e.message}`)));
  }), DEFAULT_WAIT_MS * 2, `connecting with token ${token}`);
}

/// POST /publish with a JSON body (or a raw string); resolves {status, body}.
export async function publish(url, body, { headers = { "Content-Type": "application/json" } } = {}) {
  const res = await fetch(url + "/publish", { method: "POST", headers,
    body: typeof body === "string" ? body : JSON.stringify(body) });
  const text = await res.text();
  let json = null;
  try { json = JSON.parse(text); } catch { /* not JSON */ }
  return { status: res.status, body: json, text };
}
