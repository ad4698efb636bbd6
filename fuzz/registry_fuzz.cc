// libFuzzer target: the model registry — models:/ and runs:/ URIs, registry search filters and
// order_by clauses, and the registry routes through the router on a real SQLite store. The first
// byte picks a route, the rest is the body (or the query, for GET routes); every input is also
// fed to the text parsers. A crash, sanitizer report or a 5xx answer is a finding.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>

#include "api/mlflow/mlflow_routes.h"
#include "core/ids.h"
#include "store/sqlite/sqlite_metadata_store.h"
#include "tracking/search_filter.h"
#include "wire/model_uri.h"

namespace {

using namespace cairn;

struct Workspace {
  Workspace() {
    dir = std::filesystem::temp_directory_path() / ("cairn-fuzz-registry-" + NewUuidHex());
    std::filesystem::create_directories(dir);
    store = std::move(store::SqliteMetadataStore::Open((dir / "m.db").string(), clock)).value();
    tracking = std::make_unique<tracking::TrackingService>(*store, clock);
    registry = std::make_unique<registry::RegistryService>(*store, clock);
    api::mlflow::RegisterRegistryRoutes(router, *registry, {});
    // A run and a model with a version and an alias to aim at, so that calls get past the
    // existence checks.
    run_id = tracking->CreateRun({})->info.run_id;
    (void)registry->CreateRegisteredModel("m", {}, "");
    registry::CreateModelVersionRequest v;
    v.name = "m";
    v.source = "runs:/" + run_id + "/model";
    (void)registry->CreateModelVersion(v);
    (void)registry->SetRegisteredModelAlias("m", "champion", 1);
  }
  ~Workspace() { std::filesystem::remove_all(dir); }

  SystemClock clock;
  std::filesystem::path dir;
  std::unique_ptr<store::SqliteMetadataStore> store;
  std::unique_ptr<tracking::TrackingService> tracking;
  std::unique_ptr<registry::RegistryService> registry;
  http::Router router;
  std::string run_id;
};

struct Target {
  const char* method;
  const char* path;
};

constexpr Target kTargets[] = {
    {"POST", "/api/2.0/mlflow/registered-models/create"},
    {"GET", "/api/2.0/mlflow/registered-models/get"},
    {"POST", "/api/2.0/mlflow/registered-models/rename"},
    {"PATCH", "/api/2.0/mlflow/registered-models/update"},
    {"DELETE", "/api/2.0/mlflow/registered-models/delete"},
    {"GET", "/api/2.0/mlflow/registered-models/search"},
    {"POST", "/api/2.0/mlflow/registered-models/set-tag"},
    {"DELETE", "/api/2.0/mlflow/registered-models/delete-tag"},
    {"POST", "/api/2.0/mlflow/registered-models/get-latest-versions"},
    {"POST", "/api/2.0/mlflow/registered-models/alias"},
    {"DELETE", "/api/2.0/mlflow/registered-models/alias"},
    {"GET", "/api/2.0/mlflow/registered-models/alias"},
    {"POST", "/api/2.0/mlflow/model-versions/create"},
    {"GET", "/api/2.0/mlflow/model-versions/get"},
    {"PATCH", "/api/2.0/mlflow/model-versions/update"},
    {"POST", "/api/2.0/mlflow/model-versions/transition-stage"},
    {"DELETE", "/api/2.0/mlflow/model-versions/delete"},
    {"GET", "/api/2.0/mlflow/model-versions/search"},
    {"POST", "/api/2.0/mlflow/model-versions/set-tag"},
    {"DELETE", "/api/2.0/mlflow/model-versions/delete-tag"},
    {"GET", "/api/2.0/mlflow/model-versions/get-download-uri"},
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static Workspace* workspace = new Workspace();  // shared by all inputs, like a long-lived server
  std::string_view text(reinterpret_cast<const char*>(data), size);
  (void)wire::ParseModelUri(text);
  (void)wire::ParseRunsUri(text);
  (void)tracking::ParseRegisteredModelFilter(text);
  (void)tracking::ParseRegisteredModelOrderBy(text);
  (void)tracking::ParseModelVersionFilter(text);
  (void)tracking::ParseModelVersionOrderBy(text);
  (void)workspace->registry->ResolveModelUri(text);
  if (size == 0) return 0;
  const Target& target = kTargets[data[0] % std::size(kTargets)];
  std::string rest(reinterpret_cast<const char*>(data + 1), size - 1);
  // "$RUN" in the input stands for the existing run.
  for (size_t pos = rest.find("$RUN"); pos != std::string::npos; pos = rest.find("$RUN", pos)) {
    rest.replace(pos, 4, workspace->run_id);
  }
  http::HttpRequest req;
  req.method = target.method;
  req.path = target.path;
  if (req.method == "GET") {
    req.query = rest;
  } else {
    req.body = rest;
  }
  workspace->router.Match(req.method, req.path, &req.path_params);
  http::HttpResponse response = workspace->router.Dispatch(req);
  if (response.status >= 500) {
    std::fprintf(stderr, "5xx for %s %s: %s\n", target.method, req.path.c_str(),
                 response.body.c_str());
    std::abort();
  }
  return 0;
}
