#include "monitoring/monitor_service.h"

#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "core/ids.h"
#include "data/profile.h"
#include "ml/metrics.h"
#include "monitoring/testing/fake_sources.h"
#include "store/sqlite/sqlite_metadata_store.h"

namespace cairn::monitoring {
namespace {

namespace fs = std::filesystem;
using testing::FakeBaselines;
using testing::FakeCatalog;
using json = nlohmann::json;

constexpr int64_t kT0 = 1700000000000;  // the window under test starts here
constexpr int64_t kMinute = 60 * 1000;

double BaselineX(int i) { return ((i * 37) % 200) / 10.0; }  // 0 … 19.9, each once
std::string BaselineColor(int i) {
  static const char* kColors[] = {"red", "green", "blue"};
  return kColors[i % 3];
}

class MonitorServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("cairn_monitor_" + NewUuidHex());
    fs::create_directories(dir_);
    auto store = store::SqliteMetadataStore::Open((dir_ / "m.db").string(), clock_);
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    store_ = std::move(*store);

    std::string csv = "x,color,flag,y\n";
    for (int i = 0; i < 200; ++i) {
      char line[128];
      std::snprintf(line, sizeof(line), "%.1f,%s,%s,%d\n", BaselineX(i), BaselineColor(i).c_str(),
                    i % 2 == 0 ? "true" : "false", i % 2);
      csv += line;
    }
    auto profile = data::ProfileCsv(csv);
    ASSERT_TRUE(profile.ok()) << profile.status().ToString();
    baselines_.profiles_["base"] = *profile;

    ServedModel model;
    model.deployment = "blue";
    model.model_uri = "models:/m/1";
    model.model_version = "m/1";
    model.traffic = 100;
    model.task = ml::Task::kBinary;
    model.target = "y";
    model.input_columns = {"x", "color", "flag"};
    model.classes = {"0", "1"};
    model.dataset = ml::DatasetRef{"base", "v1", "digest"};
    catalog_.models_["churn"] = {model};

    service_ = std::make_unique<MonitorService>(*store_, catalog_, baselines_, clock_);
  }
  void TearDown() override {
    service_.reset();
    store_.reset();
    fs::remove_all(dir_);
  }

  // One live request of one row, logged at `time`.
  void AddRow(int64_t time, const std::string& id, json x, json color, json flag,
              json output = 0.5) {
    PredictionRecord r;
    r.time = time;
    r.request_id = id;
    r.endpoint = "churn";
    r.deployment = "blue";
    r.model_uri = "models:/m/1";
    r.model_version = "m/1";
    r.status = 200;
    r.inputs = json{{"columns", {"x", "color", "flag"}}, {"data", {{x, color, flag}}}}.dump();
    r.outputs = json::array({output}).dump();
    catalog_.records_.push_back(r);
  }

  ReportRequest Window(int64_t since, int64_t until) {
    ReportRequest req;
    req.endpoint = "churn";
    req.since = since;
    req.until = until;
    return req;
  }

  const ColumnReport& Column(const MonitorReport& report, const std::string& name) {
    for (const ColumnReport& c : report.columns) {
      if (c.drift.column == name) return c;
    }
    ADD_FAILURE() << "no column " << name;
    static ColumnReport none;
    return none;
  }

  fs::path dir_;
  FakeClock clock_{kT0 + 2 * kHourMillis};
  std::unique_ptr<store::SqliteMetadataStore> store_;
  FakeCatalog catalog_;
  FakeBaselines baselines_;
  std::unique_ptr<MonitorService> service_;
};

TEST(DurationTest, ParsesAndFormats) {
  EXPECT_EQ(*ParseDuration("1h", "window"), kHourMillis);
  EXPECT_EQ(*ParseDuration("1h30m", "window"), 90 * kMinute);
  EXPECT_EQ(*ParseDuration("500ms", "window"), 500);
  EXPECT_EQ(*ParseDuration("90", "window"), 90000);
  EXPECT_EQ(*ParseDuration("0", "interval", true), 0);
  EXPECT_EQ(ParseDuration("0", "window").status().code(), StatusCode::kInvalidArgument);
  auto bad = ParseDuration("1x", "window");
  EXPECT_NE(bad.status().message().find("window:"), std::string::npos);
  EXPECT_FALSE(ParseDuration("h", "window").ok());
  EXPECT_FALSE(ParseDuration("400d", "window").ok());
  EXPECT_EQ(FormatDurationMillis(90 * kMinute), "1h30m");
  EXPECT_EQ(FormatDurationMillis(0), "0s");
  EXPECT_EQ(FormatDurationMillis(10 * kMinute), "10m");
}

