// The demo of tools/demo.sh, end to end, so it cannot silently rot: esink_service on its SQLite
// default with samples/esink_service/demo (schema.sql, demo.env, writer.sh, public/, the npm
// socket.io-client), the page opened in headless Debian chromium driven by playwright-core.
// Rows written to the database by other processes must appear on the page of the user they
// belong to, and never on another user's.
import { describe, it, before, after } from "node:test";
import assert from "node:assert/strict";
import { execFileSync, spawn } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import "./lib/deps.mjs";  // fails with the npm command when node_modules is stale
import { start_service, scratch_dir } from "./lib/service_server.mjs";

const { chromium } = await import("playwright-core");

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..");
const demo = path.join(root, "samples", "esink_service", "demo");
const client_dist = path.join(demo, "node_modules", "socket.io-client", "dist");
const CHROMIUM = process.env.ESINK_CHROMIUM || "/usr/bin/chromium";
const WAIT_MS = 15000;

for (const [file, fix] of [[CHROMIUM, "apt-get install chromium (tools/setup.sh)"],
                           [path.join(client_dist, "socket.io.min.js"), "npm ci in samples/esink_service/demo (tools/setup.sh)"]])
  if (!existsSync(file)) throw new Error(`${file} is missing: ${fix}`);

/// demo.env as tools/demo.sh reads it: KEY=VALUE lines, one pair of single quotes removed.
function demo_env() {
  const env = {};
  for (const line of readFileSync(path.join(demo, "demo.env"), "utf8").split("\n")) {
    const m = /^([A-Z_][A-Z0-9_]*)=(.*)$/.exec(line.trim());
    if (!m) continue;
    env[m[1]] = m[2].replace(/^'(.*)'$/, "$1");
  }
  return env;
}

const sql = (db, statements) =>
  execFileSync("sqlite3", ["-batch", "-bail", "-cmd", ".timeout 5000", db, statements], { encoding: "utf8" });

/// The rows shown on a page: [{table, type, row}], newest first per table.
const shown = (page) => page.$$eval("section li", (lis) => lis.map((li) => ({
  table: li.dataset.table, type: li.dataset.type, row: JSON.parse(li.querySelector("pre.row").textContent) })));

/// Waits until the page shows a `type` change of `table` whose row has `field` = `value`.
async function appears(page, table, type, field, value) {
  try {
    await page.waitForFunction(([t, ty, f, v]) => [...document.querySelectorAll(`section li[data-table="${t}"]`)]
      .some((li) => li.dataset.type === ty && JSON.parse(li.querySelector("pre.row").textContent)[f] === v),
      [table, type, field, value], { timeout: WAIT_MS });
  } catch (e) {
    throw new Error(`${table} ${type} with ${field}=${value} did not appear within ${WAIT_MS} ms ` +
                    `on ${page.url()} (status: ${await page.textContent("#status")}): ${e.message}`);
  }
}

