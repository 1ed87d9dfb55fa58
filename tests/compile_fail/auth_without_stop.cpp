// An auth policy that cannot be stopped (handlers could run after shutdown): check_auth names it.
#include <esink/auth/concept.hpp>

struct bad_auth {
  void async_authenticate(std::string, esink::auth_handler) {}
};

static_assert(esink::check_auth<bad_auth>::value);

int main() {}
