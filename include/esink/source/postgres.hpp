#ifndef ESINK_SOURCE_POSTGRES_HPP
#define ESINK_SOURCE_POSTGRES_HPP

#include <esink/error.hpp>
#include <esink/source/change_event.hpp>
#include <esink/source/detail/backoff.hpp>
#include <esink/source/detail/row_parser.hpp>
#include <esink/source/detail/wake_pipe.hpp>
#include <esink/source/table_list.hpp>

#include <libpq-fe.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <deque>
#include <map>
#include <string>
#include <system_error>
#include <thread>
#include <vector>

namespace esink {

/// Configuration of @ref postgres_source.
struct postgres_options {
  /// libpq connection string or URL (POSTGRES_DATABASE_URL).
  std::string url;
  /// Watched tables (TABLE_NAMES), see @ref parse_table_list.
  std::string tables;
  /// Cursor name: esinks with different names each receive every event and keep their own
  /// position; esinks sharing a name share one position.
  std::string consumer = "esink";
  /// Schema holding the event table, functions and cursors; also the NOTIFY channel name.
  std::string schema = "esink";
  /// Sequenced events older than this are pruned.
  std::chrono::seconds retention_age = std::chrono::hours(24 * 7);
  /// At most this many sequenced events are kept.
  std::uint64_t retention_count = 1'000'000;
  /// Reconnect backoff: first delay and cap.
  std::chrono::milliseconds backoff_initial{100}, backoff_max{10'000};
  /// How often the acknowledged position is written back to the database.
  std::chrono::milliseconds ack_flush_interval{100};
  /// Events fetched per round trip.
  std::size_t batch_size = 1000;
  /// The seed's behaviour: empty the event table and rewind every cursor on start (opt-in);
  /// with the logical capture, recreate this consumer's slot at the current end.
  bool reset_on_start = false;
  /// How changes are captured (ESINK_PG_CAPTURE):
  /// - `table`: triggers write each change to the event table and NOTIFY (works everywhere);
  /// - `logical`: triggers write each change into the WAL as a logical decoding message and
  ///   esink streams them from a replication slot of its own. Cheaper for the application's
  ///   writes (no event table, no NOTIFY queue lock); needs `wal_level = logical` and a user
  ///   with the REPLICATION attribute. Every esink sharing `schema` must use the same capture.
  std::string capture = "table";

  /// Reads POSTGRES_DATABASE_URL and TABLE_NAMES (and ESINK_CONSUMER, ESINK_PG_CAPTURE when set).
  static postgres_options from_env();
};

/** A Source for PostgreSQL: statement triggers write each change to a durable event table
    and NOTIFY the transaction id; one thread per source records the notified transactions in
    commit order (one narrow row per transaction, which gives its events their positions) and
    hands the events to the sink, sequencing and fetching in one round trip.

    Every committed change is delivered exactly once (relative to @ref acknowledge) in commit
    order, across reconnects, database restarts and esink restarts; rolled-back changes never.
    See docs/sources.md for the precise ordering guarantee and the type mapping.

    @par Thread safety
    `start` and `stop` from one controlling thread; `acknowledge` from any thread. Sink calls
    happen on the source's own thread.
*/
class postgres_source {
public:
  using event_type = change_event;

  /// Validates the configuration; throws std::invalid_argument naming the bad setting.
  explicit postgres_source(postgres_options opt);
  postgres_source(const postgres_source&) = delete;
  postgres_source& operator=(const postgres_source&) = delete;
  ~postgres_source();

  /** Connects, installs the event table, functions and triggers (idempotent, serialized by an
      advisory lock), LISTENs, catches up on what committed while no esink was running, then
      starts the delivery thread.

      @param sink `on_change(change_event&&)` and `on_status(std::error_code)`, see source/concept.hpp
      @param ec error::unknown_table (see @ref error_message for the name),
             error::source_unavailable (cannot connect) or error::source_fatal
  */
  template <class Sink> void start(Sink& sink, std::error_code& ec);

  /// Stops the thread after the current sink call, writes back the acknowledged position.
  void stop();