describe("the demo page in headless chromium", () => {
  let svc, writer, browser, dir, db;
  const pages = {};
  const page_errors = [];

  before(async () => {
    dir = scratch_dir();
    db = path.join(dir, "demo.db");
    execFileSync("sqlite3", [db], { input: readFileSync(path.join(demo, "schema.sql")) });
    svc = await start_service({ ...demo_env(), ESINK_SQLITE_PATH: db, ESINK_STATIC_DIR: path.join(demo, "public"),
                                ESINK_SOCKETIO_CLIENT_DIR: client_dist }, { cwd: dir });
    // The demo's writer, from another process, much faster than in the demo.
    writer = spawn(path.join(demo, "writer.sh"), [db, "0.05"], { stdio: ["ignore", "ignore", "pipe"] });
    writer.stderr.on("data", (d) => { writer.err = (writer.err || "") + d; });
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      // root in CI: no sandbox; no background traffic to hosts this machine cannot reach.
      args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
             "--disable-component-update", "--disable-sync"],
    });
    for (const user of ["alice", "bob"]) {
      const page = await browser.newPage();
      page.on("pageerror", (e) => page_errors.push(`${user}: ${e.message}`));
      page.on("console", (m) => { if (m.type() === "error") page_errors.push(`${user}: console: ${m.text()}`); });
      const client = page.waitForResponse((r) => r.url().endsWith("/socket.io/socket.io.min.js"));
      await page.goto(`${svc.url}/?user=${user}`);
      assert.equal((await client).status(), 200);
      pages[user] = page;
    }
  });

  after(async () => {
    if (browser) {
      if (pages.alice) await pages.alice.screenshot({ path: path.join(dir, "alice.png"), fullPage: true });
      await browser.close();
    }
    if (writer) writer.kill("SIGTERM");
    if (svc) assert.equal(await svc.stop(), 0);
  });

  it("each page connects with the official client and is authenticated as its user", async () => {
    for (const [user, id] of [["alice", "1"], ["bob", "2"]]) {
      const page = pages[user];
      await page.waitForSelector(`#status[data-state="connected"][data-user-id="${id}"]`, { timeout: WAIT_MS });
      assert.match(await page.textContent("#status"), new RegExp(`^connected as ${user}, user id ${id} `));
      assert.equal(await page.evaluate(() => typeof io === "function" && typeof io.Manager), "function");
      const tables = await page.$$eval("section", (s) => s.map((e) => e.dataset.table));
      assert.deepEqual(tables, ["orders", "messages", "announcements"]);
    }
  });

  it("rows written by another process appear live on their user's page only", async (t) => {
    const tag = `t${process.pid}`;
    const t0 = performance.now();
    sql(db, `INSERT INTO orders (user_id, item, quantity, card_number) VALUES (1, '${tag}-alice', 7, '4111-1111');
             INSERT INTO orders (user_id, item, quantity, card_number) VALUES (2, '${tag}-bob', 8, '4222-2222');
             INSERT INTO messages (sender_id, recipient_id, body) VALUES (2, 3, '${tag}-bob-to-carol');
             INSERT INTO messages (sender_id, recipient_id, body) VALUES (3, 1, '${tag}-carol-to-alice');
             INSERT INTO announcements (title) VALUES ('${tag}-everyone');`);
    await appears(pages.alice, "orders", "insert", "item", `${tag}-alice`);
    t.diagnostic(`sqlite3 insert started to row on the page: ${(performance.now() - t0).toFixed(0)} ms`);
    await appears(pages.alice, "messages", "insert", "body", `${tag}-carol-to-alice`);
    await appears(pages.alice, "announcements", "insert", "title", `${tag}-everyone`);
    await appears(pages.bob, "orders", "insert", "item", `${tag}-bob`);
    await appears(pages.bob, "messages", "insert", "body", `${tag}-bob-to-carol`);
    await appears(pages.bob, "announcements", "insert", "title", `${tag}-everyone`);

    // Changes arrive in commit order: once the later rows are on a page, an earlier row routed
    // to it would be there too.
    const alice = await shown(pages.alice);
    const bob = await shown(pages.bob);
    assert.ok(!alice.some((c) => c.row.item === `${tag}-bob` || c.row.body === `${tag}-bob-to-carol`),
              JSON.stringify(alice));
    assert.ok(!bob.some((c) => c.row.item === `${tag}-alice` || c.row.body === `${tag}-carol-to-alice`),
              JSON.stringify(bob));
    const mine = alice.find((c) => c.row.item === `${tag}-alice`);
    assert.equal(mine.row.user_id, 1);
    assert.equal(mine.row.quantity, 7);
    assert.ok(!("card_number" in mine.row), "FILTERS removes orders.card_number");

    sql(db, `UPDATE orders SET status = 'paid' WHERE item = '${tag}-alice';`);
    await appears(pages.alice, "orders", "update", "status", "paid");
    sql(db, `DELETE FROM orders WHERE item = '${tag}-alice';`);
    await appears(pages.alice, "orders", "delete", "item", `${tag}-alice`);
  });

  it("the writer's changes stream in, each on the pages of the users it names", async () => {
    // Writes land every 50 ms; wait until both pages have shown plenty of them.
    for (const page of [pages.alice, pages.bob])
      await page.waitForFunction(() => document.querySelectorAll("section li").length >= 20, null, { timeout: WAIT_MS });
    for (const [user, id] of [["alice", 1], ["bob", 2]]) {
      const changes = await shown(pages[user]);
      for (const c of changes) {
        assert.ok(["insert", "update", "delete"].includes(c.type), JSON.stringify(c));
        if (c.table === "orders") {
          assert.equal(c.row.user_id, id, `${user} got another user's order: ${JSON.stringify(c)}`);
          assert.ok(!("card_number" in c.row), JSON.stringify(c));
        } else if (c.table === "messages") {
          assert.ok(c.row.sender_id === id || c.row.recipient_id === id,
                    `${user} got another user's message: ${JSON.stringify(c)}`);
        } else {
          assert.equal(c.table, "announcements", JSON.stringify(c));
        }
      }
      assert.ok(changes.some((c) => c.table === "orders" && !/^t\d+-/.test(c.row.item)),
                `no order of the writer reached ${user}: ${JSON.stringify(changes)}`);
    }
    assert.equal(writer.exitCode, null, `the writer stopped: ${writer.err}`);
    // The page keeps a bounded list per table.
    const longest = await pages.alice.$$eval("section ol", (ols) => Math.max(...ols.map((o) => o.children.length)));
    assert.ok(longest <= 50, `${longest} rows in one table`);
  });

  it("switching user reconnects as that user; a wrong token is refused", async () => {
    const page = await browser.newPage();
    await page.goto(`${svc.url}/?token=not-a-token`);
    await page.waitForSelector('#status[data-state="refused"]', { timeout: WAIT_MS });
    assert.match(await page.textContent("#status"), /401/);
    await page.selectOption("#user", "carol-token");
    await page.waitForSelector('#status[data-state="connected"][data-user-id="3"]', { timeout: WAIT_MS });
    assert.match(page.url(), /\?user=carol$/);
    await page.close();
  });

  it("no script errors on the pages", () => {
    assert.deepEqual(page_errors, []);
  });
});
