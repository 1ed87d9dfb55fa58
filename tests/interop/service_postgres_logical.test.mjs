// esink_service end to end on the throwaway PostgreSQL with ESINK_PG_CAPTURE=logical: the same
// scenarios as service_postgres, the changes streamed from a replication slot.
import { run_database_suite } from "./lib/service_scenario.mjs";
import { postgres } from "./lib/service_db.mjs";

run_database_suite("PostgreSQL, logical capture", () => {
  const db = postgres();
  return { ...db, env: { ...db.env, ESINK_PG_CAPTURE: "logical" } };
});
