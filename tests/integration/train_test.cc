// End-to-end: `cairn train`, `cairn models compare` and their bad input, against the real
// `cairn server` binary — snapshot → train → register → alias → retrain → compare.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "core/hash.h"
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

void WriteFile(const fs::path& path, const std::string& bytes) {
  fs::create_directories(path.parent_path());
  std::ofstream(path, std::ios::binary | std::ios::trunc) << bytes;
}

size_t CountLines(const std::string& text) {
  size_t n = 0;
  for (char c : text) n += c == '\n';
  return n;
}

class TrainTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new std::string(MakeTempDir("cairn_train_it"));
    server_ = ServerProcess::Start(*dir_ + "/data").release();
    ASSERT_NE(server_, nullptr);
    CommandResult snap = Cairn({"data", "snapshot", "churn", kTelco});
    ASSERT_EQ(snap.exit_code, 0) << snap.err;
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
  // The number of runs in `experiment` (0 when it does not exist).
  static size_t RunCount(const std::string& experiment) {
    CommandResult r = Cairn({"--output", "json", "runs", "list", "--experiment", experiment});
    if (r.exit_code != 0) return 0;
    json j = json::parse(r.out, nullptr, false);
    return j.is_array() ? j.size() : 0;
  }
  static std::string Download(const std::string& run_id, const std::string& path) {
    const std::string to = *dir_ + "/dl-" + run_id;
    CommandResult r = Cairn({"artifacts", "download", run_id, path, "--to", to});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return ReadFile(fs::path(to) / path);
  }
  static std::string* dir_;
  static ServerProcess* server_;
};

std::string* TrainTest::dir_ = nullptr;
ServerProcess* TrainTest::server_ = nullptr;

TEST_F(TrainTest, TrainLogsMetricsLineageAndAnMlflowModelAndRegistersIt) {
  json out = CairnJson({"train", "--data", "churn", "--target", "churn", "--experiment", "it-train",
                        "--register", "churn-it", "--alias", "champion"});
  ASSERT_TRUE(out.is_object()) << out;
  const std::string run_id = out["run_id"];
  EXPECT_EQ(out["task"], "binary");
  EXPECT_GE(out["metrics"]["auc"].get<double>(), 0.84);
  for (const char* m : {"log_loss", "accuracy", "precision", "recall", "f1"}) {
    EXPECT_TRUE(out["metrics"].contains(m)) << m;
  }
  EXPECT_EQ(out["registered_model"]["version"], "1");
  ASSERT_FALSE(out["feature_importance"].empty());
  EXPECT_EQ(out["feature_importance"][0]["feature"], "contract");  // telco's strongest signal

  json run = CairnJson({"runs", "get", run_id});
  std::map<std::string, std::string> tags, params;
  for (const json& t : run["data"]["tags"]) tags[t["key"]] = t["value"];
  for (const json& p : run["data"]["params"]) params[p["key"]] = p["value"];
  json versions = CairnJson({"data", "versions", "churn"});
  ASSERT_TRUE(versions.is_array() && !versions.empty()) << versions;
  EXPECT_EQ(tags["cairn.dataset.name"], "churn");
  EXPECT_EQ(tags["cairn.dataset.version"], "v1");
  EXPECT_EQ(tags["cairn.dataset.digest"], versions[0]["version_id"]);
  EXPECT_NE(tags["cairn.command"].find("train --data churn --target churn"), std::string::npos);
  EXPECT_EQ(tags["cairn.version"], CAIRN_VERSION);
  EXPECT_NE(tags["mlflow.log-model.history"].find("\"xgboost\""), std::string::npos);
  EXPECT_EQ(params["eta"], "0.05");
  EXPECT_EQ(params["split_seed"], "42");
  EXPECT_EQ(run["info"]["status"], "FINISHED");

  // Metric history: one valid-auc value per boosting round, step = round.
  json rounds = out["rounds"];
  auto http = server_->NewClient();
  auto history = http->Send(
      "GET", "/api/2.0/mlflow/metrics/get-history?run_id=" + run_id + "&metric_key=valid-auc");
  ASSERT_TRUE(history.ok());
  json h = json::parse(history->body);
  ASSERT_EQ(h["metrics"].size(), rounds.get<size_t>());
  EXPECT_EQ(h["metrics"].back()["step"], rounds.get<int>() - 1);

  // The model directory, in the MLflow format.
  const std::string mlmodel = Download(run_id, "model/MLmodel");
  for (const char* needle : {"xgboost:", "python_function:", "loader_module: mlflow.xgboost",
                             "signature:", "run_id: ", "model_uuid:", "utc_time_created:",
                             "cairn:", "preprocessing"}) {
    EXPECT_NE(mlmodel.find(needle), std::string::npos) << needle << "\n" << mlmodel;
  }
  EXPECT_NE(mlmodel.find(run_id), std::string::npos);
  EXPECT_NE(mlmodel.find(tags["cairn.dataset.digest"]), std::string::npos);
  EXPECT_FALSE(Download(run_id, "model/model.ubj").empty());
  json example = json::parse(Download(run_id, "model/input_example.json"));
  EXPECT_TRUE(example.contains("columns") && example.contains("data"));
  json importance = json::parse(Download(run_id, "feature_importance.json"), nullptr, false);
  EXPECT_FALSE(importance.is_discarded());

  // The registry: version 1 from this run, with the alias.
  json by_alias = CairnJson({"models", "show", "churn-it"});
  EXPECT_NE(by_alias.dump().find("champion"), std::string::npos) << by_alias;
}

