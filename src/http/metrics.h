// HttpMetrics: request counters and latency histograms in the Prometheus text format, labelled
// by method, route template and status (never by raw path). Thread-safe.
#pragma once

#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace cairn::http {

class HttpMetrics {
 public:
  HttpMetrics();
  ~HttpMetrics();  // out of line: Series is complete only in metrics.cc

  void Observe(std::string_view method, std::string_view route, int status, double seconds);
  // Extra text appended to the exposition (other subsystems' gauges and counters).
  void AddCollector(std::function<std::string()> collector);
  // The whole exposition, `# HELP`/`# TYPE` lines included.
  std::string Render() const;

 private:
  struct Series;
  mutable std::mutex mu_;
  std::vector<std::unique_ptr<Series>> series_;
  std::unordered_map<std::string, Series*> index_;  // by method, route and status
  std::vector<std::function<std::string()>> collectors_;
};

}  // namespace cairn::http
