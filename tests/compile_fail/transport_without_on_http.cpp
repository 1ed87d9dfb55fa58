// A transport that cannot serve /publish and /ping: check_transport names the missing member.
#include <esink/transport/concept.hpp>

struct bad_transport {
  struct namespace_type {};
  struct socket_type {};
  namespace_type& of(const std::string&);
  void start(std::error_code&);
  void stop();
  std::uint16_t local_port() const;
};

static_assert(esink::check_transport<bad_transport>::value);

int main() {}
