// A router whose route() mutates state: it is called concurrently, so the concept requires const.
#include <esink/router/concept.hpp>

struct bad_router {
  void route(std::string_view, const boost::json::object&, esink::route_result&) {}
  void filter(std::string_view, boost::json::object&) const {}
};

static_assert(esink::check_router<bad_router>::value);

int main() {}
