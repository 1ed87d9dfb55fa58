#ifndef ESINK_SOURCE_SQLITE_HPP
#define ESINK_SOURCE_SQLITE_HPP

#include <esink/error.hpp>
#include <esink/source/change_event.hpp>
#include <esink/source/detail/row_parser.hpp>
#include <esink/source/detail/wake_pipe.hpp>
#include <esink/source/table_list.hpp>

#include <sqlite3.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <map>
#include <string>
#include <system_error>
#include <thread>
#include <vector>

namespace esink {

/// Configuration of @ref sqlite_source.
struct sqlite_options {
  /// The database file (ESINK_SQLITE_PATH); created when missing.
  std::string path;
  /// Watched tables (TABLE_NAMES); only the `main` schema.
  std::string tables;
  /// Cursor name, as for @ref postgres_options::consumer.
  std::string consumer = "esink";
  /// Prefix of esink's tables and triggers: `<prefix>_events`, `<prefix>_consumers`.
  std::string prefix = "esink";
  /// How often `PRAGMA data_version` is checked for commits by other connections or processes.
  std::chrono::milliseconds poll_interval{2};
  std::chrono::seconds retention_age = std::chrono::hours(24 * 7);
  std::uint64_t retention_count = 1'000'000;
  std::chrono::milliseconds ack_flush_interval{200};
  std::size_t batch_size = 1000;
  /// Switch the file to WAL mode (persistent): readers then never hold up the application's writers.
  bool wal = true;
  /// Empty the event table and rewind every cursor on start (the seed's behaviour, opt-in).
  bool reset_on_start = false;

  /// Reads ESINK_SQLITE_PATH and TABLE_NAMES (and ESINK_CONSUMER when set).
  static sqlite_options from_env();
};

/** A Source for SQLite: row triggers write each change to an event table; a dedicated
    connection notices commits from any process through `PRAGMA data_version` and hands the
    events to the sink. SQLite serializes writers, so event ids are in commit order.

    @par Thread safety
    As @ref postgres_source.
*/
class sqlite_source {
public:
  using event_type = change_event;

  /// Validates the configuration; throws std::invalid_argument naming the bad setting.
  explicit sqlite_source(sqlite_options opt);
  sqlite_source(const sqlite_source&) = delete;
  sqlite_source& operator=(const sqlite_source&) = delete;
  ~sqlite_source();

  /// Opens the file, installs the event table and triggers (regenerated when a watched table's
  /// columns changed), then starts the polling thread. Errors: error::unknown_table,
  /// error::source_unavailable, error::source_fatal; details in @ref error_message.
  template <class Sink> void start(Sink& sink, std::error_code& ec);
  /// Stops the thread after the current sink call, writes back the acknowledged position.
  void stop();
  /// Every event up to `id` was handled: a restart resumes after it.
  void acknowledge(std::uint64_t id) noexcept;
  const std::string& error_message() const noexcept { return message_; }
  std::uint64_t delivered() const noexcept { return delivered_.load(); }

private:
  struct table_state {
    std::string spelled;
    detail::column_types types;
  };

  template <class Sink> void run(Sink& sink);
  template <class Sink> bool deliver_batch(Sink& sink, bool& more);
  std::error_code open();
  std::error_code install();
  bool exec(const std::string& sql);
  bool flush_ack(bool force);
  bool prune();
  std::error_code fail(error e, std::string msg);
  void close() noexcept;

  sqlite_options opt_;
  std::map<std::string, table_state> tables_;
  std::string events_q_, consumers_q_;
  sqlite3* db_ = nullptr;
  std::int64_t data_version_ = -1, schema_version_ = -1;
  std::thread thread_;
  detail::wake_pipe wake_;
  std::atomic<bool> stopping_{false};
  std::atomic<std::uint64_t> delivered_{0}, acked_{0};
  std::uint64_t flushed_ = 0;
  std::chrono::steady_clock::time_point last_flush_{}, last_prune_{};
  std::string message_;
};

}  // namespace esink

#include <esink/source/impl/sqlite.hpp>

#endif
