// Signals: what the trigger service needs to know about the workspace — an endpoint's latest
// drift report, a live metric over a window, a dataset's latest version. The composition root
// adapts the monitor and dataset services to it; tests use FakeSignals (testing/).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "core/result.h"

namespace cairn::triggers {

// One column of a drift report.
struct DriftColumn {
  std::string test;      // "ks" | "chi2" | "z" (p-values) | "wasserstein" | "jensen_shannon"
  double score = 0;      // what the monitor compared with its threshold (p-value or distance)
  bool drifted = false;  // the monitor's verdict
  // Further statistics by name ("statistic", "p_value", "psi"), when known.
  std::map<std::string, double> values;
};

struct DriftReport {
  std::string id;
  int64_t time = 0;   // ms since the epoch
  double share = 0;   // share of the monitored columns that drifted, in [0, 1]
  std::map<std::string, DriftColumn> columns;
};

// A live metric over a window and how many labelled predictions it rests on.
struct LiveMetric {
  double value = 0;
  int64_t count = 0;
};

// Thread-safe. Errors (kInternal, kUnavailable …) make the service skip the trigger this time.
class Signals {
 public:
  virtual ~Signals() = default;
  // The endpoint's newest drift report; nullopt when it has none (or is unknown).
  virtual Result<std::optional<DriftReport>> LatestDriftReport(std::string_view endpoint) = 0;
  // Metric `name` (accuracy, auc, rmse …) of the endpoint's live predictions in [since, until)
  // matched with their ground truth; nullopt when it cannot be computed (no labels, wrong task).
  virtual Result<std::optional<LiveMetric>> LiveMetricOver(std::string_view endpoint,
                                                           std::string_view name, int64_t since,
                                                           int64_t until) = 0;
  // The dataset's latest version number; nullopt when the dataset does not exist.
  virtual Result<std::optional<int64_t>> LatestDatasetVersion(std::string_view dataset) = 0;
};

}  // namespace cairn::triggers
