// Request and view types of the endpoint service (what the API layer parses wire formats into
// and serializes), and the scoring headers every front end shares.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "store/records.h"

namespace cairn::endpoints {

// A request naming this header is answered by that deployment (and never mirrored); every
// answer names the deployment that served it here.
inline constexpr std::string_view kDeploymentHeader = "x-cairn-deployment";
// Requests carrying the same value here land on the same deployment (for a given traffic split).
inline constexpr std::string_view kRouteKeyHeader = "x-cairn-route-key";
// The client's request id (echoed), else a fresh one: the key of its prediction log record.
inline constexpr std::string_view kRequestIdHeader = "x-request-id";

inline constexpr size_t kMaxNameLength = 63;
inline constexpr int64_t kMaxThreads = 1024;

struct CreateEndpointRequest {
  std::string name;
  std::string description;
  std::optional<double> sample_rate;  // unset: 1 (log every request)
};

struct UpdateEndpointRequest {
  std::string name;
  std::optional<std::string> description;  // unset: unchanged
  std::optional<double> sample_rate;
};

// A change of an endpoint's traffic. An unset list keeps that part of the configuration; a set
// one replaces it (deployments it does not name take none of that kind).
struct TrafficRequest {
  std::string endpoint;
  std::optional<std::vector<store::TrafficShare>> live;
  std::optional<std::vector<store::TrafficShare>> mirror;
};

struct CreateDeploymentRequest {
  std::string endpoint;
  std::string name;
  std::string model_uri;
  int64_t threads = 0;
};

struct UpdateDeploymentRequest {
  std::string endpoint;
  std::string name;
  std::optional<std::string> model_uri;  // set: resolve and load it, then swap
  std::optional<int64_t> threads;
};

// A deployment as shown: its record and its state in this server.
struct DeploymentView {
  store::Deployment deployment;
  bool ready = false;  // its model is loaded and scoring
  std::string error;   // why it is not, when its model failed to load
  std::string model;   // the loaded model's description
};

struct EndpointView {
  store::Endpoint endpoint;
  std::vector<DeploymentView> deployments;  // by name
};

// A deployment's live-traffic counters in this server since it started (monotonic, so a window's
// figures are the difference of two snapshots). Latency buckets are not cumulative: buckets[i]
// counts answers slower than bucket_bounds_seconds[i-1] and at most bucket_bounds_seconds[i];
// answers slower than the last bound are in `count` only.
struct DeploymentCounters {
  std::string deployment;
  int64_t count = 0;         // answers
  int64_t status_2xx = 0;
  int64_t status_4xx = 0;
  int64_t status_5xx = 0;    // includes 503 for "no model loaded" and timeouts
  std::vector<double> bucket_bounds_seconds;
  std::vector<int64_t> buckets;
};

// "name: …" when `name` is not 1 to 63 letters, digits, '-', '_' or '.', starting with a letter
// or digit (it appears in URLs, metric labels and directory names).
Status ValidateEndpointName(std::string_view name, std::string_view field = "name");

}  // namespace cairn::endpoints
