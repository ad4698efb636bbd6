// The conformance suite every MetadataStore backend must pass (typed GoogleTest suite).
//
// Usage, in a backend's test file:
//   struct MyFactory {            // default-constructed once per test (e.g. makes a temp dir)
//     std::unique_ptr<cairn::store::MetadataStore> Make(const cairn::Clock& clock);
//   };
//   using Factories = ::testing::Types<MyFactory>;
//   INSTANTIATE_TYPED_TEST_SUITE_P(My, MetadataStoreConformanceTest, Factories);
// Make returns a fresh, empty store whose default artifact root is "mlflow-artifacts:".
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdint>
#include <limits>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "core/clock.h"
#include "core/ids.h"
#include "store/metadata_store.h"

namespace cairn::store::testing {

// `Run` alone would name ::testing::Test::Run inside the fixture.
using RunRecord = ::cairn::store::Run;

template <typename Factory>
class MetadataStoreConformanceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    store_ = factory_.Make(clock_);
    ASSERT_NE(store_, nullptr);
  }

  MetadataStore& store() { return *store_; }

  std::string NewExperimentId(const std::string& name, std::vector<Tag> tags = {}) {
    NewExperiment e;
    e.name = name;
    e.tags = std::move(tags);
    e.creation_time = clock_.NowMillis();
    auto id = store().CreateExperiment(e);
    EXPECT_TRUE(id.ok()) << id.status().ToString();
    return id.ok() ? *id : "";
  }

  // Creates a run; returns its id.
  std::string NewRunId(const std::string& experiment_id, const std::string& name = "",
                       int64_t start_time = 1000, std::string run_id = "") {
    NewRun r;
    r.run_id = run_id.empty() ? NewUuidHex() : run_id;
    r.experiment_id = experiment_id;
    r.run_name = name;
    r.user_id = "alice";
    r.start_time = start_time;
    auto run = store().CreateRun(r);
    EXPECT_TRUE(run.ok()) << run.status().ToString();
    return r.run_id;
  }

  Status LogMetric(const std::string& run_id, const std::string& key, double value,
                   int64_t timestamp, int64_t step) {
    return store().LogBatch(run_id, {Metric{key, value, timestamp, step}}, {}, {});
  }

  std::vector<Metric> History(const std::string& run_id, const std::string& key) {
    auto page = store().GetMetricHistory(run_id, key, 0, 100000);
    EXPECT_TRUE(page.ok()) << page.status().ToString();
    return page.ok() ? page->metrics : std::vector<Metric>{};
  }

  const Metric* Latest(const RunRecord& run, const std::string& key) {
    for (const Metric& m : run.metrics) {
      if (m.key == key) return &m;
    }
    return nullptr;
  }

  // --- search fixture: four runs in one experiment, one run in another -----------------------
  //  name    start  status    metrics         params                tags
  //  alpha   100    FINISHED  m=1, n=NaN      p=x, q=Hello          t=Foo
  //  beta    200    RUNNING   m=2             p=y, q=hello          t=foo
  //  Gamma   300    FAILED    m=3, n=5        p=x                   (none)     end_time=1000
  //  delta   400    FINISHED  (none)          q=HELLO world         t=bar
  //  other   500    RUNNING   m=10            p=x                              (experiment B)
  void BuildSearchFixture() {
    exp_a_ = NewExperimentId("A");
    exp_b_ = NewExperimentId("B");
    const double nan = std::numeric_limits<double>::quiet_NaN();
    alpha_ = NewRunId(exp_a_, "alpha", 100);
    beta_ = NewRunId(exp_a_, "beta", 200);
    gamma_ = NewRunId(exp_a_, "Gamma", 300);
    delta_ = NewRunId(exp_a_, "delta", 400);
    other_ = NewRunId(exp_b_, "other", 500);
    ASSERT_TRUE(store()
                    .LogBatch(alpha_, {{"m", 1, 1, 0}, {"n", nan, 1, 0}},
                              {{"p", "x"}, {"q", "Hello"}}, {{"t", "Foo"}})
                    .ok());
    ASSERT_TRUE(
        store().LogBatch(beta_, {{"m", 2, 1, 0}}, {{"p", "y"}, {"q", "hello"}}, {{"t", "foo"}}).ok());
    ASSERT_TRUE(store().LogBatch(gamma_, {{"m", 3, 1, 0}, {"n", 5, 1, 0}}, {{"p", "x"}}, {}).ok());
    ASSERT_TRUE(store().LogBatch(delta_, {}, {{"q", "HELLO world"}}, {{"t", "bar"}}).ok());
    ASSERT_TRUE(store().LogBatch(other_, {{"m", 10, 1, 0}}, {{"p", "x"}}, {}).ok());
    ASSERT_TRUE(store().UpdateRun({alpha_, RunStatus::kFinished, std::nullopt, std::nullopt}).ok());
    ASSERT_TRUE(store().UpdateRun({gamma_, RunStatus::kFailed, 1000, std::nullopt}).ok());
    ASSERT_TRUE(store().UpdateRun({delta_, RunStatus::kFinished, std::nullopt, std::nullopt}).ok());
  }

  // Names of the runs found in experiment A, in result order.
  std::vector<std::string> Find(std::vector<Comparison> filter, std::vector<OrderKey> order = {},
                                ViewType view = ViewType::kActiveOnly) {
    RunQuery q;
    q.experiment_ids = {exp_a_};
    q.filter = std::move(filter);
    q.order_by = std::move(order);
    q.view_type = view;
    auto page = store().SearchRuns(q);
    EXPECT_TRUE(page.ok()) << page.status().ToString();
    std::vector<std::string> names;
    if (page.ok()) {
      for (const RunRecord& r : page->runs) names.push_back(r.info.run_name);
    }
    return names;
  }

  static Comparison Cmp(EntityKind kind, std::string key, CompareOp op,
                        std::variant<double, std::string, std::vector<std::string>> value) {
    return Comparison{kind, std::move(key), op, std::move(value)};
  }

  // A dataset version of `name` whose content address is `content` (creation_time 0: now).
  static DatasetVersion Dataset(const std::string& name, const std::string& content,
                                const std::string& description = "") {
    DatasetVersion v;
    v.name = name;
    v.version = 99;  // ignored by the store
    v.version_id = "id-" + content;
    v.manifest_digest = "manifest-" + content;
    v.profile_digest = "profile-" + content;
    v.size_bytes = static_cast<int64_t>(content.size());
    v.row_count = 10;
    v.description = description;
    v.created_by = "alice";
    return v;
  }

  // --- registry helpers -----------------------------------------------------------------------
  RegisteredModel NewModel(const std::string& name, std::vector<Tag> tags = {},
                           const std::string& description = "") {
    RegisteredModel m;
    m.name = name;
    m.tags = std::move(tags);
    m.description = description;
    auto created = store().CreateRegisteredModel(m);
    EXPECT_TRUE(created.ok()) << created.status().ToString();
    return created.ok() ? *created : RegisteredModel{};
  }

  // A version of `name` from run `run` (the store assigns the number); 0 when creation failed.
  int64_t NewVersion(const std::string& name, const std::string& run = "r1",
                     std::vector<Tag> tags = {}) {
    ModelVersion v;
    v.name = name;
    v.version = 42;  // ignored by the store
    v.source = "runs:/" + run + "/model";
    v.storage_location = "mlflow-artifacts:/0/" + run + "/artifacts/model";
    v.run_id = run;
    v.artifact_path = "model";
    v.tags = std::move(tags);
    auto created = store().CreateModelVersion(v);
    EXPECT_TRUE(created.ok()) << created.status().ToString();
    return created.ok() ? created->version : 0;
  }

  std::vector<int64_t> LatestVersionNumbers(const std::string& name,
                                            std::vector<ModelStage>* stages = nullptr) {
    auto m = store().GetRegisteredModel(name);
    EXPECT_TRUE(m.ok()) << m.status().ToString();
    std::vector<int64_t> out;
    if (!m.ok()) return out;
    for (const ModelVersion& v : m->latest_versions) {
      out.push_back(v.version);
      if (stages) stages->push_back(v.current_stage);
    }
    return out;
  }

  std::vector<std::string> ModelNames(RegisteredModelQuery q, bool* has_more = nullptr) {
    auto page = store().SearchRegisteredModels(q);
    EXPECT_TRUE(page.ok()) << page.status().ToString();
    std::vector<std::string> names;
    if (!page.ok()) return names;
    for (const RegisteredModel& m : page->models) names.push_back(m.name);
    if (has_more) *has_more = page->has_more;
    return names;
  }

  // "name/version" of each version found, in order.
  std::vector<std::string> VersionKeys(ModelVersionQuery q, bool* has_more = nullptr) {
    auto page = store().SearchModelVersions(q);
    EXPECT_TRUE(page.ok()) << page.status().ToString();
    std::vector<std::string> keys;
    if (!page.ok()) return keys;
    for (const ModelVersion& v : page->versions) {
      keys.push_back(v.name + "/" + std::to_string(v.version));
    }
    if (has_more) *has_more = page->has_more;
    return keys;
  }

  FakeClock clock_;
  Factory factory_;
  std::unique_ptr<MetadataStore> store_;
  std::string exp_a_, exp_b_, alpha_, beta_, gamma_, delta_, other_;
};

TYPED_TEST_SUITE_P(MetadataStoreConformanceTest);

using V = std::vector<std::string>;

TYPED_TEST_P(MetadataStoreConformanceTest, DefaultExperimentExists) {
  auto e = this->store().GetExperiment("0");
  ASSERT_TRUE(e.ok()) << e.status().ToString();
  EXPECT_EQ(e->name, "Default");
  EXPECT_EQ(e->artifact_location, "mlflow-artifacts:/0");
  EXPECT_EQ(e->lifecycle_stage, LifecycleStage::kActive);
  auto by_name = this->store().GetExperimentByName("Default");
  ASSERT_TRUE(by_name.ok());
  EXPECT_EQ(by_name->experiment_id, "0");
}

