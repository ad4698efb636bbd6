#include "triggers/trigger_spec.h"

#include <gtest/gtest.h>

#include "pipelines/spec.h"

namespace cairn::triggers {
namespace {

using Json = nlohmann::json;

std::vector<std::string> Problems(const Json& triggers) {
  std::vector<std::string> out;
  for (const auto& p : ValidateTriggers(triggers)) out.push_back(p.path + ": " + p.message);
  return out;
}

TEST(TriggerSpecTest, AcceptsEveryKindAsWrittenInYaml) {
  const Json t = Json::parse(R"([
    {"schedule": "0 3 * * *"},
    {"drift": {"endpoint": "churn", "threshold": "0.5"}},
    {"drift": {"endpoint": "churn", "threshold": "0.05", "column": "tenure"}},
    {"metric": {"endpoint": "churn", "name": "auc", "below": "0.7", "window": "6h",
                "min_count": "100"}},
    {"dataset": "telco"},
    {"dataset": {"name": "other"}}])");
  EXPECT_TRUE(Problems(t).empty());
  auto defs = DeriveTriggers("churn-retrain", t);
  ASSERT_TRUE(defs.ok()) << defs.status().ToString();
  ASSERT_EQ(defs->size(), 6u);
  EXPECT_EQ((*defs)[0].id, "churn-retrain/schedule");
  EXPECT_EQ((*defs)[1].id, "churn-retrain/drift");
  EXPECT_EQ((*defs)[2].id, "churn-retrain/drift-2");
  EXPECT_EQ((*defs)[4].id, "churn-retrain/dataset");
  EXPECT_EQ((*defs)[5].id, "churn-retrain/dataset-2");
  EXPECT_EQ((*defs)[1].condition, Json::parse(R"({"endpoint":"churn","threshold":0.5})"));
  EXPECT_EQ((*defs)[2].condition["statistic"], "score");
  EXPECT_EQ((*defs)[3].condition["window_ms"], 6 * 3'600'000);
  EXPECT_EQ((*defs)[3].condition["min_count"], 100);
  EXPECT_EQ((*defs)[4].condition, Json::parse(R"({"name":"telco"})"));
  EXPECT_EQ((*defs)[5].position, 5);
  EXPECT_EQ(DescribeCondition("drift", (*defs)[1].condition), "churn: drift share ≥ 0.5");
  EXPECT_EQ(DescribeCondition("metric", (*defs)[3].condition),
            "churn: auc < 0.7 over 6h (≥ 100 labels)");
  EXPECT_EQ(DescribeCondition("schedule", (*defs)[0].condition), "0 3 * * * (UTC)");
  EXPECT_EQ(DescribeCondition("dataset", (*defs)[4].condition), "new version of dataset telco");
}

TEST(TriggerSpecTest, EveryProblemNamesItsField) {
  const Json t = Json::parse(R"([
    {"schedule": "61 * * * *"},
    {"drift": {"endpoint": "churn", "threshold": "1.5", "statistic": "psi", "colour": "x"}},
    {"metric": {"endpoint": "churn", "name": "f1", "below": "high", "window": "soon"}},
    {"dataset": {"nom": "x"}},
    {"weather": "rain"}])");
  EXPECT_EQ(Problems(t),
            (std::vector<std::string>{
                "triggers[0].schedule: minute field '61' out of range 0-59",
                "triggers[1].drift.colour: unknown key (expected column, endpoint, statistic, "
                "threshold)",
                "triggers[1].drift.statistic: only with column (the share of drifted columns "
                "has no statistic)",
                "triggers[1].drift.threshold: expected a number from 0 to 1 (the share of "
                "drifted columns)",
                "triggers[2].metric.name: expected one of accuracy, auc, log_loss, precision, "
                "recall, positive_rate, rmse, mae",
                "triggers[2].metric.below: expected a number",
                "triggers[2].metric.window: expected a duration of at least a minute, e.g. 30m, "
                "1h, 7d",
                "triggers[3].dataset.nom: unknown key (expected name)",
                "triggers[3].dataset.name: required",
                "triggers[4]: each trigger is one of schedule, drift, metric, dataset"}));
  auto defs = DeriveTriggers("p", t);
  ASSERT_FALSE(defs.ok());
  EXPECT_NE(defs.status().message().find("triggers[0].schedule: minute field '61'"),
            std::string::npos);
}

TEST(TriggerSpecTest, PipelineValidatorReportsTriggerProblemsAtTheirLines) {
  constexpr char kYaml[] = R"(name: churn-retrain
triggers:
  - schedule: "0 3 * * *"
  - drift:
      endpoint: churn
      threshold: lots
steps:
  gate:
    uses: gate.approval
)";
  const pipelines::StepTable table = pipelines::BuiltinStepTypes();
  pipelines::ParsedPipeline parsed = pipelines::ParsePipeline(kYaml, "retrain.yaml", table);
  ASSERT_EQ(parsed.errors.size(), 1u);
  EXPECT_EQ(parsed.errors[0].ToString(),
            "retrain.yaml:6: triggers[1].drift.threshold: expected a number from 0 to 1 (the "
            "share of drifted columns)");
}

TEST(TriggerSpecTest, Durations) {
  EXPECT_EQ(*ParseDuration("90s"), 90'000);
  EXPECT_EQ(*ParseDuration("15m"), 900'000);
  EXPECT_EQ(*ParseDuration("2d"), 2 * 86'400'000);
  EXPECT_FALSE(ParseDuration("1y").ok());
  EXPECT_FALSE(ParseDuration("h").ok());
  EXPECT_EQ(FormatDuration(3'600'000), "1h");
  EXPECT_EQ(FormatDuration(90'000), "90s");
}

TEST(TriggerSpecTest, PValueStatistics) {
  EXPECT_TRUE(IsPValue("score", "ks"));
  EXPECT_TRUE(IsPValue("score", "chi2"));
  EXPECT_TRUE(IsPValue("p_value", "wasserstein"));
  EXPECT_FALSE(IsPValue("score", "wasserstein"));
  EXPECT_FALSE(IsPValue("psi", "ks"));
}

}  // namespace
}  // namespace cairn::triggers
