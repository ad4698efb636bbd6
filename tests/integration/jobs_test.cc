// End-to-end: `cairn jobs …` against the real `cairn server` binary, running real processes on
// local compute.
#include <gtest/gtest.h>
#include <signal.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>

#include "server_process.h"

namespace cairn::testing {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

void WriteFile(const fs::path& path, const std::string& bytes) {
  fs::create_directories(path.parent_path());
  std::ofstream(path, std::ios::binary | std::ios::trunc) << bytes;
}

// Logs a metric to its own run through MLflow's REST API (standard library only), reads its
// dataset input, writes an output file, and prints what its work folder holds.
constexpr const char* kTrainPy = R"py(import json, os, sys, time, urllib.request
uri = os.environ["MLFLOW_TRACKING_URI"]
run = os.environ["MLFLOW_RUN_ID"]
assert os.environ["CAIRN_RUN_ID"] == run
rows = len(open(sys.argv[1]).read().splitlines()) - 1
body = json.dumps({"run_id": run, "key": "rows", "value": rows,
                   "timestamp": int(time.time() * 1000), "step": 0}).encode()
request = urllib.request.Request(uri + "/api/2.0/mlflow/runs/log-metric", data=body,
                                 headers={"Content-Type": "application/json"})
urllib.request.urlopen(request).read()
with open(os.path.join(sys.argv[2], "model.txt"), "w") as f:
    f.write("rows=%d\n" % rows)
print("files:", " ".join(sorted(os.listdir("."))))
print("lr", sys.argv[3])
print("trained on", rows, "rows")
)py";

constexpr const char* kJobYaml = R"(name: train
command: /usr/bin/python3 train.py ${{inputs.train}} ${{outputs.model}} ${{inputs.lr}}
code: ./src
inputs:
  train: "dataset:churn@latest"
  lr: 0.1
outputs:
  model: {type: model}
experiment: jobs-it
resources: {timeout: 5m, memory: 1G}
)";

class JobsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = MakeTempDir("cairn-jobs-it");
    data_ = root_ + "/data";
    StartServer();
    WriteFile(root_ + "/work/churn.csv", "id,churn\n1,yes\n2,no\n3,no\n");
    CommandResult snap = Cairn({"data", "snapshot", "churn", root_ + "/work/churn.csv"});
    ASSERT_EQ(snap.exit_code, 0) << snap.err;
    WriteFile(root_ + "/work/src/train.py", kTrainPy);
    WriteFile(root_ + "/work/src/.gitignore", "*.log\n__pycache__/\n");
    WriteFile(root_ + "/work/src/debug.log", "not code\n");
    WriteFile(root_ + "/work/src/.git/HEAD", "ref: refs/heads/main\n");
    WriteFile(root_ + "/work/job.yaml", kJobYaml);
  }
  void TearDown() override {
    server_.reset();
    if (!root_.empty()) fs::remove_all(root_);
  }

  void StartServer() {
    server_ = ServerProcess::Start(data_, {"--local-job-slots", "1"});
    ASSERT_NE(server_, nullptr) << "cairn server did not start";
  }

  CommandResult Cairn(std::vector<std::string> args) { return RunCairn(args, server_->url()); }

  json Json(const CommandResult& r) {
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return json::parse(r.out, nullptr, false);
  }

  json Show(const std::string& id) { return Json(Cairn({"jobs", "show", id, "--output", "json"})); }

  // Asks until the job is in `state` (the server answers at once; the job changes on its own).
  json AwaitState(const std::string& id, const std::string& state) {
    json job;
    for (int i = 0; i < 600; ++i) {
      job = Show(id);
      if (job.value("state", "") == state) return job;
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    ADD_FAILURE() << "job " << id << " never reached " << state << ": " << job.dump();
    return job;
  }

  json GetRun(const std::string& run_id) {
    auto http = server_->NewClient();
    auto r = http->Send("GET", "/api/2.0/mlflow/runs/get?run_id=" + run_id);
    EXPECT_TRUE(r.ok());
    return json::parse(r->body, nullptr, false)["run"];
  }

  std::string Artifact(const json& run, const std::string& path) {
    std::string uri = run["info"]["artifact_uri"];  // mlflow-artifacts:/…
    auto http = server_->NewClient();
    auto r =
        http->Send("GET", "/api/2.0/mlflow-artifacts/artifacts/" + uri.substr(18) + "/" + path);
    EXPECT_TRUE(r.ok());
    return r.ok() && r->status == 200 ? r->body : "<" + std::to_string(r->status) + ">";
  }

  static std::string Tag(const json& run, const std::string& key) {
    for (const auto& t : run["data"].value("tags", json::array())) {
      if (t["key"] == key) return t["value"];
    }
    return "";
  }

  std::string Submit(const std::string& yaml_path) {
    CommandResult r = Cairn({"jobs", "submit", yaml_path});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    std::string id = r.out.substr(0, r.out.find('\n'));
    EXPECT_EQ(id.size(), 32u) << r.out;
    return id;
  }

  std::string root_, data_;
  std::unique_ptr<ServerProcess> server_;
};

