#include <esink/service/detail/delivery_queue.hpp>

#include <boost/test/unit_test.hpp>

#include <atomic>
#include <thread>

BOOST_AUTO_TEST_SUITE(service_delivery_queue)

BOOST_AUTO_TEST_CASE(full_queue_blocks_the_producer_never_drops) {
  esink::detail::delivery_queue<int> q(4);
  // Boost.Test assertions are not thread-safe: the producer only counts, the main thread checks.
  std::atomic<int> pushed{0};
  std::thread producer([&] {
    for (int i = 0; i < 1000 && q.push(i); ++i) ++pushed;
    q.close();
  });
  int expect = 0;
  while (auto v = q.pop()) {
    BOOST_REQUIRE(*v == expect);
    BOOST_REQUIRE(q.size() <= 4u);
    ++expect;
  }
  producer.join();
  BOOST_TEST(pushed.load() == 1000);
  BOOST_TEST(expect == 1000);
}

BOOST_AUTO_TEST_CASE(close_releases_a_blocked_producer) {
  esink::detail::delivery_queue<int> q(1);
  BOOST_REQUIRE(q.push(1));
  std::atomic<bool> refused{false};
  std::thread producer([&] { refused = !q.push(2); });
  q.close();
  producer.join();
  BOOST_TEST(refused.load());
  BOOST_TEST(*q.pop() == 1);  // what was queued still drains
  BOOST_TEST(!q.pop());
}

BOOST_AUTO_TEST_SUITE_END()
