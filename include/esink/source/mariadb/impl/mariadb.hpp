#ifndef ESINK_SOURCE_MARIADB_IMPL_MARIADB_HPP
#define ESINK_SOURCE_MARIADB_IMPL_MARIADB_HPP

#include <boost/json/parse.hpp>

#include <algorithm>
#include <cstdlib>
#include <set>

namespace esink {

namespace detail::mariadb {

inline std::string env_value(const char* name, bool& present) {
  const char* v = std::getenv(name);
  present = v != nullptr;
  std::string s = v ? v : "";
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.pop_back();
  std::size_t b = 0;
  while (b < s.size() && (s[b] == ' ' || s[b] == '\t')) ++b;
  s.erase(0, b);
  if (s.size() >= 2 && ((s.front() == '\'' && s.back() == '\'') || (s.front() == '"' && s.back() == '"')))
    s = s.substr(1, s.size() - 2);
  return s;
}

inline std::int64_t now_us() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

/// The column name in MariaDB's `json_valid(`name`)` check clause, or empty.
inline std::string json_check_column(std::string_view clause) {
  constexpr std::string_view head = "json_valid(`";
  if (clause.size() < head.size() + 2 || clause.substr(0, head.size()) != head ||
      clause.substr(clause.size() - 2) != "`)")
    return {};
  std::string_view body = clause.substr(head.size(), clause.size() - head.size() - 2);
  std::string out;
  for (std::size_t i = 0; i < body.size(); ++i) {
    out += body[i];
    if (body[i] == '`') {
      if (i + 1 >= body.size() || body[i + 1] != '`') return {};
      ++i;
    }
  }
  return out;
}

}  // namespace detail::mariadb

inline mariadb_options mariadb_options::from_environment(std::error_code& ec) {
  using detail::mariadb::env_value;
  ec.clear();
  mariadb_options o;
  bool p = false;
  if (auto v = env_value("MYSQL_HOST", p); p && !v.empty()) o.host = v;
  if (auto v = env_value("MYSQL_PORT", p); p && !v.empty()) {
    char* end = nullptr;
    unsigned long port = std::strtoul(v.c_str(), &end, 10);
    if (*end != '\0' || port == 0 || port > 65535) {
      ec = make_error_code(error::bad_config);
      return o;
    }
    o.port = static_cast<unsigned>(port);
  }
  o.user = env_value("MYSQL_USERNAME", p);
  o.password = env_value("MYSQL_PASSWORD", p);
  o.database = env_value("MYSQL_DATABASE", p);
  if (auto v = env_value("MYSQL_TABLE_TARGET", p); p && !v.empty()) o.event_table = v;
  bool have_tables = false;
  std::string tables = env_value("TABLE_NAMES", have_tables);
  if (o.database.empty() || !have_tables) {
    ec = make_error_code(error::bad_config);
    return o;
  }
  o.tables = parse_table_list(tables, ec);
  return o;
}

inline void mariadb_source::set_message(std::string m) {
  std::lock_guard<std::mutex> lk(msg_mutex_);
  message_ = std::move(m);
}

inline std::error_code mariadb_source::validate() {
  auto bad = [this](std::string m) {
    set_message("mariadb_source: " + std::move(m));
    return make_error_code(error::bad_config);
  };
  if (opts_.database.empty()) return bad("MYSQL_DATABASE is empty");
  if (opts_.tables.empty()) return bad("no table to watch (TABLE_NAMES is empty)");
  if (opts_.event_table.empty() || opts_.event_table.size() + 7 > 64)
    return bad("MYSQL_TABLE_TARGET must be 1 to 57 characters (the cursor table appends _cursor)");
  if (opts_.consumer.empty() || opts_.consumer.size() > 191) return bad("consumer name must be 1 to 191 characters");
  if (opts_.page_size == 0) return bad("page_size must be positive");
  if (opts_.poll_interval.count() <= 0) return bad("poll_interval must be positive");
  for (const auto& t : opts_.tables)
    if (t.name.size() > 64 || t.schema.size() > 64) return bad("table name longer than 64 characters: " + t.qualified());
  using detail::mariadb::quote_ident;
  q_event_ = quote_ident(opts_.database) + "." + quote_ident(opts_.event_table);
  q_cursor_ = quote_ident(opts_.database) + "." + quote_ident(opts_.event_table + "_cursor");
  lock_name_ = "esink_" + detail::mariadb::hex(detail::mariadb::fnv1a(opts_.database + '\0' + opts_.event_table), 16);
  params_ = {opts_.host, opts_.user, opts_.password, opts_.database, opts_.port, opts_.connect_timeout,
             opts_.io_timeout};
  return {};
}

inline bool mariadb_source::connect(detail::mariadb::db_error& err) {
  if (!conn_.open(params_, err)) return false;
  detail::mariadb::result r;
  if (!conn_.query("SELECT VERSION()", r, err)) return false;
  if (r.next()) is_mariadb_ = r.str(0).find("MariaDB") != std::string_view::npos;
  return true;
}

inline std::error_code mariadb_source::install(detail::mariadb::db_error& err) {
  using namespace detail::mariadb;
  auto fail = [&](std::string what) {
    set_message("mariadb_source: " + what + ": " + err.message);
    return err.condition();
  };
  // Serializes installers: two esinks starting at once neither duplicate nor drop triggers.
  result r;
  if (!conn_.query("SELECT GET_LOCK(" + quote_string(lock_name_) + ", 60)", r, err)) return fail("GET_LOCK");
  if (!r.next() || r.str(0) != "1") {
    err = {ER_LOCK_WAIT_TIMEOUT, "another esink held the install lock for 60 s"};
    return fail("install lock");
  }
  std::error_code ec;
  [&] {
    if (!conn_.exec(create_event_table_sql(opts_.database, opts_.event_table), err)) {
      ec = fail("creating the event table " + q_event_);
      return;
    }
    if (!conn_.exec(create_cursor_table_sql(opts_.database, opts_.event_table + "_cursor"), err)) {
      ec = fail("creating the cursor table " + q_cursor_);
      return;
    }
    if (opts_.reset_on_start && (!conn_.exec("TRUNCATE TABLE " + q_event_, err) ||
                                 !conn_.exec("DELETE FROM " + q_cursor_, err))) {
      ec = fail("resetting the event table");
      return;
    }
    // A new consumer's cursor is created before any trigger, so it misses no trigger's event.
    if (!conn_.query("SELECT COUNT(*) FROM " + q_cursor_ + " WHERE consumer = " + quote_string(opts_.consumer), r,
                     err) ||
        !r.next()) {
      ec = fail("reading the cursor table " + q_cursor_);
      return;
    }
    if (r.str(0) == "0" &&
        !conn_.exec("INSERT IGNORE INTO " + q_cursor_ + " (consumer, high_water, gaps, seq, updated_us) SELECT " +
                        quote_string(opts_.consumer) + ", COALESCE(MAX(id), 0), '', 0, " + std::to_string(now_us()) +
                        " FROM " + q_event_,
                    err)) {
      ec = fail("creating the cursor of consumer '" + opts_.consumer + "'");
      return;
    }
    // Gap resolution reads innodb_trx: check the privilege now rather than fail later.
    if (!conn_.query("SELECT COUNT(*) FROM information_schema.INNODB_TRX", r, err)) {
      ec = fail("reading information_schema.INNODB_TRX (grant PROCESS to the esink user)");
      return;
    }
    tables_.clear();
    by_key_.clear();
    for (const auto& t : opts_.tables) {
      watched w{t.schema.empty() ? opts_.database : t.schema, t.name, t.qualified()};
      if ((ec = install_table(w, err))) return;
      by_key_[w.db + '\0' + w.name] = w.configured;
      tables_.push_back(std::move(w));
    }
  }();
  db_error ignored;
  conn_.exec("UNLOCK TABLES", ignored);
  conn_.exec("DO RELEASE_LOCK(" + quote_string(lock_name_) + ")", ignored);
  return ec;
}

inline std::error_code mariadb_source::install_table(watched& w, detail::mariadb::db_error& err) {
  using namespace detail::mariadb;
  auto fail = [&](std::string what) {
    set_message("mariadb_source: " + what + ": " + err.message);
    return err.condition();
  };
  std::string where = " WHERE TABLE_SCHEMA = " + quote_string(w.db) + " AND TABLE_NAME = " + quote_string(w.name);
  result r;
  // information_schema compares names case-insensitively: filter exact spellings here.
  if (!conn_.query("SELECT TABLE_NAME, TABLE_TYPE FROM information_schema.TABLES" + where, r, err))
    return fail("looking up table " + w.configured);
  bool found = false, base = false;
  while (r.next())
    if (r.str(0) == w.name) found = true, base = r.str(1) == "BASE TABLE";
  if (!found) {
    set_message("mariadb_source: unknown table `" + w.configured + "` (not found in database `" + w.db + "`)");
    return make_error_code(error::unknown_table);
  }
  if (!base) {
    set_message("mariadb_source: `" + w.configured + "` is a view; only base tables can have triggers");
    return make_error_code(error::bad_config);
  }
  if (!conn_.query("SELECT TABLE_NAME, COLUMN_NAME, DATA_TYPE, COLUMN_TYPE, DATETIME_PRECISION "
                   "FROM information_schema.COLUMNS" + where + " ORDER BY ORDINAL_POSITION",
                   r, err))
    return fail("reading the columns of " + w.configured);
  std::vector<column_info> cols;
  while (r.next()) {
    if (r.str(0) != w.name) continue;
    column_info c{std::string(r.str(1)), std::string(r.str(2)), std::string(r.str(3)),
                  static_cast<unsigned>(r.u64(4)), false};
    for (auto& ch : c.data_type) ch = static_cast<char>(ch >= 'A' && ch <= 'Z' ? ch - 'A' + 'a' : ch);
    c.is_json = c.data_type == "json";
    cols.push_back(std::move(c));
  }
  if (is_mariadb_) {
    if (!conn_.query("SELECT TABLE_NAME, CHECK_CLAUSE FROM information_schema.CHECK_CONSTRAINTS "
                     "WHERE CONSTRAINT_SCHEMA = " + quote_string(w.db) + " AND TABLE_NAME = " + quote_string(w.name),
                     r, err))
      return fail("reading the check constraints of " + w.configured);
    while (r.next()) {
      if (r.str(0) != w.name) continue;
      std::string col = json_check_column(r.str(1));
      for (auto& c : cols)
        if (!col.empty() && c.name == col && c.data_type == "longtext") c.is_json = true;
    }
  }
  std::string prefix = trigger_prefix(opts_.database, opts_.event_table, w.db, w.name);
  std::uint64_t sig = column_signature(cols, opts_.event_table);
  std::set<std::string> want{trigger_name(prefix, sig, 'i'), trigger_name(prefix, sig, 'u'),
                             trigger_name(prefix, sig, 'd')};
  if (!conn_.query("SELECT TRIGGER_NAME, EVENT_OBJECT_TABLE FROM information_schema.TRIGGERS "
                   "WHERE TRIGGER_SCHEMA = " + quote_string(w.db) + " AND EVENT_OBJECT_TABLE = " + quote_string(w.name),
                   r, err))
    return fail("reading the triggers of " + w.configured);
  std::set<std::string> have;
  while (r.next())
    if (r.str(1) == w.name && r.str(0).substr(0, prefix.size()) == prefix) have.emplace(r.str(0));
  if (have == want) return {};

  // Swap under a write lock: no application row slips between drop and create, none is
  // recorded twice. Writers wait for the few milliseconds this takes, only when it changes.
  if (!conn_.exec("LOCK TABLES " + quote_ident(w.db) + "." + quote_ident(w.name) + " WRITE, " + q_event_ + " WRITE",
                  err))
    return fail("locking " + w.configured + " to install triggers");
  for (const auto& name : have)
    if (!want.count(name) && !conn_.exec("DROP TRIGGER IF EXISTS " + quote_ident(w.db) + "." + quote_ident(name), err))
      return fail("dropping stale trigger " + name);
  for (char op : {'i', 'u', 'd'}) {
    std::string name = trigger_name(prefix, sig, op);
    if (have.count(name)) continue;
    if (!conn_.exec(create_trigger_sql(name, w.db, w.name, opts_.database, opts_.event_table, cols, op), err))
      return fail("creating trigger " + name + " on " + w.configured);
  }
  if (!conn_.exec("UNLOCK TABLES", err)) return fail("UNLOCK TABLES");
  return {};
}

inline bool mariadb_source::load_cursor(detail::mariadb::db_error& err) {
  using namespace detail::mariadb;
  std::string who = quote_string(opts_.consumer);
  result r;
  if (!conn_.query("SELECT high_water, gaps, seq FROM " + q_cursor_ + " WHERE consumer = " + who, r, err))
    return false;
  cursor_state s;
  if (r.next()) {
    s.high_water = r.u64(0);
    s.seq = r.u64(2);
    if (!s.parse_gaps(r.str(1))) {
      err = {ER_UNKNOWN_ERROR, "the cursor row of consumer '" + opts_.consumer + "' is corrupt"};
      return false;
    }
  } else {
    err = {ER_UNKNOWN_ERROR, "the cursor row of consumer '" + opts_.consumer + "' disappeared"};
    return false;
  }
  live_ = s;
  saved_.reset(s);
  saved_dirty_ = false;
  acked_.store(s.seq);
  reads_.clear();
  snapshots_.clear();
  snapshot_high_water_ = dead_below_ = 0;
  stats_.open_gaps = live_.gaps.size();
  return true;
}

template <class Sink> void mariadb_source::start(Sink& sink, std::error_code& ec) {
  stop();
  ec = validate();
  if (ec) return;
  detail::mariadb::db_error err;
  if (!connect(err)) {
    set_message("mariadb_source: cannot connect to " + opts_.host + ":" + std::to_string(opts_.port) + ": " +
                err.message);
    ec = err.condition();
    return;
  }
  if ((ec = install(err))) {
    conn_.close();
    return;
  }
  if (!load_cursor(err)) {
    set_message("mariadb_source: loading the cursor: " + err.message);
    ec = err.condition();
    conn_.close();
    return;
  }
  {
    std::lock_guard<std::mutex> lk(mutex_);
    stopping_.store(false);
  }
  next_save_ = next_snapshot_ = clock::now();
  next_prune_ = clock::now() + std::chrono::seconds(1);
  thread_ = std::thread([this, &sink] { run(sink); });
}

inline void mariadb_source::stop() {
  {
    std::lock_guard<std::mutex> lk(mutex_);
    stopping_.store(true);
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

inline bool mariadb_source::wait_for(clock::time_point until) {
  std::unique_lock<std::mutex> lk(mutex_);
  return !cv_.wait_until(lk, until, [this] { return stopping_.load(); });
}

inline void mariadb_source::log_op(detail::mariadb::acked_cursor::op_kind k, std::uint64_t a, std::uint64_t b) {
  saved_.log(live_.seq, k, a, b);
}

inline bool mariadb_source::read_rows(const std::string& where, std::vector<row>& out,
                                      detail::mariadb::db_error& err) {
  detail::mariadb::result r;
  if (!conn_.query("SELECT id, db_name, table_name, op, row_data, created_us FROM " + q_event_ + " WHERE " + where +
                       " ORDER BY id LIMIT " + std::to_string(opts_.page_size),
                   r, err))
    return false;
  stats_.polls.fetch_add(1, std::memory_order_relaxed);
  out.clear();
  out.reserve(static_cast<std::size_t>(r.size()));
  while (r.next()) {
    std::string_view op = r.str(3);
    out.push_back({r.u64(0), std::string(r.str(1)), std::string(r.str(2)), op.empty() ? 'i' : op[0],
                   std::string(r.str(4)), r.i64(5)});
  }
  return true;
}

/// `id IN (...) OR id BETWEEN a AND b ...` over the first gaps; `last_covered` is the highest id
/// the condition reaches (gaps above it are checked on a later round).
inline std::string mariadb_source::gap_condition(std::uint64_t& last_covered) const {
  constexpr std::size_t max_terms = 1000;
  std::string singles, ranges;
  std::size_t n = 0;
  last_covered = 0;
  for (const auto& [a, b] : live_.gaps) {
    if (n++ == max_terms) break;
    if (a == b) {
      if (!singles.empty()) singles += ',';
      singles += std::to_string(a);
    } else {
      if (!ranges.empty()) ranges += " OR ";
      ranges += "id BETWEEN " + std::to_string(a) + " AND " + std::to_string(b);
    }
    last_covered = b;
  }
  std::string out = singles.empty() ? "" : "id IN (" + singles + ")";
  if (!ranges.empty()) out += (out.empty() ? "" : " OR ") + ranges;
  return "(" + out + ")";
}

template <class Sink> bool mariadb_source::deliver(Sink& sink, row& r) {
  auto it = by_key_.find(r.db + '\0' + r.table);
  if (it == by_key_.end()) return false;  // another configuration's table sharing the event table
  change_event ev;
  ev.id = ++live_.seq;
  ev.table = it->second;
  ev.type = r.op == 'u' ? change_type::update : r.op == 'd' ? change_type::remove : change_type::insert;
  std::error_code jec;
  boost::json::value v = boost::json::parse(r.data, jec);
  if (!jec && v.is_object()) ev.row = std::move(v.as_object());
  ev.commit_time_us = r.created_us;
  sink.on_change(std::move(ev));
  stats_.delivered.fetch_add(1, std::memory_order_relaxed);
  return true;
}

template <class Sink> bool mariadb_source::poll(Sink& sink, bool& more, detail::mariadb::db_error& err) {
  using op = detail::mariadb::acked_cursor::op_kind;
  more = false;
  // New rows first, then gaps: a gap row that committed before any new row did is then
  // seen by the gap query, and delivered first (commit order across the two queries).
  std::vector<row> fresh, filled;
  if (!read_rows("id > " + std::to_string(live_.high_water), fresh, err)) return false;
  std::uint64_t dead_below = dead_below_, last_covered = 0;
  if (!live_.gaps.empty()) {
    if (!read_rows(gap_condition(last_covered), filled, err)) return false;
  }
  bool fill_full = filled.size() == opts_.page_size;
  for (auto& r : filled) {
    if (stopping_requested()) return true;
    live_.fill(r.id);
    stats_.open_gaps.store(live_.gaps.size(), std::memory_order_relaxed);
    deliver(sink, r);
    log_op(op::fill, r.id);
  }
  if (fill_full) {
    /* gap rows beyond this page may predate the new rows: deliver those first */
    more = true;
    return true;
  }
  // Gaps that no open transaction can own and the query just made did not find: rolled back.
  std::uint64_t dead_to = std::min(dead_below, last_covered);
  if (dead_to && !live_.gaps.empty() && live_.gaps.begin()->first <= dead_to) {
    live_.erase(0, dead_to);
    stats_.open_gaps.store(live_.gaps.size(), std::memory_order_relaxed);
    log_op(op::erase, 0, dead_to);
  }
  for (auto& r : fresh) {
    if (stopping_requested()) return true;
    live_.advance(r.id);
    stats_.open_gaps.store(live_.gaps.size(), std::memory_order_relaxed);  // before the sink sees it
    deliver(sink, r);
    log_op(op::advance, r.id);
  }
  reads_.emplace_back(clock::now(), live_.high_water);
  more = fresh.size() == opts_.page_size;
  return true;
}

inline bool mariadb_source::resolve_gaps(detail::mariadb::db_error& err) {
  using namespace detail::mariadb;
  auto now = clock::now();
  // innodb_trx is a cache refreshed at most every 100 ms: only gaps revealed by reads that
  // ended more than that before this query can be judged by it.
  const auto staleness = std::chrono::milliseconds(150);
  std::uint64_t revealed = 0;
  while (!reads_.empty() && reads_.front().first + staleness <= now) {
    revealed = reads_.front().second;
    reads_.pop_front();
  }
  bool new_gaps = revealed > snapshot_high_water_ && !live_.gaps.empty() &&
                  live_.gaps.rbegin()->second > snapshot_high_water_;
  if (!new_gaps && snapshots_.empty()) {
    if (revealed > snapshot_high_water_) snapshot_high_water_ = revealed;
    return true;
  }
  if (now < next_snapshot_) {
    if (revealed) reads_.emplace_front(now - staleness, revealed);  // keep it for the next round
    return true;
  }
  next_snapshot_ = now + std::chrono::milliseconds(100);
  result r;
  if (!conn_.query("SELECT trx_id FROM information_schema.INNODB_TRX WHERE trx_lock_structs > 0", r, err))
    return false;
  std::vector<std::uint64_t> open;
  while (r.next()) open.push_back(r.u64(0));
  std::sort(open.begin(), open.end());
  // A snapshot whose transactions have all ended owns no future row; later snapshots hold
  // every still-open writer of earlier ones, so they finish in order.
  while (!snapshots_.empty()) {
    const auto& s = snapshots_.front();
    bool alive = std::any_of(s.trx.begin(), s.trx.end(),
                             [&](std::uint64_t t) { return std::binary_search(open.begin(), open.end(), t); });
    if (alive) break;
    dead_below_ = std::max(dead_below_, s.high_water);
    snapshots_.pop_front();
  }
  if (revealed > snapshot_high_water_) {
    snapshot_high_water_ = revealed;
    if (open.empty())
      dead_below_ = std::max(dead_below_, revealed);
    else
      snapshots_.push_back({revealed, std::move(open)});
  }
  return true;
}

inline bool mariadb_source::save_cursor(detail::mariadb::db_error& err) {
  if (saved_.acknowledge(acked_.load(std::memory_order_relaxed))) saved_dirty_ = true;
  if (!saved_dirty_) return true;
  const auto& s = saved_.state();
  using detail::mariadb::quote_string;
  if (!conn_.exec("UPDATE " + q_cursor_ + " SET high_water = " + std::to_string(s.high_water) + ", gaps = '" +
                      s.gaps_text() + "', seq = " + std::to_string(s.seq) +
                      ", updated_us = " + std::to_string(detail::mariadb::now_us()) +
                      " WHERE consumer = " + quote_string(opts_.consumer),
                  err))
    return false;
  saved_dirty_ = false;
  return true;
}

inline bool mariadb_source::prune(detail::mariadb::db_error& err) {
  detail::mariadb::result r;
  if (!conn_.query("SELECT MIN(id), MAX(id) FROM " + q_event_, r, err)) return false;
  if (!r.next() || r.is_null(0)) return true;
  std::uint64_t lo = r.u64(0), hi = r.u64(1);
  // Bounded steps from the low end, so no statement holds locks for long.
  const std::uint64_t step = 10000;
  if (hi - lo + 1 > opts_.retention_count) {
    std::uint64_t upto = std::min(hi - opts_.retention_count, lo + step);
    if (!conn_.exec("DELETE FROM " + q_event_ + " WHERE id <= " + std::to_string(upto), err)) return false;
  }
  std::int64_t cutoff = detail::mariadb::now_us() -
                        std::chrono::duration_cast<std::chrono::microseconds>(opts_.retention_age).count();
  return conn_.exec("DELETE FROM " + q_event_ + " WHERE id < " + std::to_string(lo + step) +
                        " AND created_us < " + std::to_string(cutoff),
                    err);
}

template <class Sink> void mariadb_source::run(Sink& sink) {
  using detail::mariadb::db_error;
  std::error_code reported = make_error_code(error::source_unavailable);
  auto report = [&](std::error_code ec) {
    if (ec != reported) sink.on_status(reported = ec);
  };
  auto backoff = opts_.reconnect_min;
  auto next_tick = clock::now();
  while (!stopping_requested()) {
    db_error err;
    if (!conn_.is_open()) {
      std::error_code ec;
      if (!connect(err) || (ec = install(err))) {
        if (!ec) ec = err.condition();
        set_message("mariadb_source: reconnecting: " + err.message);
        conn_.close();
        report(ec == error::source_fatal ? ec : make_error_code(error::source_unavailable));
        if (!wait_for(clock::now() + backoff)) break;
        backoff = std::min(backoff * 2, opts_.reconnect_max);
        continue;
      }
      stats_.reconnects.fetch_add(1, std::memory_order_relaxed);
      backoff = opts_.reconnect_min;
      next_tick = clock::now();
    }
    if (stopping_requested()) break;
    bool more = false;
    bool ok = poll(sink, more, err) && resolve_gaps(err);
    auto now = clock::now();
    if (ok && now >= next_save_) {
      next_save_ = now + std::chrono::milliseconds(200);
      ok = save_cursor(err);
    }
    if (ok && now >= next_prune_) {
      next_prune_ = now + std::chrono::seconds(10);
      ok = prune(err);
    }
    if (!ok) {
      set_message("mariadb_source: " + err.message);
      conn_.close();
      report(make_error_code(error::source_unavailable));
      if (!wait_for(clock::now() + backoff)) break;
      backoff = std::min(backoff * 2, opts_.reconnect_max);
      continue;
    }
    if (more) continue;  // a full page: read the next one now
    report({});
    // Fixed-rate ticks: the wait counts from the start of the previous round of reads.
    next_tick += opts_.poll_interval;
    if (next_tick < now) next_tick = now;
    if (!wait_for(next_tick)) break;
  }
  if (conn_.is_open()) {
    db_error err;
    save_cursor(err);
  }
  conn_.close();
}

}  // namespace esink

#endif