TEST_F(TrainTest, SameDataParamsAndSeedGiveAByteIdenticalBooster) {
  auto booster = [](const std::vector<std::string>& extra) {
    std::vector<std::string> args = {"train", "--data", "churn@v1", "--target", "churn",
                                     "--experiment", "it-repro", "--param", "max_depth=3"};
    args.insert(args.end(), extra.begin(), extra.end());
    json out = CairnJson(args);
    return Sha256Hex(Download(out["run_id"], "model/model.ubj"));
  };
  const std::string first = booster({});
  EXPECT_EQ(booster({}), first);
  EXPECT_NE(booster({"--seed", "7"}), first);
}

TEST_F(TrainTest, CompareGivesAVerdictOnRowsNeitherModelTrainedOn) {
  json a = CairnJson({"train", "--data", "churn", "--target", "churn", "--experiment", "it-cmp",
                      "--register", "churn-cmp"});
  json b = CairnJson({"train", "--data", "churn", "--target", "churn", "--experiment", "it-cmp",
                      "--register", "churn-cmp", "--param", "max_depth=2", "--param",
                      "eta=0.3", "--seed", "7"});
  ASSERT_EQ(Cairn({"models", "alias", "churn-cmp", "champion", "1"}).exit_code, 0);

  CommandResult r = Cairn({"--output", "json", "models", "compare", "--candidate",
                           "models:/churn-cmp/2", "--baseline", "models:/churn-cmp@champion",
                           "--data", "churn@v1", "--min-improvement", "0"});
  ASSERT_TRUE(r.exit_code == 0 || r.exit_code == 3) << r.err;
  json c = json::parse(r.out);
  const int64_t total = c["rows_total"], kept = c["rows_kept"];
  EXPECT_EQ(total, 7043);
  // Each model trained on 80 % of the rows with its own seed: the rows neither saw are fewer
  // than either's 20 % validation share, and there are some.
  EXPECT_GT(kept, 0);
  EXPECT_LT(kept, 7043 / 5);
  EXPECT_EQ(c["candidate"]["resolved"], "models:/churn-cmp/2");
  EXPECT_EQ(c["baseline"]["resolved"], "models:/churn-cmp/1");
  const double delta = c["candidate"]["metrics"]["auc"].get<double>() -
                       c["baseline"]["metrics"]["auc"].get<double>();
  EXPECT_EQ(c["better"].get<bool>(), delta > 0);
  EXPECT_EQ(r.exit_code, delta > 0 ? 0 : 3);

  // A model is never better than itself: exit 3, and an evaluation run records it.
  CommandResult self = Cairn({"models", "compare", "--candidate", "models:/churn-cmp/1",
                              "--baseline", "models:/churn-cmp@champion", "--data", "churn"});
  EXPECT_EQ(self.exit_code, 3) << self.err;
  EXPECT_NE(self.out.find("verdict: candidate is not better on auc"), std::string::npos)
      << self.out;
  EXPECT_NE(self.out.find("1399 kept"), std::string::npos) << self.out;
  EXPECT_GE(RunCount("model-comparisons"), 2u);
  (void)a;
  (void)b;
}