TYPED_TEST_P(MetadataStoreConformanceTest, CreateAndGetExperiment) {
  NewExperiment e;
  e.name = "churn";
  e.creation_time = 1234;
  e.tags = {{"z", "1"}, {"a", "2"}};
  auto id = this->store().CreateExperiment(e);
  ASSERT_TRUE(id.ok()) << id.status().ToString();
  EXPECT_EQ(*id, "1");
  auto got = this->store().GetExperiment("1");
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got->name, "churn");
  EXPECT_EQ(got->artifact_location, "mlflow-artifacts:/1");
  EXPECT_EQ(got->creation_time, 1234);
  EXPECT_EQ(got->last_update_time, 1234);
  EXPECT_EQ(got->tags, (std::vector<Tag>{{"a", "2"}, {"z", "1"}}));

  NewExperiment custom{"custom", "s3://bucket/x", {}, 5};
  auto id2 = this->store().CreateExperiment(custom);
  ASSERT_TRUE(id2.ok());
  EXPECT_EQ(*id2, "2");
  EXPECT_EQ(this->store().GetExperimentByName("custom")->artifact_location, "s3://bucket/x");

  EXPECT_EQ(this->store().GetExperiment("99").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(this->store().GetExperiment("abc").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(this->store().GetExperimentByName("nope").status().code(), StatusCode::kNotFound);
}

TYPED_TEST_P(MetadataStoreConformanceTest, DuplicateExperimentNameRejectedEvenWhenDeleted) {
  std::string id = this->NewExperimentId("x");
  EXPECT_EQ(this->store().CreateExperiment({"x", "", {}, 1}).status().code(),
            StatusCode::kAlreadyExists);
  ASSERT_TRUE(this->store().SetExperimentLifecycle(id, LifecycleStage::kDeleted, 2).ok());
  EXPECT_EQ(this->store().CreateExperiment({"x", "", {}, 1}).status().code(),
            StatusCode::kAlreadyExists);
  auto deleted = this->store().GetExperimentByName("x");
  ASSERT_TRUE(deleted.ok());
  EXPECT_EQ(deleted->lifecycle_stage, LifecycleStage::kDeleted);
}

TYPED_TEST_P(MetadataStoreConformanceTest, RenameExperiment) {
  std::string id = this->NewExperimentId("old");
  this->NewExperimentId("taken");
  ASSERT_TRUE(this->store().RenameExperiment(id, "new", 5000).ok());
  auto e = this->store().GetExperiment(id);
  EXPECT_EQ(e->name, "new");
  EXPECT_EQ(e->last_update_time, 5000);
  EXPECT_EQ(this->store().GetExperimentByName("old").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(this->store().RenameExperiment(id, "taken", 6000).code(), StatusCode::kAlreadyExists);
  EXPECT_EQ(this->store().RenameExperiment("77", "z", 6000).code(), StatusCode::kNotFound);
  ASSERT_TRUE(this->store().SetExperimentLifecycle(id, LifecycleStage::kDeleted, 7000).ok());
  EXPECT_EQ(this->store().RenameExperiment(id, "z", 8000).code(), StatusCode::kInvalidArgument);
}

TYPED_TEST_P(MetadataStoreConformanceTest, DeleteAndRestoreExperimentCascadesToRuns) {
  std::string id = this->NewExperimentId("e");
  std::string kept = this->NewRunId(id, "kept");
  std::string alone = this->NewRunId(id, "alone");
  ASSERT_TRUE(this->store().SetRunLifecycle(alone, LifecycleStage::kDeleted).ok());
  ASSERT_TRUE(this->store().SetExperimentLifecycle(id, LifecycleStage::kDeleted, 10).ok());
  auto e = this->store().GetExperiment(id);
  EXPECT_EQ(e->lifecycle_stage, LifecycleStage::kDeleted);
  EXPECT_EQ(e->last_update_time, 10);
  EXPECT_EQ(this->store().GetRun(kept)->info.lifecycle_stage, LifecycleStage::kDeleted);
  EXPECT_EQ(this->store().CreateRun({NewUuidHex(), id, "", "", RunStatus::kRunning, 1, {}})
                .status()
                .code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(this->store().SetExperimentTag(id, {"k", "v"}).code(), StatusCode::kInvalidArgument);

  ASSERT_TRUE(this->store().SetExperimentLifecycle(id, LifecycleStage::kActive, 20).ok());
  EXPECT_EQ(this->store().GetExperiment(id)->lifecycle_stage, LifecycleStage::kActive);
  EXPECT_EQ(this->store().GetRun(kept)->info.lifecycle_stage, LifecycleStage::kActive);
  // A run deleted on its own stays deleted.
  EXPECT_EQ(this->store().GetRun(alone)->info.lifecycle_stage, LifecycleStage::kDeleted);
  EXPECT_EQ(this->store().SetExperimentLifecycle("55", LifecycleStage::kDeleted, 1).code(),
            StatusCode::kNotFound);
}

TYPED_TEST_P(MetadataStoreConformanceTest, ExperimentTagsUpsert) {
  std::string id = this->NewExperimentId("e", {{"a", "1"}});
  ASSERT_TRUE(this->store().SetExperimentTag(id, {"a", "2"}).ok());
  ASSERT_TRUE(this->store().SetExperimentTag(id, {"b", "3"}).ok());
  EXPECT_EQ(this->store().GetExperiment(id)->tags, (std::vector<Tag>{{"a", "2"}, {"b", "3"}}));
  EXPECT_EQ(this->store().SetExperimentTag("42", {"a", "1"}).code(), StatusCode::kNotFound);
}

TYPED_TEST_P(MetadataStoreConformanceTest, CreateAndGetRun) {
  std::string exp = this->NewExperimentId("e");
  std::string run_id = NewUuidHex();
  NewRun nr{run_id, exp, "my-run", "bob", RunStatus::kRunning, 4242, {{"b", "2"}, {"a", "1"}}};
  auto created = this->store().CreateRun(nr);
  ASSERT_TRUE(created.ok()) << created.status().ToString();
  auto run = this->store().GetRun(run_id);
  ASSERT_TRUE(run.ok());
  EXPECT_EQ(run->info.run_id, run_id);
  EXPECT_EQ(run->info.run_name, "my-run");
  EXPECT_EQ(run->info.experiment_id, exp);
  EXPECT_EQ(run->info.user_id, "bob");
  EXPECT_EQ(run->info.status, RunStatus::kRunning);
  EXPECT_EQ(run->info.start_time, 4242);
  EXPECT_FALSE(run->info.end_time.has_value());
  EXPECT_EQ(run->info.artifact_uri, "mlflow-artifacts:/" + exp + "/" + run_id + "/artifacts");
  EXPECT_EQ(run->info.lifecycle_stage, LifecycleStage::kActive);
  EXPECT_EQ(run->tags, (std::vector<Tag>{{"a", "1"}, {"b", "2"}, {"mlflow.runName", "my-run"}}));
  EXPECT_EQ(created->tags, run->tags);
  EXPECT_TRUE(run->metrics.empty());
  EXPECT_TRUE(run->params.empty());

  EXPECT_EQ(this->store().CreateRun(nr).status().code(), StatusCode::kAlreadyExists);
  nr.run_id = NewUuidHex();
  nr.experiment_id = "123";
  EXPECT_EQ(this->store().CreateRun(nr).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(this->store().GetRun(NewUuidHex()).status().code(), StatusCode::kNotFound);
}

TYPED_TEST_P(MetadataStoreConformanceTest, UpdateRunMirrorsNameIntoTag) {
  std::string run_id = this->NewRunId("0", "first");
  auto info = this->store().UpdateRun({run_id, RunStatus::kFinished, 9000, "second"});
  ASSERT_TRUE(info.ok()) << info.status().ToString();
  EXPECT_EQ(info->status, RunStatus::kFinished);
  EXPECT_EQ(info->end_time, 9000);
  EXPECT_EQ(info->run_name, "second");
  auto run = this->store().GetRun(run_id);
  EXPECT_EQ(run->info.run_name, "second");
  EXPECT_EQ(run->tags, (std::vector<Tag>{{"mlflow.runName", "second"}}));
  // Fields left unset are kept.
  info = this->store().UpdateRun({run_id, std::nullopt, std::nullopt, std::nullopt});
  ASSERT_TRUE(info.ok());
  EXPECT_EQ(info->status, RunStatus::kFinished);
  EXPECT_EQ(info->run_name, "second");
  EXPECT_EQ(this->store().UpdateRun({NewUuidHex(), RunStatus::kFailed, {}, {}}).status().code(),
            StatusCode::kNotFound);
}

TYPED_TEST_P(MetadataStoreConformanceTest, DeletedRunRejectsWrites) {
  std::string run_id = this->NewRunId("0");
  ASSERT_TRUE(this->store().LogBatch(run_id, {}, {}, {{"t", "1"}}).ok());
  ASSERT_TRUE(this->store().SetRunLifecycle(run_id, LifecycleStage::kDeleted).ok());
  EXPECT_EQ(this->store().GetRun(run_id)->info.lifecycle_stage, LifecycleStage::kDeleted);
  EXPECT_EQ(this->LogMetric(run_id, "m", 1, 1, 1).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(this->store().LogBatch(run_id, {}, {{"p", "1"}}, {}).code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(this->store().DeleteTag(run_id, "t").code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(this->store().LogInputs(run_id, {DatasetInput{"d", "1", "local", "/x", "", "", {}}})
                .code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(this->store().UpdateRun({run_id, RunStatus::kFinished, {}, {}}).status().code(),
            StatusCode::kInvalidArgument);
  ASSERT_TRUE(this->store().SetRunLifecycle(run_id, LifecycleStage::kActive).ok());
  EXPECT_TRUE(this->LogMetric(run_id, "m", 1, 1, 1).ok());
  EXPECT_EQ(this->store().SetRunLifecycle(NewUuidHex(), LifecycleStage::kDeleted).code(),
            StatusCode::kNotFound);
  EXPECT_EQ(this->LogMetric(NewUuidHex(), "m", 1, 1, 1).code(), StatusCode::kNotFound);
}

TYPED_TEST_P(MetadataStoreConformanceTest, LogBatchIsAtomicOnParamConflict) {
  std::string run_id = this->NewRunId("0");
  ASSERT_TRUE(this->store().LogBatch(run_id, {}, {{"p", "1"}}, {}).ok());
  // The same value again is fine.
  ASSERT_TRUE(this->store().LogBatch(run_id, {}, {{"p", "1"}, {"q", "2"}}, {}).ok());
  Status s = this->store().LogBatch(run_id, {{"m", 1, 1, 1}}, {{"r", "3"}, {"p", "other"}},
                                    {{"t", "v"}});
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("p"), std::string::npos);
  // Conflict within one batch.
  EXPECT_EQ(this->store()
                .LogBatch(run_id, {{"m", 1, 1, 1}}, {{"z", "a"}, {"z", "b"}}, {{"t", "v"}})
                .code(),
            StatusCode::kInvalidArgument);
  auto run = this->store().GetRun(run_id);
  EXPECT_EQ(run->params, (std::vector<Param>{{"p", "1"}, {"q", "2"}}));
  EXPECT_TRUE(run->metrics.empty());
  EXPECT_TRUE(run->tags.empty());
  EXPECT_TRUE(this->History(run_id, "m").empty());
  // Same key and value twice within a batch is fine.
  EXPECT_TRUE(this->store().LogBatch(run_id, {}, {{"w", "a"}, {"w", "a"}}, {}).ok());
}

TYPED_TEST_P(MetadataStoreConformanceTest, LatestMetricFollowsStepThenTimestampThenValue) {
  std::string run_id = this->NewRunId("0");
  auto latest = [&](const std::string& key) {
    auto run = this->store().GetRun(run_id);
    const Metric* m = this->Latest(*run, key);
    return m ? *m : Metric{"<missing>", 0, 0, 0};
  };
  ASSERT_TRUE(this->LogMetric(run_id, "a", 1.0, 500, 1).ok());
  ASSERT_TRUE(this->LogMetric(run_id, "a", 2.0, 100, 2).ok());  // higher step, older time
  EXPECT_EQ(latest("a").value, 2.0);
  ASSERT_TRUE(this->LogMetric(run_id, "a", 3.0, 900, 1).ok());  // lower step loses
  EXPECT_EQ(latest("a").value, 2.0);
  ASSERT_TRUE(this->LogMetric(run_id, "a", 4.0, 200, 2).ok());  // same step, later time
  EXPECT_EQ(latest("a").value, 4.0);
  EXPECT_EQ(latest("a").timestamp, 200);
  ASSERT_TRUE(this->LogMetric(run_id, "a", 3.5, 200, 2).ok());  // same both, smaller value
  EXPECT_EQ(latest("a").value, 4.0);
  ASSERT_TRUE(this->LogMetric(run_id, "a", 5.0, 200, 2).ok());  // same both, larger value
  EXPECT_EQ(latest("a").value, 5.0);
  EXPECT_EQ(latest("a").step, 2);
  // Within one batch the same rule applies.
  ASSERT_TRUE(
      this->store()
          .LogBatch(run_id, {{"b", 9, 10, 3}, {"b", 7, 5, 4}, {"b", 8, 1, 3}}, {}, {})
          .ok());
  EXPECT_EQ(latest("b").value, 7);
  EXPECT_EQ(this->store().GetRun(run_id)->metrics.size(), 2u);
}

TYPED_TEST_P(MetadataStoreConformanceTest, NanAndInfinityRoundTrip) {
  std::string run_id = this->NewRunId("0");
  const double inf = std::numeric_limits<double>::infinity();
  const double payload_nan = std::bit_cast<double>(uint64_t{0x7ff8000000000123});
  ASSERT_TRUE(this->store()
                  .LogBatch(run_id,
                            {{"x", inf, 1, 0}, {"x", -inf, 2, 1}, {"x", payload_nan, 3, 2},
                             {"y", -inf, 1, 0}, {"z", inf, 1, 0}},
                            {}, {})
                  .ok());
  auto h = this->History(run_id, "x");
  ASSERT_EQ(h.size(), 3u);
  EXPECT_EQ(h[0].value, inf);
  EXPECT_EQ(h[1].value, -inf);
  EXPECT_EQ(std::bit_cast<uint64_t>(h[2].value), 0x7ff8000000000123u);
  auto run = this->store().GetRun(run_id);
  EXPECT_TRUE(std::isnan(this->Latest(*run, "x")->value));
  EXPECT_EQ(this->Latest(*run, "y")->value, -inf);
  EXPECT_EQ(this->Latest(*run, "z")->value, inf);
}

TYPED_TEST_P(MetadataStoreConformanceTest, MetricHistoryInLoggedOrderAndPaged) {
  std::string run_id = this->NewRunId("0");
  std::vector<Metric> batch1, batch2;
  for (int i = 0; i < 5; ++i) batch1.push_back({"loss", 1.0 / (i + 1), 100 + i, i});
  for (int i = 0; i < 5; ++i) batch1.push_back({"acc", 0.1 * i, 100 + i, i});
  for (int i = 5; i < 8; ++i) batch2.push_back({"loss", 1.0 / (i + 1), 100 + i, i});
  ASSERT_TRUE(this->store().LogBatch(run_id, batch1, {}, {}).ok());
  ASSERT_TRUE(this->store().LogBatch(run_id, batch2, {}, {}).ok());
  ASSERT_TRUE(this->LogMetric(run_id, "loss", 0.01, 999, 8).ok());

  auto all = this->History(run_id, "loss");
  ASSERT_EQ(all.size(), 9u);
  for (int i = 0; i < 9; ++i) {
    EXPECT_EQ(all[i].step, i);
    EXPECT_EQ(all[i].key, "loss");
  }
  EXPECT_EQ(all[8].value, 0.01);
  EXPECT_EQ(this->History(run_id, "acc").size(), 5u);
  EXPECT_TRUE(this->History(run_id, "unknown").empty());

  // Pages of 2 stitch to the full history; has_more only before the last page.
  std::vector<Metric> stitched;
  for (int64_t offset = 0;; offset += 2) {
    auto page = this->store().GetMetricHistory(run_id, "loss", offset, 2);
    ASSERT_TRUE(page.ok());
    stitched.insert(stitched.end(), page->metrics.begin(), page->metrics.end());
    if (!page->has_more) break;
    ASSERT_EQ(page->metrics.size(), 2u);
  }
  ASSERT_EQ(stitched.size(), all.size());
  for (size_t i = 0; i < all.size(); ++i) EXPECT_EQ(stitched[i].step, all[i].step);
  auto exact = this->store().GetMetricHistory(run_id, "loss", 0, 9);
  EXPECT_EQ(exact->metrics.size(), 9u);
  EXPECT_FALSE(exact->has_more);
  auto past_end = this->store().GetMetricHistory(run_id, "loss", 20, 5);
  EXPECT_TRUE(past_end->metrics.empty());
  EXPECT_FALSE(past_end->has_more);

  // Logged order, not sorted by step.
  ASSERT_TRUE(this->LogMetric(run_id, "late", 1, 1, 5).ok());
  ASSERT_TRUE(this->LogMetric(run_id, "late", 2, 2, 3).ok());
  auto late = this->History(run_id, "late");
  ASSERT_EQ(late.size(), 2u);
  EXPECT_EQ(late[0].step, 5);
  EXPECT_EQ(late[1].step, 3);
  EXPECT_EQ(this->store().GetMetricHistory(NewUuidHex(), "loss", 0, 10).status().code(),
            StatusCode::kNotFound);
}

TYPED_TEST_P(MetadataStoreConformanceTest, TagsUpsertAndDelete) {
  std::string run_id = this->NewRunId("0");
  ASSERT_TRUE(this->store().LogBatch(run_id, {}, {}, {{"a", "1"}, {"b", "2"}}).ok());
  ASSERT_TRUE(this->store().LogBatch(run_id, {}, {}, {{"a", "3"}}).ok());
  EXPECT_EQ(this->store().GetRun(run_id)->tags, (std::vector<Tag>{{"a", "3"}, {"b", "2"}}));
  ASSERT_TRUE(this->store().DeleteTag(run_id, "a").ok());
  EXPECT_EQ(this->store().GetRun(run_id)->tags, (std::vector<Tag>{{"b", "2"}}));
  EXPECT_EQ(this->store().DeleteTag(run_id, "a").code(), StatusCode::kNotFound);
  // Setting mlflow.runName renames the run.
  ASSERT_TRUE(this->store().LogBatch(run_id, {}, {}, {{"mlflow.runName", "renamed"}}).ok());
  EXPECT_EQ(this->store().GetRun(run_id)->info.run_name, "renamed");
}

TYPED_TEST_P(MetadataStoreConformanceTest, LogInputsDeduplicates) {
  std::string run_id = this->NewRunId("0");
  DatasetInput d{"train", "abc", "local", "/data/train.csv", "{\"a\":1}", "{}",
                 {{"mlflow.data.context", "training"}}};
  DatasetInput e{"eval", "def", "local", "/data/eval.csv", "", "", {}};
  ASSERT_TRUE(this->store().LogInputs(run_id, {d}).ok());
  ASSERT_TRUE(this->store().LogInputs(run_id, {d, e}).ok());
  auto run = this->store().GetRun(run_id);
  ASSERT_EQ(run->inputs.size(), 2u);
  EXPECT_EQ(run->inputs[0].name, "train");
  EXPECT_EQ(run->inputs[0].digest, "abc");
  EXPECT_EQ(run->inputs[0].source, "/data/train.csv");
  EXPECT_EQ(run->inputs[0].schema, "{\"a\":1}");
  EXPECT_EQ(run->inputs[0].tags, d.tags);
  EXPECT_EQ(run->inputs[1].name, "eval");
  EXPECT_TRUE(run->inputs[1].tags.empty());
}

TYPED_TEST_P(MetadataStoreConformanceTest, SearchRunsByMetric) {
  this->BuildSearchFixture();
  using E = EntityKind;
  using O = CompareOp;
  EXPECT_EQ(this->Find({this->Cmp(E::kMetric, "m", O::kEq, 2.0)}), V({"beta"}));
  EXPECT_EQ(this->Find({this->Cmp(E::kMetric, "m", O::kNe, 2.0)}), V({"Gamma", "alpha"}));
  EXPECT_EQ(this->Find({this->Cmp(E::kMetric, "m", O::kLt, 2.0)}), V({"alpha"}));
  EXPECT_EQ(this->Find({this->Cmp(E::kMetric, "m", O::kLe, 2.0)}), V({"beta", "alpha"}));
  EXPECT_EQ(this->Find({this->Cmp(E::kMetric, "m", O::kGt, 2.0)}), V({"Gamma"}));
  EXPECT_EQ(this->Find({this->Cmp(E::kMetric, "m", O::kGe, 2.0)}), V({"Gamma", "beta"}));
  // NaN matches no ordering comparison.
  EXPECT_EQ(this->Find({this->Cmp(E::kMetric, "n", O::kGt, -1e300)}), V({"Gamma"}));
  EXPECT_EQ(this->Find({this->Cmp(E::kMetric, "n", O::kLt, 1e300)}), V({"Gamma"}));
  EXPECT_TRUE(this->Find({this->Cmp(E::kMetric, "missing", O::kGt, 0.0)}).empty());
}

TYPED_TEST_P(MetadataStoreConformanceTest, SearchRunsByParam) {
  this->BuildSearchFixture();
  using E = EntityKind;
  using O = CompareOp;
  EXPECT_EQ(this->Find({this->Cmp(E::kParam, "p", O::kEq, "x")}), V({"Gamma", "alpha"}));
  EXPECT_EQ(this->Find({this->Cmp(E::kParam, "p", O::kNe, "x")}), V({"beta"}));
  EXPECT_EQ(this->Find({this->Cmp(E::kParam, "q", O::kLike, "hello%")}), V({"beta"}));
  EXPECT_EQ(this->Find({this->Cmp(E::kParam, "q", O::kLike, "H_llo")}), V({"alpha"}));
  EXPECT_EQ(this->Find({this->Cmp(E::kParam, "q", O::kILike, "hello%")}),
            V({"delta", "beta", "alpha"}));
  EXPECT_EQ(this->Find({this->Cmp(E::kParam, "q", O::kILike, "%WORLD")}), V({"delta"}));
  EXPECT_EQ(this->Find({this->Cmp(E::kParam, "p", O::kIn, V{"y", "z"})}), V({"beta"}));
  EXPECT_EQ(this->Find({this->Cmp(E::kParam, "p", O::kNotIn, V{"y"})}), V({"Gamma", "alpha"}));
}

TYPED_TEST_P(MetadataStoreConformanceTest, SearchRunsByTag) {
  this->BuildSearchFixture();
  using E = EntityKind;
  using O = CompareOp;
  EXPECT_EQ(this->Find({this->Cmp(E::kTag, "t", O::kEq, "foo")}), V({"beta"}));
  EXPECT_EQ(this->Find({this->Cmp(E::kTag, "t", O::kNe, "foo")}), V({"delta", "alpha"}));
  EXPECT_EQ(this->Find({this->Cmp(E::kTag, "t", O::kLike, "F%")}), V({"alpha"}));
  EXPECT_EQ(this->Find({this->Cmp(E::kTag, "t", O::kILike, "f%")}), V({"beta", "alpha"}));
  EXPECT_EQ(this->Find({this->Cmp(E::kTag, "t", O::kIn, V{"bar", "Foo"})}), V({"delta", "alpha"}));
  EXPECT_EQ(this->Find({this->Cmp(E::kTag, "t", O::kNotIn, V{"bar"})}), V({"beta", "alpha"}));
  // Wildcard-looking characters are literal outside % and _.
  EXPECT_TRUE(this->Find({this->Cmp(E::kTag, "t", O::kLike, "*")}).empty());
}

TYPED_TEST_P(MetadataStoreConformanceTest, SearchRunsByAttribute) {
  this->BuildSearchFixture();
  using E = EntityKind;
  using O = CompareOp;
  EXPECT_EQ(this->Find({this->Cmp(E::kAttribute, "run_name", O::kEq, "beta")}), V({"beta"}));
  EXPECT_EQ(this->Find({this->Cmp(E::kAttribute, "run_name", O::kNe, "beta")}),
            V({"delta", "Gamma", "alpha"}));
  EXPECT_TRUE(this->Find({this->Cmp(E::kAttribute, "run_name", O::kLike, "g%")}).empty());
  EXPECT_EQ(this->Find({this->Cmp(E::kAttribute, "run_name", O::kILike, "g%")}), V({"Gamma"}));
  EXPECT_EQ(this->Find({this->Cmp(E::kAttribute, "status", O::kIn, V{"FINISHED", "FAILED"})}),
            V({"delta", "Gamma", "alpha"}));
  EXPECT_EQ(this->Find({this->Cmp(E::kAttribute, "status", O::kNotIn, V{"FINISHED", "FAILED"})}),
            V({"beta"}));
  EXPECT_EQ(this->Find({this->Cmp(E::kAttribute, "status", O::kEq, "RUNNING")}), V({"beta"}));
  EXPECT_EQ(this->Find({this->Cmp(E::kAttribute, "run_id", O::kIn, V{this->alpha_, this->beta_})}),
            V({"beta", "alpha"}));
  EXPECT_EQ(this->Find({this->Cmp(E::kAttribute, "run_id", O::kNotIn, V{this->alpha_})}),
            V({"delta", "Gamma", "beta"}));
  EXPECT_EQ(this->Find({this->Cmp(E::kAttribute, "run_id", O::kEq, this->gamma_)}), V({"Gamma"}));
  EXPECT_EQ(this->Find({this->Cmp(E::kAttribute, "start_time", O::kGe, 300.0)}),
            V({"delta", "Gamma"}));
  EXPECT_EQ(this->Find({this->Cmp(E::kAttribute, "start_time", O::kLt, 200.0)}), V({"alpha"}));
  EXPECT_EQ(this->Find({this->Cmp(E::kAttribute, "end_time", O::kGt, 0.0)}), V({"Gamma"}));
  EXPECT_EQ(this->Find({this->Cmp(E::kAttribute, "user_id", O::kEq, "alice")}).size(), 4u);
  EXPECT_EQ(this->Find({this->Cmp(E::kAttribute, "artifact_uri", O::kLike, "%" + this->beta_ + "%")}),
            V({"beta"}));
  // Conjunction of terms of different kinds.
  EXPECT_EQ(this->Find({this->Cmp(E::kMetric, "m", O::kGt, 1.0), this->Cmp(E::kParam, "p", O::kEq, "x"),
                        this->Cmp(E::kAttribute, "status", O::kEq, "FAILED")}),
            V({"Gamma"}));
  RunQuery bad;
  bad.filter = {this->Cmp(E::kAttribute, "no_such_attribute", O::kEq, "x")};
  EXPECT_EQ(this->store().SearchRuns(bad).status().code(), StatusCode::kInvalidArgument);
}

TYPED_TEST_P(MetadataStoreConformanceTest, SearchRunsOrderMissingLast) {
  this->BuildSearchFixture();
  using E = EntityKind;
  EXPECT_EQ(this->Find({}), V({"delta", "Gamma", "beta", "alpha"}));  // start_time DESC
  EXPECT_EQ(this->Find({}, {{E::kMetric, "m", true}}), V({"alpha", "beta", "Gamma", "delta"}));
  EXPECT_EQ(this->Find({}, {{E::kMetric, "m", false}}), V({"Gamma", "beta", "alpha", "delta"}));
  // Numbers, then NaN, then missing (ties by start_time DESC).
  EXPECT_EQ(this->Find({}, {{E::kMetric, "n", true}}), V({"Gamma", "alpha", "delta", "beta"}));
  EXPECT_EQ(this->Find({}, {{E::kMetric, "n", false}}), V({"Gamma", "alpha", "delta", "beta"}));
  EXPECT_EQ(this->Find({}, {{E::kParam, "p", true}, {E::kMetric, "m", false}}),
            V({"Gamma", "alpha", "beta", "delta"}));
  EXPECT_EQ(this->Find({}, {{E::kTag, "t", false}}), V({"beta", "delta", "alpha", "Gamma"}));
  EXPECT_EQ(this->Find({}, {{E::kTag, "t", true}}), V({"alpha", "delta", "beta", "Gamma"}));
  EXPECT_EQ(this->Find({}, {{E::kAttribute, "start_time", true}}),
            V({"alpha", "beta", "Gamma", "delta"}));
  EXPECT_EQ(this->Find({}, {{E::kAttribute, "end_time", false}}),
            V({"Gamma", "delta", "beta", "alpha"}));
  EXPECT_EQ(this->Find({}, {{E::kAttribute, "run_name", true}}),
            V({"Gamma", "alpha", "beta", "delta"}));
  EXPECT_EQ(this->Find({}, {{E::kAttribute, "status", true}, {E::kAttribute, "run_name", false}}),
            V({"Gamma", "delta", "alpha", "beta"}));
}

TYPED_TEST_P(MetadataStoreConformanceTest, SearchRunsTieBreaksByRunId) {
  std::string exp = this->NewExperimentId("ties");
  std::string b(32, 'b'), a(32, 'a'), c(32, 'c');
  this->NewRunId(exp, "b", 7, b);
  this->NewRunId(exp, "a", 7, a);
  this->NewRunId(exp, "c", 7, c);
  RunQuery q;
  q.experiment_ids = {exp};
  auto page = this->store().SearchRuns(q);
  ASSERT_TRUE(page.ok());
  ASSERT_EQ(page->runs.size(), 3u);
  EXPECT_EQ(page->runs[0].info.run_id, a);
  EXPECT_EQ(page->runs[1].info.run_id, b);
  EXPECT_EQ(page->runs[2].info.run_id, c);
}

TYPED_TEST_P(MetadataStoreConformanceTest, SearchRunsViewTypesAndExperiments) {
  this->BuildSearchFixture();
  ASSERT_TRUE(this->store().SetRunLifecycle(this->beta_, LifecycleStage::kDeleted).ok());
  EXPECT_EQ(this->Find({}), V({"delta", "Gamma", "alpha"}));
  EXPECT_EQ(this->Find({}, {}, ViewType::kDeletedOnly), V({"beta"}));
  EXPECT_EQ(this->Find({}, {}, ViewType::kAll), V({"delta", "Gamma", "beta", "alpha"}));
  RunQuery q;
  q.experiment_ids = {this->exp_a_, this->exp_b_};
  q.filter = {this->Cmp(EntityKind::kParam, "p", CompareOp::kEq, "x")};
  auto page = this->store().SearchRuns(q);
  ASSERT_TRUE(page.ok());
  V names;
  for (const RunRecord& r : page->runs) names.push_back(r.info.run_name);
  EXPECT_EQ(names, V({"other", "Gamma", "alpha"}));
}

TYPED_TEST_P(MetadataStoreConformanceTest, SearchRunsReturnsFullRuns) {
  this->BuildSearchFixture();
  RunQuery q;
  q.experiment_ids = {this->exp_a_};
  q.filter = {this->Cmp(EntityKind::kAttribute, "run_name", CompareOp::kEq, "alpha")};
  auto page = this->store().SearchRuns(q);
  ASSERT_TRUE(page.ok());
  ASSERT_EQ(page->runs.size(), 1u);
  const RunRecord& r = page->runs[0];
  EXPECT_EQ(r.info.run_id, this->alpha_);
  EXPECT_EQ(r.info.status, RunStatus::kFinished);
  ASSERT_EQ(r.metrics.size(), 2u);
  EXPECT_EQ(r.metrics[0].key, "m");
  EXPECT_EQ(r.metrics[0].value, 1.0);
  EXPECT_TRUE(std::isnan(r.metrics[1].value));
  EXPECT_EQ(r.params, (std::vector<Param>{{"p", "x"}, {"q", "Hello"}}));
  EXPECT_EQ(r.tags, (std::vector<Tag>{{"mlflow.runName", "alpha"}, {"t", "Foo"}}));
}

TYPED_TEST_P(MetadataStoreConformanceTest, SearchRunsPagingStitches) {
  std::string exp = this->NewExperimentId("paging");
  for (int i = 0; i < 23; ++i) {
    std::string id = this->NewRunId(exp, "r" + std::to_string(i), 1000 + i % 5);
    ASSERT_TRUE(this->LogMetric(id, "m", i % 7, 1, 0).ok());
  }
  RunQuery q;
  q.experiment_ids = {exp};
  q.order_by = {{EntityKind::kMetric, "m", false}};
  q.max_results = 1000;
  auto full = this->store().SearchRuns(q);
  ASSERT_TRUE(full.ok());
  ASSERT_EQ(full->runs.size(), 23u);
  EXPECT_FALSE(full->has_more);
  std::vector<std::string> stitched;
  q.max_results = 5;
  for (q.offset = 0;; q.offset += 5) {
    auto page = this->store().SearchRuns(q);
    ASSERT_TRUE(page.ok());
    for (const RunRecord& r : page->runs) stitched.push_back(r.info.run_id);
    if (!page->has_more) break;
    ASSERT_EQ(page->runs.size(), 5u);
  }
  ASSERT_EQ(stitched.size(), 23u);
  for (size_t i = 0; i < stitched.size(); ++i) EXPECT_EQ(stitched[i], full->runs[i].info.run_id);
  q.offset = 18;
  auto last = this->store().SearchRuns(q);
  EXPECT_EQ(last->runs.size(), 5u);
  EXPECT_FALSE(last->has_more);
}

TYPED_TEST_P(MetadataStoreConformanceTest, SearchExperiments) {
  this->clock_.Set(1000);
  std::string a = this->NewExperimentId("alpha", {{"team", "ml"}});
  this->clock_.Set(2000);
  std::string b = this->NewExperimentId("Beta", {{"team", "ops"}});
  this->clock_.Set(3000);
  std::string c = this->NewExperimentId("gamma", {{"team", "ml"}});
  ASSERT_TRUE(this->store().SetExperimentLifecycle(c, LifecycleStage::kDeleted, 4000).ok());
  auto names = [&](ExperimentQuery q) {
    auto page = this->store().SearchExperiments(q);
    EXPECT_TRUE(page.ok()) << page.status().ToString();
    V out;
    if (page.ok()) {
      for (const Experiment& e : page->experiments) out.push_back(e.name);
    }
    return out;
  };
  using E = EntityKind;
  using O = CompareOp;
  ExperimentQuery q;
  q.filter = {this->Cmp(E::kAttribute, "name", O::kNe, "Default")};
  EXPECT_EQ(names(q), V({"Beta", "alpha"}));  // creation_time DESC
  q.view_type = ViewType::kAll;
  EXPECT_EQ(names(q), V({"gamma", "Beta", "alpha"}));
  q.view_type = ViewType::kDeletedOnly;
  EXPECT_EQ(names(q), V({"gamma"}));
  q.view_type = ViewType::kAll;
  q.filter = {this->Cmp(E::kTag, "team", O::kEq, "ml")};
  EXPECT_EQ(names(q), V({"gamma", "alpha"}));
  q.filter = {this->Cmp(E::kAttribute, "name", O::kLike, "b%")};
  EXPECT_TRUE(names(q).empty());
  q.filter = {this->Cmp(E::kAttribute, "name", O::kILike, "b%")};
  EXPECT_EQ(names(q), V({"Beta"}));
  q.filter = {this->Cmp(E::kAttribute, "creation_time", O::kGe, 2000.0),
              this->Cmp(E::kAttribute, "name", O::kNe, "Default")};
  EXPECT_EQ(names(q), V({"gamma", "Beta"}));
  q.filter = {this->Cmp(E::kAttribute, "last_update_time", O::kGt, 3500.0),
              this->Cmp(E::kAttribute, "creation_time", O::kLt, 1e6)};
  EXPECT_EQ(names(q), V({"gamma"}));
  q.filter = {this->Cmp(E::kAttribute, "name", O::kNe, "Default")};
  q.order_by = {{E::kAttribute, "name", true}};
  EXPECT_EQ(names(q), V({"Beta", "alpha", "gamma"}));
  q.order_by = {{E::kAttribute, "experiment_id", false}};
  EXPECT_EQ(names(q), V({"gamma", "Beta", "alpha"}));
  // Paging.
  q.max_results = 2;
  auto page = this->store().SearchExperiments(q);
  ASSERT_TRUE(page.ok());
  EXPECT_EQ(page->experiments.size(), 2u);
  EXPECT_TRUE(page->has_more);
  q.offset = 2;
  page = this->store().SearchExperiments(q);
  ASSERT_EQ(page->experiments.size(), 1u);
  EXPECT_EQ(page->experiments[0].name, "alpha");
  EXPECT_EQ(page->experiments[0].tags, (std::vector<Tag>{{"team", "ml"}}));
  EXPECT_FALSE(page->has_more);
}

TYPED_TEST_P(MetadataStoreConformanceTest, ArtifactIndex) {
  auto put = [&](const std::string& path, int64_t size) {
    ASSERT_TRUE(this->store().PutArtifact({path, false, size, "d-" + path}).ok());
  };
  put("1/run/artifacts/model/MLmodel", 10);
  put("1/run/artifacts/model/data/model.xgb", 20);
  put("1/run/artifacts/model.txt", 30);
  put("1/run/artifacts/a.json", 40);
  put("1/run/artifactsX/other", 50);
  auto got = this->store().GetArtifact("1/run/artifacts/a.json");
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got->size, 40);
  EXPECT_EQ(got->digest, "d-1/run/artifacts/a.json");
  EXPECT_FALSE(got->is_dir);
  EXPECT_EQ(this->store().GetArtifact("1/run/artifacts/model").status().code(),
            StatusCode::kNotFound);
  put("1/run/artifacts/a.json", 41);  // replace
  EXPECT_EQ(this->store().GetArtifact("1/run/artifacts/a.json")->size, 41);

  auto list = this->store().ListArtifacts("1/run/artifacts");
  ASSERT_TRUE(list.ok());
  ASSERT_EQ(list->size(), 3u);
  EXPECT_EQ((*list)[0].path, "1/run/artifacts/a.json");
  EXPECT_EQ((*list)[0].size, 41);
  EXPECT_EQ((*list)[1].path, "1/run/artifacts/model");
  EXPECT_TRUE((*list)[1].is_dir);
  EXPECT_EQ((*list)[2].path, "1/run/artifacts/model.txt");
  EXPECT_FALSE((*list)[2].is_dir);
  auto root = this->store().ListArtifacts("");
  ASSERT_EQ(root->size(), 1u);
  EXPECT_EQ((*root)[0].path, "1");
  EXPECT_TRUE((*root)[0].is_dir);
  EXPECT_TRUE(this->store().ListArtifacts("nothing/here")->empty());

  ASSERT_TRUE(this->store().DeleteArtifacts("1/run/artifacts/model").ok());
  list = this->store().ListArtifacts("1/run/artifacts");
  ASSERT_EQ(list->size(), 2u);
  EXPECT_EQ(this->store().GetArtifact("1/run/artifacts/model/MLmodel").status().code(),
            StatusCode::kNotFound);
  EXPECT_TRUE(this->store().GetArtifact("1/run/artifactsX/other").ok());
  ASSERT_TRUE(this->store().DeleteArtifacts("1/run/artifacts/a.json").ok());
  EXPECT_EQ(this->store().ListArtifacts("1/run/artifacts")->size(), 1u);
  EXPECT_EQ(this->store().DeleteArtifacts("1/run/artifacts/a.json").code(), StatusCode::kNotFound);
}

TYPED_TEST_P(MetadataStoreConformanceTest, DatasetVersionsNumberFromOne) {
  auto first = this->store().CreateDatasetVersion(this->Dataset("churn", "a", "first"));
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  EXPECT_TRUE(first->created);
  EXPECT_EQ(first->version.version, 1);
  EXPECT_EQ(first->version.name, "churn");
  EXPECT_EQ(first->version.version_id, "id-a");
  EXPECT_EQ(first->version.manifest_digest, "manifest-a");
  EXPECT_EQ(first->version.profile_digest, "profile-a");
  EXPECT_EQ(first->version.size_bytes, 1);
  EXPECT_EQ(first->version.row_count, 10);
  EXPECT_EQ(first->version.description, "first");
  EXPECT_EQ(first->version.created_by, "alice");
  EXPECT_EQ(first->version.creation_time, this->clock_.NowMillis());  // 0 means now
  this->clock_.Advance(1000);
  DatasetVersion second_in = this->Dataset("churn", "b", "second");
  second_in.creation_time = 42;
  second_in.profile_digest = "";
  second_in.row_count = -1;
  auto second = this->store().CreateDatasetVersion(second_in);
  ASSERT_TRUE(second.ok()) << second.status().ToString();
  EXPECT_TRUE(second->created);
  EXPECT_EQ(second->version.version, 2);
  EXPECT_EQ(second->version.creation_time, 42);
  auto got = this->store().GetDatasetVersion("churn", 2);
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_EQ(*got, second->version);
  EXPECT_EQ(got->profile_digest, "");
  EXPECT_EQ(got->row_count, -1);
  // Another name numbers independently.
  auto other = this->store().CreateDatasetVersion(this->Dataset("iris", "a"));
  ASSERT_TRUE(other.ok());
  EXPECT_EQ(other->version.version, 1);
}

TYPED_TEST_P(MetadataStoreConformanceTest, DatasetSameContentAsLatestIsNotANewVersion) {
  ASSERT_TRUE(this->store().CreateDatasetVersion(this->Dataset("churn", "a")).ok());
  auto v2 = this->store().CreateDatasetVersion(this->Dataset("churn", "b", "two"));
  ASSERT_TRUE(v2.ok());
  this->clock_.Advance(1000);
  auto again = this->store().CreateDatasetVersion(this->Dataset("churn", "b", "ignored"));
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_FALSE(again->created);
  EXPECT_EQ(again->version, v2->version);  // the stored latest, not the request
  EXPECT_EQ(again->version.description, "two");
  EXPECT_EQ(this->store().ListDatasetVersions("churn")->size(), 2u);
  EXPECT_EQ(this->store().GetDatasetVersion("churn", std::nullopt)->version, 2);
  // Returning to an older content is a new version.
  auto back = this->store().CreateDatasetVersion(this->Dataset("churn", "a"));
  ASSERT_TRUE(back.ok());
  EXPECT_TRUE(back->created);
  EXPECT_EQ(back->version.version, 3);
  EXPECT_EQ(back->version.version_id, "id-a");
  EXPECT_EQ(this->store().ListDatasetVersions("churn")->size(), 3u);
}

TYPED_TEST_P(MetadataStoreConformanceTest, GetDatasetVersionLatestByNumberAndErrors) {
  ASSERT_TRUE(this->store().CreateDatasetVersion(this->Dataset("churn", "a")).ok());
  ASSERT_TRUE(this->store().CreateDatasetVersion(this->Dataset("churn", "b")).ok());
  ASSERT_TRUE(this->store().CreateDatasetVersion(this->Dataset("churn", "c")).ok());
  auto latest = this->store().GetDatasetVersion("churn", std::nullopt);
  ASSERT_TRUE(latest.ok()) << latest.status().ToString();
  EXPECT_EQ(latest->version, 3);
  EXPECT_EQ(latest->version_id, "id-c");
  auto v1 = this->store().GetDatasetVersion("churn", 1);
  ASSERT_TRUE(v1.ok());
  EXPECT_EQ(v1->version, 1);
  EXPECT_EQ(v1->version_id, "id-a");

  auto missing_version = this->store().GetDatasetVersion("churn", 7);
  EXPECT_EQ(missing_version.status().code(), StatusCode::kNotFound);
  EXPECT_EQ(missing_version.status().message(), "dataset 'churn' has no version v7 (latest is v3)");
  EXPECT_EQ(this->store().GetDatasetVersion("churn", 0).status().code(), StatusCode::kNotFound);
  auto missing = this->store().GetDatasetVersion("x", std::nullopt);
  EXPECT_EQ(missing.status().code(), StatusCode::kNotFound);
  EXPECT_EQ(missing.status().message(), "dataset 'x' does not exist");
  EXPECT_EQ(this->store().GetDatasetVersion("x", 1).status().message(),
            "dataset 'x' does not exist");
  auto list = this->store().ListDatasetVersions("x");
  EXPECT_EQ(list.status().code(), StatusCode::kNotFound);
  EXPECT_EQ(list.status().message(), "dataset 'x' does not exist");
}

TYPED_TEST_P(MetadataStoreConformanceTest, ListDatasetsAndVersions) {
  auto empty = this->store().ListDatasets();
  ASSERT_TRUE(empty.ok()) << empty.status().ToString();
  EXPECT_TRUE(empty->empty());
  ASSERT_TRUE(this->store().CreateDatasetVersion(this->Dataset("zeta", "a", "z1")).ok());
  this->clock_.Advance(10);
  ASSERT_TRUE(this->store().CreateDatasetVersion(this->Dataset("churn", "a", "c1")).ok());
  this->clock_.Advance(10);
  ASSERT_TRUE(this->store().CreateDatasetVersion(this->Dataset("churn", "b", "c2")).ok());
  const int64_t churn_updated = this->clock_.NowMillis();
  this->clock_.Advance(10);
  ASSERT_TRUE(this->store().CreateDatasetVersion(this->Dataset("churn", "b", "dup")).ok());

  auto list = this->store().ListDatasets();
  ASSERT_TRUE(list.ok()) << list.status().ToString();
  ASSERT_EQ(list->size(), 2u);
  EXPECT_EQ((*list)[0].name, "churn");
  EXPECT_EQ((*list)[0].latest_version, 2);
  EXPECT_EQ((*list)[0].version_count, 2);
  EXPECT_EQ((*list)[0].last_update_time, churn_updated);
  EXPECT_EQ((*list)[0].description, "c2");
  EXPECT_EQ((*list)[1].name, "zeta");
  EXPECT_EQ((*list)[1].latest_version, 1);
  EXPECT_EQ((*list)[1].version_count, 1);
  EXPECT_EQ((*list)[1].description, "z1");

  auto versions = this->store().ListDatasetVersions("churn");
  ASSERT_TRUE(versions.ok()) << versions.status().ToString();
  ASSERT_EQ(versions->size(), 2u);
  EXPECT_EQ((*versions)[0].version, 2);  // newest first
  EXPECT_EQ((*versions)[0].description, "c2");
  EXPECT_EQ((*versions)[1].version, 1);
  EXPECT_EQ((*versions)[1].description, "c1");
}

TYPED_TEST_P(MetadataStoreConformanceTest, ConcurrentDatasetVersionsAreConsecutive) {
  constexpr int kThreads = 4;
  constexpr int kPerThread = 15;
  std::vector<std::vector<int64_t>> got(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        // Distinct content per call, so each call makes a version.
        auto v = this->store().CreateDatasetVersion(
            this->Dataset("shared", std::to_string(t) + "-" + std::to_string(i)));
        EXPECT_TRUE(v.ok()) << v.status().ToString();
        if (v.ok()) {
          EXPECT_TRUE(v->created);
          got[t].push_back(v->version.version);
        }
      }
    });
  }
  for (auto& th : threads) th.join();
  std::set<int64_t> all;
  size_t total = 0;
  for (const auto& g : got) {
    total += g.size();
    all.insert(g.begin(), g.end());
    // Each thread sees its own versions increase.
    EXPECT_TRUE(std::is_sorted(g.begin(), g.end()));
  }
  constexpr int64_t kTotal = kThreads * kPerThread;
  EXPECT_EQ(total, size_t(kTotal));
  ASSERT_EQ(all.size(), size_t(kTotal));  // no duplicates
  EXPECT_EQ(*all.begin(), 1);
  EXPECT_EQ(*all.rbegin(), kTotal);  // no gaps
  auto versions = this->store().ListDatasetVersions("shared");
  ASSERT_TRUE(versions.ok());
  ASSERT_EQ(versions->size(), size_t(kTotal));
  for (int64_t i = 0; i < kTotal; ++i) EXPECT_EQ((*versions)[i].version, kTotal - i);
  EXPECT_EQ(this->store().GetDatasetVersion("shared", std::nullopt)->version, kTotal);
}

TYPED_TEST_P(MetadataStoreConformanceTest, RegisteredModelCreateGetAndErrors) {
  RegisteredModel in;
  in.name = "churn";
  in.description = "predicts churn";
  in.tags = {{"z", "1"}, {"a", "2"}};
  auto created = this->store().CreateRegisteredModel(in);
  ASSERT_TRUE(created.ok()) << created.status().ToString();
  EXPECT_EQ(created->name, "churn");
  EXPECT_EQ(created->description, "predicts churn");
  EXPECT_EQ(created->creation_timestamp, this->clock_.NowMillis());  // 0 means now
  EXPECT_EQ(created->last_updated_timestamp, this->clock_.NowMillis());
  EXPECT_EQ(created->tags, (std::vector<Tag>{{"a", "2"}, {"z", "1"}}));
  EXPECT_TRUE(created->latest_versions.empty());
  EXPECT_TRUE(created->aliases.empty());

  auto got = this->store().GetRegisteredModel("churn");
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got->description, "predicts churn");
  EXPECT_EQ(got->tags.size(), 2u);

  auto dup = this->store().CreateRegisteredModel(in);
  EXPECT_EQ(dup.status().code(), StatusCode::kAlreadyExists);
  EXPECT_EQ(dup.status().message(), "Registered Model (name=churn) already exists.");
  auto missing = this->store().GetRegisteredModel("Churn");  // names are case-sensitive
  EXPECT_EQ(missing.status().code(), StatusCode::kNotFound);
  EXPECT_EQ(missing.status().message(), "Registered Model with name=Churn not found");
}

TYPED_TEST_P(MetadataStoreConformanceTest, ModelVersionsNumberFromOneAndAreNeverReused) {
  this->NewModel("churn");
  this->clock_.Advance(1000);
  ModelVersion in;
  in.name = "churn";
  in.source = "runs:/abc/model";
  in.storage_location = "mlflow-artifacts:/0/abc/artifacts/model";
  in.run_id = "abc";
  in.artifact_path = "model";
  in.run_link = "http://x/runs/abc";
  in.description = "first";
  in.tags = {{"k", "v"}};
  auto v1 = this->store().CreateModelVersion(in);
  ASSERT_TRUE(v1.ok()) << v1.status().ToString();
  EXPECT_EQ(v1->version, 1);
  EXPECT_EQ(v1->name, "churn");
  EXPECT_EQ(v1->source, "runs:/abc/model");
  EXPECT_EQ(v1->storage_location, "mlflow-artifacts:/0/abc/artifacts/model");
  EXPECT_EQ(v1->run_id, "abc");
  EXPECT_EQ(v1->artifact_path, std::optional<std::string>("model"));
  EXPECT_EQ(v1->run_link, "http://x/runs/abc");
  EXPECT_EQ(v1->description, "first");
  EXPECT_EQ(v1->current_stage, ModelStage::kNone);
  EXPECT_EQ(v1->status, ModelVersionStatus::kReady);
  EXPECT_EQ(v1->tags, (std::vector<Tag>{{"k", "v"}}));
  EXPECT_EQ(v1->creation_timestamp, this->clock_.NowMillis());
  EXPECT_EQ(v1->last_updated_timestamp, this->clock_.NowMillis());
  // Creating a version updates the model.
  EXPECT_EQ(this->store().GetRegisteredModel("churn")->last_updated_timestamp,
            this->clock_.NowMillis());

  ModelVersion elsewhere;
  elsewhere.name = "churn";
  elsewhere.source = "s3://bucket/model";
  elsewhere.storage_location = "s3://bucket/model";
  elsewhere.creation_timestamp = 77;
  auto v2 = this->store().CreateModelVersion(elsewhere);
  ASSERT_TRUE(v2.ok());
  EXPECT_EQ(v2->version, 2);
  EXPECT_EQ(v2->artifact_path, std::nullopt);
  EXPECT_EQ(v2->creation_timestamp, 77);
  auto got = this->store().GetModelVersion("churn", 2);
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got->artifact_path, std::nullopt);
  EXPECT_EQ(got->run_id, "");
  EXPECT_EQ(this->NewVersion("churn"), 3);

  // A deleted version's number is not given again.
  ASSERT_TRUE(this->store().DeleteModelVersion("churn", 3, 0).ok());
  EXPECT_EQ(this->NewVersion("churn"), 4);
  auto gone = this->store().GetModelVersion("churn", 3);
  EXPECT_EQ(gone.status().code(), StatusCode::kNotFound);
  EXPECT_EQ(gone.status().message(), "Model Version (name=churn, version=3) not found");
  EXPECT_EQ(this->store().DeleteModelVersion("churn", 3, 0).code(), StatusCode::kNotFound);

  // Another model numbers on its own; a re-created model starts again at 1.
  this->NewModel("iris");
  EXPECT_EQ(this->NewVersion("iris"), 1);
  ASSERT_TRUE(this->store().DeleteRegisteredModel("iris").ok());
  EXPECT_EQ(this->store().GetModelVersion("iris", 1).status().code(), StatusCode::kNotFound);
  this->NewModel("iris");
  EXPECT_EQ(this->NewVersion("iris"), 1);

  ModelVersion orphan;
  orphan.name = "nope";
  orphan.source = "s3://x";
  auto no_model = this->store().CreateModelVersion(orphan);
  EXPECT_EQ(no_model.status().code(), StatusCode::kNotFound);
  EXPECT_EQ(no_model.status().message(), "Registered Model with name=nope not found");
  EXPECT_EQ(this->store().GetModelVersion("nope", 1).status().code(), StatusCode::kNotFound);
}

TYPED_TEST_P(MetadataStoreConformanceTest, LatestVersionsPerStageAndTransitions) {
  this->NewModel("m");
  for (int i = 0; i < 4; ++i) this->NewVersion("m");
  ASSERT_TRUE(
      this->store().TransitionModelVersionStage("m", 2, ModelStage::kStaging, false, 0).ok());
  ASSERT_TRUE(
      this->store().TransitionModelVersionStage("m", 4, ModelStage::kProduction, false, 0).ok());
  std::vector<ModelStage> stages;
  EXPECT_EQ(this->LatestVersionNumbers("m", &stages), (std::vector<int64_t>{3, 2, 4}));
  EXPECT_EQ(stages, (std::vector<ModelStage>{ModelStage::kNone, ModelStage::kStaging,
                                             ModelStage::kProduction}));

  this->clock_.Advance(5000);
  const int64_t t = this->clock_.NowMillis();
  auto moved =
      this->store().TransitionModelVersionStage("m", 1, ModelStage::kProduction, true, t);
  ASSERT_TRUE(moved.ok()) << moved.status().ToString();
  EXPECT_EQ(moved->current_stage, ModelStage::kProduction);
  EXPECT_EQ(moved->last_updated_timestamp, t);
  auto archived = this->store().GetModelVersion("m", 4);
  EXPECT_EQ(archived->current_stage, ModelStage::kArchived);  // archive_existing_versions
  EXPECT_EQ(archived->last_updated_timestamp, t);
  EXPECT_EQ(this->store().GetModelVersion("m", 2)->current_stage, ModelStage::kStaging);
  EXPECT_EQ(this->store().GetRegisteredModel("m")->last_updated_timestamp, t);
  stages.clear();
  EXPECT_EQ(this->LatestVersionNumbers("m", &stages), (std::vector<int64_t>{1, 2, 3, 4}));
  EXPECT_EQ(stages, (std::vector<ModelStage>{ModelStage::kProduction, ModelStage::kStaging,
                                             ModelStage::kNone, ModelStage::kArchived}));

  // Without archive_existing, two versions may share a stage; the latest is the highest.
  ASSERT_TRUE(
      this->store().TransitionModelVersionStage("m", 3, ModelStage::kProduction, false, 0).ok());
  EXPECT_EQ(this->store().GetModelVersion("m", 1)->current_stage, ModelStage::kProduction);
  EXPECT_EQ(this->LatestVersionNumbers("m"), (std::vector<int64_t>{3, 2, 4}));
  EXPECT_EQ(
      this->store().TransitionModelVersionStage("m", 9, ModelStage::kStaging, false, 0)
          .status().code(),
      StatusCode::kNotFound);
}

TYPED_TEST_P(MetadataStoreConformanceTest, UpdateRenameAndDeleteRegisteredModel) {
  this->NewModel("old", {{"team", "ml"}});
  this->NewVersion("old", "r1", {{"k", "v"}});
  this->NewVersion("old");
  ASSERT_TRUE(this->store().SetRegisteredModelAlias("old", "champion", 1).ok());

  this->clock_.Advance(1000);
  auto updated = this->store().UpdateRegisteredModel("old", "new text", this->clock_.NowMillis());
  ASSERT_TRUE(updated.ok());
  EXPECT_EQ(updated->description, "new text");
  EXPECT_EQ(updated->last_updated_timestamp, this->clock_.NowMillis());
  auto v1 = this->store().UpdateModelVersion("old", 1, "v1 text", this->clock_.NowMillis());
  ASSERT_TRUE(v1.ok());
  EXPECT_EQ(v1->description, "v1 text");
  EXPECT_EQ(v1->last_updated_timestamp, this->clock_.NowMillis());
  EXPECT_EQ(this->store().UpdateModelVersion("old", 7, "x", 0).status().code(),
            StatusCode::kNotFound);
  EXPECT_EQ(this->store().UpdateRegisteredModel("nope", "x", 0).status().code(),
            StatusCode::kNotFound);

  this->clock_.Advance(1000);
  auto renamed = this->store().RenameRegisteredModel("old", "new", this->clock_.NowMillis());
  ASSERT_TRUE(renamed.ok()) << renamed.status().ToString();
  EXPECT_EQ(renamed->name, "new");
  EXPECT_EQ(renamed->tags, (std::vector<Tag>{{"team", "ml"}}));
  EXPECT_EQ(renamed->aliases, (std::vector<ModelAlias>{{"champion", 1}}));
  ASSERT_EQ(renamed->latest_versions.size(), 1u);
  EXPECT_EQ(renamed->latest_versions[0].name, "new");
  EXPECT_EQ(this->store().GetRegisteredModel("old").status().code(), StatusCode::kNotFound);
  auto moved = this->store().GetModelVersion("new", 1);
  ASSERT_TRUE(moved.ok());
  EXPECT_EQ(moved->tags, (std::vector<Tag>{{"k", "v"}}));
  EXPECT_EQ(moved->aliases, (std::vector<std::string>{"champion"}));
  EXPECT_EQ(moved->last_updated_timestamp, this->clock_.NowMillis());
  EXPECT_EQ(this->store().GetModelVersionByAlias("new", "champion")->version, 1);
  EXPECT_EQ(this->NewVersion("new"), 3);  // numbering continues

  this->NewModel("taken");
  auto clash = this->store().RenameRegisteredModel("new", "taken", 0);
  EXPECT_EQ(clash.status().code(), StatusCode::kAlreadyExists);
  EXPECT_EQ(clash.status().message(), "Registered Model (name=taken) already exists.");
  EXPECT_EQ(this->store().RenameRegisteredModel("nope", "x", 0).status().code(),
            StatusCode::kNotFound);

  ASSERT_TRUE(this->store().DeleteRegisteredModel("new").ok());
  EXPECT_EQ(this->store().GetRegisteredModel("new").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(this->store().GetModelVersion("new", 1).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(this->store().DeleteRegisteredModel("new").code(), StatusCode::kNotFound);
  // Nothing of the deleted model leaks into a new one of the same name.
  auto fresh = this->NewModel("new");
  EXPECT_TRUE(fresh.tags.empty());
  EXPECT_TRUE(fresh.aliases.empty());
  EXPECT_TRUE(fresh.latest_versions.empty());
}

TYPED_TEST_P(MetadataStoreConformanceTest, RegistryTagsUpsertAndDelete) {
  this->NewModel("m");
  this->NewVersion("m");
  ASSERT_TRUE(this->store().SetRegisteredModelTag("m", {"a", "1"}).ok());
  ASSERT_TRUE(this->store().SetRegisteredModelTag("m", {"a", "2"}).ok());
  ASSERT_TRUE(this->store().SetRegisteredModelTag("m", {"b", ""}).ok());
  EXPECT_EQ(this->store().GetRegisteredModel("m")->tags,
            (std::vector<Tag>{{"a", "2"}, {"b", ""}}));
  ASSERT_TRUE(this->store().DeleteRegisteredModelTag("m", "a").ok());
  ASSERT_TRUE(this->store().DeleteRegisteredModelTag("m", "absent").ok());  // as MLflow
  EXPECT_EQ(this->store().GetRegisteredModel("m")->tags, (std::vector<Tag>{{"b", ""}}));
  EXPECT_EQ(this->store().SetRegisteredModelTag("x", {"a", "1"}).code(), StatusCode::kNotFound);
  EXPECT_EQ(this->store().DeleteRegisteredModelTag("x", "a").code(), StatusCode::kNotFound);

  ASSERT_TRUE(this->store().SetModelVersionTag("m", 1, {"z", "1"}).ok());
  ASSERT_TRUE(this->store().SetModelVersionTag("m", 1, {"y", "2"}).ok());
  ASSERT_TRUE(this->store().SetModelVersionTag("m", 1, {"z", "3"}).ok());
  EXPECT_EQ(this->store().GetModelVersion("m", 1)->tags,
            (std::vector<Tag>{{"y", "2"}, {"z", "3"}}));
  ASSERT_TRUE(this->store().DeleteModelVersionTag("m", 1, "y").ok());
  ASSERT_TRUE(this->store().DeleteModelVersionTag("m", 1, "absent").ok());
  EXPECT_EQ(this->store().GetModelVersion("m", 1)->tags, (std::vector<Tag>{{"z", "3"}}));
  EXPECT_EQ(this->store().SetModelVersionTag("m", 2, {"a", "1"}).code(), StatusCode::kNotFound);
  EXPECT_EQ(this->store().DeleteModelVersionTag("m", 2, "a").code(), StatusCode::kNotFound);
  EXPECT_EQ(this->store().SetModelVersionTag("x", 1, {"a", "1"}).code(), StatusCode::kNotFound);
}

TYPED_TEST_P(MetadataStoreConformanceTest, AliasesPointMoveAndFollowDeletes) {
  this->NewModel("m");
  for (int i = 0; i < 3; ++i) this->NewVersion("m");
  ASSERT_TRUE(this->store().SetRegisteredModelAlias("m", "champion", 1).ok());
  ASSERT_TRUE(this->store().SetRegisteredModelAlias("m", "challenger", 2).ok());
  ASSERT_TRUE(this->store().SetRegisteredModelAlias("m", "backup", 1).ok());
  EXPECT_EQ(this->store().GetRegisteredModel("m")->aliases,
            (std::vector<ModelAlias>{{"backup", 1}, {"challenger", 2}, {"champion", 1}}));
  EXPECT_EQ(this->store().GetModelVersion("m", 1)->aliases,
            (std::vector<std::string>{"backup", "champion"}));
  auto by_alias = this->store().GetModelVersionByAlias("m", "challenger");
  ASSERT_TRUE(by_alias.ok()) << by_alias.status().ToString();
  EXPECT_EQ(by_alias->version, 2);
  EXPECT_EQ(by_alias->aliases, (std::vector<std::string>{"challenger"}));

  // Moving an alias.
  ASSERT_TRUE(this->store().SetRegisteredModelAlias("m", "champion", 3).ok());
  EXPECT_EQ(this->store().GetModelVersionByAlias("m", "champion")->version, 3);
  EXPECT_EQ(this->store().GetModelVersion("m", 1)->aliases, (std::vector<std::string>{"backup"}));

  // Deleting a version drops its aliases.
  ASSERT_TRUE(this->store().DeleteModelVersion("m", 3, 0).ok());
  auto dropped = this->store().GetModelVersionByAlias("m", "champion");
  EXPECT_EQ(dropped.status().code(), StatusCode::kNotFound);
  EXPECT_EQ(dropped.status().message(), "Registered model alias champion not found.");
  EXPECT_EQ(this->store().GetRegisteredModel("m")->aliases,
            (std::vector<ModelAlias>{{"backup", 1}, {"challenger", 2}}));

  ASSERT_TRUE(this->store().DeleteRegisteredModelAlias("m", "backup").ok());
  ASSERT_TRUE(this->store().DeleteRegisteredModelAlias("m", "backup").ok());  // absent is fine
  EXPECT_EQ(this->store().GetModelVersion("m", 1)->aliases.size(), 0u);

  EXPECT_EQ(this->store().SetRegisteredModelAlias("m", "x", 3).code(), StatusCode::kNotFound);
  EXPECT_EQ(this->store().SetRegisteredModelAlias("nope", "x", 1).code(), StatusCode::kNotFound);
  EXPECT_EQ(this->store().DeleteRegisteredModelAlias("nope", "x").code(), StatusCode::kNotFound);
  EXPECT_EQ(this->store().GetModelVersionByAlias("nope", "x").status().code(),
            StatusCode::kNotFound);
}

TYPED_TEST_P(MetadataStoreConformanceTest, SearchRegisteredModels) {
  using K = EntityKind;
  using O = CompareOp;
  this->NewModel("churn-xgb", {{"team", "growth"}});
  this->clock_.Advance(10);
  this->NewModel("Churn-lr", {{"team", "Growth"}});
  this->clock_.Advance(10);
  this->NewModel("fraud", {{"team", "risk"}});
  this->clock_.Advance(10);
  this->NewVersion("churn-xgb");  // churn-xgb is now the most recently updated

  RegisteredModelQuery all;
  EXPECT_EQ(this->ModelNames(all), (V{"Churn-lr", "churn-xgb", "fraud"}));  // name ASC
  RegisteredModelQuery q;
  q.filter = {this->Cmp(K::kAttribute, "name", O::kLike, std::string("%churn%"))};
  EXPECT_EQ(this->ModelNames(q), (V{"churn-xgb"}));  // LIKE is case-sensitive
  q.filter = {this->Cmp(K::kAttribute, "name", O::kILike, std::string("%churn%"))};
  EXPECT_EQ(this->ModelNames(q), (V{"Churn-lr", "churn-xgb"}));
  q.filter = {this->Cmp(K::kAttribute, "name", O::kEq, std::string("fraud"))};
  EXPECT_EQ(this->ModelNames(q), (V{"fraud"}));
  q.filter = {this->Cmp(K::kAttribute, "name", O::kNe, std::string("fraud"))};
  EXPECT_EQ(this->ModelNames(q), (V{"Churn-lr", "churn-xgb"}));
  q.filter = {this->Cmp(K::kTag, "team", O::kILike, std::string("growth")),
              this->Cmp(K::kAttribute, "name", O::kLike, std::string("C%"))};
  EXPECT_EQ(this->ModelNames(q), (V{"Churn-lr"}));
  q.filter = {this->Cmp(K::kTag, "missing", O::kNe, std::string("x"))};
  EXPECT_EQ(this->ModelNames(q), V{});  // no tag, no match (as MLflow)

  RegisteredModelQuery ordered;
  ordered.order_by = {{K::kAttribute, "last_updated_timestamp", false}};
  EXPECT_EQ(this->ModelNames(ordered), (V{"churn-xgb", "fraud", "Churn-lr"}));
  ordered.order_by = {{K::kAttribute, "name", false}};
  EXPECT_EQ(this->ModelNames(ordered), (V{"fraud", "churn-xgb", "Churn-lr"}));
  ordered.order_by = {{K::kAttribute, "creation_timestamp", true}};
  EXPECT_EQ(this->ModelNames(ordered), (V{"churn-xgb", "Churn-lr", "fraud"}));

  RegisteredModelQuery paged;
  paged.max_results = 2;
  bool more = false;
  EXPECT_EQ(this->ModelNames(paged, &more), (V{"Churn-lr", "churn-xgb"}));
  EXPECT_TRUE(more);
  paged.offset = 2;
  EXPECT_EQ(this->ModelNames(paged, &more), (V{"fraud"}));
  EXPECT_FALSE(more);

  auto full = this->store().SearchRegisteredModels(all);
  ASSERT_TRUE(full.ok());
  EXPECT_EQ(full->models[1].tags, (std::vector<Tag>{{"team", "growth"}}));
  ASSERT_EQ(full->models[1].latest_versions.size(), 1u);
}

TYPED_TEST_P(MetadataStoreConformanceTest, SearchModelVersions) {
  using K = EntityKind;
  using O = CompareOp;
  this->NewModel("a");
  this->NewModel("b");
  this->NewVersion("a", "run1", {{"env", "prod"}});  // a/1
  this->NewVersion("a", "run2");                     // a/2
  this->NewVersion("b", "run1", {{"env", "dev"}});   // b/1
  this->NewVersion("a", "run3", {{"env", "Prod"}});  // a/3

  EXPECT_EQ(this->VersionKeys({}), (V{"a/3", "a/2", "a/1", "b/1"}));  // name ASC, version DESC
  ModelVersionQuery q;
  q.filter = {this->Cmp(K::kAttribute, "name", O::kEq, std::string("a"))};
  EXPECT_EQ(this->VersionKeys(q), (V{"a/3", "a/2", "a/1"}));
  q.filter = {this->Cmp(K::kAttribute, "run_id", O::kEq, std::string("run1"))};
  EXPECT_EQ(this->VersionKeys(q), (V{"a/1", "b/1"}));
  q.filter = {this->Cmp(K::kAttribute, "run_id", O::kIn, V{"run2", "run3"})};
  EXPECT_EQ(this->VersionKeys(q), (V{"a/3", "a/2"}));
  q.filter = {this->Cmp(K::kAttribute, "source_path", O::kLike, std::string("runs:/run1/%"))};
  EXPECT_EQ(this->VersionKeys(q), (V{"a/1", "b/1"}));
  q.filter = {this->Cmp(K::kAttribute, "version_number", O::kGe, 2.0),
              this->Cmp(K::kAttribute, "name", O::kEq, std::string("a"))};
  EXPECT_EQ(this->VersionKeys(q), (V{"a/3", "a/2"}));
  q.filter = {this->Cmp(K::kTag, "env", O::kILike, std::string("prod"))};
  EXPECT_EQ(this->VersionKeys(q), (V{"a/3", "a/1"}));
  q.filter = {this->Cmp(K::kTag, "env", O::kEq, std::string("prod"))};
  EXPECT_EQ(this->VersionKeys(q), (V{"a/1"}));

  ModelVersionQuery ordered;
  ordered.order_by = {{K::kAttribute, "version_number", true}};
  EXPECT_EQ(this->VersionKeys(ordered), (V{"a/1", "b/1", "a/2", "a/3"}));
  ordered.order_by = {{K::kAttribute, "name", false}};
  EXPECT_EQ(this->VersionKeys(ordered), (V{"b/1", "a/3", "a/2", "a/1"}));

  ModelVersionQuery paged;
  paged.max_results = 3;
  bool more = false;
  EXPECT_EQ(this->VersionKeys(paged, &more), (V{"a/3", "a/2", "a/1"}));
  EXPECT_TRUE(more);
  paged.offset = 3;
  EXPECT_EQ(this->VersionKeys(paged, &more), (V{"b/1"}));
  EXPECT_FALSE(more);

  auto page = this->store().SearchModelVersions(q);  // env = 'prod': full versions come back
  ASSERT_TRUE(page.ok());
  ASSERT_EQ(page->versions.size(), 1u);
  EXPECT_EQ(page->versions[0].tags, (std::vector<Tag>{{"env", "prod"}}));
  EXPECT_EQ(page->versions[0].source, "runs:/run1/model");
}

TYPED_TEST_P(MetadataStoreConformanceTest, ConcurrentModelVersionsAreConsecutive) {
  this->NewModel("shared");
  constexpr int kThreads = 4;
  constexpr int kPerThread = 15;
  std::vector<std::vector<int64_t>> got(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        ModelVersion v;
        v.name = "shared";
        v.source = "s3://bucket/" + std::to_string(t) + "/" + std::to_string(i);
        auto created = this->store().CreateModelVersion(v);
        EXPECT_TRUE(created.ok()) << created.status().ToString();
        if (created.ok()) got[t].push_back(created->version);
      }
    });
  }
  for (auto& th : threads) th.join();
  std::set<int64_t> all;
  for (const auto& g : got) {
    all.insert(g.begin(), g.end());
    EXPECT_TRUE(std::is_sorted(g.begin(), g.end()));
  }
  constexpr int64_t kTotal = kThreads * kPerThread;
  ASSERT_EQ(all.size(), size_t(kTotal));  // no duplicates
  EXPECT_EQ(*all.begin(), 1);
  EXPECT_EQ(*all.rbegin(), kTotal);  // no gaps
  ModelVersionQuery q;
  q.max_results = 1000;
  auto page = this->store().SearchModelVersions(q);
  ASSERT_TRUE(page.ok());
  EXPECT_EQ(page->versions.size(), size_t(kTotal));
}

