// postgres_source throughput and commit-to-sink latency, beside plain NOTIFY in the same run.
//
//   source_postgres_bench [seconds=5] [writers=4] [esink_only_rate | catch-up]
//
// Runs esink with each capture (table: event table + NOTIFY; logical: WAL messages streamed
// from a replication slot, which the fixture's wal_level = logical allows).
// With a third argument only esink runs, paced to that total rate (0 = unpaced), or only the
// catch-up (the consumer alone: rows committed while the source was stopped): for profiling;
// ESINK_PG_CAPTURE picks the capture then (default table).
//
// Uses ESINK_BENCH_PG_URL when set, else starts a throwaway server with the test fixture script.
// Baselines, same writers, one LISTENer counting:
//   raw NOTIFY   each transaction is `SELECT pg_notify(...)`: no row change at all (the issue's
//                baseline);
//   seed NOTIFY  the same INSERT as esink's writers, a row trigger NOTIFYing the row (the seed's
//                design: not durable, fails rows over 8000 bytes).
// Rates count every delivered change over the time from the first write to the last delivery, so
// a source that falls behind shows a lower rate. Latency = sink time - the writer's clock just
// before its statement (an upper bound on commit->sink). When the server runs on this machine, the
// CPU columns split the cost: the writers' server processes per transaction, the consumer's server
// process and the consumer's thread (LISTENer or source) per delivered change.
#include <esink/source/postgres.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <fstream>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <poll.h>
#include <sys/resource.h>
#include <unistd.h>

namespace {
using clk = std::chrono::steady_clock;
std::int64_t now_us() {
  return std::chrono::duration_cast<std::chrono::microseconds>(clk::now().time_since_epoch()).count();
}

PGconn* connect(const std::string& url) {
  PGconn* c = PQconnectdb(url.c_str());
  if (PQstatus(c) != CONNECTION_OK) { std::fprintf(stderr, "connect: %s", PQerrorMessage(c)); std::exit(1); }
  return c;
}
std::string exec(PGconn* c, const std::string& sql) {
  PGresult* r = PQexec(c, sql.c_str());
  auto st = PQresultStatus(r);
  if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) { std::fprintf(stderr, "%s: %s", sql.c_str(), PQerrorMessage(c)); std::exit(1); }
  std::string first = st == PGRES_TUPLES_OK && PQntuples(r) > 0 ? PQgetvalue(r, 0, 0) : "";
  PQclear(r);
  return first;
}

