// weftd's metrics registry and its text exposition (see metrics.hpp).
#include "metrics.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <limits>
#include <map>
#include <stdexcept>
#include <system_error>
#include <variant>

namespace weft {

namespace {

bool name_start(char c, bool colon) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || (colon && c == ':');
}

bool name_char(char c, bool colon) {
    return name_start(c, colon) || (c >= '0' && c <= '9');
}

// Metric names may hold colons (recording rules use them), label names not.
bool valid_name(std::string_view name, bool colon) {
    return !name.empty() && name_start(name.front(), colon) &&
           std::all_of(name.begin() + 1, name.end(),
                       [colon](char c) { return name_char(c, colon); });
}

void check_metric_name(std::string_view name) {
    if (!valid_name(name, true)) {
        throw std::invalid_argument("invalid metric name \"" + std::string(name) + '"');
    }
}

// Checks the metric's name, sorts `labels` by name and checks theirs.
MetricLabels normalise(std::string_view metric, MetricLabels labels, bool histogram) {
    check_metric_name(metric);
    std::sort(labels.begin(), labels.end(),
              [](const auto& a, const auto& b) { return a.first < b.first; });
    for (std::size_t i = 0; i < labels.size(); ++i) {
        const std::string& label = labels[i].first;
        std::string problem;
        if (!valid_name(label, false)) {
            problem = "invalid label name";
        } else if (label.starts_with("__") || (histogram && label == "le")) {
            problem = "reserved label name";
        } else if (i > 0 && labels[i - 1].first == label) {
            problem = "repeated label name";
        }
        if (!problem.empty()) {
            throw std::invalid_argument(problem + " \"" + label + "\" of metric \"" +
                                        std::string(metric) + '"');
        }
    }
    return labels;
}

// The shortest text that reads back as `value`: plain decimals for the
// magnitudes counters and latencies have, exponents for the extremes.
// Prometheus spells the infinities and NaN its own way.
void append_number(std::string& out, double value) {
    if (std::isnan(value)) {
        out += "NaN";
    } else if (std::isinf(value)) {
        out += value > 0 ? "+Inf" : "-Inf";
    } else {
        double magnitude = std::fabs(value);
        bool plain = magnitude == 0 || (magnitude >= 1e-4 && magnitude < 1e21);
        char buf[64];
        auto [end, ec] =
            std::to_chars(buf, buf + sizeof(buf), value,
                          plain ? std::chars_format::fixed : std::chars_format::scientific);
        out.append(buf, ec == std::errc() ? end : buf);
    }
}

// HELP text escapes backslash and line feed; label values also the quote.
void append_escaped(std::string& out, std::string_view text, bool quote) {
    for (char c : text) {
        if (c == '\\') {
            out += "\\\\";
        } else if (c == '\n') {
            out += "\\n";
        } else if (quote && c == '"') {
            out += "\\\"";
        } else {
            out += c;
        }
    }
}

// `{a="1",b="2"}` with an optional extra label last (a histogram's "le"),
// nothing for an empty set.
void append_labels(std::string& out, const MetricLabels& labels, std::string_view extra_name = {},
                   std::string_view extra_value = {}) {
    if (labels.empty() && extra_name.empty()) {
        return;
    }
    out += '{';
    bool first = true;
    auto one = [&](std::string_view name, std::string_view value) {
        if (!first) {
            out += ',';
        }
        first = false;
        out += name;
        out += "=\"";
        append_escaped(out, value, true);
        out += '"';
    };
    for (const auto& [name, value] : labels) {
        one(name, value);
    }
    if (!extra_name.empty()) {
        one(extra_name, extra_value);
    }
    out += '}';
}

void append_sample(std::string& out, std::string_view name, std::string_view suffix,
                   const MetricLabels& labels, double value, std::string_view extra_name = {},
                   std::string_view extra_value = {}) {
    out += name;
    out += suffix;
    append_labels(out, labels, extra_name, extra_value);
    out += ' ';
    append_number(out, value);
    out += '\n';
}

std::string number_text(double value) {
    std::string s;
    append_number(s, value);
    return s;
}

} // namespace