// --- endpoints and deployments ---------------------------------------------------------------

TYPED_TEST_P(MetadataStoreConformanceTest, EndpointsCreateGetListUpdateDelete) {
  Endpoint e;
  e.name = "churn";
  e.description = "churn scoring";
  e.sample_rate = 0.25;
  e.creation_time = 1000;
  auto created = this->store().CreateEndpoint(e);
  ASSERT_TRUE(created.ok()) << created.status().ToString();
  EXPECT_EQ(created->name, "churn");
  EXPECT_EQ(created->traffic_version, 0);
  EXPECT_EQ(created->last_update_time, 1000);
  EXPECT_EQ(this->store().CreateEndpoint(e).status().code(), StatusCode::kAlreadyExists);

  Endpoint other;
  other.name = "Abc";
  ASSERT_TRUE(this->store().CreateEndpoint(other).ok());
  auto got = this->store().GetEndpoint("churn");
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(*got, *created);
  auto missing = this->store().GetEndpoint("CHURN");  // names compare exactly
  EXPECT_EQ(missing.status().code(), StatusCode::kNotFound);
  EXPECT_NE(missing.status().message().find("endpoint 'CHURN' does not exist"), std::string::npos);

  auto list = this->store().ListEndpoints();
  ASSERT_TRUE(list.ok());
  ASSERT_EQ(list->size(), 2u);
  EXPECT_EQ((*list)[0].name, "Abc");
  EXPECT_EQ((*list)[1].name, "churn");

  auto updated = this->store().UpdateEndpoint("churn", "v2", 1.0, 2000);
  ASSERT_TRUE(updated.ok());
  EXPECT_EQ(updated->description, "v2");
  EXPECT_EQ(updated->sample_rate, 1.0);
  EXPECT_EQ(updated->creation_time, 1000);
  EXPECT_EQ(updated->last_update_time, 2000);
  EXPECT_EQ(this->store().UpdateEndpoint("nope", "", 1, 0).status().code(),
            StatusCode::kNotFound);

  EXPECT_TRUE(this->store().DeleteEndpoint("Abc").ok());
  EXPECT_EQ(this->store().DeleteEndpoint("Abc").code(), StatusCode::kNotFound);
  EXPECT_EQ(this->store().GetEndpoint("Abc").status().code(), StatusCode::kNotFound);
  ASSERT_TRUE(this->store().CreateEndpoint(other).ok());  // the name is free again
}

