// The MLflow API through the router, without a socket: golden conversations and bad input.
#include <gtest/gtest.h>

#include <filesystem>

#include <nlohmann/json.hpp>

#include "api/mlflow/mlflow_json.h"
#include "api/mlflow/mlflow_routes.h"
#include "blob/local_blob_store.h"
#include "core/ids.h"
#include "golden_runner.h"
#include "store/sqlite/sqlite_metadata_store.h"

namespace cairn::api::mlflow {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

class MlflowApiTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("cairn-api-" + NewUuidHex());
    fs::create_directories(dir_);
    store_ = std::move(store::SqliteMetadataStore::Open((dir_ / "meta.db").string(), clock_))
                 .value();
    blobs_ = std::move(blob::LocalBlobStore::Create((dir_ / "blobs").string())).value();
    tracking_ = std::make_unique<tracking::TrackingService>(*store_, clock_);
    artifacts_ = std::make_unique<tracking::ArtifactService>(*store_, *blobs_);
    RouteLimits limits;
    limits.max_json_body_bytes = 1 << 20;
    RegisterTrackingRoutes(router_, *tracking_, limits);
    RegisterArtifactRoutes(router_, *artifacts_, limits);
  }
  void TearDown() override { fs::remove_all(dir_); }

  http::HttpResponse Call(const std::string& method, const std::string& target,
                          const std::string& body = "") {
    http::HttpRequest req;
    req.method = method;
    req.target = target;
    size_t q = target.find('?');
    req.path = http::PercentDecode(target.substr(0, q));
    req.query = q == std::string::npos ? "" : target.substr(q + 1);
    req.body = body;
    const http::Route* route = router_.Match(method, req.path, &req.path_params);
    if (route != nullptr && route->options.body_sink_factory) {
      req.body_sink = route->options.body_sink_factory(req);
      if (req.body_sink) req.body_sink->Write(body);
      req.body.clear();
    }
    return router_.Dispatch(req);
  }

  json CallJson(const std::string& method, const std::string& target, const json& body) {
    auto response = Call(method, target, body.is_null() ? "" : body.dump());
    return json::parse(response.body);
  }

  std::string NewRun() {
    return CallJson("POST", "/api/2.0/mlflow/runs/create", {{"experiment_id", "0"}})["run"]["info"]
                   ["run_id"]
                       .get<std::string>();
  }

  static std::string Drain(http::HttpResponse& response) {
    if (!response.body_producer) return response.body;
    std::string all, chunk;
    while (response.body_producer(chunk)) all += chunk;
    return all;
  }

  FakeClock clock_;
  fs::path dir_;
  std::unique_ptr<store::SqliteMetadataStore> store_;
  std::unique_ptr<blob::LocalBlobStore> blobs_;
  std::unique_ptr<tracking::TrackingService> tracking_;
  std::unique_ptr<tracking::ArtifactService> artifacts_;
  http::Router router_;
};

TEST_F(MlflowApiTest, GoldenTrackingConversation) {
  std::string golden = std::string(CAIRN_SOURCE_DIR) + "/tests/golden/mlflow_tracking.json";
  auto errors = testing::RunGoldenFile(
      golden, [&](const std::string& method, const std::string& target, const std::string& body) {
        auto response = Call(method, target, body);
        return testing::GoldenReply{response.status, response.body};
      });
  for (const auto& e : errors) ADD_FAILURE() << e;
}

TEST_F(MlflowApiTest, LogBatchEnforcesMlflowLimits) {
  std::string run = NewRun();
  json metrics = json::array();
  for (int i = 0; i < 1001; ++i) {
    metrics.push_back({{"key", "m"}, {"value", i}, {"timestamp", 1}, {"step", i}});
  }
  auto too_many = Call("POST", "/api/2.0/mlflow/runs/log-batch",
                       json{{"run_id", run}, {"metrics", metrics}}.dump());
  EXPECT_EQ(too_many.status, 400);
  EXPECT_NE(too_many.body.find("at most 1000 metrics"), std::string::npos);

  json params = json::array();
  for (int i = 0; i < 101; ++i) params.push_back({{"key", "p" + std::to_string(i)}, {"value", "v"}});
  EXPECT_EQ(Call("POST", "/api/2.0/mlflow/runs/log-batch",
                 json{{"run_id", run}, {"params", params}}.dump())
                .status,
            400);

  json long_param = {{"run_id", run}, {"key", "p"}, {"value", std::string(6001, 'x')}};
  EXPECT_EQ(Call("POST", "/api/2.0/mlflow/runs/log-parameter", long_param.dump()).status, 400);
  json long_key = {{"run_id", run}, {"key", std::string(251, 'k')}, {"value", "v"}};
  EXPECT_EQ(Call("POST", "/api/2.0/mlflow/runs/log-parameter", long_key.dump()).status, 400);

  // Nothing of the rejected batches was written.
  json run_json = CallJson("GET", "/api/2.0/mlflow/runs/get?run_id=" + run, nullptr);
  EXPECT_FALSE(run_json["run"]["data"].contains("metrics"));
  EXPECT_FALSE(run_json["run"]["data"].contains("params"));

  // 1000 metrics is fine.
  metrics.erase(metrics.size() - 1);
  EXPECT_EQ(Call("POST", "/api/2.0/mlflow/runs/log-batch",
                 json{{"run_id", run}, {"metrics", metrics}}.dump())
                .status,
            200);
}

