// End-to-end: `cairn batch-score` through the real binary — models:/ URIs (by version and by
// alias) resolved against a real workspace server, runs:/ URIs, local directories, stdout, the
// JSON summary and bad input.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "server_process.h"

namespace cairn::testing {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using ::testing::EndsWith;
using ::testing::HasSubstr;
using ::testing::StartsWith;

const std::string kTelco = std::string(CAIRN_SOURCE_DIR) + "/../shared/data/telco_churn.csv";

std::string ReadFile(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

class BatchScoreTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new std::string(MakeTempDir("cairn_batch_it"));
    server_ = ServerProcess::Start(*dir_ + "/data").release();
    ASSERT_NE(server_, nullptr);
    CommandResult snap = Cairn({"data", "snapshot", "churn", kTelco});
    ASSERT_EQ(snap.exit_code, 0) << snap.err;
    CommandResult train = Cairn({"--output", "json", "train", "--data", "churn", "--target",
                                 "churn", "--param", "num_boost_round=20", "--param",
                                 "early_stopping_rounds=0", "--register", "churn-bs", "--alias",
                                 "champion"});
    ASSERT_EQ(train.exit_code, 0) << train.err;
    run_id_ = new std::string(json::parse(train.out)["run_id"].get<std::string>());
  }
  static void TearDownTestSuite() {
    delete server_;
    fs::remove_all(*dir_);
    delete dir_;
    delete run_id_;
  }
  static CommandResult Cairn(std::vector<std::string> args) {
    return RunCairn(args, server_->url());
  }
  static std::string Path(const std::string& name) { return *dir_ + "/" + name; }

  static std::string* dir_;
  static std::string* run_id_;
  static ServerProcess* server_;
};

std::string* BatchScoreTest::dir_ = nullptr;
std::string* BatchScoreTest::run_id_ = nullptr;
ServerProcess* BatchScoreTest::server_ = nullptr;

