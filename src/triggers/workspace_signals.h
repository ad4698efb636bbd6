// WorkspaceSignals: the trigger service's Signals over the workspace's own services — dataset
// versions from the DatasetService; drift reports and live metrics from the monitor
// (MonitorSignals in monitor_signals.h adapts the MonitorService).
#pragma once

#include "datasets/dataset_service.h"
#include "triggers/signals.h"

namespace cairn::triggers {

// Thread-safe as the services are. `monitor` may be null: then no endpoint has a drift report
// or a live metric.
class WorkspaceSignals : public Signals {
 public:
  WorkspaceSignals(datasets::DatasetService& datasets, Signals* monitor)
      : datasets_(datasets), monitor_(monitor) {}

  Result<std::optional<DriftReport>> LatestDriftReport(std::string_view endpoint) override {
    if (monitor_ == nullptr) return std::optional<DriftReport>();
    return monitor_->LatestDriftReport(endpoint);
  }
  Result<std::optional<LiveMetric>> LiveMetricOver(std::string_view endpoint,
                                                   std::string_view name, int64_t since,
                                                   int64_t until) override {
    if (monitor_ == nullptr) return std::optional<LiveMetric>();
    return monitor_->LiveMetricOver(endpoint, name, since, until);
  }
  // The dataset's latest version from DatasetService::ListDatasets.
  Result<std::optional<int64_t>> LatestDatasetVersion(std::string_view dataset) override;

 private:
  datasets::DatasetService& datasets_;
  Signals* monitor_;
};

}  // namespace cairn::triggers