TEST_F(MonitorServiceTest, DriftOnAShiftedColumnNoneOnIdenticalOnes) {
  // The window repeats the baseline rows exactly, except x shifted past its range.
  for (int i = 0; i < 200; ++i) {
    AddRow(kT0 + i * 1000, "r" + std::to_string(i), BaselineX(i) + 50, BaselineColor(i),
           i % 2 == 0);
  }
  auto report = service_->ComputeReport(Window(kT0, kT0 + kHourMillis));
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  EXPECT_EQ(baselines_.asked_, std::vector<std::string>{"base@1"});  // the model's cairn.dataset
  EXPECT_EQ(report->baseline, "base@v1");
  EXPECT_EQ(report->requests, 200);
  EXPECT_EQ(report->rows, 200);
  EXPECT_EQ(report->model_versions, (std::map<std::string, int64_t>{{"m/1", 200}}));
  ASSERT_EQ(report->columns.size(), 3u);

  const ColumnReport& x = Column(*report, "x");
  EXPECT_EQ(x.drift.test, "ks");
  EXPECT_TRUE(x.drift.drifted);
  EXPECT_DOUBLE_EQ(x.drift.statistic, 1.0);
  EXPECT_LT(x.drift.p_value, 1e-10);
  EXPECT_DOUBLE_EQ(x.quality.out_of_range_rate, 1.0);

  const ColumnReport& color = Column(*report, "color");
  EXPECT_FALSE(color.drift.drifted);
  EXPECT_DOUBLE_EQ(color.drift.statistic, 0.0);
  EXPECT_DOUBLE_EQ(color.drift.p_value, 1.0);
  const ColumnReport& flag = Column(*report, "flag");
  EXPECT_FALSE(flag.drift.drifted);
  EXPECT_EQ(flag.quality.type_errors, 0);

  EXPECT_EQ(report->summary.counted, 3);
  EXPECT_EQ(report->summary.drifted, 1);
  EXPECT_NEAR(report->summary.share, 1.0 / 3, 1e-12);
  EXPECT_FALSE(report->summary.dataset_drift);

  // With a lower share threshold the same data is dataset drift.
  ASSERT_TRUE(service_->UpdateConfig("churn", json{{"drift_share", 0.3}}).ok());
  report = service_->ComputeReport(Window(kT0, kT0 + kHourMillis));
  ASSERT_TRUE(report.ok());
  EXPECT_TRUE(report->summary.dataset_drift);
  EXPECT_DOUBLE_EQ(report->drift_share_threshold, 0.3);
}

TEST_F(MonitorServiceTest, IdenticalDataDoesNotDrift) {
  for (int i = 0; i < 200; ++i) {
    AddRow(kT0 + i * 1000, "r" + std::to_string(i), BaselineX(i), BaselineColor(i), i % 2 == 0);
  }
  auto report = service_->ComputeReport(Window(kT0, kT0 + kHourMillis));
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  for (const ColumnReport& c : report->columns) {
    EXPECT_FALSE(c.drift.drifted) << c.drift.column;
    EXPECT_TRUE(c.drift.counted) << c.drift.column;
    EXPECT_DOUBLE_EQ(c.drift.statistic, 0.0) << c.drift.column;
    EXPECT_EQ(c.quality.missing + c.quality.type_errors + c.quality.out_of_range, 0);
  }
  EXPECT_EQ(report->summary.drifted, 0);
  EXPECT_DOUBLE_EQ(report->summary.share, 0.0);
}

