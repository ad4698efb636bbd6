#include "triggers/monitor_signals.h"

#include <cmath>

namespace cairn::triggers {

Result<std::optional<DriftReport>> MonitorSignals::LatestDriftReport(std::string_view endpoint) {
  auto latest = monitor_.LatestReport(endpoint);
  if (!latest.ok()) {
    if (latest.status().code() == StatusCode::kNotFound) return std::optional<DriftReport>();
    return latest.status();
  }
  if (!latest->has_value()) return std::optional<DriftReport>();
  const monitoring::MonitorReport& r = **latest;
  DriftReport out;
  out.id = r.report_id;
  out.time = r.creation_time;
  out.share = r.summary.share;
  for (const monitoring::ColumnReport& c : r.columns) {
    if (!c.drift.counted) continue;
    DriftColumn col;
    col.test = c.drift.test;
    col.score = c.drift.score;
    col.drifted = c.drift.drifted;
    if (std::isfinite(c.drift.statistic)) col.values["statistic"] = c.drift.statistic;
    if (std::isfinite(c.drift.p_value)) col.values["p_value"] = c.drift.p_value;
    if (std::isfinite(c.drift.psi)) col.values["psi"] = c.drift.psi;
    out.columns[c.drift.column] = std::move(col);
  }
  return std::optional<DriftReport>(std::move(out));
}

Result<std::optional<LiveMetric>> MonitorSignals::LiveMetricOver(std::string_view endpoint,
                                                                 std::string_view name,
                                                                 int64_t since, int64_t until) {
  auto metrics = monitor_.ComputeLiveMetrics(endpoint, since, until);
  if (!metrics.ok()) {
    if (metrics.status().code() == StatusCode::kNotFound) return std::optional<LiveMetric>();
    return metrics.status();
  }
  auto it = metrics->values.find(std::string(name));
  if (it == metrics->values.end() || !std::isfinite(it->second)) {
    return std::optional<LiveMetric>();
  }
  return std::optional<LiveMetric>(LiveMetric{it->second, metrics->matched});
}

}  // namespace cairn::triggers
