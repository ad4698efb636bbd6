// The routes of a standalone scoring server (`cairn serve`, the container image's entry point):
// MLflow's /invocations, /ping, /health, /version and the Open Inference Protocol v2, for one
// model, plus /metrics.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>

#include "http/metrics.h"
#include "http/router.h"
#include "serving/scoring_model.h"

namespace cairn::serving {

// Largest scoring request body by default (413 above): a few hundred thousand rows of JSON.
inline constexpr size_t kDefaultMaxScoringBodyBytes = 32u << 20;

struct ScoringRouteOptions {
  size_t max_body_bytes = kDefaultMaxScoringBodyBytes;
  // The served model's name and version, as the v2 routes match and answer them
  // (model_version empty: the model has none, and /versions/{v} routes are 404).
  ScoringOptions names;
};

// Counters the routes keep for /metrics.
struct ScoringStats {
  std::atomic<int64_t> requests{0};   // scoring requests answered 200
  std::atomic<int64_t> rows{0};       // rows scored
  std::atomic<int64_t> rejected{0};   // scoring requests answered 4xx
};

// Adds the routes to `router`:
//   POST /invocations                                  MLflow scoring
//   GET  /ping, /health                                200 once loaded; /version: Cairn's version
//   GET  /v2, /v2/health/live, /v2/health/ready        server metadata and health
//   GET  /v2/models/{m}[/versions/{v}]                 model metadata
//   GET  /v2/models/{m}[/versions/{v}]/ready           model readiness
//   POST /v2/models/{m}[/versions/{v}]/infer           inference
//   GET  /metrics                                      `metrics` (when given) and the counters
// A v2 route naming another model or version is 404 {"error": …}. `model`, `metrics` and
// `stats` must outlive the router.
void RegisterScoringRoutes(http::Router& router, std::shared_ptr<const ScoringModel> model,
                           const ScoringRouteOptions& options, ScoringStats& stats,
                           http::HttpMetrics* metrics);

}  // namespace cairn::serving