TEST_F(MonitorServiceTest, DataQualityRatesAreExact) {
  AddRow(kT0 + 1, "a", nullptr, "red", true);  // x missing
  AddRow(kT0 + 2, "b", "abc", "red", true);    // x a string: type error
  AddRow(kT0 + 3, "c", 1e9, "red", true);      // x out of range
  AddRow(kT0 + 4, "d", -1, 3, "maybe");        // x out of range; color 3 is "3"; flag error
  for (int i = 0; i < 4; ++i) AddRow(kT0 + 10 + i, "n" + std::to_string(i), 5.0, "", false);
  // color absent from a request altogether
  PredictionRecord r = catalog_.records_.back();
  r.request_id = "e";
  r.inputs = json{{"columns", {"x", "flag"}}, {"data", {{2.0, true}, {3.0, false}}}}.dump();
  r.outputs = "[0.1,0.2]";
  catalog_.records_.push_back(r);
  // a mirrored copy and an error answer are not part of the window's live data
  r.request_id = "shadow";
  r.mirrored = true;
  catalog_.records_.push_back(r);

  auto report = service_->ComputeReport(Window(kT0, kT0 + kHourMillis));
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  EXPECT_EQ(report->rows, 10);
  const ColumnQuality& x = Column(*report, "x").quality;
  EXPECT_EQ(x.rows, 10);
  EXPECT_EQ(x.missing, 1);
  EXPECT_EQ(x.type_errors, 1);
  EXPECT_EQ(x.out_of_range, 2);
  EXPECT_DOUBLE_EQ(x.missing_rate, 0.1);
  EXPECT_DOUBLE_EQ(x.type_error_rate, 0.1);
  EXPECT_DOUBLE_EQ(x.out_of_range_rate, 0.2);
  const ColumnQuality& color = Column(*report, "color").quality;
  EXPECT_EQ(color.missing, 4 + 2);  // four empty strings, two rows without the column
  EXPECT_EQ(color.type_errors, 0);
  EXPECT_DOUBLE_EQ(color.missing_rate, 0.6);
  const ColumnQuality& flag = Column(*report, "flag").quality;
  EXPECT_EQ(flag.type_errors, 1);
  EXPECT_DOUBLE_EQ(flag.type_error_rate, 0.1);
  // Ten rows are fewer than the 30 a test needs: reported, not counted.
  EXPECT_FALSE(Column(*report, "x").drift.counted);
  EXPECT_EQ(report->summary.counted, 0);
}

