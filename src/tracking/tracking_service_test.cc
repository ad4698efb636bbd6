#include "tracking/tracking_service.h"

#include <gtest/gtest.h>

#include <filesystem>

#include <nlohmann/json.hpp>

#include "core/ids.h"
#include "store/sqlite/sqlite_metadata_store.h"

namespace cairn::tracking {
namespace {

namespace fs = std::filesystem;

class TrackingServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("cairn-tracking-" + NewUuidHex());
    fs::create_directories(dir_);
    store_ = std::move(store::SqliteMetadataStore::Open((dir_ / "m.db").string(), clock_)).value();
    service_ = std::make_unique<TrackingService>(*store_, clock_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  FakeClock clock_{1700000000000};
  fs::path dir_;
  std::unique_ptr<store::SqliteMetadataStore> store_;
  std::unique_ptr<TrackingService> service_;
};

TEST(ValidationTest, KeysFollowMlflowRules) {
  for (std::string ok : std::vector<std::string>{"loss", "train/loss", "a.b-c_d e", std::string(250, 'k')}) {
    EXPECT_TRUE(ValidateKey("metric", ok).ok()) << ok;
  }
  for (std::string bad : std::vector<std::string>{"", "/abs", "a/../b", "..", "a//b", "trail/", "semi;colon", "q'uote",
                          std::string(251, 'k')}) {
    EXPECT_EQ(ValidateKey("metric", bad).code(), StatusCode::kInvalidArgument) << bad;
  }
}

TEST(PageTokenTest, RoundTripsAndRejectsForgeries) {
  EXPECT_EQ(*DecodePageToken(EncodePageToken(12345)), 12345);
  EXPECT_EQ(*DecodePageToken(""), 0);
  EXPECT_FALSE(DecodePageToken("%%%").ok());
  EXPECT_FALSE(DecodePageToken("e30=").ok());  // "{}"
}

TEST_F(TrackingServiceTest, RunsGetTheClockTimeAndAGeneratedName) {
  auto run = service_->CreateRun({});
  ASSERT_TRUE(run.ok()) << run.status().ToString();
  EXPECT_EQ(run->info.start_time, 1700000000000);
  EXPECT_EQ(run->info.experiment_id, "0");
  EXPECT_FALSE(run->info.run_name.empty());
  bool has_name_tag = false;
  for (const auto& t : run->tags) has_name_tag |= t.key == "mlflow.runName" && t.value == run->info.run_name;
  EXPECT_TRUE(has_name_tag);
}

TEST_F(TrackingServiceTest, RunNameAndTagMustAgree) {
  CreateRunRequest request;
  request.run_name = "a";
  request.tags = {{"mlflow.runName", "b"}};
  EXPECT_EQ(service_->CreateRun(request).status().code(), StatusCode::kInvalidArgument);
  request.tags = {{"mlflow.runName", "a"}};
  EXPECT_EQ(service_->CreateRun(request)->info.run_name, "a");
}

TEST_F(TrackingServiceTest, SettingTheRunNameTagRenamesTheRun) {
  auto run = *service_->CreateRun({});
  ASSERT_TRUE(service_->SetTag(run.info.run_id, {"mlflow.runName", "renamed"}).ok());
  EXPECT_EQ(service_->GetRun(run.info.run_id)->info.run_name, "renamed");
}

TEST_F(TrackingServiceTest, LogModelAppendsToTheHistoryTag) {
  auto run = *service_->CreateRun({});
  ASSERT_TRUE(service_->LogModel(run.info.run_id,
                                 R"({"artifact_path": "m1", "flavors": {}})").ok());
  ASSERT_TRUE(service_->LogModel(run.info.run_id,
                                 R"({"artifact_path": "m2", "flavors": {}})").ok());
  EXPECT_FALSE(service_->LogModel(run.info.run_id, "not json").ok());
  EXPECT_FALSE(service_->LogModel(run.info.run_id, R"({"flavors": {}})").ok());
  auto got = *service_->GetRun(run.info.run_id);
  std::string history;
  for (const auto& t : got.tags) {
    if (t.key == "mlflow.log-model.history") history = t.value;
  }
  auto parsed = nlohmann::json::parse(history);
  ASSERT_EQ(parsed.size(), 2u);
  EXPECT_EQ(parsed[1]["artifact_path"], "m2");
}

TEST_F(TrackingServiceTest, TheDefaultExperimentCannotBeDeleted) {
  EXPECT_EQ(service_->DeleteExperiment("0").code(), StatusCode::kInvalidArgument);
}

TEST_F(TrackingServiceTest, SearchPagesStitchTogether) {
  auto id = *service_->CreateExperiment("paging", "", {});
  std::vector<std::string> created;
  for (int i = 0; i < 7; ++i) {
    clock_.Advance(1000);
    CreateRunRequest request;
    request.experiment_id = id;
    created.push_back(service_->CreateRun(request)->info.run_id);
  }
  SearchRunsRequest request;
  request.experiment_ids = {id};
  request.max_results = 3;
  std::vector<std::string> seen;
  for (int page = 0; page < 5; ++page) {
    auto response = *service_->SearchRuns(request);
    for (const auto& r : response.runs) seen.push_back(r.info.run_id);
    if (response.next_page_token.empty()) break;
    request.page_token = response.next_page_token;
  }
  std::reverse(created.begin(), created.end());  // newest first
  EXPECT_EQ(seen, created);
}

}  // namespace
}  // namespace cairn::tracking
