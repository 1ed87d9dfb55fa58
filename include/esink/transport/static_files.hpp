#ifndef ESINK_TRANSPORT_STATIC_FILES_HPP
#define ESINK_TRANSPORT_STATIC_FILES_HPP

#include <esink/transport/http.hpp>

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

namespace esink {

/// Limits of @ref static_files, checked while files are added.
struct static_files_options {
  /// Largest single file.
  std::size_t max_file_bytes = 8u << 20;
  /// All files together (they are held in memory).
  std::size_t max_total_bytes = 64u << 20;
  /// Number of files.
  std::size_t max_files = 4096;
  /// Directory levels below the root that are still searched.
  std::size_t max_depth = 16;
};

/** A fixed set of files served by HTTP GET: a web page next to the Socket.IO endpoint.

    Files are enumerated and read into memory when added, and one exact-path route is
    registered per file, so a request can only ever name one of those files: `..`,
    percent-encoded or not, matches no route and gets 404, and nothing added later to the
    directory is served. There is no directory listing; `<dir>/index.html` is also served at
    `<dir>/` (`/` for the root). Entries whose name starts with a dot are skipped (hidden
    directories are not searched), as are symbolic links that lead outside the directory or to
    a directory, and names that would need percent-encoding in a URL (anything but letters,
    digits and `-._~`); see `skipped()`.

    Responses carry the Content-Type for the file extension (`content_type`), a strong ETag
    (a conditional GET with a matching `If-None-Match` gets 304), `Cache-Control: no-cache` and
    `X-Content-Type-Options: nosniff`. Methods other than GET get 405. Routes registered on the
    server after `serve` (the service's `/publish`, `/ping`) take precedence over files of the
    same path.

    @par Example
    @code
    esink::static_files files;
    files.add_directory("public");                                        // throws on error
    files.add_socketio_client("node_modules/socket.io-client/dist");      // /socket.io/socket.io.min.js
    files.serve(server);                                                  // before server.start
    @endcode

    @par Thread safety
    Build before `serve`; the registered handlers share the immutable contents and may run on
    any thread.
*/
class static_files {
public:
  explicit static_files(static_files_options o = {}) : options_(o) {}

  /// Adds every file under `dir` at `url_prefix` + its path relative to `dir`.
  /// @throws std::invalid_argument naming the directory or file: not a readable directory,
  /// a file that cannot be read, or a limit of @ref static_files_options exceeded.
  void add_directory(const std::filesystem::path& dir, std::string_view url_prefix = "/") {
    std::error_code ec;
    const auto root = std::filesystem::canonical(dir, ec);
    if (ec) throw std::invalid_argument("cannot open directory '" + dir.string() + "': " + ec.message());
    if (!std::filesystem::is_directory(root, ec))
      throw std::invalid_argument("'" + dir.string() + "' is not a directory");
    std::string prefix = slashed(url_prefix);

    std::filesystem::recursive_directory_iterator it(root, std::filesystem::directory_options::none, ec), end;
    if (ec) throw std::invalid_argument("cannot read directory '" + dir.string() + "': " + ec.message());
    for (; it != end; it.increment(ec)) {
      if (ec) throw std::invalid_argument("cannot read directory '" + dir.string() + "': " + ec.message());
      const auto& entry = it->path();
      const std::string rel = entry.lexically_relative(root).generic_string();
      if (entry.filename().string().front() == '.') {
        if (it->is_directory(ec) && !it->is_symlink(ec)) it.disable_recursion_pending();
        continue;
      }
      if (it->is_symlink(ec)) {
        // Followed only to a regular file inside the directory (e.g. Kubernetes ConfigMap mounts).
        auto target = std::filesystem::canonical(entry, ec);
        if (ec) {
          skipped_.push_back(rel + ": broken symbolic link");
          continue;
        }
        if (!within(root, target)) {
          skipped_.push_back(rel + ": symbolic link leading outside the directory");
          continue;
        }
        if (!std::filesystem::is_regular_file(target, ec)) {
          skipped_.push_back(rel + ": symbolic link to something other than a regular file");
          continue;
        }
      } else if (it->is_directory(ec)) {
        if (static_cast<std::size_t>(it.depth()) + 1 >= options_.max_depth) {
          skipped_.push_back(rel + "/: deeper than " + std::to_string(options_.max_depth) + " levels");
          it.disable_recursion_pending();
        }
        continue;
      } else if (!it->is_regular_file(ec)) {
        skipped_.push_back(rel + ": not a regular file");
        continue;
      }
      if (!url_safe(rel)) {
        skipped_.push_back(rel + ": name needs percent-encoding (use letters, digits and -._~)");
        continue;
      }
      add_file(entry, prefix + rel);
    }
  }