TEST_F(MonitorServiceTest, FeedbackMatchesPredictionsByRequestId) {
  const std::vector<double> probs = {0.05, 0.15, 0.25, 0.35, 0.55, 0.65, 0.75, 0.85};
  const std::vector<int> labels = {0, 0, 1, 0, 1, 1, 0, 1};
  for (size_t i = 0; i < probs.size(); ++i) {
    AddRow(kT0 + int64_t(i), "r" + std::to_string(i), 1.0, "red", true, probs[i]);
  }
  AddRow(kT0 + 20, "r8", 1.0, "red", true, 0.5);  // labelled with a class the model lacks
  AddRow(kT0 + 21, "r9", 1.0, "red", true, 0.5);  // never labelled
  // A request of three rows, labelled with one label per row; one of two rows with one label.
  PredictionRecord multi = catalog_.records_.back();
  multi.request_id = "m";
  multi.inputs = json{{"columns", {"x"}}, {"data", {{1.0}, {2.0}, {3.0}}}}.dump();
  multi.outputs = "[0.2,0.6,0.9]";
  catalog_.records_.push_back(multi);
  multi.request_id = "m2";
  multi.inputs = json{{"columns", {"x"}}, {"data", {{1.0}, {2.0}}}}.dump();
  multi.outputs = "[0.3,0.7]";
  catalog_.records_.push_back(multi);

  json feedback = json::array();
  for (size_t i = 0; i < labels.size(); ++i) {
    feedback.push_back({{"request_id", "r" + std::to_string(i)}, {"label", labels[i]}});
  }
  feedback.push_back({{"request_id", "r8"}, {"label", "maybe"}});
  feedback.push_back({{"request_id", "m"}, {"label", {0, "1", 1}}});
  feedback.push_back({{"request_id", "m2"}, {"label", {1}}});
  feedback.push_back({{"request_id", "unknown-id"}, {"label", 1}});
  auto stored = service_->PostFeedback("churn", feedback);
  ASSERT_TRUE(stored.ok()) << stored.status().ToString();
  EXPECT_EQ(*stored, 12);

  auto live = service_->ComputeLiveMetrics("churn", kT0, kT0 + kHourMillis);
  ASSERT_TRUE(live.ok()) << live.status().ToString();
  EXPECT_EQ(live->task, "binary");
  EXPECT_EQ(live->requests, 12);
  EXPECT_EQ(live->predictions, 15);
  EXPECT_EQ(live->labelled, 11);  // r0..r8, m, m2
  EXPECT_EQ(live->matched, 11);   // r0..r7 and m's three rows
  EXPECT_EQ(live->unmatched, 3);  // r8's unknown class, m2's two rows

  std::vector<float> y(labels.begin(), labels.end());
  std::vector<float> p(probs.begin(), probs.end());
  y.insert(y.end(), {0, 1, 1});
  p.insert(p.end(), {0.2f, 0.6f, 0.9f});
  auto expected = ml::ComputeBinaryMetrics(y, p);
  ASSERT_TRUE(expected.ok());
  EXPECT_DOUBLE_EQ(live->values.at("auc"), expected->auc);
  EXPECT_DOUBLE_EQ(live->values.at("accuracy"), expected->accuracy);
  EXPECT_DOUBLE_EQ(live->values.at("log_loss"), expected->log_loss);
  EXPECT_DOUBLE_EQ(live->values.at("precision"), expected->precision);
  EXPECT_DOUBLE_EQ(live->values.at("recall"), expected->recall);
  // By hand: predicted positive (> 0.5) are 0.55 0.65 0.75 0.85 0.6 0.9 → 6 of 11; correct are
  // r0 r1 r3 r4 r5 r7 and m's three → 9 of 11.
  EXPECT_DOUBLE_EQ(live->values.at("positive_rate"), 6.0 / 11);
  EXPECT_DOUBLE_EQ(live->values.at("accuracy"), 9.0 / 11);
  // AUC by hand: positives {0.25,0.55,0.65,0.85,0.6,0.9}, negatives {0.05,0.15,0.35,0.75,0.2}:
  // pairs ranked right = 3+4+4+5+4+5 = 25 of 30.
  EXPECT_DOUBLE_EQ(live->values.at("auc"), 25.0 / 30);

  auto value = service_->LiveMetricValue("churn", "accuracy", 3 * kHourMillis);
  ASSERT_TRUE(value.ok());
  ASSERT_TRUE(value->has_value());
  EXPECT_DOUBLE_EQ(**value, 9.0 / 11);
  value = service_->LiveMetricValue("churn", "rmse", 3 * kHourMillis);
  ASSERT_TRUE(value.ok());
  EXPECT_FALSE(value->has_value());

  // A later label replaces the earlier one.
  ASSERT_TRUE(
      service_->PostFeedback("churn", json::array({{{"request_id", "r3"}, {"label", 1}}})).ok());
  live = service_->ComputeLiveMetrics("churn", kT0, kT0 + kHourMillis);
  ASSERT_TRUE(live.ok());
  EXPECT_DOUBLE_EQ(live->values.at("accuracy"), 8.0 / 11);
}

TEST_F(MonitorServiceTest, RegressionLiveMetrics) {
  catalog_.models_["churn"][0].task = ml::Task::kRegression;
  catalog_.models_["churn"][0].classes.clear();
  const std::vector<double> pred = {1, 2, 3, 4};
  const std::vector<double> truth = {1.5, 2, 2, 6};
  json feedback = json::array();
  for (size_t i = 0; i < pred.size(); ++i) {
    AddRow(kT0 + int64_t(i), "r" + std::to_string(i), 1.0, "red", true, pred[i]);
    feedback.push_back({{"request_id", "r" + std::to_string(i)}, {"label", truth[i]}});
  }
  ASSERT_TRUE(service_->PostFeedback("churn", feedback).ok());
  auto live = service_->ComputeLiveMetrics("churn", kT0, kT0 + kHourMillis);
  ASSERT_TRUE(live.ok()) << live.status().ToString();
  EXPECT_EQ(live->task, "regression");
  // errors 0.5, 0, 1, 2: MAE 3.5/4, RMSE sqrt(5.25/4)
  EXPECT_NEAR(live->values.at("mae"), 0.875, 1e-6);
  EXPECT_NEAR(live->values.at("rmse"), std::sqrt(5.25 / 4), 1e-6);
  EXPECT_FALSE(live->values.contains("auc"));
}