TEST_F(BatchScoreTest, ScoresWithARegisteredModelByAliasVersionRunAndDirectory) {
  CommandResult r = Cairn({"batch-score", "--model", "models:/churn-bs@champion", "--input",
                           kTelco, "--output", Path("alias.csv"), "--threads", "2"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("models:/churn-bs/1"));
  EXPECT_THAT(r.out, HasSubstr("7043 rows"));
  const std::string scored = ReadFile(Path("alias.csv"));
  const std::vector<std::string> in = Lines(ReadFile(kTelco));
  const std::vector<std::string> out = Lines(scored);
  ASSERT_EQ(out.size(), in.size());
  EXPECT_EQ(out[0], in[0] + ",prediction,predicted_label");
  for (size_t i = 1; i < in.size(); ++i) {
    ASSERT_THAT(out[i], StartsWith(in[i] + ",")) << i;
    ASSERT_TRUE(out[i].ends_with(",Yes") || out[i].ends_with(",No")) << out[i];
  }

  // The same model by version, from its run, and from a local copy: the same bytes.
  r = Cairn({"batch-score", "--model", "models:/churn-bs/1", "--input", kTelco, "--output",
             Path("version.csv")});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(ReadFile(Path("version.csv")), scored);
  r = Cairn({"batch-score", "--model", "runs:/" + *run_id_ + "/model", "--input", kTelco,
             "--output", Path("run.csv"), "--threads", "1"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(ReadFile(Path("run.csv")), scored);
  r = Cairn({"batch-score", "--model", "churn-bs", "--input", kTelco, "--output",
             Path("latest.csv")});  // a bare name: the latest version
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("models:/churn-bs/1"));
  EXPECT_EQ(ReadFile(Path("latest.csv")), scored);
  r = Cairn({"models", "download", "models:/churn-bs/1", "--to", Path("model")});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  r = Cairn({"batch-score", "--model", Path("model"), "--input", kTelco, "--output",
             Path("local.csv"), "--block-mb", "0.01"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(ReadFile(Path("local.csv")), scored);
}

TEST_F(BatchScoreTest, WritesToStdoutAndSummarizesAsJson) {
  CommandResult r = Cairn({"batch-score", "--model", "models:/churn-bs/1", "--input", kTelco,
                           "--output", "-", "--output-columns", "tenure,contract",
                           "--explain"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const std::vector<std::string> lines = Lines(r.out);
  ASSERT_EQ(lines.size(), 7044u);
  EXPECT_THAT(lines[0], StartsWith("tenure,contract,prediction,predicted_label,shap_"));
  EXPECT_THAT(lines[0], EndsWith(",shap_bias"));
  EXPECT_THAT(lines[1], StartsWith("1,Month-to-month,0."));

  r = Cairn({"--output", "json", "batch-score", "--model", "models:/churn-bs@champion",
             "--input", kTelco, "--output", Path("json.csv"), "--predictions-only"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  json summary = json::parse(r.out, nullptr, false);
  ASSERT_TRUE(summary.is_object()) << r.out;
  EXPECT_EQ(summary["rows"], 7043);
  EXPECT_EQ(summary["model"], "models:/churn-bs/1");
  EXPECT_EQ(summary["columns"], json({"prediction", "predicted_label"}));
  EXPECT_EQ(summary["bytes_read"], fs::file_size(kTelco));
  EXPECT_EQ(summary["bytes_written"], fs::file_size(Path("json.csv")));
}

TEST_F(BatchScoreTest, BadInputIsOneLineOnStderrAndLeavesNoOutput) {
  // A value that does not fit: the line and column are named, the output is not created.
  std::vector<std::string> lines = Lines(ReadFile(kTelco));
  std::string& row = lines[6000];
  size_t at = 0;
  for (int c = 0; c < 16; ++c) at = row.find(',', at) + 1;  // paperless_billing
  row.replace(at, row.find(',', at) - at, "x1");
  {
    std::ofstream bad(Path("bad.csv"), std::ios::binary);
    for (const std::string& l : lines) bad << l << "\n";
  }
  CommandResult r = Cairn({"batch-score", "--model", "models:/churn-bs/1", "--input",
                           Path("bad.csv"), "--output", Path("bad-out.csv")});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.err, "error: " + Path("bad.csv") +
                       ": line 6001, column 17 (paperless_billing): 'x1' is not a number, and "
                       "the model takes numbers there\n");
  EXPECT_FALSE(fs::exists(Path("bad-out.csv")));
  EXPECT_TRUE(r.out.empty()) << r.out;
  for (const auto& e : fs::directory_iterator(*dir_)) {
    EXPECT_EQ(e.path().filename().string().find(".cairn-tmp"), std::string::npos) << e.path();
  }

  r = Cairn({"batch-score", "--model", "models:/nope/1", "--input", kTelco, "--output",
             Path("x.csv")});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err, StartsWith("error: --model 'models:/nope/1': "));
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;

  r = Cairn({"batch-score", "--model", Path("no-such-dir"), "--input", kTelco, "--output",
             Path("x.csv")});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err, HasSubstr("no model directory at"));
  r = Cairn({"batch-score", "--model", "no-such-model", "--input", kTelco, "--output",
             Path("x.csv")});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.err,
            "error: --model 'no-such-model': no model directory or registered model named "
            "'no-such-model'\n");

  r = Cairn({"batch-score", "--model", "models:/churn-bs/1", "--input", Path("nope.csv"),
             "--output", Path("x.csv")});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.err, "error: --input '" + Path("nope.csv") + "': no such file\n");

  r = Cairn({"batch-score", "--model", "models:/churn-bs/1", "--input", kTelco, "--output",
             Path("x.csv"), "--predictions-only", "--output-columns", "tenure"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err, HasSubstr("exclude each other"));

  r = Cairn({"batch-score", "--model", "models:/churn-bs/1", "--input", kTelco, "--output",
             Path("x.csv"), "--output-columns", "tenure,region"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err, HasSubstr("output column 'region' is not in the input"));
  EXPECT_FALSE(fs::exists(Path("x.csv")));

  r = Cairn({"batch-score", "--model", "models:/churn-bs/1", "--input", kTelco});
  EXPECT_EQ(r.exit_code, 2) << r.err;  // --output is required
}

}  // namespace
}  // namespace cairn::testing
