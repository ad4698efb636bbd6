#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <deque>
#include <filesystem>
#include <fstream>

#include "client/mlflow_json.h"
#include "client/tracking_client.h"
#include "client/uri.h"

namespace cairn::client {
namespace {

// --- uri.h ---------------------------------------------------------------------------------

TEST(ResolveTrackingUriTest, FlagWinsThenCairnThenMlflowThenDefault) {
  EXPECT_EQ(ResolveTrackingUri("http://flag:1", "http://cairn:2", "http://mlflow:3"),
            "http://flag:1");
  EXPECT_EQ(ResolveTrackingUri(std::nullopt, "http://cairn:2", "http://mlflow:3"),
            "http://cairn:2");
  EXPECT_EQ(ResolveTrackingUri(std::nullopt, nullptr, "http://mlflow:3"), "http://mlflow:3");
  EXPECT_EQ(ResolveTrackingUri(std::nullopt, "", ""), "http://127.0.0.1:5000");
  EXPECT_EQ(ResolveTrackingUri(std::string(), nullptr, nullptr), "http://127.0.0.1:5000");
}

TEST(ResolveTrackingUriTest, DropsTrailingSlash) {
  EXPECT_EQ(ResolveTrackingUri("http://h:5000/", nullptr, nullptr), "http://h:5000");
}

TEST(ArtifactPathTest, NormalizesAndRejectsDotSegments) {
  EXPECT_EQ(*NormalizeArtifactPath("/model//x.bin/"), "model/x.bin");
  EXPECT_EQ(*NormalizeArtifactPath(""), "");
  EXPECT_EQ(NormalizeArtifactPath("a/../b").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(NormalizeArtifactPath("./a").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(JoinArtifactPath("", "a"), "a");
  EXPECT_EQ(JoinArtifactPath("a", ""), "a");
  EXPECT_EQ(JoinArtifactPath("a", "b/c"), "a/b/c");
}

TEST(ArtifactPathTest, MapsRunArtifactUriOntoProxy) {
  EXPECT_EQ(*ArtifactProxyRoot("mlflow-artifacts:/1/abc/artifacts"), "1/abc/artifacts");
  EXPECT_EQ(*ArtifactProxyRoot("mlflow-artifacts://host:5000/1/abc/artifacts"), "1/abc/artifacts");
  EXPECT_EQ(*ArtifactProxyTarget("mlflow-artifacts:/1/abc/artifacts", "model/x.bin"),
            "/api/2.0/mlflow-artifacts/artifacts/1/abc/artifacts/model/x.bin");
  EXPECT_EQ(*ArtifactProxyTarget("mlflow-artifacts:/1/abc/artifacts", "my dir/a#b?.txt"),
            "/api/2.0/mlflow-artifacts/artifacts/1/abc/artifacts/my%20dir/a%23b%3F.txt");
  EXPECT_EQ(ArtifactProxyRoot("/tmp/mlruns/1/abc/artifacts").status().code(),
            StatusCode::kFailedPrecondition);
  EXPECT_EQ(ArtifactProxyTarget("mlflow-artifacts:/1/abc/artifacts", "../x").status().code(),
            StatusCode::kInvalidArgument);
}

TEST(QueryStringTest, EncodesValuesAndSkipsEmpty) {
  EXPECT_EQ(QueryString({}), "");
  EXPECT_EQ(QueryString({{"run_id", "r1"}, {"path", ""}, {"metric_key", "a b&c"}}),
            "?run_id=r1&metric_key=a%20b%26c");
}

// --- mlflow_json.h -------------------------------------------------------------------------

TEST(MlflowJsonTest, ParsesArtifactListing) {
  auto l = ArtifactListingFromJson(Json::parse(
      R"({"root_uri":"mlflow-artifacts:/1/abc/artifacts","files":[{"path":"model","is_dir":true},
          {"path":"a.txt","is_dir":false,"file_size":"12"}]})"));
  ASSERT_TRUE(l.ok()) << l.status().ToString();
  ASSERT_EQ(l->files.size(), 2u);
  EXPECT_TRUE(l->files[0].is_dir);
  EXPECT_FALSE(l->files[0].file_size.has_value());
  EXPECT_EQ(l->files[1].file_size, 12);
  // An empty directory: MLflow omits "files".
  auto empty = ArtifactListingFromJson(Json::object());
  ASSERT_TRUE(empty.ok());
  EXPECT_TRUE(empty->files.empty());
}

TEST(MlflowJsonTest, MalformedPageIsInternal) {
  Status bad_run =
      RunsPageFromJson(Json::parse(R"({"runs":[{"info":{"start_time":"soon"}}]})")).status();
  EXPECT_EQ(bad_run.code(), StatusCode::kInternal);
  EXPECT_EQ(bad_run.message(),
            "malformed response from server: 'start_time': expected an "
            "integer, got \"soon\"");
  EXPECT_EQ(ExperimentsPageFromJson(Json::parse(R"({"experiments":{}})")).status().code(),
            StatusCode::kInternal);
  EXPECT_EQ(ArtifactListingFromJson(Json::parse(R"({"next_page_token":7})")).status().code(),
            StatusCode::kInternal);
}

TEST(MlflowJsonTest, BuildsSearchBodies) {
  SearchRunsRequest req;
  req.experiment_ids = {"1", "2"};
  req.filter = "metrics.auc > 0.9";
  req.order_by = {"metrics.auc DESC"};
  req.run_view_type = ViewType::kAll;
  req.max_results = 10;
  Json j = SearchRunsBody(req);
  EXPECT_EQ(j["experiment_ids"], Json({"1", "2"}));
  EXPECT_EQ(j["run_view_type"], "ALL");
  EXPECT_EQ(j["max_results"], 10);
  EXPECT_EQ(j["order_by"][0], "metrics.auc DESC");
  EXPECT_FALSE(j.contains("page_token"));

  SearchExperimentsRequest ereq;
  ereq.view_type = ViewType::kDeletedOnly;
  EXPECT_EQ(SearchExperimentsBody(ereq)["view_type"], "DELETED_ONLY");
}

TEST(MlflowJsonTest, MapsErrorsToStatus) {
  Status s = StatusFromHttpError(
      404, R"({"error_code":"RESOURCE_DOES_NOT_EXIST","message":"Run 'x' not found"})");
  EXPECT_EQ(s.code(), StatusCode::kNotFound);
  EXPECT_EQ(s.message(), "Run 'x' not found");
  EXPECT_EQ(
      StatusFromHttpError(400, R"({"error_code":"RESOURCE_ALREADY_EXISTS","message":"m"})").code(),
      StatusCode::kAlreadyExists);
  for (const char* code : {"INVALID_PARAMETER_VALUE", "BAD_REQUEST", "INVALID_STATE"}) {
    Json body = {{"error_code", code}, {"message", "m"}};
    EXPECT_EQ(StatusFromHttpError(400, body.dump()).code(), StatusCode::kInvalidArgument) << code;
  }
  EXPECT_EQ(StatusFromHttpError(413, R"({"error_code":"BAD_REQUEST","message":"too big"})").code(),
            StatusCode::kResourceExhausted);
  EXPECT_EQ(StatusFromHttpError(413, "").code(), StatusCode::kResourceExhausted);
  Status internal = StatusFromHttpError(500, R"({"error_code":"INTERNAL_ERROR","message":"boom"})");
  EXPECT_EQ(internal.code(), StatusCode::kInternal);
  EXPECT_EQ(internal.message(), "boom");
  Status html = StatusFromHttpError(502, "<html>Bad Gateway</html>\n");
  EXPECT_EQ(html.code(), StatusCode::kInternal);
  EXPECT_EQ(html.message(), "HTTP 502: <html>Bad Gateway</html>");
}

// --- TrackingClient against canned answers -------------------------------------------------

struct Exchange {
  std::string method;
  std::string target;
  std::string body;  // request body, or the uploaded/downloaded file path
};

class FakeTransport : public Transport {
 public:
  void Answer(int status, std::string body) { answers_.push_back({status, {}, std::move(body)}); }
  const std::vector<Exchange>& exchanges() const { return exchanges_; }

  Result<http::ClientResponse> Send(std::string_view method, std::string_view target,
                                    std::string_view body, const http::Headers&) override {
    exchanges_.push_back({std::string(method), std::string(target), std::string(body)});
    return Next();
  }
  Result<http::ClientResponse> SendFile(std::string_view method, std::string_view target,
                                        const std::string& path) override {
    exchanges_.push_back({std::string(method), std::string(target), path});
    return Next();
  }
  Result<http::ClientResponse> Download(std::string_view target, const std::string& path) override {
    exchanges_.push_back({"GET", std::string(target), path});
    auto r = Next();
    if (r.ok() && r->status == 200) {
      std::ofstream(path) << r->body;
      r->body.clear();
    }
    return r;
  }

 private:
  Result<http::ClientResponse> Next() {
    if (answers_.empty()) return Unavailable("no canned answer left");
    http::ClientResponse r = std::move(answers_.front());
    answers_.pop_front();
    return r;
  }
  std::deque<http::ClientResponse> answers_;
  std::vector<Exchange> exchanges_;
};

class TrackingClientTest : public ::testing::Test {
 protected:
  TrackingClientTest() {
    auto t = std::make_unique<FakeTransport>();
    fake_ = t.get();
    client_ = std::make_unique<TrackingClient>(std::move(t), clock_);
  }
  FakeClock clock_{1700000000000};
  FakeTransport* fake_;
  std::unique_ptr<TrackingClient> client_;
};

TEST_F(TrackingClientTest, ExperimentByNameOrIdFallsBackToId) {
  fake_->Answer(404, R"({"error_code":"RESOURCE_DOES_NOT_EXIST","message":"no such name"})");
  fake_->Answer(200, R"({"experiment":{"experiment_id":"7","name":"churn"}})");
  auto e = client_->GetExperimentByNameOrId("7");
  ASSERT_TRUE(e.ok()) << e.status().ToString();
  EXPECT_EQ(e->name, "churn");
  ASSERT_EQ(fake_->exchanges().size(), 2u);
  EXPECT_EQ(fake_->exchanges()[0].target,
            "/api/2.0/mlflow/experiments/get-by-name?experiment_name=7");
  EXPECT_EQ(fake_->exchanges()[1].target, "/api/2.0/mlflow/experiments/get?experiment_id=7");
}

TEST_F(TrackingClientTest, MalformedExperimentIsInternal) {
  fake_->Answer(200, R"({"experiment":{"experiment_id":"7","name":5}})");
  auto e = client_->GetExperiment("7");
  EXPECT_EQ(e.status().code(), StatusCode::kInternal);
  EXPECT_EQ(e.status().message(), "malformed response from server: 'name' is not a string");
}

TEST_F(TrackingClientTest, ExperimentByNameOrIdReportsNotFound) {
  fake_->Answer(404, R"({"error_code":"RESOURCE_DOES_NOT_EXIST","message":"a"})");
  fake_->Answer(400, R"({"error_code":"INVALID_PARAMETER_VALUE","message":"bad id"})");
  auto e = client_->GetExperimentByNameOrId("nope");
  EXPECT_EQ(e.status().code(), StatusCode::kNotFound);
  EXPECT_EQ(e.status().message(), "no experiment named or with id 'nope'");
}

TEST_F(TrackingClientTest, CreateRunStampsStartTimeFromClock) {
  fake_->Answer(200, R"({"run":{"info":{"run_id":"r1","experiment_id":"1"}}})");
  CreateRunRequest req;
  req.experiment_id = "1";
  req.run_name = "first";
  auto run = client_->CreateRun(req);
  ASSERT_TRUE(run.ok()) << run.status().ToString();
  EXPECT_EQ(run->info.run_id, "r1");
  const Exchange& x = fake_->exchanges().at(0);
  EXPECT_EQ(x.method, "POST");
  EXPECT_EQ(x.target, "/api/2.0/mlflow/runs/create");
  Json body = Json::parse(x.body);
  EXPECT_EQ(body["start_time"], 1700000000000);
  EXPECT_EQ(body["run_name"], "first");
}

TEST_F(TrackingClientTest, LogMetricSendsNaNAsStringAndDefaultsTimestamp) {
  fake_->Answer(200, "{}");
  ASSERT_TRUE(client_->LogMetric("r1", Metric{"loss", std::nan(""), 0, 3}).ok());
  Json body = Json::parse(fake_->exchanges().at(0).body);
  EXPECT_EQ(body["value"], "NaN");
  EXPECT_EQ(body["timestamp"], 1700000000000);
  EXPECT_EQ(body["step"], 3);
}

TEST_F(TrackingClientTest, ServerErrorBecomesStatus) {
  fake_->Answer(400, R"({"error_code":"INVALID_PARAMETER_VALUE","message":"param changed"})");
  Status s = client_->LogParam("r1", "depth", "7");
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(s.message(), "param changed");
}

TEST_F(TrackingClientTest, SearchAllRunsFollowsPageTokensUpToLimit) {
  fake_->Answer(200, R"({"runs":[{"info":{"run_id":"a"}},{"info":{"run_id":"b"}}],
                         "next_page_token":"t1"})");
  fake_->Answer(200, R"({"runs":[{"info":{"run_id":"c"}}],"next_page_token":"t2"})");
  SearchRunsRequest req;
  req.experiment_ids = {"1"};
  req.max_results = 2;
  auto runs = client_->SearchAllRuns(req, 3);
  ASSERT_TRUE(runs.ok()) << runs.status().ToString();
  ASSERT_EQ(runs->size(), 3u);
  EXPECT_EQ((*runs)[2].info.run_id, "c");
  ASSERT_EQ(fake_->exchanges().size(), 2u);
  Json second = Json::parse(fake_->exchanges()[1].body);
  EXPECT_EQ(second["page_token"], "t1");
  EXPECT_EQ(second["max_results"], 1);  // only what the limit still needs
}

TEST_F(TrackingClientTest, UploadRunArtifactPutsToProxyPath) {
  fake_->Answer(200, "");
  RunInfo info;
  info.artifact_uri = "mlflow-artifacts:/1/abc/artifacts";
  ASSERT_TRUE(client_->UploadRunArtifact(info, "/tmp/x.bin", "model/x.bin").ok());
  const Exchange& x = fake_->exchanges().at(0);
  EXPECT_EQ(x.method, "PUT");
  EXPECT_EQ(x.target, "/api/2.0/mlflow-artifacts/artifacts/1/abc/artifacts/model/x.bin");
  EXPECT_EQ(x.body, "/tmp/x.bin");
}

TEST_F(TrackingClientTest, UploadArtifactsWalksAFolder) {
  namespace fs = std::filesystem;
  fs::path dir = fs::temp_directory_path() / ("cairn_client_test_" + std::to_string(::getpid()));
  fs::create_directories(dir / "sub");
  std::ofstream(dir / "a.txt") << "a";
  std::ofstream(dir / "sub" / "b.txt") << "b";
  fake_->Answer(200, R"({"run":{"info":{"run_id":"abc",
                         "artifact_uri":"mlflow-artifacts:/1/abc/artifacts"}}})");
  fake_->Answer(200, "");
  fake_->Answer(200, "");
  auto uploaded = client_->UploadArtifacts("abc", dir.string(), "out");
  fs::remove_all(dir);
  ASSERT_TRUE(uploaded.ok()) << uploaded.status().ToString();
  EXPECT_EQ(*uploaded, (std::vector<std::string>{"out/a.txt", "out/sub/b.txt"}));
  EXPECT_EQ(fake_->exchanges().at(2).target,
            "/api/2.0/mlflow-artifacts/artifacts/1/abc/artifacts/out/sub/b.txt");
}

