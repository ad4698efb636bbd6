// MonitorClient: the C++ client of the endpoints' monitoring API (feedback, monitor
// configuration, drift reports, live metrics; api/v1/monitor_routes.h). Answers are the
// server's JSON objects as they are.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "client/mlflow_json.h"
#include "client/transport.h"
#include "core/result.h"

namespace cairn::client {

// A report's window: `window` ("1h"), or `since` (and optionally `until`), each ms since the
// epoch or RFC 3339; all empty: the monitor's configured window up to now.
struct ReportWindow {
  std::string window;
  std::string since;
  std::string until;
};

// Server errors come back as Status (RESOURCE_DOES_NOT_EXIST → kNotFound,
// INVALID_PARAMETER_VALUE → kInvalidArgument, …). Not thread-safe: one client per thread.
class MonitorClient {
 public:
  static Result<std::unique_ptr<MonitorClient>> Connect(std::string_view tracking_uri);
  explicit MonitorClient(std::unique_ptr<Transport> transport);

  // Posts `labels` (a JSON array of {"request_id", "label"}); returns how many were stored.
  Result<int64_t> PostFeedback(std::string_view endpoint, const Json& labels);
  // {"config", "latest_report"?, "live", "feedback_labels"}
  Result<Json> GetMonitor(std::string_view endpoint);
  // A configuration patch → the configuration.
  Result<Json> Configure(std::string_view endpoint, const Json& patch);
  // Computes a report now → the report.
  Result<Json> ComputeReport(std::string_view endpoint, const ReportWindow& window);
  // {"reports": [...], "next_page_token"?}, newest first.
  Result<Json> ListReports(std::string_view endpoint, int64_t limit = 0,
                           std::string_view page_token = {});
  Result<Json> GetReport(std::string_view endpoint, std::string_view report_id);
  // The live metrics of a window → {"since", "until", "matched", "metrics", …}.
  Result<Json> LiveMetrics(std::string_view endpoint, const ReportWindow& window);

 private:
  Result<Json> Call(std::string_view method, const std::string& target, const Json* body);

  std::unique_ptr<Transport> transport_;
};

}  // namespace cairn::client