TYPED_TEST_P(MetadataStoreConformanceTest, DeploymentsCreateListUpdateAndErrors) {
  Endpoint e;
  e.name = "churn";
  ASSERT_TRUE(this->store().CreateEndpoint(e).ok());
  Deployment d;
  d.endpoint = "churn";
  d.name = "blue";
  d.model_uri = "models:/churn@champion";
  d.model_name = "churn";
  d.model_version = 3;
  d.run_id = "r1";
  d.storage_location = "mlflow-artifacts:/0/r1/artifacts/model";
  d.threads = 2;
  d.traffic = 100;  // ignored: a new deployment takes no traffic
  d.creation_time = 5000;
  auto blue = this->store().CreateDeployment(d);
  ASSERT_TRUE(blue.ok()) << blue.status().ToString();
  EXPECT_EQ(blue->traffic, 0);
  EXPECT_EQ(blue->mirror, 0);
  EXPECT_EQ(blue->model_version, 3);
  EXPECT_EQ(blue->last_update_time, 5000);
  EXPECT_EQ(this->store().CreateDeployment(d).status().code(), StatusCode::kAlreadyExists);
  Deployment orphan = d;
  orphan.endpoint = "nope";
  EXPECT_EQ(this->store().CreateDeployment(orphan).status().code(), StatusCode::kNotFound);

  d.name = "Green";
  d.model_uri = "runs:/r2/model";
  d.model_name = "";
  d.model_version = 0;
  ASSERT_TRUE(this->store().CreateDeployment(d).ok());
  auto list = this->store().ListDeployments("churn");
  ASSERT_TRUE(list.ok());
  ASSERT_EQ(list->size(), 2u);
  EXPECT_EQ((*list)[0].name, "Green");
  EXPECT_EQ((*list)[1], *blue);
  EXPECT_EQ(this->store().ListDeployments("nope").status().code(), StatusCode::kNotFound);

  auto got = this->store().GetDeployment("churn", "blue");
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(*got, *blue);
  auto missing = this->store().GetDeployment("churn", "red");
  EXPECT_EQ(missing.status().code(), StatusCode::kNotFound);
  EXPECT_NE(missing.status().message().find("deployment 'red' of endpoint 'churn'"),
            std::string::npos);

  Deployment swap = *blue;
  swap.model_uri = "models:/churn/4";
  swap.model_version = 4;
  swap.threads = 0;
  auto updated = this->store().UpdateDeployment(swap, 6000);
  ASSERT_TRUE(updated.ok());
  EXPECT_EQ(updated->model_uri, "models:/churn/4");
  EXPECT_EQ(updated->model_version, 4);
  EXPECT_EQ(updated->threads, 0);
  EXPECT_EQ(updated->creation_time, 5000);
  EXPECT_EQ(updated->last_update_time, 6000);
  EXPECT_EQ(*this->store().GetDeployment("churn", "blue"), *updated);
  swap.name = "red";
  EXPECT_EQ(this->store().UpdateDeployment(swap, 0).status().code(), StatusCode::kNotFound);
}

