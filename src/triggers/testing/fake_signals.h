// FakeSignals: Signals set by hand in tests.
#pragma once

#include <mutex>

#include "triggers/signals.h"

namespace cairn::triggers::testing {

class FakeSignals : public Signals {
 public:
  void SetDriftReport(const std::string& endpoint, DriftReport report) {
    std::lock_guard lock(mu_);
    reports_[endpoint] = std::move(report);
  }
  // The metric returned for (endpoint, name), whatever the window; records the last window asked.
  void SetMetric(const std::string& endpoint, const std::string& name, LiveMetric metric) {
    std::lock_guard lock(mu_);
    metrics_[{endpoint, name}] = metric;
  }
  void SetDatasetVersion(const std::string& dataset, int64_t version) {
    std::lock_guard lock(mu_);
    datasets_[dataset] = version;
  }

  Result<std::optional<DriftReport>> LatestDriftReport(std::string_view endpoint) override {
    std::lock_guard lock(mu_);
    auto it = reports_.find(std::string(endpoint));
    if (it == reports_.end()) return std::optional<DriftReport>();
    return std::optional<DriftReport>(it->second);
  }
  Result<std::optional<LiveMetric>> LiveMetricOver(std::string_view endpoint,
                                                   std::string_view name, int64_t since,
                                                   int64_t until) override {
    std::lock_guard lock(mu_);
    last_window = {since, until};
    auto it = metrics_.find({std::string(endpoint), std::string(name)});
    if (it == metrics_.end()) return std::optional<LiveMetric>();
    return std::optional<LiveMetric>(it->second);
  }
  Result<std::optional<int64_t>> LatestDatasetVersion(std::string_view dataset) override {
    std::lock_guard lock(mu_);
    auto it = datasets_.find(std::string(dataset));
    if (it == datasets_.end()) return std::optional<int64_t>();
    return std::optional<int64_t>(it->second);
  }

  std::pair<int64_t, int64_t> last_window;

 private:
  std::mutex mu_;
  std::map<std::string, DriftReport> reports_;
  std::map<std::pair<std::string, std::string>, LiveMetric> metrics_;
  std::map<std::string, int64_t> datasets_;
};

}  // namespace cairn::triggers::testing
