#ifndef ESINK_SOURCE_IMPL_SQLITE_HPP
#define ESINK_SOURCE_IMPL_SQLITE_HPP

#include <esink/source/detail/quote.hpp>

#include <algorithm>
#include <chrono>
#include <thread>
#include <cctype>
#include <cstdlib>
#include <memory>
#include <stdexcept>

namespace esink {

namespace detail {

struct sqlite_stmt_deleter {
  void operator()(sqlite3_stmt* s) const noexcept { sqlite3_finalize(s); }
};
using sqlite_stmt = std::unique_ptr<sqlite3_stmt, sqlite_stmt_deleter>;

inline sqlite_stmt sqlite_prepare(sqlite3* db, const std::string& sql) {
  sqlite3_stmt* s = nullptr;
  sqlite3_prepare_v2(db, sql.c_str(), static_cast<int>(sql.size()), &s, nullptr);
  return sqlite_stmt(s);
}

inline std::string sqlite_upper(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return s;
}

}  // namespace detail

inline sqlite_options sqlite_options::from_env() {
  sqlite_options o;
  if (const char* v = std::getenv("ESINK_SQLITE_PATH")) o.path = v;
  if (const char* v = std::getenv("TABLE_NAMES")) o.tables = v;
  if (const char* v = std::getenv("ESINK_CONSUMER"); v && *v) o.consumer = v;
  return o;
}

inline sqlite_source::sqlite_source(sqlite_options opt) : opt_(std::move(opt)) {
  std::error_code ec;
  auto names = parse_table_list(opt_.tables, ec);
  if (ec) throw std::invalid_argument("TABLE_NAMES: expected a comma-separated list of tables, got '" + opt_.tables + "'");
  if (opt_.path.empty()) throw std::invalid_argument("ESINK_SQLITE_PATH: empty");
  if (opt_.prefix.empty() || detail::has_nul(opt_.prefix) || opt_.consumer.empty())
    throw std::invalid_argument("sqlite_options: prefix and consumer must be non-empty");
  if (opt_.batch_size == 0) throw std::invalid_argument("sqlite_options::batch_size: must be positive");
  for (auto& n : names) {
    if (!n.schema.empty() && n.schema != "main")
      throw std::invalid_argument("TABLE_NAMES: SQLite triggers only reach the main schema, not '" + n.schema + "'");
    tables_[n.qualified()] = table_state{n.name, {}};
  }
  events_q_ = detail::quote_identifier(opt_.prefix + "_events");
  consumers_q_ = detail::quote_identifier(opt_.prefix + "_consumers");
}

inline sqlite_source::~sqlite_source() { stop(); }

inline void sqlite_source::acknowledge(std::uint64_t id) noexcept {
  std::uint64_t cur = acked_.load();
  while (cur < id && !acked_.compare_exchange_weak(cur, id)) {}
}

inline void sqlite_source::stop() {
  stopping_ = true;
  wake_.notify();
  if (thread_.joinable()) thread_.join();
  close();
}

inline void sqlite_source::close() noexcept {
  if (db_) sqlite3_close_v2(db_);
  db_ = nullptr;
}

inline std::error_code sqlite_source::fail(error e, std::string msg) {
  message_ = std::move(msg);
  return make_error_code(e);
}

inline bool sqlite_source::exec(const std::string& sql) {
  char* err = nullptr;
  if (sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &err) == SQLITE_OK) return true;
  message_ = std::string("sqlite_source: ") + (err ? err : sqlite3_errmsg(db_));
  sqlite3_free(err);
  return false;
}

