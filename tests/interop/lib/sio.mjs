// socket.io-client helpers: every client is forceNew (its own Engine.IO session) and does not
// reconnect unless a test asks for it.
import { io } from "./deps.mjs";
import { wait_for, DEFAULT_WAIT_MS } from "./util.mjs";

/// Transport settings under test, as socket.io-client options.
export const TRANSPORTS = {
  "default (polling, then upgrade)": {},
  "websocket only": { transports: ["websocket"] },
  "polling only": { transports: ["polling"] },
};

/// Opens a client and resolves once connected, with the payload of the server's `auth` event.
/// The `auth` listener is registered before connecting, so it cannot be missed.
export async function connect(url, opts = {}, nsp = "/") {
  const socket = io(url + nsp, { forceNew: true, reconnection: false, ...opts });
  const auth = wait_for(socket, "auth");
  auth.catch(() => {});
  try {
    await new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`timed out connecting to ${url}${nsp}`)),
                               DEFAULT_WAIT_MS);
      socket.once("connect", () => { clearTimeout(timer); resolve(); });
      socket.once("connect_error", (e) => {
        clearTimeout(timer);
        reject(new Error(`connect_error on ${nsp}: ${e.message}`));
      });
    });
  } catch (e) {
    socket.close();
    throw e;
  }
  return { socket, auth: (await auth)[0] };
}

/// Emits `event` with `args` and resolves with every argument of the server's ack.
export function emit_with_ack(socket, event, args, ms = DEFAULT_WAIT_MS) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no ack for "${event}" within ${ms} ms`)), ms);
    socket.emit(event, ...args, (...reply) => { clearTimeout(timer); resolve(reply); });
  });
}

/// Sends `message` and resolves with the arguments of the next `message-back`.
export async function echo(socket, args, ms = DEFAULT_WAIT_MS) {
  const back = wait_for(socket, "message-back", ms);
  socket.emit("message", ...args);
  return back;
}
