#include "store/sqlite/sqlite_metadata_store.h"

#include <gtest/gtest.h>
#include <sqlite3.h>

#include <atomic>
#include <filesystem>
#include <thread>

#include "core/ids.h"
#include "store/testing/metadata_store_conformance.h"

namespace cairn::store {
namespace {

namespace fs = std::filesystem;

// A fresh directory per test, removed afterwards.
class TempDir {
 public:
  TempDir() : path_(fs::temp_directory_path() / ("cairn-store-" + NewUuidHex())) {
    fs::create_directories(path_);
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  std::string File(const std::string& name) const { return (path_ / name).string(); }

 private:
  fs::path path_;
};

struct SqliteFactory {
  TempDir dir;
  std::unique_ptr<MetadataStore> Make(const Clock& clock) {
    auto store = SqliteMetadataStore::Open(dir.File("meta.db"), clock);
    EXPECT_TRUE(store.ok()) << store.status().ToString();
    if (!store.ok()) return nullptr;
    return std::move(store).value();
  }
};

}  // namespace

namespace testing {
using SqliteFactories = ::testing::Types<SqliteFactory>;
INSTANTIATE_TYPED_TEST_SUITE_P(Sqlite, MetadataStoreConformanceTest, SqliteFactories);
}  // namespace testing

namespace {

class SqliteMetadataStoreTest : public ::testing::Test {
 protected:
  std::unique_ptr<SqliteMetadataStore> Open() {
    auto store = SqliteMetadataStore::Open(dir_.File("meta.db"), clock_);
    EXPECT_TRUE(store.ok()) << store.status().ToString();
    return store.ok() ? std::move(store).value() : nullptr;
  }

