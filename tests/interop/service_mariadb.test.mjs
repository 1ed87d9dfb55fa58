// esink_service end to end on the throwaway MariaDB (CTest fixture `mariadb`), plus the seed's
// docker-compose environment verbatim.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { run_database_suite } from "./lib/service_scenario.mjs";
import { mariadb } from "./lib/service_db.mjs";
import { start_service, connect_user } from "./lib/service_server.mjs";
import { self_signed_cert, https_get } from "./lib/service_tls.mjs";

run_database_suite("MariaDB", mariadb);

describe("the seed's docker-compose environment", () => {
  it("starts as written, single-quoted values included", async () => {
    const db = mariadb();
    await db.sql(`CREATE TABLE IF NOT EXISTS users (id INT PRIMARY KEY, name VARCHAR(50));
      CREATE TABLE IF NOT EXISTS transactions (id INT PRIMARY KEY);
      CREATE TABLE IF NOT EXISTS bankRecords (id INT PRIMARY KEY);
      CREATE TABLE IF NOT EXISTS table_name_4 (id INT PRIMARY KEY);`);
    // As in the seed's README; ${...} values come from the deployment (here: the fixture).
    // USE_SSL=true serves TLS only, so the deployment also provides its certificate.
    const tls = self_signed_cert();
    const svc = await start_service({
      TLS_CERT_FILE: tls.cert,
      TLS_KEY_FILE: tls.key,
      NODE_ENV: "production",
      USE_SSL: "true",
      PORT: "0",
      ALLOW_REPUBLISHING: "false",
      DEFAULT_SOURCE: "'api'",
      MYSQL_TABLE_TARGET: "'esink_pubsub_compose'",
      TABLE_NAMES: "'users,transactions,bankRecords,table_name_4'",
      TABLE_AUTH_COLUMN_ROUTING: `{"users": "id", "transactions": "*", "bankRecords": "id", "table_name_4": "id"}`,
      SECURITY_TOKEN: "compose-secret",
      ...db.env,
      ESINK_CONSUMER: "compose",
    });
    try {
      // Production refuses TEST; the service is up and answers.
      const url = `https://localhost:${svc.port}`;
      const r = await connect_user(url, "TEST", { ca: tls.ca });
      assert.deepEqual(r.error, { code: 401, message: "Unauthorized" });
      r.socket.close();
      assert.deepEqual(await https_get(url + "/ping", tls.ca), { status: 200, body: "pong" });
    } finally {
      assert.equal(await svc.stop(), 0);
    }
  });
});
