// Rollouts: moving an endpoint's traffic to a new model by a strategy — replace, blue-green,
// canary (with automatic rollback), A/B, shadow — as service-level calls over EndpointService.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"
#include "endpoints/endpoint_service.h"
#include "endpoints/endpoint_types.h"

namespace cairn::endpoints {

enum class RolloutStrategy { kReplace, kBlueGreen, kCanary, kAb, kShadow };

// "replace" | "blue-green" | "canary" | "ab" | "shadow".
Result<RolloutStrategy> ParseRolloutStrategy(std::string_view name);
std::string_view RolloutStrategyName(RolloutStrategy strategy);

struct RolloutRequest {
  std::string endpoint;   // created (with the model at 100 %) when it does not exist
  std::string model_uri;  // models:/NAME/VERSION, models:/NAME@ALIAS, runs:/…
  RolloutStrategy strategy = RolloutStrategy::kBlueGreen;
  // The new deployment; empty: "blue" or "green", whichever does not take the live traffic.
  std::string deployment;
  std::vector<int64_t> steps = {10, 50, 100};  // canary: percents to the new deployment
  int64_t interval_ms = 60'000;                // canary: time at each step before judging it
  // Canary limits on the new deployment over each step's window: its error rate (5xx answers,
  // timeouts, and 4xx answers above the old deployment's own 4xx rate) and its p99 latency.
  double max_error_rate = 0.05;
  double max_p99_ms = 0;       // 0: no latency limit
  int64_t min_requests = 1;    // fewer answers in a window: it is not judged (and logged)
  int64_t split = 50;          // ab: percent of the live traffic to the new deployment
  int64_t mirror = 50;         // shadow: percent of requests copied (at most 50)
};

struct RolloutHooks {
  std::function<void(std::string_view)> log = [](std::string_view) {};
  // Waits `millis`; false when the rollout should stop (cancelled): it then rolls back.
  std::function<bool(int64_t)> wait_for;
};

struct RolloutResult {
  std::string deployment;  // the one with the new model
  std::string previous;    // the one that took the live traffic before ("" when none)
};

// One deployment's figures over a window (two counter snapshots).
struct WindowFigures {
  int64_t requests = 0;
  int64_t status_5xx = 0;
  int64_t status_4xx = 0;
  double excess_4xx = 0;   // 4xx above the baseline's rate
  double error_rate = 0;   // (5xx + excess 4xx) / requests
  double p99_ms = 0;       // upper bound of the p99's latency bucket; infinity past the last
};

// The new deployment's figures between `before` and `after`, its 4xx judged against
// `baseline_4xx_rate` (the old deployment's 4xx share over the same window).
WindowFigures Window(const DeploymentCounters& before, const DeploymentCounters& after,
                     double baseline_4xx_rate);

// Runs the rollout. Errors: kInvalidArgument naming the field; kFailedPrecondition when a canary
// is rolled back (the message gives the figures; the old deployment then takes 100 % again);
// kUnavailable when cancelled during a canary (rolled back too); the service's errors otherwise.
Result<RolloutResult> Rollout(EndpointService& service, const RolloutRequest& request,
                              const RolloutHooks& hooks);

}  // namespace cairn::endpoints
