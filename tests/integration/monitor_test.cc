// End-to-end: monitoring an endpoint through the real `cairn server` binary — a model trained on
// long-standing telco customers (`cairn data snapshot`, `cairn train --register`), deployed,
// scored with new customers (a real population shift) under x-request-id, ground truth posted
// back with `cairn monitor feedback`, then `cairn monitor drift` and `status` (table and JSON)
// with the numbers checked against the answers the endpoint gave, /metrics through promtool,
// and bad input.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "server_process.h"

namespace cairn::testing {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

const std::string kTelco = std::string(CAIRN_SOURCE_DIR) + "/../shared/data/telco_churn.csv";
constexpr size_t kTenure = 5;  // column index of tenure in telco_churn.csv
constexpr size_t kChurn = 0;   // the target

std::string ReadFile(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

// telco_churn.csv has no commas inside fields: a plain split suffices.
std::vector<std::string> Split(const std::string& line) {
  std::vector<std::string> out;
  std::stringstream in(line);
  std::string field;
  while (std::getline(in, field, ',')) {
    if (!field.empty() && field.back() == '\r') field.pop_back();
    out.push_back(field);
  }
  if (!line.empty() && line.back() == ',') out.push_back("");
  return out;
}

// A CSV field as a JSON value: quoted → string, blank → null, else a number.
json Cell(const std::string& field) {
  if (field.size() >= 2 && field.front() == '"') return field.substr(1, field.size() - 2);
  if (field.find_first_not_of(' ') == std::string::npos) return nullptr;
  return std::stod(field);
}

class MonitorTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new std::string(MakeTempDir("cairn_monitor_it"));
    server_ = ServerProcess::Start(*dir_ + "/data").release();
    ASSERT_NE(server_, nullptr);

    // Long-standing customers (tenure ≥ 24 months) are the training data; the short-tenure ones
    // arrive later as traffic.
    std::ifstream in(kTelco);
    std::string line;
    std::getline(in, line);
    header_ = new std::vector<std::string>(Split(line));
    std::ofstream v1(*dir_ + "/churn_v1.csv");
    v1 << line << "\n";
    new_rows_ = new std::vector<std::vector<std::string>>();
    while (std::getline(in, line)) {
      auto fields = Split(line);
      if (fields.size() != header_->size()) continue;
      if (std::stod(fields[kTenure]) >= 24) {
        v1 << line << "\n";
      } else if (std::stod(fields[kTenure]) < 12) {
        new_rows_->push_back(fields);
      }
    }
    v1.close();
    CommandResult snap = Cairn({"data", "snapshot", "churn-mon", *dir_ + "/churn_v1.csv"});
    ASSERT_EQ(snap.exit_code, 0) << snap.err;
    json trained =
        CairnJson({"train", "--data", "churn-mon", "--target", "churn", "--experiment",
                   "it-monitor", "--register", "churn-mon", "--param", "num_boost_round=20"});
    ASSERT_TRUE(trained.is_object()) << trained;
    ASSERT_EQ(Cairn({"endpoints", "create", "churn"}).exit_code, 0);
    CommandResult dep = Cairn({"deployments", "create", "--endpoint", "churn", "--name", "blue",
                               "--model", "models:/churn-mon/1"});
    ASSERT_EQ(dep.exit_code, 0) << dep.err;
    ASSERT_EQ(Cairn({"endpoints", "traffic", "churn", "blue=100"}).exit_code, 0);
  }
  static void TearDownTestSuite() {
    delete server_;
    fs::remove_all(*dir_);
    delete dir_;
    delete header_;
    delete new_rows_;
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
  static void ExpectCliError(std::vector<std::string> args, const std::string& needle) {
    CommandResult r = Cairn(args);
    EXPECT_EQ(r.exit_code, 1) << r.out;
    EXPECT_EQ(r.err.rfind("error: ", 0), 0u) << r.err;
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
    EXPECT_NE(r.err.find(needle), std::string::npos) << needle << " not in " << r.err;
  }
  // The scoring body of `rows` of new_rows_ (every column but the target).
  static std::string Body(size_t first, size_t count) {
    json columns = json::array();
    for (size_t c = 0; c < header_->size(); ++c) {
      if (c != kChurn) columns.push_back(Cell((*header_)[c]));
    }
    json data = json::array();
    for (size_t r = first; r < first + count; ++r) {
      json row = json::array();
      for (size_t c = 0; c < header_->size(); ++c) {
        if (c != kChurn) row.push_back(Cell((*new_rows_)[r][c]));
      }
      data.push_back(std::move(row));
    }
    return json{{"dataframe_split", {{"columns", columns}, {"data", data}}}}.dump();
  }
  static std::string Label(size_t row) {
    return Cell((*new_rows_)[row][kChurn]).get<std::string>();
  }

  static std::string* dir_;
  static std::vector<std::string>* header_;
  static std::vector<std::vector<std::string>>* new_rows_;
  static ServerProcess* server_;
};

std::string* MonitorTest::dir_ = nullptr;
std::vector<std::string>* MonitorTest::header_ = nullptr;
std::vector<std::vector<std::string>>* MonitorTest::new_rows_ = nullptr;
ServerProcess* MonitorTest::server_ = nullptr;

TEST_F(MonitorTest, FeedbackDriftStatusAndMetrics) {
  ASSERT_GE(new_rows_->size(), 100u);
  auto http = server_->NewClient();
  // 80 single-row requests and one of 4 rows, each with our request id.
  constexpr size_t kSingles = 80;
  int correct = 0;
  int positives = 0;
  std::string labels_csv = "request_id,label\n";
  for (size_t i = 0; i <= kSingles; ++i) {
    const bool batch = i == kSingles;
    const size_t count = batch ? 4 : 1;
    const std::string id = batch ? "batch-1" : "req-" + std::to_string(i);
    auto r = http->Send("POST", "/endpoints/churn/invocations", Body(i, count),
                        {{"content-type", "application/json"}, {"x-request-id", id}});
    ASSERT_TRUE(r.ok());
    ASSERT_EQ(r->status, 200) << r->body;
    json predictions = json::parse(r->body)["predictions"];
    ASSERT_EQ(predictions.size(), count);
    json row_labels = json::array();
    for (size_t k = 0; k < count; ++k) {
      const bool predicted_yes = predictions[k].get<double>() > 0.5;
      const std::string truth = Label(i + k);
      correct += predicted_yes == (truth == "Yes");
      positives += predicted_yes;
      row_labels.push_back(truth);
    }
    if (batch) {
      std::string cell = row_labels.dump();  // a JSON list in a CSV field: quotes doubled
      std::string quoted;
      for (char c : cell) quoted += c == '"' ? std::string("\"\"") : std::string(1, c);
      labels_csv += id + ",\"" + quoted + "\"\n";
    } else {
      labels_csv += id + "," + Label(i) + "\n";
    }
  }
  labels_csv += "never-scored,Yes\n";
  const std::string labels_file = *dir_ + "/labels.csv";
  std::ofstream(labels_file) << labels_csv;

  CommandResult fb = Cairn({"monitor", "feedback", "churn", "--file", labels_file});
  ASSERT_EQ(fb.exit_code, 0) << fb.err;
  EXPECT_EQ(fb.out, "Stored 82 labels for endpoint churn\n");

  // The drift report, as JSON: real numbers.
  json report = CairnJson({"monitor", "drift", "churn", "--window", "1h"});
  ASSERT_TRUE(report.is_object()) << report;
  EXPECT_EQ(report["baseline"], "churn-mon@v1");
  EXPECT_EQ(report["requests"], 81);
  EXPECT_EQ(report["rows"], 84);
  EXPECT_EQ(report["model_versions"], json({{"churn-mon/1", 81}}));
  EXPECT_EQ(report["columns"].size(), 19u);
  json tenure;
  for (const json& c : report["columns"]) {
    if (c["column"] == "tenure") tenure = c;
  }
  ASSERT_TRUE(tenure.is_object());
  EXPECT_EQ(tenure["test"], "wasserstein");  // more than 1000 reference values
  EXPECT_EQ(tenure["drifted"], true);
  EXPECT_GT(tenure["score"].get<double>(), 1.0);  // months 0–11 against 24–72
  EXPECT_DOUBLE_EQ(tenure["quality"]["out_of_range_rate"].get<double>(), 1.0);
  EXPECT_EQ(tenure["psi_level"], "significant");
  const json& live = report["live"];
  EXPECT_EQ(live["task"], "binary");
  EXPECT_EQ(live["predictions"], 84);
  EXPECT_EQ(live["labelled"], 81);
  EXPECT_EQ(live["matched"], 84);
  EXPECT_DOUBLE_EQ(live["metrics"]["accuracy"].get<double>(), correct / 84.0);
  EXPECT_DOUBLE_EQ(live["metrics"]["positive_rate"].get<double>(), positives / 84.0);
  EXPECT_TRUE(live["metrics"].contains("auc"));
  EXPECT_NE(report["prediction_drift"]["note"].get<std::string>().find("not enough data"),
            std::string::npos);
  const json& summary = report["summary"];
  EXPECT_EQ(summary["counted"], 19);
  EXPECT_GE(summary["drifted"].get<int>(), 1);

  // The table: one row per column and the verdict.
  CommandResult table = Cairn(
      {"monitor", "drift", "churn", "--since", std::to_string(report["since"].get<int64_t>())});
  ASSERT_EQ(table.exit_code, 0) << table.err;
  EXPECT_NE(table.out.find("COLUMN"), std::string::npos) << table.out;
  EXPECT_NE(table.out.find("tenure"), std::string::npos);
  EXPECT_NE(table.out.find("wasserstein"), std::string::npos);
  const std::string verdict =
      std::string(summary["dataset_drift"] ? "dataset drift: " : "no dataset drift: ") +
      std::to_string(summary["drifted"].get<int>()) + " of 19 columns";
  EXPECT_NE(table.out.find(verdict), std::string::npos) << table.out;
  EXPECT_NE(table.out.find("prediction drift"), std::string::npos);

  // Status: configuration, the reports (newest first), live metrics, feedback.
  json status = CairnJson({"monitor", "status", "churn"});
  EXPECT_EQ(status["feedback_labels"], 82);
  EXPECT_EQ(status["config"]["interval"], "1h");
  ASSERT_EQ(status["reports"].size(), 2u);
  EXPECT_EQ(status["reports"][1]["report_id"], report["report_id"]);
  EXPECT_EQ(status["latest_report"]["report_id"], status["reports"][0]["report_id"]);
  EXPECT_EQ(status["live"]["matched"], 84);
  CommandResult st = Cairn({"monitor", "status", "churn"});
  ASSERT_EQ(st.exit_code, 0) << st.err;
  EXPECT_NE(st.out.find("82 labels"), std::string::npos) << st.out;
  EXPECT_NE(st.out.find("accuracy"), std::string::npos) << st.out;
  EXPECT_NE(st.out.find("latest: " + verdict), std::string::npos) << st.out;

  // Configure, then the stored report again by id.
  json config = CairnJson({"monitor", "configure", "churn", "--interval", "10m", "--drift-share",
                           "0.9", "--p-value", "0.01"});
  EXPECT_EQ(config["interval_ms"], 600000);
  EXPECT_DOUBLE_EQ(config["thresholds"]["drift_share"].get<double>(), 0.9);
  json shown = CairnJson({"monitor", "show", "churn", report["report_id"]});
  EXPECT_EQ(shown, report);

  // /metrics: the latest report's gauges, accepted by promtool.
  auto metrics = http->Send("GET", "/metrics");
  ASSERT_TRUE(metrics.ok());
  const std::string& text = metrics->body;
  EXPECT_NE(text.find("cairn_monitor_drift_share{endpoint=\"churn\"}"), std::string::npos) << text;
  EXPECT_NE(text.find("cairn_monitor_column_drifted{endpoint=\"churn\",column=\"tenure\"} 1"),
            std::string::npos);
  EXPECT_NE(text.find("cairn_monitor_feedback_labels{endpoint=\"churn\"} 82"), std::string::npos);
  EXPECT_NE(text.find("cairn_monitor_live_metric{endpoint=\"churn\",metric=\"accuracy\"}"),
            std::string::npos);
  if (std::system("command -v promtool > /dev/null 2>&1") != 0) {
    GTEST_SKIP() << "promtool is not installed (scripts/setup installs Debian's prometheus)";
  }
  const std::string file = *dir_ + "/metrics.txt";
  std::ofstream(file) << text;
  const std::string out = *dir_ + "/promtool.out";
  int rc = std::system(("promtool check metrics < " + file + " > " + out + " 2>&1").c_str());
  EXPECT_EQ(rc, 0) << ReadFile(out);
}

TEST_F(MonitorTest, BadInput) {
  ExpectCliError({"monitor", "drift", "nope"}, "endpoint 'nope'");
  ExpectCliError({"monitor", "status", "nope"}, "endpoint 'nope'");
  ExpectCliError({"monitor", "drift", "churn", "--window", "5x"}, "window:");
  ExpectCliError({"monitor", "drift", "churn", "--since", "yesterday"}, "since:");
  ExpectCliError({"monitor", "drift", "churn", "--since", "2000", "--until", "1000"}, "until");
  ExpectCliError({"monitor", "configure", "churn", "--p-value", "7"}, "thresholds.p_value");
  ExpectCliError({"monitor", "configure", "churn", "--interval", "soon"}, "interval:");
  ExpectCliError({"monitor", "configure", "churn", "--baseline", "@v1"}, "baseline:");
  const std::string no_label = *dir_ + "/no_label.csv";
  std::ofstream(no_label) << "request_id,truth\na,1\n";
  ExpectCliError({"monitor", "feedback", "churn", "--file", no_label}, "request_id and label");
  ExpectCliError({"monitor", "feedback", "churn", "--file", *dir_ + "/absent.csv"}, "--file");
  const std::string bad_jsonl = *dir_ + "/bad.jsonl";
  std::ofstream(bad_jsonl) << R"({"request_id": "a", "label": 1})"
                           << "\n"
                           << R"({"request_id": 5, "label": 1})"
                           << "\n";
  ExpectCliError({"monitor", "feedback", "churn", "--file", bad_jsonl}, "labels[1].request_id");
  ExpectCliError({"monitor", "feedback", "nope", "--file", bad_jsonl}, "nope");

  // The API's own errors, MLflow-style.
  auto http = server_->NewClient();
  auto r = http->Send("POST", "/api/v1/endpoints/churn/feedback",
                      R"({"labels": [{"request_id": "x", "label": {"a": 1}}]})",
                      {{"content-type", "application/json"}});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->status, 400);
  json error = json::parse(r->body);
  EXPECT_EQ(error["error_code"], "INVALID_PARAMETER_VALUE");
  EXPECT_NE(error["message"].get<std::string>().find("labels[0].label"), std::string::npos);
  r = http->Send("GET", "/api/v1/endpoints/nope/monitor");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->status, 404);
  EXPECT_EQ(json::parse(r->body)["error_code"], "RESOURCE_DOES_NOT_EXIST");
  r = http->Send("GET", "/api/v1/endpoints/churn/monitor/metrics?window=1y");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->status, 400);
}

}  // namespace
}  // namespace cairn::testing
