#ifndef ESINK_AUTH_TABLE_COLUMN_HPP
#define ESINK_AUTH_TABLE_COLUMN_HPP

#include <esink/auth/concept.hpp>
#include <esink/auth/detail/worker_pool.hpp>
#include <esink/auth/user.hpp>
#include <esink/detail/type_traits.hpp>
#include <esink/error.hpp>

#include <atomic>
#include <chrono>
#include <cstddef>
#include <iterator>
#include <list>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <type_traits>
#include <unordered_map>
#include <utility>
#include <vector>

namespace esink {

/// What the table/column policy looks up: `SELECT * FROM table WHERE column = $token`.
struct auth_lookup_options {
  std::string table;          ///< AUTH_TABLE (`schema.table` allowed)
  std::string column;         ///< AUTH_COLUMN: holds the token
  std::string id_column = "id";  ///< the user id column of that row
};

namespace detail {

template <class L> using lookup_find_t = decltype(std::declval<L&>().find(
    std::declval<std::string_view>(), std::declval<user&>(), std::declval<std::error_code&>()));
template <class L> using lookup_options_t = typename L::options_type;

/// Fills `u.id` and `u.key` from the row's id column; false when it identifies nobody.
inline bool user_from_row(boost::json::object row, const std::string& id_column, user& u) {
  auto it = row.find(id_column);
  if (it == row.end()) return false;
  auto key = user_key(it->value());
  if (!key) return false;
  u.id = it->value();
  u.key = std::move(*key);
  u.row = std::move(row);
  return true;
}

}  // namespace detail

/// Checks the per-database query seam of @ref table_column_auth.
template <class L> struct check_auth_lookup {
  static_assert(detail::is_detected_v<detail::lookup_options_t, L>, "AuthLookup: missing nested type `options_type`");
  static_assert(std::is_same_v<detail::detected_t<detail::lookup_find_t, L>, bool>,
                "AuthLookup: missing `bool find(std::string_view token, esink::user&, std::error_code&)`");
  static_assert(std::is_constructible_v<L, const detail::detected_t<detail::lookup_options_t, L>&>,
                "AuthLookup: missing constructor from `const options_type&`");
  static constexpr bool value = true;
};

/// Settings of @ref table_column_auth besides the database's.
struct table_column_auth_options {
  /// How long an answer (user found, or token unknown) is reused; 0 disables the cache.
  std::chrono::milliseconds ttl{5000};
  /// Most tokens remembered; the least recently stored go first.
  std::size_t max_entries = 10000;
  /// Threads (and database connections) running lookups.
  std::size_t threads = 2;
  /// Lookups waiting for a thread; beyond it clients are refused with error::queue_full.
  std::size_t max_pending = 10000;
};

/** The seed's authentication: the client's token is looked up in AUTH_TABLE where AUTH_COLUMN
    equals it, with a parameterized query on the policy's own threads; the row's id column is
    the user id.

    A reconnect storm costs one query per distinct token: concurrent lookups of one token share
    one query, and answers (found or unknown) are cached for `ttl` in a bounded cache, so a
    token deleted from the table stops working at most `ttl` later.

    @tparam Lookup the per-database query seam: `Lookup(const Lookup::options_type&)`, built on
    each worker thread (one connection each), and `bool find(std::string_view token, user&,
    std::error_code&)` returning true with the user filled in, false with `ec` clear for an
    unknown token, false with `ec` set when the database cannot answer. See
    @ref postgres_auth_lookup, @ref mariadb_auth_lookup, @ref sqlite_auth_lookup.

    Models the Auth concept (auth/concept.hpp).

    @par Thread safety
    `async_authenticate` from any thread.
*/
template <class Lookup> class table_column_auth {
  static_assert(check_auth_lookup<Lookup>::value);

public:
  using lookup_type = Lookup;
  using lookup_options = typename Lookup::options_type;

  table_column_auth(lookup_options db, table_column_auth_options opt = {})
      : opt_(opt), state_(std::make_shared<shared>()),
        pool_(opt.threads, opt.max_pending, [db] { return std::make_unique<Lookup>(db); }) {}
  table_column_auth(const table_column_auth&) = delete;
  table_column_auth& operator=(const table_column_auth&) = delete;
  ~table_column_auth() { stop(); }

  void async_authenticate(std::string token, auth_handler h) {
    auto now = clock::now();
    std::unique_lock<std::mutex> lk(state_->mtx);
    if (auto it = state_->cache.find(token); it != state_->cache.end()) {
      if (it->second.expires > now) {
        cache_hits_.fetch_add(1, std::memory_order_relaxed);
        std::error_code ec = it->second.found ? std::error_code() : make_error_code(error::unauthorized);
        user u = it->second.u;
        lk.unlock();
        if (!pool_.post([h = std::move(h), ec, u = std::move(u)](auto&) mutable { h(ec, std::move(u)); }))
          fail_later(std::move(h), make_error_code(error::queue_full));
        return;
      }
      state_->order.erase(it->second.pos);
      state_->cache.erase(it);
    }
    auto& waiting = state_->pending[token];
    waiting.push_back(std::move(h));
    if (waiting.size() > 1) return;  // a query for this token is already on its way
    lk.unlock();
    bool posted = pool_.post([this, token](std::unique_ptr<Lookup>& db) { run_lookup(*db, token); });
    if (!posted) {
      std::vector<auth_handler> hs;
      {
        std::lock_guard<std::mutex> g(state_->mtx);
        hs = std::move(state_->pending[token]);
        state_->pending.erase(token);
      }
      for (auto& x : hs) fail_later(std::move(x), make_error_code(error::queue_full));
    }
  }

  /// Stops the threads; lookups still waiting are dropped.
  void stop() { pool_.stop(); }

  /// Queries run so far (for tests and metrics).
  std::size_t queries() const noexcept { return queries_.load(); }
  /// Answers served from the cache.
  std::size_t cache_hits() const noexcept { return cache_hits_.load(); }

private:
  using clock = std::chrono::steady_clock;

  struct entry {
    bool found = false;
    user u;
    clock::time_point expires;
    std::list<std::string>::iterator pos;
  };
  struct shared {
    std::mutex mtx;
    std::unordered_map<std::string, entry> cache;
    std::list<std::string> order;  // oldest first
    std::unordered_map<std::string, std::vector<auth_handler>> pending;
  };

  void run_lookup(Lookup& db, const std::string& token) {
    queries_.fetch_add(1, std::memory_order_relaxed);
    user u;
    std::error_code ec;
    bool found = db.find(token, u, ec);
    if (!found && !ec) ec = make_error_code(error::unauthorized);
    std::vector<auth_handler> hs;
    {
      std::lock_guard<std::mutex> lk(state_->mtx);
      if (auto it = state_->pending.find(token); it != state_->pending.end()) {
        hs = std::move(it->second);
        state_->pending.erase(it);
      }
      // Only definite answers are cached: a database outage must not lock users out for `ttl`.
      if ((found || ec == error::unauthorized) && opt_.ttl.count() > 0) {
        while (state_->cache.size() >= opt_.max_entries && !state_->order.empty()) {
          state_->cache.erase(state_->order.front());
          state_->order.pop_front();
        }
        state_->order.push_back(token);
        entry e;
        e.found = found;
        e.u = u;
        e.expires = clock::now() + opt_.ttl;
        e.pos = std::prev(state_->order.end());
        state_->cache[token] = std::move(e);
      }
    }
    for (auto& h : hs) h(ec, u);
  }

  // The one inline completion: with the queue full there is no thread to hand it to, and
  // spawning one per refused client would let a flood create threads.
  static void fail_later(auth_handler h, std::error_code ec) { h(ec, {}); }

  table_column_auth_options opt_;
  std::shared_ptr<shared> state_;
  std::atomic<std::size_t> queries_{0}, cache_hits_{0};
  detail::worker_pool<std::unique_ptr<Lookup>> pool_;
};

}  // namespace esink

#endif
