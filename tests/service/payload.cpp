#include <esink/service/payload.hpp>

#include <boost/json/parse.hpp>
#include <boost/test/unit_test.hpp>

#include <set>

BOOST_AUTO_TEST_SUITE(service_payload)

BOOST_AUTO_TEST_CASE(serialized_once_then_completed_per_user) {
  esink::change_payload p;
  p.id = "e1";
  p.type = esink::change_type::remove;
  p.table = "we\"ird";
  p.data = boost::json::parse(R"({"a":[1,2]})").as_object();
  p.timestamp = 17;
  esink::serialized_payload s(p);
  BOOST_TEST(boost::json::parse(s.for_user("101")) ==
             boost::json::parse(R"({"id":"e1","type":"delete","table":"we\"ird","data":{"a":[1,2]},"timestamp":17,)"
                                R"("source":"database","version":1,"userId":101})"));
  BOOST_TEST(boost::json::parse(s.for_user("\"*\"")).at("userId") == "*");
  BOOST_TEST(s.table_json() == R"("we\"ird")");
}

BOOST_AUTO_TEST_CASE(event_ids_are_v4_uuids_and_unique) {
  std::set<std::string> seen;
  for (int i = 0; i < 10000; ++i) {
    auto id = esink::make_event_id();
    BOOST_REQUIRE(id.size() == 36u);
    BOOST_REQUIRE(id[14] == '4');
    BOOST_REQUIRE(std::string("89ab").find(id[19]) != std::string::npos);
    BOOST_REQUIRE(seen.insert(id).second);
  }
}

BOOST_AUTO_TEST_SUITE_END()
