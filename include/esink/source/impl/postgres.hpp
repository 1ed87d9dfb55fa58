#ifndef ESINK_SOURCE_IMPL_POSTGRES_HPP
#define ESINK_SOURCE_IMPL_POSTGRES_HPP

#include <esink/source/detail/quote.hpp>

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
  return {};
}

inline std::error_code postgres_source::install() {
  using detail::pg_exec;
  using detail::pg_ok;
  const std::string& S = schema_q_;
  const std::string lit_schema = detail::pg_literal(conn_, opt_.schema);
  // Statement triggers with transition tables: one function call per statement, not per row.
  // The NOTIFY carries only the transaction id: never near the 8000-byte limit.
  const std::string ddl =
      "CREATE SCHEMA IF NOT EXISTS " + S + ";"
      "CREATE TABLE IF NOT EXISTS " + S + ".events ("
      " id bigserial PRIMARY KEY,"
      " xid xid8 NOT NULL DEFAULT pg_catalog.pg_current_xact_id(),"
      " tbl text NOT NULL, op text NOT NULL, row json NOT NULL,"
      " at timestamptz NOT NULL DEFAULT pg_catalog.clock_timestamp(),"
      " pos bigint UNIQUE);"
      "CREATE INDEX IF NOT EXISTS events_unsequenced ON " + S + ".events (xid) WHERE pos IS NULL;"
      "CREATE TABLE IF NOT EXISTS " + S + ".state ("
      " singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton), next_pos bigint NOT NULL);"
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
      // Assigns dense commit-order positions. Live: in NOTIFY order (= commit order). Catch-up
      // (right after LISTEN): everything committed so far, by commit timestamp when tracked, else
      // by first event id; notified transactions it already covered are then skipped.
      "CREATE OR REPLACE FUNCTION " + S + ".sequence(xids xid8[], catch_up boolean)"
      " RETURNS bigint LANGUAGE plpgsql AS $esink$\n"
      "DECLARE base bigint; n bigint := 0; m bigint;\n"
      "BEGIN\n"
      "  PERFORM pg_catalog.pg_advisory_xact_lock(pg_catalog.hashtext('esink/sequence'), pg_catalog.hashtext(" + lit_schema + "));\n"
      "  SELECT next_pos INTO base FROM " + S + ".state;\n"
      "  IF catch_up THEN\n"
      "    WITH t AS (SELECT e.xid, min(e.id) AS first_id FROM " + S + ".events e\n"
      "               WHERE e.pos IS NULL GROUP BY e.xid),\n"
      "         k AS (SELECT t.xid, t.first_id, CASE WHEN pg_catalog.current_setting('track_commit_timestamp')::boolean\n"
      "                 THEN pg_catalog.pg_xact_commit_timestamp(pg_catalog.xid(t.xid)) END AS ts FROM t),\n"
      "         o AS (SELECT e.id, row_number() OVER (ORDER BY k.ts NULLS FIRST, k.first_id, e.id) AS rn\n"
      "               FROM k JOIN " + S + ".events e ON e.xid = k.xid WHERE e.pos IS NULL)\n"
      "    UPDATE " + S + ".events e SET pos = base + o.rn FROM o WHERE e.id = o.id;\n"
      "    GET DIAGNOSTICS n = ROW_COUNT;\n"
      "  END IF;\n"
      "  IF xids IS NOT NULL THEN\n"
      "    WITH o AS (SELECT e.id, row_number() OVER (ORDER BY x.ord, e.id) AS rn\n"
      "               FROM unnest(xids) WITH ORDINALITY AS x(xid, ord)\n"
      "               JOIN " + S + ".events e ON e.xid = x.xid WHERE e.pos IS NULL)\n"
      "    UPDATE " + S + ".events e SET pos = base + n + o.rn FROM o WHERE e.id = o.id;\n"
      "    GET DIAGNOSTICS m = ROW_COUNT;\n"
      "    n := n + m;\n"
      "  END IF;\n"
      "  IF n > 0 THEN UPDATE " + S + ".state SET next_pos = base + n; END IF;\n"
      "  RETURN n;\n"
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
  if (auto r = detail::pg_result(PQexec(conn_, ddl.c_str())); !pg_ok(r))
    return rollback(error::source_fatal, sql_error("installing the event table"));

  const std::string lit_chan = detail::pg_literal(conn_, opt_.schema);
  const std::string fn = S + ".capture";
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
    std::string sql = "TRUNCATE " + S + ".events; UPDATE " + S + ".state SET next_pos = 0; UPDATE " + S +
                      ".consumers SET pos = 0";
    if (!pg_ok(detail::pg_result(PQexec(conn_, sql.c_str()))))
      return rollback(error::source_fatal, sql_error("resetting the event table"));
    delivered_ = 0;
    acked_ = 0;
    flushed_ = 0;
  }
  // A new consumer starts at the current end: it receives what commits from now on.
  std::string sql = "INSERT INTO " + S + ".consumers (name, pos) SELECT $1, next_pos FROM " + S +
                    ".state ON CONFLICT (name) DO NOTHING";
  if (!pg_ok(pg_exec(conn_, sql.c_str(), {opt_.consumer.c_str()})))
    return rollback(error::source_fatal, sql_error("creating the consumer"));
  if (!pg_ok(pg_exec(conn_, "COMMIT"))) return fail(error::source_unavailable, sql_error("COMMIT"));
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
  auto r = detail::pg_exec(conn_, "SELECT current_setting('track_commit_timestamp')::boolean");
  if (!detail::pg_ok(r)) return fail(error::source_unavailable, sql_error("reading settings"));
  commit_ts_ = PQgetvalue(r.get(), 0, 0)[0] == 't';
  if (delivered_ == 0) {
    std::string sql = "SELECT pos FROM " + schema_q_ + ".consumers WHERE name = $1";
    auto c = detail::pg_exec(conn_, sql.c_str(), {opt_.consumer.c_str()});
    if (!detail::pg_ok(c) || PQntuples(c.get()) != 1)
      return fail(error::source_unavailable, sql_error("reading the cursor"));
    std::uint64_t pos = std::strtoull(PQgetvalue(c.get(), 0, 0), nullptr, 10);
    delivered_ = pos;
    acked_ = pos;
    flushed_ = pos;
  }
  // LISTEN before catching up: a commit is either seen by the catch-up or notified after it.
  std::string listen = "LISTEN " + chan_q_;
  if (!detail::pg_ok(detail::pg_result(PQexec(conn_, listen.c_str()))))
    return fail(error::source_unavailable, sql_error("LISTEN"));
  catch_up_ = true;
  pending_xids_.clear();
  return {};
}