TEST_F(MonitorServiceTest, FeedbackValidationNamesTheItem) {
  json feedback = json::array();
  for (int i = 0; i < 3; ++i) feedback.push_back({{"request_id", "r"}, {"label", 1}});
  feedback.push_back({{"request_id", 7}, {"label", 1}});
  auto r = service_->PostFeedback("churn", feedback);
  ASSERT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(r.status().message().find("labels[3].request_id"), std::string::npos)
      << r.status().message();
  r = service_->PostFeedback("churn", json::array({{{"request_id", "a"}}}));
  EXPECT_NE(r.status().message().find("labels[0].label: is required"), std::string::npos);
  r = service_->PostFeedback("churn", json::array({{{"request_id", "a"}, {"label", {{"k", 1}}}}}));
  EXPECT_NE(r.status().message().find("labels[0].label"), std::string::npos);
  r = service_->PostFeedback("churn",
                             json::array({{{"request_id", "a"}, {"label", 1}, {"lable", 2}}}));
  EXPECT_NE(r.status().message().find("labels[0].lable: unknown field"), std::string::npos);
  EXPECT_EQ(service_->PostFeedback("churn", json::array()).status().code(),
            StatusCode::kInvalidArgument);
  json many = json::array();
  for (size_t i = 0; i <= kMaxFeedbackPerCall; ++i)
    many.push_back({{"request_id", "x"}, {"label", 0}});
  r = service_->PostFeedback("churn", many);
  EXPECT_NE(r.status().message().find("at most 10000"), std::string::npos);
  EXPECT_EQ(service_->PostFeedback("nope", feedback).status().code(), StatusCode::kNotFound);
  // Nothing of a rejected call is stored.
  EXPECT_EQ(*store_->CountFeedbackLabels("churn"), 0);
}

TEST_F(MonitorServiceTest, PredictionDriftAgainstThePrecedingWindow) {
  // Preceding hour: low scores; this hour: high ones.
  for (int i = 0; i < 60; ++i) {
    AddRow(kT0 - kHourMillis + i * kMinute, "a" + std::to_string(i), BaselineX(i), BaselineColor(i),
           true, 0.1 + 0.001 * i);
    AddRow(kT0 + i * kMinute, "b" + std::to_string(i), BaselineX(i), BaselineColor(i), true,
           0.8 + 0.001 * i);
  }
  auto report = service_->ComputeReport(Window(kT0, kT0 + kHourMillis));
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  const PredictionDrift& pd = report->prediction_drift;
  EXPECT_EQ(pd.reference_since, kT0 - kHourMillis);
  EXPECT_EQ(pd.reference_until, kT0);
  EXPECT_EQ(pd.reference_count, 60);
  EXPECT_EQ(pd.current_count, 60);
  EXPECT_EQ(pd.drift.test, "ks");
  EXPECT_TRUE(pd.drift.drifted);
  EXPECT_DOUBLE_EQ(pd.drift.statistic, 1.0);

  // The hour before has nothing to compare with.
  report = service_->ComputeReport(Window(kT0 - kHourMillis, kT0));
  ASSERT_TRUE(report.ok());
  EXPECT_EQ(report->prediction_drift.reference_count, 0);
  EXPECT_FALSE(report->prediction_drift.drift.counted);
  EXPECT_NE(report->prediction_drift.note.find("not enough data"), std::string::npos);
}

