#include "http/metrics.h"

#include <algorithm>
#include <array>
#include <cstdio>
#include <map>
#include <tuple>

namespace cairn::http {
namespace {

constexpr std::array<double, 14> kBuckets = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
                                             0.1,    0.25,  0.5,    1,     2.5,  5,     10};

// A label value in the exposition format: backslash, double quote and newline escaped.
std::string EscapeLabel(std::string_view value) {
  std::string out;
  out.reserve(value.size());
  for (char c : value) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '"') {
      out += "\\\"";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out.push_back(c);
    }
  }
  return out;
}

std::string FormatDouble(double v) {
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%.17g", v);
  return buf;
}

std::string FormatBound(double v) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%g", v);
  return buf;
}

}  // namespace

struct HttpMetrics::Series {
  std::string method;
  std::string route;
  int status = 0;
  uint64_t count = 0;
  double sum = 0;
  std::array<uint64_t, kBuckets.size()> buckets{};  // non-cumulative
};

HttpMetrics::HttpMetrics() = default;
HttpMetrics::~HttpMetrics() = default;

void HttpMetrics::Observe(std::string_view method, std::string_view route, int status,
                          double seconds) {
  if (route.empty()) route = "unmatched";
  std::string key;
  key.reserve(method.size() + route.size() + 8);
  key.append(method).push_back('\0');
  key.append(route).push_back('\0');
  key.append(std::to_string(status));
  size_t bucket = std::lower_bound(kBuckets.begin(), kBuckets.end(), seconds) - kBuckets.begin();

  std::lock_guard<std::mutex> lock(mu_);
  Series*& series = index_[key];
  if (series == nullptr) {
    auto created = std::make_unique<Series>();
    created->method = std::string(method);
    created->route = std::string(route);
    created->status = status;
    series = created.get();
    series_.push_back(std::move(created));
  }
  series->count++;
  series->sum += seconds;
  if (bucket < kBuckets.size()) series->buckets[bucket]++;
}

void HttpMetrics::AddCollector(std::function<std::string()> collector) {
  std::lock_guard<std::mutex> lock(mu_);
  collectors_.push_back(std::move(collector));
}

std::string HttpMetrics::Render() const {
  // Counters per (method, route, status); latency histograms per (method, route).
  struct Histogram {
    uint64_t count = 0;
    double sum = 0;
    std::array<uint64_t, kBuckets.size()> buckets{};
  };
  std::map<std::tuple<std::string, std::string, int>, uint64_t> counters;
  std::map<std::pair<std::string, std::string>, Histogram> histograms;
  std::vector<std::function<std::string()>> collectors;
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (const auto& s : series_) {
      counters[{s->method, s->route, s->status}] += s->count;
      Histogram& h = histograms[{s->method, s->route}];
      h.count += s->count;
      h.sum += s->sum;
      for (size_t i = 0; i < kBuckets.size(); ++i) h.buckets[i] += s->buckets[i];
    }
    collectors = collectors_;
  }

  std::string out;
  out += "# HELP cairn_http_requests_total HTTP requests by method, route template and status.\n";
  out += "# TYPE cairn_http_requests_total counter\n";
  for (const auto& [key, count] : counters) {
    const auto& [method, route, status] = key;
    out += "cairn_http_requests_total{method=\"" + EscapeLabel(method) + "\",route=\"" +
           EscapeLabel(route) + "\",status=\"" + std::to_string(status) + "\"} " +
           std::to_string(count) + "\n";
  }
  out +=
      "# HELP cairn_http_request_duration_seconds HTTP request latency by method and route "
      "template.\n";
  out += "# TYPE cairn_http_request_duration_seconds histogram\n";
  for (const auto& [key, h] : histograms) {
    std::string labels =
        "method=\"" + EscapeLabel(key.first) + "\",route=\"" + EscapeLabel(key.second) + "\"";
    uint64_t cumulative = 0;
    for (size_t i = 0; i < kBuckets.size(); ++i) {
      cumulative += h.buckets[i];
      out += "cairn_http_request_duration_seconds_bucket{" + labels + ",le=\"" +
             FormatBound(kBuckets[i]) + "\"} " + std::to_string(cumulative) + "\n";
    }
    out += "cairn_http_request_duration_seconds_bucket{" + labels + ",le=\"+Inf\"} " +
           std::to_string(h.count) + "\n";
    out += "cairn_http_request_duration_seconds_sum{" + labels + "} " + FormatDouble(h.sum) + "\n";
    out += "cairn_http_request_duration_seconds_count{" + labels + "} " + std::to_string(h.count) +
           "\n";
  }
  // Collectors run outside the lock: they may take their own locks or be slow.
  for (const auto& collector : collectors) {
    std::string text = collector();
    if (text.empty()) continue;
    out += text;
    if (out.back() != '\n') out.push_back('\n');
  }
  return out;
}

}  // namespace cairn::http
