#include "endpoints/routing.h"

#include <algorithm>
#include <set>

namespace cairn::endpoints {

namespace {

Status CheckShares(std::string_view field, const std::vector<store::TrafficShare>& shares,
                   int64_t max_percent, std::string_view endpoint,
                   const std::set<std::string, std::less<>>& known) {
  std::set<std::string_view> seen;
  for (const store::TrafficShare& s : shares) {
    if (!seen.insert(s.deployment).second) {
      return InvalidArgument(std::string(field) + ": deployment '" + s.deployment +
                             "' is named twice");
    }
    if (s.percent < 0 || s.percent > max_percent) {
      return InvalidArgument(
          std::string(field) + ": '" + s.deployment + "' = " + std::to_string(s.percent) + "; " +
          (max_percent == 100 ? "a weight is a whole percent from 0 to 100"
                              : "a mirror takes at most " + std::to_string(max_percent) + " %"));
    }
    if (!known.contains(s.deployment)) {
      return NotFound(std::string(field) + ": deployment '" + s.deployment + "' of endpoint '" +
                      std::string(endpoint) + "' does not exist");
    }
  }
  return Status::Ok();
}

}  // namespace

Status ValidateTraffic(std::string_view endpoint, const store::EndpointTraffic& traffic,
                       const std::vector<std::string>& deployments) {
  const std::set<std::string, std::less<>> known(deployments.begin(), deployments.end());
  CAIRN_RETURN_IF_ERROR(CheckShares("traffic", traffic.live, 100, endpoint, known));
  CAIRN_RETURN_IF_ERROR(CheckShares("mirror", traffic.mirror, kMaxMirrorPercent, endpoint, known));
  int64_t sum = 0;
  for (const auto& s : traffic.live) sum += s.percent;
  if (sum != 0 && sum != 100) {
    return InvalidArgument("traffic: the weights sum to " + std::to_string(sum) +
                           " %; they must sum to 100 (or 0 for an endpoint taking no traffic)");
  }
  for (const auto& m : traffic.mirror) {
    if (m.percent == 0) continue;
    for (const auto& l : traffic.live) {
      if (l.deployment == m.deployment && l.percent > 0) {
        return InvalidArgument("mirror: deployment '" + m.deployment + "' takes live traffic (" +
                               std::to_string(l.percent) + " %) and mirrored traffic (" +
                               std::to_string(m.percent) +
                               " %); a deployment takes one or the other");
      }
    }
  }
  return Status::Ok();
}

WeightedTargets WeightedTargets::FromPercents(const std::vector<int64_t>& percents) {
  WeightedTargets t;
  int64_t total = 0;
  for (int64_t p : percents) {
    total += std::max<int64_t>(p, 0);
    t.upper.push_back(total);
  }
  if (total == 0) t.upper.clear();
  return t;
}

std::optional<size_t> WeightedTargets::Pick(uint64_t point) const {
  if (upper.empty()) return std::nullopt;
  const int64_t p = static_cast<int64_t>(point % static_cast<uint64_t>(upper.back()));
  // The first target whose share ends past the point (zero-weight targets end where their
  // predecessor does, so they are never chosen).
  auto it = std::upper_bound(upper.begin(), upper.end(), p);
  return static_cast<size_t>(it - upper.begin());
}

uint64_t RouteKeyHash(std::string_view key) {
  uint64_t h = 14695981039346656037ull;  // FNV-1a 64
  for (unsigned char c : key) {
    h ^= c;
    h *= 1099511628211ull;
  }
  // splitmix64's finalizer: FNV's low bits alone are poorly mixed for short keys.
  h ^= h >> 30;
  h *= 0xbf58476d1ce4e5b9ull;
  h ^= h >> 27;
  h *= 0x94d049bb133111ebull;
  h ^= h >> 31;
  return h;
}

uint64_t RouteKeyPoint(std::string_view key) { return (RouteKeyHash(key) & 0xffffffffu) % 100; }

uint64_t RouteKeyMirrorPoint(std::string_view key) { return (RouteKeyHash(key) >> 32) % 100; }

}  // namespace cairn::endpoints
