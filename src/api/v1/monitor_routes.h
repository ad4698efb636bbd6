// Registers the monitoring API of endpoints (JSON; errors MLflow-style {"error_code", "message"}):
//   POST /api/v1/endpoints/{name}/feedback              {"labels": [{"request_id", "label"}, …]}
//        (label: a number, a string class, or a list, one per row of the request; at most 10,000
//        per call) → {"stored": N}
//   GET  /api/v1/endpoints/{name}/monitor               {"config", "latest_report"?, "live",
//                                                        "feedback_labels"}
//   PUT  /api/v1/endpoints/{name}/monitor               a configuration patch: {"thresholds"?,
//        "drift_share"?, "baseline"?, "columns"?, "interval"?, "window"?} → {"config"}
//   POST /api/v1/endpoints/{name}/monitor/reports       {"window"?: "1h"} or {"since", "until"?}
//        (ms since the epoch or RFC 3339 UTC; no window: the configured one) → {"report"}
//   GET  /api/v1/endpoints/{name}/monitor/reports       ?limit= (1–1000, default 100)
//        &page_token= → {"reports": [...] newest first, "next_page_token"?}
//   GET  /api/v1/endpoints/{name}/monitor/reports/{id}  → {"report"}
//   GET  /api/v1/endpoints/{name}/monitor/metrics       ?window=1h or ?since=&until= → {"live"}
#pragma once

#include "http/router.h"
#include "monitoring/monitor_service.h"

namespace cairn::api::v1 {

// The service must outlive the router.
void RegisterMonitorRoutes(http::Router& router, monitoring::MonitorService& service);

}  // namespace cairn::api::v1
