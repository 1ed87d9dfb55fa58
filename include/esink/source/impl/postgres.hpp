#ifndef ESINK_SOURCE_IMPL_POSTGRES_HPP
#define ESINK_SOURCE_IMPL_POSTGRES_HPP

#include <esink/source/detail/pgoutput.hpp>
#include <esink/source/detail/quote.hpp>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <stdexcept>
#include <unordered_set>

namespace esink {

namespace detail {

struct pg_result_deleter {
  void operator()(PGresult* r) const noexcept { PQclear(r); }
};
using pg_result = std::unique_ptr<PGresult, pg_result_deleter>;

/// PQexecParams with text parameters (nullptr = SQL NULL) and text results.
inline pg_result pg_exec(PGconn* c, const char* sql, std::initializer_list<const char*> params = {}) {
  std::vector<const char*> v(params);
  return pg_result(PQexecParams(c, sql, static_cast<int>(v.size()), nullptr, v.data(), nullptr,
                                nullptr, 0));
}

inline bool pg_ok(const pg_result& r) noexcept {
  if (!r) return false;
  auto s = PQresultStatus(r.get());
  return s == PGRES_COMMAND_OK || s == PGRES_TUPLES_OK;
}

/// A string literal quoted for this connection (handles standard_conforming_strings).
inline std::string pg_literal(PGconn* c, const std::string& s) {
  char* q = PQescapeLiteral(c, s.data(), s.size());
  if (!q) return detail::quote_literal(s);
  std::string out(q);
  PQfreemem(q);
  return out;
}

inline std::string hex_of(std::string_view s) {
  static constexpr char digits[] = "0123456789abcdef";
  std::string out;
  for (unsigned char c : s) {
    out += digits[c >> 4];
    out += digits[c & 15];
  }
  return out;
}

}  // namespace detail

inline postgres_options postgres_options::from_env() {
  postgres_options o;
  if (const char* v = std::getenv("POSTGRES_DATABASE_URL")) o.url = v;
  if (const char* v = std::getenv("TABLE_NAMES")) o.tables = v;
  if (const char* v = std::getenv("ESINK_CONSUMER"); v && *v) o.consumer = v;
  if (const char* v = std::getenv("ESINK_PG_CAPTURE"); v && *v) o.capture = v;
  return o;
}

inline postgres_source::postgres_source(postgres_options opt)
    : opt_(std::move(opt)), backoff_(opt_.backoff_initial, opt_.backoff_max) {
  std::error_code ec;
  names_ = parse_table_list(opt_.tables, ec);
  if (ec) throw std::invalid_argument("TABLE_NAMES: expected a comma-separated list of [schema.]table, got '" + opt_.tables + "'");
  if (opt_.schema.empty() || detail::has_nul(opt_.schema) || opt_.schema.find('$') != std::string::npos)
    throw std::invalid_argument("postgres_options::schema: must be non-empty without NUL or '$'");
  if (opt_.consumer.empty() || detail::has_nul(opt_.consumer))
    throw std::invalid_argument("postgres_options::consumer: must be non-empty without NUL");
  if (opt_.batch_size == 0) throw std::invalid_argument("postgres_options::batch_size: must be positive");
  if (opt_.capture != "table" && opt_.capture != "logical")
    throw std::invalid_argument("ESINK_PG_CAPTURE: expected 'table' or 'logical', got '" + opt_.capture + "'");
  logical_ = opt_.capture == "logical";
  if (logical_) {
    // Slot names allow [a-z0-9_] only, 63 at most: a readable part, then a hash of the exact
    // schema and consumer so that names differing only in other characters never collide.
    auto readable = [](const std::string& v, std::size_t n) {
      std::string out;
      for (char c : v) {
        if (out.size() == n) break;
        out += (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ? c : (c >= 'A' && c <= 'Z') ? char(c - 'A' + 'a') : '_';
      }
      return out;
    };
    std::uint64_t h = 14695981039346656037ull;  // FNV-1a
    for (char c : opt_.schema + '\0' + opt_.consumer) h = (h ^ static_cast<unsigned char>(c)) * 1099511628211ull;
    char hash[17];
    std::snprintf(hash, sizeof hash, "%016llx", static_cast<unsigned long long>(h));
    slot_ = "esink_" + readable(opt_.schema, 20) + "_" + readable(opt_.consumer, 20) + "_" + std::string(hash, 12);
    publication_ = opt_.schema + "_messages";
    prefix_ = "esink:" + opt_.schema;
  }
  for (auto& n : names_) {
    if (detail::has_nul(n.schema) || detail::has_nul(n.name))
      throw std::invalid_argument("TABLE_NAMES: table names must not contain NUL");
    tables_[n.qualified()] = table_state{n.qualified(), detail::quote_qualified(n.schema, n.name), {}};
  }
  schema_q_ = detail::quote_identifier(opt_.schema);
  chan_q_ = detail::quote_identifier(opt_.schema);
}

inline postgres_source::~postgres_source() { stop(); }

inline void postgres_source::acknowledge(std::uint64_t id) noexcept {
  std::uint64_t cur = acked_.load();
  while (cur < id && !acked_.compare_exchange_weak(cur, id)) {}
}

inline void postgres_source::stop() {
  stopping_ = true;
  wake_.notify();
  if (thread_.joinable()) thread_.join();
  disconnect();
}

inline void postgres_source::disconnect() noexcept {
  end_stream();
  if (conn_) PQfinish(conn_);
  conn_ = nullptr;
}

inline std::error_code postgres_source::fail(error e, std::string msg) {
  while (!msg.empty() && (msg.back() == '\n' || msg.back() == ' ')) msg.pop_back();
  message_ = std::move(msg);
  return make_error_code(e);
}

inline std::string postgres_source::sql_error(const char* what) const {
  return std::string("postgres_source: ") + what + ": " + (conn_ ? PQerrorMessage(conn_) : "no connection");
}

inline std::error_code postgres_source::connect() {
  disconnect();
  conn_ = PQconnectStart(opt_.url.c_str());
  if (!conn_ || PQstatus(conn_) == CONNECTION_BAD)
    return fail(error::source_unavailable, sql_error("connect"));
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  PostgresPollingStatusType st = PGRES_POLLING_WRITING;
  while (st != PGRES_POLLING_OK) {
    if (st == PGRES_POLLING_FAILED) return fail(error::source_unavailable, sql_error("connect"));
    if (stopping_) return fail(error::source_unavailable, "postgres_source: stopped while connecting");
    if (std::chrono::steady_clock::now() > deadline)
      return fail(error::source_unavailable, "postgres_source: connect timed out");
    wake_.wait(PQsocket(conn_), std::chrono::milliseconds(200),
               st == PGRES_POLLING_READING ? POLLIN : POLLOUT);
    st = PQconnectPoll(conn_);
  }
  PQsetClientEncoding(conn_, "UTF8");
  // The idempotent install's "already exists, skipping" notices are expected: keep stderr quiet.
  PQsetNoticeProcessor(conn_, [](void*, const char*) {}, nullptr);
  return {};
}

inline std::error_code postgres_source::install() {
  using detail::pg_exec;
  using detail::pg_ok;
  const std::string& S = schema_q_;
  const std::string lit_schema = detail::pg_literal(conn_, opt_.schema);
  // Statement triggers with transition tables: one function call per statement, not per row.
  // The NOTIFY carries only the transaction id: never near the 8000-byte limit. The event table
  // has a single index, (xid, id): every further index would be paid by the application's writes.
  // Positions live in `txns`, one narrow row per committed transaction, instead of being written
  // back into every event row.
  const std::string ddl =
      "CREATE SCHEMA IF NOT EXISTS " + S + ";"
      "CREATE TABLE IF NOT EXISTS " + S + ".events ("
      " id bigserial NOT NULL,"
      " xid xid8 NOT NULL DEFAULT pg_catalog.pg_current_xact_id(),"
      " tbl text NOT NULL, op text NOT NULL, row json NOT NULL,"
      " at timestamptz NOT NULL DEFAULT pg_catalog.clock_timestamp());"
      "CREATE INDEX IF NOT EXISTS events_xid ON " + S + ".events (xid, id);"
      // The events of transaction `xid`, in id order, hold positions last - n + 1 .. last.
      "CREATE TABLE IF NOT EXISTS " + S + ".txns ("
      " last bigint PRIMARY KEY, xid xid8 NOT NULL UNIQUE, n bigint NOT NULL,"
      " at timestamptz NOT NULL DEFAULT pg_catalog.now());"
      // horizon: every committed transaction with a smaller xid is in txns (or was pruned).
      "CREATE TABLE IF NOT EXISTS " + S + ".state ("
      " singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton), next_pos bigint NOT NULL,"
      " horizon xid8 NOT NULL DEFAULT '0');"
      "INSERT INTO " + S + ".state (next_pos) VALUES (0) ON CONFLICT DO NOTHING;"
      "CREATE TABLE IF NOT EXISTS " + S + ".consumers ("
      " name text PRIMARY KEY, pos bigint NOT NULL, updated_at timestamptz NOT NULL DEFAULT now());"
      "CREATE OR REPLACE FUNCTION " + S + ".capture() RETURNS trigger LANGUAGE plpgsql AS $esink$\n"
      "BEGIN\n"
      "  IF TG_OP = 'DELETE' THEN\n"
      "    INSERT INTO " + S + ".events (tbl, op, row)\n"
      "      SELECT TG_ARGV[0], 'delete', pg_catalog.to_json(o) FROM old_rows o;\n"
      "  ELSIF TG_OP = 'UPDATE' THEN\n"
      "    INSERT INTO " + S + ".events (tbl, op, row)\n"
      "      SELECT TG_ARGV[0], 'update', pg_catalog.to_json(n) FROM new_rows n;\n"
      "  ELSE\n"
      "    INSERT INTO " + S + ".events (tbl, op, row)\n"
      "      SELECT TG_ARGV[0], 'insert', pg_catalog.to_json(n) FROM new_rows n;\n"
      "  END IF;\n"
      "  IF FOUND THEN\n"
      "    PERFORM pg_catalog.pg_notify(TG_ARGV[1], pg_catalog.pg_current_xact_id()::text);\n"
      "  END IF;\n"
      "  RETURN NULL;\n"
      "END $esink$;"
      // One round trip per batch. First records committed transactions in txns, under a lock so
      // that esinks sharing the schema agree on positions. Live (xids): in NOTIFY order, which is
      // commit order. Catch-up (right after LISTEN): every committed transaction not yet in txns
      // from the horizon on, by commit timestamp when tracked, else by first event id; it then
      // moves the horizon to its snapshot's xmin (everything below ended, and is now recorded).
      // `horizon`, when given, comes from a marker NOTIFY that followed every xid passed (see
      // prune()). Transactions already recorded (by a catch-up or another esink) are skipped. The next
      // position follows the newest txns row (pruning always keeps it), or state.next_pos when
      // there is none (a fresh or converted installation).
      // Then returns the `lim` events after position `after`. `after_id` says where `after` is:
      // 0 the end of a transaction, > 0 the events.id of an event inside a transaction larger
      // than a batch (resumed without a rescan), NULL unknown (the cursor of a fresh start).
      // Generic plans: planning each statement on each call would cost more than a small batch,
      // and every statement has one sensible plan whatever the parameters: index probes along
      // (xid, id) and the txns keys. Without sequential scans and hash or merge joins, so that a
      // generic plan made while the tables were empty (a fresh installation, no statistics yet)
      // never scans the whole event table on each call once they have grown. Without JIT: the
      // cost of a disabled path would trigger a compilation on every call.
      "CREATE OR REPLACE FUNCTION " + S + ".poll(xids xid8[], catch_up boolean, horizon xid8, after bigint, after_id bigint,"
      " lim integer)"
      " RETURNS TABLE (o_pos bigint, o_id bigint, o_end boolean, o_tbl text, o_op text, o_row json, o_us bigint)"
      " LANGUAGE plpgsql SET plan_cache_mode = force_generic_plan SET enable_seqscan = off"
      " SET enable_hashjoin = off SET enable_mergejoin = off SET jit = off AS $esink$\n"
      "DECLARE\n"
      "  ts constant boolean := pg_catalog.current_setting('track_commit_timestamp')::boolean;\n"
      "  base bigint; hz xid8; cur record; got bigint := 0; k bigint; w_end bigint;\n"
      "BEGIN\n"
      "  IF catch_up OR xids IS NOT NULL OR horizon IS NOT NULL THEN\n"
      "    PERFORM pg_catalog.pg_advisory_xact_lock(pg_catalog.hashtext('esink/sequence'), pg_catalog.hashtext(" + lit_schema + "));\n"
      "    SELECT GREATEST(s.next_pos, (SELECT pg_catalog.max(t.last) FROM " + S + ".txns t)), s.horizon\n"
      "      INTO base, hz FROM " + S + ".state s;\n"
      "    IF catch_up THEN\n"
      // One statement, one snapshot: its xmin is a safe horizon for what the scan saw. EXECUTE:
      // planned for the actual horizon, since a recent one leaves a few rows to look at.
      "      EXECUTE $q$WITH u AS (SELECT e.xid, pg_catalog.min(e.id) AS first_id, pg_catalog.count(*) AS n\n"
      "                 FROM " + S + ".events e WHERE e.xid >= $1\n"
      "                 AND NOT EXISTS (SELECT FROM " + S + ".txns t WHERE t.xid = e.xid) GROUP BY e.xid),\n"
      "           i AS (INSERT INTO " + S + ".txns (last, xid, n)\n"
      "                 SELECT $2 + pg_catalog.sum(u.n) OVER (ORDER BY CASE WHEN $3 THEN\n"
      "                     pg_catalog.pg_xact_commit_timestamp(pg_catalog.xid(u.xid)) END NULLS FIRST, u.first_id\n"
      "                   ROWS UNBOUNDED PRECEDING), u.xid, u.n FROM u RETURNING txns.last)\n"
      "      SELECT coalesce((SELECT pg_catalog.max(i.last) FROM i), $2),\n"
      "             pg_catalog.pg_snapshot_xmin(pg_catalog.pg_current_snapshot())$q$ INTO base, hz USING hz, base, ts;\n"
      "      horizon := GREATEST(horizon, hz);\n"
      "    END IF;\n"
      "    IF xids IS NOT NULL THEN\n"
      // MATERIALIZED: count each transaction's events once, not once per reference. A scalar
      // subquery, not NOT EXISTS: the planner would turn that into a hash anti join reading all
      // of txns, where a few index probes suffice.
      "      WITH u AS MATERIALIZED (SELECT x.xid, x.ord,\n"
      "                   (SELECT pg_catalog.count(*) FROM " + S + ".events e WHERE e.xid = x.xid) AS n\n"
      "                 FROM pg_catalog.unnest(xids) WITH ORDINALITY AS x(xid, ord)\n"
      "                 WHERE (SELECT t.last FROM " + S + ".txns t WHERE t.xid = x.xid) IS NULL)\n"
      "      INSERT INTO " + S + ".txns (last, xid, n)\n"
      "        SELECT base + pg_catalog.sum(u.n) OVER (ORDER BY u.ord ROWS UNBOUNDED PRECEDING), u.xid, u.n\n"
      "        FROM u WHERE u.n > 0;\n"
      "    END IF;\n"
      "    UPDATE " + S + ".state s SET horizon = poll.horizon WHERE s.horizon < poll.horizon;\n"
      "  END IF;\n"
      "  IF after_id IS DISTINCT FROM 0 THEN\n"
      "    SELECT x.last, x.xid, x.n INTO cur FROM " + S + ".txns x WHERE x.last > after ORDER BY x.last LIMIT 1;\n"
      "    IF FOUND AND cur.last - cur.n < after THEN\n"
      "      IF after_id IS NULL THEN\n"
      "        SELECT e.id INTO after_id FROM " + S + ".events e WHERE e.xid = cur.xid\n"
      "          ORDER BY e.id OFFSET after - (cur.last - cur.n) - 1 LIMIT 1;\n"
      "      END IF;\n"
      "      RETURN QUERY\n"
      "        SELECT after + e.rn, e.id, after + e.rn = cur.last, e.tbl, e.op, e.row,\n"
      "               (extract(epoch FROM coalesce(CASE WHEN ts THEN\n"
      "                  pg_catalog.pg_xact_commit_timestamp(pg_catalog.xid(cur.xid)) END, e.at)) * 1000000)::int8\n"
      "        FROM (SELECT v.id, v.tbl, v.op, v.row, v.at, pg_catalog.row_number() OVER (ORDER BY v.id) AS rn\n"
      "              FROM " + S + ".events v WHERE v.xid = cur.xid AND v.id > after_id ORDER BY v.id LIMIT lim) e\n"
      "        ORDER BY 1;\n"
      "      GET DIAGNOSTICS got = ROW_COUNT;\n"
      "      IF got >= lim THEN RETURN; END IF;\n"
      "      after := cur.last;\n"
      "    END IF;\n"
      "  END IF;\n"
      // The transactions wholly inside the window: one join, at most `lim` rows. Then the one
      // crossing the window's end, if any, cut to what fits (a LIMIT along the (xid, id) index:
      // a transaction of a million rows costs a batch, not a million, per call).
      "  w_end := after + lim - got;\n"
      "  RETURN QUERY\n"
      "    SELECT x.last - x.n + pg_catalog.row_number() OVER (PARTITION BY x.last ORDER BY v.id), v.id,\n"
      "           x.last - x.n + pg_catalog.row_number() OVER (PARTITION BY x.last ORDER BY v.id) = x.last,\n"
      "           v.tbl, v.op, v.row, (extract(epoch FROM coalesce(x.cts, v.at)) * 1000000)::int8\n"
      "    FROM (SELECT y.last, y.xid, y.n, CASE WHEN ts THEN\n"
      "            pg_catalog.pg_xact_commit_timestamp(pg_catalog.xid(y.xid)) END AS cts\n"
      "          FROM " + S + ".txns y WHERE y.last > after AND y.last <= w_end) x\n"
      "    JOIN " + S + ".events v ON v.xid = x.xid\n"
      "    ORDER BY 1;\n"
      "  GET DIAGNOSTICS k = ROW_COUNT;\n"
      "  IF got + k >= lim THEN RETURN; END IF;\n"
      "  SELECT x.last, x.xid, x.n INTO cur FROM " + S + ".txns x WHERE x.last > w_end ORDER BY x.last LIMIT 1;\n"
      "  IF FOUND AND cur.last - cur.n < w_end THEN\n"
      "    RETURN QUERY\n"
      "      SELECT cur.last - cur.n + e.rn, e.id, false, e.tbl, e.op, e.row,\n"
      "             (extract(epoch FROM coalesce(CASE WHEN ts THEN\n"
      "                pg_catalog.pg_xact_commit_timestamp(pg_catalog.xid(cur.xid)) END, e.at)) * 1000000)::int8\n"
      "      FROM (SELECT v.id, v.tbl, v.op, v.row, v.at, pg_catalog.row_number() OVER (ORDER BY v.id) AS rn\n"
      "            FROM " + S + ".events v WHERE v.xid = cur.xid ORDER BY v.id LIMIT w_end - (cur.last - cur.n)) e\n"
      "      ORDER BY 1;\n"
      "  END IF;\n"
      "END $esink$;";

  if (!pg_ok(pg_exec(conn_, "BEGIN"))) return fail(error::source_unavailable, sql_error("BEGIN"));
  auto rollback = [&](error e, std::string msg) {
    pg_exec(conn_, "ROLLBACK");
    return fail(e, std::move(msg));
  };
  // Serializes concurrent installs: CREATE ... IF NOT EXISTS alone races on the catalogs.
  if (!pg_ok(pg_exec(conn_, "SELECT pg_advisory_xact_lock(hashtext('esink/install'), hashtext($1))",
                     {opt_.schema.c_str()})))
    return rollback(error::source_unavailable, sql_error("advisory lock"));
  if (auto ec = migrate()) {
    pg_exec(conn_, "ROLLBACK");
    return ec;
  }
  // CREATE OR REPLACE cannot change a function's result type: drop a poll() of another version.
  const std::string poll_sig = S + ".poll(xid8[], boolean, xid8, bigint, bigint, integer)";
  auto res = pg_exec(conn_, "SELECT pg_catalog.pg_get_function_result(pg_catalog.to_regprocedure($1)) <> $2",
                     {poll_sig.c_str(), "TABLE(o_pos bigint, o_id bigint, o_end boolean, o_tbl text, o_op text, "
                                        "o_row json, o_us bigint)"});
  if (!pg_ok(res)) return rollback(error::source_unavailable, sql_error("inspecting the poll function"));
  if (std::strcmp(PQgetvalue(res.get(), 0, 0), "t") == 0 &&
      !pg_ok(detail::pg_result(PQexec(conn_, ("DROP FUNCTION " + poll_sig).c_str()))))
    return rollback(error::source_fatal, sql_error("replacing the poll function"));
  if (auto r = detail::pg_result(PQexec(conn_, ddl.c_str())); !pg_ok(r))
    return rollback(error::source_fatal, sql_error("installing the event table"));

  if (logical_) {
    auto wl = pg_exec(conn_, "SELECT pg_catalog.current_setting('wal_level')");
    if (!pg_ok(wl)) return rollback(error::source_unavailable, sql_error("reading wal_level"));
    if (std::strcmp(PQgetvalue(wl.get(), 0, 0), "logical") != 0)
      return rollback(error::source_fatal,
                      std::string("postgres_source: ESINK_PG_CAPTURE=logical needs wal_level = logical (the server has '") +
                          PQgetvalue(wl.get(), 0, 0) +
                          "'): set it in postgresql.conf and restart PostgreSQL, or use ESINK_PG_CAPTURE=table");
    // One logical decoding message per row, written into the WAL with the transaction and
    // decoded at its commit: no event table and no NOTIFY queue for the application's writes.
    // The content: operation letter, the table's name length-prefixed, the row as JSON.
    const std::string lit_prefix = detail::pg_literal(conn_, prefix_);
    const std::string logical_ddl =
        "CREATE OR REPLACE FUNCTION " + S + ".capture_wal() RETURNS trigger LANGUAGE plpgsql AS $esink$\n"
        "BEGIN\n"
        "  IF TG_OP = 'DELETE' THEN\n"
        "    PERFORM pg_catalog.pg_logical_emit_message(true, " + lit_prefix + ", 'd' || pg_catalog.octet_length(TG_ARGV[0]) || ':' || TG_ARGV[0] || pg_catalog.to_json(o)::text) FROM old_rows o;\n"
        "  ELSIF TG_OP = 'UPDATE' THEN\n"
        "    PERFORM pg_catalog.pg_logical_emit_message(true, " + lit_prefix + ", 'u' || pg_catalog.octet_length(TG_ARGV[0]) || ':' || TG_ARGV[0] || pg_catalog.to_json(n)::text) FROM new_rows n;\n"
        "  ELSE\n"
        "    PERFORM pg_catalog.pg_logical_emit_message(true, " + lit_prefix + ", 'i' || pg_catalog.octet_length(TG_ARGV[0]) || ':' || TG_ARGV[0] || pg_catalog.to_json(n)::text) FROM new_rows n;\n"
        "  END IF;\n"
        "  RETURN NULL;\n"
        "END $esink$;"
        // A transaction acknowledged in part when esink stopped: the slot confirms whole
        // transactions only, so how much of this one was done is kept here.
        "CREATE TABLE IF NOT EXISTS " + S + ".slots (slot text PRIMARY KEY, txn_lsn pg_lsn NOT NULL, done bigint NOT NULL);";
    if (!pg_ok(detail::pg_result(PQexec(conn_, logical_ddl.c_str()))))
      return rollback(error::source_fatal, sql_error("installing the logical capture"));
    // pgoutput streams only what a publication names; esink's messages need one, empty.
    auto pub = pg_exec(conn_, "SELECT 1 FROM pg_catalog.pg_publication WHERE pubname = $1", {publication_.c_str()});
    if (!pg_ok(pub)) return rollback(error::source_unavailable, sql_error("looking up the publication"));
    if (PQntuples(pub.get()) == 0 &&
        !pg_ok(detail::pg_result(PQexec(conn_, ("CREATE PUBLICATION " + detail::quote_identifier(publication_)).c_str()))))
      return rollback(error::source_fatal, sql_error("creating the publication"));
  }
  const std::string lit_chan = detail::pg_literal(conn_, opt_.schema);
  const std::string fn = S + (logical_ ? ".capture_wal" : ".capture");
  static constexpr const char* ops[] = {"insert", "update", "delete"};
  for (auto& [spelled, t] : tables_) {
    auto r = pg_exec(conn_,
                     "SELECT c.oid::text, c.relkind::text FROM pg_catalog.pg_class c "
                     "WHERE c.oid = pg_catalog.to_regclass($1)",
                     {t.quoted.c_str()});
    if (!pg_ok(r)) return rollback(error::source_fatal, sql_error("looking up a table"));
    if (PQntuples(r.get()) != 1)
      return rollback(error::unknown_table, "TABLE_NAMES: table " + t.quoted + " does not exist");
    std::string oid = PQgetvalue(r.get(), 0, 0), kind = PQgetvalue(r.get(), 0, 1);
    if (kind != "r" && kind != "p")
      return rollback(error::unknown_table, "TABLE_NAMES: " + t.quoted + " is not a table");

    const std::string args_hex = detail::hex_of(spelled) + "00" + detail::hex_of(opt_.schema) + "00";
    for (const char* op : ops) {
      const std::string tg = opt_.schema + "_" + op;
      auto have = pg_exec(conn_,
                          "SELECT encode(tgargs, 'hex') = $3 AND tgfoid = to_regprocedure($4 || '()') "
                          "FROM pg_catalog.pg_trigger WHERE tgrelid = $1::oid AND tgname = $2",
                          {oid.c_str(), tg.c_str(), args_hex.c_str(), fn.c_str()});
      if (!pg_ok(have)) return rollback(error::source_fatal, sql_error("looking up triggers"));
      // Only (re)create when missing or different: CREATE TRIGGER locks the application's table.
      if (PQntuples(have.get()) == 1 && std::strcmp(PQgetvalue(have.get(), 0, 0), "t") == 0) continue;
      const bool del = std::strcmp(op, "delete") == 0;
      std::string sql = "CREATE OR REPLACE TRIGGER " + detail::quote_identifier(tg) + " AFTER " +
                        (op[0] == 'i' ? "INSERT" : op[0] == 'u' ? "UPDATE" : "DELETE") + " ON " +
                        t.quoted + " REFERENCING " + (del ? "OLD TABLE AS old_rows" : "NEW TABLE AS new_rows") +
                        " FOR EACH STATEMENT EXECUTE FUNCTION " + fn + "(" +
                        detail::pg_literal(conn_, spelled) + ", " + lit_chan + ")";
      if (!pg_ok(detail::pg_result(PQexec(conn_, sql.c_str()))))
        return rollback(error::source_fatal, sql_error(("creating a trigger on " + t.quoted).c_str()));
    }
  }
  if (opt_.reset_on_start) {
    opt_.reset_on_start = false;  // once per process, not on every reconnect
    std::string sql = "TRUNCATE " + S + ".events, " + S + ".txns; UPDATE " + S + ".state SET next_pos = 0; UPDATE " + S +
                      ".consumers SET pos = 0";
    if (!pg_ok(detail::pg_result(PQexec(conn_, sql.c_str()))))
      return rollback(error::source_fatal, sql_error("resetting the event table"));
    delivered_ = 0;
    resume_id_ = 0;
    acked_ = 0;
    flushed_ = 0;
    // The logical capture's backlog is its slot: recreated at the current end.
    if (logical_) {
      if (!pg_ok(pg_exec(conn_, ("DELETE FROM " + S + ".slots WHERE slot = $1").c_str(), {slot_.c_str()})))
        return rollback(error::source_fatal, sql_error("resetting the slot's progress"));
      drop_slot_ = true;
    }
  }
  // A new consumer starts at the current end: it receives what commits from now on.
  std::string sql = "INSERT INTO " + S + ".consumers (name, pos) SELECT $1, GREATEST(s.next_pos, (SELECT max(t.last) FROM " +
                    S + ".txns t)) FROM " + S + ".state s ON CONFLICT (name) DO NOTHING";
  if (!pg_ok(pg_exec(conn_, sql.c_str(), {opt_.consumer.c_str()})))
    return rollback(error::source_fatal, sql_error("creating the consumer"));
  if (!pg_ok(pg_exec(conn_, "COMMIT"))) return fail(error::source_unavailable, sql_error("COMMIT"));
  return {};
}

inline std::error_code postgres_source::migrate() {
  // An installation by an older esink kept positions in events.pos (UNIQUE, plus a partial index
  // on the unsequenced rows): convert it in place, inside the install transaction. Positions,
  // cursors and unsequenced events carry over: one txns row per sequenced transaction (its events
  // were sequenced together, so their positions are contiguous), and the catch-up, starting at
  // horizon 0, sequences the rest. Older esinks still running on the schema then fail loudly.
  const std::string& S = schema_q_;
  auto old = detail::pg_exec(conn_,
                             "SELECT 1 FROM pg_catalog.pg_attribute WHERE attrelid = pg_catalog.to_regclass($1) "
                             "AND attname = 'pos' AND NOT attisdropped",
                             {(S + ".events").c_str()});
  if (!detail::pg_ok(old)) return fail(error::source_unavailable, sql_error("inspecting the event table"));
  if (PQntuples(old.get()) == 0) return {};
  const std::string sql =
      "LOCK TABLE " + S + ".events, " + S + ".state IN ACCESS EXCLUSIVE MODE;"
      "CREATE TABLE IF NOT EXISTS " + S + ".txns ("
      " last bigint PRIMARY KEY, xid xid8 NOT NULL UNIQUE, n bigint NOT NULL,"
      " at timestamptz NOT NULL DEFAULT pg_catalog.now());"
      "INSERT INTO " + S + ".txns (last, xid, n, at)"
      " SELECT pg_catalog.max(e.pos), e.xid, pg_catalog.count(*), pg_catalog.max(e.at) FROM " + S + ".events e"
      " WHERE e.pos IS NOT NULL GROUP BY e.xid;"
      "ALTER TABLE " + S + ".state ADD COLUMN IF NOT EXISTS horizon xid8 NOT NULL DEFAULT '0';"
      "ALTER TABLE " + S + ".events DROP COLUMN pos;"
      "ALTER TABLE " + S + ".events DROP CONSTRAINT IF EXISTS events_pkey;"
      "DROP FUNCTION IF EXISTS " + S + ".sequence(xid8[], boolean);";
  if (!detail::pg_ok(detail::pg_result(PQexec(conn_, sql.c_str()))))
    return fail(error::source_fatal, sql_error("converting the event table of an older esink"));
  return {};
}

inline std::error_code postgres_source::load_types(table_state& t) {
  // Resolves domains and arrays down to the base type: numeric -> 'n', bytea -> 'b'.
  auto r = detail::pg_exec(conn_,
      "SELECT a.attname, (SELECT CASE b.oid WHEN 1700 THEN 'n' WHEN 17 THEN 'b' ELSE 'p' END "
      "  FROM pg_catalog.pg_type b WHERE b.oid = ("
      "   SELECT coalesce(nullif(e.typbasetype, 0), e.oid) FROM pg_catalog.pg_type e WHERE e.oid = ("
      "    SELECT CASE WHEN d.typcategory = 'A' THEN d.typelem ELSE d.oid END FROM pg_catalog.pg_type d"
      "    WHERE d.oid = (SELECT coalesce(nullif(x.typbasetype, 0), x.oid) FROM pg_catalog.pg_type x"
      "                   WHERE x.oid = a.atttypid)))) "
      "FROM pg_catalog.pg_attribute a "
      "WHERE a.attrelid = pg_catalog.to_regclass($1) AND a.attnum > 0 AND NOT a.attisdropped",
      {t.quoted.c_str()});
  if (!detail::pg_ok(r)) return fail(error::source_unavailable, sql_error("reading column types"));
  t.types.clear();
  for (int i = 0; i < PQntuples(r.get()); ++i) {
    const char k = PQgetvalue(r.get(), i, 1)[0];
    t.types.set(PQgetvalue(r.get(), i, 0), k == 'n'   ? detail::column_kind::numeric
                                           : k == 'b' ? detail::column_kind::binary
                                                      : detail::column_kind::plain);
  }
  return {};
}

inline std::error_code postgres_source::prepare() {
  if (auto ec = install()) return ec;
  for (auto& [_, t] : tables_)
    if (auto ec = load_types(t)) return ec;
  if (logical_) return start_stream();
  const std::string poll = "SELECT * FROM " + schema_q_ + ".poll($1::xid8[], $2::boolean, $3::xid8, $4::bigint, $5::bigint, $6::integer)";
  if (!detail::pg_ok(detail::pg_result(PQprepare(conn_, "esink_poll", poll.c_str(), 6, nullptr))))
    return fail(error::source_unavailable, sql_error("preparing the poll"));
  // Positions must be durable before any event is delivered: a txns row lost in a server crash
  // would give its positions to other events. With synchronous_commit off (for the server or this
  // user), this session commits with 'local', flushing its own WAL; stricter settings stay.
  auto sc = detail::pg_exec(conn_, "SELECT current_setting('synchronous_commit')");
  if (!detail::pg_ok(sc)) return fail(error::source_unavailable, sql_error("reading settings"));
  if (std::strcmp(PQgetvalue(sc.get(), 0, 0), "off") == 0 &&
      !detail::pg_ok(detail::pg_result(PQexec(conn_, "SET synchronous_commit = local"))))
    return fail(error::source_unavailable, sql_error("setting synchronous_commit"));
  if (delivered_ == 0) {
    std::string sql = "SELECT pos FROM " + schema_q_ + ".consumers WHERE name = $1";
    auto c = detail::pg_exec(conn_, sql.c_str(), {opt_.consumer.c_str()});
    if (!detail::pg_ok(c) || PQntuples(c.get()) != 1)
      return fail(error::source_unavailable, sql_error("reading the cursor"));
    std::uint64_t pos = std::strtoull(PQgetvalue(c.get(), 0, 0), nullptr, 10);
    delivered_ = pos;
    resume_id_ = -1;
    acked_ = pos;
    flushed_ = pos;
  }
  // LISTEN before catching up: a commit is either seen by the catch-up or notified after it.
  std::string listen = "LISTEN " + chan_q_;
  if (!detail::pg_ok(detail::pg_result(PQexec(conn_, listen.c_str()))))
    return fail(error::source_unavailable, sql_error("LISTEN"));
  catch_up_ = true;
  pending_xids_.clear();
  horizon_ = 0;
  return {};
}

inline bool postgres_source::flush_ack(bool force) {
  std::uint64_t a = acked_.load();
  if (a <= flushed_) return true;
  auto now = std::chrono::steady_clock::now();
  if (!force && now - last_flush_ < opt_.ack_flush_interval) return true;
  std::string sql = "UPDATE " + schema_q_ + ".consumers SET pos = greatest(pos, $2::bigint), updated_at = now() "
                    "WHERE name = $1";
  std::string v = std::to_string(a);
  if (!detail::pg_ok(detail::pg_exec(conn_, sql.c_str(), {opt_.consumer.c_str(), v.c_str()}))) {
    message_ = sql_error("writing the cursor");
    return false;
  }
  flushed_ = a;
  last_flush_ = now;
  return true;
}

inline bool postgres_source::prune() {
  auto now = std::chrono::steady_clock::now();
  if (now - last_prune_ < std::chrono::seconds(5)) return true;
  last_prune_ = now;
  const std::string& S = schema_q_;
  // Whole transactions, oldest first, at most a slice of 1,000 per statement: never a long lock,
  // and the positions of the transactions kept never shift. The newest transaction stays: the
  // next position follows it. Range conditions on the key only: the planner cannot turn them
  // into a scan of the whole table.
  std::string sql =
      "WITH m AS (SELECT max(t.last) AS last FROM " + S + ".txns t),"
      " o AS (SELECT t.last, t.at FROM " + S + ".txns t ORDER BY t.last LIMIT 1000),"
      " b AS (SELECT LEAST((SELECT m.last FROM m) - 1, (SELECT max(o.last) FROM o),"
      "   GREATEST((SELECT m.last FROM m) - $1::bigint,"
      "            (SELECT max(o.last) FROM o WHERE o.at < now() - make_interval(secs => $2::double precision)))) AS upto),"
      " d AS (DELETE FROM " + S + ".txns t WHERE t.last <= (SELECT b.upto FROM b) RETURNING t.xid),"
      " e AS (DELETE FROM " + S + ".events e WHERE e.xid = ANY (ARRAY(SELECT d.xid FROM d)))"
      " SELECT count(*) FROM d";
  std::string count = std::to_string(opt_.retention_count), age = std::to_string(opt_.retention_age.count());
  auto r = detail::pg_exec(conn_, sql.c_str(), {count.c_str(), age.c_str()});
  if (!detail::pg_ok(r)) {
    message_ = sql_error("pruning events");
    return false;
  }
  // A full slice: more is due, next round at once, so that pruning keeps up with any write rate.
  if (std::strcmp(PQgetvalue(r.get(), 0, 0), "1000") == 0) last_prune_ = {};
  // Keeps the next catch-up short. Every transaction below this snapshot's xmin committed (or
  // aborted) before this NOTIFY, so its own NOTIFY comes first: once the sources that receive
  // the marker have recorded the xids before it, they may move the horizon there.
  if (!detail::pg_ok(detail::pg_exec(conn_, "SELECT pg_catalog.pg_notify($1, 'h' || "
                                            "pg_catalog.pg_snapshot_xmin(pg_catalog.pg_current_snapshot())::text)",
                                     {opt_.schema.c_str()}))) {
    message_ = sql_error("marking the catch-up horizon");
    return false;
  }
  return true;
}

template <class Sink> void postgres_source::start(Sink& sink, std::error_code& ec) {
  ec.clear();
  if (thread_.joinable()) {
    ec = fail(error::bad_config, "postgres_source: already started");
    return;
  }
  stopping_ = false;
  ec = connect();
  if (!ec) ec = prepare();
  if (ec) {
    disconnect();
    return;
  }
  thread_ = std::thread([this, &sink] { run(sink); });
}

inline bool postgres_source::parse_event_row(table_state& t, std::string_view text, boost::json::object& row) {
  std::error_code ec;
  bool unknown = false;
  row = detail::parse_row(text, t.types, ec, &unknown);
  if (unknown) {  // the table gained a column since the types were read
    if (load_types(t)) return false;
    row = detail::parse_row(text, t.types, ec);
  }
  return true;
}

template <class Sink> bool postgres_source::deliver_row(Sink& sink, const PGresult* r, int i) {
  const std::uint64_t pos = std::strtoull(PQgetvalue(r, i, 0), nullptr, 10);
  const std::uint64_t event = std::strtoull(PQgetvalue(r, i, 1), nullptr, 10);
  const bool txn_end = PQgetvalue(r, i, 2)[0] == 't';
  auto it = tables_.find(PQgetvalue(r, i, 3));
  if (it != tables_.end()) {  // else another esink's table in the shared event table
    change_event ev;
    ev.id = pos;
    ev.table = it->first;
    parse_change_type(PQgetvalue(r, i, 4), ev.type);
    std::string_view text(PQgetvalue(r, i, 5), static_cast<std::size_t>(PQgetlength(r, i, 5)));
    if (!parse_event_row(it->second, text, ev.row)) return false;
    ev.commit_time_us = std::strtoll(PQgetvalue(r, i, 6), nullptr, 10);
    sink.on_change(std::move(ev));
  }
  resume_id_ = txn_end ? 0 : static_cast<std::int64_t>(event);
  delivered_ = pos;
  return true;
}

template <class Sink> bool postgres_source::deliver_batch(Sink& sink, bool& more) {
  more = false;
  xid_array_.clear();
  if (!pending_xids_.empty()) {
    xid_array_ = "{";
    for (std::size_t i = 0; i < pending_xids_.size(); ++i) {
      if (i) xid_array_ += ',';
      xid_array_ += std::to_string(pending_xids_[i]);
    }
    xid_array_ += '}';
  }
  const std::string horizon = std::to_string(horizon_), from = std::to_string(delivered_.load()),
                    resume = std::to_string(resume_id_), lim = std::to_string(opt_.batch_size);
  const char* params[] = {xid_array_.empty() ? nullptr : xid_array_.c_str(), catch_up_ ? "t" : "f",
                          horizon_ ? horizon.c_str() : nullptr, from.c_str(), resume_id_ < 0 ? nullptr : resume.c_str(),
                          lim.c_str()};
  detail::pg_result r(PQexecPrepared(conn_, "esink_poll", 6, params, nullptr, nullptr, 0));
  if (!detail::pg_ok(r)) {
    // The xids go with the connection: the reconnect's catch-up finds their transactions.
    message_ = sql_error("fetching events");
    return false;
  }
  catch_up_ = false;
  pending_xids_.clear();
  horizon_ = 0;
  const int n = PQntuples(r.get());
  for (int i = 0; i < n; ++i) {
    if (stopping_) return true;
    if (!deliver_row(sink, r.get(), i)) return false;
  }
  more = static_cast<std::size_t>(n) == opt_.batch_size;
  return true;
}

template <class Sink> bool postgres_source::pump(Sink& sink) {
  bool more = catch_up_;
  for (;;) {
    if (!PQconsumeInput(conn_)) {
      message_ = sql_error("reading notifications");
      return false;
    }
    std::size_t before = pending_xids_.size();
    while (PGnotify* n = PQnotifies(conn_)) {
      std::uint64_t x;
      if (detail::parse_txid(n->extra, x))
        pending_xids_.push_back(x);
      else if (n->extra[0] == 'h' && detail::parse_txid(n->extra + 1, x))
        horizon_ = std::max(horizon_, x);
      PQfreemem(n);
    }
    if (pending_xids_.size() > 1 && pending_xids_.size() != before) {
      // One NOTIFY per transaction, but keep the first if a payload repeats.
      std::unordered_set<std::uint64_t> seen;
      std::vector<std::uint64_t> uniq;
      for (auto x : pending_xids_)
        if (seen.insert(x).second) uniq.push_back(x);
      pending_xids_.swap(uniq);
    }
    if (!more && !catch_up_ && pending_xids_.empty() && !horizon_) break;
    if (!deliver_batch(sink, more)) return false;
    if (stopping_) return true;
  }
  return flush_ack(false) && prune();
}

template <class Sink> void postgres_source::run(Sink& sink) {
  bool caught_up = false;  // "{}" means connected and caught up: reported after the catch-up
  while (!stopping_) {
    if (!conn_) {
      wake_.wait(-1, backoff_.next());
      if (stopping_) break;
      std::error_code ec = connect();
      if (!ec) ec = prepare();
      if (ec) {
        disconnect();
        sink.on_status(ec);
        continue;
      }
      backoff_.reset();
      caught_up = false;
    }
    if (!(logical_ ? pump_stream(sink) : pump(sink))) {
      const bool bad = PQstatus(conn_) == CONNECTION_BAD || (stream_ && PQstatus(stream_) == CONNECTION_BAD);
      disconnect();
      sink.on_status(make_error_code(bad ? error::source_unavailable : error::source_fatal));
      continue;
    }
    if (stopping_) break;
    if (!caught_up && (!logical_ || stream_caught_up_)) {
      caught_up = true;
      sink.on_status({});
    }
    wake_.wait(PQsocket(logical_ ? stream_ : conn_), opt_.ack_flush_interval);
  }
  if (conn_ && !logical_) flush_ack(true);
  if (stream_) flush_stream(true);
}

}  // namespace esink

#endif
