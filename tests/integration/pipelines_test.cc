// End-to-end: declarative pipelines on the real `cairn server` binary — snapshot → train →
// compare with the champion → register → approval gate (approved by another user through the
// CLI; a second run rejected) → endpoint.deploy blue-green; a server killed with a gate waiting
// resumes it; a canary of a faulty model (it expects a column the traffic does not send) is
// rolled back automatically; bad files are refused before anything runs.
#include <gtest/gtest.h>
#include <signal.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>

#include "server_process.h"

namespace cairn::testing {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

const std::string kTelco = std::string(CAIRN_SOURCE_DIR) + "/../shared/data/telco_churn.csv";

std::string ReadFile(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

void WriteFile(const fs::path& path, const std::string& text) {
  std::ofstream(path, std::ios::binary) << text;
}

// The example pipeline of the README, with the deploy strategy as a parameter.
const char kPipeline[] = R"(name: churn-release
experiment: churn-pipelines
params:
  data_path: ~
  force: "false"
  strategy: blue-green
steps:
  snapshot:
    uses: data.snapshot
    with: {name: telco, path: "${{ params.data_path }}"}
  train:
    uses: train.xgboost
    needs: snapshot
    with:
      data: telco@${{ steps.snapshot.outputs.version }}
      target: churn
      params: {max_depth: 3, num_boost_round: 30}
  compare:
    uses: model.compare
    needs: train
    with:
      candidate: ${{ steps.train.outputs.model_uri }}
      baseline: models:/churn@champion
      data: telco@${{ steps.snapshot.outputs.version }}
      metric: auc
      missing_baseline: better
  register:
    uses: model.register
    needs: [train, compare]
    if: ${{ steps.compare.outputs.better }} == 'true' || params.force == 'true'
    with:
      model: ${{ steps.train.outputs.model_uri }}
      name: churn
      alias: champion
  approve:
    uses: gate.approval
    needs: register
    with: {message: "Release churn v${{ steps.register.outputs.version }}?",
           require_other_approver: true}
  deploy:
    uses: endpoint.deploy
    needs: [register, approve]
    with:
      endpoint: churn
      model: models:/churn/${{ steps.register.outputs.version }}
      strategy: ${{ params.strategy }}
)";

class PipelinesTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new std::string(MakeTempDir("cairn_pipelines_it"));
    server_ = ServerProcess::Start(*dir_ + "/data").release();
    ASSERT_NE(server_, nullptr);
    WriteFile(*dir_ + "/release.yaml", kPipeline);
  }
  static void TearDownTestSuite() {
    delete server_;
    fs::remove_all(*dir_);
    delete dir_;
  }

  static CommandResult Cairn(std::vector<std::string> args) {
    return RunCairn(args, server_->url());
  }
  static json CairnJson(std::vector<std::string> args) {
    args.insert(args.begin(), {"--output", "json"});
    CommandResult r = Cairn(args);
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return json::parse(r.out, nullptr, false);
  }
  static std::string Start(const std::string& file, std::vector<std::string> params,
                           const std::string& user = "ana") {
    std::vector<std::string> args = {"pipelines", "--user", user, "run", file};
    for (const std::string& p : params) args.insert(args.end(), {"--param", p});
    json run = CairnJson(args);
    EXPECT_TRUE(run.is_object()) << run;
    return run.is_object() ? run.value("run_id", "") : "";
  }
  static json Show(const std::string& run) { return CairnJson({"pipelines", "show", run}); }
  static json StepOf(const json& run, const std::string& id) {
    for (const json& s : run["steps"]) {
      if (s["step_id"] == id) return s;
    }
    ADD_FAILURE() << "no step " << id << " in " << run;
    return json::object();
  }
  // Polls `pipelines show` until `pred` holds (each check is one CLI call; runs train models, so
  // this waits for work, not for time).
  static json WaitFor(const std::string& run, const std::function<bool(const json&)>& pred) {
    for (int i = 0; i < 1200; ++i) {
      json r = Show(run);
      if (!r.is_object()) return r;
      if (pred(r)) return r;
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    ADD_FAILURE() << "pipeline run " << run << " never reached the expected state";
    return Show(run);
  }
  static json WaitForStep(const std::string& run, const std::string& step,
                          const std::string& status) {
    return WaitFor(run, [&](const json& r) {
      const std::string run_status = r["status"];
      if (run_status != "queued" && run_status != "running") return true;  // ended: stop
      return StepOf(r, step)["status"] == status;
    });
  }
  static json WaitForEnd(const std::string& run) {
    return WaitFor(run, [](const json& r) {
      return r["status"] != "queued" && r["status"] != "running";
    });
  }

  static std::string* dir_;
  static ServerProcess* server_;
};