TEST_F(JobsTest, PythonJobLogsToItsRunReadsItsDatasetAndStoresItsOutput) {
  CommandResult r = Cairn(
      {"jobs", "submit", root_ + "/work/job.yaml", "--wait", "--param", "lr=0.5", "-o", "json"});
  ASSERT_EQ(r.exit_code, 0) << r.err << r.out;
  json job = json::parse(r.out, nullptr, false);
  EXPECT_EQ(job["state"], "succeeded") << job.dump();
  EXPECT_EQ(job["exit_code"], 0);
  EXPECT_EQ(job["spec"]["inputs"]["train"]["value"], "churn@v1");  // pinned at submission

  json run = GetRun(job["run_id"]);
  EXPECT_EQ(run["info"]["status"], "FINISHED");
  EXPECT_TRUE(run["info"].contains("end_time"));
  ASSERT_TRUE(run["data"].contains("metrics")) << run.dump();
  EXPECT_EQ(run["data"]["metrics"][0]["key"], "rows");
  EXPECT_EQ(run["data"]["metrics"][0]["value"], 3);
  EXPECT_EQ(Tag(run, "cairn.job.id"), job["id"]);
  EXPECT_EQ(Tag(run, "cairn.code.digest"), job["code_digest"]);
  EXPECT_EQ(Tag(run, "cairn.code.digest").size(), 64u);
  EXPECT_EQ(Tag(run, "cairn.input.train").substr(0, 9), "churn@v1+");
  EXPECT_EQ(Tag(run, "mlflow.source.name"), "job.yaml");
  EXPECT_NE(Tag(run, "cairn.command").find("train.py"), std::string::npos);
  EXPECT_EQ(Artifact(run, "outputs/model/model.txt"), "rows=3\n");
  std::string stdout_text = Artifact(run, "logs/stdout.txt");
  // .gitignore'd files and .git/ stay out of the snapshot.
  EXPECT_NE(stdout_text.find("files: .gitignore train.py\n"), std::string::npos) << stdout_text;
  EXPECT_NE(stdout_text.find("lr 0.5\n"), std::string::npos) << stdout_text;

  CommandResult logs = Cairn({"jobs", "logs", job["id"]});
  EXPECT_EQ(logs.exit_code, 0) << logs.err;
  EXPECT_EQ(logs.out, stdout_text);

  CommandResult list = Cairn({"jobs", "list"});
  EXPECT_EQ(list.exit_code, 0);
  EXPECT_NE(list.out.find(job["id"].get<std::string>()), std::string::npos);
  EXPECT_NE(list.out.find("succeeded"), std::string::npos);
}

