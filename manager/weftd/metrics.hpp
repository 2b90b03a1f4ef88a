// weftd's metrics, written in the Prometheus text exposition format 0.0.4
// (what GET /metrics serves).
//
// A registry holds families (one metric name, its HELP text and TYPE) and
// each family holds one series per label set. Counters, gauges and
// histograms are objects the registry owns; the references it hands out stay
// valid as long as the registry, so the code that counts keeps the reference
// and an increment is one addition. Callback gauges read their value when the
// registry is scraped (sizes of the kernel's tables, for instance).
//
// Not thread-safe: weftd updates and scrapes metrics from its event loop.
//
// Names are checked when a series is registered and std::invalid_argument
// names the offending metric or label: metric names match
// [a-zA-Z_:][a-zA-Z0-9_:]*, label names [a-zA-Z_][a-zA-Z0-9_]* and must not
// start with "__" (reserved by Prometheus); "le" is reserved in histograms.
// All series of one family must carry the same label names. Labels are
// written sorted by name, so the order they are given in does not matter.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace weft {

// Label name and value pairs of one series.
using MetricLabels = std::vector<std::pair<std::string, std::string>>;

// A value that only goes up (events, bytes, errors).
class Counter {
public:
    void inc() noexcept { value_ += 1; }
    // Adds `delta`; a negative or NaN delta is ignored (a counter never
    // decreases).
    void inc(double delta) noexcept {
        if (delta >= 0) {
            value_ += delta;
        }
    }
    double value() const noexcept { return value_; }

private:
    double value_ = 0;
};

// A value that goes up and down (peers known, routes installed).
class Gauge {
public:
    void set(double value) noexcept { value_ = value; }
    void inc(double delta = 1) noexcept { value_ += delta; }
    void dec(double delta = 1) noexcept { value_ -= delta; }
    double value() const noexcept { return value_; }

private:
    double value_ = 0;
};

// Observations counted into fixed buckets (by upper bound), with their sum:
// latencies in seconds, for instance.
class Histogram {
public:
    // `bounds` must be non-empty, strictly increasing and free of NaN; a
    // trailing +Inf is implied (and dropped if given). Throws
    // std::invalid_argument otherwise.
    explicit Histogram(std::vector<double> bounds);

    // A NaN observation lands in the +Inf bucket only and makes the sum NaN.
    void observe(double value) noexcept;

    // The finite upper bounds, without +Inf.
    const std::vector<double>& bounds() const noexcept { return bounds_; }
    // How many observations were <= bounds()[i] (cumulative, as exposed);
    // i == bounds().size() is the +Inf bucket, equal to count().
    std::uint64_t cumulative_count(std::size_t i) const noexcept;
    std::uint64_t count() const noexcept { return count_; }
    double sum() const noexcept { return sum_; }

private:
    std::vector<double> bounds_;
    // Per bucket, not cumulative; one more than bounds_ (the +Inf bucket).
    std::vector<std::uint64_t> counts_;
    std::uint64_t count_ = 0;
    double sum_ = 0;
};

// `count` bounds from `start`, each `factor` times the previous one. Throws
// std::invalid_argument unless start > 0, factor > 1 and count >= 1.
std::vector<double> exponential_buckets(double start, double factor, std::size_t count);

// Bounds for the latency of programming the kernel, 100 us to about 13 s.
std::vector<double> latency_buckets();

class MetricsRegistry {
public:
    MetricsRegistry();
    MetricsRegistry(MetricsRegistry&&) noexcept;
    MetricsRegistry& operator=(MetricsRegistry&&) noexcept;
    MetricsRegistry(const MetricsRegistry&) = delete;
    MetricsRegistry& operator=(const MetricsRegistry&) = delete;
    ~MetricsRegistry();

    // Each returns the series `name`{labels}, creating it (and its family,
    // with `help`) on first use; asking again returns the same object. The
    // family's HELP is the one given first. Throws std::invalid_argument on a
    // bad name, a name already used for another type, or label names that
    // differ from the family's.
    Counter& counter(std::string_view name, std::string_view help, MetricLabels labels = {});
    Gauge& gauge(std::string_view name, std::string_view help, MetricLabels labels = {});
    // All series of a histogram family share the bounds given first; later
    // calls with other bounds throw std::invalid_argument.
    Histogram& histogram(std::string_view name, std::string_view help, std::vector<double> bounds,
                         MetricLabels labels = {});

    // A gauge whose value `read` returns at each scrape. Replaces an earlier
    // callback of the same series. If `read` throws, the series is left out
    // of that scrape.
    void gauge_callback(std::string_view name, std::string_view help, std::function<double()> read,
                        MetricLabels labels = {});

    // Every family in the order of registration, series in the order of
    // registration, in the text exposition format 0.0.4.
    std::string expose() const;

private:
    struct Family;
    std::vector<std::unique_ptr<Family>> families_;
};

// The Content-Type of expose()'s output.
inline constexpr std::string_view kMetricsContentType = "text/plain; version=0.0.4";

} // namespace weft