inline bool postgres_source::sequence(const std::vector<std::uint64_t>* xids) {
  std::string arr;
  if (xids && !xids->empty()) {
    arr = "{";
    for (std::size_t i = 0; i < xids->size(); ++i) {
      if (i) arr += ',';
      arr += std::to_string((*xids)[i]);
    }
    arr += '}';
  }
  std::string sql = "SELECT " + schema_q_ + ".sequence($1::xid8[], $2::boolean)";
  auto r = detail::pg_exec(conn_, sql.c_str(), {arr.empty() ? nullptr : arr.c_str(), catch_up_ ? "t" : "f"});
  if (!detail::pg_ok(r)) {
    message_ = sql_error("sequencing events");
    return false;
  }
  return true;
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
  // Oldest first along the pos index, a bounded slice per round: never a long lock.
  std::string sql = "DELETE FROM " + schema_q_ + ".events WHERE pos IN (SELECT pos FROM " + schema_q_ +
                    ".events WHERE pos IS NOT NULL ORDER BY pos LIMIT 10000) AND (pos <= (SELECT next_pos FROM " +
                    schema_q_ + ".state) - $1::bigint OR at < now() - make_interval(secs => $2::double precision))";
  std::string count = std::to_string(opt_.retention_count), age = std::to_string(opt_.retention_age.count());
  if (!detail::pg_ok(detail::pg_exec(conn_, sql.c_str(), {count.c_str(), age.c_str()}))) {
    message_ = sql_error("pruning events");
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

template <class Sink> bool postgres_source::deliver_batch(Sink& sink, bool& more) {
  more = false;
  const std::string sql =
      "SELECT pos, tbl, op, row, (extract(epoch FROM " +
      std::string(commit_ts_ ? "coalesce(pg_xact_commit_timestamp(xid(xid)), at)" : "at") +
      ") * 1000000)::int8 FROM " + schema_q_ + ".events WHERE pos > $1::bigint ORDER BY pos LIMIT $2::int";
  std::string from = std::to_string(delivered_.load()), lim = std::to_string(opt_.batch_size);
  auto r = detail::pg_exec(conn_, sql.c_str(), {from.c_str(), lim.c_str()});
  if (!detail::pg_ok(r)) {
    message_ = sql_error("fetching events");
    return false;
  }
  const int n = PQntuples(r.get());
  for (int i = 0; i < n; ++i) {
    if (stopping_) return true;
    std::uint64_t pos = std::strtoull(PQgetvalue(r.get(), i, 0), nullptr, 10);
    auto it = tables_.find(PQgetvalue(r.get(), i, 1));
    if (it == tables_.end()) {  // another esink's table in the shared event table
      delivered_ = pos;
      continue;
    }
    change_event ev;
    ev.id = pos;
    ev.table = it->first;
    parse_change_type(PQgetvalue(r.get(), i, 2), ev.type);
    std::string_view text(PQgetvalue(r.get(), i, 3), static_cast<std::size_t>(PQgetlength(r.get(), i, 3)));
    std::error_code pec;
    bool unknown = false;
    ev.row = detail::parse_row(text, it->second.types, pec, &unknown);
    if (unknown) {  // the table gained a column since the types were read
      if (load_types(it->second)) return false;
      ev.row = detail::parse_row(text, it->second.types, pec);
    }
    ev.commit_time_us = std::strtoll(PQgetvalue(r.get(), i, 4), nullptr, 10);
    sink.on_change(std::move(ev));
    delivered_ = pos;
  }
  more = static_cast<std::size_t>(n) == opt_.batch_size;
  return true;
}

template <class Sink> bool postgres_source::pump(Sink& sink) {
  bool fetch = catch_up_;
  for (;;) {
    if (!PQconsumeInput(conn_)) {
      message_ = sql_error("reading notifications");
      return false;
    }
    std::size_t before = pending_xids_.size();
    while (PGnotify* n = PQnotifies(conn_)) {
      std::uint64_t x;
      if (detail::parse_txid(n->extra, x)) pending_xids_.push_back(x);
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
    if (!fetch && pending_xids_.empty()) break;
    if (catch_up_ || !pending_xids_.empty()) {
      if (!sequence(&pending_xids_)) return false;
      catch_up_ = false;
      pending_xids_.clear();
    }
    bool more = true;
    while (more && !stopping_)
      if (!deliver_batch(sink, more)) return false;
    fetch = false;
    if (stopping_) return true;
  }
  return flush_ack(false) && prune();
}

template <class Sink> void postgres_source::run(Sink& sink) {
  sink.on_status({});
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
      sink.on_status({});
    }
    if (!pump(sink)) {
      const bool bad = PQstatus(conn_) == CONNECTION_BAD;
      disconnect();
      sink.on_status(make_error_code(bad ? error::source_unavailable : error::source_fatal));
      continue;
    }
    if (stopping_) break;
    wake_.wait(PQsocket(conn_), opt_.ack_flush_interval);
  }
  if (conn_) flush_ack(true);
}

}  // namespace esink

#endif
