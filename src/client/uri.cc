#include "client/uri.h"

#include <cstdlib>

#include "http/http_types.h"

namespace cairn::client {
namespace {

std::optional<std::string> NonEmpty(const char* s) {
  if (s == nullptr || *s == '\0') return std::nullopt;
  return std::string(s);
}

std::vector<std::string_view> SplitSegments(std::string_view path) {
  std::vector<std::string_view> out;
  size_t start = 0;
  while (start <= path.size()) {
    size_t end = path.find('/', start);
    if (end == std::string_view::npos) end = path.size();
    if (end > start) out.push_back(path.substr(start, end - start));
    start = end + 1;
  }
  return out;
}

}  // namespace

std::string ResolveTrackingUri(std::optional<std::string> flag) {
  return ResolveTrackingUri(std::move(flag), std::getenv("CAIRN_TRACKING_URI"),
                            std::getenv("MLFLOW_TRACKING_URI"));
}

std::string ResolveTrackingUri(std::optional<std::string> flag, const char* cairn_env,
                               const char* mlflow_env) {
  std::string uri;
  if (flag && !flag->empty()) {
    uri = *flag;
  } else if (auto c = NonEmpty(cairn_env)) {
    uri = *c;
  } else if (auto m = NonEmpty(mlflow_env)) {
    uri = *m;
  } else {
    uri = std::string(kDefaultTrackingUri);
  }
  while (uri.size() > 1 && uri.back() == '/') uri.pop_back();
  return uri;
}

Result<std::string> NormalizeArtifactPath(std::string_view path) {
  std::string out;
  for (std::string_view seg : SplitSegments(path)) {
    if (seg == "." || seg == "..") {
      return InvalidArgument("invalid artifact path '" + std::string(path) +
                             "': '.' and '..' are not allowed");
    }
    if (!out.empty()) out += '/';
    out += seg;
  }
  return out;
}

std::string JoinArtifactPath(std::string_view a, std::string_view b) {
  if (a.empty()) return std::string(b);
  if (b.empty()) return std::string(a);
  std::string out(a);
  if (out.back() != '/') out += '/';
  out += b.front() == '/' ? b.substr(1) : b;
  return out;
}

std::string EncodePathSegments(std::string_view path) {
  std::string out;
  bool first = true;
  for (std::string_view seg : SplitSegments(path)) {
    if (!first) out += '/';
    first = false;
    out += http::PercentEncode(seg);
  }
  return out;
}

Result<std::string> ArtifactProxyRoot(std::string_view artifact_uri) {
  constexpr std::string_view kScheme = "mlflow-artifacts:";
  if (artifact_uri.substr(0, kScheme.size()) != kScheme) {
    return FailedPrecondition("artifact URI '" + std::string(artifact_uri) +
                              "' is not served by the artifact proxy (mlflow-artifacts:/...)");
  }
  std::string_view rest = artifact_uri.substr(kScheme.size());
  if (rest.substr(0, 2) == "//") {  // mlflow-artifacts://host:port/path
    size_t slash = rest.find('/', 2);
    rest = slash == std::string_view::npos ? std::string_view() : rest.substr(slash);
  }
  CAIRN_TRY(std::string root, NormalizeArtifactPath(rest));
  if (root.empty()) {
    return FailedPrecondition("artifact URI '" + std::string(artifact_uri) + "' has no path");
  }
  return root;
}

Result<std::string> ArtifactProxyTarget(std::string_view artifact_uri,
                                        std::string_view relative_path) {
  CAIRN_TRY(std::string root, ArtifactProxyRoot(artifact_uri));
  CAIRN_TRY(std::string rel, NormalizeArtifactPath(relative_path));
  return std::string(kArtifactProxyPrefix) + "/" + EncodePathSegments(JoinArtifactPath(root, rel));
}

std::string QueryString(const std::vector<std::pair<std::string, std::string>>& params) {
  std::string out;
  for (const auto& [key, value] : params) {
    if (value.empty()) continue;
    out += out.empty() ? '?' : '&';
    out += http::PercentEncode(key);
    out += '=';
    out += http::PercentEncode(value);
  }
  return out;
}

}  // namespace cairn::client