TEST_F(MonitorServiceTest, ReportsAreStoredNewestFirstAndPaged) {
  std::vector<std::string> heard;
  service_->AddReportListener([&](const MonitorReport& r) { heard.push_back(r.report_id); });
  std::vector<std::string> made;
  for (int i = 0; i < 5; ++i) {
    clock_.Advance(1000);
    auto report = service_->ComputeReport(Window(kT0, kT0 + kHourMillis));
    ASSERT_TRUE(report.ok()) << report.status().ToString();
    made.push_back(report->report_id);
  }
  EXPECT_EQ(heard, made);
  std::vector<std::string> listed;
  std::string token;
  do {
    auto page = service_->ListReports("churn", 2, token);
    ASSERT_TRUE(page.ok()) << page.status().ToString();
    for (const auto& r : page->reports) listed.push_back(r.report_id);
    token = page->next_page_token;
  } while (!token.empty());
  EXPECT_EQ(listed, std::vector<std::string>(made.rbegin(), made.rend()));
  auto latest = service_->LatestReport("churn");
  ASSERT_TRUE(latest.ok());
  ASSERT_TRUE(latest->has_value());
  EXPECT_EQ((*latest)->report_id, made.back());
  auto got = service_->GetReport("churn", made[1]);
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got->since, kT0);
  EXPECT_EQ(got->columns.size(), 3u);
  EXPECT_EQ(service_->GetReport("churn", "nope").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(service_->ListReports("churn", 2, "garbage").status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(service_->ListReports("churn", 5000, "").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(service_->ListReports("nope", 2, "").status().code(), StatusCode::kNotFound);
}

TEST_F(MonitorServiceTest, BadWindowsAndMissingBaselines) {
  auto r = service_->ComputeReport(Window(kT0, kT0));
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(r.status().message().find("until"), std::string::npos);
  ReportRequest req;
  req.endpoint = "nope";
  EXPECT_EQ(service_->ComputeReport(req).status().code(), StatusCode::kNotFound);

  catalog_.models_["churn"][0].dataset.reset();
  req.endpoint = "churn";
  r = service_->ComputeReport(req);
  EXPECT_EQ(r.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(r.status().message().find("--baseline"), std::string::npos);
  // A configured baseline overrides the model's, and a column subset narrows the report.
  ASSERT_TRUE(
      service_
          ->UpdateConfig("churn", json{{"baseline", "base@v3"}, {"columns", {"color", "nosuch"}}})
          .ok());
  r = service_->ComputeReport(req);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->baseline, "base@v3");
  ASSERT_EQ(r->columns.size(), 1u);
  EXPECT_EQ(r->columns[0].drift.column, "color");
  ASSERT_EQ(r->notes.size(), 2u);
  EXPECT_NE(r->notes[0].find("'nosuch' is not in the baseline"), std::string::npos);
  ASSERT_TRUE(service_->UpdateConfig("churn", json{{"baseline", "gone@v1"}}).ok());
  EXPECT_EQ(service_->ComputeReport(req).status().code(), StatusCode::kNotFound);
}

TEST_F(MonitorServiceTest, ConfigDefaultsPatchesAndErrors) {
  auto config = service_->GetConfig("churn");
  ASSERT_TRUE(config.ok());
  EXPECT_FALSE(config->stored);
  EXPECT_EQ(config->interval_ms, kHourMillis);
  EXPECT_EQ(config->window_ms, kHourMillis);
  EXPECT_DOUBLE_EQ(config->thresholds.drift_share, 0.5);

  config = service_->UpdateConfig(
      "churn", json{{"interval", "10m"}, {"window", 1800000}, {"thresholds", {{"p_value", 0.01}}}});
  ASSERT_TRUE(config.ok()) << config.status().ToString();
  config = service_->GetConfig("churn");
  ASSERT_TRUE(config.ok());
  EXPECT_TRUE(config->stored);
  EXPECT_EQ(config->interval_ms, 10 * kMinute);
  EXPECT_EQ(config->window_ms, 30 * kMinute);
  EXPECT_DOUBLE_EQ(config->thresholds.p_value, 0.01);
  EXPECT_DOUBLE_EQ(config->thresholds.wasserstein, 0.1);  // untouched
  // A second patch keeps what the first set.
  ASSERT_TRUE(service_->UpdateConfig("churn", json{{"interval", 0}}).ok());
  config = service_->GetConfig("churn");
  EXPECT_EQ(config->interval_ms, 0);
  EXPECT_DOUBLE_EQ(config->thresholds.p_value, 0.01);

  auto bad = service_->UpdateConfig("churn", json{{"window", "soon"}});
  EXPECT_NE(bad.status().message().find("window:"), std::string::npos);
  bad = service_->UpdateConfig("churn", json{{"thresholds", {{"p_value", 7}}}});
  EXPECT_NE(bad.status().message().find("thresholds.p_value"), std::string::npos)
      << bad.status().message();
  bad = service_->UpdateConfig("churn", json{{"drift_share", -1}});
  EXPECT_NE(bad.status().message().find("drift_share"), std::string::npos);
  bad = service_->UpdateConfig("churn", json{{"baseline", "@v1"}});
  EXPECT_NE(bad.status().message().find("baseline:"), std::string::npos);
  bad = service_->UpdateConfig("churn", json{{"intervall", "1h"}});
  EXPECT_NE(bad.status().message().find("intervall: unknown field"), std::string::npos);
  EXPECT_EQ(service_->UpdateConfig("nope", json::object()).status().code(), StatusCode::kNotFound);
}

TEST_F(MonitorServiceTest, RunDueComputesOnTheInterval) {
  catalog_.models_["idle"] = catalog_.models_["churn"];
  ASSERT_TRUE(service_->UpdateConfig("churn", json{{"interval", "10m"}, {"window", "5m"}}).ok());
  ASSERT_TRUE(service_->UpdateConfig("idle", json{{"interval", 0}}).ok());
  int heard = 0;
  service_->AddReportListener([&](const MonitorReport&) { ++heard; });

  const int64_t now = clock_.NowMillis();
  EXPECT_TRUE(service_->RunDue(now).empty());  // first seen: due an interval later
  EXPECT_TRUE(service_->RunDue(now + 5 * kMinute).empty());
  clock_.Set(now + 10 * kMinute);
  auto made = service_->RunDue(now + 10 * kMinute);
  ASSERT_EQ(made.size(), 1u);  // "idle" is off
  EXPECT_EQ(made[0].endpoint, "churn");
  EXPECT_EQ(made[0].trigger, "schedule");
  EXPECT_EQ(made[0].until, now + 10 * kMinute);
  EXPECT_EQ(made[0].until - made[0].since, 5 * kMinute);
  clock_.Set(now + 15 * kMinute);
  EXPECT_TRUE(service_->RunDue(now + 15 * kMinute).empty());
  clock_.Set(now + 20 * kMinute);
  made = service_->RunDue(now + 20 * kMinute);
  ASSERT_EQ(made.size(), 1u);
  EXPECT_EQ(heard, 2);
  auto page = service_->ListReports("churn", 10, "");
  ASSERT_TRUE(page.ok());
  EXPECT_EQ(page->reports.size(), 2u);
}

TEST_F(MonitorServiceTest, MetricsExportTheLatestReport) {
  for (int i = 0; i < 200; ++i) {
    AddRow(kT0 + i * 1000, "r" + std::to_string(i), BaselineX(i) + 50, BaselineColor(i), i % 2 == 0,
           0.9);
  }
  ASSERT_TRUE(
      service_->PostFeedback("churn", json::array({{{"request_id", "r1"}, {"label", 1}}})).ok());
  ASSERT_TRUE(service_->ComputeReport(Window(kT0, kT0 + kHourMillis)).ok());
  const std::string text = service_->RenderMetrics();
  EXPECT_NE(text.find("cairn_monitor_drift_share{endpoint=\"churn\"} 0.3333"), std::string::npos)
      << text;
  EXPECT_NE(text.find("cairn_monitor_dataset_drift{endpoint=\"churn\"} 0"), std::string::npos);
  EXPECT_NE(text.find("cairn_monitor_column_drifted{endpoint=\"churn\",column=\"x\"} 1"),
            std::string::npos);
  EXPECT_NE(text.find("cairn_monitor_feedback_labels{endpoint=\"churn\"} 1"), std::string::npos);
  EXPECT_NE(text.find("cairn_monitor_live_metric{endpoint=\"churn\",metric=\"accuracy\"} 1"),
            std::string::npos);
  // One HELP and TYPE per family.
  size_t helps = 0;
  for (size_t at = text.find("# HELP cairn_monitor_column_drifted "); at != std::string::npos;
       at = text.find("# HELP cairn_monitor_column_drifted ", at + 1)) {
    ++helps;
  }
  EXPECT_EQ(helps, 1u);
}

TEST_F(MonitorServiceTest, ReportJsonRoundTrips) {
  for (int i = 0; i < 40; ++i) {
    AddRow(kT0 + i, "r" + std::to_string(i), BaselineX(i), BaselineColor(i), true, 0.3);
  }
  auto report = service_->ComputeReport(Window(kT0, kT0 + kHourMillis));
  ASSERT_TRUE(report.ok());
  auto back = MonitorReportFromJson(ToJson(*report));
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(ToJson(*back).dump(), ToJson(*report).dump());
}

}  // namespace
}  // namespace cairn::monitoring
