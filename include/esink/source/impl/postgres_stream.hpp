#ifndef ESINK_SOURCE_IMPL_POSTGRES_STREAM_HPP
#define ESINK_SOURCE_IMPL_POSTGRES_STREAM_HPP

// The logical capture of postgres_source (ESINK_PG_CAPTURE=logical): a replication connection
// streams esink's logical decoding messages from a slot of its own, in commit order, each
// transaction after its commit. Included by source/postgres.hpp.

#include <esink/source/detail/pgoutput.hpp>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <limits>
#include <string>

namespace esink {

inline std::error_code postgres_source::start_stream() {
  end_stream();
  using detail::pg_exec;
  using detail::pg_ok;
  in_txn_ = false;
  reply_due_ = false;
  stream_caught_up_ = false;
  if (delivered_ == 0 && txns_.empty()) {
    // A fresh process: resume inside the transaction a previous one acknowledged in part.
    const std::string sql = "SELECT txn_lsn::text, done FROM " + schema_q_ + ".slots WHERE slot = $1";
    auto r = pg_exec(conn_, sql.c_str(), {slot_.c_str()});
    if (!pg_ok(r)) return fail(error::source_unavailable, sql_error("reading the slot's progress"));
    if (PQntuples(r.get()) == 1 && detail::pgoutput::parse_lsn(PQgetvalue(r.get(), 0, 0), partial_lsn_)) {
      partial_done_ = std::strtoull(PQgetvalue(r.get(), 0, 1), nullptr, 10);
      saved_lsn_ = partial_lsn_;
      saved_done_ = partial_done_;
    }
  }
  auto wal = pg_exec(conn_, "SELECT pg_catalog.pg_current_wal_lsn()::text");
  if (!pg_ok(wal) || !detail::pgoutput::parse_lsn(PQgetvalue(wal.get(), 0, 0), target_lsn_))
    return fail(error::source_unavailable, sql_error("reading the WAL position"));

  // The same server and credentials, as a replication connection.
  const char* keys[] = {"dbname", "replication", nullptr};
  const char* values[] = {opt_.url.c_str(), "database", nullptr};
  stream_ = PQconnectStartParams(keys, values, 1);
  auto stream_error = [this](const std::string& what) {
    return "postgres_source: " + what + " (slot " + slot_ + "): " + (stream_ ? PQerrorMessage(stream_) : "no connection");
  };
  if (!stream_ || PQstatus(stream_) == CONNECTION_BAD)
    return fail(error::source_unavailable, stream_error("opening the replication connection"));
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  for (PostgresPollingStatusType st = PGRES_POLLING_WRITING; st != PGRES_POLLING_OK;) {
    if (st == PGRES_POLLING_FAILED) {
      // Most often: the user lacks the REPLICATION attribute, or pg_hba.conf has no
      // `replication` line for it. PostgreSQL's message says which.
      return fail(error::source_fatal, stream_error("opening the replication connection (needs a user with "
                                                     "REPLICATION and a pg_hba.conf replication entry)"));
    }
    if (stopping_) return fail(error::source_unavailable, "postgres_source: stopped while connecting");
    if (std::chrono::steady_clock::now() > deadline)
      return fail(error::source_unavailable, "postgres_source: replication connection timed out");
    wake_.wait(PQsocket(stream_), std::chrono::milliseconds(200), st == PGRES_POLLING_READING ? POLLIN : POLLOUT);
    st = PQconnectPoll(stream_);
  }
  PQsetNoticeProcessor(stream_, [](void*, const char*) {}, nullptr);

  // A slot stays in use until the walsender that held it has exited, which lags behind the
  // connection's close: an esink restarted at once (or a reconnect after a cut stream) finds
  // it busy for a moment. Such a command is retried for a few seconds before it counts.
  auto exec_slot_command = [this](const std::string& command) {
    const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    for (;;) {
      detail::pg_result r(PQexec(stream_, command.c_str()));
      const char* state = r ? PQresultErrorField(r.get(), PG_DIAG_SQLSTATE) : nullptr;
      const bool busy = state && std::strcmp(state, "55006") == 0;  // object_in_use
      if (!busy || stopping_ || std::chrono::steady_clock::now() > until) return r;
      wake_.wait(-1, std::chrono::milliseconds(50));
    }
  };
  // Slot names are [a-z0-9_] by construction: safe as they are in these commands.
  if (drop_slot_) {
    auto dropped = exec_slot_command("DROP_REPLICATION_SLOT " + slot_);
    const char* state = dropped ? PQresultErrorField(dropped.get(), PG_DIAG_SQLSTATE) : nullptr;
    if (!pg_ok(dropped) && !(state && std::strcmp(state, "42704") == 0))  // 42704: there was none
      return fail(error::source_unavailable, stream_error("dropping the replication slot (reset_on_start)"));
    drop_slot_ = false;
    partial_lsn_ = partial_done_ = saved_lsn_ = saved_done_ = 0;
  }
  auto have = detail::pg_result(
      PQexec(stream_, ("SELECT 1 FROM pg_catalog.pg_replication_slots WHERE slot_name = '" + slot_ + "'").c_str()));
  if (!pg_ok(have)) return fail(error::source_unavailable, stream_error("looking up the replication slot"));
  if (PQntuples(have.get()) == 0) {
    // Created now, the slot streams what commits from now on: a new consumer starts at the end.
    auto made = detail::pg_result(PQexec(stream_, ("CREATE_REPLICATION_SLOT " + slot_ + " LOGICAL pgoutput NOEXPORT_SNAPSHOT").c_str()));
    const char* state = made ? PQresultErrorField(made.get(), PG_DIAG_SQLSTATE) : nullptr;
    if (!pg_ok(made) && !(state && std::strcmp(state, "42710") == 0))  // 42710: created by another esink meanwhile
      return fail(error::source_fatal, stream_error("creating the replication slot"));
  }
  const std::string start = "START_REPLICATION SLOT " + slot_ +
                            " LOGICAL 0/0 (proto_version '1', publication_names " +
                            detail::quote_literal(detail::quote_identifier(publication_)) + ", messages 'true')";
  auto started = exec_slot_command(start);
  if (!started || PQresultStatus(started.get()) != PGRES_COPY_BOTH) {
    std::string why = stream_error("starting the replication stream");
    if (why.find("is active") != std::string::npos)
      why += " (another esink with the same ESINK_CONSUMER streams from this slot; give each esink its own consumer)";
    return fail(error::source_unavailable, why);
  }
  last_status_ = last_heard_ = std::chrono::steady_clock::now();
  return {};
}

inline void postgres_source::end_stream() noexcept {
  if (!stream_) return;
  // Ends the COPY so that the server has read every status update sent before closing.
  if (PQputCopyEnd(stream_, nullptr) == 1 && PQflush(stream_) == 0) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(500);
    char* buf = nullptr;
    int n = 0;
    while (std::chrono::steady_clock::now() < deadline && PQconsumeInput(stream_)) {
      while ((n = PQgetCopyData(stream_, &buf, 1)) > 0) PQfreemem(buf);
      if (n < 0) break;
      wake_.wait(PQsocket(stream_), std::chrono::milliseconds(50));
    }
  }
  PQfinish(stream_);
  stream_ = nullptr;
}

