// esink_loadgen: connects many Socket.IO clients, commits rows at a paced rate (or ramps the
// rate, or drives POST /publish), counts every event each client receives against what was
// committed, and reports delivered events/s, commit-to-client latency, and the CPU and memory
// of the server, the database and itself. See docs/performance.md.
//
// Exit status: 0 when every committed event reached exactly its recipients, 1 when any was
// lost, duplicated or misdelivered (or a client failed), 2 on bad arguments.

#include "clients.hpp"
#include "histogram.hpp"
#include "producers.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <map>
#include <memory>
#include <random>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

namespace loadgen {
namespace {

struct options {
  std::string label = "run";
  std::string host = "127.0.0.1";
  unsigned port = 0;
  std::string path = "/socket.io/";
  unsigned clients = 1000;
  unsigned users = 0;  // 0: one user per client
  unsigned threads = 1;
  unsigned source_addrs = 8;
  unsigned max_inflight = 256;
  std::string token_prefix = "tok";
  std::string producer = "none";
  std::string pg_url;
  std::string mysql;  // host:port:user:password:database
  std::string table = "bench_rows";
  bool broadcast = false;
  unsigned events_per_row = 2;
  std::size_t row_bytes = 200;
  std::vector<double> rates;
  double step_seconds = 5;
  double stop_p99_ms = 0;
  double drain_seconds = 20;
  double idle_seconds = 0;
  double settle_seconds = 1;
  double connect_timeout = 120;
  unsigned slow_clients = 0;
  int server_pid = 0;
  int db_pid = 0;
  unsigned publish_connections = 32;
  double publish_seconds = 5;
  std::uint64_t publish_max = 2000000;
  std::string publish_token;
  unsigned max_batch = 1000;
};

[[noreturn]] void usage(const std::string& why) {
  std::cerr << "esink_loadgen: " << why << "\n"
            << "usage: esink_loadgen --port N [--clients N] [--users N] [--threads N] [--source-addrs N]\n"
            << "  [--producer none|echo|pg|mysql|publish] [--pg-url URL] [--mysql host:port:user:pw:db]\n"
            << "  [--table T] [--broadcast] [--events-per-row 1|2] [--row-bytes N]\n"
            << "  [--rates R1,R2,...] [--step-seconds S] [--stop-p99-ms MS] [--drain-seconds S]\n"
            << "  [--idle-seconds S] [--slow-clients N] [--server-pid PID] [--db-pid PID]\n"
            << "  [--publish-connections N] [--publish-seconds S] [--publish-token T] [--label NAME]\n";
  std::exit(2);
}

options parse(int argc, char** argv) {
  options o;
  std::map<std::string, std::string*> strings = {
      {"--label", &o.label},   {"--host", &o.host},         {"--path", &o.path},
      {"--producer", &o.producer}, {"--pg-url", &o.pg_url}, {"--mysql", &o.mysql},
      {"--table", &o.table},   {"--token-prefix", &o.token_prefix}, {"--publish-token", &o.publish_token}};
  std::map<std::string, unsigned*> uints = {
      {"--port", &o.port}, {"--clients", &o.clients}, {"--users", &o.users}, {"--threads", &o.threads},
      {"--source-addrs", &o.source_addrs}, {"--max-inflight", &o.max_inflight},
      {"--events-per-row", &o.events_per_row}, {"--slow-clients", &o.slow_clients},
      {"--publish-connections", &o.publish_connections}, {"--max-batch", &o.max_batch}};
  std::map<std::string, double*> doubles = {
      {"--step-seconds", &o.step_seconds}, {"--stop-p99-ms", &o.stop_p99_ms},
      {"--drain-seconds", &o.drain_seconds}, {"--idle-seconds", &o.idle_seconds},
      {"--settle-seconds", &o.settle_seconds}, {"--connect-timeout", &o.connect_timeout},
      {"--publish-seconds", &o.publish_seconds}};
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--broadcast") {
      o.broadcast = true;
      continue;
    }
    if (i + 1 >= argc) usage(a + " needs a value");
    std::string v = argv[++i];
    char* end = nullptr;
    if (auto s = strings.find(a); s != strings.end()) {
      *s->second = v;
    } else if (auto u = uints.find(a); u != uints.end()) {
      *u->second = static_cast<unsigned>(std::strtoul(v.c_str(), &end, 10));
      if (*end) usage(a + " needs a number");
    } else if (auto d = doubles.find(a); d != doubles.end()) {
      *d->second = std::strtod(v.c_str(), &end);
      if (*end) usage(a + " needs a number");
    } else if (a == "--row-bytes") {
      o.row_bytes = std::strtoull(v.c_str(), &end, 10);
    } else if (a == "--publish-max") {
      o.publish_max = std::strtoull(v.c_str(), &end, 10);
    } else if (a == "--server-pid") {
      o.server_pid = std::atoi(v.c_str());
    } else if (a == "--db-pid") {
      o.db_pid = std::atoi(v.c_str());
    } else if (a == "--rates") {
      std::stringstream ss(v);
      std::string item;
      while (std::getline(ss, item, ',')) o.rates.push_back(std::strtod(item.c_str(), nullptr));
    } else {
      usage("unknown option " + a);
    }
  }
  if ((o.port == 0 || o.port > 65535) && o.producer != "blast") usage("--port is required");
  if (o.users == 0) o.users = o.clients;
  if (o.threads == 0) o.threads = 1;
  if (o.source_addrs == 0 || o.source_addrs > 250) usage("--source-addrs must be 1..250");
  if (o.rates.size() > step_table::max_steps) usage("too many rates");
  if (o.producer != "none" && o.producer != "publish" && o.rates.empty()) usage("--rates is required");
  if (o.events_per_row < 1 || o.events_per_row > 2) usage("--events-per-row must be 1 or 2");
  return o;
}