TYPED_TEST_P(MetadataStoreConformanceTest, EndpointTrafficIsReplacedAsAWhole) {
  Endpoint e;
  e.name = "churn";
  ASSERT_TRUE(this->store().CreateEndpoint(e).ok());
  for (const char* name : {"blue", "green", "red"}) {
    Deployment d;
    d.endpoint = "churn";
    d.name = name;
    d.model_uri = "models:/churn/1";
    ASSERT_TRUE(this->store().CreateDeployment(d).ok());
  }
  auto shares = [&]() {
    std::map<std::string, std::pair<int64_t, int64_t>> out;
    auto list = this->store().ListDeployments("churn");
    EXPECT_TRUE(list.ok());
    if (list.ok()) {
      for (const auto& d : *list) out[d.name] = {d.traffic, d.mirror};
    }
    return out;
  };
  using Shares = std::map<std::string, std::pair<int64_t, int64_t>>;
  EndpointTraffic t;
  t.live = {{"blue", 90}, {"green", 10}};
  auto set = this->store().SetEndpointTraffic("churn", t, 7000);
  ASSERT_TRUE(set.ok()) << set.status().ToString();
  EXPECT_EQ(set->traffic_version, 1);
  EXPECT_EQ(set->last_update_time, 7000);
  EXPECT_EQ(shares(), (Shares{{"blue", {90, 0}}, {"green", {10, 0}}, {"red", {0, 0}}}));

  t.live = {{"blue", 100}};
  t.mirror = {{"red", 20}};
  ASSERT_TRUE(this->store().SetEndpointTraffic("churn", t, 0).ok());
  EXPECT_EQ(shares(), (Shares{{"blue", {100, 0}}, {"green", {0, 0}}, {"red", {0, 20}}}));

  // A deployment the endpoint lacks: an error naming it, and nothing changes.
  EndpointTraffic bad;
  bad.live = {{"green", 100}};
  bad.mirror = {{"purple", 10}};
  auto rejected = this->store().SetEndpointTraffic("churn", bad, 0);
  EXPECT_EQ(rejected.status().code(), StatusCode::kNotFound);
  EXPECT_NE(rejected.status().message().find("'purple'"), std::string::npos);
  EXPECT_EQ(shares(), (Shares{{"blue", {100, 0}}, {"green", {0, 0}}, {"red", {0, 20}}}));
  EXPECT_EQ(this->store().GetEndpoint("churn")->traffic_version, 2);
  EXPECT_EQ(this->store().SetEndpointTraffic("nope", t, 0).status().code(),
            StatusCode::kNotFound);

  // Deployments taking live or mirrored traffic stay; the others may go.
  EXPECT_EQ(this->store().DeleteDeployment("churn", "blue").code(),
            StatusCode::kFailedPrecondition);
  EXPECT_EQ(this->store().DeleteDeployment("churn", "red").code(),
            StatusCode::kFailedPrecondition);
  EXPECT_TRUE(this->store().DeleteDeployment("churn", "green").ok());
  EXPECT_EQ(this->store().DeleteDeployment("churn", "green").code(), StatusCode::kNotFound);
  ASSERT_TRUE(this->store().SetEndpointTraffic("churn", EndpointTraffic{}, 0).ok());
  EXPECT_TRUE(this->store().DeleteDeployment("churn", "red").ok());

  // Deleting the endpoint takes its deployments along; a new one of the same name starts empty.
  ASSERT_TRUE(this->store().DeleteEndpoint("churn").ok());
  ASSERT_TRUE(this->store().CreateEndpoint(e).ok());
  auto fresh = this->store().ListDeployments("churn");
  ASSERT_TRUE(fresh.ok());
  EXPECT_TRUE(fresh->empty());
  EXPECT_EQ(this->store().GetEndpoint("churn")->traffic_version, 0);
}

