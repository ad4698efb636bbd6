// Traffic rules and the arithmetic of routing: validating an endpoint's traffic configuration,
// choosing a deployment by weight for a point in [0, 100), and the stable hash that makes a
// route key sticky.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"
#include "store/records.h"

namespace cairn::endpoints {

// The largest share of an endpoint's requests one mirror may take.
inline constexpr int64_t kMaxMirrorPercent = 50;

// Checks a whole traffic configuration of an endpoint whose deployments are `deployments`:
// live weights are whole percents 0..100 summing to 100 (or 0: no traffic yet); a mirror takes
// 0..50 %; a deployment takes live or mirrored traffic, not both; each is named once per list.
// kInvalidArgument naming the field and deployment; kNotFound for a deployment the endpoint
// does not have.
Status ValidateTraffic(std::string_view endpoint, const store::EndpointTraffic& traffic,
                       const std::vector<std::string>& deployments);

// Cumulative live weights: the deployment at index i takes points [upper[i-1], upper[i]).
struct WeightedTargets {
  std::vector<int64_t> upper;  // strictly increasing; the last is 100 (or the list is empty)

  // From the percents of targets 0, 1, …; a target of weight 0 is never picked.
  static WeightedTargets FromPercents(const std::vector<int64_t>& percents);
  // The index whose share holds `point` (0..99), or nullopt when there is no live traffic.
  std::optional<size_t> Pick(uint64_t point) const;
};

// A stable 64-bit hash of a route key (FNV-1a with a final avalanche): the same key maps to the
// same value in every process and build, so a sticky assignment survives restarts.
uint64_t RouteKeyHash(std::string_view key);
// The point in [0, 100) a route key takes for live traffic, and the independent one that decides
// whether its requests are mirrored.
uint64_t RouteKeyPoint(std::string_view key);
uint64_t RouteKeyMirrorPoint(std::string_view key);

}  // namespace cairn::endpoints
