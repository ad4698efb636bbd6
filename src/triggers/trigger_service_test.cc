#include "triggers/trigger_service.h"

#include <gtest/gtest.h>

#include <filesystem>

#include "core/ids.h"
#include "store/sqlite/sqlite_metadata_store.h"
#include "triggers/cron.h"
#include "triggers/testing/fake_signals.h"

namespace cairn::triggers {
namespace {

namespace fs = std::filesystem;
using Json = nlohmann::json;
using Outcome = Evaluation::Outcome;

// 2026-01-01T00:00:30Z.
constexpr int64_t kStart = 1767225630000;
constexpr int64_t kMinute = 60'000;
constexpr int64_t kHour = 60 * kMinute;

// A step that succeeds at once.
class OkStep : public pipelines::Step {
 public:
  Result<pipelines::StepOutputs> Run(pipelines::StepContext&) override {
    return pipelines::StepOutputs{};
  }
};

class TriggerServiceTest : public ::testing::Test {
 protected:
  TriggerServiceTest() : dir_(fs::temp_directory_path() / ("cairn-triggers-" + NewUuidHex())) {
    fs::create_directories(dir_);
    clock_.Set(kStart);
    table_ = pipelines::BuiltinStepTypes();  // gate.approval
    pipelines::StepType ok;
    ok.name = "fake.ok";
    ok.make = [] { return std::make_unique<OkStep>(); };
    table_.Add(std::move(ok));
    auto s = store::SqliteMetadataStore::Open((dir_ / "meta.db").string(), clock_);
    EXPECT_TRUE(s.ok()) << s.status().ToString();
    store_ = std::move(*s);
    engine_ = std::make_unique<pipelines::PipelineEngine>(table_, *store_, clock_, nullptr);
    EXPECT_TRUE(engine_->Start().ok());
    service_ = std::make_unique<TriggerService>(*store_, *engine_, table_, signals_, clock_);
  }
  ~TriggerServiceTest() override {
    service_.reset();
    engine_.reset();
    store_.reset();
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }

  // A pipeline with `triggers` (YAML list items), params and one step (a gate when `gated`).
  store::PipelineDefinition Define(const std::string& triggers, bool gated = false,
                                   const std::string& name = "retrain") {
    const std::string yaml = "name: " + name +
                             "\n"
                             "params:\n"
                             "  trigger: ~\n"
                             "  reason: ~\n"
                             "  dataset: none\n"
                             "  dataset_version: '0'\n"
                             "  drift_share: '0'\n"
                             "  scheduled_time: ''\n"
                             "  metric_value: ''\n"
                             "triggers:\n" +
                             triggers + "steps:\n  work:\n    uses: " +
                             (gated ? "gate.approval" : "fake.ok") + "\n";
    auto def = service_->CreateDefinition(yaml, name + ".yaml", "ana");
    EXPECT_TRUE(def.ok()) << def.status().ToString();
    return def.ok() ? *def : store::PipelineDefinition{};
  }

  Evaluation EvaluateOnly(const std::string& trigger_id, int64_t now) {
    Evaluation found;
    found.outcome = Outcome::kQuiet;
    for (const Evaluation& e : service_->Evaluate(now)) {
      if (e.trigger_id == trigger_id) found = e;
    }
    return found;
  }

  store::PipelineRun Finish(const std::string& run_id) {
    auto run = engine_->WaitForRun(run_id);
    EXPECT_TRUE(run.ok());
    return run.ok() ? *run : store::PipelineRun{};
  }

  Json Params(const std::string& run_id) {
    auto run = store_->GetPipelineRun(run_id);
    EXPECT_TRUE(run.ok());
    return run.ok() ? Json::parse(run->params) : Json();
  }

