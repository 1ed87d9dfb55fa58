// The end-to-end suite of esink_service against one real database (PostgreSQL or MariaDB): 200
// clients as 100 users, random row owners, exact per-user delivery (counted), array routing,
// "*", filters, /publish, auth table changes. Each database's test file calls run_database_suite.
import { describe, it, before, after } from "node:test";
import assert from "node:assert/strict";
import { start_service, connect_user, publish } from "./service_server.mjs";
import { within } from "./util.mjs";

const USERS = 100;
const CLIENTS_PER_USER = 2;
const ITEMS = 600;
const WAIT_MS = 30000;

function routing_json(t) {
  // Comments, a trailing comma and a single-quoted value, as the seed's README writes it.
  return `{
    // each user sees their own row
    "${t.users}": "id",
    "${t.items}": '${"owner_id"}',
    // both ends of a message
    "${t.msgs}": ["sender_id", "recipient_id",],
    "${t.news}": "*",
  }`;
}

/// A client that records every table event and every `changes` event it receives.
function recorder(user, socket) {
  const c = { user, socket, by_table: new Map(), changes: [], waiters: [] };
  socket.onAny((event, payload) => {
    if (event === "changes") c.changes.push(payload);
    else if (event !== "connected" && event !== "error") {
      if (!c.by_table.has(event)) c.by_table.set(event, []);
      c.by_table.get(event).push(payload);
    }
    c.waiters = c.waiters.filter((w) => !w());
  });
  c.got = (table) => c.by_table.get(table) ?? [];
  c.wait = (pred, what) => within(new Promise((resolve) => {
    const check = () => { if (pred()) { resolve(); return true; } return false; };
    if (!check()) c.waiters.push(check);
  }), WAIT_MS, `user ${user}: ${what}`);
  return c;
}