inline std::error_code sqlite_source::open() {
  close();
  if (sqlite3_open_v2(opt_.path.c_str(), &db_, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
                      nullptr) != SQLITE_OK)
    return fail(error::source_unavailable, "sqlite_source: cannot open " + opt_.path + ": " +
                                               (db_ ? sqlite3_errmsg(db_) : "out of memory"));
  sqlite3_busy_timeout(db_, 5000);
  if (opt_.wal) {
    // Switching to WAL answers SQLITE_BUSY at once, without the busy handler, while another
    // connection (a second esink starting) holds a lock: retry for as long as the timeout.
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    while (!exec("PRAGMA journal_mode=WAL")) {
      int rc = sqlite3_errcode(db_);
      if ((rc != SQLITE_BUSY && rc != SQLITE_LOCKED) || std::chrono::steady_clock::now() > deadline)
        return fail(error::source_unavailable, message_);
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
  }
  return {};
}

inline std::error_code sqlite_source::install() {
  // BEGIN IMMEDIATE: a concurrent esink waits here instead of racing on the schema.
  if (!exec("BEGIN IMMEDIATE")) return fail(error::source_unavailable, message_);
  auto rollback = [&](error e, std::string msg) {
    exec("ROLLBACK");
    return fail(e, std::move(msg));
  };
  if (!exec("CREATE TABLE IF NOT EXISTS " + events_q_ +
            " (pos INTEGER PRIMARY KEY AUTOINCREMENT, tbl TEXT NOT NULL, op TEXT NOT NULL,"
            " row TEXT NOT NULL, at INTEGER NOT NULL);"
            "CREATE TABLE IF NOT EXISTS " + consumers_q_ + " (name TEXT PRIMARY KEY, pos INTEGER NOT NULL)"))
    return rollback(error::source_fatal, message_);

  for (auto& [spelled, t] : tables_) {
    auto cols = detail::sqlite_prepare(db_, "SELECT name, type FROM pragma_table_info(?1)");
    sqlite3_bind_text(cols.get(), 1, t.spelled.data(), static_cast<int>(t.spelled.size()), SQLITE_TRANSIENT);
    std::vector<std::pair<std::string, std::string>> columns;
    while (sqlite3_step(cols.get()) == SQLITE_ROW)
      columns.emplace_back(reinterpret_cast<const char*>(sqlite3_column_text(cols.get(), 0)),
                           detail::sqlite_upper(reinterpret_cast<const char*>(sqlite3_column_text(cols.get(), 1))));
    if (columns.empty()) return rollback(error::unknown_table, "TABLE_NAMES: table \"" + spelled + "\" does not exist");

    t.types.clear();
    for (auto& [name, type] : columns)
      t.types.set(name, type.find("BOOL") != std::string::npos ? detail::column_kind::boolean
                        : (type.empty() || type.find("BLOB") != std::string::npos) ? detail::column_kind::binary
                                                                                  : detail::column_kind::plain);
    static constexpr const char* ops[] = {"insert", "update", "delete"};
    for (const char* op : ops) {
      const char* rec = op[0] == 'd' ? "OLD." : "NEW.";
      // json_object takes at most 127 arguments: further columns are added with json_insert.
      std::string row;
      std::size_t i = 0;
      for (auto& [name, type] : columns) {
        std::string v = std::string(rec) + detail::quote_identifier(name);
        // A blob cannot go into JSON: spell it \x<hex>; esink re-encodes BLOB columns as base64.
        std::string expr = "CASE WHEN typeof(" + v + ")='blob' THEN '\\x'||hex(" + v + ")";
        if (type.find("JSON") != std::string::npos)
          expr += " WHEN typeof(" + v + ")='text' AND json_valid(" + v + ") THEN json(" + v + ")";
        expr += " ELSE " + v + " END";
        if (i % 60 == 0) row = i == 0 ? "json_object(" : "json_insert(" + row + ", ";
        else row += ", ";
        row += (i < 60 ? detail::quote_literal(name) : detail::quote_literal("$.\"" + name + "\"")) + ", " + expr;
        if (i % 60 == 59 || i + 1 == columns.size()) row += ")";
        ++i;
      }
      const std::string trig = opt_.prefix + "_" + op + "_" + t.spelled;
      const std::string sql = "CREATE TRIGGER " + detail::quote_identifier(trig) + " AFTER " +
                              detail::sqlite_upper(op) + " ON " + detail::quote_identifier(t.spelled) +
                              " BEGIN INSERT INTO " + events_q_ + " (tbl, op, row, at) VALUES (" +
                              detail::quote_literal(spelled) + ", '" + op + "', " + row +
                              ", CAST((julianday('now') - 2440587.5) * 86400000000.0 AS INTEGER)); END";
      auto have = detail::sqlite_prepare(db_, "SELECT sql FROM sqlite_master WHERE type = 'trigger' AND name = ?1");
      sqlite3_bind_text(have.get(), 1, trig.data(), static_cast<int>(trig.size()), SQLITE_TRANSIENT);
      bool same = false, exists = false;
      if (sqlite3_step(have.get()) == SQLITE_ROW) {
        exists = true;
        same = sql == reinterpret_cast<const char*>(sqlite3_column_text(have.get(), 0));
      }
      if (same) continue;  // unchanged columns: leave the application's schema alone
      if ((exists && !exec("DROP TRIGGER " + detail::quote_identifier(trig))) || !exec(sql))
        return rollback(error::source_fatal, message_);
    }
  }
  if (opt_.reset_on_start) {
    opt_.reset_on_start = false;
    if (!exec("DELETE FROM " + events_q_ + "; UPDATE " + consumers_q_ + " SET pos = 0"))
      return rollback(error::source_fatal, message_);
    delivered_ = acked_ = flushed_ = 0;
  }
  // A new consumer starts at the current end.
  if (!exec("INSERT OR IGNORE INTO " + consumers_q_ + " (name, pos) VALUES (" + detail::quote_literal(opt_.consumer) +
            ", coalesce((SELECT seq FROM sqlite_sequence WHERE name = " + detail::quote_literal(opt_.prefix + "_events") +
            "), 0))"))
    return rollback(error::source_fatal, message_);
  if (!exec("COMMIT")) return rollback(error::source_unavailable, message_);

  if (auto v = detail::sqlite_prepare(db_, "PRAGMA schema_version"); sqlite3_step(v.get()) == SQLITE_ROW)
    schema_version_ = sqlite3_column_int64(v.get(), 0);
  if (delivered_ == 0) {
    auto c = detail::sqlite_prepare(db_, "SELECT pos FROM " + consumers_q_ + " WHERE name = ?1");
    sqlite3_bind_text(c.get(), 1, opt_.consumer.data(), static_cast<int>(opt_.consumer.size()), SQLITE_TRANSIENT);
    if (sqlite3_step(c.get()) == SQLITE_ROW) {
      auto p = static_cast<std::uint64_t>(sqlite3_column_int64(c.get(), 0));
      delivered_ = acked_ = flushed_ = p;
    }
  }
  return {};
}

inline bool sqlite_source::flush_ack(bool force) {
  std::uint64_t a = acked_.load();
  if (a <= flushed_) return true;
  auto now = std::chrono::steady_clock::now();
  if (!force && now - last_flush_ < opt_.ack_flush_interval) return true;
  auto s = detail::sqlite_prepare(db_, "UPDATE " + consumers_q_ + " SET pos = max(pos, ?1) WHERE name = ?2");
  sqlite3_bind_int64(s.get(), 1, static_cast<sqlite3_int64>(a));
  sqlite3_bind_text(s.get(), 2, opt_.consumer.data(), static_cast<int>(opt_.consumer.size()), SQLITE_TRANSIENT);
  if (sqlite3_step(s.get()) != SQLITE_DONE) {
    message_ = std::string("sqlite_source: writing the cursor: ") + sqlite3_errmsg(db_);
    return false;
  }
  flushed_ = a;
  last_flush_ = now;
  return true;
}

inline bool sqlite_source::prune() {
  auto now = std::chrono::steady_clock::now();
  if (now - last_prune_ < std::chrono::seconds(5)) return true;
  last_prune_ = now;
  auto s = detail::sqlite_prepare(db_,
      "DELETE FROM " + events_q_ + " WHERE pos IN (SELECT pos FROM " + events_q_ + " ORDER BY pos LIMIT 10000)"
      " AND (pos <= (SELECT max(pos) FROM " + events_q_ + ") - ?1"
      " OR at < CAST((julianday('now') - 2440587.5) * 86400000000.0 AS INTEGER) - ?2 * 1000000)");
  sqlite3_bind_int64(s.get(), 1, static_cast<sqlite3_int64>(opt_.retention_count));
  sqlite3_bind_int64(s.get(), 2, static_cast<sqlite3_int64>(opt_.retention_age.count()));
  return sqlite3_step(s.get()) == SQLITE_DONE || sqlite3_errcode(db_) == SQLITE_BUSY;
}

template <class Sink> void sqlite_source::start(Sink& sink, std::error_code& ec) {
  ec.clear();
  if (thread_.joinable()) {
    ec = fail(error::bad_config, "sqlite_source: already started");
    return;
  }
  stopping_ = false;
  ec = open();
  if (!ec) ec = install();
  if (ec) {
    close();
    return;
  }
  thread_ = std::thread([this, &sink] { run(sink); });
}

template <class Sink> bool sqlite_source::deliver_batch(Sink& sink, bool& more) {
  more = false;
  auto s = detail::sqlite_prepare(db_, "SELECT pos, tbl, op, row, at FROM " + events_q_ +
                                           " WHERE pos > ?1 ORDER BY pos LIMIT ?2");
  sqlite3_bind_int64(s.get(), 1, static_cast<sqlite3_int64>(delivered_.load()));
  sqlite3_bind_int64(s.get(), 2, static_cast<sqlite3_int64>(opt_.batch_size));
  std::size_t n = 0;
  int rc;
  // Collect the page first: the read transaction ends before the sink (which may block) runs.
  std::vector<change_event> page;
  while ((rc = sqlite3_step(s.get())) == SQLITE_ROW) {
    ++n;
    change_event ev;
    ev.id = static_cast<std::uint64_t>(sqlite3_column_int64(s.get(), 0));
    ev.table = reinterpret_cast<const char*>(sqlite3_column_text(s.get(), 1));
    parse_change_type(reinterpret_cast<const char*>(sqlite3_column_text(s.get(), 2)), ev.type);
    std::string_view text(reinterpret_cast<const char*>(sqlite3_column_text(s.get(), 3)),
                          static_cast<std::size_t>(sqlite3_column_bytes(s.get(), 3)));
    ev.commit_time_us = sqlite3_column_int64(s.get(), 4);
    auto it = tables_.find(ev.table);
    if (it != tables_.end()) {
      std::error_code pec;
      ev.row = detail::parse_row(text, it->second.types, pec);
    } else {
      ev.table.clear();  // another esink's table: skip, but advance past it
    }
    page.push_back(std::move(ev));
  }
  s.reset();
  if (rc != SQLITE_DONE) {
    message_ = std::string("sqlite_source: fetching events: ") + sqlite3_errmsg(db_);
    return rc == SQLITE_BUSY || rc == SQLITE_LOCKED;
  }
  for (auto& ev : page) {
    if (stopping_) return true;
    std::uint64_t id = ev.id;
    if (!ev.table.empty()) sink.on_change(std::move(ev));
    delivered_ = id;
  }
  more = n == opt_.batch_size;
  return true;
}

template <class Sink> void sqlite_source::run(Sink& sink) {
  sink.on_status({});
  auto version = detail::sqlite_prepare(db_, "PRAGMA data_version");
  auto schema = detail::sqlite_prepare(db_, "PRAGMA schema_version");
  bool healthy = true;
  while (!stopping_) {
    // data_version changes when another connection (any process) commits: a cheap check.
    sqlite3_reset(version.get());
    std::int64_t v = data_version_;
    if (sqlite3_step(version.get()) == SQLITE_ROW) v = sqlite3_column_int64(version.get(), 0);
    sqlite3_reset(version.get());  // an unreset statement would pin its read snapshot
    if (v != data_version_) {
      data_version_ = v;
      std::int64_t sv = schema_version_;
      if (sqlite3_step(schema.get()) == SQLITE_ROW) sv = sqlite3_column_int64(schema.get(), 0);
      sqlite3_reset(schema.get());
      if (sv != schema_version_) {
        // A watched table may have changed columns: regenerate its triggers.
        if (auto ec = install()) {
          sink.on_status(ec);
          healthy = false;
        }
      }
      bool more = true;
      while (more && !stopping_) {
        if (!deliver_batch(sink, more)) {
          sink.on_status(make_error_code(error::source_unavailable));
          healthy = false;
          break;
        }
      }
      if (!more && !healthy) {
        healthy = true;
        sink.on_status({});
      }
    }
    flush_ack(false);
    prune();
    wake_.wait(-1, opt_.poll_interval);
  }
  flush_ack(true);
}

}  // namespace esink

#endif
