// sqlite_source throughput and commit-to-sink latency, beside plain inserts into the same file.
//
//   source_sqlite_bench [seconds=5] [writers=1] [path=a fresh file in /tmp]
//
// Writers are separate processes (fork before any source thread exists), each with its own
// connection, committing single-row INSERTs in autocommit; the file is in WAL mode with
// synchronous=NORMAL for every run. Baseline "raw insert": the same INSERTs into an unwatched
// table of the same file, counted by the writers. esink: the same INSERTs into a watched table;
// the rate counts delivered changes over the time from the first write to the last delivery.
// Latency = sink time - the writer's CLOCK_MONOTONIC just before its statement (system-wide).
#include <esink/source/sqlite.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <sys/wait.h>
#include <unistd.h>

namespace {
using clk = std::chrono::steady_clock;  // CLOCK_MONOTONIC: comparable across processes
std::int64_t now_us() {
  return std::chrono::duration_cast<std::chrono::microseconds>(clk::now().time_since_epoch()).count();
}

sqlite3* open_db(const std::string& path) {
  sqlite3* db = nullptr;
  if (sqlite3_open(path.c_str(), &db) != SQLITE_OK) { std::fprintf(stderr, "open %s failed\n", path.c_str()); std::exit(1); }
  sqlite3_busy_timeout(db, 10000);
  return db;
}
void exec(sqlite3* db, const std::string& sql) {
  char* err = nullptr;
  if (sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &err) != SQLITE_OK) {
    std::fprintf(stderr, "%s: %s\n", sql.c_str(), err ? err : "?");
    std::exit(1);
  }
}

struct result { double rate = 0, p50 = 0, p99 = 0; std::size_t n = 0; };

// Forks `writers` processes that wait for `go`, then insert into `table` for `seconds` at a total
// rate `cap` (0 = unpaced). Returns the rows committed (each child reports through a pipe).
class writer_pool {
public:
  writer_pool(const std::string& path, const std::string& table, int writers, double seconds, double cap) {
    if (::pipe(go_) != 0 || ::pipe(count_) != 0) std::exit(1);
    for (int w = 0; w < writers; ++w) {
      pid_t pid = ::fork();
      if (pid == 0) child(path, table, writers, seconds, cap);
      pids_.push_back(pid);
    }
    ::close(go_[0]);
    ::close(count_[1]);
  }
  void go() {
    std::string g(pids_.size(), 'g');
    [[maybe_unused]] auto n = ::write(go_[1], g.data(), g.size());
    ::close(go_[1]);
  }
  std::size_t join() {
    std::size_t total = 0, n = 0;
    while (::read(count_[0], &n, sizeof n) == static_cast<ssize_t>(sizeof n)) total += n;
    for (pid_t p : pids_) ::waitpid(p, nullptr, 0);
    ::close(count_[0]);
    return total;
  }

private:
  [[noreturn]] void child(const std::string& path, const std::string& table, int writers, double seconds, double cap) {
    ::close(go_[1]);
    ::close(count_[0]);
    char g;
    if (::read(go_[0], &g, 1) != 1) ::_exit(1);
    sqlite3* db = open_db(path);
    exec(db, "PRAGMA synchronous=NORMAL");
    sqlite3_stmt* s = nullptr;
    std::string sql = "INSERT INTO " + table + " (t) VALUES (?1)";
    sqlite3_prepare_v2(db, sql.c_str(), -1, &s, nullptr);
    const auto start = clk::now();
    const auto end = start + std::chrono::duration_cast<clk::duration>(std::chrono::duration<double>(seconds));
    std::size_t i = 0;
    for (; clk::now() < end; ++i) {
      if (cap > 0) {  // each writer sends its share at even intervals
        auto due = start + std::chrono::duration_cast<clk::duration>(
                               std::chrono::duration<double>(static_cast<double>(i) * writers / cap));
        if (due > end) break;
        std::this_thread::sleep_until(due);
      }
      sqlite3_bind_int64(s, 1, now_us());
      if (sqlite3_step(s) != SQLITE_DONE) { std::fprintf(stderr, "insert: %s\n", sqlite3_errmsg(db)); ::_exit(1); }
      sqlite3_reset(s);
    }
    sqlite3_finalize(s);
    sqlite3_close(db);
    [[maybe_unused]] auto n = ::write(count_[1], &i, sizeof i);
    ::_exit(0);
  }

  int go_[2], count_[2];
  std::vector<pid_t> pids_;
};