std::string* PipelinesTest::dir_ = nullptr;
ServerProcess* PipelinesTest::server_ = nullptr;

TEST_F(PipelinesTest, ValidateReportsEveryProblemWithFileLineAndStep) {
  const std::string ok = *dir_ + "/release.yaml";
  CommandResult good = Cairn({"pipelines", "validate", ok});
  EXPECT_EQ(good.exit_code, 0) << good.err;
  EXPECT_NE(good.out.find("is valid (6 steps)"), std::string::npos) << good.out;

  const std::string bad = *dir_ + "/bad.yaml";
  WriteFile(bad, R"(name: broken
steps:
  train:
    uses: train.xgb
  register:
    uses: model.register
    with: {model: "${{ steps.train.outputs.model_uri }}", name: churn}
  deploy:
    uses: endpoint.deploy
    needs: [register, nope]
    with: {endpoint: e, model: m, strategy: sideways}
)");
  CommandResult r = Cairn({"pipelines", "validate", bad});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find(bad + ":4: step 'train': unknown step type 'train.xgb'"),
            std::string::npos) << r.err;
  EXPECT_NE(r.err.find(bad + ":7: step 'register': with.model:"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find(bad + ":10: step 'deploy': needs: unknown step 'nope'"),
            std::string::npos) << r.err;
  EXPECT_NE(r.err.find(bad + ":11: step 'deploy': with.strategy: 'sideways'"),
            std::string::npos) << r.err;
  EXPECT_NE(r.err.find("error: " + bad + ": 4 problems"), std::string::npos) << r.err;

  // The server refuses it too, before anything runs; and unknown params.
  CommandResult run = Cairn({"pipelines", "run", bad});
  EXPECT_EQ(run.exit_code, 1);
  EXPECT_NE(run.err.find("unknown step type 'train.xgb'"), std::string::npos) << run.err;
  CommandResult param = Cairn({"pipelines", "run", ok, "--param", "colour=blue"});
  EXPECT_EQ(param.exit_code, 1);
  EXPECT_NE(param.err.find("param 'colour'"), std::string::npos) << param.err;
  CommandResult missing = Cairn({"pipelines", "run", ok});
  EXPECT_NE(missing.err.find("param 'data_path': required"), std::string::npos) << missing.err;
}

