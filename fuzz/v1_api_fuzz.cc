// libFuzzer target: Cairn's native API through the router — datasets (version commits, chunk
// packs, missing-blob queries, diffs) and endpoints (create, deployments, traffic, predictions,
// scoring routes) — on a real SQLite store, blob store and prediction log. Deployments load fake
// models (the scoring parsers have their own target). The first byte picks a route, the rest is
// the body (or the query, for GET routes); "$EP" stands for an endpoint with two deployments.
// A crash, sanitizer report or a 5xx answer is a finding.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>

#include "api/v1/endpoint_routes.h"
#include "api/v1/monitor_routes.h"
#include "api/v1/v1_routes.h"
#include "blob/local_blob_store.h"
#include "core/ids.h"
#include "data/profile.h"
#include "endpoints/testing/fake_model_provider.h"
#include "monitoring/monitor_service.h"
#include "monitoring/testing/fake_sources.h"
#include "store/sqlite/sqlite_metadata_store.h"

namespace {

using namespace cairn;

struct Workspace {
  Workspace() {
    dir = std::filesystem::temp_directory_path() / ("cairn-fuzz-v1-" + NewUuidHex());
    std::filesystem::create_directories(dir);
    store = std::move(store::SqliteMetadataStore::Open((dir / "m.db").string(), clock)).value();
    blobs = std::move(blob::LocalBlobStore::Create((dir / "blobs").string())).value();
    datasets = std::make_unique<datasets::DatasetService>(*store, *blobs, clock);
    monitoring::PredictionLogOptions log_options;
    log_options.dir = (dir / "predictions").string();
    log = std::move(monitoring::PredictionLog::Open(log_options, clock)).value();
    endpoints = std::make_unique<endpoints::EndpointService>(*store, models, log.get(), clock);
    api::v1::RegisterDatasetRoutes(router, *datasets);
    api::v1::RegisterEndpointRoutes(router, *endpoints);
    api::v1::RegisterEndpointScoringRoutes(router, *endpoints);
    // An endpoint with a live and a mirrored deployment, so that inputs reach traffic changes,
    // routing and the prediction log.
    Call("POST", "/api/v1/endpoints", R"({"name": "ep"})");
    Call("POST", "/api/v1/endpoints/ep/deployments", R"({"name": "blue", "model": "models:/m/1"})");
    Call("POST", "/api/v1/endpoints/ep/deployments", R"({"name": "green", "model": "models:/m/2"})");
    Call("PUT", "/api/v1/endpoints/ep/traffic", R"({"traffic": {"blue": 100}, "mirror": {"green": 10}})");
    SetUpMonitor();
  }

  // The monitor of endpoint "ep" over fake views of the workspace (a served binary model trained
  // on a small profiled dataset, and logged predictions), so that feedback, configuration and
  // report requests reach the drift and live-metric code.
  void SetUpMonitor() {
    std::string csv = "x,color,y\n";
    for (int i = 0; i < 60; ++i) {
      csv += std::to_string(i % 17) + "," + (i % 3 == 0 ? "red" : "blue") + "," +
             std::to_string(i % 2) + "\n";
    }
    monitor_baselines.profiles_["base"] = std::move(data::ProfileCsv(csv)).value();
    monitoring::ServedModel model;
    model.deployment = "blue";
    model.model_uri = "models:/m/1";
    model.model_version = "m/1";
    model.traffic = 100;
    model.task = ml::Task::kBinary;
    model.target = "y";
    model.input_columns = {"x", "color"};
    model.classes = {"0", "1"};
    model.dataset = ml::DatasetRef{"base", "v1", "digest"};
    monitor_catalog.models_["ep"] = {model};
    const int64_t now = clock.NowMillis();
    for (int i = 0; i < 40; ++i) {
      monitoring::PredictionRecord r;
      r.time = now - 1000 + i;
      r.request_id = "r" + std::to_string(i);
      r.endpoint = "ep";
      r.deployment = "blue";
      r.model_uri = "models:/m/1";
      r.model_version = "m/1";
      r.status = 200;
      r.inputs = "{\"columns\":[\"x\",\"color\"],\"data\":[[" + std::to_string(i % 23) +
                 (i % 4 == 0 ? ",\"green\"]]}" : ",\"red\"]]}");
      r.outputs = "[0." + std::to_string(i % 10) + "]";
      monitor_catalog.records_.push_back(std::move(r));
    }
    monitor = std::make_unique<monitoring::MonitorService>(*store, monitor_catalog,
                                                           monitor_baselines, clock);
    api::v1::RegisterMonitorRoutes(router, *monitor);
  }
  ~Workspace() { std::filesystem::remove_all(dir); }

