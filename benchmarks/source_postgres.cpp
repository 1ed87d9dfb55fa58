// postgres_source throughput and commit-to-sink latency, beside plain NOTIFY in the same run.
//
//   source_postgres_bench [seconds=5] [writers=4]
//
// Uses ESINK_BENCH_PG_URL when set, else starts a throwaway server with the test fixture script.
// Baseline "raw NOTIFY": the same writers each commit `SELECT pg_notify(...)`, one LISTENer counts.
// Latency = sink time - the writer's clock just before its statement (an upper bound on commit->sink).
#include <esink/source/postgres.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>

#include <unistd.h>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <poll.h>

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
void exec(PGconn* c, const std::string& sql) {
  PGresult* r = PQexec(c, sql.c_str());
  auto st = PQresultStatus(r);
  if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) { std::fprintf(stderr, "%s: %s", sql.c_str(), PQerrorMessage(c)); std::exit(1); }
  PQclear(r);
}

struct result { double rate = 0, p50 = 0, p99 = 0; std::size_t n = 0; };

struct latencies {
  std::mutex m;
  std::vector<std::int64_t> v;
  void add(std::int64_t us) { std::lock_guard<std::mutex> l(m); v.push_back(us); }
  result finish(double seconds) {
    result r;
    r.n = v.size();
    r.rate = static_cast<double>(v.size()) / seconds;
    if (v.empty()) return r;
    std::sort(v.begin(), v.end());
    r.p50 = v[v.size() / 2] / 1000.0;
    r.p99 = v[v.size() * 99 / 100] / 1000.0;
    return r;
  }
};

// `writers` threads run `stmt(t_us)` in autocommit for `seconds`; total rate capped when `cap` > 0.
std::size_t drive(const std::string& url, int writers, double seconds, double cap,
                  const std::function<std::string(std::int64_t)>& stmt) {
  std::atomic<std::size_t> sent{0};
  std::vector<std::thread> th;
  const auto start = clk::now();
  const auto end = start + std::chrono::duration_cast<clk::duration>(std::chrono::duration<double>(seconds));
  for (int w = 0; w < writers; ++w)
    th.emplace_back([&] {
      PGconn* c = connect(url);
      for (std::size_t i = 0; clk::now() < end; ++i) {
        if (cap > 0) {  // pace: each writer sends its share at even intervals
          auto due = start + std::chrono::duration_cast<clk::duration>(std::chrono::duration<double>(static_cast<double>(i) * writers / cap));
          if (due > end) break;
          std::this_thread::sleep_until(due);
        }
        exec(c, stmt(now_us()));
        ++sent;
      }
      PQfinish(c);
    });
  for (auto& t : th) t.join();
  return sent;
}

result raw_notify(const std::string& url, int writers, double seconds, double cap) {
  PGconn* l = connect(url);
  exec(l, "LISTEN bench_raw");
  latencies lat;
  std::atomic<bool> done{false};
  std::thread listener([&] {
    while (!done) {
      pollfd p{PQsocket(l), POLLIN, 0};
      ::poll(&p, 1, 20);
      PQconsumeInput(l);
      while (PGnotify* n = PQnotifies(l)) {
        lat.add(now_us() - std::atoll(n->extra));
        PQfreemem(n);
      }
    }
  });
  std::size_t sent = drive(url, writers, seconds, cap,
                           [](std::int64_t t) { return "SELECT pg_notify('bench_raw', '" + std::to_string(t) + "')"; });
  auto deadline = clk::now() + std::chrono::seconds(10);
  while (clk::now() < deadline) { { std::lock_guard<std::mutex> g(lat.m); if (lat.v.size() >= sent) break; } std::this_thread::sleep_for(std::chrono::milliseconds(5)); }
  done = true;
  listener.join();
  PQfinish(l);
  return lat.finish(seconds);
}

struct bench_sink {
  latencies* lat;
  esink::postgres_source* src;
  void on_change(esink::change_event&& e) {
    lat->add(now_us() - e.row.at("t").as_int64());
    src->acknowledge(e.id);
  }
  void on_status(std::error_code) {}
};

result esink_rate(const std::string& url, int writers, double seconds, double cap) {
  PGconn* c = connect(url);
  exec(c, "DROP TABLE IF EXISTS bench_rows; CREATE TABLE bench_rows (id bigserial PRIMARY KEY, t int8 NOT NULL)");
  esink::postgres_options o;
  o.url = url;
  o.tables = "bench_rows";
  o.schema = "esink_bench";
  esink::postgres_source src(o);
  latencies lat;
  bench_sink sink{&lat, &src};
  std::error_code ec;
  src.start(sink, ec);
  if (ec) { std::fprintf(stderr, "start: %s\n", src.error_message().c_str()); std::exit(1); }
  std::size_t sent = drive(url, writers, seconds, cap,
                           [](std::int64_t t) { return "INSERT INTO bench_rows (t) VALUES (" + std::to_string(t) + ")"; });
  auto deadline = clk::now() + std::chrono::seconds(30);
  while (clk::now() < deadline) { { std::lock_guard<std::mutex> g(lat.m); if (lat.v.size() >= sent) break; } std::this_thread::sleep_for(std::chrono::milliseconds(5)); }
  src.stop();
  PQfinish(c);
  return lat.finish(seconds);
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
    if (std::system((std::string(ESINK_PG_FIXTURE) + " start " + state + " >/dev/null").c_str()) != 0) return 1;
    FILE* f = std::fopen((state + "/postgres.env").c_str(), "r");
    char line[512];
    while (f && std::fgets(line, sizeof line, f))
      if (std::string(line).rfind("url=", 0) == 0) url = std::string(line + 4, std::strlen(line + 4) - 1);
    if (f) std::fclose(f);
  }
  result raw = raw_notify(url, writers, seconds, 0);
  result es = esink_rate(url, writers, seconds, 0);
  double half = raw.rate / 2;
  result raw_half = raw_notify(url, writers, seconds, half);
  result es_half = esink_rate(url, writers, seconds, half);
  std::printf("postgres_source vs raw NOTIFY (%d autocommit writers, %.0f s each)\n", writers, seconds);
  std::printf("%-28s %12s %10s %10s\n", "", "changes/s", "p50 ms", "p99 ms");
  std::printf("%-28s %12.0f %10.2f %10.2f\n", "raw NOTIFY, max rate", raw.rate, raw.p50, raw.p99);
  std::printf("%-28s %12.0f %10.2f %10.2f   (%.0f%% of raw)\n", "esink, max rate", es.rate, es.p50, es.p99,
              100 * es.rate / raw.rate);
  std::printf("%-28s %12.0f %10.2f %10.2f\n", "raw NOTIFY, half raw rate", raw_half.rate, raw_half.p50, raw_half.p99);
  std::printf("%-28s %12.0f %10.2f %10.2f\n", "esink, half raw rate", es_half.rate, es_half.p50, es_half.p99);
  if (!state.empty()) std::system((std::string(ESINK_PG_FIXTURE) + " stop " + state + " >/dev/null").c_str());
  return 0;
}