  /// Serves `file` at exactly `url_path` (which must start with `/`).
  /// @throws std::invalid_argument as @ref add_directory.
  void add_file(const std::filesystem::path& file, std::string url_path) {
    if (url_path.empty() || url_path.front() != '/')
      throw std::invalid_argument("URL path '" + url_path + "' of '" + file.string() + "' must start with /");
    if (auto dup = files_.find(url_path); dup != files_.end())
      throw std::invalid_argument("'" + file.string() + "' and '" + dup->second->source + "' would both be served at " +
                                  url_path);
    if (file_count_ >= options_.max_files)
      throw std::invalid_argument("more than " + std::to_string(options_.max_files) + " files to serve (at '" +
                                  file.string() + "')");
    std::error_code ec;
    const auto size = std::filesystem::file_size(file, ec);
    if (ec) throw std::invalid_argument("cannot read '" + file.string() + "': " + ec.message());
    if (size > options_.max_file_bytes)
      throw std::invalid_argument("'" + file.string() + "' has " + std::to_string(size) + " bytes, more than the " +
                                  std::to_string(options_.max_file_bytes) + " allowed per file");
    if (total_bytes_ + size > options_.max_total_bytes)
      throw std::invalid_argument("files to serve exceed " + std::to_string(options_.max_total_bytes) +
                                  " bytes together (at '" + file.string() + "')");
    auto f = std::make_shared<entry>();
    f->body.resize(static_cast<std::size_t>(size));
    std::ifstream in(file, std::ios::binary);
    if (!in || !in.read(f->body.data(), static_cast<std::streamsize>(f->body.size())) ||
        in.peek() != std::ifstream::traits_type::eof())
      throw std::invalid_argument("cannot read '" + file.string() + "' (changed while being read?)");
    f->content_type = std::string(content_type(file.filename().string()));
    f->etag = etag_of(f->body);
    f->source = file.string();
    total_bytes_ += size;
    ++file_count_;
    constexpr std::string_view index = "/index.html";
    if (url_path.size() >= index.size() && url_path.compare(url_path.size() - index.size(), index.size(), index) == 0)
      files_.emplace(url_path.substr(0, url_path.size() - index.size() + 1), f);
    files_.emplace(std::move(url_path), std::move(f));
  }

  /// The official socket.io browser client at `<engine_path>socket.io.js` and `socket.io.min.js`
  /// (plus their source maps and the ESM build when present), as the Node server's `serveClient`
  /// does, so pages that load the client from the server keep working. `dist` is the `dist`
  /// directory of the npm package `socket.io-client`.
  /// @throws std::invalid_argument when `dist` lacks `socket.io.js` or `socket.io.min.js`.
  void add_socketio_client(const std::filesystem::path& dist, std::string_view engine_path = "/socket.io/") {
    const std::string prefix = slashed(engine_path);
    for (const char* name : {"socket.io.js", "socket.io.min.js"}) {
      std::error_code ec;
      if (!std::filesystem::is_regular_file(dist / name, ec))
        throw std::invalid_argument("'" + dist.string() + "' has no " + name +
                                    " (expected the dist directory of the npm package socket.io-client)");
      add_file(dist / name, prefix + name);
    }
    for (const char* name : {"socket.io.js.map", "socket.io.min.js.map", "socket.io.esm.min.js",
                             "socket.io.esm.min.js.map"}) {
      std::error_code ec;
      if (std::filesystem::is_regular_file(dist / name, ec)) add_file(dist / name, prefix + name);
    }
  }

  /// Registers one GET route per URL path on `server` (anything with
  /// `on_http(std::string, esink::http_handler)`). Call before the server starts.
  template <class Server> void serve(Server& server) const {
    for (const auto& [path, f] : files_)
      server.on_http(path, [f = std::shared_ptr<const entry>(f)](const http_request& req, http_responder r) {
        if (req.method != "GET") return r(405, "text/plain; charset=utf-8", "Method Not Allowed", {{"Allow", "GET"}});
        http_responder::headers h{{"ETag", f->etag}, {"Cache-Control", "no-cache"}, {"X-Content-Type-Options", "nosniff"}};
        if (matches(req.header("If-None-Match"), f->etag)) return r(304, f->content_type, {}, std::move(h));
        r(200, f->content_type, f->body, std::move(h));
      });
  }

  /// URL paths served, sorted.
  std::vector<std::string> paths() const {
    std::vector<std::string> out;
    for (const auto& kv : files_) out.push_back(kv.first);
    return out;
  }

  /// Entries of added directories that are not served, each `relative/path: why`.
  const std::vector<std::string>& skipped() const noexcept { return skipped_; }

