#define BOOST_TEST_MODULE esink metrics
#include <esink/metrics/registry.hpp>

#include <boost/test/unit_test.hpp>

#include <limits>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

BOOST_AUTO_TEST_SUITE(registry_)

BOOST_AUTO_TEST_CASE(exposition_format_0_0_4) {
  esink::metrics::registry reg;
  auto& events = reg.add_counter("esink_events_total", "Events.\nSecond \\ line.", {"source", "table"});
  events.with({"postgres", "public.users"}).inc(3);
  events.with({"postgres", "we\"ird\\ta\nble"}).inc();
  reg.add_gauge("esink_lag_seconds", "Lag.").get().set(0.25);
  auto& h = reg.add_histogram("esink_latency_seconds", "Latency.", {0.005, 0.1, 1}).get();
  h.observe(0);
  h.observe(0.1);  // le is inclusive
  h.observe(3);
  BOOST_TEST(reg.render() ==
             "# HELP esink_events_total Events.\\nSecond \\\\ line.\n"
             "# TYPE esink_events_total counter\n"
             "esink_events_total{source=\"postgres\",table=\"public.users\"} 3\n"
             "esink_events_total{source=\"postgres\",table=\"we\\\"ird\\\\ta\\nble\"} 1\n"
             "# HELP esink_lag_seconds Lag.\n"
             "# TYPE esink_lag_seconds gauge\n"
             "esink_lag_seconds 0.25\n"
             "# HELP esink_latency_seconds Latency.\n"
             "# TYPE esink_latency_seconds histogram\n"
             "esink_latency_seconds_bucket{le=\"0.005\"} 1\n"
             "esink_latency_seconds_bucket{le=\"0.1\"} 2\n"
             "esink_latency_seconds_bucket{le=\"1\"} 2\n"
             "esink_latency_seconds_bucket{le=\"+Inf\"} 3\n"
             "esink_latency_seconds_sum 3.1\n"
             "esink_latency_seconds_count 3\n");
}

BOOST_AUTO_TEST_CASE(histogram_labels_come_before_le) {
  esink::metrics::registry reg;
  auto& f = reg.add_histogram("h", "H.", {1}, {"kind"});
  f.with({"a"}).observe(2);
  BOOST_TEST(reg.render() ==
             "# HELP h H.\n# TYPE h histogram\n"
             "h_bucket{kind=\"a\",le=\"1\"} 0\nh_bucket{kind=\"a\",le=\"+Inf\"} 1\n"
             "h_sum{kind=\"a\"} 2\nh_count{kind=\"a\"} 1\n");
}

BOOST_AUTO_TEST_CASE(numbers) {
  auto fmt = [](double v) {
    std::string s;
    esink::metrics::detail::append_double(s, v);
    return s;
  };
  BOOST_TEST(fmt(0.0025) == "0.0025");
  BOOST_TEST(fmt(10) == "10");
  BOOST_TEST(fmt(60) == "60");
  BOOST_TEST(fmt(0) == "0");
  BOOST_TEST(fmt(-0.0) == "-0");
  BOOST_TEST(fmt(-1.5) == "-1.5");
  BOOST_TEST(fmt(1e21) == "1e+21");
  BOOST_TEST(fmt(0.1 + 0.2) == "0.30000000000000004");
  BOOST_TEST(fmt(std::numeric_limits<double>::infinity()) == "+Inf");
  BOOST_TEST(fmt(-std::numeric_limits<double>::infinity()) == "-Inf");
  BOOST_TEST(fmt(std::numeric_limits<double>::quiet_NaN()) == "NaN");
}

BOOST_AUTO_TEST_CASE(children_are_found_again_and_stay_put) {
  esink::metrics::registry reg;
  auto& f = reg.add_counter("c_total", "C.", {"t"});
  auto* first = &f.with({"a"});
  for (int i = 0; i < 100; ++i) f.with({"x" + std::to_string(i)});
  BOOST_TEST(&f.with({"a"}) == first);
}

BOOST_AUTO_TEST_CASE(misuse_is_refused_with_the_name) {
  esink::metrics::registry reg;
  reg.add_counter("ok_total", "OK.", {"a"});
  auto throws = [](auto f, std::string what) {
    try {
      f();
    } catch (const std::invalid_argument& e) {
      BOOST_TEST(std::string(e.what()).find(what) != std::string::npos, e.what());
      return;
    }
    BOOST_FAIL("no exception for " + what);
  };
  throws([&] { reg.add_counter("ok_total", "again"); }, "ok_total is already registered");
  throws([&] { reg.add_counter("9bad", "x"); }, "invalid metric name '9bad'");
  throws([&] { reg.add_counter("bad-name", "x"); }, "invalid metric name");
  throws([&] { reg.add_gauge("g", "x", {"__reserved"}); }, "invalid label name '__reserved'");
  throws([&] { reg.add_gauge("g2", "x", {"a-b"}); }, "invalid label name");
  throws([&] { reg.add_histogram("h", "x", {1, 1}); }, "strictly increasing");
  throws([&] { reg.add_histogram("h2", "x", {1, std::numeric_limits<double>::infinity()}); }, "finite");
  throws([&] { reg.add_histogram("h3", "x", {1}, {"le"}); }, "`le` is reserved");
  throws([&] { reg.add_counter("ok_total", "x"); }, "already");
  auto& f = reg.add_counter("two_total", "x", {"a", "b"});
  throws([&] { f.with({"only-one"}); }, "expected 2 label values, got 1");
}

BOOST_AUTO_TEST_CASE(concurrent_updates_are_all_counted) {
  esink::metrics::registry reg;
  auto& c = reg.add_counter("n_total", "N.").get();
  auto& g = reg.add_gauge("g", "G.").get();
  auto& h = reg.add_histogram("h", "H.", {0.5}).get();
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&] {
      for (int i = 0; i < 100000; ++i) {
        c.inc();
        g.inc();
        h.observe(i % 2 ? 1.0 : 0.25);
      }
    });
  std::string scraped;
  while (c.value() < 200000) scraped = reg.render();  // scraping while counting is safe
  for (auto& t : threads) t.join();
  BOOST_TEST(c.value() == 400000u);
  BOOST_TEST(g.value() == 400000.0);
  BOOST_TEST(h.count() == 400000u);
  BOOST_TEST(h.bucket_count(0) == 200000u);
  BOOST_TEST(h.sum() == 200000 * 1.0 + 200000 * 0.25);
}

BOOST_AUTO_TEST_CASE(collectors_run_before_rendering) {
  esink::metrics::registry reg;
  auto& g = reg.add_gauge("queue", "Q.").get();
  int calls = 0;
  reg.on_collect([&] { g.set(++calls); });
  BOOST_TEST(reg.render().find("queue 1\n") != std::string::npos);
  BOOST_TEST(reg.render().find("queue 2\n") != std::string::npos);
}

BOOST_AUTO_TEST_SUITE_END()
