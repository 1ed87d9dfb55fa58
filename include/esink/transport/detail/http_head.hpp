#ifndef ESINK_TRANSPORT_DETAIL_HTTP_HEAD_HPP
#define ESINK_TRANSPORT_DETAIL_HTTP_HEAD_HPP

#include <cstddef>
#include <string_view>
#include <utility>
#include <vector>

namespace esink::detail {

/// The head of one HTTP/1.x request, viewing the buffer it was parsed from.
struct request_head {
  std::string_view method;
  std::string_view target;
  bool http10 = false;
  std::vector<std::pair<std::string_view, std::string_view>> headers;
  std::size_t head_bytes = 0;      ///< Request line and headers, through the blank line.
  std::size_t content_length = 0;  ///< 0 without a Content-Length header.
  bool keep_alive = true;          ///< The connection may carry another request after this one.
  bool expect_continue = false;    ///< `Expect: 100-continue`: answer 100 before reading the body.
  bool upgrade = false;            ///< An `Upgrade` header (seen only when the caller allows it).
};

/// What @ref parse_request_head made of a buffer.
enum class head_parse {
  complete,    ///< A well-formed head, in `request_head`.
  incomplete,  ///< No blank line yet (and the buffer is under the limit).
  unusual,     ///< Well-formed or not, something the keep-alive fast path leaves to websocketpp:
               ///< a syntax error, an Upgrade, a Transfer-Encoding, a repeated or odd
               ///< Content-Length, an unknown Expect, too many or too large headers.
};

namespace http_head_detail {

inline bool is_tchar(char c) {
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return true;
  switch (c) {
    case '!': case '#': case '$': case '%': case '&': case '\'': case '*': case '+': case '-': case '.':
    case '^': case '_': case '`': case '|': case '~': return true;
    default: return false;
  }
}

inline bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    char x = a[i], y = b[i];
    if (x >= 'A' && x <= 'Z') x = static_cast<char>(x - 'A' + 'a');
    if (y >= 'A' && y <= 'Z') y = static_cast<char>(y - 'A' + 'a');
    if (x != y) return false;
  }
  return true;
}

inline std::string_view trim_ows(std::string_view v) {
  while (!v.empty() && (v.front() == ' ' || v.front() == '\t')) v.remove_prefix(1);
  while (!v.empty() && (v.back() == ' ' || v.back() == '\t')) v.remove_suffix(1);
  return v;
}

/// Whether the comma-separated list `v` holds `token` (case-insensitive).
inline bool has_token(std::string_view v, std::string_view token) {
  while (!v.empty()) {
    auto comma = v.find(',');
    if (iequals(trim_ows(v.substr(0, comma)), token)) return true;
    if (comma == std::string_view::npos) break;
    v.remove_prefix(comma + 1);
  }
  return false;
}

}  // namespace http_head_detail