export function run_database_suite(name, make_db) {
  describe(`esink_service on ${name}`, () => {
    const db = make_db();
    const s = `${Date.now().toString(36)}${Math.floor(Math.random() * 1e6).toString(36)}`;
    const t = { users: `u_${s}`, items: `item_${s}`, msgs: `msg_${s}`, news: `news_${s}`, audit: `audit_${s}` };
    let svc;
    const clients = [];
    const token = (i) => `tok-${s}-${i}`;

    before(async () => {
      const ids = Array.from({ length: USERS }, (_, k) => k + 1);
      await db.sql(`
        CREATE TABLE ${t.users} (id INT PRIMARY KEY, token ${db.text}, password ${db.text}, name ${db.text});
        CREATE TABLE ${t.items} (id INT PRIMARY KEY, owner_id INT, note ${db.text}, secret ${db.text});
        CREATE TABLE ${t.msgs} (id INT PRIMARY KEY, sender_id INT, recipient_id ${db.text}, body ${db.text});
        CREATE TABLE ${t.news} (id INT PRIMARY KEY, headline ${db.text});
        CREATE TABLE ${t.audit} (id INT PRIMARY KEY, what ${db.text});
        INSERT INTO ${t.users} (id, token, password, name) VALUES
          ${ids.map((i) => `(${i}, '${token(i)}', 'pw-${i}', 'user ${i}')`).join(",\n")};
      `);
      svc = await start_service({
        ...db.env,
        TABLE_NAMES: `${t.users},${t.items},${t.msgs},${t.news},${t.audit}`,
        AUTH_TABLE: t.users,
        AUTH_COLUMN: "token",
        TABLE_AUTH_COLUMN_ROUTING: routing_json(t),
        FILTERS: `${t.users}.password,${t.items}.secret`,
        SECURITY_TOKEN: "sekrit",
        ESINK_AUTH_CACHE_TTL_MS: "300",
        ESINK_CONSUMER: `svc_${s}`,
        ESINK_MYSQL_POLL_MS: "50",
      });
      for (let first = 1; first <= USERS; first += 25) {
        const batch = [];
        for (let i = first; i < first + 25; i++)
          for (let k = 0; k < CLIENTS_PER_USER; k++)
            batch.push(connect_user(svc.url, token(i)).then(({ socket, connected, error }) => {
              assert.ok(connected, `user ${i} refused: ${JSON.stringify(error)}`);
              assert.equal(connected.userId, i);
              assert.equal(connected.code, 200);
              assert.equal(typeof connected.sessionId, "string");
              clients.push(recorder(i, socket));
            }));
        await Promise.all(batch);
      }
    });

    after(async () => {
      for (const c of clients) c.socket.close();
      if (svc) assert.equal(await svc.stop(), 0, "esink_service must exit 0 on SIGTERM");
      await db.sql(Object.values(t).map((x) => `DROP TABLE IF EXISTS ${x};`).join("\n")).catch(() => {});
    });

    it("warns at startup about the watched table without a routing rule", () => {
      assert.match(svc.stderr, new RegExp(`level=warn msg="configuration warning" detail=".*no rule for table \\\\"${t.audit}\\\\"`));
    });

    it("delivers every row to exactly the clients of its owner (200 clients, 100 users)", async () => {
      // Owners 1..130: rows of 101..130 belong to nobody connected.
      const owner = Array.from({ length: ITEMS }, () => 1 + Math.floor(Math.random() * 130));
      const rows = owner.map((o, k) => `(${k + 1}, ${o}, 'note ${k + 1}', 'secret ${k + 1}')`);
      for (let k = 0; k < rows.length; k += 200)
        await db.sql(`INSERT INTO ${t.items} (id, owner_id, note, secret) VALUES ${rows.slice(k, k + 200).join(",")};`);
      await db.sql(`INSERT INTO ${t.audit} (id, what) VALUES (1, 'nobody sees this');`);
      // Changes arrive in commit order: once every client has the sentinel, nothing else is coming.
      await db.sql(`INSERT INTO ${t.news} (id, headline) VALUES (1, 'sentinel');`);
      await Promise.all(clients.map((c) => c.wait(() => c.got(t.news).length >= 1, "waiting for the sentinel")));

      let delivered = 0, misdelivered = 0, lost = 0;
      for (const c of clients) {
        const want = owner.map((o, k) => (o === c.user ? k + 1 : 0)).filter(Boolean).sort((a, b) => a - b);
        const got = c.got(t.items);
        for (const p of got) {
          if (p.data.owner_id !== c.user || p.userId !== c.user) misdelivered++;
          assert.equal(p.type, "insert");
          assert.equal(p.table, t.items);
          assert.equal(p.source, "database");
          assert.equal(p.version, 1);
          assert.equal(typeof p.id, "string");
          assert.equal(typeof p.timestamp, "number");
          assert.ok(!("secret" in p.data), "FILTERS must remove items.secret");
        }
        const ids = got.map((p) => p.data.id).sort((a, b) => a - b);
        lost += want.filter((x) => !ids.includes(x)).length;
        assert.deepEqual(ids, want, `user ${c.user}: rows received`);
        delivered += ids.length;
        // The generic event carries the same payloads.
        const generic = c.changes.filter((p) => p.table === t.items);
        assert.deepEqual(generic.map((p) => p.id).sort(), got.map((p) => p.id).sort());
        assert.equal(c.got(t.audit).length, 0, "a table without a rule goes to nobody");
        assert.equal(c.got(t.news).length, 1);
        assert.equal(c.got(t.news)[0].userId, "*");
      }
      assert.equal(misdelivered, 0);
      assert.equal(lost, 0);
      const expected = owner.filter((o) => o <= USERS).length * CLIENTS_PER_USER;
      assert.equal(delivered, expected);
      // One event id per row, the same for the clients of one user.
      const ids_of_user1 = clients.filter((c) => c.user === 1).map((c) => c.got(t.items).map((p) => p.id).sort());
      assert.deepEqual(ids_of_user1[0], ids_of_user1[1]);
    });

    it("routes array rules to every matching user once, comparing ids by value", async () => {
      // recipient_id is a text column: "7" matches user 7.
      await db.sql(`INSERT INTO ${t.msgs} (id, sender_id, recipient_id, body) VALUES
        (1, 3, '7', 'three to seven'), (2, 9, '9', 'note to self'), (3, 11, NULL, 'nobody else');
        INSERT INTO ${t.news} (id, headline) VALUES (2, 'sentinel 2');`);
      await Promise.all(clients.map((c) => c.wait(() => c.got(t.news).length >= 2, "waiting for sentinel 2")));
      for (const c of clients) {
        const ids = c.got(t.msgs).map((p) => p.data.id).sort();
        const want = c.user === 3 || c.user === 7 ? [1] : c.user === 9 ? [2] : c.user === 11 ? [3] : [];
        assert.deepEqual(ids, want, `user ${c.user}: messages`);
        for (const p of c.got(t.msgs)) assert.equal(p.userId, c.user);
      }
    });

    it("filters the auth table's password from user row changes", async () => {
      await db.sql(`UPDATE ${t.users} SET name = 'renamed' WHERE id = 5;
                    INSERT INTO ${t.news} (id, headline) VALUES (3, 'sentinel 3');`);
      await Promise.all(clients.map((c) => c.wait(() => c.got(t.news).length >= 3, "waiting for sentinel 3")));
      for (const c of clients) {
        const got = c.got(t.users);
        if (c.user !== 5) { assert.equal(got.length, 0, `user ${c.user} saw user 5's row`); continue; }
        assert.equal(got.length, 1);
        assert.equal(got[0].type, "update");
        assert.equal(got[0].data.name, "renamed");
        assert.ok(!("password" in got[0].data));
      }
    });

    it("publishes to one user with FILTERS applied and to everyone with \"*\"", async () => {
      const r = await publish(svc.url, { securityToken: "sekrit", userId: "42", table: t.items, type: "update",
                                         data: { id: 999, owner_id: 42, secret: "no", note: "yes" } });
      assert.equal(r.status, 200, r.text);
      const all = await publish(svc.url, { securityToken: "sekrit", userId: "*", table: t.news, type: "insert",
                                           data: { id: 4, headline: "published" }, source: "cms", version: 3 });
      assert.equal(all.status, 200, all.text);
      await Promise.all(clients.map((c) => c.wait(() => c.got(t.news).length >= 4, "waiting for the published news")));
      for (const c of clients) {
        const mine = c.got(t.items).filter((p) => p.data.id === 999);
        assert.equal(mine.length, c.user === 42 ? 1 : 0, `user ${c.user}: published item`);
        if (mine.length) {
          assert.equal(mine[0].source, "API");
          assert.equal(mine[0].userId, 42);
          assert.ok(!("secret" in mine[0].data));
        }
        const news = c.got(t.news)[3];
        assert.equal(news.source, "cms");
        assert.equal(news.version, 3);
      }
    });

    it("refuses unknown tokens with error 401 and a disconnect", async () => {
      const r = await connect_user(svc.url, `nope-${s}`);
      assert.deepEqual(r.error, { code: 401, message: "Unauthorized" });
      assert.equal(r.disconnect, "io server disconnect");
      r.socket.close();
      // Tokens match byte for byte (MariaDB's default collation ignores case and trailing spaces).
      for (const near of [token(1).toUpperCase(), `${token(1)} `]) {
        const n = await connect_user(svc.url, near);
        assert.deepEqual(n.error, { code: 401, message: "Unauthorized" }, JSON.stringify(near));
        n.socket.close();
      }
    });

    it("refuses a token deleted from the auth table once the cache TTL has passed", async () => {
      const ok = await connect_user(svc.url, token(100));
      assert.ok(ok.connected);
      ok.socket.close();
      await db.sql(`DELETE FROM ${t.users} WHERE id = 100;`);
      const deadline = Date.now() + 10000;
      let refused = null;
      while (!refused && Date.now() < deadline) {
        const r = await connect_user(svc.url, token(100));
        r.socket.close();
        if (r.error) refused = r.error;
      }
      assert.deepEqual(refused, { code: 401, message: "Unauthorized" });
    });
  });
}
