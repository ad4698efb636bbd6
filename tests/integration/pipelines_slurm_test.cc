// End-to-end: pipelines whose steps are jobs on a real one-node Slurm cluster
// (tests/support/slurm_cluster.h), through the real `cairn server --slurm-conf`:
//  - examples/churn_release_slurm.yaml as shipped: snapshot → train (examples/train_job/train.py
//    as a Slurm job) → compare → register → approval by another user → canary deploy;
//  - a server killed with `kill -9` while a job.command step's job runs on Slurm: after the
//    restart the step re-attaches to the same job (no second job) and the run finishes.
// Skipped where slurm-wlm and munge are not installed.
#include <gtest/gtest.h>
#include <signal.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <thread>

#include "server_process.h"
#include "slurm_cluster.h"

namespace cairn::testing {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

const std::string kTelco = std::string(CAIRN_SOURCE_DIR) + "/../shared/data/telco_churn.csv";
const std::string kExample = std::string(CAIRN_SOURCE_DIR) + "/examples/churn_release_slurm.yaml";

void WriteFile(const fs::path& path, const std::string& text) {
  fs::create_directories(path.parent_path());
  std::ofstream(path, std::ios::trunc) << text;
}

json StepOf(const json& run, const std::string& id) {
  for (const json& s : run["steps"]) {
    if (s["step_id"] == id) return s;
  }
  ADD_FAILURE() << "no step " << id << " in " << run.dump(2);
  return json::object();
}

json CairnJson(const std::string& url, std::vector<std::string> args) {
  args.insert(args.begin(), {"--output", "json"});
  CommandResult r = RunCairn(args, url);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  return json::parse(r.out, nullptr, false);
}

// Polls `check` (one CLI call per try; the work polled for is training and Slurm scheduling)
// until it returns a non-null value.
json PollFor(const std::function<json()>& check, const std::string& what) {
  for (int i = 0; i < 3000; ++i) {
    json j = check();
    if (!j.is_null()) return j;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  ADD_FAILURE() << "never saw: " << what;
  return json();
}

bool Ended(const json& run) { return run["status"] != "queued" && run["status"] != "running"; }

class PipelinesSlurmTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    auto cluster = SlurmCluster::Start();
    if (!cluster.ok()) {
      start_status_ = new Status(cluster.status());
      return;
    }
    cluster_ = std::move(cluster).value().release();
    dir_ = new std::string(MakeTempDir("cairn_pipelines_slurm_it"));
  }
  static void TearDownTestSuite() {
    if (dir_) fs::remove_all(*dir_);
    delete dir_;
    dir_ = nullptr;
    delete cluster_;  // cancels whatever jobs are left
    cluster_ = nullptr;
    delete start_status_;
    start_status_ = nullptr;
  }
  void SetUp() override {
    if (start_status_ != nullptr) {
      if (start_status_->code() == StatusCode::kFailedPrecondition) {
        GTEST_SKIP() << start_status_->message();
      }
      FAIL() << "the Slurm test cluster did not start: " << start_status_->ToString();
    }
  }

  static std::unique_ptr<ServerProcess> StartServer(const std::string& data) {
    return ServerProcess::Start(data, {"--slurm-conf", cluster_->conf_path()});
  }
  static json Show(const std::string& url, const std::string& run) {
    return CairnJson(url, {"pipelines", "show", run});
  }

  static SlurmCluster* cluster_;
  static Status* start_status_;
  static std::string* dir_;
};

SlurmCluster* PipelinesSlurmTest::cluster_ = nullptr;
Status* PipelinesSlurmTest::start_status_ = nullptr;
std::string* PipelinesSlurmTest::dir_ = nullptr;