  /// Files added (an `index.html` served at two paths counts once).
  std::size_t file_count() const noexcept { return file_count_; }

  /// Bytes held in memory.
  std::size_t total_bytes() const noexcept { return total_bytes_; }

  /// The Content-Type for a file name, by extension (case-insensitive); text types are UTF-8.
  /// Unknown extensions are `application/octet-stream`.
  static std::string_view content_type(std::string_view name) {
    static constexpr std::pair<std::string_view, std::string_view> types[] = {
        {"html", "text/html; charset=utf-8"},   {"htm", "text/html; charset=utf-8"},
        {"css", "text/css; charset=utf-8"},     {"js", "text/javascript; charset=utf-8"},
        {"mjs", "text/javascript; charset=utf-8"}, {"json", "application/json"},
        {"map", "application/json"},            {"txt", "text/plain; charset=utf-8"},
        {"md", "text/markdown; charset=utf-8"}, {"csv", "text/csv; charset=utf-8"},
        {"xml", "application/xml"},             {"svg", "image/svg+xml"},
        {"png", "image/png"},                   {"jpg", "image/jpeg"},
        {"jpeg", "image/jpeg"},                 {"gif", "image/gif"},
        {"webp", "image/webp"},                 {"avif", "image/avif"},
        {"ico", "image/x-icon"},                {"woff", "font/woff"},
        {"woff2", "font/woff2"},                {"wasm", "application/wasm"},
        {"pdf", "application/pdf"},             {"webmanifest", "application/manifest+json"},
    };
    auto dot = name.rfind('.');
    if (dot == std::string_view::npos) return "application/octet-stream";
    std::string ext(name.substr(dot + 1));
    for (auto& c : ext)
      if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    for (const auto& [e, type] : types)
      if (e == ext) return type;
    return "application/octet-stream";
  }

private:
  struct entry {
    std::string body;
    std::string content_type;
    std::string etag;
    std::string source;  ///< The file's path, for error messages.
  };

  static std::string slashed(std::string_view p) {
    std::string s(p);
    if (s.empty() || s.front() != '/') s.insert(s.begin(), '/');
    if (s.back() != '/') s += '/';
    return s;
  }

  static bool within(const std::filesystem::path& root, const std::filesystem::path& p) {
    auto r = root.begin(), q = p.begin();
    for (; r != root.end(); ++r, ++q)
      if (q == p.end() || *r != *q) return false;
    return true;
  }

  /// Path segments of unreserved URL characters (RFC 3986 §2.3), none of them `.` or `..`.
  static bool url_safe(std::string_view rel) {
    std::size_t seg = 0;
    for (std::size_t i = 0; i <= rel.size(); ++i) {
      if (i == rel.size() || rel[i] == '/') {
        std::string_view s = rel.substr(seg, i - seg);
        if (s.empty() || s == "." || s == "..") return false;
        seg = i + 1;
        continue;
      }
      char c = rel[i];
      bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '.' ||
                c == '_' || c == '~';
      if (!ok) return false;
    }
    return true;
  }

  /// FNV-1a over the contents: changes whenever the file does (the files are fixed per run).
  static std::string etag_of(std::string_view body) {
    std::uint64_t h = 14695981039346656037ull;
    for (unsigned char c : body) h = (h ^ c) * 1099511628211ull;
    static constexpr char hex[] = "0123456789abcdef";
    std::string out = "\"";
    for (int shift = 60; shift >= 0; shift -= 4) out += hex[(h >> shift) & 0xf];
    out += '-' + std::to_string(body.size()) + '"';
    return out;
  }

  /// If-None-Match (RFC 9110 §13.1.2): `*` or a list of entity tags, weak ones compared weakly.
  static bool matches(std::string_view header, std::string_view etag) {
    while (!header.empty()) {
      auto comma = header.find(',');
      std::string_view tag = header.substr(0, comma);
      while (!tag.empty() && (tag.front() == ' ' || tag.front() == '\t')) tag.remove_prefix(1);
      while (!tag.empty() && (tag.back() == ' ' || tag.back() == '\t')) tag.remove_suffix(1);
      if (tag.substr(0, 2) == "W/") tag.remove_prefix(2);
      if (tag == "*" || tag == etag) return true;
      if (comma == std::string_view::npos) break;
      header.remove_prefix(comma + 1);
    }
    return false;
  }

  static_files_options options_;
  std::map<std::string, std::shared_ptr<entry>> files_;
  std::vector<std::string> skipped_;
  std::size_t total_bytes_ = 0;
  std::size_t file_count_ = 0;
};

}  // namespace esink

#endif