TEST_F(TrackingClientTest, DownloadArtifactsRecursesIntoDirectories) {
  namespace fs = std::filesystem;
  fs::path dest = fs::temp_directory_path() / ("cairn_client_dl_" + std::to_string(::getpid()));
  fake_->Answer(200, R"({"run":{"info":{"run_id":"abc",
                         "artifact_uri":"mlflow-artifacts:/1/abc/artifacts"}}})");
  fake_->Answer(200, R"({"files":[{"path":"model","is_dir":true}]})");  // list ""
  fake_->Answer(200, R"({"files":[{"path":"model/x.bin","is_dir":false,"file_size":3}]})");
  fake_->Answer(200, "xyz");  // download
  auto written = client_->DownloadArtifacts("abc", "model", dest.string());
  ASSERT_TRUE(written.ok()) << written.status().ToString();
  ASSERT_EQ(written->size(), 1u);
  EXPECT_EQ((*written)[0], (dest / "model" / "x.bin").string());
  std::ifstream in(dest / "model" / "x.bin");
  std::string content;
  in >> content;
  EXPECT_EQ(content, "xyz");
  EXPECT_EQ(fake_->exchanges().at(2).target,
            "/api/2.0/mlflow/artifacts/list?run_id=abc&path=model");
  fs::remove_all(dest);
}

TEST_F(TrackingClientTest, DownloadOfMissingArtifactIsNotFound) {
  fake_->Answer(200, R"({"run":{"info":{"run_id":"abc",
                         "artifact_uri":"mlflow-artifacts:/1/abc/artifacts"}}})");
  fake_->Answer(200, R"({"files":[]})");
  auto written = client_->DownloadArtifacts("abc", "nope.txt", "/tmp/unused");
  EXPECT_EQ(written.status().code(), StatusCode::kNotFound);
}

}  // namespace
}  // namespace cairn::client
