// libFuzzer target: the whole MLflow API through the router, on a real SQLite store and blob
// store. The first byte picks a route, the rest is the body (or the query, for GET routes).
// A crash, sanitizer report or a 5xx answer is a finding.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>

#include "api/mlflow/mlflow_routes.h"
#include "blob/local_blob_store.h"
#include "core/ids.h"
#include "store/sqlite/sqlite_metadata_store.h"

namespace {

using namespace cairn;

struct Workspace {
  Workspace() {
    dir = std::filesystem::temp_directory_path() / ("cairn-fuzz-" + NewUuidHex());
    std::filesystem::create_directories(dir);
    store = std::move(store::SqliteMetadataStore::Open((dir / "m.db").string(), clock)).value();
    blobs = std::move(blob::LocalBlobStore::Create((dir / "blobs").string())).value();
    tracking = std::make_unique<tracking::TrackingService>(*store, clock);
    artifacts = std::make_unique<tracking::ArtifactService>(*store, *blobs);
    api::mlflow::RegisterTrackingRoutes(router, *tracking, {});
    api::mlflow::RegisterArtifactRoutes(router, *artifacts, {});
    // A run to aim at, so that writes get past the existence checks.
    run_id = tracking->CreateRun({})->info.run_id;
  }
  ~Workspace() { std::filesystem::remove_all(dir); }

  SystemClock clock;
  std::filesystem::path dir;
  std::unique_ptr<store::SqliteMetadataStore> store;
  std::unique_ptr<blob::LocalBlobStore> blobs;
  std::unique_ptr<tracking::TrackingService> tracking;
  std::unique_ptr<tracking::ArtifactService> artifacts;
  http::Router router;
  std::string run_id;
};

struct Target {
  const char* method;
  const char* path;
};

constexpr Target kTargets[] = {
    {"POST", "/api/2.0/mlflow/experiments/create"},
    {"GET", "/api/2.0/mlflow/experiments/get"},
    {"GET", "/api/2.0/mlflow/experiments/get-by-name"},
    {"POST", "/api/2.0/mlflow/experiments/search"},
    {"GET", "/api/2.0/mlflow/experiments/search"},
    {"POST", "/api/2.0/mlflow/experiments/update"},
    {"POST", "/api/2.0/mlflow/experiments/set-experiment-tag"},
    {"POST", "/api/2.0/mlflow/runs/create"},
    {"GET", "/api/2.0/mlflow/runs/get"},
    {"POST", "/api/2.0/mlflow/runs/update"},
    {"POST", "/api/2.0/mlflow/runs/log-metric"},
    {"POST", "/api/2.0/mlflow/runs/log-parameter"},
    {"POST", "/api/2.0/mlflow/runs/set-tag"},
    {"POST", "/api/2.0/mlflow/runs/delete-tag"},
    {"POST", "/api/2.0/mlflow/runs/log-batch"},
    {"POST", "/api/2.0/mlflow/runs/log-model"},
    {"POST", "/api/2.0/mlflow/runs/log-inputs"},
    {"POST", "/api/2.0/mlflow/runs/search"},
    {"GET", "/api/2.0/mlflow/metrics/get-history"},
    {"GET", "/api/2.0/mlflow/artifacts/list"},
    {"GET", "/api/2.0/mlflow-artifacts/artifacts"},
    {"PUT", "/api/2.0/mlflow-artifacts/artifacts/"},
    {"GET", "/api/2.0/mlflow-artifacts/artifacts/"},
    {"DELETE", "/api/2.0/mlflow-artifacts/artifacts/"},
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static Workspace* workspace = new Workspace();  // shared by all inputs, like a long-lived server
  if (size == 0) return 0;
  const Target& target = kTargets[data[0] % std::size(kTargets)];
  std::string rest(reinterpret_cast<const char*>(data + 1), size - 1);
  // "$RUN" in the input stands for the existing run, so the fuzzer reaches deep code paths.
  for (size_t pos = rest.find("$RUN"); pos != std::string::npos; pos = rest.find("$RUN", pos)) {
    rest.replace(pos, 4, workspace->run_id);
  }
  http::HttpRequest req;
  req.method = target.method;
  std::string path = target.path;
  bool path_target = path.back() == '/';
  if (path_target) path += rest;  // artifact paths come from the input
  req.path = http::PercentDecode(path);
  if (req.method == "GET" && !path_target) req.query = rest;
  else if (!path_target) req.body = rest;
  const http::Route* route = workspace->router.Match(req.method, req.path, &req.path_params);
  if (route != nullptr && route->options.body_sink_factory) {
    req.body_sink = route->options.body_sink_factory(req);
    if (req.body_sink) req.body_sink->Write(rest);
  }
  http::HttpResponse response = workspace->router.Dispatch(req);
  if (response.status >= 500) {
    std::fprintf(stderr, "5xx for %s %s: %s\n", target.method, req.path.c_str(),
                 response.body.c_str());
    std::abort();
  }
  return 0;
}