result raw_insert(const std::string& path, int writers, double seconds, double cap) {
  writer_pool pool(path, "bench_raw", writers, seconds, cap);
  auto t0 = now_us();
  pool.go();
  std::size_t n = pool.join();
  result r;
  r.n = n;
  r.rate = static_cast<double>(n) * 1e6 / static_cast<double>(now_us() - t0);
  return r;
}

struct bench_sink {
  std::mutex m;
  std::vector<std::int64_t> lat;
  std::int64_t last_us = 0;
  esink::sqlite_source* src = nullptr;
  void on_change(esink::change_event&& e) {
    auto now = now_us();
    {
      std::lock_guard<std::mutex> l(m);
      lat.push_back(now - e.row.at("t").as_int64());
      last_us = now;
    }
    src->acknowledge(e.id);
  }
  void on_status(std::error_code) {}
  std::size_t size() { std::lock_guard<std::mutex> l(m); return lat.size(); }
};

result esink_rate(const std::string& path, int writers, double seconds, double cap) {
  {
    sqlite3* db = open_db(path);
    exec(db, "DROP TABLE IF EXISTS bench_rows; CREATE TABLE bench_rows (id INTEGER PRIMARY KEY, t INTEGER NOT NULL)");
    sqlite3_close(db);
  }
  writer_pool pool(path, "bench_rows", writers, seconds, cap);  // before the source's thread exists
  esink::sqlite_options o;
  o.path = path;
  o.tables = "bench_rows";
  esink::sqlite_source src(o);
  bench_sink sink;
  sink.src = &src;
  std::error_code ec;
  src.start(sink, ec);
  if (ec) { std::fprintf(stderr, "start: %s\n", src.error_message().c_str()); std::exit(1); }
  auto t0 = now_us();
  pool.go();
  std::size_t sent = pool.join();
  auto deadline = clk::now() + std::chrono::seconds(60);
  while (clk::now() < deadline && sink.size() < sent) std::this_thread::sleep_for(std::chrono::milliseconds(2));
  src.stop();
  result r;
  auto& v = sink.lat;
  r.n = v.size();
  if (v.empty()) return r;
  r.rate = static_cast<double>(v.size()) * 1e6 / static_cast<double>(sink.last_us - t0);
  std::sort(v.begin(), v.end());
  r.p50 = v[v.size() / 2] / 1000.0;
  r.p99 = v[v.size() * 99 / 100] / 1000.0;
  return r;
}
}  // namespace

int main(int argc, char** argv) {
  double seconds = argc > 1 ? std::atof(argv[1]) : 5;
  int writers = argc > 2 ? std::atoi(argv[2]) : 1;
  std::string dir, path;
  if (argc > 3) {
    path = argv[3];
  } else {
    char tmpl[] = "/tmp/esink-bench-sqlite-XXXXXX";
    dir = ::mkdtemp(tmpl);
    path = dir + "/bench.db";
  }
  {
    sqlite3* db = open_db(path);
    exec(db, "PRAGMA journal_mode=WAL; DROP TABLE IF EXISTS bench_raw;"
             "CREATE TABLE bench_raw (id INTEGER PRIMARY KEY, t INTEGER NOT NULL)");
    sqlite3_close(db);
  }
  result raw = raw_insert(path, writers, seconds, 0);
  result es = esink_rate(path, writers, seconds, 0);
  const double half = raw.rate / 2;
  result raw_half = raw_insert(path, writers, seconds, half);
  result es_half = esink_rate(path, writers, seconds, half);
  std::printf("sqlite_source vs plain INSERT (%d writer process(es), autocommit, WAL, %.0f s each)\n", writers, seconds);
  std::printf("%-28s %12s %10s %10s\n", "", "changes/s", "p50 ms", "p99 ms");
  std::printf("%-28s %12.0f %10s %10s\n", "raw insert, max rate", raw.rate, "-", "-");
  std::printf("%-28s %12.0f %10.2f %10.2f   (%.0f%% of raw)\n", "esink, max rate", es.rate, es.p50, es.p99,
              100 * es.rate / raw.rate);
  std::printf("%-28s %12.0f %10s %10s\n", "raw insert, half raw rate", raw_half.rate, "-", "-");
  std::printf("%-28s %12.0f %10.2f %10.2f\n", "esink, half raw rate", es_half.rate, es_half.p50, es_half.p99);
  if (!dir.empty()) std::filesystem::remove_all(dir);
  return 0;
}