/// The contents of a /proc file, or "" when the process is gone. A process can exit between
/// being listed and being read (a database backend ending), and libstdc++'s streams throw on
/// the ESRCH that reading then gives: plain read(2) instead.
std::string read_proc_file(const std::string& path) {
  std::string s;
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return s;
  char buf[4096];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    s.append(buf, static_cast<std::size_t>(n));
  }
  ::close(fd);
  return s;
}

/// CPU seconds (user + system) of a process, from /proc/PID/stat.
double proc_cpu_seconds(int pid) {
  std::string s = read_proc_file("/proc/" + std::to_string(pid) + "/stat");
  auto rp = s.rfind(')');
  if (rp == std::string::npos) return 0;
  std::istringstream in(s.substr(rp + 2));
  std::string field;
  unsigned long long utime = 0, stime = 0;
  for (int i = 3; i <= 15 && (in >> field); ++i) {
    if (i == 14) utime = std::strtoull(field.c_str(), nullptr, 10);
    if (i == 15) stime = std::strtoull(field.c_str(), nullptr, 10);
  }
  return static_cast<double>(utime + stime) / static_cast<double>(sysconf(_SC_CLK_TCK));
}

int proc_ppid(int pid) {
  std::string s = read_proc_file("/proc/" + std::to_string(pid) + "/stat");
  auto rp = s.rfind(')');
  if (rp == std::string::npos) return -1;
  std::istringstream in(s.substr(rp + 2));
  std::string st;
  int ppid = -1;
  in >> st >> ppid;
  return ppid;
}

/// CPU seconds of a process and its direct children (the database server and its backends).
double tree_cpu_seconds(int pid) {
  if (pid <= 0) return 0;
  double sum = proc_cpu_seconds(pid);
  if (DIR* d = opendir("/proc")) {
    while (dirent* e = readdir(d)) {
      int p = std::atoi(e->d_name);
      if (p > 0 && p != pid && proc_ppid(p) == pid) sum += proc_cpu_seconds(p);
    }
    closedir(d);
  }
  return sum;
}

