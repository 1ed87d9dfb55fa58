// A source that cannot move its restart cursor: check_source names the requirement.
#include <esink/source/concept.hpp>

struct bad_source {
  using event_type = esink::change_event;
  template <class Sink> void start(Sink&, std::error_code&) {}
  void stop() {}
};

static_assert(esink::check_source<bad_source>::value);

int main() {}
