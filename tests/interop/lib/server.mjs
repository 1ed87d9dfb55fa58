// Starts samples/socketio_echo (path in $ESINK_ECHO) on a free port and stops it again.
import { spawn } from "node:child_process";
import { once } from "node:events";

const READY = /^listening on port (\d+)$/;
const START_TIMEOUT_MS = 10000;

function echo_binary() {
  const bin = process.env.ESINK_ECHO;
  if (!bin) throw new Error("ESINK_ECHO is not set: point it at the socketio_echo binary " +
                            "(CTest sets it to $<TARGET_FILE:socketio_echo>)");
  return bin;
}

/// A running echo server: `url` for socket.io-client and fetch, `ws_url` for raw WebSockets.
export class echo_server {
  constructor(child, port, args) {
    this.child = child;
    this.port = port;
    this.args = args;
    this.url = `http://127.0.0.1:${port}`;
    this.ws_url = `ws://127.0.0.1:${port}`;
    this.stopping = false;
    this.stderr = "";
    child.stderr.on("data", (d) => { this.stderr = (this.stderr + d).slice(-8000); });
  }

  /// Throws if the process died while a test still needed it (a crash the tests must report).
  assert_alive() {
    const { exitCode, signalCode } = this.child;
    if (exitCode !== null || signalCode !== null)
      throw new Error(`socketio_echo ${this.args.join(" ")} died (exit ${exitCode}, signal ` +
                      `${signalCode}); stderr tail:\n${this.stderr}`);
  }

  /// SIGTERM, then SIGKILL after 5 s; fails if the server had died before being asked to stop.
  async stop() {
    this.assert_alive();
    this.stopping = true;
    const exited = once(this.child, "exit");
    this.child.kill("SIGTERM");
    const timer = setTimeout(() => this.child.kill("SIGKILL"), 5000);
    await exited;
    clearTimeout(timer);
  }
}

/// Starts `socketio_echo --port <port> ...args` and resolves once it printed `listening on port N`.
export async function start_server(args = [], { port = 0 } = {}) {
  const full = ["--port", String(port), ...args];
  const child = spawn(echo_binary(), full, { stdio: ["ignore", "pipe", "pipe"] });
  let stderr = "";
  child.stderr.on("data", (d) => { stderr = (stderr + d).slice(-8000); });
  const bound = await new Promise((resolve, reject) => {
    let out = "";
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`socketio_echo ${full.join(" ")} printed no "listening on port N" ` +
                       `within ${START_TIMEOUT_MS} ms; stdout: ${JSON.stringify(out)}; stderr: ${stderr}`));
    }, START_TIMEOUT_MS);
    const on_data = (d) => {
      out += d;
      const lines = out.split("\n");
      for (const line of lines.slice(0, -1)) {
        const m = READY.exec(line.trim());
        if (m) {
          clearTimeout(timer);
          child.stdout.off("data", on_data);
          child.stdout.resume();
          child.off("exit", on_exit);
          resolve(Number(m[1]));
          return;
        }
      }
    };
    const on_exit = (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`socketio_echo ${full.join(" ")} exited (code ${code}, signal ${signal}) ` +
                       `before listening; stderr: ${stderr}`));
    };
    child.on("error", (e) => { clearTimeout(timer); reject(e); });
    child.on("exit", on_exit);
    child.stdout.on("data", on_data);
  });
  if (port !== 0 && bound !== port)
    throw new Error(`socketio_echo was asked for port ${port} but printed ${bound}`);
  const server = new echo_server(child, bound, full);
  server.stderr = stderr;
  return server;
}
