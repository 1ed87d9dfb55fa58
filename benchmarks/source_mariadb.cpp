// MariaDB source throughput and latency, beside the raw rate of its own poll query.
//
// Needs a server: MYSQL_HOST/PORT/USERNAME/PASSWORD/DATABASE in the environment, e.g.
//   tests/fixtures/mariadb/mariadb_fixture.sh start /tmp/mb /tmp/mb.env
//   set -a; . /tmp/mb.env; set +a; ./benchmarks/bench_source_mariadb
// Phase 1: writers flat out (batched transactions), changes/s committed and delivered.
// Phase 2: writers paced at 30,000 changes/s, commit-to-sink latency p50/p99.
// Baseline: the poll query itself (same SQL, same page size) paging through the event table.
#include <esink/source/mariadb.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace {

using clk = std::chrono::steady_clock;
namespace mdb = esink::detail::mariadb;

std::string env(const char* n, const char* def = "") {
  const char* v = std::getenv(n);
  return v ? v : def;
}

mdb::connect_params params() {
  return {env("MYSQL_HOST", "127.0.0.1"), env("MYSQL_USERNAME"), env("MYSQL_PASSWORD"), env("MYSQL_DATABASE"),
          static_cast<unsigned>(std::stoul(env("MYSQL_PORT", "3306"))), std::chrono::seconds(5),
          std::chrono::seconds(60)};
}

void must(mdb::connection& c, const std::string& sql) {
  mdb::db_error err;
  if (!c.exec(sql, err)) {
    std::fprintf(stderr, "SQL failed: %s\n  %s\n", err.message.c_str(), sql.c_str());
    std::exit(1);
  }
}

struct bench_sink {
  esink::mariadb_source* src = nullptr;
  std::vector<std::int64_t> recv_ns;  // by row value v
  std::atomic<std::uint64_t> count{0};
  void on_change(esink::change_event&& e) {
    auto v = e.row.at("v").as_int64();
    if (v >= 0 && static_cast<std::size_t>(v) < recv_ns.size())
      recv_ns[static_cast<std::size_t>(v)] = clk::now().time_since_epoch().count();
    count.fetch_add(1, std::memory_order_release);
    src->acknowledge(e.id);
  }
  void on_status(std::error_code) {}
};

struct phase_result {
  double commit_rate = 0, deliver_rate = 0, p50_ms = 0, p99_ms = 0, max_ms = 0;
  std::size_t rows = 0;
};

// Writers insert `batch` rows per transaction; `rate` 0 means flat out.
phase_result run_phase(bench_sink& sink, std::atomic<std::int64_t>& next_v, int writers, int batch,
                       double seconds, double rate) {
  std::vector<std::int64_t> commit_ns(sink.recv_ns.size(), 0);
  std::uint64_t start_count = sink.count.load();
  std::int64_t first_v = next_v.load();
  auto t0 = clk::now();
  auto end = t0 + std::chrono::duration_cast<clk::duration>(std::chrono::duration<double>(seconds));
  std::vector<std::thread> ws;
  for (int w = 0; w < writers; ++w)
    ws.emplace_back([&, w] {
      mdb::connection c;
      mdb::db_error err;
      if (!c.open(params(), err)) {
        std::fprintf(stderr, "writer connect: %s\n", err.message.c_str());
        std::exit(1);
      }
      double per_writer = rate / writers;
      std::int64_t sent = 0;
      while (clk::now() < end) {
        if (rate > 0) {  // pace: the batch is due at t0 + sent / per_writer
          auto due = t0 + std::chrono::duration_cast<clk::duration>(std::chrono::duration<double>(sent / per_writer));
          std::this_thread::sleep_until(due);
        }
        std::int64_t v0 = next_v.fetch_add(batch);
        if (v0 + batch > static_cast<std::int64_t>(commit_ns.size())) break;
        std::string sql = "INSERT INTO bench_t (v, payload) VALUES ";
        for (int i = 0; i < batch; ++i) {
          if (i) sql += ',';
          sql += "(" + std::to_string(v0 + i) + ",'payload-abcdefghijklmnopqrstuvwxyz')";
        }
        must(c, "BEGIN");
        must(c, sql);
        auto tc = clk::now().time_since_epoch().count();  // before COMMIT: latency errs high
        must(c, "COMMIT");
        for (int i = 0; i < batch; ++i) commit_ns[static_cast<std::size_t>(v0 + i)] = tc;
        sent += batch;
        (void)w;
      }
    });
  for (auto& t : ws) t.join();
  auto t_commit = clk::now();
  std::int64_t last_v = next_v.load();
  if (last_v > static_cast<std::int64_t>(commit_ns.size())) last_v = static_cast<std::int64_t>(commit_ns.size());
  std::size_t rows = static_cast<std::size_t>(last_v - first_v);
  auto deadline = clk::now() + std::chrono::seconds(60);
  while (sink.count.load(std::memory_order_acquire) - start_count < rows && clk::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  phase_result r;
  r.rows = rows;
  std::vector<double> lat;
  std::int64_t last_recv = 0;
  for (std::int64_t v = first_v; v < last_v; ++v) {
    auto c = commit_ns[static_cast<std::size_t>(v)], d = sink.recv_ns[static_cast<std::size_t>(v)];
    if (!c || !d) continue;
    lat.push_back(std::max<double>(0, static_cast<double>(d - c)) / 1e6);
    last_recv = std::max(last_recv, d);
  }
  std::sort(lat.begin(), lat.end());
  auto pct = [&](double p) { return lat.empty() ? 0 : lat[std::min(lat.size() - 1, static_cast<std::size_t>(p * lat.size()))]; };
  r.p50_ms = pct(0.50);
  r.p99_ms = pct(0.99);
  r.max_ms = lat.empty() ? 0 : lat.back();
  double commit_s = std::chrono::duration<double>(t_commit - t0).count();
  double deliver_s = static_cast<double>(last_recv - t0.time_since_epoch().count()) / 1e9;
  r.commit_rate = rows / commit_s;
  r.deliver_rate = lat.size() / deliver_s;
  if (lat.size() != rows) std::fprintf(stderr, "warning: %zu of %zu rows delivered\n", lat.size(), rows);
  return r;
}

// The source's poll query, same text and page size, paging through the whole event table.
double raw_poll_rate(const std::string& event_table, std::size_t page, std::size_t& rows_read) {
  mdb::connection c;
  mdb::db_error err;
  if (!c.open(params(), err)) std::exit(1);
  std::uint64_t hw = 0;
  rows_read = 0;
  auto t0 = clk::now();
  for (;;) {
    mdb::result r;
    if (!c.query("SELECT id, db_name, table_name, op, row_data, created_us FROM " + mdb::quote_ident(params().database) +
                     "." + mdb::quote_ident(event_table) + " WHERE id > " + std::to_string(hw) +
                     " ORDER BY id LIMIT " + std::to_string(page),
                 r, err))
      std::exit(1);
    std::size_t n = 0;
    while (r.next()) {
      hw = r.u64(0);
      volatile auto sz = r.str(4).size();  // touch the row as the source does
      (void)sz;
      ++n;
    }
    rows_read += n;
    if (n < page) break;
  }
  return rows_read / std::chrono::duration<double>(clk::now() - t0).count();
}

}  // namespace

