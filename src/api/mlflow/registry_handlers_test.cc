// The MLflow model registry API through the router, without a socket: the golden conversation and
// the request shapes clients send.
#include <gtest/gtest.h>

#include <filesystem>

#include <nlohmann/json.hpp>

#include "api/mlflow/mlflow_routes.h"
#include "blob/local_blob_store.h"
#include "core/ids.h"
#include "golden_runner.h"
#include "store/sqlite/sqlite_metadata_store.h"

namespace cairn::api::mlflow {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

class RegistryApiTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("cairn-registry-api-" + NewUuidHex());
    fs::create_directories(dir_);
    store_ = std::move(store::SqliteMetadataStore::Open((dir_ / "meta.db").string(), clock_))
                 .value();
    blobs_ = std::move(blob::LocalBlobStore::Create((dir_ / "blobs").string())).value();
    tracking_ = std::make_unique<tracking::TrackingService>(*store_, clock_);
    artifacts_ = std::make_unique<tracking::ArtifactService>(*store_, *blobs_);
    registry_ = std::make_unique<registry::RegistryService>(*store_, clock_);
    RouteLimits limits;
    RegisterTrackingRoutes(router_, *tracking_, limits);
    RegisterArtifactRoutes(router_, *artifacts_, limits);
    RegisterRegistryRoutes(router_, *registry_, limits);
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

  json CallJson(const std::string& method, const std::string& target, const json& body,
                int expect_status = 200) {
    auto response = Call(method, target, body.is_null() ? "" : body.dump());
    EXPECT_EQ(response.status, expect_status) << method << " " << target << " " << response.body;
    return json::parse(response.body, nullptr, false);
  }

  FakeClock clock_;
  fs::path dir_;
  std::unique_ptr<store::SqliteMetadataStore> store_;
  std::unique_ptr<blob::LocalBlobStore> blobs_;
  std::unique_ptr<tracking::TrackingService> tracking_;
  std::unique_ptr<tracking::ArtifactService> artifacts_;
  std::unique_ptr<registry::RegistryService> registry_;
  http::Router router_;
};

TEST_F(RegistryApiTest, GoldenRegistryConversation) {
  std::string golden = std::string(CAIRN_SOURCE_DIR) + "/tests/golden/mlflow_registry.json";
  auto errors = testing::RunGoldenFile(
      golden, [&](const std::string& method, const std::string& target, const std::string& body) {
        auto response = Call(method, target, body);
        return testing::GoldenReply{response.status, response.body};
      });
  for (const auto& e : errors) ADD_FAILURE() << e;
}

TEST_F(RegistryApiTest, TimestampsComeFromTheServiceClock) {
  const int64_t t0 = clock_.NowMillis();
  auto created = CallJson("POST", "/api/2.0/mlflow/registered-models/create", {{"name", "m"}});
  EXPECT_EQ(created["registered_model"]["creation_timestamp"], t0);
  clock_.Advance(250);
  auto version = CallJson("POST", "/api/2.0/mlflow/model-versions/create",
                          {{"name", "m"}, {"source", "s3://bucket/m"}});
  EXPECT_EQ(version["model_version"]["creation_timestamp"], t0 + 250);
  auto got = CallJson("GET", "/api/2.0/mlflow/registered-models/get?name=m", nullptr);
  EXPECT_EQ(got["registered_model"]["last_updated_timestamp"], t0 + 250);
}

TEST_F(RegistryApiTest, VersionsAsNumbersAndBooleansAsStringsAreAccepted) {
  CallJson("POST", "/api/2.0/mlflow/registered-models/create", {{"name", "m"}});
  CallJson("POST", "/api/2.0/mlflow/model-versions/create",
           {{"name", "m"}, {"source", "s3://bucket/1"}});
  CallJson("POST", "/api/2.0/mlflow/model-versions/create",
           {{"name", "m"}, {"source", "s3://bucket/2"}});
  auto staged = CallJson("POST", "/api/2.0/mlflow/model-versions/transition-stage",
                         {{"name", "m"}, {"version", 1}, {"stage", "Staging"}});
  EXPECT_EQ(staged["model_version"]["current_stage"], "Staging");
  auto promoted =
      CallJson("POST", "/api/2.0/mlflow/model-versions/transition-stage",
               {{"name", "m"}, {"version", 2}, {"stage", "Staging"},
                {"archive_existing_versions", "true"}});
  EXPECT_EQ(promoted["model_version"]["current_stage"], "Staging");
  EXPECT_EQ(CallJson("GET", "/api/2.0/mlflow/model-versions/get?name=m&version=1",
                     nullptr)["model_version"]["current_stage"],
            "Archived");
  auto bad_bool = CallJson("POST", "/api/2.0/mlflow/model-versions/transition-stage",
                           {{"name", "m"}, {"version", "1"}, {"stage", "Staging"},
                            {"archive_existing_versions", "maybe"}},
                           400);
  EXPECT_NE(bad_bool["message"].get<std::string>().find("archive_existing_versions"),
            std::string::npos);
  auto bad_version =
      CallJson("GET", "/api/2.0/mlflow/model-versions/get?name=m&version=1.5", nullptr, 400);
  EXPECT_EQ(bad_version["error_code"], "INVALID_PARAMETER_VALUE");
  auto object_version = CallJson("POST", "/api/2.0/mlflow/registered-models/alias",
                                 {{"name", "m"}, {"alias", "a"}, {"version", {{"x", 1}}}}, 400);
  EXPECT_NE(object_version["message"].get<std::string>().find("'version'"), std::string::npos);
}

TEST_F(RegistryApiTest, DeleteTakesABodyOrAQueryString) {
  CallJson("POST", "/api/2.0/mlflow/registered-models/create", {{"name", "a"}});
  CallJson("POST", "/api/2.0/mlflow/registered-models/create", {{"name", "b"}});
  EXPECT_EQ(Call("DELETE", "/api/2.0/mlflow/registered-models/delete", R"({"name":"a"})").status,
            200);
  EXPECT_EQ(Call("DELETE", "/api/2.0/mlflow/registered-models/delete?name=b").status, 200);
  auto missing = Call("DELETE", "/api/2.0/mlflow/registered-models/delete");
  EXPECT_EQ(missing.status, 400);
  auto search = CallJson("GET", "/api/2.0/mlflow/registered-models/search", nullptr);
  EXPECT_FALSE(search.contains("registered_models"));  // none left (empty lists are left out)
  // Wrong methods are 405, as for every route.
  EXPECT_EQ(Call("GET", "/api/2.0/mlflow/registered-models/delete?name=a").status, 405);
}

}  // namespace
}  // namespace cairn::api::mlflow