TEST_F(PipelinesTest, ReleaseWithApprovalRejectionAndBlueGreen) {
  // Run 1: no champion yet, so the candidate wins; ana may not approve her own run, bob does.
  const std::string first = Start(*dir_ + "/release.yaml", {"data_path=" + kTelco});
  json waiting = WaitForStep(first, "approve", "waiting");
  ASSERT_EQ(StepOf(waiting, "approve")["status"], "waiting") << waiting.dump(2);
  EXPECT_EQ(StepOf(waiting, "compare")["outputs"]["better"], "true");
  EXPECT_EQ(StepOf(waiting, "register")["outputs"]["version"], "1");
  EXPECT_EQ(StepOf(waiting, "train")["status"], "succeeded");
  EXPECT_FALSE(StepOf(waiting, "train")["mlflow_run_id"].get<std::string>().empty());

  CommandResult self = Cairn({"pipelines", "--user", "ana", "approve", first, "approve"});
  EXPECT_EQ(self.exit_code, 1);
  EXPECT_NE(self.err.find("needs an approver other than 'ana'"), std::string::npos) << self.err;
  CommandResult approve =
      Cairn({"pipelines", "--user", "bob", "approve", first, "approve", "--comment", "ship it"});
  ASSERT_EQ(approve.exit_code, 0) << approve.err;
  EXPECT_NE(approve.out.find("approved by bob"), std::string::npos) << approve.out;
  json done = WaitForEnd(first);
  ASSERT_EQ(done["status"], "succeeded") << done.dump(2);
  EXPECT_EQ(StepOf(done, "approve")["decided_by"], "bob");
  EXPECT_EQ(StepOf(done, "approve")["comment"], "ship it");
  EXPECT_EQ(StepOf(done, "deploy")["outputs"]["deployment"], "blue");
  EXPECT_EQ(StepOf(done, "deploy")["outputs"]["previous"], "");

  // The MLflow side: a parent run per pipeline run, the train run its child.
  const std::string parent = done["mlflow_run_id"];
  ASSERT_FALSE(parent.empty());
  json child = CairnJson({"runs", "get", StepOf(done, "train")["mlflow_run_id"]});
  EXPECT_NE(child.dump().find(parent), std::string::npos) << child.dump(2);

  // Run 2 (forced past compare): rejected at the gate, so the run fails and nothing deploys.
  const std::string second =
      Start(*dir_ + "/release.yaml", {"data_path=" + kTelco, "force=true"});
  ASSERT_EQ(StepOf(WaitForStep(second, "approve", "waiting"), "approve")["status"], "waiting");
  CommandResult reject = Cairn({"pipelines", "--user", "carol", "reject", second, "approve",
                                "-m", "not before the audit"});
  ASSERT_EQ(reject.exit_code, 0) << reject.err;
  json rejected = WaitForEnd(second);
  EXPECT_EQ(rejected["status"], "failed");
  EXPECT_EQ(rejected["error"], "step 'approve' failed: rejected by carol: not before the audit");
  EXPECT_EQ(StepOf(rejected, "deploy")["status"], "skipped");
  EXPECT_EQ(StepOf(rejected, "deploy")["error"], "skipped: needs 'approve', which failed");

  // Run 3: approved; blue-green puts the new version beside the old one and switches to it.
  const std::string third =
      Start(*dir_ + "/release.yaml", {"data_path=" + kTelco, "force=true"});
  ASSERT_EQ(StepOf(WaitForStep(third, "approve", "waiting"), "approve")["status"], "waiting");
  ASSERT_EQ(Cairn({"pipelines", "--user", "bob", "approve", third, "approve"}).exit_code, 0);
  json switched = WaitForEnd(third);
  ASSERT_EQ(switched["status"], "succeeded") << switched.dump(2);
  EXPECT_EQ(StepOf(switched, "register")["outputs"]["version"], "3");
  EXPECT_EQ(StepOf(switched, "deploy")["outputs"]["deployment"], "green");
  EXPECT_EQ(StepOf(switched, "deploy")["outputs"]["previous"], "blue");
  json endpoint = CairnJson({"endpoints", "show", "churn"});
  std::map<std::string, int64_t> traffic;
  std::map<std::string, std::string> models;
  for (const json& d : endpoint["deployments"]) {
    traffic[d["name"]] = d["traffic"];
    models[d["name"]] = d["model_uri"];
  }
  EXPECT_EQ(traffic["green"], 100);
  EXPECT_EQ(traffic["blue"], 0);  // kept for a rollback
  EXPECT_EQ(models["green"], "models:/churn/3");
  EXPECT_EQ(models["blue"], "models:/churn/1");

  // list and logs.
  CommandResult list = Cairn({"pipelines", "list"});
  EXPECT_NE(list.out.find(third), std::string::npos);
  CommandResult logs = Cairn({"pipelines", "logs", third, "deploy"});
  EXPECT_NE(logs.out.find("traffic: green=100%"), std::string::npos) << logs.out;
  CommandResult table = Cairn({"pipelines", "show", third});
  EXPECT_NE(table.out.find("approved by bob"), std::string::npos) << table.out;
}

