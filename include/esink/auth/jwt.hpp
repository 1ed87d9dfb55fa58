#ifndef ESINK_AUTH_JWT_HPP
#define ESINK_AUTH_JWT_HPP

#include <esink/auth/concept.hpp>
#include <esink/auth/detail/worker_pool.hpp>
#include <esink/auth/user.hpp>
#include <esink/error.hpp>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>

namespace esink {

namespace detail {

/// Decodes unpadded base64url (RFC 7515 §2); false on any other character or a bad length.
inline bool base64url_decode(std::string_view in, std::string& out) {
  auto val = [](char c) -> int {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '-') return 62;
    if (c == '_') return 63;
    return -1;
  };
  if (in.size() % 4 == 1) return false;
  out.clear();
  out.reserve(in.size() * 3 / 4);
  std::uint32_t acc = 0;
  int bits = 0;
  for (char c : in) {
    int v = val(c);
    if (v < 0) return false;
    acc = (acc << 6) | static_cast<std::uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out += static_cast<char>((acc >> bits) & 0xFF);
    }
  }
  return true;
}

inline std::string base64url_encode(std::string_view in) {
  static constexpr char tbl[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  std::string out;
  std::uint32_t acc = 0;
  int bits = 0;
  for (unsigned char c : in) {
    acc = (acc << 8) | c;
    bits += 8;
    while (bits >= 6) {
      bits -= 6;
      out += tbl[(acc >> bits) & 63];
    }
  }
  if (bits > 0) out += tbl[(acc << (6 - bits)) & 63];
  return out;
}

inline std::string hmac_sha256(std::string_view key, std::string_view data) {
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned len = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()), reinterpret_cast<const unsigned char*>(data.data()),
       data.size(), mac, &len);
  return std::string(reinterpret_cast<const char*>(mac), len);
}

}  // namespace detail

/// Settings of @ref jwt_auth.
struct jwt_options {
  std::string secret;                        ///< the HS256 key (ESINK_JWT_SECRET)
  std::chrono::seconds leeway{30};           ///< clock skew tolerated on `exp` and `nbf`
  std::size_t max_token_size = 8192;
};

/** Verifies HS256 JSON Web Tokens (RFC 7519): the signature with OpenSSL's HMAC-SHA256,
    compared in constant time; `alg` must be `HS256` (never `none`); `exp` and `nbf` are
    honoured; the user id is `sub`. Shows that the Auth seam is real: no database involved.

    Models the Auth concept (auth/concept.hpp).
*/
class jwt_auth {
public:
  explicit jwt_auth(jwt_options o) : opt_(std::move(o)), pool_(1, 100000) {}

  /// Checks `token` now; `{}` and the user, or error::unauthorized.
  std::error_code verify(std::string_view token, user& out) const {
    const auto bad = make_error_code(error::unauthorized);
    if (opt_.secret.empty() || token.size() > opt_.max_token_size) return bad;
    auto d1 = token.find('.');
    if (d1 == std::string_view::npos) return bad;
    auto d2 = token.find('.', d1 + 1);
    if (d2 == std::string_view::npos || token.find('.', d2 + 1) != std::string_view::npos) return bad;
    std::string header, payload, signature;
    if (!detail::base64url_decode(token.substr(0, d1), header) ||
        !detail::base64url_decode(token.substr(d1 + 1, d2 - d1 - 1), payload) ||
        !detail::base64url_decode(token.substr(d2 + 1), signature))
      return bad;
    std::string mac = detail::hmac_sha256(opt_.secret, token.substr(0, d2));
    if (signature.size() != mac.size() || CRYPTO_memcmp(signature.data(), mac.data(), mac.size()) != 0) return bad;

    boost::json::error_code jec;
    auto h = boost::json::parse(header, jec);
    if (jec || !h.is_object()) return bad;
    auto alg = h.get_object().if_contains("alg");
    if (!alg || !alg->is_string() || alg->get_string() != "HS256") return bad;
    auto claims = boost::json::parse(payload, jec);
    if (jec || !claims.is_object()) return bad;
    auto& c = claims.get_object();
    double now = std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
    double leeway = static_cast<double>(opt_.leeway.count());
    if (auto exp = c.if_contains("exp")) {
      if (!exp->is_number() || now >= exp->to_number<double>() + leeway) return bad;
    }
    if (auto nbf = c.if_contains("nbf")) {
      if (!nbf->is_number() || now < nbf->to_number<double>() - leeway) return bad;
    }
    auto sub = c.if_contains("sub");
    if (!sub) return bad;
    auto key = user_key(*sub);
    if (!key) return bad;
    out.id = *sub;
    out.key = std::move(*key);
    out.row = std::move(c);
    return {};
  }

  void async_authenticate(std::string token, auth_handler h) {
    bool posted = pool_.post([this, h, token = std::move(token)](detail::no_state&) {
      user u;
      auto ec = verify(token, u);
      h(ec, std::move(u));
    });
    if (!posted) h(make_error_code(error::queue_full), {});
  }

  void stop() { pool_.stop(); }

  /// Signs `claims` with `secret` (HS256): for tests and for issuing tokens.
  static std::string sign(const boost::json::object& claims, std::string_view secret) {
    std::string head = detail::base64url_encode(R"({"alg":"HS256","typ":"JWT"})");
    std::string body = detail::base64url_encode(boost::json::serialize(claims));
    std::string input = head + "." + body;
    return input + "." + detail::base64url_encode(detail::hmac_sha256(secret, input));
  }

private:
  jwt_options opt_;
  detail::worker_pool<> pool_;
};

static_assert(check_auth<jwt_auth>::value);

}  // namespace esink

#endif