  /// Every event up to `id` was handled: a restart resumes after it.
  void acknowledge(std::uint64_t id) noexcept;

  /// Human-readable detail of the last error (names the table, quotes the server message).
  const std::string& error_message() const noexcept { return message_; }

  /// The position of the last event handed to the sink.
  std::uint64_t delivered() const noexcept { return delivered_.load(); }

private:
  struct table_state {
    std::string spelled;  // as configured: the event's table name and the trigger argument
    std::string quoted;   // "schema"."name" or "name"
    detail::column_types types;
  };

  template <class Sink> void run(Sink& sink);
  template <class Sink> bool pump_stream(Sink& sink);
  template <class Sink> bool on_stream_message(Sink& sink, std::string_view data);
  std::error_code start_stream();
  bool flush_stream(bool force);
  void end_stream() noexcept;
  template <class Sink> bool pump(Sink& sink);
  template <class Sink> bool deliver_batch(Sink& sink, bool& more);
  template <class Sink> bool deliver_row(Sink& sink, const PGresult* r, int i);

  std::error_code connect();
  std::error_code prepare();
  std::error_code install();
  std::error_code migrate();
  std::error_code load_types(table_state& t);
  bool parse_event_row(table_state& t, std::string_view text, boost::json::object& row);
  bool flush_ack(bool force);
  bool prune();
  void disconnect() noexcept;
  std::error_code fail(error e, std::string msg);
  std::string sql_error(const char* what) const;

  postgres_options opt_;
  std::vector<table_name> names_;
  std::map<std::string, table_state> tables_;  // by spelled name
  std::string schema_q_, chan_q_;
  PGconn* conn_ = nullptr;
  std::thread thread_;
  detail::wake_pipe wake_;
  detail::backoff backoff_;
  std::atomic<bool> stopping_{false};
  std::atomic<std::uint64_t> delivered_{0};
  // Where delivered_ is: 0 the end of a transaction, > 0 the events.id of the event at
  // delivered_ inside a transaction, -1 unknown.
  std::int64_t resume_id_ = 0;
  std::atomic<std::uint64_t> acked_{0};
  std::uint64_t flushed_ = 0;
  std::chrono::steady_clock::time_point last_flush_{}, last_prune_{};
  std::vector<std::uint64_t> pending_xids_;
  std::string xid_array_;
  std::uint64_t horizon_ = 0;  // from a marker NOTIFY: to record with the pending xids
  bool catch_up_ = true;
  std::string message_;

  // Logical capture: positions are this process's own (1, 2, ...); what a restart resumes
  // from is the slot's confirmed LSN, plus `slots.done` for a transaction acknowledged in part.
  struct stream_txn {
    std::uint64_t first_id, last_id, final_lsn, end_lsn;  // end_lsn 0 while its commit is unseen
    std::vector<std::uint64_t> index;  // per event: its message's index in the transaction
  };
  bool logical_ = false;
  bool drop_slot_ = false;  // reset_on_start: the slot is recreated at the current end
  PGconn* stream_ = nullptr;
  std::string slot_, publication_, prefix_;
  std::uint64_t target_lsn_ = 0;  // the WAL end at connect: the stream is caught up past it
  bool stream_caught_up_ = false;
  bool in_txn_ = false;
  std::uint64_t txn_final_lsn_ = 0, txn_index_ = 0, txn_skip_ = 0;
  std::int64_t txn_time_us_ = 0;
  std::uint64_t done_lsn_ = 0;                        // final LSN of the last transaction wholly delivered
  std::uint64_t partial_lsn_ = 0, partial_done_ = 0;  // a transaction delivered in part
  std::deque<stream_txn> txns_;                       // delivered, not yet confirmed
  std::uint64_t server_pos_ = 0, confirmed_lsn_ = 0, sent_lsn_ = 0;
  std::uint64_t saved_lsn_ = 0, saved_done_ = 0;      // the `slots` row
  bool reply_due_ = false;
  std::chrono::steady_clock::time_point last_status_{}, last_heard_{};
};

}  // namespace esink

#include <esink/source/impl/postgres.hpp>
#include <esink/source/impl/postgres_stream.hpp>

#endif