TEST_F(PipelinesTest, AKilledServerResumesAWaitingGateWithoutRerunningSteps) {
  const std::string data = *dir_ + "/resume-data";
  auto server = ServerProcess::Start(data);
  ASSERT_NE(server, nullptr);
  const std::string file = *dir_ + "/resume.yaml";
  WriteFile(file, R"(name: resume
steps:
  snapshot: {uses: data.snapshot, with: {name: telco, path: "${{ params.path }}"}}
  gate: {uses: gate.approval, needs: snapshot}
  again: {uses: data.snapshot, needs: gate, with: {name: telco, path: "${{ params.path }}"}}
params: {path: ~}
)");
  json run = json::parse(RunCairn({"--output", "json", "pipelines", "run", file, "--param",
                                   "path=" + kTelco}, server->url()).out, nullptr, false);
  ASSERT_TRUE(run.is_object());
  const std::string id = run["run_id"];
  auto show = [&](const std::string& url) {
    return json::parse(RunCairn({"--output", "json", "pipelines", "show", id}, url).out, nullptr,
                       false);
  };
  json waiting;
  for (int i = 0; i < 600; ++i) {
    waiting = show(server->url());
    if (StepOf(waiting, "gate")["status"] == "waiting") break;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  ASSERT_EQ(StepOf(waiting, "gate")["status"], "waiting") << waiting.dump(2);
  EXPECT_EQ(server->Stop(SIGKILL), 128 + SIGKILL);

  auto restarted = ServerProcess::Start(data);
  ASSERT_NE(restarted, nullptr);
  json resumed = show(restarted->url());
  EXPECT_EQ(resumed["status"], "running");
  EXPECT_EQ(StepOf(resumed, "gate")["status"], "waiting");
  ASSERT_EQ(RunCairn({"pipelines", "--user", "bob", "approve", id, "gate"}, restarted->url())
                .exit_code,
            0);
  json done;
  for (int i = 0; i < 600; ++i) {
    done = show(restarted->url());
    if (done["status"] != "running") break;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  EXPECT_EQ(done["status"], "succeeded") << done.dump(2);
  EXPECT_EQ(StepOf(done, "snapshot")["attempt"], 1);  // not run again
  EXPECT_EQ(StepOf(done, "again")["outputs"]["created"], "false");
  EXPECT_EQ(StepOf(done, "again")["outputs"]["version"], "v1");
}

TEST_F(PipelinesTest, CanaryOfAFaultyModelIsRolledBack) {
  // The good model: trained on telco as it is. The faulty one: trained with an extra column
  // the traffic does not send, so it answers 400 to every real request.
  std::string csv = ReadFile(kTelco);
  std::string extra;
  std::istringstream lines(csv);
  std::string line;
  for (int i = 0; std::getline(lines, line); ++i) {
    if (line.empty()) continue;
    extra += line + "," + (i == 0 ? "\"extra\"" : std::to_string(i % 7)) + "\n";
  }
  WriteFile(*dir_ + "/telco_extra.csv", extra);
  ASSERT_EQ(Cairn({"data", "snapshot", "telco-good", kTelco}).exit_code, 0);
  ASSERT_EQ(Cairn({"data", "snapshot", "telco-extra", *dir_ + "/telco_extra.csv"}).exit_code, 0);
  for (const auto& [data, model] : {std::pair{"telco-good", "churn-good"},
                                    std::pair{"telco-extra", "churn-faulty"}}) {
    CommandResult t = Cairn({"train", "--data", data, "--target", "churn", "--register", model,
                             "--param", "num_boost_round=10"});
    ASSERT_EQ(t.exit_code, 0) << t.err;
  }
  ASSERT_EQ(Cairn({"endpoints", "create", "canary"}).exit_code, 0);
  CommandResult blue = Cairn({"deployments", "create", "--endpoint", "canary", "--name", "blue",
                              "--model", "models:/churn-good/1"});
  ASSERT_EQ(blue.exit_code, 0) << blue.err;
  ASSERT_EQ(Cairn({"endpoints", "traffic", "canary", "blue=100"}).exit_code, 0);

  const std::string file = *dir_ + "/canary.yaml";
  WriteFile(file, R"(name: canary
steps:
  deploy:
    uses: endpoint.deploy
    with:
      endpoint: canary
      model: models:/churn-faulty/1
      strategy: canary
      steps: [50, 100]
      interval: 2s
      max_error_rate: 0.05
      min_requests: 5
)");
  const std::string run = Start(file, {});
  // Real traffic while the canary runs: telco rows without the extra column.
  const std::string body = R"({"dataframe_records": [{"female": 1, "senior_citizen": 0,
    "partner": 1, "dependents": 0, "tenure": 1, "phone_service": 0,
    "multiple_lines": "No phone service", "internet_service": "DSL", "online_security": "No",
    "online_backup": "Yes", "device_protection": "No", "tech_support": "No",
    "streaming_tv": "No", "streaming_movies": "No", "contract": "Month-to-month",
    "paperless_billing": 1, "payment_method": "Electronic check", "monthly_charges": 29.85,
    "total_charges": 29.85}]})";
  std::atomic<bool> stop{false};
  std::atomic<int> answered_400{0}, answered_200{0};
  std::thread traffic([&] {
    auto client = server_->NewClient();
    while (!stop) {
      auto r = client->Send("POST", "/endpoints/canary/invocations", body,
                            {{"content-type", "application/json"}});
      if (r.ok() && r->status == 400) ++answered_400;
      if (r.ok() && r->status == 200) ++answered_200;
    }
  });
  json done = WaitForEnd(run);
  stop = true;
  traffic.join();
  EXPECT_EQ(done["status"], "failed") << done.dump(2);
  const std::string error = StepOf(done, "deploy")["error"];
  EXPECT_NE(error.find("canary green at 50%: error rate"), std::string::npos) << error;
  EXPECT_NE(error.find("rolled back: blue takes all traffic again"), std::string::npos) << error;
  EXPECT_GT(answered_400.load(), 0);
  EXPECT_GT(answered_200.load(), 0);
  json endpoint = CairnJson({"endpoints", "show", "canary"});
  for (const json& d : endpoint["deployments"]) {
    EXPECT_EQ(d["traffic"], d["name"] == "blue" ? 100 : 0) << endpoint.dump(2);
  }
}

