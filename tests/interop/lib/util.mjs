// Event helpers shared by the tests: every wait is bounded and says what it waited for.
export const DEFAULT_WAIT_MS = 5000;

/// Resolves with the listener arguments of the next `event` on an emitter (socket.io-client Socket,
/// Manager, engine Socket), rejects after `ms` naming the event.
export function wait_for(emitter, event, ms = DEFAULT_WAIT_MS) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      emitter.off(event, handler);
      reject(new Error(`timed out after ${ms} ms waiting for "${event}"`));
    }, ms);
    const handler = (...args) => {
      clearTimeout(timer);
      emitter.off(event, handler);
      resolve(args);
    };
    emitter.on(event, handler);
  });
}

/// Rejects after `ms` with `what`; resolves with the promise's value otherwise.
export function within(promise, ms, what) {
  let timer;
  return Promise.race([
    promise,
    new Promise((_, reject) => {
      timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms: ${what}`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

/// Only for protocol timing (heartbeat timeouts): never to wait for an event.
export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/// Bytes of a binary argument as received by socket.io-client (Buffer in Node, ArrayBuffer, typed array).
export function bytes_of(value) {
  if (Buffer.isBuffer(value)) return value;
  if (value instanceof ArrayBuffer) return Buffer.from(new Uint8Array(value));
  if (ArrayBuffer.isView(value)) return Buffer.from(value.buffer, value.byteOffset, value.byteLength);
  throw new Error(`expected binary data, got ${typeof value}: ${JSON.stringify(value)?.slice(0, 80)}`);
}

/// Replaces every binary leaf by a Buffer so deepStrictEqual compares bytes, not container types.
export function normalise_binary(value) {
  if (Buffer.isBuffer(value) || value instanceof ArrayBuffer || ArrayBuffer.isView(value))
    return bytes_of(value);
  if (Array.isArray(value)) return value.map(normalise_binary);
  if (value && typeof value === "object")
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, normalise_binary(v)]));
  return value;
}