TEST_F(MlflowApiTest, ParamConflictInBatchWritesNothing) {
  std::string run = NewRun();
  json batch = {{"run_id", run},
                {"metrics", {{{"key", "m"}, {"value", 1}, {"timestamp", 1}}}},
                {"params", {{{"key", "a"}, {"value", "1"}}, {{"key", "a"}, {"value", "2"}}}}};
  EXPECT_EQ(Call("POST", "/api/2.0/mlflow/runs/log-batch", batch.dump()).status, 400);
  json run_json = CallJson("GET", "/api/2.0/mlflow/runs/get?run_id=" + run, nullptr);
  EXPECT_FALSE(run_json["run"]["data"].contains("metrics"));
}

TEST_F(MlflowApiTest, LogBatchParserAcceptsProtobufJsonForms) {
  auto parsed = ParseLogBatch(
      R"({"run_id":"r","metrics":[{"key":"a","value":"-Infinity","timestamp":"12","step":"-3"},)"
      R"({"key":"b","value":1e300,"timestamp":5.0}],"params":null,"tags":[{"key":"t"}]})");
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  ASSERT_EQ(parsed->metrics.size(), 2u);
  EXPECT_TRUE(std::isinf(parsed->metrics[0].value) && parsed->metrics[0].value < 0);
  EXPECT_EQ(parsed->metrics[0].timestamp, 12);
  EXPECT_EQ(parsed->metrics[0].step, -3);
  EXPECT_EQ(parsed->metrics[1].timestamp, 5);
  EXPECT_EQ(parsed->tags[0].value, "");

  for (const char* bad : {"", "[]", "{", R"({"run_id": 5})", R"({"run_id":"r","metrics":{}})",
                          R"({"run_id":"r","metrics":[{"key":"a","value":true,"timestamp":1}]})",
                          R"({"run_id":"r","metrics":[{"key":"a","value":1,"timestamp":1.5}]})",
                          R"({"run_id":"r","metrics":[{"value":1,"timestamp":1}]})",
                          R"({"run_id":"r"} trailing)", "{\"run_id\":\"r\0\"}"}) {
    EXPECT_FALSE(ParseLogBatch(bad).ok()) << bad;
  }
}

TEST_F(MlflowApiTest, ArtifactProxyRoundTripAndListing) {
  std::string run = NewRun();
  std::string root = "/api/2.0/mlflow-artifacts/artifacts/0/" + run + "/artifacts";
  EXPECT_EQ(Call("PUT", root + "/model/MLmodel", "flavors: {}\n").status, 200);
  EXPECT_EQ(Call("PUT", root + "/model/model.xgb", std::string(100000, 'x')).status, 200);
  EXPECT_EQ(Call("PUT", root + "/notes.txt", "hello").status, 200);

  auto download = Call("GET", root + "/notes.txt");
  EXPECT_EQ(download.status, 200);
  EXPECT_EQ(Drain(download), "hello");

  json listing = CallJson("GET", "/api/2.0/mlflow-artifacts/artifacts?path=0/" + run +
                                     "/artifacts", nullptr);
  ASSERT_EQ(listing["files"].size(), 2u) << listing.dump();
  EXPECT_EQ(listing["files"][0]["path"], "model");
  EXPECT_EQ(listing["files"][0]["is_dir"], true);
  EXPECT_EQ(listing["files"][1]["path"], "notes.txt");
  EXPECT_EQ(listing["files"][1]["file_size"], 5);

  json run_listing =
      CallJson("GET", "/api/2.0/mlflow/artifacts/list?run_id=" + run + "&path=model", nullptr);
  EXPECT_EQ(run_listing["root_uri"], "mlflow-artifacts:/0/" + run + "/artifacts");
  ASSERT_EQ(run_listing["files"].size(), 2u) << run_listing.dump();
  EXPECT_EQ(run_listing["files"][0]["path"], "model/MLmodel");
  EXPECT_EQ(run_listing["files"][1]["path"], "model/model.xgb");
  EXPECT_EQ(run_listing["files"][1]["file_size"], 100000);

  EXPECT_EQ(Call("DELETE", root + "/model").status, 200);
  EXPECT_EQ(Call("GET", root + "/model/MLmodel").status, 404);
  EXPECT_EQ(Call("GET", root + "/notes.txt").status, 200);
}

TEST_F(MlflowApiTest, ArtifactPathsCannotLeaveTheRoot) {
  for (std::string path : {"/api/2.0/mlflow-artifacts/artifacts/0/../../etc/passwd",
                           "/api/2.0/mlflow-artifacts/artifacts/0/%2e%2e/x",
                           "/api/2.0/mlflow-artifacts/artifacts//etc/passwd",
                           "/api/2.0/mlflow-artifacts/artifacts/0/a%00b",
                           "/api/2.0/mlflow-artifacts/artifacts/0/a\\..\\b",
                           "/api/2.0/mlflow-artifacts/artifacts/0/%ff%fe.txt"}) {
    auto put = Call("PUT", path, "evil");
    EXPECT_EQ(put.status, 400) << path << " " << put.body;
    EXPECT_EQ(Call("GET", path).status, 400) << path;
  }
  // Nothing landed outside the blob store's own folders.
  for (const auto& entry : fs::recursive_directory_iterator(dir_)) {
    std::string p = entry.path().string();
    EXPECT_TRUE(p.find("/blobs") != std::string::npos || p.find("meta.db") != std::string::npos)
        << p;
  }
}

}  // namespace
}  // namespace cairn::api::mlflow