  http::HttpResponse Call(const char* method, std::string path, std::string body) {
    http::HttpRequest req;
    req.method = method;
    req.path = std::move(path);
    req.body = std::move(body);
    return router.Dispatch(req);
  }

  SystemClock clock;
  std::filesystem::path dir;
  std::unique_ptr<store::SqliteMetadataStore> store;
  std::unique_ptr<blob::LocalBlobStore> blobs;
  std::unique_ptr<datasets::DatasetService> datasets;
  endpoints::testing::FakeProvider models;
  std::unique_ptr<monitoring::PredictionLog> log;
  std::unique_ptr<endpoints::EndpointService> endpoints;
  monitoring::testing::FakeCatalog monitor_catalog;
  monitoring::testing::FakeBaselines monitor_baselines;
  std::unique_ptr<monitoring::MonitorService> monitor;
  http::Router router;
};

struct Target {
  const char* method;
  const char* path;  // a trailing '/' takes the rest of the path from the input
};

constexpr Target kTargets[] = {
    {"POST", "/api/v1/datasets/d/versions"},
    {"POST", "/api/v1/blobs/missing"},
    {"POST", "/api/v1/blobs"},
    {"GET", "/api/v1/datasets/d/diff"},
    {"GET", "/api/v1/datasets/"},
    {"POST", "/api/v1/endpoints"},
    {"PATCH", "/api/v1/endpoints/$EP"},
    {"PUT", "/api/v1/endpoints/$EP/traffic"},
    {"POST", "/api/v1/endpoints/$EP/deployments"},
    {"PATCH", "/api/v1/endpoints/$EP/deployments/blue"},
    {"GET", "/api/v1/endpoints/$EP/predictions"},
    {"POST", "/endpoints/$EP/invocations"},
    {"POST", "/endpoints/$EP/v2/models/$EP/infer"},
    {"GET", "/endpoints/"},
    {"DELETE", "/api/v1/endpoints/"},
    {"POST", "/api/v1/endpoints/$EP/feedback"},
    {"PUT", "/api/v1/endpoints/$EP/monitor"},
    {"POST", "/api/v1/endpoints/$EP/monitor/reports"},
    {"GET", "/api/v1/endpoints/$EP/monitor/reports"},
    {"GET", "/api/v1/endpoints/$EP/monitor/metrics"},
    {"GET", "/api/v1/endpoints/$EP/monitor/"},
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static Workspace* workspace = new Workspace();  // shared by all inputs, like a long-lived server
  if (size == 0) return 0;
  const Target& target = kTargets[data[0] % std::size(kTargets)];
  std::string rest(reinterpret_cast<const char*>(data + 1), size - 1);
  for (size_t pos = rest.find("$EP"); pos != std::string::npos; pos = rest.find("$EP", pos)) {
    rest.replace(pos, 3, "ep");
  }
  std::string path = target.path;
  for (size_t pos = path.find("$EP"); pos != std::string::npos; pos = path.find("$EP", pos)) {
    path.replace(pos, 3, "ep");
  }
  http::HttpRequest req;
  req.method = target.method;
  const bool path_target = path.back() == '/';
  if (path_target) path += rest;
  req.path = http::PercentDecode(path);
  if (!path_target) {
    if (req.method == "GET") req.query = rest;
    else req.body = rest;
  }
  http::HttpResponse response = workspace->router.Dispatch(req);
  if (response.status >= 500 && response.status != 503) {
    std::fprintf(stderr, "5xx for %s %s: %s\n", target.method, req.path.c_str(),
                 response.body.c_str());
    std::abort();
  }
  return 0;
}