int main(int argc, char** argv) {
  if (env("MYSQL_DATABASE").empty()) {
    std::fprintf(stderr, "set MYSQL_HOST, MYSQL_PORT, MYSQL_USERNAME, MYSQL_PASSWORD, MYSQL_DATABASE\n");
    return 2;
  }
  int writers = argc > 1 ? std::atoi(argv[1]) : 4;
  int batch = argc > 2 ? std::atoi(argv[2]) : 500;
  double seconds = argc > 3 ? std::atof(argv[3]) : 5;
  {
    mdb::connection c;
    mdb::db_error err;
    if (!c.open(params(), err)) {
      std::fprintf(stderr, "connect: %s\n", err.message.c_str());
      return 1;
    }
    must(c, "DROP TABLE IF EXISTS bench_t");
    must(c, "DROP TABLE IF EXISTS bench_events");
    must(c, "DROP TABLE IF EXISTS bench_events_cursor");
    must(c, "CREATE TABLE bench_t (id BIGINT AUTO_INCREMENT PRIMARY KEY, v BIGINT NOT NULL, payload VARCHAR(64))");
  }
  esink::mariadb_options o;
  o.host = env("MYSQL_HOST", "127.0.0.1");
  o.port = static_cast<unsigned>(std::stoul(env("MYSQL_PORT", "3306")));
  o.user = env("MYSQL_USERNAME");
  o.password = env("MYSQL_PASSWORD");
  o.database = env("MYSQL_DATABASE");
  o.tables = {{"", "bench_t"}};
  o.event_table = "bench_events";
  o.consumer = "bench";  // poll_interval and page_size: defaults (250 ms, 1000 rows)
  esink::mariadb_source src(o);
  bench_sink sink;
  sink.src = &src;
  sink.recv_ns.assign(4'000'000, 0);
  std::error_code ec;
  src.start(sink, ec);
  if (ec) {
    std::fprintf(stderr, "start: %s\n", src.error_message().c_str());
    return 1;
  }
  std::atomic<std::int64_t> next_v{0};
  phase_result flat = run_phase(sink, next_v, writers, batch, seconds, 0);
  phase_result paced = run_phase(sink, next_v, writers, batch, seconds, 30000);
  src.stop();
  std::size_t raw_rows = 0;
  double raw = raw_poll_rate(o.event_table, o.page_size, raw_rows);

  std::printf("MariaDB source: %d writers x %d-row transactions, poll interval %lld ms, page %zu rows\n", writers,
              batch, static_cast<long long>(o.poll_interval.count()), o.page_size);
  std::printf("%-34s %12s %12s %9s %9s %9s\n", "phase", "committed/s", "delivered/s", "p50 ms", "p99 ms", "max ms");
  std::printf("%-34s %12.0f %12.0f %9.1f %9.1f %9.1f\n", "writers flat out", flat.commit_rate, flat.deliver_rate,
              flat.p50_ms, flat.p99_ms, flat.max_ms);
  std::printf("%-34s %12.0f %12.0f %9.1f %9.1f %9.1f\n", "writers paced at 30,000/s", paced.commit_rate,
              paced.deliver_rate, paced.p50_ms, paced.p99_ms, paced.max_ms);
  std::printf("%-34s %12s %12.0f   (baseline: %zu rows, no triggers, no sink)\n", "raw poll query, same SQL", "-", raw,
              raw_rows);
  return 0;
}