TEST_F(TrainTest, CompareNamesUnknownModelsVersionsAndAliases) {
  for (const std::string& uri : {"models:/nope/1", "models:/churn-it/99", "models:/churn-it@gone"}) {
    CommandResult r = Cairn({"models", "compare", "--candidate", uri, "--baseline",
                             "models:/churn-it/1", "--data", "churn"});
    EXPECT_EQ(r.exit_code, 1) << uri;
    EXPECT_EQ(CountLines(r.err), 1u) << r.err;
    EXPECT_NE(r.err.find("error: "), std::string::npos) << r.err;
  }
  CommandResult usage = Cairn({"models", "compare", "--candidate", "models:/churn-it/1"});
  EXPECT_EQ(usage.exit_code, 2);
}

// Bad input: one line naming the culprit, a non-zero exit, and no run left behind.
TEST_F(TrainTest, BadInputIsNamedAndLeavesNoRun) {
  const fs::path bad = fs::path(*dir_) / "bad";
  WriteFile(bad / "constant.csv", "x,y\n1,a\n2,a\n3,a\n4,a\n");
  WriteFile(bad / "allmissing.csv", "x,empty,y\n1,,a\n2,,b\n3,,a\n4,,b\n5,,a\n6,,b\n");
  ASSERT_EQ(Cairn({"data", "snapshot", "constant", (bad / "constant.csv").string()}).exit_code, 0);
  ASSERT_EQ(Cairn({"data", "snapshot", "allmissing", (bad / "allmissing.csv").string()}).exit_code,
            0);
  struct Case {
    std::vector<std::string> args;
    std::string culprit;
  };
  const std::vector<Case> cases = {
      {{"--data", "churn", "--target", "nope"}, "nope"},
      {{"--data", "churn", "--target", "contract", "--task", "regression"}, "contract"},
      {{"--data", "constant", "--target", "y"}, "'y'"},
      {{"--data", "allmissing", "--target", "y"}, "empty"},
      {{"--data", "nosuchdata", "--target", "y"}, "nosuchdata"},
      {{"--data", "churn@v9", "--target", "churn"}, "9"},
      {{"--data", "churn", "--target", "churn", "--param", "max_depth"}, "max_depth"},
      {{"--data", "churn", "--target", "churn", "--param", "max_depth=-3"}, "max_depth"},
      {{"--data", "churn", "--target", "churn", "--param", "no_such_param=1"}, "no_such_param"},
  };
  for (const Case& c : cases) {
    std::vector<std::string> args = {"train", "--experiment", "it-bad"};
    args.insert(args.end(), c.args.begin(), c.args.end());
    CommandResult r = Cairn(args);
    EXPECT_EQ(r.exit_code, 1) << c.culprit << ": " << r.out;
    EXPECT_EQ(CountLines(r.err), 1u) << r.err;
    EXPECT_NE(r.err.find(c.culprit), std::string::npos) << r.err;
  }
  EXPECT_EQ(RunCount("it-bad"), 0u);
}

}  // namespace
}  // namespace cairn::testing
