#ifndef ESINK_SOURCE_MARIADB_HPP
#define ESINK_SOURCE_MARIADB_HPP

#include <esink/error.hpp>
#include <esink/source/change_event.hpp>
#include <esink/source/mariadb/detail/connection.hpp>
#include <esink/source/mariadb/detail/cursor.hpp>
#include <esink/source/mariadb/detail/trigger_sql.hpp>
#include <esink/source/table_list.hpp>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <mutex>
#include <string>
#include <system_error>
#include <thread>
#include <unordered_map>
#include <utility>
#include <vector>

namespace esink {

/// Settings of @ref mariadb_source; @ref from_environment reads the seed's variables.
struct mariadb_options {
  std::string host = "127.0.0.1";  ///< MYSQL_HOST
  unsigned port = 3306;            ///< MYSQL_PORT
  std::string user;                ///< MYSQL_USERNAME
  std::string password;            ///< MYSQL_PASSWORD
  std::string database;            ///< MYSQL_DATABASE: holds the event table; default schema of tables
  std::vector<table_name> tables;  ///< TABLE_NAMES; `db.table` watches a table in another database
  std::string event_table = "esink_pubsub";  ///< MYSQL_TABLE_TARGET; the cursor table is `<this>_cursor`
  std::string consumer = "esink";  ///< names this esink's cursor: a restart resumes where it stopped
  std::chrono::milliseconds poll_interval{250};  ///< idle poll period: the seed's 4 polls a second
  std::size_t page_size = 1000;    ///< rows per poll query; a full page is followed at once by the next
  bool reset_on_start = false;     ///< the seed's behaviour: empty the event table and all cursors on start
  std::chrono::seconds retention_age{7 * 24 * 3600};  ///< events older than this are pruned
  std::uint64_t retention_count = 1000000;             ///< at most this many events are kept
  std::chrono::milliseconds reconnect_min{100};        ///< first reconnect delay, doubled up to max
  std::chrono::milliseconds reconnect_max{5000};
  std::chrono::seconds connect_timeout{5};
  std::chrono::seconds io_timeout{60};  ///< read/write timeout of one query

  /// Reads MYSQL_HOST, MYSQL_PORT, MYSQL_USERNAME, MYSQL_PASSWORD, MYSQL_DATABASE,
  /// MYSQL_TABLE_TARGET and TABLE_NAMES; surrounding single quotes (as in the seed's compose
  /// file) are tolerated. @ref error::bad_config when MYSQL_DATABASE or TABLE_NAMES is missing
  /// or malformed, or MYSQL_PORT is not a port.
  static mariadb_options from_environment(std::error_code& ec);
};

/** Source of committed changes from MySQL 8 / MariaDB 10.11, by triggers and polling.

    On start it installs (idempotently, under `GET_LOCK`) the event table, a cursor table and,
    per watched table, AFTER INSERT/UPDATE/DELETE triggers writing the row as JSON into the
    event table. Its own thread then polls the event table every `poll_interval`, reading page
    after page while pages come back full, and hands each change to the sink in commit order.
    Ids handed out by AUTO_INCREMENT at insert time are tracked with their gaps, so a
    transaction that commits after a later one is delivered, not skipped; see
    docs/sources-mariadb.md for the argument and its cost.

    Event ids are a per-consumer delivery sequence, persisted with the cursor: after a restart
    delivery resumes after the last acknowledged event.

    @par Thread safety
    `start` and `stop` from one thread; `acknowledge` from any thread. Sink calls are made on
    the source's own thread.
*/
class mariadb_source {
public:
  using event_type = change_event;

  explicit mariadb_source(mariadb_options opts) : opts_(std::move(opts)) {}
  mariadb_source(const mariadb_source&) = delete;
  mariadb_source& operator=(const mariadb_source&) = delete;
  ~mariadb_source() { stop(); }

  /// Connects, installs tables and triggers, loads the cursor and starts the polling thread.
  /// Startup errors go to `ec` (@ref error::unknown_table, @ref error::bad_config,
  /// @ref error::source_unavailable, @ref error::source_fatal) with the detail in
  /// @ref error_message; no thread is started then.
  template <class Sink> void start(Sink& sink, std::error_code& ec);