template <class Sink> bool postgres_source::pump_stream(Sink& sink) {
  if (!PQconsumeInput(stream_)) {
    message_ = "postgres_source: reading the replication stream: " + std::string(PQerrorMessage(stream_));
    return false;
  }
  for (;;) {
    char* buf = nullptr;
    const int n = PQgetCopyData(stream_, &buf, 1);
    if (n == 0) break;
    if (n == -1) {
      message_ = "postgres_source: the server ended the replication stream";
      return false;
    }
    if (n < 0) {
      message_ = "postgres_source: reading the replication stream: " + std::string(PQerrorMessage(stream_));
      return false;
    }
    last_heard_ = std::chrono::steady_clock::now();
    const bool ok = on_stream_message(sink, std::string_view(buf, static_cast<std::size_t>(n)));
    PQfreemem(buf);
    if (!ok) return false;
    if (stopping_) return true;
  }
  return flush_stream(false);
}

template <class Sink> bool postgres_source::on_stream_message(Sink& sink, std::string_view data) {
  namespace po = detail::pgoutput;
  const po::copy_message m = po::parse_copy(data);
  if (m.kind == po::copy_message::keepalive) {
    server_pos_ = std::max(server_pos_, m.wal_end);
    if (m.wal_end >= target_lsn_) stream_caught_up_ = true;
    reply_due_ = reply_due_ || m.reply_requested;
    return true;
  }
  if (m.kind == po::copy_message::malformed) {
    message_ = "postgres_source: malformed replication message";
    return false;
  }
  if (m.kind != po::copy_message::xlog_data) return true;
  const po::logical_message l = po::parse_logical(m.data);
  switch (l.kind) {
    case po::logical_message::begin:
      in_txn_ = true;
      txn_final_lsn_ = l.final_lsn;
      txn_time_us_ = l.commit_time_us;
      txn_index_ = 0;
      // After a reconnect the slot streams again what was not confirmed: skip what was delivered.
      txn_skip_ = l.final_lsn <= done_lsn_          ? std::numeric_limits<std::uint64_t>::max()
                  : l.final_lsn == partial_lsn_ ? partial_done_
                                                  : 0;
      return true;
    case po::logical_message::commit:
      in_txn_ = false;
      done_lsn_ = std::max(done_lsn_, l.final_lsn);
      server_pos_ = std::max(server_pos_, l.end_lsn);
      if (!txns_.empty() && txns_.back().end_lsn == 0 && txns_.back().final_lsn == l.final_lsn)
        txns_.back().end_lsn = l.end_lsn;
      if (l.end_lsn >= target_lsn_) stream_caught_up_ = true;
      return true;
    case po::logical_message::message: break;
    case po::logical_message::malformed:
      message_ = "postgres_source: malformed pgoutput message";
      return false;
    default: return true;
  }
  if (!l.transactional || !in_txn_ || l.prefix != prefix_) return true;
  if (++txn_index_ <= txn_skip_) return true;
  change_type op;
  std::string_view table, row;
  if (!po::parse_content(l.content, op, table, row)) return true;  // not written by this esink's trigger
  auto it = tables_.find(std::string(table));
  if (it == tables_.end()) return true;  // another esink's table in the shared schema
  change_event ev;
  ev.id = delivered_.load() + 1;
  ev.table = it->first;
  ev.type = op;
  if (!parse_event_row(it->second, row, ev.row)) return false;
  ev.commit_time_us = txn_time_us_;
  const std::uint64_t id = ev.id;
  sink.on_change(std::move(ev));
  delivered_ = id;
  if (txns_.empty() || txns_.back().end_lsn != 0 || txns_.back().final_lsn != txn_final_lsn_)
    txns_.push_back(stream_txn{id, id, txn_final_lsn_, 0, {}});
  txns_.back().last_id = id;
  txns_.back().index.push_back(txn_index_);
  partial_lsn_ = txn_final_lsn_;
  partial_done_ = txn_index_;
  return true;
}

