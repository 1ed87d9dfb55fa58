#ifndef ESINK_METRICS_REGISTRY_HPP
#define ESINK_METRICS_REGISTRY_HPP

#include <esink/metrics/counter.hpp>
#include <esink/metrics/detail/format.hpp>
#include <esink/metrics/gauge.hpp>
#include <esink/metrics/histogram.hpp>

#include <deque>
#include <functional>
#include <initializer_list>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

namespace esink::metrics {

/// The `Content-Type` of @ref registry::render: Prometheus text exposition format 0.0.4.
inline constexpr std::string_view content_type = "text/plain; version=0.0.4; charset=utf-8";

/// A metric family: one name, one help text, one set of label names, and a child metric per
/// distinct set of label values.
///
/// Look children up once (`with`) and keep the reference: it stays valid as long as the
/// registry, and updating it touches no lock. Keep label values bounded (configured tables,
/// transport names), never client-supplied.
///
/// @tparam Metric @ref counter, @ref gauge or @ref histogram
///
/// @par Thread safety
/// `with` and rendering may run concurrently from any thread.
template <class Metric> class family {
public:
  using metric_type = Metric;

  /// The child for `values` (one per label name, in order), created on first use.
  /// @throws std::invalid_argument when the number of values differs from the label names.
  Metric& with(std::initializer_list<std::string_view> values) {
    return with(std::vector<std::string_view>(values));
  }

  Metric& with(const std::vector<std::string_view>& values) {
    if (values.size() != labels_.size())
      throw std::invalid_argument("metric " + name_ + ": expected " + std::to_string(labels_.size()) +
                                  " label values, got " + std::to_string(values.size()));
    std::lock_guard<std::mutex> lk(mtx_);
    for (auto& c : children_) {
      bool same = true;
      for (std::size_t i = 0; same && i < values.size(); ++i) same = c.values[i] == values[i];
      if (same) return c.metric;
    }
    std::vector<std::string> owned(values.begin(), values.end());
    return make_child(std::move(owned)).metric;
  }

  /// The child of a family without labels.
  Metric& get() { return with(std::vector<std::string_view>{}); }

  const std::string& name() const noexcept { return name_; }

private:
  friend class registry;

  struct child {
    template <class... Args>
    explicit child(std::vector<std::string> v, Args&&... args)
        : values(std::move(v)), metric(std::forward<Args>(args)...) {}
    std::vector<std::string> values;
    Metric metric;
  };

  family(std::string name, std::string help, std::vector<std::string> labels, std::vector<double> bounds)
      : name_(std::move(name)), help_(std::move(help)), labels_(std::move(labels)), bounds_(std::move(bounds)) {}

  child& make_child(std::vector<std::string> values) {
    if constexpr (std::is_same_v<Metric, histogram>)
      return children_.emplace_back(std::move(values), bounds_);
    else
      return children_.emplace_back(std::move(values));
  }

  void append_labels(std::string& out, const child& c, std::string_view extra_name = {},
                     std::string_view extra_value = {}) const {
    if (labels_.empty() && extra_name.empty()) return;
    out += '{';
    for (std::size_t i = 0; i < labels_.size(); ++i) {
      if (i) out += ',';
      out += labels_[i];
      out += "=\"";
      detail::append_label_value(out, c.values[i]);
      out += '"';
    }
    if (!extra_name.empty()) {
      if (!labels_.empty()) out += ',';
      out += extra_name;
      out += "=\"";
      out += extra_value;
      out += '"';
    }
    out += '}';
  }

  void render(std::string& out) const {
    out += "# HELP ";
    out += name_;
    out += ' ';
    detail::append_help(out, help_);
    out += "\n# TYPE ";
    out += name_;
    if constexpr (std::is_same_v<Metric, counter>) out += " counter\n";
    else if constexpr (std::is_same_v<Metric, gauge>) out += " gauge\n";
    else out += " histogram\n";
    std::lock_guard<std::mutex> lk(mtx_);
    for (const auto& c : children_) {
      if constexpr (std::is_same_v<Metric, histogram>) {
        const histogram& h = c.metric;
        std::uint64_t cumulative = 0;
        std::string le;
        for (std::size_t i = 0; i <= h.bounds().size(); ++i) {
          cumulative += h.bucket_count(i);
          le.clear();
          if (i < h.bounds().size()) detail::append_double(le, h.bounds()[i]);
          else le = "+Inf";
          out += name_;
          out += "_bucket";
          append_labels(out, c, "le", le);
          out += ' ';
          detail::append_uint(out, cumulative);
          out += '\n';
        }
        out += name_;
        out += "_sum";
        append_labels(out, c);
        out += ' ';
        detail::append_double(out, h.sum());
        out += '\n';
        out += name_;
        out += "_count";
        append_labels(out, c);
        out += ' ';
        detail::append_uint(out, cumulative);
        out += '\n';
      } else {
        out += name_;
        append_labels(out, c);
        out += ' ';
        if constexpr (std::is_same_v<Metric, counter>) detail::append_uint(out, c.metric.value());
        else detail::append_double(out, c.metric.value());
        out += '\n';
      }
    }
  }

  const std::string name_, help_;
  const std::vector<std::string> labels_;
  const std::vector<double> bounds_;
  mutable std::mutex mtx_;
  std::deque<child> children_;  // a deque: children never move, references stay valid
};

using counter_family = family<counter>;
using gauge_family = family<gauge>;
using histogram_family = family<histogram>;

/// Metric families and their exposition in the Prometheus text format 0.0.4.
///
/// @par Example
/// @code
/// esink::metrics::registry reg;
/// auto& events = reg.add_counter("esink_events_total", "Events.", {"table"});
/// esink::metrics::counter& users = events.with({"users"});  // once, at setup
/// users.inc();                                              // hot path: one atomic add
/// std::string body = reg.render();
/// @endcode
///
/// @par Thread safety
/// Add families before sharing the registry; then `render` and the families' members may be
/// used from any thread.
class registry {
public:
  registry() = default;
  registry(const registry&) = delete;
  registry& operator=(const registry&) = delete;

