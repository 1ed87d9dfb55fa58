#ifndef ESINK_SOURCE_MARIADB_DETAIL_CURSOR_HPP
#define ESINK_SOURCE_MARIADB_DETAIL_CURSOR_HPP

#include <cstdint>
#include <cstdlib>
#include <deque>
#include <iterator>
#include <map>
#include <string>
#include <string_view>

namespace esink::detail::mariadb {

/** Where a consumer stands in the event table.

    Event ids are AUTO_INCREMENT values, handed out at insert, not at commit. So the cursor is
    the highest id read (`high_water`) plus the ids below it not seen yet (`gaps`, inclusive
    ranges): each is a row of a transaction still open, or of one rolled back. A gap is filled
    when its row commits, or dropped once every transaction that could own it has ended.
*/
struct cursor_state {
  std::uint64_t seq = 0;         ///< last delivery sequence number (the public event id)
  std::uint64_t high_water = 0;  ///< highest event-table id read
  std::map<std::uint64_t, std::uint64_t> gaps;  ///< first -> last, inclusive, below high_water

  /// A row `id` above high_water was read: the ids between become gaps.
  void advance(std::uint64_t id) {
    if (id <= high_water) return;
    if (id > high_water + 1) gaps.emplace(high_water + 1, id - 1);
    high_water = id;
  }

  /// A gap row `id` was read: it leaves the gap set.
  void fill(std::uint64_t id) { erase(id, id); }

  /// Removes [lo, hi] from the gap set (filled, or proven rolled back).
  void erase(std::uint64_t lo, std::uint64_t hi) {
    auto it = gaps.upper_bound(lo);
    if (it != gaps.begin()) --it;
    while (it != gaps.end() && it->first <= hi) {
      std::uint64_t a = it->first, b = it->second;
      if (b < lo) {
        ++it;
        continue;
      }
      it = gaps.erase(it);
      if (a < lo) gaps.emplace(a, lo - 1);
      if (b > hi) {
        gaps.emplace(hi + 1, b);
        break;
      }
    }
  }

  bool contains(std::uint64_t id) const {
    auto it = gaps.upper_bound(id);
    if (it == gaps.begin()) return false;
    --it;
    return id >= it->first && id <= it->second;
  }

  /// `a-b,c,...`, as stored in the cursor table.
  std::string gaps_text() const {
    std::string out;
    for (const auto& [a, b] : gaps) {
      if (!out.empty()) out += ',';
      out += std::to_string(a);
      if (b != a) (out += '-') += std::to_string(b);
    }
    return out;
  }

  /// Parses gaps_text(); false (and no gaps) on malformed text.
  bool parse_gaps(std::string_view text) {
    gaps.clear();
    while (!text.empty()) {
      std::size_t comma = text.find(',');
      std::string item(text.substr(0, comma));
      text = comma == std::string_view::npos ? std::string_view() : text.substr(comma + 1);
      char* end = nullptr;
      std::uint64_t a = std::strtoull(item.c_str(), &end, 10), b = a;
      if (end == item.c_str()) return gaps.clear(), false;
      if (*end == '-') {
        const char* s = end + 1;
        b = std::strtoull(s, &end, 10);
        if (end == s) return gaps.clear(), false;
      }
      if (*end != '\0' || b < a) return gaps.clear(), false;
      gaps.emplace(a, b);
    }
    return true;
  }
};

/** The cursor as of the last acknowledged event.

    Every change to the live cursor is logged with the sequence number it belongs to; an
    acknowledgement replays the log up to that number, so a restart resumes exactly after
    the last acknowledged event, even in the middle of a page.
*/
class acked_cursor {
public:
  enum class op_kind : std::uint8_t { advance, fill, erase };

  void reset(const cursor_state& s) {
    state_ = s;
    log_.clear();
  }
  void log(std::uint64_t seq, op_kind k, std::uint64_t a, std::uint64_t b = 0) {
    log_.push_back({seq, k, a, b});
  }

  /// Applies every logged change up to `seq`; true when the state moved.
  bool acknowledge(std::uint64_t seq) {
    bool moved = false;
    while (!log_.empty() && log_.front().seq <= seq) {
      const op& o = log_.front();
      switch (o.kind) {
        case op_kind::advance: state_.advance(o.a); break;
        case op_kind::fill: state_.fill(o.a); break;
        case op_kind::erase: state_.erase(o.a, o.b); break;
      }
      if (o.seq > state_.seq) state_.seq = o.seq;
      log_.pop_front();
      moved = true;
    }
    return moved;
  }

  const cursor_state& state() const noexcept { return state_; }
  std::size_t pending() const noexcept { return log_.size(); }

private:
  struct op {
    std::uint64_t seq;
    op_kind kind;
    std::uint64_t a, b;
  };
  cursor_state state_;
  std::deque<op> log_;
};

}  // namespace esink::detail::mariadb

#endif
