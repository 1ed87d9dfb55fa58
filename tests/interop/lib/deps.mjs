// Loads the npm dependencies after checking that `npm ci` installed exactly the locked versions,
// so a missing or stale node_modules fails the test file with the command that fixes it.
import { deps_problem, interop_root } from "./check_deps.mjs";

const problem = deps_problem();
if (problem) throw new Error(`${problem}; run \`npm ci --no-audit --no-fund\` in ${interop_root}`);

const client = await import("socket.io-client");
const ws = await import("ws");

export const io = client.io;
export const Manager = client.Manager;
export const WebSocket = ws.WebSocket;