// --- pipeline runs ---------------------------------------------------------------------------

inline PipelineRun SamplePipelineRun(const std::string& id, int64_t time) {
  PipelineRun r;
  r.run_id = id;
  r.name = "churn";
  r.file = "churn.yaml";
  r.spec = "name: churn\n";
  r.params = R"({"alias":"champion"})";
  r.created_by = "ana";
  r.creation_time = time;
  StepRun a;
  a.step_id = "train";
  a.position = 0;
  a.uses = "train.xgboost";
  StepRun b;
  b.step_id = "gate";
  b.position = 1;
  b.uses = "gate.approval";
  r.steps = {b, a};  // stored and returned by position
  return r;
}

TYPED_TEST_P(MetadataStoreConformanceTest, PipelineRunsCreateGetListAndErrors) {
  auto created = this->store().CreatePipelineRun(SamplePipelineRun("r1", 1000));
  ASSERT_TRUE(created.ok()) << created.status().ToString();
  ASSERT_EQ(created->steps.size(), 2u);
  EXPECT_EQ(created->steps[0].step_id, "train");
  EXPECT_EQ(created->steps[0].pipeline_run_id, "r1");
  EXPECT_EQ(created->last_update_time, 1000);
  auto got = this->store().GetPipelineRun("r1");
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(*got, *created);
  EXPECT_EQ(this->store().CreatePipelineRun(SamplePipelineRun("r1", 1000)).status().code(),
            StatusCode::kAlreadyExists);
  auto missing = this->store().GetPipelineRun("nope");
  EXPECT_EQ(missing.status().code(), StatusCode::kNotFound);
  EXPECT_EQ(missing.status().message(), "pipeline run 'nope' does not exist");

  ASSERT_TRUE(this->store().CreatePipelineRun(SamplePipelineRun("r2", 2000)).ok());
  PipelineRun other = SamplePipelineRun("r3", 3000);
  other.name = "other";
  other.status = PipelineRunStatus::kSucceeded;
  ASSERT_TRUE(this->store().CreatePipelineRun(other).ok());
  auto all = this->store().ListPipelineRuns({});
  ASSERT_TRUE(all.ok());
  ASSERT_EQ(all->size(), 3u);
  EXPECT_EQ((*all)[0].run_id, "r3");  // newest first
  EXPECT_EQ((*all)[2].steps.size(), 2u);
  PipelineRunQuery active;
  active.statuses = {PipelineRunStatus::kQueued, PipelineRunStatus::kRunning};
  EXPECT_EQ(this->store().ListPipelineRuns(active)->size(), 2u);
  PipelineRunQuery named;
  named.name = "other";
  EXPECT_EQ(this->store().ListPipelineRuns(named)->size(), 1u);
  PipelineRunQuery one;
  one.max_results = 1;
  EXPECT_EQ(this->store().ListPipelineRuns(one)->front().run_id, "r3");
}