// CPU seconds of a local server process (utime + stime), or -1 when it is not on this machine.
double process_cpu(int pid) {
  std::ifstream f("/proc/" + std::to_string(pid) + "/stat");
  std::string s;
  if (!pid || !std::getline(f, s)) return -1;
  auto p = s.rfind(')');
  if (p == std::string::npos) return -1;
  std::vector<std::string> fields;
  std::size_t i = p + 2;
  while (i < s.size()) {
    auto j = s.find(' ', i);
    fields.push_back(s.substr(i, j - i));
    if (j == std::string::npos) break;
    i = j + 1;
  }
  if (fields.size() < 13) return -1;  // fields[11], [12]: utime, stime (fields 14, 15 of stat)
  return static_cast<double>(std::stoll(fields[11]) + std::stoll(fields[12])) / static_cast<double>(::sysconf(_SC_CLK_TCK));
}
int backend_pid(PGconn* c) { return std::atoi(exec(c, "SELECT pg_backend_pid()").c_str()); }
double thread_cpu() {
  timespec t{};
  ::clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
  return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_nsec) / 1e9;
}
double self_cpu() {
  rusage u{};
  ::getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
         static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

struct result {
  double rate = 0, p50 = 0, p99 = 0;
  std::size_t n = 0;
  double writer_server_us = -1, consumer_server_us = -1, consumer_thread_us = -1;  // CPU per change
};

struct latencies {
  std::mutex m;
  std::vector<std::int64_t> v;
  std::int64_t start_us = now_us(), last_us = 0;
  void add(std::int64_t us) {
    std::lock_guard<std::mutex> l(m);
    v.push_back(us);
    last_us = now_us();
  }
  std::size_t size() { std::lock_guard<std::mutex> l(m); return v.size(); }
  result finish() {
    std::lock_guard<std::mutex> l(m);
    result r;
    r.n = v.size();
    r.rate = last_us > start_us ? static_cast<double>(v.size()) * 1e6 / static_cast<double>(last_us - start_us) : 0;
    if (v.empty()) return r;
    std::sort(v.begin(), v.end());
    r.p50 = static_cast<double>(v[v.size() / 2]) / 1000.0;
    r.p99 = static_cast<double>(v[v.size() * 99 / 100]) / 1000.0;
    return r;
  }
};

struct drive_result {
  std::size_t sent = 0;
  double server_cpu = 0, client_cpu = 0;  // summed over the writers; server_cpu < 0: not local
};

// `writers` threads run `stmt(t_us)` in autocommit for `seconds`; total rate capped when `cap` > 0.
drive_result drive(const std::string& url, int writers, double seconds, double cap,
                   const std::function<std::string(std::int64_t)>& stmt) {
  std::atomic<std::size_t> sent{0};
  std::mutex m;
  drive_result out;
  std::vector<std::thread> th;
  const auto start = clk::now();
  const auto end = start + std::chrono::duration_cast<clk::duration>(std::chrono::duration<double>(seconds));
  for (int w = 0; w < writers; ++w)
    th.emplace_back([&] {
      PGconn* c = connect(url);
      const int pid = backend_pid(c);
      const double server0 = process_cpu(pid), client0 = thread_cpu();
      for (std::size_t i = 0; clk::now() < end; ++i) {
        if (cap > 0) {  // pace: each writer sends its share at even intervals
          auto due = start + std::chrono::duration_cast<clk::duration>(std::chrono::duration<double>(static_cast<double>(i) * writers / cap));
          if (due > end) break;
          std::this_thread::sleep_until(due);
        }
        exec(c, stmt(now_us()));
        ++sent;
      }
      const double server1 = process_cpu(pid), client1 = thread_cpu();
      PQfinish(c);
      std::lock_guard<std::mutex> l(m);
      out.server_cpu = server0 < 0 || out.server_cpu < 0 ? -1 : out.server_cpu + server1 - server0;
      out.client_cpu += client1 - client0;
    });
  for (auto& t : th) t.join();
  out.sent = sent;
  return out;
}

void wait_for(latencies& lat, std::size_t n, std::chrono::seconds limit) {
  auto deadline = clk::now() + limit;
  while (clk::now() < deadline && lat.size() < n) std::this_thread::sleep_for(std::chrono::milliseconds(5));
}

double per_change(double cpu, std::size_t n) { return cpu < 0 || n == 0 ? -1 : cpu * 1e6 / static_cast<double>(n); }

// One LISTENer on `channel`; `t_of` extracts the writer's clock from a payload.
template <class Stmt, class TimeOf>
result listen_rate(const std::string& url, const char* channel, int writers, double seconds, double cap,
                   Stmt stmt, TimeOf t_of) {
  PGconn* l = connect(url);
  const int pid = backend_pid(l);
  exec(l, std::string("LISTEN ") + channel);
  latencies lat;
  std::atomic<bool> done{false};
  double listener_cpu = 0;
  const double server0 = process_cpu(pid);
  std::thread listener([&] {
    const double c0 = thread_cpu();
    while (!done) {
      pollfd p{PQsocket(l), POLLIN, 0};
      ::poll(&p, 1, 20);
      PQconsumeInput(l);
      while (PGnotify* n = PQnotifies(l)) {
        lat.add(now_us() - t_of(n->extra));
        PQfreemem(n);
      }
    }
    listener_cpu = thread_cpu() - c0;
  });
  drive_result d = drive(url, writers, seconds, cap, stmt);
  wait_for(lat, d.sent, std::chrono::seconds(10));
  const double server1 = process_cpu(pid);
  done = true;
  listener.join();
  PQfinish(l);
  result r = lat.finish();
  r.writer_server_us = per_change(d.server_cpu, d.sent);
  r.consumer_server_us = per_change(server0 < 0 ? -1 : server1 - server0, r.n);
  r.consumer_thread_us = per_change(listener_cpu, r.n);
  return r;
}

result raw_notify(const std::string& url, int writers, double seconds, double cap) {
  return listen_rate(url, "bench_raw", writers, seconds, cap,
                     [](std::int64_t t) { return "SELECT pg_notify('bench_raw', '" + std::to_string(t) + "')"; },
                     [](const char* p) { return std::atoll(p); });
}

// A table that already holds rows, as an application's does: without it, autovacuum analyzes
// and vacuums the table again and again while it grows from empty during the run, and each of
// those catalog updates stalls logical decoding for tens of milliseconds.
void prefill(PGconn* c, const char* table) {
  exec(c, std::string("INSERT INTO ") + table + " (t) SELECT 0 FROM generate_series(1, 1000000)");
  exec(c, std::string("VACUUM ANALYZE ") + table);
}

result seed_notify(const std::string& url, int writers, double seconds, double cap) {
  PGconn* c = connect(url);
  exec(c, "DROP TABLE IF EXISTS bench_seed; CREATE TABLE bench_seed (id bigserial PRIMARY KEY, t int8 NOT NULL)");
  prefill(c, "bench_seed");
  exec(c, 
          "CREATE OR REPLACE FUNCTION bench_seed_notify() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
          "PERFORM pg_notify('bench_seed', row_to_json(NEW)::text); RETURN NULL; END $$;"
          "CREATE TRIGGER bench_seed AFTER INSERT ON bench_seed FOR EACH ROW EXECUTE FUNCTION bench_seed_notify()");
  PQfinish(c);
  return listen_rate(url, "bench_seed", writers, seconds, cap,
                     [](std::int64_t t) { return "INSERT INTO bench_seed (t) VALUES (" + std::to_string(t) + ")"; },
                     [](const char* p) {
                       const char* t = std::strstr(p, "\"t\":");
                       return t ? std::atoll(t + 4) : 0;
                     });
}

struct bench_sink {
  latencies* lat;
  esink::postgres_source* src;
  std::atomic<bool> ready{false};
  void on_change(esink::change_event&& e) {
    lat->add(now_us() - e.row.at("t").as_int64());
    src->acknowledge(e.id);
  }
  void on_status(std::error_code ec) {
    if (!ec) ready = true;
  }
};

constexpr const char* source_app = "esink_bench_source";

esink::postgres_options bench_options(const std::string& url, const std::string& capture) {
  esink::postgres_options o;
  o.capture = capture;
  // Names the source's connection, so that its server process can be found.
  const bool is_url = url.rfind("postgres://", 0) == 0 || url.rfind("postgresql://", 0) == 0;
  o.url = url + (is_url ? (url.find('?') == std::string::npos ? "?" : "&") + std::string("application_name=") + source_app
                        : std::string(" application_name=") + source_app);
  o.tables = "bench_rows";
  o.schema = "esink_bench";
  return o;
}

// Returns once the source reports it caught up with what committed before.
void start(esink::postgres_source& src, bench_sink& sink) {
  std::error_code ec;
  src.start(sink, ec);
  if (ec) { std::fprintf(stderr, "start: %s\n", src.error_message().c_str()); std::exit(1); }
  auto deadline = clk::now() + std::chrono::seconds(60);
  while (!sink.ready && clk::now() < deadline) std::this_thread::sleep_for(std::chrono::milliseconds(1));
}

int source_pid(PGconn* c) {
  return std::atoi(exec(c, std::string("SELECT pid FROM pg_stat_activity WHERE application_name = '") + source_app +
                               "' ORDER BY backend_start DESC LIMIT 1").c_str());
}

std::string insert_row(std::int64_t t) { return "INSERT INTO bench_rows (t) VALUES (" + std::to_string(t) + ")"; }

void create_rows(const std::string& url) {
  PGconn* c = connect(url);
  exec(c, "DROP TABLE IF EXISTS bench_rows; CREATE TABLE bench_rows (id bigserial PRIMARY KEY, t int8 NOT NULL)");
  prefill(c, "bench_rows");
  PQfinish(c);
}

result esink_rate(const std::string& url, int writers, double seconds, double cap, const std::string& capture) {
  create_rows(url);
  esink::postgres_source src(bench_options(url, capture));
  latencies lat;
  bench_sink sink{&lat, &src, {}};
  start(src, sink);
  PGconn* c = connect(url);
  const int pid = source_pid(c);
  const double server0 = process_cpu(pid), self0 = self_cpu();
  lat.start_us = now_us();
  drive_result d = drive(url, writers, seconds, cap, insert_row);
  wait_for(lat, d.sent, std::chrono::seconds(60));
  const double server1 = process_cpu(pid), self1 = self_cpu();
  src.stop();
  PQfinish(c);
  result r = lat.finish();
  r.writer_server_us = per_change(d.server_cpu, d.sent);
  r.consumer_server_us = per_change(server0 < 0 ? -1 : server1 - server0, r.n);
  // The process minus the writers' threads: the source's thread (the main thread only sleeps).
  r.consumer_thread_us = per_change(self1 - self0 - d.client_cpu, r.n);
  if (r.n != d.sent) std::fprintf(stderr, "esink delivered %zu of %zu changes\n", r.n, d.sent);
  return r;
}

// The consumer alone: `rows` single-row transactions committed while stopped, then delivered.
result esink_catch_up(const std::string& url, int writers, std::size_t rows, const std::string& capture) {
  create_rows(url);
  latencies lat;
  for (int round = 0; round < 2; ++round) {
    esink::postgres_source src(bench_options(url, capture));  // installs the triggers
    bench_sink sink{&lat, &src, {}};
    start(src, sink);
    // A logical slot restarts decoding from its restart_lsn, which only moves at a running-xacts
    // record: a checkpoint writes one, the second round confirms past it. Otherwise the catch-up
    // would decode the million prefill rows again, which measures PostgreSQL, not esink.
    if (round == 0 && capture == "logical") {
      PGconn* c = connect(url);
      exec(c, "CHECKPOINT");
      PQfinish(c);
    } else {
      break;
    }
  }
  std::atomic<std::size_t> next{0};
  std::vector<std::thread> th;
  for (int w = 0; w < writers; ++w)
    th.emplace_back([&] {
      PGconn* wc = connect(url);
      while (next++ < rows) exec(wc, insert_row(0));
      PQfinish(wc);
    });
  for (auto& t : th) t.join();
  esink::postgres_source src(bench_options(url, capture));
  bench_sink sink{&lat, &src, {}};
  lat.start_us = now_us();
  start(src, sink);
  wait_for(lat, rows, std::chrono::seconds(60));
  src.stop();
  return lat.finish();
}

void print_header() {
  std::printf("%-30s %10s %8s %8s %7s   %s\n", "", "changes/s", "p50 ms", "p99 ms", "of raw",
              "CPU us/change: writers' server, consumer's server, consumer's thread");
}
void print_row(const char* name, const result& r, double raw_rate) {
  auto us = [](double v) { return v < 0 ? std::string("   n/a") : std::to_string(static_cast<int>(v + 0.5)); };
  std::printf("%-30s %10.0f %8.2f %8.2f %6.0f%%   %6s %6s %6s\n", name, r.rate, r.p50, r.p99,
              raw_rate > 0 ? 100 * r.rate / raw_rate : 0.0, us(r.writer_server_us).c_str(),
              us(r.consumer_server_us).c_str(), us(r.consumer_thread_us).c_str());
}

void run_all(const std::string& url, int writers, double seconds) {
  result raw = raw_notify(url, writers, seconds, 0);
  result seed = seed_notify(url, writers, seconds, 0);
  result es = esink_rate(url, writers, seconds, 0, "table");
  result wal = esink_rate(url, writers, seconds, 0, "logical");
  double half = raw.rate / 2;
  result raw_half = raw_notify(url, writers, seconds, half);
  result seed_half = seed_notify(url, writers, seconds, half);
  result es_half = esink_rate(url, writers, seconds, half, "table");
  result wal_half = esink_rate(url, writers, seconds, half, "logical");
  result catch_up = esink_catch_up(url, writers, 20000, "table");
  result wal_catch_up = esink_catch_up(url, writers, 20000, "logical");
  std::printf("postgres_source vs NOTIFY (%d autocommit writers, %.0f s each; half rate = %.0f/s)\n", writers,
              seconds, half);
  print_header();
  print_row("raw NOTIFY, max rate", raw, raw.rate);
  print_row("seed NOTIFY trigger, max rate", seed, raw.rate);
  print_row("esink table capture, max rate", es, raw.rate);
  print_row("esink logical capture, max", wal, raw.rate);
  print_row("raw NOTIFY, half raw rate", raw_half, raw.rate);
  print_row("seed NOTIFY trigger, half raw", seed_half, raw.rate);
  print_row("esink table capture, half raw", es_half, raw.rate);
  print_row("esink logical capture, half", wal_half, raw.rate);
  std::printf("%-30s %10.0f   (consumer alone: 20000 rows committed while stopped)\n", "esink table catch-up", catch_up.rate);
  std::printf("%-30s %10.0f   (the same, logical capture)\n", "esink logical catch-up", wal_catch_up.rate);
}
}  // namespace

