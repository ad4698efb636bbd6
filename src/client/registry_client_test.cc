// RegistryClient against the real API handlers and services, through an in-process transport
// (the router without a socket).
#include "client/registry_client.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "api/mlflow/mlflow_routes.h"
#include "blob/local_blob_store.h"
#include "client/tracking_client.h"
#include "core/ids.h"
#include "store/sqlite/sqlite_metadata_store.h"

namespace cairn::client {
namespace {

namespace fs = std::filesystem;

std::string ReadFile(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Dispatches every exchange to a router, as the server would.
class RouterTransport : public Transport {
 public:
  explicit RouterTransport(http::Router& router) : router_(router) {}

  Result<http::ClientResponse> Send(std::string_view method, std::string_view target,
                                    std::string_view body, const http::Headers& headers) override {
    http::HttpResponse r = Dispatch(method, target, std::string(body), headers);
    return http::ClientResponse{r.status, r.headers, Drain(r)};
  }
  Result<http::ClientResponse> SendFile(std::string_view method, std::string_view target,
                                        const std::string& path) override {
    http::HttpResponse r = Dispatch(method, target, ReadFile(path), {});
    return http::ClientResponse{r.status, r.headers, Drain(r)};
  }
  Result<http::ClientResponse> Download(std::string_view target,
                                        const std::string& path) override {
    http::HttpResponse r = Dispatch("GET", target, "", {});
    std::string body = Drain(r);
    if (r.status >= 200 && r.status < 300) {
      std::ofstream(path, std::ios::binary) << body;
      body.clear();
    }
    return http::ClientResponse{r.status, r.headers, body};
  }

 private:
  http::HttpResponse Dispatch(std::string_view method, std::string_view target, std::string body,
                              const http::Headers& headers) {
    http::HttpRequest req;
    req.method = std::string(method);
    req.target = std::string(target);
    size_t q = target.find('?');
    req.path = http::PercentDecode(target.substr(0, q));
    req.query = q == std::string_view::npos ? "" : std::string(target.substr(q + 1));
    req.headers = headers;
    req.body = std::move(body);
    const http::Route* route = router_.Match(req.method, req.path, &req.path_params);
    if (route != nullptr && route->options.body_sink_factory) {
      req.body_sink = route->options.body_sink_factory(req);
      if (req.body_sink) req.body_sink->Write(req.body);
      req.body.clear();
    }
    return router_.Dispatch(req);
  }

  static std::string Drain(http::HttpResponse& r) {
    if (!r.body_file.empty()) return ReadFile(r.body_file);
    if (!r.body_producer) return r.body;
    std::string all, chunk;
    while (r.body_producer(chunk)) all += chunk;
    return all;
  }

  http::Router& router_;
};

class RegistryClientTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("cairn-registry-client-" + NewUuidHex());
    fs::create_directories(dir_);
    store_ = std::move(store::SqliteMetadataStore::Open((dir_ / "meta.db").string(), clock_))
                 .value();
    blobs_ = std::move(blob::LocalBlobStore::Create((dir_ / "blobs").string())).value();
    tracking_ = std::make_unique<tracking::TrackingService>(*store_, clock_);
    artifacts_ = std::make_unique<tracking::ArtifactService>(*store_, *blobs_);
    registry_ = std::make_unique<registry::RegistryService>(*store_, clock_);
    api::mlflow::RouteLimits limits;
    api::mlflow::RegisterTrackingRoutes(router_, *tracking_, limits);
    api::mlflow::RegisterArtifactRoutes(router_, *artifacts_, limits);
    api::mlflow::RegisterRegistryRoutes(router_, *registry_, limits);
    client_ = std::make_unique<RegistryClient>(std::make_unique<RouterTransport>(router_));
    tracking_client_ =
        std::make_unique<TrackingClient>(std::make_unique<RouterTransport>(router_), clock_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  // A run whose artifacts hold a small model directory under "model"; returns the run id.
  std::string RunWithModel() {
    fs::path local = dir_ / ("model-" + NewUuidHex());
    fs::create_directories(local / "sub");
    std::ofstream(local / "MLmodel") << "flavors:\n  xgboost: {data: model.ubj}\n";
    std::ofstream(local / "model.ubj", std::ios::binary) << std::string("\0\1\2booster", 10);
    std::ofstream(local / "sub" / "notes.txt") << "nested";
    CreateRunRequest req;
    req.experiment_id = "0";
    auto run = tracking_client_->CreateRun(req);
    EXPECT_TRUE(run.ok()) << run.status().ToString();
    auto uploaded = tracking_client_->UploadArtifacts(run->info.run_id, local.string(), "model");
    EXPECT_TRUE(uploaded.ok()) << uploaded.status().ToString();
    return run->info.run_id;
  }

  ModelVersion Register(const std::string& name, const std::string& run_id) {
    CreateModelVersionRequest req;
    req.name = name;
    req.source = "runs:/" + run_id + "/model";
    req.run_id = run_id;
    auto v = client_->CreateModelVersion(req);
    EXPECT_TRUE(v.ok()) << v.status().ToString();
    return v.ok() ? *v : ModelVersion{};
  }

  FakeClock clock_;
  fs::path dir_;
  std::unique_ptr<store::SqliteMetadataStore> store_;
  std::unique_ptr<blob::LocalBlobStore> blobs_;
  std::unique_ptr<tracking::TrackingService> tracking_;
  std::unique_ptr<tracking::ArtifactService> artifacts_;
  std::unique_ptr<registry::RegistryService> registry_;
  http::Router router_;
  std::unique_ptr<RegistryClient> client_;
  std::unique_ptr<TrackingClient> tracking_client_;
};

TEST_F(RegistryClientTest, ModelsVersionsTagsAndAliasesRoundTrip) {
  auto created = client_->CreateRegisteredModel("churn", {{"team", "ml"}}, "Churn model");
  ASSERT_TRUE(created.ok()) << created.status().ToString();
  EXPECT_EQ(created->description, "Churn model");
  EXPECT_EQ(client_->CreateRegisteredModel("churn").status().code(), StatusCode::kAlreadyExists);

  const std::string run = RunWithModel();
  ModelVersion v1 = Register("churn", run);
  EXPECT_EQ(v1.version, 1);
  EXPECT_EQ(v1.run_id, run);
  ModelVersion v2 = Register("churn", run);
  EXPECT_EQ(v2.version, 2);

  ASSERT_TRUE(client_->SetRegisteredModelAlias("churn", "champion", 1).ok());
  ASSERT_TRUE(client_->SetModelVersionTag("churn", 1, "validated", "yes").ok());
  ASSERT_TRUE(client_->SetRegisteredModelTag("churn", "owner", "alice").ok());
  ASSERT_TRUE(client_->DeleteRegisteredModelTag("churn", "team").ok());
  auto model = client_->GetRegisteredModel("churn");
  ASSERT_TRUE(model.ok());
  EXPECT_EQ(model->aliases, (std::vector<ModelAlias>{{"champion", 1}}));
  EXPECT_EQ(model->tags, (std::vector<Tag>{{"owner", "alice"}}));
  auto champion = client_->GetModelVersionByAlias("churn", "champion");
  ASSERT_TRUE(champion.ok());
  EXPECT_EQ(champion->tags, (std::vector<Tag>{{"validated", "yes"}}));
  EXPECT_EQ(champion->aliases, (std::vector<std::string>{"champion"}));

  auto described = client_->UpdateModelVersion("churn", 2, "candidate");
  ASSERT_TRUE(described.ok());
  EXPECT_EQ(described->description, "candidate");
  auto staged = client_->TransitionModelVersionStage("churn", 2, "Staging", false);
  ASSERT_TRUE(staged.ok());
  EXPECT_EQ(staged->current_stage, ModelStage::kStaging);
  auto staging = client_->GetLatestVersions("churn", {"Staging"});
  ASSERT_TRUE(staging.ok());
  ASSERT_EQ(staging->size(), 1u);
  EXPECT_EQ((*staging)[0].version, 2);
  EXPECT_EQ(*client_->GetModelVersionDownloadUri("churn", 1),
            "mlflow-artifacts:/0/" + run + "/artifacts/model");

  auto renamed = client_->RenameRegisteredModel("churn", "churn-xgb");
  ASSERT_TRUE(renamed.ok());
  EXPECT_EQ(client_->GetModelVersion("churn", 1).status().code(), StatusCode::kNotFound);
  ASSERT_TRUE(client_->DeleteRegisteredModelAlias("churn-xgb", "champion").ok());
  EXPECT_EQ(client_->GetModelVersionByAlias("churn-xgb", "champion").status().code(),
            StatusCode::kNotFound);
  ASSERT_TRUE(client_->DeleteModelVersion("churn-xgb", 1).ok());
  ASSERT_TRUE(client_->DeleteRegisteredModel("churn-xgb").ok());
  EXPECT_EQ(client_->GetRegisteredModel("churn-xgb").status().code(), StatusCode::kNotFound);
}

TEST_F(RegistryClientTest, SearchFollowsPages) {
  for (int i = 0; i < 5; ++i) {
    ASSERT_TRUE(client_->CreateRegisteredModel("m" + std::to_string(i)).ok());
  }
  SearchRegisteredModelsRequest req;
  req.max_results = 2;
  req.order_by = {"name DESC"};
  auto all = client_->SearchAllRegisteredModels(req);
  ASSERT_TRUE(all.ok()) << all.status().ToString();
  ASSERT_EQ(all->size(), 5u);
  EXPECT_EQ((*all)[0].name, "m4");
  EXPECT_EQ((*all)[4].name, "m0");
  EXPECT_EQ(client_->SearchAllRegisteredModels(req, 3)->size(), 3u);
  req.filter = "name LIKE 'm1%'";
  EXPECT_EQ(client_->SearchAllRegisteredModels(req)->size(), 1u);
  req.filter = "nonsense";
  EXPECT_EQ(client_->SearchAllRegisteredModels(req).status().code(),
            StatusCode::kInvalidArgument);

  const std::string run = RunWithModel();
  for (int i = 0; i < 3; ++i) Register("m0", run);
  SearchModelVersionsRequest versions;
  versions.filter = "name = 'm0'";
  versions.max_results = 2;
  auto found = client_->SearchAllModelVersions(versions);
  ASSERT_TRUE(found.ok()) << found.status().ToString();
  ASSERT_EQ(found->size(), 3u);
  EXPECT_EQ((*found)[0].version, 3);  // version DESC
}

TEST_F(RegistryClientTest, ResolvesModelUris) {
  ASSERT_TRUE(client_->CreateRegisteredModel("churn").ok());
  const std::string run = RunWithModel();
  for (int i = 0; i < 3; ++i) Register("churn", run);
  ASSERT_TRUE(client_->SetRegisteredModelAlias("churn", "champion", 2).ok());
  ASSERT_TRUE(client_->TransitionModelVersionStage("churn", 1, "Production", false).ok());

  EXPECT_EQ(client_->ResolveModelUri("models:/churn/1")->version, 1);
  EXPECT_EQ(client_->ResolveModelUri("models:/churn@champion")->version, 2);
  EXPECT_EQ(client_->ResolveModelUri("models:/churn/latest")->version, 3);
  EXPECT_EQ(client_->ResolveModelUri("churn")->version, 3);  // a bare name is its latest
  EXPECT_EQ(client_->ResolveModelUri("models:/churn/Production")->version, 1);
  auto staging = client_->ResolveModelUri("models:/churn/Staging");
  EXPECT_EQ(staging.status().code(), StatusCode::kNotFound);
  EXPECT_EQ(staging.status().message(), "registered model 'churn' has no version in stage 'Staging'");
  EXPECT_EQ(client_->ResolveModelUri("models:/churn@nope").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(client_->ResolveModelUri("models:/nope/1").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(client_->ResolveModelUri("models:/churn/1/2").status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(client_->ResolveModelUri("models:/churn/Live").status().code(),
            StatusCode::kInvalidArgument);
  ASSERT_TRUE(client_->CreateRegisteredModel("empty").ok());
  EXPECT_EQ(client_->ResolveModelUri("empty").status().message(),
            "registered model 'empty' has no versions");
}

TEST_F(RegistryClientTest, DownloadsTheModelDirectory) {
  ASSERT_TRUE(client_->CreateRegisteredModel("churn").ok());
  const std::string run = RunWithModel();
  Register("churn", run);
  ASSERT_TRUE(client_->SetRegisteredModelAlias("churn", "champion", 1).ok());

  fs::path dest = dir_ / "out";
  auto version = client_->DownloadModel("models:/churn@champion", dest.string());
  ASSERT_TRUE(version.ok()) << version.status().ToString();
  EXPECT_EQ(version->version, 1);
  EXPECT_EQ(ReadFile(dest / "MLmodel"), "flavors:\n  xgboost: {data: model.ubj}\n");
  EXPECT_EQ(ReadFile(dest / "model.ubj"), std::string("\0\1\2booster", 10));
  EXPECT_EQ(ReadFile(dest / "sub" / "notes.txt"), "nested");
  EXPECT_FALSE(fs::exists(dest / "model.ubj.part"));
  auto files = client_->DownloadModelVersion(*version, (dir_ / "again").string());
  ASSERT_TRUE(files.ok());
  EXPECT_EQ(files->size(), 3u);

  // A version whose source is a single file downloads that file.
  CreateModelVersionRequest file_req;
  file_req.name = "churn";
  file_req.source = "runs:/" + run + "/model/MLmodel";
  ASSERT_TRUE(client_->CreateModelVersion(file_req).ok());
  auto single = client_->DownloadModelVersion(*client_->GetModelVersion("churn", 2),
                                              (dir_ / "single").string());
  ASSERT_TRUE(single.ok()) << single.status().ToString();
  ASSERT_EQ(single->size(), 1u);
  EXPECT_TRUE(fs::exists(dir_ / "single" / "MLmodel"));

  // Nothing there; stored where the proxy does not serve.
  file_req.source = "runs:/" + run + "/nothing";
  ASSERT_TRUE(client_->CreateModelVersion(file_req).ok());
  auto empty = client_->DownloadModel("models:/churn/3", (dir_ / "none").string());
  EXPECT_EQ(empty.status().code(), StatusCode::kNotFound);
  EXPECT_NE(empty.status().message().find("has no files"), std::string::npos);
  file_req.source = "s3://bucket/model";
  file_req.run_id = "";
  ASSERT_TRUE(client_->CreateModelVersion(file_req).ok());
  auto remote = client_->DownloadModel("models:/churn/4", (dir_ / "remote").string());
  EXPECT_EQ(remote.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(remote.status().message().find("s3://bucket/model"), std::string::npos);
}

}  // namespace
}  // namespace cairn::client
