// A source that forgot its event type: check_source names the requirement.
#include <esink/source/concept.hpp>

struct bad_source {
  template <class Sink> void start(Sink&, std::error_code&) {}
  void stop() {}
  void acknowledge(std::uint64_t) {}
};

static_assert(esink::check_source<bad_source>::value);

int main() {}
