#include <esink/transport/encoded_packet.hpp>

#include <boost/test/unit_test.hpp>

BOOST_AUTO_TEST_SUITE(encoded_packet)

BOOST_AUTO_TEST_CASE(event_is_one_text_frame_ready_for_the_wire) {
  esink::message m;
  m.args.emplace_back(1);
  m.args.emplace_back("two");
  auto p = esink::encoded_packet::event("/", "changes", m);
  BOOST_TEST_REQUIRE(p->frames().size() == 1u);
  const auto& f = p->frames()[0];
  BOOST_TEST(!f.binary);
  BOOST_TEST(f.data() == R"(42["changes",1,"two"])");
  BOOST_TEST(f.ws->get_prepared());
  BOOST_TEST(f.ws->get_header() == esink::detail::ws_frame_header(false, f.data().size()));
  BOOST_TEST(p->wire_size() == f.data().size() + 2);
}

BOOST_AUTO_TEST_CASE(binary_event_has_placeholders_and_attachment_frames) {
  esink::message m;
  m.args.emplace_back(esink::binary_placeholder(0));
  m.attachments.push_back(std::string("\x01\x02\x03", 3));
  auto p = esink::encoded_packet::event("/custom", "file", m, 7);
  BOOST_TEST_REQUIRE(p->frames().size() == 2u);
  BOOST_TEST(p->frames()[0].data() == R"(451-/custom,7["file",{"_placeholder":true,"num":0}])");
  BOOST_TEST(p->frames()[1].binary);
  BOOST_TEST(p->frames()[1].data() == std::string("\x01\x02\x03", 3));
}

BOOST_AUTO_TEST_CASE(raw_event_reuses_serialized_arguments) {
  auto p = esink::encoded_packet::event_raw("/", R"("users")", R"({"id":1})");
  BOOST_TEST(p->frames()[0].data() == R"(42["users",{"id":1}])");
  auto q = esink::encoded_packet::event_raw("/", R"("ping")", "");
  BOOST_TEST(q->frames()[0].data() == R"(42["ping"])");
}

BOOST_AUTO_TEST_SUITE_END()