TEST_F(PipelinesSlurmTest, ExampleReleaseTrainsOnSlurmAndDeploysACanaryAfterApproval) {
  auto server = StartServer(*dir_ + "/release");
  ASSERT_NE(server, nullptr);
  const std::string url = server->url();

  CommandResult valid = RunCairn({"pipelines", "validate", kExample}, url);
  ASSERT_EQ(valid.exit_code, 0) << valid.err;
  // What the endpoint serves before the release (a quick in-server model, not the champion),
  // so that the canary has something to ramp up beside.
  ASSERT_EQ(RunCairn({"data", "snapshot", "telco-before", kTelco}, url).exit_code, 0);
  CommandResult before = RunCairn({"train", "--data", "telco-before", "--target", "churn",
                                   "--register", "churn-before", "--param",
                                   "num_boost_round=5"},
                                  url);
  ASSERT_EQ(before.exit_code, 0) << before.err;
  ASSERT_EQ(RunCairn({"endpoints", "create", "churn"}, url).exit_code, 0);
  CommandResult blue = RunCairn({"deployments", "create", "--endpoint", "churn", "--name", "blue",
                                 "--model", "models:/churn-before/1"},
                                url);
  ASSERT_EQ(blue.exit_code, 0) << blue.err;
  ASSERT_EQ(RunCairn({"endpoints", "traffic", "churn", "blue=100"}, url).exit_code, 0);

  json started = CairnJson(url, {"pipelines", "--user", "ana", "run", kExample, "--param",
                                 "data_path=" + kTelco, "--param", "canary_interval=1s"});
  ASSERT_TRUE(started.is_object()) << started;
  const std::string run = started["run_id"];

  json waiting = PollFor(
      [&]() -> json {
        json r = Show(url, run);
        return Ended(r) || StepOf(r, "approve")["status"] == "waiting" ? r : json();
      },
      "the approval gate waiting");
  ASSERT_EQ(StepOf(waiting, "approve")["status"], "waiting") << waiting.dump(2);

  // The training step was a job that Slurm ran; its run finished and holds the model.
  const json train = StepOf(waiting, "train");
  EXPECT_EQ(train["status"], "succeeded");
  const std::string job_id = train["outputs"]["job_id"];
  const std::string train_run = train["outputs"]["run_id"];
  EXPECT_EQ(train["mlflow_run_id"], train_run);
  EXPECT_EQ(train["outputs"]["model_uri"], "runs:/" + train_run + "/outputs/model");
  json job = CairnJson(url, {"jobs", "show", job_id});
  EXPECT_EQ(job["compute"], "slurm");
  EXPECT_EQ(job["state"], "succeeded");
  const std::string handle = job["executor_handle"];
  ASSERT_FALSE(handle.empty());
  EXPECT_EQ(handle.find_first_not_of("0123456789"), std::string::npos) << handle;
  auto shown = cluster_->Run({"scontrol", "-o", "show", "job", handle});
  ASSERT_TRUE(shown.ok());
  EXPECT_NE(shown->out.find("JobName=cairn-" + job_id), std::string::npos) << shown->out;

  json mlflow_run = CairnJson(url, {"runs", "get", train_run});
  const std::string run_text = mlflow_run.dump();
  EXPECT_NE(run_text.find("\"FINISHED\""), std::string::npos) << run_text;
  EXPECT_NE(run_text.find("\"auc\""), std::string::npos) << run_text;        // logged by train.py
  EXPECT_NE(run_text.find("\"max_depth\""), std::string::npos) << run_text;  // over REST
  EXPECT_NE(run_text.find(waiting["mlflow_run_id"].get<std::string>()), std::string::npos)
      << "the train run is a child of the pipeline's run: " << run_text;

  // The job's model was compared (no champion yet) and registered from its run.
  EXPECT_EQ(StepOf(waiting, "compare")["outputs"]["better"], "true");
  EXPECT_FALSE(StepOf(waiting, "compare")["outputs"]["candidate_auc"].get<std::string>().empty());
  EXPECT_EQ(StepOf(waiting, "register")["outputs"]["version"], "1");
  auto client = server->NewClient();
  auto version =
      client->Send("GET", "/api/2.0/mlflow/model-versions/get?name=churn&version=1");
  ASSERT_TRUE(version.ok() && version->status == 200);
  EXPECT_EQ(json::parse(version->body)["model_version"]["source"],
            "runs:/" + train_run + "/outputs/model")
      << version->body;

  // ana started the run, so bob approves; the canary then goes 10 → 50 → 100 %.
  CommandResult self = RunCairn({"pipelines", "--user", "ana", "approve", run, "approve"}, url);
  EXPECT_EQ(self.exit_code, 1);
  CommandResult approve =
      RunCairn({"pipelines", "--user", "bob", "approve", run, "approve"}, url);
  ASSERT_EQ(approve.exit_code, 0) << approve.err;
  json done = PollFor(
      [&]() -> json {
        json r = Show(url, run);
        return Ended(r) ? r : json();
      },
      "the run ending");
  ASSERT_EQ(done["status"], "succeeded") << done.dump(2)
                                         << RunCairn({"pipelines", "logs", run}, url).out;
  const json deploy = StepOf(done, "deploy");
  EXPECT_EQ(deploy["outputs"]["strategy"], "canary");
  EXPECT_EQ(deploy["outputs"]["deployment"], "green");
  EXPECT_EQ(deploy["outputs"]["previous"], "blue");
  const std::string deploy_log = RunCairn({"pipelines", "logs", run, "deploy"}, url).out;
  EXPECT_NE(deploy_log.find("green=10%"), std::string::npos) << deploy_log;
  EXPECT_NE(deploy_log.find("green=50%"), std::string::npos) << deploy_log;
  EXPECT_NE(deploy_log.find("green=100%"), std::string::npos) << deploy_log;
  json endpoint = CairnJson(url, {"endpoints", "show", "churn"});
  std::map<std::string, int64_t> traffic;
  std::map<std::string, std::string> models;
  for (const json& d : endpoint["deployments"]) {
    traffic[d["name"]] = d["traffic"];
    models[d["name"]] = d["model_uri"];
  }
  EXPECT_EQ(traffic["green"], 100) << endpoint.dump(2);
  EXPECT_EQ(models["green"], "models:/churn/1");
  EXPECT_EQ(traffic["blue"], 0);

  // The endpoint scores with the job's model: categorical columns as the script encoded them.
  auto scored = client->Send("POST", "/endpoints/churn/invocations",
                             R"({"dataframe_records": [{"female": 1, "senior_citizen": 0,
    "partner": 1, "dependents": 0, "tenure": 1, "phone_service": 0,
    "multiple_lines": "No phone service", "internet_service": "DSL", "online_security": "No",
    "online_backup": "Yes", "device_protection": "No", "tech_support": "No",
    "streaming_tv": "No", "streaming_movies": "No", "contract": "Month-to-month",
    "paperless_billing": 1, "payment_method": "Electronic check", "monthly_charges": 29.85,
    "total_charges": 29.85}]})",
                             {{"content-type", "application/json"}});
  ASSERT_TRUE(scored.ok());
  EXPECT_EQ(scored->status, 200) << scored->body;
}

