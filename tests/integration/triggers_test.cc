// End-to-end: retraining triggers on the real `cairn server` binary — a stored pipeline with a
// `dataset` trigger starts a run when a new version is snapshotted (its params carry the
// version), holds back while that run waits at its gate, and the triggers CLI lists, shows,
// disables and enables them; bad triggers are refused with the field and line.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <functional>
#include <nlohmann/json.hpp>
#include <thread>

#include "server_process.h"

namespace cairn::testing {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

void WriteFile(const fs::path& path, const std::string& text) {
  std::ofstream(path, std::ios::binary) << text;
}

const char kPipeline[] = R"(name: churn-retrain
params:
  dataset_version: ~
  trigger: manual
  reason: ""
triggers:
  - dataset: churn
  - schedule: "0 3 * * *"
steps:
  approve:
    uses: gate.approval
    with: {message: "Retrain on the new churn data?"}
)";

class TriggersTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = MakeTempDir("cairn_triggers_it");
    server_ = ServerProcess::Start(dir_ + "/data", {"--trigger-interval", "100ms"});
    ASSERT_NE(server_, nullptr);
    WriteFile(dir_ + "/retrain.yaml", kPipeline);
  }
  void TearDown() override {
    server_.reset();
    fs::remove_all(dir_);
  }

  CommandResult Cairn(const std::vector<std::string>& args) {
    return RunCairn(args, server_->url());
  }
  json CairnJson(std::vector<std::string> args) {
    args.insert(args.begin(), {"--output", "json"});
    CommandResult r = Cairn(args);
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return json::parse(r.out, nullptr, false);
  }
  // Snapshots a small CSV as the next version of dataset churn (rows differ each time).
  void Snapshot(int rows) {
    std::string csv = "tenure,charges,churn\n";
    for (int i = 0; i < rows; ++i) {
      csv += std::to_string(i) + "," + std::to_string(20 + i) + "," + (i % 3 ? "0" : "1") + "\n";
    }
    WriteFile(dir_ + "/churn.csv", csv);
    CommandResult r = Cairn({"data", "snapshot", "churn", dir_ + "/churn.csv"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
  }
  // Polls `what` (one CLI call each) until `pred` holds.
  json WaitFor(const std::function<json()>& what, const std::function<bool(const json&)>& pred,
               const std::string& description) {
    json last;
    for (int i = 0; i < 600; ++i) {
      last = what();
      if (pred(last)) return last;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    ADD_FAILURE() << "never: " << description << "; last: " << last.dump();
    return last;
  }
  json ShowTrigger(const std::string& id) { return CairnJson({"triggers", "show", id}); }
  json TriggerRuns() {
    json runs = CairnJson({"pipelines", "list", "--name", "churn-retrain"});
    json out = json::array();
    for (const json& r : runs["runs"]) {
      if (r["created_by"] == "trigger:churn-retrain/dataset") out.push_back(r);
    }
    return out;
  }

  std::string dir_;
  std::unique_ptr<ServerProcess> server_;
};

TEST_F(TriggersTest, ANewDatasetVersionStartsTheStoredPipelineOnceAtATime) {
  Snapshot(10);  // churn v1
  CommandResult created = Cairn({"pipelines", "create", dir_ + "/retrain.yaml"});
  ASSERT_EQ(created.exit_code, 0) << created.err;
  EXPECT_NE(created.out.find("stored pipeline 'churn-retrain' revision 1 with 2 triggers"),
            std::string::npos) << created.out;
  EXPECT_NE(created.out.find("churn-retrain/dataset"), std::string::npos) << created.out;

  json defs = CairnJson({"pipelines", "definitions"});
  ASSERT_EQ(defs["definitions"].size(), 1u);
  EXPECT_EQ(defs["definitions"][0]["name"], "churn-retrain");
  EXPECT_EQ(defs["definitions"][0]["trigger_count"], 2);

  // The first evaluation only records v1.
  WaitFor([&] { return ShowTrigger("churn-retrain/dataset"); },
          [](const json& t) { return t["state"].value("version", 0) == 1; },
          "the dataset trigger records v1");
  EXPECT_TRUE(TriggerRuns().empty());

  Snapshot(12);  // churn v2: the trigger fires
  json runs = WaitFor([&] { return TriggerRuns(); }, [](const json& r) { return r.size() == 1; },
                      "a run started by the trigger");
  ASSERT_EQ(runs.size(), 1u);
  const std::string run_id = runs[0]["run_id"];
  EXPECT_EQ(runs[0]["params"]["dataset_version"], "2");
  EXPECT_EQ(runs[0]["params"]["trigger"], "churn-retrain/dataset");
  EXPECT_EQ(runs[0]["params"]["reason"], "dataset churn has a new version v2 (after v1)");

  CommandResult list = Cairn({"triggers", "list"});
  ASSERT_EQ(list.exit_code, 0) << list.err;
  EXPECT_NE(list.out.find("TRIGGER"), std::string::npos) << list.out;
  EXPECT_NE(list.out.find("new version of dataset churn"), std::string::npos) << list.out;
  EXPECT_NE(list.out.find("0 3 * * * (UTC)"), std::string::npos) << list.out;
  EXPECT_NE(list.out.find(run_id.substr(0, 8)), std::string::npos) << list.out;

  CommandResult show = Cairn({"triggers", "show", "churn-retrain/dataset"});
  ASSERT_EQ(show.exit_code, 0) << show.err;
  EXPECT_NE(show.out.find("dataset churn has a new version v2 (after v1)"), std::string::npos)
      << show.out;
  EXPECT_NE(show.out.find("dataset_version=2"), std::string::npos) << show.out;
  EXPECT_NE(show.out.find(run_id), std::string::npos) << show.out;

  // v3 while the run waits at its gate: held back, no second run.
  Snapshot(14);
  json held = WaitFor([&] { return ShowTrigger("churn-retrain/dataset"); },
                      [](const json& t) { return t.value("held_time", 0) > 0; },
                      "the trigger is held back");
  EXPECT_EQ(held["held_reason"], "dataset churn has a new version v3 (after v2); held back: run " +
                                     run_id + " is still running");
  EXPECT_EQ(held["firings"].size(), 1u);
  EXPECT_EQ(TriggerRuns().size(), 1u);

  // Rejecting the gate ends the run; the held version then fires.
  ASSERT_EQ(Cairn({"pipelines", "--user", "bob", "reject", run_id, "approve"}).exit_code, 0);
  runs = WaitFor([&] { return TriggerRuns(); }, [](const json& r) { return r.size() == 2; },
                 "a second run for v3");
  ASSERT_EQ(runs.size(), 2u);
  EXPECT_EQ(runs[0]["params"]["dataset_version"], "3");  // newest first
}

TEST_F(TriggersTest, EnableDisableRunByNameAndBadInput) {
  ASSERT_EQ(Cairn({"pipelines", "create", dir_ + "/retrain.yaml"}).exit_code, 0);

  CommandResult off = Cairn({"triggers", "disable", "churn-retrain/schedule"});
  ASSERT_EQ(off.exit_code, 0) << off.err;
  EXPECT_EQ(off.out, "trigger churn-retrain/schedule disabled\n");
  json listed = CairnJson({"triggers", "list", "--pipeline", "churn-retrain"});
  ASSERT_EQ(listed["triggers"].size(), 2u);
  EXPECT_EQ(listed["triggers"][1]["trigger_id"], "churn-retrain/schedule");
  EXPECT_FALSE(listed["triggers"][1]["enabled"]);
  EXPECT_TRUE(listed["triggers"][0]["enabled"]);
  json on = CairnJson({"triggers", "enable", "churn-retrain/schedule"});
  EXPECT_TRUE(on["enabled"]);
  EXPECT_GT(on.value("next_time", 0), 0);

  // A stored pipeline runs by name; a path still runs a file.
  json run = CairnJson({"pipelines", "run", "churn-retrain", "--param", "dataset_version=9"});
  EXPECT_EQ(run["name"], "churn-retrain");
  EXPECT_EQ(run["params"]["dataset_version"], "9");
  EXPECT_EQ(run["params"]["trigger"], "manual");
  json from_file = CairnJson({"pipelines", "run", dir_ + "/retrain.yaml", "--param",
                              "dataset_version=1"});
  EXPECT_EQ(from_file["file"], dir_ + "/retrain.yaml");

  CommandResult unknown = Cairn({"triggers", "show", "churn-retrain/metric"});
  EXPECT_NE(unknown.exit_code, 0);
  EXPECT_EQ(unknown.err, "error: trigger 'churn-retrain/metric' does not exist\n");
  CommandResult malformed = Cairn({"triggers", "enable", "churn-retrain"});
  EXPECT_NE(malformed.exit_code, 0);
  EXPECT_NE(malformed.err.find("expected PIPELINE/KIND"), std::string::npos) << malformed.err;
  CommandResult no_pipeline = Cairn({"pipelines", "run", "nope"});
  EXPECT_NE(no_pipeline.exit_code, 0);
  EXPECT_NE(no_pipeline.err.find("pipeline 'nope' does not exist"), std::string::npos)
      << no_pipeline.err;

  const std::string bad = dir_ + "/bad.yaml";
  WriteFile(bad, "name: bad\ntriggers:\n  - schedule: \"61 3 * * *\"\n  - drift: {endpoint: "
                 "churn}\nsteps:\n  g: {uses: gate.approval}\n");
  CommandResult validate = Cairn({"pipelines", "validate", bad});
  EXPECT_EQ(validate.exit_code, 1);
  EXPECT_NE(validate.err.find(bad + ":3: triggers[0].schedule: minute field '61' out of range "
                                    "0-59"),
            std::string::npos) << validate.err;
  EXPECT_NE(validate.err.find(bad + ":4: triggers[1].drift.threshold: required"),
            std::string::npos) << validate.err;
  CommandResult create = Cairn({"pipelines", "create", bad});
  EXPECT_EQ(create.exit_code, 1);
  EXPECT_NE(create.err.find("triggers[0].schedule: minute field '61' out of range 0-59"),
            std::string::npos) << create.err;

  CommandResult deleted = Cairn({"pipelines", "delete", "churn-retrain"});
  ASSERT_EQ(deleted.exit_code, 0) << deleted.err;
  CommandResult none = Cairn({"triggers", "list"});
  EXPECT_NE(none.out.find("(no triggers)"), std::string::npos) << none.out;
}

}  // namespace
}  // namespace cairn::testing
