// esink_service end to end on the throwaway PostgreSQL (CTest fixture `postgres`).
import { run_database_suite } from "./lib/service_scenario.mjs";
import { postgres } from "./lib/service_db.mjs";

run_database_suite("PostgreSQL", postgres);
