// HttpMetrics: request counters and latency histograms in the Prometheus text format, labelled
// by method, route template and status (never by raw path). Thread-safe.
#pragma once

#include <functional>
#include <mutex>
#include <string>
#include <vector>

namespace cairn::http {

class HttpMetrics {
 public:
  void Observe(std::string_view method, std::string_view route, int status, double seconds);
  // Extra text appended to the exposition (other subsystems' gauges and counters).
  void AddCollector(std::function<std::string()> collector);
  // The whole exposition, `# HELP`/`# TYPE` lines included.
  std::string Render() const;

 private:
  struct Series;
  mutable std::mutex mu_;
  std::vector<std::unique_ptr<Series>> series_;
  std::vector<std::function<std::string()>> collectors_;
};

}  // namespace cairn::http
