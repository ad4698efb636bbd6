// /api/v1/jobs through the router, without a socket: the wire format and its errors.
#include <gtest/gtest.h>

#include <filesystem>

#include "api/v1/job_routes.h"
#include "blob/local_blob_store.h"
#include "compute/local_executor.h"
#include "core/ids.h"
#include "store/sqlite/sqlite_metadata_store.h"

namespace cairn::api::v1 {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

class JobsApiTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("cairn-jobs-api-" + NewUuidHex());
    fs::create_directories(dir_);
    store_ =
        std::move(store::SqliteMetadataStore::Open((dir_ / "meta.db").string(), clock_)).value();
    blobs_ = std::move(blob::LocalBlobStore::Create((dir_ / "blobs").string())).value();
    tracking_ = std::make_unique<tracking::TrackingService>(*store_, clock_);
    artifacts_ = std::make_unique<tracking::ArtifactService>(*store_, *blobs_);
    datasets_ = std::make_unique<datasets::DatasetService>(*store_, *blobs_, clock_);
    executor_ = std::make_unique<compute::LocalExecutor>(compute::LocalExecutorOptions{.slots = 1});
    jobs::JobServiceOptions options;
    options.data_dir = dir_.string();
    options.poll_interval = std::chrono::milliseconds(20);
    service_ = std::make_unique<jobs::JobService>(
        *store_, *blobs_, *tracking_, *artifacts_, *datasets_,
        std::map<std::string, compute::Executor*>{{"local", executor_.get()}}, clock_, options);
    ASSERT_TRUE(service_->Start("http://127.0.0.1:1").ok());
    RegisterJobRoutes(router_, *service_);
  }
  void TearDown() override {
    service_.reset();
    fs::remove_all(dir_);
  }

  http::HttpResponse Call(const std::string& method, const std::string& target,
                          const std::string& body = "") {
    http::HttpRequest req;
    req.method = method;
    req.target = target;
    size_t q = target.find('?');
    req.path = http::PercentDecode(target.substr(0, q));
    req.query = q == std::string::npos ? "" : target.substr(q + 1);
    req.body = body;
    return router_.Dispatch(req);
  }

  FakeClock clock_;
  fs::path dir_;
  std::unique_ptr<store::SqliteMetadataStore> store_;
  std::unique_ptr<blob::LocalBlobStore> blobs_;
  std::unique_ptr<tracking::TrackingService> tracking_;
  std::unique_ptr<tracking::ArtifactService> artifacts_;
  std::unique_ptr<datasets::DatasetService> datasets_;
  std::unique_ptr<compute::LocalExecutor> executor_;
  std::unique_ptr<jobs::JobService> service_;
  http::Router router_;
};

TEST_F(JobsApiTest, SubmitShowLogsListAndCancel) {
  auto r =
      Call("POST", "/api/v1/jobs",
           R"({"spec": {"name": "hello", "command": "echo hi; echo oops >&2"}, "user": "ann"})");
  ASSERT_EQ(r.status, 200) << r.body;
  json job = json::parse(r.body)["job"];
  EXPECT_EQ(job["name"], "hello");
  EXPECT_EQ(job["state"], "queued");
  EXPECT_EQ(job["exit_code"], nullptr);
  EXPECT_EQ(job["spec"]["compute"], "local");
  std::string id = job["id"];
  ASSERT_TRUE(service_->WaitForState(id, {}, std::chrono::seconds(60)).ok());

  r = Call("GET", "/api/v1/jobs/" + id);
  ASSERT_EQ(r.status, 200);
  job = json::parse(r.body)["job"];
  EXPECT_EQ(job["state"], "succeeded");
  EXPECT_EQ(job["exit_code"], 0);

  r = Call("GET", "/api/v1/jobs/" + id + "/logs");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "hi\n");
  EXPECT_EQ(r.Header("x-cairn-log-offset"), "3");
  EXPECT_EQ(r.Header("x-cairn-log-complete"), "true");
  r = Call("GET", "/api/v1/jobs/" + id + "/logs?stream=stderr&offset=2");
  EXPECT_EQ(r.body, "ps\n");
  r = Call("GET", "/api/v1/jobs/" + id + "/logs?stream=both");
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(json::parse(r.body)["error_code"], "INVALID_PARAMETER_VALUE");
  r = Call("GET", "/api/v1/jobs/" + id + "/logs?offset=-1");
  EXPECT_EQ(r.status, 400);

  r = Call("GET", "/api/v1/jobs?state=succeeded");
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(json::parse(r.body)["jobs"].size(), 1u);
  r = Call("GET", "/api/v1/jobs?state=queued");
  EXPECT_EQ(json::parse(r.body)["jobs"].size(), 0u);
  r = Call("GET", "/api/v1/jobs?state=done");
  EXPECT_EQ(r.status, 400);

  r = Call("POST", "/api/v1/jobs/" + id + "/cancel");
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(json::parse(r.body)["error_code"], "INVALID_STATE");
  r = Call("GET", "/api/v1/jobs/nope");
  EXPECT_EQ(r.status, 404);
  EXPECT_EQ(json::parse(r.body)["error_code"], "RESOURCE_DOES_NOT_EXIST");
}

TEST_F(JobsApiTest, BadSubmissionsNameTheField) {
  auto message = [&](const std::string& body) {
    auto r = Call("POST", "/api/v1/jobs", body);
    EXPECT_EQ(r.status, 400) << r.body;
    return json::parse(r.body, nullptr, false).value("message", "");
  };
  EXPECT_EQ(message("[]"), "request body: expected a JSON object {\"spec\", \"code\"?}");
  EXPECT_EQ(message("{}"), "spec: required");
  EXPECT_EQ(message(R"({"spec": {"command": "x", "resources": {"memory_bytes": "1G"}}})"),
            "spec.resources.memory_bytes: expected an integer");
  EXPECT_EQ(message(R"({"spec": {"command": "x ${{outputs.o}}"}})"),
            "spec: command: ${{outputs.o}} names no declared output");
  EXPECT_EQ(
      message(
          R"({"spec": {"command": "x", "inputs": {"a": {"kind": "path", "value": "inputs/a/f"}}}})"),
      "inputs.a: 'inputs/a/f' is not in the job's code snapshot (upload it as inputs/a/…)");
  EXPECT_EQ(
      message(
          R"({"spec": {"command": "x"}, "code": {"files": [{"path": "../x", "manifest": ""}]}})"),
      "code snapshot: '../x' is not a normalized path");
  auto r = Call(
      "POST", "/api/v1/jobs",
      R"({"spec": {"command": "x"}, "code": {"files": [{"path": "code/a.py", "manifest": "cairn-file-manifest 1\npath code/a.py\nsize 3\nsha256 )" +
          std::string(64, 'a') + R"(\nchunker 16 64 256\nchunk )" + std::string(64, 'b') +
          R"( 3\n"}]}})");
  EXPECT_EQ(r.status, 400) << r.body;
  EXPECT_NE(r.body.find("has not been uploaded"), std::string::npos) << r.body;
}

}  // namespace
}  // namespace cairn::api::v1
