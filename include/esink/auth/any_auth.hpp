#ifndef ESINK_AUTH_ANY_AUTH_HPP
#define ESINK_AUTH_ANY_AUTH_HPP

#include <esink/auth/concept.hpp>

#include <memory>
#include <string>
#include <utility>

namespace esink {

/** Any Auth policy behind one type, chosen at run time (e.g. table or JWT from the
    environment). One indirect call per connection attempt, none per message.

    Models the Auth concept (auth/concept.hpp).
*/
class any_auth {
public:
  template <class Auth, class... Args> static any_auth make(Args&&... args) {
    static_assert(check_auth<Auth>::value);
    any_auth a;
    a.impl_ = std::make_unique<model<Auth>>(std::forward<Args>(args)...);
    return a;
  }

  void async_authenticate(std::string token, auth_handler h) { impl_->authenticate(std::move(token), std::move(h)); }
  void stop() { impl_->stop(); }

  /// The policy inside, or null when it is not an `Auth`.
  template <class Auth> Auth* target() noexcept {
    auto* m = dynamic_cast<model<Auth>*>(impl_.get());
    return m ? &m->auth : nullptr;
  }

private:
  struct concept_base {
    virtual ~concept_base() = default;
    virtual void authenticate(std::string, auth_handler) = 0;
    virtual void stop() = 0;
  };
  template <class Auth> struct model final : concept_base {
    template <class... Args> explicit model(Args&&... args) : auth(std::forward<Args>(args)...) {}
    void authenticate(std::string t, auth_handler h) override { auth.async_authenticate(std::move(t), std::move(h)); }
    void stop() override { auth.stop(); }
    Auth auth;
  };

  std::unique_ptr<concept_base> impl_;
};

static_assert(check_auth<any_auth>::value);

}  // namespace esink

#endif
