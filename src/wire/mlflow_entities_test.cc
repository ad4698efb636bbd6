#include "wire/mlflow_entities.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <tuple>

namespace cairn::wire {
namespace {

using store::DatasetInput;
using store::Experiment;
using store::LifecycleStage;
using store::Metric;
using store::Param;
using store::RunInfo;
using store::RunStatus;
using store::Tag;

constexpr double kInf = std::numeric_limits<double>::infinity();

// --- Values ------------------------------------------------------------------------------------

TEST(WireValuesTest, ParsesDoublesAsNumbersOrStrings) {
  EXPECT_EQ(*ParseDouble(Json(0.5)), 0.5);
  EXPECT_EQ(*ParseDouble(Json(3)), 3.0);
  EXPECT_TRUE(std::isnan(*ParseDouble(Json("NaN"))));
  EXPECT_TRUE(std::isnan(*ParseDouble(Json(nullptr))));
  EXPECT_EQ(*ParseDouble(Json("Infinity")), kInf);
  EXPECT_EQ(*ParseDouble(Json("-Infinity")), -kInf);
  EXPECT_EQ(*ParseDouble(Json("inf")), kInf);
  EXPECT_EQ(*ParseDouble(Json("1.25")), 1.25);
  EXPECT_EQ(ParseDouble(Json("abc")).status().code(), StatusCode::kInvalidArgument);
  EXPECT_FALSE(ParseDouble(Json::array()).ok());
  EXPECT_FALSE(ParseDouble(Json(" 1")).ok());
}

TEST(WireValuesTest, ParsesInt64AsNumbersOrStrings) {
  EXPECT_EQ(*ParseInt64(Json(1700000000123)), 1700000000123);
  EXPECT_EQ(*ParseInt64(Json("1700000000123")), 1700000000123);
  EXPECT_EQ(*ParseInt64(Json("-5")), -5);
  EXPECT_EQ(*ParseInt64(Json(42.0)), 42);
  EXPECT_EQ(ParseInt64(Json("12x")).status().code(), StatusCode::kInvalidArgument);
  EXPECT_FALSE(ParseInt64(Json(1.5)).ok());
  EXPECT_FALSE(ParseInt64(Json(1e19)).ok());
  EXPECT_FALSE(ParseInt64(Json(true)).ok());
  EXPECT_FALSE(ParseInt64(Json("")).ok());
}

TEST(WireValuesTest, ParsesText) {
  EXPECT_TRUE(std::isnan(*ParseDoubleText("NaN")));
  EXPECT_EQ(ParseDoubleText("-Infinity"), -kInf);
  EXPECT_EQ(ParseDoubleText("1e3"), 1000.0);
  EXPECT_EQ(ParseDoubleText(""), std::nullopt);
  EXPECT_EQ(ParseDoubleText("1.5x"), std::nullopt);
  EXPECT_EQ(ParseInt64Text("9223372036854775807"), std::numeric_limits<int64_t>::max());
  EXPECT_EQ(ParseInt64Text("9223372036854775808"), std::nullopt);
  EXPECT_EQ(ParseInt64Text("1.0"), std::nullopt);
}

TEST(WireValuesTest, WritesSpecialDoublesAsStrings) {
  EXPECT_EQ(DoubleToJson(std::nan("")), Json("NaN"));
  EXPECT_EQ(DoubleToJson(kInf), Json("Infinity"));
  EXPECT_EQ(DoubleToJson(-kInf), Json("-Infinity"));
  EXPECT_EQ(DoubleToJson(0.25), Json(0.25));
}

// --- Shapes the server answers with (protobuf JSON) --------------------------------------------

TEST(WireShapesTest, ExperimentLeavesOutEmptyTags) {
  Experiment e{"3", "churn", "mlflow-artifacts:/3", LifecycleStage::kActive, 10, 20, {}};
  EXPECT_EQ(ToJson(e), Json::parse(R"({"experiment_id":"3","name":"churn",
      "artifact_location":"mlflow-artifacts:/3","lifecycle_stage":"active",
      "creation_time":10,"last_update_time":20})"));
  e.tags = {{"team", "ml"}};
  EXPECT_EQ(ToJson(e)["tags"], Json::parse(R"([{"key":"team","value":"ml"}])"));
}

TEST(WireShapesTest, EmptyRunHasEmptyDataAndInputs) {
  store::Run run;
  run.info.run_id = "abc";
  Json j = ToJson(run);
  EXPECT_EQ(j["data"], Json::object());
  EXPECT_EQ(j["inputs"], Json::object());
  EXPECT_EQ(j["info"]["run_uuid"], "abc");
  EXPECT_EQ(j["info"]["status"], "RUNNING");
  EXPECT_FALSE(j["info"].contains("end_time"));
}

TEST(WireShapesTest, DatasetInputLeavesOutEmptyFields) {
  DatasetInput d{"churn", "d1", "local", "/x.csv", "", "", {}};
  EXPECT_EQ(ToJson(d), Json::parse(R"({"dataset":{"name":"churn","digest":"d1",
      "source_type":"local","source":"/x.csv"}})"));
}

TEST(WireShapesTest, ArtifactEntryHasFileSizeForFilesOnly) {
  EXPECT_EQ(ToJson(store::ArtifactEntry{"model", true, 0, ""}),
            Json::parse(R"({"path":"model","is_dir":true})"));
  EXPECT_EQ(ToJson(store::ArtifactEntry{"model/x.bin", false, 0, "ab12"}),
            Json::parse(R"({"path":"model/x.bin","is_dir":false,"file_size":0})"));
  EXPECT_EQ(ToJson(FileInfo{"a.txt", false, std::nullopt}),
            Json::parse(R"({"path":"a.txt","is_dir":false})"));
}

// --- Parsing what MLflow servers send ----------------------------------------------------------

TEST(WireParseTest, ParsesExperimentWithStringTimestamps) {
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

TEST(WireParseTest, RejectsMalformedExperimentNamingTheField) {
  Status s = ExperimentFromJson(Json::parse(R"({"name": 5})")).status();
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(s.message(), "'name' is not a string");
  EXPECT_EQ(ExperimentFromJson(Json::parse(R"({"creation_time": "soon"})")).status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_FALSE(ExperimentFromJson(Json::parse(R"({"lifecycle_stage": "gone"})")).ok());
  EXPECT_FALSE(ExperimentFromJson(Json::array()).ok());
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

TEST(WireParseTest, ParsesRun) {
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

TEST(WireParseTest, RejectsMalformedRun) {
  EXPECT_EQ(RunFromJson(Json::object()).status().message(), "run has no 'info'");
  EXPECT_FALSE(RunFromJson(Json::parse(R"({"info":{"status":"DONE"}})")).ok());
  Status bad_metric =
      RunFromJson(Json::parse(R"({"info":{},"data":{"metrics":[{"key":"m","value":"x"}]}})"))
          .status();
  EXPECT_EQ(bad_metric.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(bad_metric.message(), "metric 'm': expected a number, got \"x\"");
  EXPECT_FALSE(RunFromJson(Json::parse(R"({"info":{},"inputs":{"dataset_inputs":{}}})")).ok());
}

TEST(WireParseTest, ParsesFileInfo) {
  auto dir = FileInfoFromJson(Json::parse(R"({"path":"model","is_dir":true})"));
  ASSERT_TRUE(dir.ok());
  EXPECT_TRUE(dir->is_dir);
  EXPECT_FALSE(dir->file_size.has_value());
  auto file =
      FileInfoFromJson(Json::parse(R"({"path":"a.txt","is_dir":"false","file_size":"12"})"));
  ASSERT_TRUE(file.ok()) << file.status().ToString();
  EXPECT_FALSE(file->is_dir);
  EXPECT_EQ(file->file_size, 12);
  EXPECT_FALSE(FileInfoFromJson(Json::parse(R"({"is_dir":1})")).ok());
}

// --- Round trips: ToJson then FromJson gives the same record -----------------------------------

// Doubles compare equal, or are both NaN.
bool SameDouble(double a, double b) { return a == b || (std::isnan(a) && std::isnan(b)); }

void ExpectSameMetric(const Metric& a, const Metric& b) {
  EXPECT_EQ(a.key, b.key);
  EXPECT_TRUE(SameDouble(a.value, b.value)) << a.key << ": " << a.value << " vs " << b.value;
  EXPECT_EQ(a.timestamp, b.timestamp);
  EXPECT_EQ(a.step, b.step);
}

// The fields of a record, to compare records field by field (store records have no operator==).
auto Fields(const RunInfo& i) {
  return std::tie(i.run_id, i.run_name, i.experiment_id, i.user_id, i.status, i.start_time,
                  i.end_time, i.artifact_uri, i.lifecycle_stage);
}
auto Fields(const DatasetInput& d) {
  return std::tie(d.name, d.digest, d.source_type, d.source, d.schema, d.profile, d.tags);
}
auto Fields(const Experiment& e) {
  return std::tie(e.experiment_id, e.name, e.artifact_location, e.lifecycle_stage, e.creation_time,
                  e.last_update_time, e.tags);
}

void ExpectSameRun(const store::Run& a, const store::Run& b) {
  EXPECT_EQ(Fields(a.info), Fields(b.info));
  ASSERT_EQ(a.metrics.size(), b.metrics.size());
  for (size_t i = 0; i < a.metrics.size(); ++i) ExpectSameMetric(a.metrics[i], b.metrics[i]);
  EXPECT_EQ(a.params, b.params);
  EXPECT_EQ(a.tags, b.tags);
  ASSERT_EQ(a.inputs.size(), b.inputs.size());
  for (size_t i = 0; i < a.inputs.size(); ++i) EXPECT_EQ(Fields(a.inputs[i]), Fields(b.inputs[i]));
}

store::Run FullRun() {
  store::Run run;
  run.info = {"0123456789abcdef0123456789abcdef",
              "brave-fox",
              "1",
              "ann",
              RunStatus::kFailed,
              1700000000000,
              1700000060000,
              "mlflow-artifacts:/1/0123/artifacts",
              LifecycleStage::kDeleted};
  run.metrics = {{"auc", std::nan(""), 1, 2},
                 {"gain", kInf, 3, -1},
                 {"loss", -kInf, 4, 9000000000},
                 {"lr", 1e-300, 5, 0}};
  run.params = {{"depth", "6"}, {"empty", ""}};
  run.tags = {{"mlflow.runName", "brave-fox"}, {"team", "ml"}};
  run.inputs = {{"churn",
                 "d1",
                 "local",
                 "/x.csv",
                 R"({"mlflow_colspec":[]})",
                 R"({"rows":3})",
                 {{"mlflow.data.context", "training"}}},
                {"eval", "d2", "s3", "s3://b/e.csv", "", "", {}}};
  return run;
}

TEST(WireRoundTripTest, Run) {
  store::Run run = FullRun();
  auto again = RunFromJson(ToJson(run));
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  ExpectSameRun(run, *again);
}

TEST(WireRoundTripTest, EmptyRunAndRunningInfo) {
  store::Run run;
  run.info.run_id = "r";
  run.info.run_name = "quiet";
  auto again = RunFromJson(ToJson(run));
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  ExpectSameRun(run, *again);
  auto info = RunInfoFromJson(ToJson(run.info));
  ASSERT_TRUE(info.ok());
  EXPECT_EQ(Fields(run.info), Fields(*info));
}

TEST(WireRoundTripTest, RunThroughText) {  // what actually crosses the wire
  store::Run run = FullRun();
  auto again = RunFromJson(Json::parse(ToJson(run).dump()));
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  ExpectSameRun(run, *again);
}

TEST(WireRoundTripTest, Metrics) {
  for (const Metric& m : FullRun().metrics) {
    auto again = MetricFromJson(ToJson(m));
    ASSERT_TRUE(again.ok()) << again.status().ToString();
    ExpectSameMetric(m, *again);
  }
}

TEST(WireRoundTripTest, Experiment) {
  for (std::vector<Tag> tags : {std::vector<Tag>{}, std::vector<Tag>{{"a", "1"}, {"b", ""}}}) {
    Experiment e{"7", "churn", "/tmp/mlruns/7", LifecycleStage::kDeleted, 1, 2, tags};
    auto again = ExperimentFromJson(ToJson(e));
    ASSERT_TRUE(again.ok()) << again.status().ToString();
    EXPECT_EQ(Fields(*again), Fields(e));
  }
}

TEST(WireRoundTripTest, ArtifactEntries) {
  auto dir = FileInfoFromJson(ToJson(store::ArtifactEntry{"model", true, 0, ""}));
  ASSERT_TRUE(dir.ok());
  EXPECT_EQ(dir->path, "model");
  EXPECT_TRUE(dir->is_dir);
  EXPECT_FALSE(dir->file_size.has_value());
  auto file = FileInfoFromJson(ToJson(store::ArtifactEntry{"model/x.bin", false, 100000, "ab"}));
  ASSERT_TRUE(file.ok());
  EXPECT_EQ(file->path, "model/x.bin");
  EXPECT_FALSE(file->is_dir);
  EXPECT_EQ(file->file_size, 100000);
}

}  // namespace
}  // namespace cairn::wire