  /// @throws std::invalid_argument for an invalid or duplicate name, or an invalid label name.
  counter_family& add_counter(std::string name, std::string help, std::vector<std::string> labels = {}) {
    return add<counter>(std::move(name), std::move(help), std::move(labels), {});
  }

  gauge_family& add_gauge(std::string name, std::string help, std::vector<std::string> labels = {}) {
    return add<gauge>(std::move(name), std::move(help), std::move(labels), {});
  }

  /// @throws std::invalid_argument also for bounds that are not finite and strictly increasing,
  /// and for a label named `le`.
  histogram_family& add_histogram(std::string name, std::string help, std::vector<double> bounds,
                                  std::vector<std::string> labels = {}) {
    for (const auto& l : labels)
      if (l == "le") throw std::invalid_argument("metric " + name + ": `le` is reserved for histogram buckets");
    histogram check(bounds);  // validates before anything is registered
    (void)check;
    return add<histogram>(std::move(name), std::move(help), std::move(labels), std::move(bounds));
  }

  /// Runs before every `render`: the place to set gauges sampled from elsewhere (queue sizes).
  void on_collect(std::function<void()> f) { collectors_.push_back(std::move(f)); }

  /// Appends every family, in the order added, to `out`.
  void render(std::string& out) const {
    for (const auto& f : collectors_) f();
    for (const auto& f : families_) f.render(out);
  }

  std::string render() const {
    std::string out;
    render(out);
    return out;
  }

private:
  struct entry {
    std::string name;
    std::shared_ptr<void> family;
    void (*render_fn)(const void*, std::string&);
    void render(std::string& out) const { render_fn(family.get(), out); }
  };

  template <class Metric>
  family<Metric>& add(std::string name, std::string help, std::vector<std::string> labels, std::vector<double> bounds) {
    if (!detail::valid_metric_name(name)) throw std::invalid_argument("invalid metric name '" + name + "'");
    for (const auto& l : labels)
      if (!detail::valid_label_name(l))
        throw std::invalid_argument("metric " + name + ": invalid label name '" + l + "'");
    for (const auto& e : families_)
      if (e.name == name) throw std::invalid_argument("metric " + name + " is already registered");
    std::shared_ptr<family<Metric>> f(new family<Metric>(name, std::move(help), std::move(labels), std::move(bounds)));
    auto* raw = f.get();
    families_.push_back(entry{std::move(name), std::move(f), [](const void* p, std::string& out) {
                                static_cast<const family<Metric>*>(p)->render(out);
                              }});
    return *raw;
  }

  std::vector<entry> families_;
  std::vector<std::function<void()>> collectors_;
};

}  // namespace esink::metrics

#endif