// The README's retraining pipeline (examples/churn_retrain.yaml), stored and run by name on its
// own workspace: the candidate is registered once, as the challenger; only after the approved
// canary does its `promote` step (model.register of models:/churn/N) move `champion` to that same
// version, without registering another.
TEST(RetrainExampleTest, StoredPipelineRegistersOnceAndPromotesAfterTheRollout) {
  const std::string dir = MakeTempDir("cairn_retrain_it");
  std::unique_ptr<ServerProcess> server = ServerProcess::Start(dir + "/data");
  ASSERT_NE(server, nullptr);
  auto cairn = [&](std::vector<std::string> args) { return RunCairn(args, server->url()); };
  auto cairn_json = [&](std::vector<std::string> args) {
    args.insert(args.begin(), {"--output", "json"});
    CommandResult r = RunCairn(args, server->url());
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return json::parse(r.out, nullptr, false);
  };
  ASSERT_EQ(cairn({"data", "snapshot", "churn", kTelco}).exit_code, 0);
  CommandResult created = cairn(
      {"pipelines", "create", std::string(CAIRN_SOURCE_DIR) + "/examples/churn_retrain.yaml"});
  ASSERT_EQ(created.exit_code, 0) << created.err;
  json run = cairn_json({"pipelines", "--user", "ana", "run", "churn-retrain", "--param",
                         "canary_interval=1s"});
  ASSERT_TRUE(run.is_object()) << run;
  const std::string id = run["run_id"];
  auto wait = [&](const std::function<bool(const json&)>& pred) {
    for (int i = 0; i < 1200; ++i) {
      json r = cairn_json({"pipelines", "show", id});
      if (!r.is_object() || pred(r)) return r;
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    ADD_FAILURE() << "pipeline run " << id << " never reached the expected state";
    return json();
  };
  auto step = [](const json& r, const std::string& step_id) {
    for (const json& s : r["steps"]) {
      if (s["step_id"] == step_id) return s;
    }
    return json::object();
  };
  json at_gate = wait([&](const json& r) {
    return step(r, "approve")["status"] == "waiting" || r["status"] == "failed";
  });
  ASSERT_EQ(step(at_gate, "approve")["status"], "waiting") << at_gate.dump(2);
  // Before the rollout: version 1 is the challenger, nothing is the champion yet.
  json v1 = cairn_json({"models", "show", "models:/churn@challenger"});
  EXPECT_EQ(v1["model_version"]["version"], "1") << v1.dump(2);
  EXPECT_NE(cairn({"models", "show", "models:/churn@champion"}).exit_code, 0);

  ASSERT_EQ(cairn({"pipelines", "--user", "bob", "approve", id, "approve"}).exit_code, 0);
  json done = wait([](const json& r) { return r["status"] != "queued" && r["status"] != "running"; });
  ASSERT_EQ(done["status"], "succeeded") << done.dump(2);
  EXPECT_EQ(step(done, "promote")["outputs"]["version"], "1") << done.dump(2);
  json versions = cairn_json({"models", "versions", "churn"});
  ASSERT_EQ(versions.size(), 1u) << versions.dump(2);
  json champion = cairn_json({"models", "show", "models:/churn@champion"});
  EXPECT_EQ(champion["model_version"]["version"], "1") << champion.dump(2);
  json endpoint = cairn_json({"endpoints", "show", "churn"});
  ASSERT_EQ(endpoint["deployments"].size(), 1u) << endpoint.dump(2);
  EXPECT_EQ(endpoint["deployments"][0]["traffic"], 100);
  EXPECT_EQ(endpoint["deployments"][0]["model_uri"], "models:/churn/1");
  server.reset();
  fs::remove_all(dir);
}

}  // namespace
}  // namespace cairn::testing
