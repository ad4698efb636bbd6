// MonitorSignals: an endpoint's drift reports and live metrics, from the MonitorService, as the
// trigger service's Signals (its datasets part answers "no such dataset": WorkspaceSignals asks
// the DatasetService).
#pragma once

#include "monitoring/monitor_service.h"
#include "triggers/signals.h"

namespace cairn::triggers {

class MonitorSignals : public Signals {
 public:
  explicit MonitorSignals(monitoring::MonitorService& monitor) : monitor_(monitor) {}

  // The newest report: its summary's share; columns the monitor did not decide (too few values)
  // are left out, so a column trigger never reads their placeholder score. An unknown endpoint
  // has no report.
  Result<std::optional<DriftReport>> LatestDriftReport(std::string_view endpoint) override;
  // The metric of MonitorService::ComputeLiveMetrics over the window, with its matched rows as
  // the count; nullopt when the metric is undefined there.
  Result<std::optional<LiveMetric>> LiveMetricOver(std::string_view endpoint,
                                                   std::string_view name, int64_t since,
                                                   int64_t until) override;
  Result<std::optional<int64_t>> LatestDatasetVersion(std::string_view) override {
    return std::optional<int64_t>();
  }

 private:
  monitoring::MonitorService& monitor_;
};

}  // namespace cairn::triggers
