#include <esink/auth/with_test_token.hpp>

#include "auth_test_util.hpp"

#include <boost/test/unit_test.hpp>

BOOST_AUTO_TEST_SUITE(auth_with_test_token)

BOOST_AUTO_TEST_CASE(test_is_user_minus_one_when_allowed) {
  esink::with_test_token<esink::no_auth> dev(true);
  esink_test::answers a;
  dev.async_authenticate("TEST", a.handler());
  dev.async_authenticate("other", a.handler());
  BOOST_REQUIRE(a.wait(2));
  for (auto& x : a.got) {
    BOOST_TEST((x.thread != std::this_thread::get_id()));
    if (x.ec) {
      BOOST_TEST((x.ec == esink::error::unauthorized));
    } else {
      BOOST_TEST(x.u.key == "-1");
      BOOST_TEST(x.u.id == boost::json::value(-1));
    }
  }
}

BOOST_AUTO_TEST_CASE(test_is_refused_when_not_allowed) {
  esink::with_test_token<esink::no_auth> prod(false);
  esink_test::answers a;
  prod.async_authenticate("TEST", a.handler());
  BOOST_REQUIRE(a.wait(1));
  BOOST_TEST((a.got[0].ec == esink::error::unauthorized));
}

BOOST_AUTO_TEST_SUITE_END()
