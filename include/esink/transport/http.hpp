#ifndef ESINK_TRANSPORT_HTTP_HPP
#define ESINK_TRANSPORT_HTTP_HPP

#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace esink {

/// A plain HTTP request to a route the server serves besides Socket.IO.
struct http_request {
  std::string method;
  std::string path;
  std::string query;  ///< Still percent-encoded.
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;

  /// The value of header `name` (case-insensitive), empty when absent.
  std::string_view header(std::string_view name) const {
    for (const auto& [k, v] : headers) {
      if (k.size() != name.size()) continue;
      bool same = true;
      for (std::size_t i = 0; i < k.size() && same; ++i) {
        char a = k[i], b = name[i];
        if (a >= 'A' && a <= 'Z') a = static_cast<char>(a - 'A' + 'a');
        if (b >= 'A' && b <= 'Z') b = static_cast<char>(b - 'A' + 'a');
        same = a == b;
      }
      if (same) return v;
    }
    return {};
  }
};

/// Sends the response to one request, once, from any thread (also after the handler returned).
class http_responder {
public:
  using headers = std::vector<std::pair<std::string, std::string>>;
  using function_type = std::function<void(int, std::string, std::string, headers)>;

  explicit http_responder(function_type f) : fn_(std::make_shared<function_type>(std::move(f))) {}

  void operator()(int status, std::string content_type, std::string body, headers extra = {}) const {
    if (auto f = std::exchange(*fn_, nullptr)) f(status, std::move(content_type), std::move(body), std::move(extra));
  }

private:
  std::shared_ptr<function_type> fn_;
};

/// Handles one HTTP request; must call the responder exactly once, now or later.
using http_handler = std::function<void(const http_request&, http_responder)>;

}  // namespace esink

#endif
