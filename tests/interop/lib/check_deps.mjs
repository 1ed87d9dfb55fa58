// Whether node_modules holds exactly the versions of package-lock.json (as `npm ci` leaves it).
// Run directly, it exits 0 when up to date and 1 (saying why) otherwise, for the setup step:
//   node tests/interop/lib/check_deps.mjs || (cd tests/interop && npm ci --no-audit --no-fund)
import { existsSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import path from "node:path";

export const interop_root = path.dirname(path.dirname(fileURLToPath(import.meta.url)));

/// null when node_modules matches package-lock.json, else what is wrong.
export function deps_problem() {
  const lock = path.join(interop_root, "package-lock.json");
  const installed = path.join(interop_root, "node_modules", ".package-lock.json");
  if (!existsSync(path.join(interop_root, "node_modules")))
    return "tests/interop/node_modules is missing";
  if (!existsSync(installed))
    return "tests/interop/node_modules was not installed by npm (no .package-lock.json)";
  const want = JSON.parse(readFileSync(lock, "utf8")).packages;
  const have = JSON.parse(readFileSync(installed, "utf8")).packages;
  for (const [name, meta] of Object.entries(want)) {
    if (name === "") continue;
    if (!have[name] || have[name].version !== meta.version)
      return `tests/interop/node_modules is stale: ${name} is ${have[name]?.version ?? "absent"}, ` +
             `package-lock.json wants ${meta.version}`;
  }
  return null;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const problem = deps_problem();
  if (problem) console.error(problem);
  process.exit(problem ? 1 : 0);
}
