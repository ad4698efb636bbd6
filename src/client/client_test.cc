#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <deque>
#include <filesystem>
#include <fstream>
#include <limits>

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

TEST(MlflowJsonTest, ParsesDoublesAsNumbersOrStrings) {
  EXPECT_EQ(*ParseDouble(Json(0.5)), 0.5);
  EXPECT_EQ(*ParseDouble(Json(3)), 3.0);
  EXPECT_TRUE(std::isnan(*ParseDouble(Json("NaN"))));
  EXPECT_TRUE(std::isnan(*ParseDouble(Json(nullptr))));
  EXPECT_EQ(*ParseDouble(Json("Infinity")), std::numeric_limits<double>::infinity());
  EXPECT_EQ(*ParseDouble(Json("-Infinity")), -std::numeric_limits<double>::infinity());
  EXPECT_EQ(*ParseDouble(Json("inf")), std::numeric_limits<double>::infinity());
  EXPECT_EQ(*ParseDouble(Json("1.25")), 1.25);
  EXPECT_FALSE(ParseDouble(Json("abc")).ok());
  EXPECT_FALSE(ParseDouble(Json::array()).ok());
}

TEST(MlflowJsonTest, ParsesInt64AsNumbersOrStrings) {
  EXPECT_EQ(*ParseInt64(Json(1700000000123)), 1700000000123);
  EXPECT_EQ(*ParseInt64(Json("1700000000123")), 1700000000123);
  EXPECT_EQ(*ParseInt64(Json("-5")), -5);
  EXPECT_EQ(*ParseInt64(Json(42.0)), 42);
  EXPECT_FALSE(ParseInt64(Json("12x")).ok());
  EXPECT_FALSE(ParseInt64(Json(1.5)).ok());
  EXPECT_FALSE(ParseInt64(Json(true)).ok());
}

TEST(MlflowJsonTest, WritesSpecialDoublesAsStrings) {
  EXPECT_EQ(DoubleToJson(std::nan("")), Json("NaN"));
  EXPECT_EQ(DoubleToJson(std::numeric_limits<double>::infinity()), Json("Infinity"));
  EXPECT_EQ(DoubleToJson(-std::numeric_limits<double>::infinity()), Json("-Infinity"));
  EXPECT_EQ(DoubleToJson(0.25), Json(0.25));
}

TEST(MlflowJsonTest, ParsesExperimentWithStringTimestamps) {
  Json j =
      Json::parse(R"({"experiment_id":"3","name":"churn","artifact_location":"mlflow-artifacts:/3",
      "lifecycle_stage":"deleted","creation_time":"1700000000000","last_update_time":1700000000500,
      "tags":[{"key":"team","value":"ml"}]})");
  auto e = ExperimentFromJson(j);
  ASSERT_TRUE(e.ok()) << e.status().ToString();
  EXPECT_EQ(e->experiment_id, "3");
  EXPECT_EQ(e->name, "churn");
  EXPECT_EQ(e->lifecycle_stage, LifecycleStage::kDeleted);
  EXPECT_EQ(e->creation_time, 1700000000000);
  EXPECT_EQ(e->last_update_time, 1700000000500);
  ASSERT_EQ(e->tags.size(), 1u);
  EXPECT_EQ(e->tags[0], (Tag{"team", "ml"}));
}

TEST(MlflowJsonTest, RejectsMalformedExperiment) {
  EXPECT_EQ(ExperimentFromJson(Json::parse(R"({"name": 5})")).status().code(),
            StatusCode::kInternal);
  EXPECT_EQ(ExperimentFromJson(Json::parse(R"({"creation_time": "soon"})")).status().code(),
            StatusCode::kInternal);
}

constexpr const char* kRunJson = R"({
  "info": {"run_uuid":"abc","experiment_id":"1","user_id":"ann","status":"FINISHED",
           "start_time":"1700000000000","end_time":1700000060000,
           "artifact_uri":"mlflow-artifacts:/1/abc/artifacts","lifecycle_stage":"active"},
  "data": {"metrics":[{"key":"auc","value":"NaN","timestamp":"1","step":"2"},
                      {"key":"loss","value":0.5,"timestamp":1,"step":0}],
           "params":[{"key":"depth","value":"6"}],
           "tags":[{"key":"mlflow.runName","value":"brave-fox"}]},
  "inputs": {"dataset_inputs":[{"tags":[{"key":"mlflow.data.context","value":"training"}],
             "dataset":{"name":"churn","digest":"d1","source_type":"local","source":"/x.csv"}}]}
})";

TEST(MlflowJsonTest, ParsesRun) {
  auto run = RunFromJson(Json::parse(kRunJson));
  ASSERT_TRUE(run.ok()) << run.status().ToString();
  EXPECT_EQ(run->info.run_id, "abc");          // from the deprecated run_uuid
  EXPECT_EQ(run->info.run_name, "brave-fox");  // from the tag when run_name is absent
  EXPECT_EQ(run->info.status, RunStatus::kFinished);
  EXPECT_EQ(run->info.start_time, 1700000000000);
  EXPECT_EQ(run->info.end_time, 1700000060000);
  ASSERT_EQ(run->metrics.size(), 2u);
  EXPECT_TRUE(std::isnan(run->metrics[0].value));
  EXPECT_EQ(run->metrics[0].step, 2);
  EXPECT_EQ(run->params, (std::vector<Param>{{"depth", "6"}}));
  ASSERT_EQ(run->inputs.size(), 1u);
  EXPECT_EQ(run->inputs[0].name, "churn");
  EXPECT_EQ(run->inputs[0].tags[0].value, "training");
}

TEST(MlflowJsonTest, RunRoundTripsThroughJson) {
  auto run = RunFromJson(Json::parse(kRunJson));
  ASSERT_TRUE(run.ok());
  Json j = ToJson(*run);
  EXPECT_EQ(j["info"]["run_id"], "abc");
  EXPECT_EQ(j["info"]["run_uuid"], "abc");
  EXPECT_EQ(j["info"]["status"], "FINISHED");
  EXPECT_EQ(j["data"]["metrics"][0]["value"], "NaN");
  auto again = RunFromJson(j);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->info.end_time, run->info.end_time);
  EXPECT_EQ(again->inputs[0].source, "/x.csv");
  EXPECT_FALSE(ToJson(RunInfo{}).contains("end_time"));
}

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