TYPED_TEST_P(MetadataStoreConformanceTest, PipelineRunAndStepUpdatesWithPreconditions) {
  ASSERT_TRUE(this->store().CreatePipelineRun(SamplePipelineRun("r1", 1000)).ok());
  PipelineRunUpdate start;
  start.run_id = "r1";
  start.if_status = {PipelineRunStatus::kQueued};
  start.status = PipelineRunStatus::kRunning;
  start.mlflow_run_id = "abc";
  start.start_time = 1500;
  auto started = this->store().UpdatePipelineRun(start);
  ASSERT_TRUE(started.ok()) << started.status().ToString();
  EXPECT_EQ(started->status, PipelineRunStatus::kRunning);
  EXPECT_EQ(started->mlflow_run_id, "abc");
  EXPECT_EQ(started->steps.size(), 2u);
  // The same conditional update again: the run is no longer queued.
  auto again = this->store().UpdatePipelineRun(start);
  EXPECT_EQ(again.status().code(), StatusCode::kFailedPrecondition);

  StepRunUpdate wait;
  wait.pipeline_run_id = "r1";
  wait.step_id = "gate";
  wait.status = StepRunStatus::kWaiting;
  wait.deadline = 9000;
  ASSERT_TRUE(this->store().UpdateStepRun(wait).ok());
  // Exactly one decision wins.
  StepRunUpdate approve;
  approve.pipeline_run_id = "r1";
  approve.step_id = "gate";
  approve.if_status = {StepRunStatus::kWaiting};
  approve.status = StepRunStatus::kSucceeded;
  approve.decision = "approved";
  approve.decided_by = "bob";
  auto approved = this->store().UpdateStepRun(approve);
  ASSERT_TRUE(approved.ok());
  EXPECT_EQ(approved->deadline, 9000);
  EXPECT_EQ(approved->decided_by, "bob");
  auto twice = this->store().UpdateStepRun(approve);
  EXPECT_EQ(twice.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(twice.status().message().find("succeeded"), std::string::npos);

  StepRunUpdate unknown = wait;
  unknown.step_id = "deploy";
  EXPECT_EQ(this->store().UpdateStepRun(unknown).status().code(), StatusCode::kNotFound);
  auto run = this->store().GetPipelineRun("r1");
  EXPECT_EQ(run->steps[1].status, StepRunStatus::kSucceeded);
  EXPECT_EQ(run->steps[1].decision, "approved");
}

TYPED_TEST_P(MetadataStoreConformanceTest, StepLogsAppend) {
  ASSERT_TRUE(this->store().CreatePipelineRun(SamplePipelineRun("r1", 1000)).ok());
  EXPECT_EQ(*this->store().GetStepLog("r1", "train"), "");
  ASSERT_TRUE(this->store().AppendStepLog("r1", "train", "one\n").ok());
  ASSERT_TRUE(this->store().AppendStepLog("r1", "train", "two\n").ok());
  EXPECT_EQ(*this->store().GetStepLog("r1", "train"), "one\ntwo\n");
  EXPECT_EQ(*this->store().GetStepLog("r1", "gate"), "");
  EXPECT_EQ(this->store().AppendStepLog("r1", "nope", "x").code(), StatusCode::kNotFound);
  EXPECT_EQ(this->store().GetStepLog("r9", "train").status().code(), StatusCode::kNotFound);
}

TYPED_TEST_P(MetadataStoreConformanceTest, JobsCreateGetUpdateList) {
  JobRecord job;
  job.job_id = "j1";
  job.name = "train";
  job.spec_json = R"({"command":"true"})";
  job.compute = "local";
  job.state = "queued";
  job.creation_time = 1000;
  ASSERT_TRUE(this->store().CreateJob(job).ok());
  EXPECT_EQ(this->store().CreateJob(job).code(), StatusCode::kAlreadyExists);
  auto got = this->store().GetJob("j1");
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_EQ(*got, job);
  EXPECT_EQ(this->store().GetJob("nope").status().code(), StatusCode::kNotFound);

  JobRecord second = job;
  second.job_id = "j2";
  second.creation_time = 2000;
  ASSERT_TRUE(this->store().CreateJob(second).ok());

  job.state = "succeeded";
  job.executor_handle = "123:4:5";
  job.run_id = "r";
  job.experiment_id = "0";
  job.code_digest = std::string(64, 'a');
  job.start_time = 1100;
  job.end_time = 1200;
  job.exit_code = 0;
  job.message = "done";
  job.name = "ignored";  // name, spec and creation time are write-once
  ASSERT_TRUE(this->store().UpdateJob(job).ok());
  got = this->store().GetJob("j1");
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got->name, "train");
  EXPECT_EQ(got->state, "succeeded");
  EXPECT_EQ(got->exit_code, 0);
  EXPECT_EQ(got->executor_handle, "123:4:5");
  EXPECT_EQ(got->end_time, 1200);
  JobRecord missing = job;
  missing.job_id = "nope";
  EXPECT_EQ(this->store().UpdateJob(missing).code(), StatusCode::kNotFound);

  auto all = this->store().ListJobs({});
  ASSERT_TRUE(all.ok());
  ASSERT_EQ(all->size(), 2u);
  EXPECT_EQ((*all)[0].job_id, "j2");  // newest first
  auto queued = this->store().ListJobs({.states = {"queued", "running"}});
  ASSERT_TRUE(queued.ok());
  ASSERT_EQ(queued->size(), 1u);
  EXPECT_EQ((*queued)[0].job_id, "j2");
  EXPECT_FALSE((*queued)[0].exit_code.has_value());
  auto one = this->store().ListJobs({.max_results = 1});
  ASSERT_TRUE(one.ok());
  EXPECT_EQ(one->size(), 1u);
}