/// Resident set size in KiB (VmRSS), or 0.
std::uint64_t proc_rss_kb(int pid) {
  std::istringstream f(read_proc_file("/proc/" + std::to_string(pid) + "/status"));
  std::string line;
  while (std::getline(f, line))
    if (line.rfind("VmRSS:", 0) == 0) return std::strtoull(line.c_str() + 6, nullptr, 10);
  return 0;
}

double self_cpu_seconds() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  return static_cast<double>(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
         static_cast<double>(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

/// CPU of the three parties over a window.
struct cpu_mark {
  std::uint64_t us = 0;
  double server = 0, db = 0, self = 0, clients = 0;
};

/// Client threads whose CPU is read by `mark` (set once they exist).
const std::vector<std::unique_ptr<client_thread>>* g_threads = nullptr;

cpu_mark mark(const options& o) {
  double clients = 0;
  if (g_threads)
    for (auto& t : *g_threads) clients += t->cpu_seconds();
  return {mono_us(), o.server_pid ? proc_cpu_seconds(o.server_pid) : 0, tree_cpu_seconds(o.db_pid),
          self_cpu_seconds(), clients};
}

struct cpu_use {
  double seconds = 0, server = 0, db = 0, self = 0, clients = 0;  ///< percent of one core
};

cpu_use between(const cpu_mark& a, const cpu_mark& b) {
  cpu_use u;
  u.seconds = static_cast<double>(b.us - a.us) / 1e6;
  if (u.seconds <= 0) return u;
  u.server = 100 * (b.server - a.server) / u.seconds;
  u.db = 100 * (b.db - a.db) / u.seconds;
  u.self = 100 * (b.self - a.self) / u.seconds;
  u.clients = 100 * (b.clients - a.clients) / u.seconds;
  return u;
}

/// Samples the server's RSS every 50 ms; `peak` since the last reset.
class rss_sampler {
public:
  explicit rss_sampler(int pid) : pid_(pid) {
    if (pid_ <= 0) return;
    thread_ = std::thread([this] {
      while (!stop_) {
        std::uint64_t r = proc_rss_kb(pid_);
        last_ = r;
        if (r > peak_) peak_ = r;
        if (r > peak_all_) peak_all_ = r;
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
      }
    });
  }
  ~rss_sampler() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
  }
  std::uint64_t now_kb() const { return pid_ > 0 ? proc_rss_kb(pid_) : 0; }
  std::uint64_t peak_kb() const { return peak_; }
  std::uint64_t peak_all_kb() const { return peak_all_; }
  void reset_peak() { peak_ = now_kb(); }

private:
  int pid_;
  std::atomic<bool> stop_{false};
  std::atomic<std::uint64_t> last_{0}, peak_{0}, peak_all_{0};
  std::thread thread_;
};

std::string fmt_us(std::uint64_t us) {
  if (us == UINT64_MAX) return "lost";
  char b[32];
  std::snprintf(b, sizeof b, "%.2f", static_cast<double>(us) / 1000.0);
  return b;
}

std::string fixed(double v, int prec = 1) {
  char b[64];
  std::snprintf(b, sizeof b, "%.*f", prec, v);
  return b;
}

struct step_record {
  double rate = 0;
  std::uint64_t first_seq = 0, rows = 0;
  std::uint64_t expected_events = 0;
  std::uint64_t start_us = 0, end_us = 0;
  cpu_use cpu;
  std::uint64_t rss_peak_kb = 0;
  bool over = false;  ///< p99 passed the threshold (ramp stopped here)
};

int run(const options& o) {
  sockaddr_in server{};
  server.sin_family = AF_INET;
  server.sin_port = htons(static_cast<std::uint16_t>(o.port));
  if (inet_pton(AF_INET, o.host.c_str(), &server.sin_addr) != 1) usage("--host must be an IPv4 address");
  if ((ntohl(server.sin_addr.s_addr) >> 24) != 127) usage("--host must be a loopback address (127.0.0.0/8)");
  std::string host_header = o.host + ":" + std::to_string(o.port);

  // Sequence numbers are dense from 1; size the commit log once so clients never see it move.
  std::uint64_t max_seq = 1000;
  if (o.producer == "publish") {
    max_seq = o.publish_max + 1000;
  } else {
    for (double r : o.rates) max_seq += static_cast<std::uint64_t>(r * o.step_seconds * 1.02) + o.max_batch;
  }
  // Owner per seq: -1 not committed, 0 everyone, else the user id.
  std::vector<std::int32_t> owner_of(max_seq + 1, -1);

  // --producer blast: the load generator serves itself (measures the clients alone).
  std::unique_ptr<blast_producer> blast;
  if (o.producer == "blast") {
    blast = std::make_unique<blast_producer>();
    std::string err;
    if (!blast->listen(server, err)) {
      std::cerr << err << std::endl;
      return 1;
    }
    host_header = o.host + ":" + std::to_string(ntohs(server.sin_port));
  }

  client_config cc;
  cc.server = server;
  cc.host_header = host_header;
  cc.path = o.path;
  cc.source_addrs = o.source_addrs;
  cc.token_prefix = o.token_prefix;
  cc.users = o.users;
  cc.slow_clients = o.slow_clients;
  cc.max_inflight = std::max(1u, o.max_inflight / o.threads);
  cc.steps = std::max<unsigned>(1, static_cast<unsigned>(o.rates.size()));
  cc.max_seq = max_seq;

  step_table steps;
  client_totals totals;
  std::vector<client> clients(o.clients);
  std::vector<std::unique_ptr<client_thread>> threads;
  for (unsigned t = 0; t < o.threads; ++t)
    threads.push_back(std::make_unique<client_thread>(cc, clients, steps, totals));
  for (unsigned i = 0; i < o.clients; ++i) threads[i % o.threads]->assign(i);
  g_threads = &threads;

  rss_sampler rss(o.server_pid);
  std::this_thread::sleep_for(std::chrono::milliseconds(120));
  std::uint64_t rss_before = rss.now_kb();

  std::cout << "[" << o.label << "] connecting " << o.clients << " clients (" << o.users << " users, "
            << o.threads << " threads, " << o.source_addrs << " source addresses)" << std::endl;
  std::atomic<bool> stop{false};
  cpu_mark connect_start = mark(o);
  std::vector<std::thread> runners;
  for (auto& t : threads) runners.emplace_back([&t, &stop] { t->run(stop); });

  std::uint64_t deadline = mono_us() + static_cast<std::uint64_t>(o.connect_timeout * 1e6);
  while (totals.connected + totals.connect_failed < o.clients && mono_us() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  cpu_mark connect_end = mark(o);
  cpu_use connect_cpu = between(connect_start, connect_end);
  std::uint64_t connected = totals.connected;
  std::cout << "[" << o.label << "] connected " << connected << "/" << o.clients << " in "
            << fixed(connect_cpu.seconds, 2) << " s (" << fixed(static_cast<double>(connected) / connect_cpu.seconds, 0)
            << " conn/s)";
  if (totals.connect_failed) std::cout << ", " << totals.connect_failed << " FAILED (" << totals.first_error << ")";
  std::cout << std::endl;

  std::this_thread::sleep_for(std::chrono::milliseconds(static_cast<int>(o.settle_seconds * 1000)));
  std::uint64_t rss_connected = rss.now_kb();

  // Recipients per user among clients that are connected and reading.
  std::vector<std::uint32_t> readers_of(o.users + 1, 0);
  std::uint64_t readers = 0;
  for (unsigned i = 0; i < o.clients; ++i) {
    if (clients[i].st == client::state::ready) {
      ++readers_of[clients[i].user];
      ++readers;
    }
  }

  cpu_use idle_cpu;
  if (o.idle_seconds > 0) {
    cpu_mark a = mark(o);
    std::this_thread::sleep_for(std::chrono::milliseconds(static_cast<int>(o.idle_seconds * 1000)));
    idle_cpu = between(a, mark(o));
  }

  auto received_total = [&] {
    std::uint64_t n = 0;
    for (auto& t : threads) n += t->events();
    return n;
  };
  auto step_summary = [&](unsigned k, std::uint64_t expected) {
    std::vector<const histogram*> parts;
    std::uint64_t got = 0;
    for (auto& t : threads) {
      parts.push_back(&t->step_histogram(k));
      got += t->step_events(k);
    }
    return summarize(parts, expected > got ? expected - got : 0);
  };

  std::unique_ptr<producer> prod;  // outlives the clients: the blast server's sockets are theirs
  std::vector<step_record> records;
  std::uint64_t expected_total = 0;
  std::uint64_t next_seq = 1;
  std::string producer_error;
  publish_stats pub;
  std::mt19937 rng(12345);
  std::uniform_int_distribution<std::uint32_t> pick_user(1, o.users);
  auto recipients = [&](std::uint32_t owner) -> std::uint64_t {
    return owner == 0 ? readers : readers_of[owner];
  };

  if (o.producer == "publish") {
    std::cout << "[" << o.label << "] POST /publish for " << o.publish_seconds << " s on " << o.publish_connections
              << " connections" << std::endl;
    steps.first_seq[0] = 1;
    steps.started.store(1, std::memory_order_release);
    step_record rec;
    rec.first_seq = 1;
    rss.reset_peak();
    cpu_mark a = mark(o);
    rec.start_us = a.us;
    run_publish(
        server, host_header, o.publish_connections, o.publish_seconds, o.publish_max, o.publish_token, o.table,
        o.users, o.broadcast, o.row_bytes, 1, pub,
        [&](std::uint64_t seq, std::uint32_t owner) { owner_of[seq] = static_cast<std::int32_t>(owner); },
        [&](std::uint64_t seq, bool ok) {
          if (ok) {
            expected_total += recipients(static_cast<std::uint32_t>(owner_of[seq])) * o.events_per_row;
            ++rec.rows;
          } else {
            owner_of[seq] = -1;
          }
        });
    cpu_mark b = mark(o);
    rec.end_us = b.us;
    rec.cpu = between(a, b);
    rec.rss_peak_kb = rss.peak_kb();
    rec.expected_events = expected_total;
    rec.rate = static_cast<double>(pub.ok) / pub.seconds;
    next_seq = pub.sent + 1;
    records.push_back(rec);
  } else if (o.producer != "none") {
    if (o.producer == "pg") {
      prod = std::make_unique<pg_producer>(o.pg_url, o.table, o.row_bytes);
    } else if (o.producer == "mysql") {
      std::vector<std::string> f;
      std::stringstream ss(o.mysql);
      std::string item;
      while (std::getline(ss, item, ':')) f.push_back(item);
      if (f.size() != 5) usage("--mysql needs host:port:user:password:database");
      prod = std::make_unique<mysql_producer>(f[0], static_cast<unsigned>(std::atoi(f[1].c_str())), f[2], f[3],
                                              f[4], o.table, o.row_bytes);
    } else if (o.producer == "blast") {
      prod = std::move(blast);
    } else if (o.producer == "echo") {
      prod = std::make_unique<echo_producer>(server, host_header, o.path, o.row_bytes);
    } else {
      usage("unknown producer " + o.producer);
    }
    if (!prod->open(producer_error)) {
      std::cerr << "[" << o.label << "] " << producer_error << std::endl;
      stop = true;
      for (auto& r : runners) r.join();
      return 1;
    }
    // Ramp: each step runs at its rate; a step is judged `grace` after it ends (events
    // still missing by then are later than any threshold below it) and the ramp stops at the
    // first step whose p99 passed --stop-p99-ms.
    const std::uint64_t grace_us = 500000;
    std::vector<row> batch;
    bool aborted = false;
    int pending_eval = -1;
    auto evaluate = [&](unsigned k) {
      auto s = step_summary(k, records[k].expected_events);
      if (o.stop_p99_ms > 0 && (s.p99 == UINT64_MAX || static_cast<double>(s.p99) > o.stop_p99_ms * 1000)) {
        records[k].over = true;
        aborted = true;
      }
    };
    for (unsigned k = 0; k < o.rates.size() && !aborted && producer_error.empty(); ++k) {
      step_record rec;
      rec.rate = o.rates[k];
      rec.first_seq = next_seq;
      steps.first_seq[k].store(next_seq, std::memory_order_relaxed);
      steps.started.store(k + 1, std::memory_order_release);
      rss.reset_peak();
      cpu_mark a = mark(o);
      rec.start_us = a.us;
      std::uint64_t step_us = static_cast<std::uint64_t>(o.step_seconds * 1e6);
      records.push_back(rec);
      step_record& cur = records.back();
      for (;;) {
        std::uint64_t now = mono_us();
        if (pending_eval >= 0 && now >= records[static_cast<unsigned>(pending_eval)].end_us + grace_us) {
          evaluate(static_cast<unsigned>(pending_eval));
          pending_eval = -1;
          if (aborted) break;
        }
        std::uint64_t elapsed = now - cur.start_us;
        if (elapsed >= step_us) break;
        auto due = static_cast<std::uint64_t>(cur.rate * static_cast<double>(elapsed) / 1e6) + 1;
        if (due <= cur.rows) {
          double next_at = static_cast<double>(cur.rows) / cur.rate * 1e6;
          auto wait = static_cast<std::int64_t>(next_at) - static_cast<std::int64_t>(elapsed);
          std::this_thread::sleep_for(std::chrono::microseconds(std::clamp<std::int64_t>(wait, 20, 2000)));
          continue;
        }
        std::uint64_t n = std::min<std::uint64_t>(due - cur.rows, o.max_batch);
        batch.clear();
        for (std::uint64_t i = 0; i < n; ++i) {
          std::uint32_t owner = o.broadcast ? 0 : pick_user(rng);
          owner_of[next_seq] = static_cast<std::int32_t>(owner);
          batch.push_back({next_seq++, owner});
          cur.expected_events += recipients(owner) * o.events_per_row;
        }
        if (!prod->send(batch, mono_us(), producer_error)) {
          for (const row& r : batch) owner_of[r.seq] = -1;
          break;
        }
        cur.rows += n;
      }
      cpu_mark b = mark(o);
      cur.end_us = b.us;
      cur.cpu = between(a, b);
      cur.rss_peak_kb = rss.peak_kb();
      expected_total += cur.expected_events;
      pending_eval = static_cast<int>(k);
      if (!producer_error.empty()) break;
    }
    if (pending_eval >= 0 && !aborted) {
      std::uint64_t at = records[static_cast<unsigned>(pending_eval)].end_us + grace_us;
      while (mono_us() < at) std::this_thread::sleep_for(std::chrono::milliseconds(10));
      evaluate(static_cast<unsigned>(pending_eval));
    }
    if (!producer_error.empty()) std::cerr << "[" << o.label << "] PRODUCER ERROR: " << producer_error << std::endl;
  }

  // Drain: until everything expected arrived, no progress for 3 s, or --drain-seconds.
  std::uint64_t drain_start = mono_us();
  std::uint64_t last_progress = drain_start, last_count = received_total();
  while (o.producer != "none") {
    std::uint64_t got = received_total();
    std::uint64_t now = mono_us();
    if (got >= expected_total) break;
    if (got != last_count) {
      last_count = got;
      last_progress = now;
    }
    if (now - last_progress > 3000000 || now - drain_start > static_cast<std::uint64_t>(o.drain_seconds * 1e6)) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  // Give stragglers (duplicates) a moment to show up before counting.
  std::this_thread::sleep_for(std::chrono::milliseconds(o.producer == "none" ? 0 : 300));
  std::uint64_t rss_end = rss.now_kb();
  stop = true;
  for (auto& r : runners) r.join();

  // Slow consumers: read what the kernel buffered for them; a server that cut them off has
  // queued its FIN or RST behind that data, so it shows up within a second.
  unsigned stalled = 0, stalled_cut = 0;
  std::uint64_t stalled_bytes = 0;
  for (unsigned i = 0; i < o.clients; ++i) {
    if (clients[i].st != client::state::stalled) continue;
    ++stalled;
    std::vector<char> buf(1 << 20);
    std::uint64_t until = mono_us() + 1500000;
    bool cut = false;
    while (!cut && mono_us() < until) {
      pollfd p{clients[i].fd, POLLIN, 0};
      if (poll(&p, 1, 200) <= 0) continue;
      ssize_t n = recv(clients[i].fd, buf.data(), buf.size(), MSG_DONTWAIT);
      if (n > 0) stalled_bytes += static_cast<std::uint64_t>(n);
      else if (n == 0 || (errno != EAGAIN && errno != EINTR)) cut = true;
    }
    if (cut) ++stalled_cut;
  }

  // Verification: every reading client against the commit log.
  std::uint64_t lost = 0, dup = 0, misdelivered = 0, unknown = 0, without_seq = 0;
  std::uint64_t last_seq = next_seq - 1;
  for (unsigned i = 0; i < o.clients; ++i) {
    const client& c = clients[i];
    if (c.st == client::state::stalled || c.st == client::state::failed || c.st == client::state::idle) continue;
    unknown += c.unknown_seq;
    without_seq += c.events_without_seq;
    for (std::uint64_t s = 1; s <= last_seq; ++s) {
      std::int32_t ow = owner_of[s];
      bool mine = ow == 0 || (ow > 0 && static_cast<std::uint32_t>(ow) == c.user);
      std::uint8_t g = s < c.got.size() ? c.got[s] : 0;
      unsigned changes = g & 0x0f, other = g >> 4;
      unsigned want_changes = (mine && o.events_per_row == 2) ? 1 : 0;
      unsigned want_other = mine ? 1 : 0;
      auto check = [&](unsigned got, unsigned want) {
        if (want && got == 0) ++lost;
        else if (!want && got > 0) misdelivered += got;
        else if (got > want) dup += got - want;
      };
      check(changes, want_changes);
      check(other, want_other);
    }
  }

  // Report.
  std::cout << "[" << o.label << "] server RSS: before " << rss_before / 1024 << " MiB, connected "
            << rss_connected / 1024 << " MiB, end " << rss_end / 1024 << " MiB, peak " << rss.peak_all_kb() / 1024
            << " MiB" << std::endl;
  if (connected)
    std::cout << "[" << o.label << "] memory per connection: "
              << fixed((static_cast<double>(rss_connected) - static_cast<double>(rss_before)) * 1024.0 /
                           static_cast<double>(connected) / 1024.0,
                       2)
              << " KiB" << std::endl;
  if (o.idle_seconds > 0)
    std::cout << "[" << o.label << "] idle CPU: server " << fixed(idle_cpu.server, 2) << "%, loadgen "
              << fixed(idle_cpu.self, 2) << "%" << std::endl;

  unsigned best = UINT32_MAX;
  bool ramp_ok = true;  // best: the last step of the unbroken run of steps within the bound
  std::vector<latency_summary> sums;
  for (unsigned k = 0; k < records.size(); ++k) {
    const step_record& r = records[k];
    std::uint64_t got = 0, last = 0;
    for (auto& t : threads) {
      got += t->step_events(k);
      last = std::max(last, t->step_last_us(k));
    }
    auto s = step_summary(k, r.expected_events);
    sums.push_back(s);
    double span = static_cast<double>(std::max(r.end_us, last) - r.start_us) / 1e6;
    double eps = span > 0 ? static_cast<double>(got) / span : 0;
    double commit_rate = static_cast<double>(r.rows) / (static_cast<double>(r.end_us - r.start_us) / 1e6);
    bool complete = o.producer == "publish" ||
                    static_cast<double>(r.end_us - r.start_us) >= o.step_seconds * 1e6 * 0.98;
    bool ok = complete && !r.over && s.missing == 0 &&
              (o.stop_p99_ms <= 0 || static_cast<double>(s.p99) <= o.stop_p99_ms * 1000);
    ramp_ok = ramp_ok && ok;
    if (ramp_ok) best = k;
    std::cout << "STEP label=" << o.label << " step=" << k << " rate=" << fixed(r.rate, 0)
              << " rows=" << r.rows << " commit_rate=" << fixed(commit_rate, 0) << " expected=" << r.expected_events
              << " events=" << got << " eps=" << fixed(eps, 0) << " p50_ms=" << fmt_us(s.p50)
              << " p95_ms=" << fmt_us(s.p95) << " p99_ms=" << fmt_us(s.p99) << " max_ms=" << fmt_us(s.max)
              << " server_cpu=" << fixed(r.cpu.server) << " server_rss_mb=" << fixed(r.rss_peak_kb / 1024.0)
              << " db_cpu=" << fixed(r.cpu.db) << " loadgen_cpu=" << fixed(r.cpu.self)
              << " client_threads_cpu=" << fixed(r.cpu.clients)
              << " within_p99=" << (ok ? 1 : 0) << std::endl;
  }

  bool failed = lost || dup || misdelivered || unknown || totals.connect_failed || totals.dropped ||
                totals.protocol_errors || !producer_error.empty() || pub.failed;
  std::cout << "RESULT label=" << o.label << " clients=" << o.clients << " connected=" << connected
            << " connect_s=" << fixed(connect_cpu.seconds, 2)
            << " connect_rate=" << fixed(static_cast<double>(connected) / connect_cpu.seconds, 0)
            << " connect_server_cpu=" << fixed(connect_cpu.server) << " rss_before_mb=" << fixed(rss_before / 1024.0)
            << " rss_connected_mb=" << fixed(rss_connected / 1024.0) << " rss_end_mb=" << fixed(rss_end / 1024.0)
            << " rss_peak_mb=" << fixed(rss.peak_all_kb() / 1024.0) << " per_conn_kb="
            << fixed(connected ? (static_cast<double>(rss_connected) - static_cast<double>(rss_before)) /
                                     static_cast<double>(connected)
                               : 0,
                     2)
            << " idle_server_cpu=" << fixed(idle_cpu.server, 2) << " idle_loadgen_cpu=" << fixed(idle_cpu.self, 2)
            << " best_step=" << (best == UINT32_MAX ? -1 : static_cast<int>(best))
            << " publish_ok=" << pub.ok << " publish_rejected=" << pub.rejected << " publish_failed=" << pub.failed
            << " publish_rps=" << fixed(pub.seconds > 0 ? static_cast<double>(pub.ok) / pub.seconds : 0, 0)
            << " publish_connections=" << pub.connections;
  if (pub.sent) {
    auto ps = summarize({&pub.latency});
    std::cout << " publish_p50_ms=" << fmt_us(ps.p50) << " publish_p99_ms=" << fmt_us(ps.p99);
  }
  std::cout << " stalled=" << stalled << " stalled_cut=" << stalled_cut
            << " stalled_mb=" << fixed(static_cast<double>(stalled_bytes) / 1048576.0) << " events=" << received_total()
            << " expected=" << expected_total << " delivery_errors=" << (lost + dup + misdelivered + unknown)
            << " lost=" << lost << " duplicated=" << dup
            << " misdelivered=" << misdelivered << " unknown=" << unknown << " dropped=" << totals.dropped
            << " connect_failed=" << totals.connect_failed << " ok=" << (failed ? 0 : 1) << std::endl;
  if (failed) {
    std::cout << "\n!!!!!!!! [" << o.label << "] DELIVERY CHECK FAILED: lost=" << lost << " duplicated=" << dup
              << " misdelivered=" << misdelivered << " unknown_seq=" << unknown << " dropped_clients="
              << totals.dropped << " connect_failed=" << totals.connect_failed
              << " protocol_errors=" << totals.protocol_errors;
    if (pub.failed) std::cout << " publish_failed=" << pub.failed;
    if (!totals.first_error.empty()) std::cout << " first error: " << totals.first_error;
    if (!producer_error.empty()) std::cout << " producer: " << producer_error;
    std::cout << " !!!!!!!!\n" << std::endl;
  }
  for (auto& t : threads) t->close_all();
  return failed ? 1 : 0;
}

}  // namespace
}  // namespace loadgen

int main(int argc, char** argv) { return loadgen::run(loadgen::parse(argc, argv)); }