TEST_F(JobsTest, FailingJobFailsItsRunWithItsExitCode) {
  WriteFile(root_ + "/work/fail.yaml", "command: echo going down >&2; exit 3\n");
  CommandResult r = Cairn({"jobs", "submit", root_ + "/work/fail.yaml", "--wait"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("failed: exit code 3"), std::string::npos) << r.err;
  json jobs = Json(Cairn({"jobs", "list", "--state", "failed", "-o", "json"}));
  ASSERT_EQ(jobs["jobs"].size(), 1u);
  json job = jobs["jobs"][0];
  EXPECT_EQ(job["exit_code"], 3);
  json run = GetRun(job["run_id"]);
  EXPECT_EQ(run["info"]["status"], "FAILED");
  EXPECT_EQ(Artifact(run, "logs/stderr.txt"), "going down\n");
  CommandResult err = Cairn({"jobs", "logs", job["id"], "--stream", "stderr"});
  EXPECT_EQ(err.out, "going down\n");
}

TEST_F(JobsTest, BadJobFilesAreRejectedBeforeAnythingRuns) {
  WriteFile(root_ + "/work/bad.yaml", "command: x\nresources:\n  memory: lots\n");
  CommandResult r = Cairn({"jobs", "submit", root_ + "/work/bad.yaml"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.err,
            "error: " + root_ +
                "/work/bad.yaml:3: resources.memory: 'lots' is not a size (like 512M, 4G)\n");
  WriteFile(root_ + "/work/ref.yaml", "command: run ${{inputs.data}}\n");
  r = Cairn({"jobs", "submit", root_ + "/work/ref.yaml"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("ref.yaml:1: command: ${{inputs.data}} names no declared input"),
            std::string::npos)
      << r.err;
  WriteFile(root_ + "/work/nodata.yaml",
            "command: cat ${{inputs.d}}\ninputs: {d: \"dataset:nope@v2\"}\n");
  r = Cairn({"jobs", "submit", root_ + "/work/nodata.yaml"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("inputs.d: "), std::string::npos) << r.err;
  EXPECT_EQ(Json(Cairn({"jobs", "list", "-o", "json"}))["jobs"].size(), 0u);

  auto http = server_->NewClient();
  auto api = http->Send("POST", "/api/v1/jobs", R"({"spec": {"command": ""}})",
                        {{"content-type", "application/json"}});
  ASSERT_TRUE(api.ok());
  EXPECT_EQ(api->status, 400);
  EXPECT_EQ(json::parse(api->body)["error_code"], "INVALID_PARAMETER_VALUE");
  auto missing = http->Send("GET", "/api/v1/jobs/0123");
  ASSERT_TRUE(missing.ok());
  EXPECT_EQ(missing->status, 404);
}

TEST_F(JobsTest, CancelEndsARunningJobAndFollowSeesItsLogToTheEnd) {
  WriteFile(root_ + "/work/long.yaml", "command: echo started; sleep 120; echo never\n");
  std::string id = Submit(root_ + "/work/long.yaml");
  AwaitState(id, "running");
  for (int i = 0; i < 600 && Cairn({"jobs", "logs", id}).out.empty(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  CommandResult follow;
  std::thread follower([&] { follow = Cairn({"jobs", "logs", id, "--follow"}); });
  CommandResult cancel = Cairn({"jobs", "cancel", id});
  EXPECT_EQ(cancel.exit_code, 0) << cancel.err;
  follower.join();  // returns once the job has ended and its log is read to the end
  EXPECT_EQ(follow.exit_code, 0) << follow.err;
  EXPECT_EQ(follow.out, "started\n");
  json job = AwaitState(id, "cancelled");
  EXPECT_EQ(GetRun(job["run_id"])["info"]["status"], "KILLED");
  CommandResult again = Cairn({"jobs", "cancel", id});
  EXPECT_EQ(again.exit_code, 1);
  EXPECT_NE(again.err.find("already ended (cancelled)"), std::string::npos) << again.err;
}

// One slot: the second job waits in the queue. The server stops and starts again; the first
// job is re-attached (still running), the second still queued, and runs once the first ends.
TEST_F(JobsTest, QueuedJobSurvivesARestart) {
  WriteFile(root_ + "/work/long.yaml", "command: sleep 120\n");
  WriteFile(root_ + "/work/short.yaml", "command: echo second\n");
  std::string first = Submit(root_ + "/work/long.yaml");
  AwaitState(first, "running");
  std::string second = Submit(root_ + "/work/short.yaml");
  EXPECT_EQ(Show(second)["state"], "queued");

  EXPECT_EQ(server_->Stop(SIGTERM), 0);
  StartServer();
  EXPECT_EQ(Show(first)["state"], "running");
  EXPECT_EQ(Show(second)["state"], "queued");
  EXPECT_EQ(Cairn({"jobs", "cancel", first}).exit_code, 0);
  AwaitState(first, "cancelled");
  json done = AwaitState(second, "succeeded");
  EXPECT_EQ(Cairn({"jobs", "logs", second}).out, "second\n");
  EXPECT_EQ(GetRun(done["run_id"])["info"]["status"], "FINISHED");
}

}  // namespace
}  // namespace cairn::testing