/// Parses a request head strictly (RFC 9112 §2-§6 syntax, no obsolete line folding). Never
/// reads past `buf`; `h` views `buf`. Anything out of the ordinary is `unusual` rather than
/// an error: the caller hands such a request to a full HTTP implementation.
///
/// @param max_head   heads longer than this are `unusual` (websocketpp's own limit is 16000).
/// @param max_body   a larger Content-Length is `unusual` (websocketpp answers it with 413).
/// @param allow_upgrade  an `Upgrade` request without a body is `complete` with `upgrade` set
///                   (the caller answers WebSocket handshakes itself) rather than `unusual`.
inline head_parse parse_request_head(std::string_view buf, request_head& h, std::size_t max_head = 16000,
                                     std::size_t max_body = std::size_t(-1), std::size_t max_headers = 100,
                                     bool allow_upgrade = false) {
  using namespace http_head_detail;
  h = request_head{};
  auto end = buf.find("\r\n\r\n");
  if (end == std::string_view::npos) return buf.size() >= max_head ? head_parse::unusual : head_parse::incomplete;
  if (end + 4 > max_head) return head_parse::unusual;
  h.head_bytes = end + 4;
  std::string_view rest = buf.substr(0, end + 2);  // every line, each ending in CRLF

  auto next_line = [&rest](std::string_view& line) {
    auto eol = rest.find("\r\n");
    line = rest.substr(0, eol);
    rest.remove_prefix(eol + 2);
    // A bare CR or LF inside a line is a smuggling vector: never guess what it meant.
    return line.find_first_of("\r\n") == std::string_view::npos;
  };

  std::string_view line;
  if (!next_line(line)) return head_parse::unusual;
  auto sp1 = line.find(' ');
  if (sp1 == std::string_view::npos || sp1 == 0) return head_parse::unusual;
  h.method = line.substr(0, sp1);
  for (char c : h.method)
    if (!is_tchar(c)) return head_parse::unusual;
  auto sp2 = line.find(' ', sp1 + 1);
  if (sp2 == std::string_view::npos) return head_parse::unusual;
  h.target = line.substr(sp1 + 1, sp2 - sp1 - 1);
  if (h.target.empty() || h.target.front() != '/') return head_parse::unusual;
  for (char c : h.target)
    if (static_cast<unsigned char>(c) <= 0x20 || c == 0x7f) return head_parse::unusual;
  std::string_view version = line.substr(sp2 + 1);
  if (version == "HTTP/1.1") h.http10 = false;
  else if (version == "HTTP/1.0") h.http10 = true;
  else return head_parse::unusual;

  bool close = false, keep_alive = false, have_length = false;
  while (!rest.empty()) {
    if (!next_line(line)) return head_parse::unusual;
    auto colon = line.find(':');
    if (colon == std::string_view::npos || colon == 0) return head_parse::unusual;
    std::string_view name = line.substr(0, colon);
    for (char c : name)
      if (!is_tchar(c)) return head_parse::unusual;
    std::string_view value = trim_ows(line.substr(colon + 1));
    for (char c : value)
      if ((static_cast<unsigned char>(c) < 0x20 && c != '\t') || c == 0x7f) return head_parse::unusual;
    if (h.headers.size() == max_headers) return head_parse::unusual;
    h.headers.emplace_back(name, value);

    if (iequals(name, "Content-Length")) {
      if (have_length || value.empty() || value.size() > 12) return head_parse::unusual;
      std::size_t n = 0;
      for (char c : value) {
        if (c < '0' || c > '9') return head_parse::unusual;
        n = n * 10 + static_cast<std::size_t>(c - '0');
      }
      if (n > max_body) return head_parse::unusual;
      h.content_length = n;
      have_length = true;
    } else if (iequals(name, "Transfer-Encoding")) {
      return head_parse::unusual;
    } else if (iequals(name, "Upgrade")) {
      if (!allow_upgrade) return head_parse::unusual;
      h.upgrade = true;
    } else if (iequals(name, "Connection")) {
      close = close || has_token(value, "close");
      keep_alive = keep_alive || has_token(value, "keep-alive");
      if (has_token(value, "upgrade") && !allow_upgrade) return head_parse::unusual;
    } else if (iequals(name, "Expect")) {
      if (!iequals(value, "100-continue")) return head_parse::unusual;
      h.expect_continue = true;
    }
  }
  if (h.upgrade && (h.content_length != 0 || h.expect_continue)) return head_parse::unusual;
  h.keep_alive = !close && (!h.http10 || keep_alive);
  return head_parse::complete;
}

/// The reason phrase of the statuses esink sends.
inline std::string_view status_reason(int status) {
  switch (status) {
    case 100: return "Continue";
    case 200: return "OK";
    case 204: return "No Content";
    case 304: return "Not Modified";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 408: return "Request Timeout";
    case 413: return "Payload Too Large";
    case 415: return "Unsupported Media Type";
    case 429: return "Too Many Requests";
    case 500: return "Internal Server Error";
    case 503: return "Service Unavailable";
    default: return status < 400 ? "OK" : status < 500 ? "Bad Request" : "Internal Server Error";
  }
}

}  // namespace esink::detail

#endif
