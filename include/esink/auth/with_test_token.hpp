#ifndef ESINK_AUTH_WITH_TEST_TOKEN_HPP
#define ESINK_AUTH_WITH_TEST_TOKEN_HPP

#include <esink/auth/concept.hpp>
#include <esink/auth/detail/worker_pool.hpp>
#include <esink/auth/user.hpp>
#include <esink/error.hpp>

#include <string>
#include <utility>

namespace esink {

/** Adds the seed's `TEST` token to an Auth policy: `TEST` yields @ref test_user (id -1) when
    allowed, and is refused when not (production, unless explicitly allowed); every other token
    goes to `Inner`.

    @tparam Inner an Auth policy (auth/concept.hpp). Models Auth itself.
*/
template <class Inner> class with_test_token {
  static_assert(check_auth<Inner>::value);

public:
  template <class... Args>
  explicit with_test_token(bool allowed, Args&&... args)
      : allowed_(allowed), inner_(std::forward<Args>(args)...), pool_(1, 100000) {}

  void async_authenticate(std::string token, auth_handler h) {
    if (token != "TEST") return inner_.async_authenticate(std::move(token), std::move(h));
    std::error_code ec = allowed_ ? std::error_code() : make_error_code(error::unauthorized);
    if (!pool_.post([h, ec](detail::no_state&) { h(ec, ec ? user{} : test_user()); }))
      h(make_error_code(error::queue_full), {});
  }

  void stop() {
    pool_.stop();
    inner_.stop();
  }

  Inner& inner() noexcept { return inner_; }

private:
  bool allowed_;
  Inner inner_;
  detail::worker_pool<> pool_;
};

/// An Auth policy that knows nobody (with @ref with_test_token: only `TEST` connects).
class no_auth {
public:
  no_auth() : pool_(1, 100000) {}
  void async_authenticate(std::string, auth_handler h) {
    if (!pool_.post([h](detail::no_state&) { h(make_error_code(error::unauthorized), {}); }))
      h(make_error_code(error::queue_full), {});
  }
  void stop() { pool_.stop(); }

private:
  detail::worker_pool<> pool_;
};

static_assert(check_auth<no_auth>::value);

}  // namespace esink

#endif
