#define BOOST_TEST_MODULE esink concepts
#include <esink/source/concept.hpp>

#include <boost/test/unit_test.hpp>

#include <cstdint>
#include <system_error>

namespace {

// The minimal conforming source, as documented in source/concept.hpp.
struct source_archetype {
  using event_type = esink::change_event;
  template <class Sink> void start(Sink&, std::error_code&) {}
  void stop() {}
  void acknowledge(std::uint64_t) {}
};

struct no_event_type {
  template <class Sink> void start(Sink&, std::error_code&) {}
  void stop() {}
  void acknowledge(std::uint64_t) {}
};

struct start_without_error_code {
  using event_type = esink::change_event;
  template <class Sink> void start(Sink&) {}
  void stop() {}
  void acknowledge(std::uint64_t) {}
};

struct no_acknowledge {
  using event_type = esink::change_event;
  template <class Sink> void start(Sink&, std::error_code&) {}
  void stop() {}
};

}  // namespace

BOOST_AUTO_TEST_SUITE(source_concept)

BOOST_AUTO_TEST_CASE(archetype_conforms) {
  static_assert(esink::check_source<source_archetype>::value);
  BOOST_TEST(esink::is_source_v<source_archetype>);
}

BOOST_AUTO_TEST_CASE(each_missing_requirement_is_detected) {
  BOOST_TEST(!esink::is_source_v<no_event_type>);
  BOOST_TEST(!esink::is_source_v<start_without_error_code>);
  BOOST_TEST(!esink::is_source_v<no_acknowledge>);
  BOOST_TEST(!esink::is_source_v<int>);
}

BOOST_AUTO_TEST_SUITE_END()