int main(int argc, char** argv) {
  double seconds = argc > 1 ? std::atof(argv[1]) : 5;
  int writers = argc > 2 ? std::atoi(argv[2]) : 4;
  std::string url, state;
  if (const char* u = std::getenv("ESINK_BENCH_PG_URL")) {
    url = u;
  } else {
    state = "/tmp/esink-bench-pg-" + std::to_string(::getpid());
    // PostgreSQL's default: each commit writes its WAL at once (fsync stays off, so the disk is
    // out of the comparison). With synchronous_commit off, logical decoding only sees a commit
    // once the WAL writer flushes it (wal_writer_delay, 200 ms).
    ::setenv("ESINK_PG_SYNCHRONOUS_COMMIT", "on", 0);
    if (std::system((std::string(ESINK_PG_FIXTURE) + " start " + state + " >/dev/null").c_str()) != 0) return 1;
    FILE* f = std::fopen((state + "/postgres.env").c_str(), "r");
    char line[512];
    while (f && std::fgets(line, sizeof line, f))
      if (std::string(line).rfind("url=", 0) == 0) url = std::string(line + 4, std::strlen(line + 4) - 1);
    if (f) std::fclose(f);
  }
  const char* capture_env = std::getenv("ESINK_PG_CAPTURE");
  const std::string capture = capture_env && *capture_env ? capture_env : "table";
  if (argc > 3 && std::strcmp(argv[3], "catch-up") == 0) {
    std::printf("esink catch-up (%s capture): %.0f changes/s\n", capture.c_str(), esink_catch_up(url, writers, 20000, capture).rate);
  } else if (argc > 3) {
    result r = esink_rate(url, writers, seconds, std::atof(argv[3]), capture);
    print_header();
    print_row((std::string("esink at ") + argv[3] + "/s").c_str(), r, 0);
  } else {
    run_all(url, writers, seconds);
  }
  if (!state.empty()) {
    std::system((std::string(ESINK_PG_FIXTURE) + " stop " + state + " >/dev/null").c_str());
    std::system(("rm -rf " + state).c_str());
  }
  return 0;
}