TEST_F(PipelinesSlurmTest, AKilledServerReattachesToTheRunningSlurmJob) {
  const std::string data = *dir_ + "/reattach";
  const std::string gate = *dir_ + "/reattach-gate";
  const std::string file = *dir_ + "/reattach.yaml";
  // The job says it has started, then waits for a file the test creates.
  WriteFile(file, R"(name: reattach
params: {gate: ~}
steps:
  work:
    uses: job.command
    with:
      compute: slurm
      spec:
        name: wait-for-gate
        command: 'echo started; while [ ! -e "$GATE" ]; do sleep 0.1; done; echo done'
        environment: {vars: {GATE: "${{ params.gate }}"}}
)");
  auto server = StartServer(data);
  ASSERT_NE(server, nullptr);
  json started = CairnJson(server->url(), {"pipelines", "run", file, "--param", "gate=" + gate});
  ASSERT_TRUE(started.is_object());
  const std::string run = started["run_id"];

  // Wait until the job is running on the node (it printed "started").
  json running = PollFor(
      [&]() -> json {
        json jobs = CairnJson(server->url(), {"jobs", "list"});
        if (!jobs.is_object() || jobs["jobs"].size() != 1) return json();
        json job = jobs["jobs"][0];
        if (job["state"] != "running") return json();
        CommandResult logs = RunCairn({"jobs", "logs", job["id"]}, server->url());
        return logs.out == "started\n" ? job : json();
      },
      "the Slurm job running");
  ASSERT_TRUE(running.is_object());
  const std::string job_id = running["id"];
  const std::string handle = running["executor_handle"];
  EXPECT_EQ(server->Stop(SIGKILL), 128 + SIGKILL);

  auto restarted = StartServer(data);
  ASSERT_NE(restarted, nullptr);
  const std::string url = restarted->url();
  // The job outlived the server (Slurm runs it) and the restarted server still tracks it.
  json after = CairnJson(url, {"jobs", "show", job_id});
  EXPECT_EQ(after["state"], "running") << after.dump(2);
  EXPECT_EQ(after["executor_handle"], handle);

  WriteFile(gate, "go\n");
  json done = PollFor(
      [&]() -> json {
        json r = Show(url, run);
        return Ended(r) ? r : json();
      },
      "the run ending");
  ASSERT_EQ(done["status"], "succeeded") << done.dump(2);
  const json work = StepOf(done, "work");
  EXPECT_EQ(work["outputs"]["job_id"], job_id);
  EXPECT_EQ(work["attempt"], 2);  // cut short by the kill, so run again — and re-attached
  json jobs = CairnJson(url, {"jobs", "list"});
  EXPECT_EQ(jobs["jobs"].size(), 1u) << "a second job was submitted: " << jobs.dump(2);
  json job = CairnJson(url, {"jobs", "show", job_id});
  EXPECT_EQ(job["state"], "succeeded");
  EXPECT_EQ(job["executor_handle"], handle);
  EXPECT_EQ(RunCairn({"jobs", "logs", job_id}, url).out, "started\ndone\n");
  CommandResult logs = RunCairn({"pipelines", "logs", run, "work"}, url);
  EXPECT_NE(logs.out.find("found job " + job_id + " (running) from an earlier attempt"),
            std::string::npos)
      << logs.out;
  json mlflow_run = CairnJson(url, {"runs", "get", job["run_id"]});
  EXPECT_NE(mlflow_run.dump().find("\"FINISHED\""), std::string::npos) << mlflow_run.dump(2);
}

}  // namespace
}  // namespace cairn::testing