  TempDir dir_;
  FakeClock clock_;
};

TEST_F(SqliteMetadataStoreTest, MigrationsRecordedAndReopenIsIdempotent) {
  {
    auto store = Open();
    ASSERT_NE(store, nullptr);
    EXPECT_EQ(*store->SchemaVersion(), SqliteMetadataStore::LatestSchemaVersion());
    EXPECT_GE(SqliteMetadataStore::LatestSchemaVersion(), 2);
  }
  clock_.Advance(1000);
  auto store = Open();
  ASSERT_NE(store, nullptr);
  EXPECT_EQ(*store->SchemaVersion(), SqliteMetadataStore::LatestSchemaVersion());
  ExperimentQuery all;
  all.view_type = ViewType::kAll;
  auto page = store->SearchExperiments(all);
  ASSERT_TRUE(page.ok());
  ASSERT_EQ(page->experiments.size(), 1u);  // Default only, not re-created
  EXPECT_EQ(page->experiments[0].creation_time, 1700000000000);
}

TEST_F(SqliteMetadataStoreTest, DatabaseFromNewerSchemaIsRefused) {
  { ASSERT_NE(Open(), nullptr); }
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(dir_.File("meta.db").c_str(), &db), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(db, "PRAGMA user_version = 999", nullptr, nullptr, nullptr), SQLITE_OK);
  sqlite3_close(db);
  auto store = SqliteMetadataStore::Open(dir_.File("meta.db"), clock_);
  EXPECT_EQ(store.status().code(), StatusCode::kFailedPrecondition);
}

TEST_F(SqliteMetadataStoreTest, ReopenKeepsData) {
  std::string run_id = NewUuidHex();
  {
    auto store = Open();
    ASSERT_TRUE(store->CreateExperiment({"kept", "", {{"k", "v"}}, 5}).ok());
    ASSERT_TRUE(store->CreateRun({run_id, "1", "r", "u", RunStatus::kRunning, 10, {}}).ok());
    ASSERT_TRUE(store->LogBatch(run_id, {{"m", 0.5, 1, 1}, {"m", 0.7, 2, 2}}, {{"p", "1"}}, {}).ok());
    ASSERT_TRUE(store->PutArtifact({"1/" + run_id + "/artifacts/f", false, 3, "abc"}).ok());
  }
  auto store = Open();
  auto e = store->GetExperimentByName("kept");
  ASSERT_TRUE(e.ok());
  EXPECT_EQ(e->experiment_id, "1");
  EXPECT_EQ(e->tags, (std::vector<Tag>{{"k", "v"}}));
  auto run = store->GetRun(run_id);
  ASSERT_TRUE(run.ok());
  ASSERT_EQ(run->metrics.size(), 1u);
  EXPECT_EQ(run->metrics[0].value, 0.7);
  EXPECT_EQ(run->params, (std::vector<Param>{{"p", "1"}}));
  EXPECT_EQ(store->GetMetricHistory(run_id, "m", 0, 10)->metrics.size(), 2u);
  EXPECT_EQ(store->GetArtifact("1/" + run_id + "/artifacts/f")->size, 3);
  // Ids continue from the stored ones.
  EXPECT_EQ(*store->CreateExperiment({"next", "", {}, 6}), "2");
}

TEST_F(SqliteMetadataStoreTest, ReopenKeepsDatasets) {
  DatasetVersion v;
  v.name = "churn";
  v.version_id = "id-1";
  v.manifest_digest = "m1";
  v.profile_digest = "p1";
  v.size_bytes = 123;
  v.row_count = 7;
  v.description = "first";
  v.created_by = "alice";
  DatasetVersion stored;
  {
    auto store = Open();
    auto created = store->CreateDatasetVersion(v);
    ASSERT_TRUE(created.ok()) << created.status().ToString();
    stored = created->version;
  }
  auto store = Open();
  auto got = store->GetDatasetVersion("churn", std::nullopt);
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_EQ(*got, stored);
  // Dedup against the latest and numbering both continue from the stored versions.
  auto same = store->CreateDatasetVersion(v);
  ASSERT_TRUE(same.ok());
  EXPECT_FALSE(same->created);
  EXPECT_EQ(same->version.version, 1);
  v.version_id = "id-2";
  auto next = store->CreateDatasetVersion(v);
  ASSERT_TRUE(next.ok());
  EXPECT_TRUE(next->created);
  EXPECT_EQ(next->version.version, 2);
  ASSERT_EQ(store->ListDatasets()->size(), 1u);
}

// A database made by the first schema version gains the dataset tables on open.
TEST_F(SqliteMetadataStoreTest, MigratesVersionOneDatabase) {
  { ASSERT_NE(Open(), nullptr); }
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(dir_.File("meta.db").c_str(), &db), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(db, "DROP TABLE trigger_firings; DROP TABLE triggers; DROP TABLE pipeline_definitions; "
                             "DROP TABLE monitor_configs; DROP TABLE monitor_reports; "
                             "DROP TABLE feedback_labels; DROP TABLE jobs; "
                             "DROP TABLE step_logs; DROP TABLE step_runs; DROP TABLE pipeline_runs; "
                             "DROP TABLE deployments; DROP TABLE endpoints; "
                             "DROP TABLE dataset_versions; DROP TABLE datasets; "
                             "DROP TABLE registered_model_aliases; DROP TABLE model_version_tags; "
                             "DROP TABLE model_versions; DROP TABLE registered_model_tags; "
                             "DROP TABLE registered_models; PRAGMA user_version = 1",
                         nullptr, nullptr, nullptr),
            SQLITE_OK);
  sqlite3_close(db);
  auto store = Open();
  ASSERT_NE(store, nullptr);
  EXPECT_EQ(*store->SchemaVersion(), SqliteMetadataStore::LatestSchemaVersion());
  DatasetVersion v;
  v.name = "d";
  v.version_id = "x";
  auto created = store->CreateDatasetVersion(v);
  ASSERT_TRUE(created.ok()) << created.status().ToString();
  EXPECT_EQ(created->version.version, 1);
}

// A database made by schema version 2 (datasets, no registry) gains the registry on open, and
// registry data survives a reopen.
TEST_F(SqliteMetadataStoreTest, MigratesVersionTwoDatabaseAndKeepsRegistry) {
  { ASSERT_NE(Open(), nullptr); }
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(dir_.File("meta.db").c_str(), &db), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(db, "DROP TABLE trigger_firings; DROP TABLE triggers; DROP TABLE pipeline_definitions; "
                             "DROP TABLE monitor_configs; DROP TABLE monitor_reports; "
                             "DROP TABLE feedback_labels; DROP TABLE jobs; "
                             "DROP TABLE step_logs; DROP TABLE step_runs; DROP TABLE pipeline_runs; "
                             "DROP TABLE deployments; DROP TABLE endpoints; "
                             "DROP TABLE registered_model_aliases; DROP TABLE model_version_tags; "
                             "DROP TABLE model_versions; DROP TABLE registered_model_tags; "
                             "DROP TABLE registered_models; PRAGMA user_version = 2",
                         nullptr, nullptr, nullptr),
            SQLITE_OK);
  sqlite3_close(db);
  {
    auto store = Open();
    ASSERT_NE(store, nullptr);
    EXPECT_EQ(*store->SchemaVersion(), SqliteMetadataStore::LatestSchemaVersion());
    RegisteredModel m;
    m.name = "churn";
    ASSERT_TRUE(store->CreateRegisteredModel(m).ok());
    ModelVersion v;
    v.name = "churn";
    v.source = "s3://bucket/model";
    v.storage_location = v.source;
    ASSERT_TRUE(store->CreateModelVersion(v).ok());
    ASSERT_TRUE(store->CreateModelVersion(v).ok());
    ASSERT_TRUE(store->SetRegisteredModelAlias("churn", "champion", 2).ok());
    ASSERT_TRUE(store->DeleteModelVersion("churn", 1, 0).ok());
  }
  auto store = Open();
  ASSERT_NE(store, nullptr);
  auto champion = store->GetModelVersionByAlias("churn", "champion");
  ASSERT_TRUE(champion.ok()) << champion.status().ToString();
  EXPECT_EQ(champion->version, 2);
  EXPECT_EQ(champion->source, "s3://bucket/model");
  ModelVersion v;
  v.name = "churn";
  v.source = "s3://bucket/model";
  auto next = store->CreateModelVersion(v);  // numbering survives the reopen
  ASSERT_TRUE(next.ok());
  EXPECT_EQ(next->version, 3);
}