Histogram::Histogram(std::vector<double> bounds) : bounds_(std::move(bounds)) {
    if (!bounds_.empty() && bounds_.back() == std::numeric_limits<double>::infinity()) {
        bounds_.pop_back();
    }
    if (bounds_.empty()) {
        throw std::invalid_argument("histogram without bucket bounds");
    }
    for (std::size_t i = 0; i < bounds_.size(); ++i) {
        if (std::isnan(bounds_[i]) || (i > 0 && !(bounds_[i - 1] < bounds_[i]))) {
            throw std::invalid_argument("histogram bucket bounds must increase strictly");
        }
    }
    counts_.assign(bounds_.size() + 1, 0);
}

void Histogram::observe(double value) noexcept {
    // The first bound >= value: buckets hold the observations <= their bound.
    std::size_t bucket = std::isnan(value)
                             ? bounds_.size()
                             : std::size_t(std::lower_bound(bounds_.begin(), bounds_.end(), value) -
                                           bounds_.begin());
    ++counts_[bucket];
    ++count_;
    sum_ += value;
}

std::uint64_t Histogram::cumulative_count(std::size_t i) const noexcept {
    std::uint64_t total = 0;
    for (std::size_t b = 0; b <= i && b < counts_.size(); ++b) {
        total += counts_[b];
    }
    return total;
}

std::vector<double> exponential_buckets(double start, double factor, std::size_t count) {
    if (!(start > 0) || !(factor > 1) || count == 0) {
        throw std::invalid_argument("exponential buckets need start > 0, factor > 1, count >= 1");
    }
    std::vector<double> bounds;
    bounds.reserve(count);
    for (double bound = start; bounds.size() < count; bound *= factor) {
        bounds.push_back(bound);
    }
    return bounds;
}

std::vector<double> latency_buckets() {
    return exponential_buckets(0.0001, 2, 18);
}

enum class MetricType { Counter, Gauge, Histogram };

struct MetricsRegistry::Family {
    using Value = std::variant<Counter, Gauge, std::function<double()>, Histogram>;
    struct Series {
        MetricLabels labels;
        Value value;
    };

    std::string name;
    std::string help;
    MetricType type;
    // Label names of the first series; every other must have the same.
    std::vector<std::string> label_names;
    // For a histogram, the bounds every series shares.
    std::vector<double> bounds;
    // Owned one by one so that references handed out stay put.
    std::vector<std::unique_ptr<Series>> series;
    std::map<MetricLabels, Series*> index;

    Family(std::string_view name, std::string_view help, MetricType type)
        : name(name), help(help), type(type) {}

    // The series with `labels` (normalised), created with `make` if new.
    template <typename Make>
    Series& find_or_add(const MetricLabels& labels, Make&& make) {
        if (auto it = index.find(labels); it != index.end()) {
            return *it->second;
        }
        std::vector<std::string> names;
        for (const auto& label : labels) {
            names.push_back(label.first);
        }
        if (series.empty()) {
            label_names = names;
        } else if (names != label_names) {
            throw std::invalid_argument("labels of metric \"" + name +
                                        "\" differ from its first series'");
        }
        series.push_back(std::make_unique<Series>(Series{labels, make()}));
        index.emplace(labels, series.back().get());
        return *series.back();
    }

    void expose(std::string& out) const;
};

void MetricsRegistry::Family::expose(std::string& out) const {
    static constexpr std::string_view kTypeNames[] = {"counter", "gauge", "histogram"};
    out += "# HELP ";
    out += name;
    out += ' ';
    append_escaped(out, help, false);
    out += "\n# TYPE ";
    out += name;
    out += ' ';
    out += kTypeNames[std::size_t(type)];
    out += '\n';
    for (const auto& s : series) {
        if (const auto* counter = std::get_if<Counter>(&s->value)) {
            append_sample(out, name, "", s->labels, counter->value());
        } else if (const auto* gauge = std::get_if<Gauge>(&s->value)) {
            append_sample(out, name, "", s->labels, gauge->value());
        } else if (const auto* read = std::get_if<std::function<double()>>(&s->value)) {
            double value;
            try {
                value = (*read)();
            } catch (...) {
                continue;
            }
            append_sample(out, name, "", s->labels, value);
        } else {
            const auto& h = std::get<Histogram>(s->value);
            for (std::size_t i = 0; i <= h.bounds().size(); ++i) {
                std::string le = i < h.bounds().size() ? number_text(h.bounds()[i]) : "+Inf";
                append_sample(out, name, "_bucket", s->labels, double(h.cumulative_count(i)), "le",
                              le);
            }
            append_sample(out, name, "_sum", s->labels, h.sum());
            append_sample(out, name, "_count", s->labels, double(h.count()));
        }
    }
}

