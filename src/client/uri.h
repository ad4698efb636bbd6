// Tracking URIs and artifact paths: where the server is, and how a run's artifact URI maps onto
// the artifact proxy's routes.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/result.h"

namespace cairn::client {

inline constexpr std::string_view kDefaultTrackingUri = "http://127.0.0.1:5000";
inline constexpr std::string_view kMlflowApiPrefix = "/api/2.0/mlflow";
inline constexpr std::string_view kArtifactProxyPrefix = "/api/2.0/mlflow-artifacts/artifacts";

// The tracking server to use: `flag` if set, else $CAIRN_TRACKING_URI, else $MLFLOW_TRACKING_URI,
// else http://127.0.0.1:5000. Empty values count as unset; a trailing '/' is dropped.
std::string ResolveTrackingUri(std::optional<std::string> flag);
// The same, with the environment passed in (null: unset) so it can be tested.
std::string ResolveTrackingUri(std::optional<std::string> flag, const char* cairn_env,
                               const char* mlflow_env);

// A relative artifact path made canonical: '/'-separated, no leading, trailing or repeated '/'.
// kInvalidArgument for "." or ".." segments. "" stays "" (the root).
Result<std::string> NormalizeArtifactPath(std::string_view path);

// Joins two relative artifact paths ("" on either side is the root).
std::string JoinArtifactPath(std::string_view a, std::string_view b);

// Percent-encodes each '/'-separated segment of `path` and joins them with '/'.
std::string EncodePathSegments(std::string_view path);

// "<exp>/<run>/artifacts" from "mlflow-artifacts:/<exp>/<run>/artifacts" (also accepts the
// "mlflow-artifacts://host:port/…" form and drops the authority). kFailedPrecondition for an
// artifact URI the artifact proxy does not serve (e.g. a local path).
Result<std::string> ArtifactProxyRoot(std::string_view artifact_uri);

// The proxy target for `relative_path` under the run's artifact URI, percent-encoded:
// "/api/2.0/mlflow-artifacts/artifacts/<exp>/<run>/artifacts/model/x.bin".
Result<std::string> ArtifactProxyTarget(std::string_view artifact_uri,
                                        std::string_view relative_path);

// "?k1=v1&k2=v2" with percent-encoded values; pairs with an empty value are skipped; "" if none.
std::string QueryString(const std::vector<std::pair<std::string, std::string>>& params);

}  // namespace cairn::client
