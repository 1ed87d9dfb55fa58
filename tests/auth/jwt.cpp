#include <esink/auth/jwt.hpp>

#include "auth_test_util.hpp"

#include <boost/json/serialize.hpp>
#include <boost/test/unit_test.hpp>

#include <chrono>

namespace {

std::int64_t now_s() {
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

esink::jwt_auth make() {
  esink::jwt_options o;
  o.secret = "top secret";
  o.leeway = std::chrono::seconds(0);
  return esink::jwt_auth(o);
}

}  // namespace

BOOST_AUTO_TEST_SUITE(auth_jwt)

BOOST_AUTO_TEST_CASE(known_vector_from_rfc7515_style_signing) {
  // HS256 of the well-known jwt.io example with secret "your-256-bit-secret".
  esink::jwt_options o;
  o.secret = "your-256-bit-secret";
  esink::jwt_auth auth(o);
  esink::user u;
  auto ec = auth.verify(
      "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4gRG9lIiwiaWF0IjoxNTE2MjM5MDIyfQ."
      "SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c",
      u);
  BOOST_TEST(!ec);
  BOOST_TEST(u.key == "1234567890");
  BOOST_TEST(u.row.at("name") == "John Doe");
}

BOOST_AUTO_TEST_CASE(valid_expired_not_yet_and_tampered) {
  auto auth = make();
  esink::user u;
  BOOST_TEST(!auth.verify(esink::jwt_auth::sign({{"sub", 101}, {"exp", now_s() + 60}}, "top secret"), u));
  BOOST_TEST(u.key == "101");
  BOOST_TEST(u.id == boost::json::value(101));
  auto bad = esink::make_error_code(esink::error::unauthorized);
  BOOST_TEST((auth.verify(esink::jwt_auth::sign({{"sub", 101}, {"exp", now_s() - 1}}, "top secret"), u) == bad));
  BOOST_TEST((auth.verify(esink::jwt_auth::sign({{"sub", 101}, {"nbf", now_s() + 60}}, "top secret"), u) == bad));
  BOOST_TEST((auth.verify(esink::jwt_auth::sign({{"sub", 101}}, "other secret"), u) == bad));
  BOOST_TEST((auth.verify(esink::jwt_auth::sign({{"name", "no sub"}}, "top secret"), u) == bad));
  BOOST_TEST((auth.verify(esink::jwt_auth::sign({{"sub", nullptr}}, "top secret"), u) == bad));
  std::string t = esink::jwt_auth::sign({{"sub", 1}}, "top secret");
  t[t.find('.') + 2] ^= 1;  // flip a payload bit
  BOOST_TEST((auth.verify(t, u) == bad));
  BOOST_TEST((auth.verify("not.a.jwt", u) == bad));
  BOOST_TEST((auth.verify("", u) == bad));
  BOOST_TEST((auth.verify("a.b", u) == bad));
}

BOOST_AUTO_TEST_CASE(alg_none_and_other_algorithms_are_refused) {
  auto auth = make();
  esink::user u;
  std::string body = esink::detail::base64url_encode(R"({"sub":"1"})");
  std::string none = esink::detail::base64url_encode(R"({"alg":"none"})") + "." + body + ".";
  BOOST_TEST((auth.verify(none, u) == esink::error::unauthorized));
  // Correctly "signed" with HMAC but declaring another algorithm.
  std::string head = esink::detail::base64url_encode(R"({"alg":"HS512"})") + "." + body;
  std::string forged = head + "." + esink::detail::base64url_encode(esink::detail::hmac_sha256("top secret", head));
  BOOST_TEST((auth.verify(forged, u) == esink::error::unauthorized));
}

BOOST_AUTO_TEST_CASE(async_answers_off_the_calling_thread) {
  auto auth = make();
  esink_test::answers a;
  auth.async_authenticate(esink::jwt_auth::sign({{"sub", "abc"}}, "top secret"), a.handler());
  auth.async_authenticate("garbage", a.handler());
  BOOST_REQUIRE(a.wait(2));
  for (auto& x : a.got) BOOST_TEST((x.thread != std::this_thread::get_id()));
  BOOST_TEST(!a.got[0].ec);
  BOOST_TEST(a.got[0].u.key == "abc");
  BOOST_TEST((a.got[1].ec == esink::error::unauthorized));
}

BOOST_AUTO_TEST_SUITE_END()