  fs::path dir_;
  FakeClock clock_;
  pipelines::StepTable table_;
  testing::FakeSignals signals_;
  std::unique_ptr<store::SqliteMetadataStore> store_;
  std::unique_ptr<pipelines::PipelineEngine> engine_;
  std::unique_ptr<TriggerService> service_;
};

TEST_F(TriggerServiceTest, DatasetTriggerRecordsFirstThenFiresWithTheVersionAsParameter) {
  signals_.SetDatasetVersion("telco", 1);
  Define("  - dataset: telco\n");
  EXPECT_EQ(EvaluateOnly("retrain/dataset", kStart).outcome, Outcome::kQuiet);  // records v1
  EXPECT_EQ(EvaluateOnly("retrain/dataset", kStart + kMinute).outcome, Outcome::kQuiet);
  signals_.SetDatasetVersion("telco", 2);
  Evaluation e = EvaluateOnly("retrain/dataset", kStart + 2 * kMinute);
  ASSERT_EQ(e.outcome, Outcome::kFired) << e.reason;
  EXPECT_EQ(e.reason, "dataset telco has a new version v2 (after v1)");
  Finish(e.run_id);
  const Json params = Params(e.run_id);
  EXPECT_EQ(params["dataset"], "telco");
  EXPECT_EQ(params["dataset_version"], "2");
  EXPECT_EQ(params["trigger"], "retrain/dataset");
  EXPECT_EQ(params["reason"], e.reason);
  EXPECT_EQ(params["drift_share"], "0");  // not part of this context: the default stays
  auto run = store_->GetPipelineRun(e.run_id);
  EXPECT_EQ(run->created_by, "trigger:retrain/dataset");

  auto details = service_->GetTrigger("retrain/dataset");
  ASSERT_TRUE(details.ok());
  EXPECT_EQ(details->trigger.last_run_id, e.run_id);
  EXPECT_EQ(details->trigger.last_fired_time, kStart + 2 * kMinute);
  ASSERT_EQ(details->firings.size(), 1u);
  EXPECT_EQ(details->firings[0].user, "trigger:retrain/dataset");
  EXPECT_EQ(Json::parse(details->firings[0].context)["dataset_version"], "2");
  // Nothing new: quiet again.
  EXPECT_EQ(EvaluateOnly("retrain/dataset", kStart + 3 * kMinute).outcome, Outcome::kQuiet);
}

TEST_F(TriggerServiceTest, DatasetThatDoesNotExistYetFiresOnItsFirstVersion) {
  Define("  - dataset: {name: fresh}\n");
  EXPECT_EQ(EvaluateOnly("retrain/dataset", kStart).outcome, Outcome::kQuiet);
  signals_.SetDatasetVersion("fresh", 1);
  Evaluation e = EvaluateOnly("retrain/dataset", kStart + kMinute);
  EXPECT_EQ(e.outcome, Outcome::kFired);
  EXPECT_EQ(e.reason, "dataset fresh has a new version v1 (its first)");
}

TEST_F(TriggerServiceTest, ScheduleFiresWhenTheClockPassesAndCoalescesMissedTimes) {
  Define("  - schedule: \"0 * * * *\"\n");  // hourly; created at 00:00:30
  EXPECT_EQ(EvaluateOnly("retrain/schedule", kStart).outcome, Outcome::kQuiet);
  EXPECT_EQ(EvaluateOnly("retrain/schedule", kStart + 59 * kMinute).outcome, Outcome::kQuiet);
  const int64_t one = kStart - 30'000 + kHour;  // 01:00:00
  Evaluation e = EvaluateOnly("retrain/schedule", one);
  ASSERT_EQ(e.outcome, Outcome::kFired);
  EXPECT_EQ(e.reason, "scheduled at 2026-01-01T01:00:00Z");
  Finish(e.run_id);
  EXPECT_EQ(Params(e.run_id)["scheduled_time"], "2026-01-01T01:00:00Z");
  EXPECT_EQ(EvaluateOnly("retrain/schedule", one + 30 * kMinute).outcome, Outcome::kQuiet);
  // Down from 01:30 to 05:10: 02:00, 03:00, 04:00, 05:00 make one firing, for 05:00.
  e = EvaluateOnly("retrain/schedule", one + 4 * kHour + 10 * kMinute);
  ASSERT_EQ(e.outcome, Outcome::kFired);
  EXPECT_EQ(e.reason, "scheduled at 2026-01-01T05:00:00Z (with 3 earlier missed times coalesced)");
  Finish(e.run_id);
  EXPECT_EQ(EvaluateOnly("retrain/schedule", one + 4 * kHour + 50 * kMinute).outcome,
            Outcome::kQuiet);
  auto details = service_->GetTrigger("retrain/schedule");
  ASSERT_TRUE(details.ok());
  EXPECT_EQ(details->firings.size(), 2u);
  EXPECT_EQ(Json::parse(details->trigger.state)["next"], one + 5 * kHour);
}

TEST_F(TriggerServiceTest, DriftShareFiresOncePerReport) {
  Define("  - drift: {endpoint: churn, threshold: 0.5}\n");
  EXPECT_EQ(EvaluateOnly("retrain/drift", kStart).outcome, Outcome::kQuiet);  // no report yet
  signals_.SetDriftReport("churn", {"r1", kStart, 0.2, {}});
  EXPECT_EQ(EvaluateOnly("retrain/drift", kStart + 1).outcome, Outcome::kQuiet);
  signals_.SetDriftReport("churn", {"r2", kStart + 2, 0.63, {}});
  Evaluation e = EvaluateOnly("retrain/drift", kStart + 3);
  ASSERT_EQ(e.outcome, Outcome::kFired);
  EXPECT_EQ(e.reason, "drift share 0.63 ≥ 0.5 in report r2");
  Finish(e.run_id);
  EXPECT_EQ(Params(e.run_id)["drift_share"], "0.63");
  // The same report again: examined already.
  EXPECT_EQ(EvaluateOnly("retrain/drift", kStart + 4).outcome, Outcome::kQuiet);
}

TEST_F(TriggerServiceTest, DriftOnOneColumnComparesByTheStatisticsDirection) {
  Define("  - drift: {endpoint: churn, threshold: 0.05, column: tenure}\n"
         "  - drift: {endpoint: churn, threshold: 0.2, column: charges, statistic: psi}\n");
  DriftReport r{"r1", kStart, 0.1, {}};
  r.columns["tenure"] = {"ks", 0.2, false, {}};                          // p 0.2: not below
  r.columns["charges"] = {"wasserstein", 0.3, true, {{"psi", 0.1}}};  // psi 0.1 < 0.2
  signals_.SetDriftReport("churn", r);
  for (const Evaluation& e : service_->Evaluate(kStart + 1)) {
    EXPECT_EQ(e.outcome, Outcome::kQuiet) << e.trigger_id << ": " << e.reason;
  }
  r.id = "r2";
  r.columns["tenure"] = {"ks", 0.001, true, {}};
  r.columns["charges"] = {"wasserstein", 0.3, true, {{"psi", 0.25}}};
  signals_.SetDriftReport("churn", r);
  std::map<std::string, Evaluation> by_id;
  for (const Evaluation& e : service_->Evaluate(kStart + 2)) by_id[e.trigger_id] = e;
  EXPECT_EQ(by_id["retrain/drift"].outcome, Outcome::kFired);
  EXPECT_EQ(by_id["retrain/drift"].reason, "column tenure ks p-value 0.001 < 0.05 in report r2");
  EXPECT_EQ(by_id["retrain/drift-2"].outcome, Outcome::kFired);
  EXPECT_EQ(by_id["retrain/drift-2"].reason, "column charges psi 0.25 ≥ 0.2 in report r2");
}

TEST_F(TriggerServiceTest, MetricFiresBelowWithEnoughLabelsAtMostOncePerWindow) {
  Define("  - metric: {endpoint: churn, name: auc, below: 0.7, window: 1h, min_count: 100}\n");
  signals_.SetMetric("churn", "auc", {0.61, 99});  // too few labels
  EXPECT_EQ(EvaluateOnly("retrain/metric", kStart).outcome, Outcome::kQuiet);
  EXPECT_EQ(signals_.last_window, std::make_pair(kStart - kHour, kStart));
  signals_.SetMetric("churn", "auc", {0.75, 500});  // good enough
  EXPECT_EQ(EvaluateOnly("retrain/metric", kStart + 1).outcome, Outcome::kQuiet);
  signals_.SetMetric("churn", "auc", {0.61, 220});
  Evaluation e = EvaluateOnly("retrain/metric", kStart + 2);
  ASSERT_EQ(e.outcome, Outcome::kFired);
  EXPECT_EQ(e.reason, "auc 0.61 < 0.7 over the last 1h (220 labelled predictions)");
  Finish(e.run_id);
  EXPECT_EQ(Params(e.run_id)["metric_value"], "0.61");
  EXPECT_EQ(EvaluateOnly("retrain/metric", kStart + 2 + kHour - 1).outcome, Outcome::kQuiet);
  EXPECT_EQ(EvaluateOnly("retrain/metric", kStart + 2 + kHour).outcome, Outcome::kFired);
}

TEST_F(TriggerServiceTest, InFlightRunHoldsTheTriggerBackUntilItEnds) {
  signals_.SetDatasetVersion("telco", 1);
  Define("  - dataset: telco\n", /*gated=*/true);
  service_->Evaluate(kStart);
  signals_.SetDatasetVersion("telco", 2);
  Evaluation first = EvaluateOnly("retrain/dataset", kStart + 1);
  ASSERT_EQ(first.outcome, Outcome::kFired);
  ASSERT_TRUE(engine_
                  ->WaitUntil(first.run_id,
                              [](const store::PipelineRun& r) {
                                return !r.steps.empty() &&
                                       r.steps[0].status == store::StepRunStatus::kWaiting;
                              })
                  .ok());
  signals_.SetDatasetVersion("telco", 3);
  for (int i = 0; i < 3; ++i) {
    Evaluation held = EvaluateOnly("retrain/dataset", kStart + 10 + i);
    EXPECT_EQ(held.outcome, Outcome::kHeld);
    EXPECT_EQ(held.run_id, first.run_id);
  }
  auto details = service_->GetTrigger("retrain/dataset");
  ASSERT_TRUE(details.ok());
  EXPECT_EQ(details->firings.size(), 1u);  // one row for the firing, none per held tick
  EXPECT_EQ(details->trigger.held_time, kStart + 12);
  EXPECT_EQ(details->trigger.held_reason, "dataset telco has a new version v3 (after v2); held "
                                          "back: run " + first.run_id + " is still running");
  auto runs = store_->ListPipelineRuns({});
  EXPECT_EQ(runs->size(), 1u);
  // The gate decides; the run ends; the held version fires.
  ASSERT_TRUE(engine_->Decide(first.run_id, "work", false, "bob", "no").ok());
  Finish(first.run_id);
  Evaluation second = EvaluateOnly("retrain/dataset", kStart + 20);
  ASSERT_EQ(second.outcome, Outcome::kFired);
  EXPECT_NE(second.run_id, first.run_id);
  EXPECT_EQ(Params(second.run_id)["dataset_version"], "3");
}

TEST_F(TriggerServiceTest, DisabledTriggersDoNotFireAndSchedulesSkipWhatTheyMissed) {
  signals_.SetDatasetVersion("telco", 1);
  Define("  - dataset: telco\n  - schedule: \"*/10 * * * *\"\n");
  service_->Evaluate(kStart);
  ASSERT_TRUE(service_->SetEnabled("retrain/dataset", false).ok());
  ASSERT_TRUE(service_->SetEnabled("retrain/schedule", false).ok());
  signals_.SetDatasetVersion("telco", 2);
  clock_.Set(kStart + kHour);
  EXPECT_TRUE(service_->Evaluate(kStart + kHour).empty());  // both disabled
  auto schedule = service_->SetEnabled("retrain/schedule", true);
  ASSERT_TRUE(schedule.ok());
  EXPECT_TRUE(schedule->enabled);
  // Re-enabled at 01:00:30: 00:10 … 01:00 are not made up for; 01:10 is next.
  EXPECT_EQ(EvaluateOnly("retrain/schedule", kStart + kHour + 1).outcome, Outcome::kQuiet);
  Evaluation e = EvaluateOnly("retrain/schedule", kStart + kHour + 10 * kMinute);
  EXPECT_EQ(e.outcome, Outcome::kFired);
  EXPECT_EQ(e.reason, "scheduled at 2026-01-01T01:10:00Z");
  EXPECT_EQ(service_->SetEnabled("retrain/nope", true).status().code(), StatusCode::kNotFound);
}

TEST_F(TriggerServiceTest, RedefinitionKeepsTheFlagAndStateOfUnchangedTriggers) {
  signals_.SetDatasetVersion("telco", 4);
  Define("  - dataset: telco\n  - drift: {endpoint: churn, threshold: 0.5}\n");
  service_->Evaluate(kStart);  // the dataset trigger remembers v4
  ASSERT_TRUE(service_->SetEnabled("retrain/drift", false).ok());
  store::PipelineDefinition again =
      Define("  - dataset: telco\n  - drift: {endpoint: churn, threshold: 0.7}\n"
             "  - schedule: \"@daily\"\n");
  EXPECT_EQ(again.revision, 2);
  EXPECT_EQ(again.trigger_count, 3);
  auto triggers = service_->ListTriggers("retrain");
  ASSERT_TRUE(triggers.ok());
  ASSERT_EQ(triggers->size(), 3u);
  EXPECT_EQ((*triggers)[0].trigger_id, "retrain/dataset");
  EXPECT_EQ(Json::parse((*triggers)[0].state)["version"], 4);  // kept
  EXPECT_FALSE((*triggers)[1].enabled);                          // the flag stays
  EXPECT_EQ(Json::parse((*triggers)[1].condition)["threshold"], 0.7);
  EXPECT_TRUE((*triggers)[2].enabled);
  // Watching another dataset starts afresh.
  Define("  - dataset: other\n");
  triggers = service_->ListTriggers("retrain");
  ASSERT_EQ(triggers->size(), 1u);
  EXPECT_EQ((*triggers)[0].state, "{}");
  EXPECT_EQ(service_->ListTriggers("nope").status().code(), StatusCode::kNotFound);
}

TEST_F(TriggerServiceTest, DefinitionsRunByNameAndRejectBadTriggers) {
  Define("  - dataset: telco\n");
  auto run = service_->RunDefinition("retrain", {{"trigger", "manual"}, {"reason", "test"}}, "ana");
  ASSERT_TRUE(run.ok()) << run.status().ToString();
  EXPECT_EQ(run->file, "retrain.yaml");
  EXPECT_EQ(Finish(run->run_id).status, store::PipelineRunStatus::kSucceeded);
  EXPECT_EQ(service_->RunDefinition("nope", {}, "ana").status().code(), StatusCode::kNotFound);
  auto bad = service_->CreateDefinition(
      "name: bad\ntriggers:\n  - schedule: \"61 * * * *\"\nsteps:\n  a: {uses: fake.ok}\n",
      "bad.yaml", "ana");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().message(),
            "bad.yaml:3: triggers[0].schedule: minute field '61' out of range 0-59");
  ASSERT_TRUE(service_->DeleteDefinition("retrain").ok());
  EXPECT_TRUE(service_->ListTriggers("")->empty());
  EXPECT_EQ(service_->DeleteDefinition("retrain").code(), StatusCode::kNotFound);
}

TEST_F(TriggerServiceTest, ARunThatCannotStartIsRecordedAsAFailedFiring) {
  // `trigger` is required and the context gives it, but `who` is required too and nothing does.
  auto def = service_->CreateDefinition(
      "name: strict\nparams: {who: ~}\ntriggers:\n  - dataset: telco\nsteps:\n  a: {uses: fake.ok}\n",
      "strict.yaml", "ana");
  ASSERT_TRUE(def.ok()) << def.status().ToString();
  service_->Evaluate(kStart);
  signals_.SetDatasetVersion("telco", 1);
  Evaluation e = EvaluateOnly("strict/dataset", kStart + 1);
  EXPECT_EQ(e.outcome, Outcome::kFailed);
  auto details = service_->GetTrigger("strict/dataset");
  ASSERT_EQ(details->firings.size(), 1u);
  EXPECT_TRUE(details->firings[0].run_id.empty());
  EXPECT_NE(details->firings[0].error.find("param 'who': required"), std::string::npos)
      << details->firings[0].error;
  // Used up: no retry loop every tick.
  EXPECT_EQ(EvaluateOnly("strict/dataset", kStart + 2).outcome, Outcome::kQuiet);
}

}  // namespace
}  // namespace cairn::triggers