inline bool postgres_source::flush_stream(bool force) {
  const std::uint64_t a = acked_.load();
  while (!txns_.empty() && txns_.front().end_lsn != 0 && txns_.front().last_id <= a) {
    confirmed_lsn_ = std::max(confirmed_lsn_, txns_.front().end_lsn);
    txns_.pop_front();
  }
  // Nothing delivered is pending: the slot may move past everything streamed so far (other
  // transactions' WAL), or it would hold WAL back for nothing.
  if (txns_.empty() && !in_txn_ && delivered_.load() <= a) confirmed_lsn_ = std::max(confirmed_lsn_, server_pos_);
  const auto now = std::chrono::steady_clock::now();

  // The slot confirms whole transactions: a transaction acknowledged in part is recorded.
  if (!txns_.empty() && txns_.front().first_id <= a && conn_ && (force || now - last_flush_ >= opt_.ack_flush_interval)) {
    const stream_txn& t = txns_.front();
    const std::uint64_t done = t.index[std::min(a, t.last_id) - t.first_id];
    if (t.final_lsn != saved_lsn_ || done != saved_done_) {
      const std::string sql = "INSERT INTO " + schema_q_ + ".slots (slot, txn_lsn, done) VALUES ($1, $2::pg_lsn, $3) "
                              "ON CONFLICT (slot) DO UPDATE SET txn_lsn = excluded.txn_lsn, done = excluded.done";
      const std::string lsn = detail::pgoutput::lsn_text(t.final_lsn), d = std::to_string(done);
      if (!detail::pg_ok(detail::pg_exec(conn_, sql.c_str(), {slot_.c_str(), lsn.c_str(), d.c_str()}))) {
        message_ = sql_error("recording the slot's progress");
        return false;
      }
      saved_lsn_ = t.final_lsn;
      saved_done_ = done;
      last_flush_ = now;
    }
  }

  // A server that vanished without closing the connection: every periodic status asks for a
  // reply, so three unanswered ones mean the connection is dead.
  if (!force && now - last_heard_ >= std::chrono::seconds(35)) {
    message_ = "postgres_source: no reply from the server on the replication connection for 35 s";
    return false;
  }
  const bool periodic = now - last_status_ >= std::chrono::seconds(10);
  const bool due = force || reply_due_ || periodic ||
                   (confirmed_lsn_ > sent_lsn_ && now - last_status_ >= opt_.ack_flush_interval);
  if (!due || !stream_) return true;
  const auto unix_us =
      std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::system_clock::now().time_since_epoch()).count();
  const std::string status = detail::pgoutput::status_update(confirmed_lsn_, unix_us, periodic && !force);
  if (PQputCopyData(stream_, status.data(), static_cast<int>(status.size())) != 1 || PQflush(stream_) != 0) {
    message_ = "postgres_source: confirming the replication position: " + std::string(PQerrorMessage(stream_));
    return false;
  }
  sent_lsn_ = confirmed_lsn_;
  last_status_ = now;
  reply_due_ = false;
  return true;
}

}  // namespace esink

#endif