MetricsRegistry::MetricsRegistry() = default;
MetricsRegistry::MetricsRegistry(MetricsRegistry&&) noexcept = default;
MetricsRegistry& MetricsRegistry::operator=(MetricsRegistry&&) noexcept = default;
MetricsRegistry::~MetricsRegistry() = default;

namespace {

// The family `name` of `type`, created if new.
template <typename Family, typename Families>
Family& family_of(Families& families, std::string_view name, std::string_view help,
                  MetricType type) {
    for (auto& family : families) {
        if (family->name == name) {
            if (family->type != type) {
                throw std::invalid_argument("metric \"" + std::string(name) +
                                            "\" is already registered with another type");
            }
            return *family;
        }
    }
    families.push_back(std::make_unique<Family>(name, help, type));
    return *families.back();
}

} // namespace

Counter& MetricsRegistry::counter(std::string_view name, std::string_view help,
                                  MetricLabels labels) {
    MetricLabels sorted = normalise(name, std::move(labels), false);
    auto& family = family_of<Family>(families_, name, help, MetricType::Counter);
    auto& series = family.find_or_add(sorted, [] { return Counter(); });
    return std::get<Counter>(series.value);
}

Gauge& MetricsRegistry::gauge(std::string_view name, std::string_view help, MetricLabels labels) {
    MetricLabels sorted = normalise(name, std::move(labels), false);
    auto& family = family_of<Family>(families_, name, help, MetricType::Gauge);
    auto& series = family.find_or_add(sorted, [] { return Gauge(); });
    if (!std::holds_alternative<Gauge>(series.value)) {
        throw std::invalid_argument("gauge \"" + std::string(name) +
                                    "\" is already registered with a callback");
    }
    return std::get<Gauge>(series.value);
}

void MetricsRegistry::gauge_callback(std::string_view name, std::string_view help,
                                     std::function<double()> read, MetricLabels labels) {
    if (!read) {
        throw std::invalid_argument("gauge \"" + std::string(name) + "\" without a callback");
    }
    MetricLabels sorted = normalise(name, std::move(labels), false);
    auto& family = family_of<Family>(families_, name, help, MetricType::Gauge);
    auto& series = family.find_or_add(sorted, [] { return std::function<double()>(); });
    if (std::holds_alternative<Gauge>(series.value)) {
        throw std::invalid_argument("gauge \"" + std::string(name) +
                                    "\" is already registered without a callback");
    }
    series.value = std::move(read);
}

Histogram& MetricsRegistry::histogram(std::string_view name, std::string_view help,
                                      std::vector<double> bounds, MetricLabels labels) {
    // Checks names and bounds before anything is registered.
    MetricLabels sorted = normalise(name, std::move(labels), true);
    Histogram fresh(std::move(bounds));
    auto& family = family_of<Family>(families_, name, help, MetricType::Histogram);
    if (family.series.empty()) {
        family.bounds = fresh.bounds();
    } else if (fresh.bounds() != family.bounds) {
        throw std::invalid_argument("histogram \"" + std::string(name) +
                                    "\" is already registered with other buckets");
    }
    auto& series = family.find_or_add(sorted, [&] { return std::move(fresh); });
    return std::get<Histogram>(series.value);
}

std::string MetricsRegistry::expose() const {
    std::string out;
    for (const auto& family : families_) {
        family->expose(out);
    }
    return out;
}

} // namespace weft