  /// Stops polling, saves the cursor, joins the thread. No sink call is made after it returns.
  /// A sink blocked in `on_change` must be released by its owner for this to return.
  void stop();

  /// Every event with an id up to `id` was delivered; the saved cursor may move past it.
  void acknowledge(std::uint64_t id) noexcept {
    std::uint64_t cur = acked_.load(std::memory_order_relaxed);
    while (id > cur && !acked_.compare_exchange_weak(cur, id, std::memory_order_relaxed)) {
    }
  }

  /// Human-readable detail of the last startup or connection error.
  std::string error_message() const {
    std::lock_guard<std::mutex> lk(msg_mutex_);
    return message_;
  }

  /// Counters, readable from any thread.
  struct statistics {
    std::atomic<std::uint64_t> polls{0};        ///< poll queries run
    std::atomic<std::uint64_t> delivered{0};    ///< events handed to the sink
    std::atomic<std::uint64_t> reconnects{0};   ///< connections re-established after a failure
    std::atomic<std::uint64_t> open_gaps{0};    ///< unresolved id ranges below the high-water mark
  };
  const statistics& stats() const noexcept { return stats_; }

private:
  struct watched {
    std::string db, name;    ///< exact spelling in the server
    std::string configured;  ///< spelling in TABLE_NAMES, used in events
  };
  struct row {
    std::uint64_t id;
    std::string db, table;
    char op;
    std::string data;
    std::int64_t created_us;
  };
  struct trx_snapshot {
    std::uint64_t high_water;          ///< gaps up to here were revealed before the snapshot
    std::vector<std::uint64_t> trx;    ///< writing transactions open at the snapshot
  };
  using clock = std::chrono::steady_clock;

  std::error_code validate();
  bool connect(detail::mariadb::db_error& err);
  std::error_code install(detail::mariadb::db_error& err);
  std::error_code install_table(watched& w, detail::mariadb::db_error& err);
  bool load_cursor(detail::mariadb::db_error& err);
  bool read_rows(const std::string& where, std::vector<row>& out, detail::mariadb::db_error& err);
  std::string gap_condition(std::uint64_t& last_covered) const;
  bool resolve_gaps(detail::mariadb::db_error& err);
  bool save_cursor(detail::mariadb::db_error& err);
  bool prune(detail::mariadb::db_error& err);
  bool wait_for(clock::time_point until);
  bool stopping_requested() const noexcept { return stopping_.load(std::memory_order_relaxed); }
  void set_message(std::string m);
  void log_op(detail::mariadb::acked_cursor::op_kind k, std::uint64_t a, std::uint64_t b = 0);

  template <class Sink> void run(Sink& sink);
  template <class Sink> bool poll(Sink& sink, bool& more, detail::mariadb::db_error& err);
  template <class Sink> bool deliver(Sink& sink, row& r);

  mariadb_options opts_;
  detail::mariadb::connect_params params_;
  detail::mariadb::connection conn_;
  std::string q_event_, q_cursor_;  ///< quoted `db`.`table` names
  std::string lock_name_;
  bool is_mariadb_ = true;
  std::vector<watched> tables_;
  std::unordered_map<std::string, std::string> by_key_;  ///< db '\0' table -> configured name

  detail::mariadb::cursor_state live_;     ///< what has been delivered
  detail::mariadb::acked_cursor saved_;    ///< what has been acknowledged
  bool saved_dirty_ = false;               ///< saved_ moved since the cursor row was written
  std::atomic<std::uint64_t> acked_{0};
  std::deque<std::pair<clock::time_point, std::uint64_t>> reads_;  ///< (read end, high_water)
  std::deque<trx_snapshot> snapshots_;
  std::uint64_t snapshot_high_water_ = 0;  ///< gaps up to here belong to some snapshot
  std::uint64_t dead_below_ = 0;           ///< unfilled gaps up to here have no live owner
  clock::time_point next_snapshot_{}, next_save_{}, next_prune_{};

  std::thread thread_;
  std::mutex mutex_;
  std::condition_variable cv_;
  std::atomic<bool> stopping_{false};
  mutable std::mutex msg_mutex_;
  std::string message_;
  statistics stats_;
};

}  // namespace esink

#include <esink/source/mariadb/impl/mariadb.hpp>

#endif