// --- monitoring ---

TYPED_TEST_P(MetadataStoreConformanceTest, MonitorConfigUpsertAndList) {
  EXPECT_EQ(this->store().GetMonitorConfig("churn").status().code(), StatusCode::kNotFound);
  MonitorConfigRecord config{"churn", R"({"interval_ms":60000})", 1000};
  ASSERT_TRUE(this->store().PutMonitorConfig(config).ok());
  auto got = this->store().GetMonitorConfig("churn");
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_EQ(*got, config);
  config.config_json = R"({"interval_ms":0})";
  config.last_update_time = 2000;
  ASSERT_TRUE(this->store().PutMonitorConfig(config).ok());
  ASSERT_TRUE(this->store().PutMonitorConfig({"alpha", "{}", 3000}).ok());
  got = this->store().GetMonitorConfig("churn");
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(*got, config);  // replaced
  auto all = this->store().ListMonitorConfigs();
  ASSERT_TRUE(all.ok());
  ASSERT_EQ(all->size(), 2u);
  EXPECT_EQ((*all)[0].endpoint, "alpha");  // by name
  EXPECT_EQ((*all)[1].endpoint, "churn");
}

TYPED_TEST_P(MetadataStoreConformanceTest, MonitorReportsNewestFirstPagedAndPerEndpoint) {
  for (int i = 0; i < 5; ++i) {
    MonitorReportRecord r;
    r.report_id = "r" + std::to_string(i);
    r.endpoint = "churn";
    r.creation_time = 1000 + (i / 2) * 100;  // r0,r1 tie; r2,r3 tie
    r.since = 10 * i;
    r.until = 10 * i + 10;
    r.drift_share = 0.25 * i;
    r.dataset_drift = i >= 2;
    r.report_json = "{\"i\":" + std::to_string(i) + "}";
    ASSERT_TRUE(this->store().CreateMonitorReport(r).ok());
  }
  MonitorReportRecord other{"x", "other", 5000, 0, 1, 0, false, "{}"};
  ASSERT_TRUE(this->store().CreateMonitorReport(other).ok());
  EXPECT_EQ(this->store().CreateMonitorReport(other).code(), StatusCode::kAlreadyExists);

  auto got = this->store().GetMonitorReport("churn", "r3");
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_EQ(got->since, 30);
  EXPECT_EQ(got->drift_share, 0.75);
  EXPECT_TRUE(got->dataset_drift);
  EXPECT_EQ(got->report_json, "{\"i\":3}");
  EXPECT_EQ(this->store().GetMonitorReport("x", "r3").status().code(), StatusCode::kNotFound);

  std::vector<std::string> order;
  MonitorReportQuery query{.endpoint = "churn", .max_results = 2};
  while (true) {
    auto page = this->store().ListMonitorReports(query);
    ASSERT_TRUE(page.ok());
    for (const auto& r : *page) order.push_back(r.report_id);
    if (page->size() < 2) break;
    query.before_time = page->back().creation_time;
    query.before_id = page->back().report_id;
  }
  EXPECT_EQ(order, (std::vector<std::string>{"r4", "r3", "r2", "r1", "r0"}));
}

TYPED_TEST_P(MetadataStoreConformanceTest, FeedbackLabelsUpsertLookupAndCount) {
  std::vector<FeedbackLabel> labels = {{"churn", "a", "1", 100},
                                       {"churn", "b", "\"Yes\"", 100},
                                       {"other", "a", "0", 100}};
  auto put = this->store().PutFeedbackLabels(labels);
  ASSERT_TRUE(put.ok()) << put.status().ToString();
  EXPECT_EQ(*put, 3);
  put = this->store().PutFeedbackLabels({{"churn", "a", "[0,1]", 200}});  // replaces
  ASSERT_TRUE(put.ok());
  auto count = this->store().CountFeedbackLabels("churn");
  ASSERT_TRUE(count.ok());
  EXPECT_EQ(*count, 2);
  std::vector<std::string> ids = {"a", "zzz"};
  for (int i = 0; i < 700; ++i) ids.push_back("n" + std::to_string(i));  // past one batch
  ids.push_back("b");
  auto got = this->store().GetFeedbackLabels("churn", ids);
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  std::map<std::string, FeedbackLabel> by_id;
  for (const auto& l : *got) by_id[l.request_id] = l;
  ASSERT_EQ(by_id.size(), 2u);
  EXPECT_EQ(by_id["a"].label_json, "[0,1]");
  EXPECT_EQ(by_id["a"].time, 200);
  EXPECT_EQ(by_id["b"].label_json, "\"Yes\"");
  auto none = this->store().GetFeedbackLabels("churn", {});
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE(none->empty());
}

// --- triggers ---

TYPED_TEST_P(MetadataStoreConformanceTest, PipelineDefinitionsRevisionAndTriggersReplaced) {
  this->clock_.Set(1000);
  PipelineDefinition d;
  d.name = "churn";
  d.spec = "name: churn\n";
  d.file = "/p/churn.yaml";
  d.created_by = "ana";
  TriggerRecord drift;
  drift.trigger_id = "churn/drift";
  drift.kind = "drift";
  drift.condition = R"({"endpoint":"e","threshold":0.5})";
  TriggerRecord sched;
  sched.trigger_id = "churn/schedule";
  sched.position = 1;
  sched.kind = "schedule";
  sched.condition = R"("0 3 * * *")";
  auto first = this->store().PutPipelineDefinition(d, {drift, sched});
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  EXPECT_EQ(first->revision, 1);
  EXPECT_EQ(first->creation_time, 1000);
  EXPECT_EQ(first->trigger_count, 2);

  // The trigger's state and flag are written as given; a firing lands on it.
  TriggerUpdate disable;
  disable.trigger_id = "churn/drift";
  disable.enabled = false;
  disable.state = R"({"report":"r1"})";
  auto updated = this->store().UpdateTrigger(disable);
  ASSERT_TRUE(updated.ok()) << updated.status().ToString();
  EXPECT_FALSE(updated->enabled);
  EXPECT_EQ(updated->state, R"({"report":"r1"})");
  TriggerFiring f;
  f.trigger_id = "churn/schedule";
  f.pipeline = "churn";
  f.kind = "schedule";
  f.reason = "scheduled";
  f.run_id = "run1";
  TriggerUpdate last;
  last.last_fired_time = 1000;
  last.last_run_id = "run1";
  last.last_reason = "scheduled";
  auto fired = this->store().RecordTriggerFiring(f, last);
  ASSERT_TRUE(fired.ok()) << fired.status().ToString();
  EXPECT_GT(fired->firing_id, 0);
  EXPECT_EQ(fired->time, 1000);
  f.run_id = "run2";
  ASSERT_TRUE(this->store().RecordTriggerFiring(f, {}).ok());
  auto firings = this->store().ListTriggerFirings("churn/schedule", 10);
  ASSERT_TRUE(firings.ok());
  ASSERT_EQ(firings->size(), 2u);
  EXPECT_EQ((*firings)[0].run_id, "run2");  // newest first
  auto sched_now = this->store().GetTrigger("churn/schedule");
  ASSERT_TRUE(sched_now.ok());
  EXPECT_EQ(sched_now->last_run_id, "run1");
  EXPECT_EQ(sched_now->last_fired_time, 1000);

  // A new revision keeps the creation time; the schedule trigger is gone with its firings.
  this->clock_.Set(2000);
  drift.enabled = false;
  auto second = this->store().PutPipelineDefinition(d, {drift});
  ASSERT_TRUE(second.ok());
  EXPECT_EQ(second->revision, 2);
  EXPECT_EQ(second->creation_time, 1000);
  EXPECT_EQ(second->last_update_time, 2000);
  EXPECT_EQ(second->trigger_count, 1);
  EXPECT_EQ(this->store().GetTrigger("churn/schedule").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(this->store().ListTriggerFirings("churn/schedule", 10).status().code(),
            StatusCode::kNotFound);
  auto all = this->store().ListTriggers("");
  ASSERT_TRUE(all.ok());
  ASSERT_EQ(all->size(), 1u);
  EXPECT_FALSE((*all)[0].enabled);
  EXPECT_EQ((*all)[0].creation_time, 1000);

  // Trigger ids are unique across pipelines.
  PipelineDefinition other = d;
  other.name = "other";
  EXPECT_EQ(this->store().PutPipelineDefinition(other, {drift}).status().code(),
            StatusCode::kAlreadyExists);
  EXPECT_EQ(this->store().GetPipelineDefinition("other").status().code(), StatusCode::kNotFound);
}

TYPED_TEST_P(MetadataStoreConformanceTest, PipelineDefinitionsListDeleteAndErrors) {
  PipelineDefinition d;
  d.name = "b";
  d.spec = "name: b\n";
  TriggerRecord t;
  t.trigger_id = "b/dataset";
  t.kind = "dataset";
  t.condition = R"("churn")";
  ASSERT_TRUE(this->store().PutPipelineDefinition(d, {t}).ok());
  d.name = "a";
  ASSERT_TRUE(this->store().PutPipelineDefinition(d, {}).ok());
  auto list = this->store().ListPipelineDefinitions();
  ASSERT_TRUE(list.ok());
  ASSERT_EQ(list->size(), 2u);
  EXPECT_EQ((*list)[0].name, "a");
  EXPECT_EQ((*list)[1].trigger_count, 1);
  auto only_b = this->store().ListTriggers("b");
  ASSERT_TRUE(only_b.ok());
  EXPECT_EQ(only_b->size(), 1u);
  EXPECT_TRUE(this->store().ListTriggers("a")->empty());

  EXPECT_EQ(this->store().GetPipelineDefinition("zz").status().message(),
            "pipeline 'zz' does not exist");
  TriggerUpdate unknown;
  unknown.trigger_id = "x/y";
  unknown.enabled = true;
  EXPECT_EQ(this->store().UpdateTrigger(unknown).status().message(),
            "trigger 'x/y' does not exist");
  TriggerFiring f;
  f.trigger_id = "x/y";
  EXPECT_EQ(this->store().RecordTriggerFiring(f, {}).status().code(), StatusCode::kNotFound);

  ASSERT_TRUE(this->store().DeletePipelineDefinition("b").ok());
  EXPECT_EQ(this->store().GetTrigger("b/dataset").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(this->store().DeletePipelineDefinition("b").code(), StatusCode::kNotFound);
}

REGISTER_TYPED_TEST_SUITE_P(MetadataStoreConformanceTest, DefaultExperimentExists,
                            CreateAndGetExperiment, DuplicateExperimentNameRejectedEvenWhenDeleted,
                            RenameExperiment, DeleteAndRestoreExperimentCascadesToRuns,
                            ExperimentTagsUpsert, CreateAndGetRun, UpdateRunMirrorsNameIntoTag,
                            DeletedRunRejectsWrites, LogBatchIsAtomicOnParamConflict,
                            LatestMetricFollowsStepThenTimestampThenValue, NanAndInfinityRoundTrip,
                            MetricHistoryInLoggedOrderAndPaged, TagsUpsertAndDelete,
                            LogInputsDeduplicates, SearchRunsByMetric, SearchRunsByParam,
                            SearchRunsByTag, SearchRunsByAttribute, SearchRunsOrderMissingLast,
                            SearchRunsTieBreaksByRunId, SearchRunsViewTypesAndExperiments,
                            SearchRunsReturnsFullRuns, SearchRunsPagingStitches, SearchExperiments,
                            ArtifactIndex, DatasetVersionsNumberFromOne,
                            DatasetSameContentAsLatestIsNotANewVersion,
                            GetDatasetVersionLatestByNumberAndErrors, ListDatasetsAndVersions,
                            ConcurrentDatasetVersionsAreConsecutive,
                            RegisteredModelCreateGetAndErrors,
                            ModelVersionsNumberFromOneAndAreNeverReused,
                            LatestVersionsPerStageAndTransitions,
                            UpdateRenameAndDeleteRegisteredModel, RegistryTagsUpsertAndDelete,
                            AliasesPointMoveAndFollowDeletes, SearchRegisteredModels,
                            SearchModelVersions, ConcurrentModelVersionsAreConsecutive,
                            EndpointsCreateGetListUpdateDelete,
                            DeploymentsCreateListUpdateAndErrors,
                            EndpointTrafficIsReplacedAsAWhole,
                            PipelineRunsCreateGetListAndErrors,
                            PipelineRunAndStepUpdatesWithPreconditions, StepLogsAppend,
                            JobsCreateGetUpdateList, MonitorConfigUpsertAndList,
                            MonitorReportsNewestFirstPagedAndPerEndpoint,
                            FeedbackLabelsUpsertLookupAndCount,
                            PipelineDefinitionsRevisionAndTriggersReplaced,
                            PipelineDefinitionsListDeleteAndErrors);

}  // namespace cairn::store::testing