TEST_F(SqliteMetadataStoreTest, ConcurrentWritersAndReadersAllPersisted) {
  auto store = Open();
  constexpr int kThreads = 4;
  constexpr int kBatches = 50;
  std::vector<std::string> runs;
  for (int t = 0; t < kThreads; ++t) {
    runs.push_back(NewUuidHex());
    ASSERT_TRUE(store->CreateRun({runs.back(), "0", "", "", RunStatus::kRunning, 1, {}}).ok());
  }
  std::atomic<int> failures{0};
  std::atomic<bool> done{false};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int b = 0; b < kBatches; ++b) {
        std::vector<Metric> metrics;
        for (int i = 0; i < 10; ++i) metrics.push_back({"m", double(i), b, b * 10 + i});
        // Two threads share a run, so their writes interleave on the same keys.
        const std::string& run = runs[t % 2];
        Status s = store->LogBatch(run, metrics, {{"p" + std::to_string(t) + "_" + std::to_string(b), "v"}},
                                   {{"t", std::to_string(b)}});
        if (!s.ok()) ++failures;
      }
    });
  }
  std::thread reader([&] {
    while (!done) {
      RunQuery q;
      q.order_by = {{EntityKind::kMetric, "m", false}};
      if (!store->SearchRuns(q).ok()) ++failures;
      if (!store->GetMetricHistory(runs[0], "m", 0, 0).ok()) ++failures;
    }
  });
  for (auto& th : threads) th.join();
  done = true;
  reader.join();
  EXPECT_EQ(failures.load(), 0);
  for (int r = 0; r < 2; ++r) {
    auto history = store->GetMetricHistory(runs[r], "m", 0, 0);
    ASSERT_TRUE(history.ok());
    EXPECT_EQ(history->metrics.size(), size_t(2 * kBatches * 10));
    EXPECT_EQ(store->GetRun(runs[r])->params.size(), size_t(2 * kBatches));
  }
  // Everything survives a reopen.
  store.reset();
  store = Open();
  EXPECT_EQ(store->GetMetricHistory(runs[1], "m", 0, 0)->metrics.size(),
            size_t(2 * kBatches * 10));
}

// Group commit: writers that fail (a changed param) lose only their own writes, never a
// neighbour's that shared the transaction.
TEST_F(SqliteMetadataStoreTest, GroupCommittedWritersFailAlone) {
  auto store = Open();
  std::string run = NewUuidHex();
  ASSERT_TRUE(store->CreateRun({run, "0", "", "", RunStatus::kRunning, 1, {}}).ok());
  ASSERT_TRUE(store->LogBatch(run, {}, {{"fixed", "a"}}, {}).ok());
  constexpr int kThreads = 6;
  constexpr int kBatches = 40;
  std::atomic<int> ok_batches{0}, failed_batches{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int b = 0; b < kBatches; ++b) {
        bool conflicting = (t + b) % 3 == 0;
        std::string key = "k" + std::to_string(t);
        std::vector<Metric> metrics = {{key, double(b), b, b}};
        std::vector<Param> params = {{"fixed", conflicting ? "b" : "a"}};
        Status s = store->LogBatch(run, metrics, params, {});
        EXPECT_EQ(s.ok(), !conflicting) << s.ToString();
        (s.ok() ? ok_batches : failed_batches)++;
      }
    });
  }
  for (auto& th : threads) th.join();
  int64_t points = 0;
  for (int t = 0; t < kThreads; ++t) {
    auto history = store->GetMetricHistory(run, "k" + std::to_string(t), 0, 0);
    ASSERT_TRUE(history.ok());
    for (const auto& m : history->metrics) EXPECT_NE((t + int(m.step)) % 3, 0);
    points += int64_t(history->metrics.size());
  }
  EXPECT_EQ(points, ok_batches.load());
  EXPECT_GT(failed_batches.load(), 0);
}

TEST_F(SqliteMetadataStoreTest, LargeBatchSplitsByKey) {
  auto store = Open();
  std::string run_id = NewUuidHex();
  ASSERT_TRUE(store->CreateRun({run_id, "0", "", "", RunStatus::kRunning, 1, {}}).ok());
  std::vector<Metric> metrics;
  for (int step = 0; step < 100; ++step) {
    for (int k = 0; k < 10; ++k) metrics.push_back({"k" + std::to_string(k), step * 0.5, 7, step});
  }
  ASSERT_TRUE(store->LogBatch(run_id, metrics, {}, {}).ok());
  ASSERT_TRUE(store->LogBatch(run_id, metrics, {}, {}).ok());
  auto run = store->GetRun(run_id);
  ASSERT_EQ(run->metrics.size(), 10u);
  EXPECT_EQ(run->metrics[3].step, 99);
  auto page = store->GetMetricHistory(run_id, "k3", 150, 30);
  ASSERT_TRUE(page.ok());
  ASSERT_EQ(page->metrics.size(), 30u);
  EXPECT_EQ(page->metrics[0].step, 50);
  EXPECT_TRUE(page->has_more);
}

}  // namespace
}  // namespace cairn::store
