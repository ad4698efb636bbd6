#include "registry/registry_service.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <memory>

#include "core/ids.h"
#include "store/sqlite/sqlite_metadata_store.h"
#include "tracking/search_filter.h"

namespace cairn::registry {
namespace {

namespace fs = std::filesystem;
using store::CompareOp;
using store::EntityKind;
using store::ModelStage;

class RegistryServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("cairn-registry-" + NewUuidHex());
    fs::create_directories(dir_);
    auto opened = store::SqliteMetadataStore::Open((dir_ / "meta.db").string(), clock_);
    ASSERT_TRUE(opened.ok()) << opened.status().ToString();
    store_ = std::move(opened).value();
    service_ = std::make_unique<RegistryService>(*store_, clock_);
  }
  void TearDown() override {
    service_.reset();
    store_.reset();
    fs::remove_all(dir_);
  }

  // A run in `experiment_id`; returns its id.
  std::string NewRun(const std::string& experiment_id = "0") {
    store::NewRun r;
    r.run_id = NewUuidHex();
    r.experiment_id = experiment_id;
    r.start_time = clock_.NowMillis();
    auto run = store_->CreateRun(r);
    EXPECT_TRUE(run.ok()) << run.status().ToString();
    return r.run_id;
  }

  Result<store::ModelVersion> Register(const std::string& name, const std::string& source,
                                       const std::string& run_id = "") {
    CreateModelVersionRequest req;
    req.name = name;
    req.source = source;
    req.run_id = run_id;
    return service_->CreateModelVersion(req);
  }

  void NewModel(const std::string& name) {
    auto m = service_->CreateRegisteredModel(name, {}, "");
    ASSERT_TRUE(m.ok()) << m.status().ToString();
  }

  static std::string Message(const Status& s) { return s.message(); }

  FakeClock clock_;
  fs::path dir_;
  std::unique_ptr<store::SqliteMetadataStore> store_;
  std::unique_ptr<RegistryService> service_;
};

TEST_F(RegistryServiceTest, ModelNamesAndTagsAreValidated) {
  auto created = service_->CreateRegisteredModel("churn-xgb.v2 prod", {{"team", "ml"}}, "d");
  ASSERT_TRUE(created.ok()) << created.status().ToString();
  EXPECT_EQ(created->creation_timestamp, clock_.NowMillis());
  EXPECT_EQ(created->description, "d");

  auto empty = service_->CreateRegisteredModel("", {}, "");
  EXPECT_EQ(empty.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(Message(empty.status()), "Missing value for required parameter 'name'.");
  for (const char* bad : {"a/b", "50%", "m@champion", "tab\there"}) {
    auto r = service_->CreateRegisteredModel(bad, {}, "");
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument) << bad;
    EXPECT_NE(Message(r.status()).find("Invalid registered model name"), std::string::npos);
  }
  EXPECT_EQ(service_->CreateRegisteredModel(std::string(257, 'x'), {}, "").status().message(),
            "'name' exceeds the maximum length of 256 characters");
  auto bad_key = service_->CreateRegisteredModel("m", {{"../up", "x"}}, "");
  EXPECT_EQ(bad_key.status().code(), StatusCode::kInvalidArgument);
  auto long_value = service_->CreateRegisteredModel("m", {{"k", std::string(5001, 'v')}}, "");
  EXPECT_EQ(Message(long_value.status()), "'value' exceeds the maximum length of 5000 characters");
  EXPECT_EQ(service_->GetRegisteredModel("m").status().code(), StatusCode::kNotFound);

  auto dup = service_->CreateRegisteredModel("churn-xgb.v2 prod", {}, "");
  EXPECT_EQ(dup.status().code(), StatusCode::kAlreadyExists);
  auto rename = service_->RenameRegisteredModel("churn-xgb.v2 prod", "");
  EXPECT_EQ(Message(rename.status()), "Missing value for required parameter 'new_name'.");
  EXPECT_EQ(service_->RenameRegisteredModel("churn-xgb.v2 prod", "a/b").status().code(),
            StatusCode::kInvalidArgument);
}

TEST_F(RegistryServiceTest, TimestampsFollowTheClock) {
  NewModel("m");
  const int64_t t0 = clock_.NowMillis();
  clock_.Advance(1000);
  auto updated = service_->UpdateRegisteredModel("m", "new");
  ASSERT_TRUE(updated.ok());
  EXPECT_EQ(updated->creation_timestamp, t0);
  EXPECT_EQ(updated->last_updated_timestamp, t0 + 1000);
  clock_.Advance(1000);
  auto v = Register("m", "s3://bucket/m");
  ASSERT_TRUE(v.ok()) << v.status().ToString();
  EXPECT_EQ(v->creation_timestamp, t0 + 2000);
  EXPECT_EQ(service_->GetRegisteredModel("m")->last_updated_timestamp, t0 + 2000);
  clock_.Advance(1000);
  auto staged = service_->TransitionModelVersionStage("m", 1, "staging", false);
  ASSERT_TRUE(staged.ok()) << staged.status().ToString();
  EXPECT_EQ(staged->current_stage, ModelStage::kStaging);
  EXPECT_EQ(staged->last_updated_timestamp, t0 + 3000);
  EXPECT_EQ(staged->creation_timestamp, t0 + 2000);
  clock_.Advance(1000);
  ASSERT_TRUE(service_->DeleteModelVersion("m", 1).ok());
  EXPECT_EQ(service_->GetRegisteredModel("m")->last_updated_timestamp, t0 + 4000);
}

TEST_F(RegistryServiceTest, SourcesResolveToRunArtifacts) {
  NewModel("m");
  const std::string run = NewRun();
  const std::string root = "mlflow-artifacts:/0/" + run + "/artifacts";

  auto from_runs = Register("m", "runs:/" + run + "/model");
  ASSERT_TRUE(from_runs.ok()) << from_runs.status().ToString();
  EXPECT_EQ(from_runs->source, "runs:/" + run + "/model");  // kept as given
  EXPECT_EQ(from_runs->storage_location, root + "/model");
  EXPECT_EQ(from_runs->run_id, run);
  EXPECT_EQ(from_runs->artifact_path, std::optional<std::string>("model"));
  EXPECT_EQ(*service_->GetModelVersionDownloadUri("m", 1), root + "/model");

  // What the MLflow Python client sends: the run's artifact URI + path, and the run id.
  auto from_uri = Register("m", root + "/models/xgb", run);
  ASSERT_TRUE(from_uri.ok()) << from_uri.status().ToString();
  EXPECT_EQ(from_uri->storage_location, root + "/models/xgb");
  EXPECT_EQ(from_uri->artifact_path, std::optional<std::string>("models/xgb"));

  // Without run_id, the run is recognized in the URI; another server's authority is dropped.
  auto no_run_id = Register("m", "mlflow-artifacts://elsewhere:5000/0/" + run + "/artifacts/model");
  ASSERT_TRUE(no_run_id.ok()) << no_run_id.status().ToString();
  EXPECT_EQ(no_run_id->run_id, run);
  EXPECT_EQ(no_run_id->storage_location, root + "/model");
  EXPECT_EQ(no_run_id->artifact_path, std::optional<std::string>("model"));

  auto root_of_run = Register("m", "runs:/" + run);
  ASSERT_TRUE(root_of_run.ok());
  EXPECT_EQ(root_of_run->storage_location, root);
  EXPECT_EQ(root_of_run->artifact_path, std::optional<std::string>(""));

  // Elsewhere: kept as is, no run.
  auto remote = Register("m", "s3://bucket/models/churn");
  ASSERT_TRUE(remote.ok());
  EXPECT_EQ(remote->storage_location, "s3://bucket/models/churn");
  EXPECT_EQ(remote->run_id, "");
  EXPECT_EQ(remote->artifact_path, std::nullopt);

  // A models:/ source takes that version's location and run.
  auto copied = Register("m", "models:/m/1");
  ASSERT_TRUE(copied.ok()) << copied.status().ToString();
  EXPECT_EQ(copied->storage_location, root + "/model");
  EXPECT_EQ(copied->run_id, run);
  EXPECT_EQ(copied->source, "models:/m/1");
}

TEST_F(RegistryServiceTest, BadSourcesAreRejected) {
  NewModel("m");
  const std::string run = NewRun();
  auto missing_run = Register("m", "runs:/0123456789abcdef0123456789abcdef/model");
  EXPECT_EQ(missing_run.status().code(), StatusCode::kNotFound);
  auto unknown_run_id = Register("m", "s3://bucket/x", "0123456789abcdef0123456789abcdef");
  EXPECT_EQ(unknown_run_id.status().code(), StatusCode::kNotFound);
  auto mismatch = Register("m", "runs:/" + run + "/model", NewRun());
  EXPECT_EQ(mismatch.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(Message(mismatch.status()).find("is not the run of source"), std::string::npos);
  for (const std::string& bad : std::vector<std::string>{
           "/home/alice/model", "file:///home/alice/model", "relative/model",
                          "mlflow-artifacts:/0/" + run + "/artifacts/../../x",
           "s3://bucket/a/%2E%2E/b", "runs:/"}) {
    auto r = Register("m", bad, bad.rfind("runs:", 0) == 0 ? "" : run);
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument) << bad << " " << r.status().ToString();
  }
  auto no_source = Register("m", "");
  EXPECT_EQ(Message(no_source.status()), "Missing value for required parameter 'source'.");
  auto no_model = Register("nope", "runs:/" + run + "/model");
  EXPECT_EQ(Message(no_model.status()), "Registered Model with name=nope not found");
  EXPECT_EQ(Register("m", "models:/nope/1").status().code(), StatusCode::kNotFound);
  // Nothing was registered by any of these.
  EXPECT_TRUE(service_->GetRegisteredModel("m")->latest_versions.empty());
}

TEST_F(RegistryServiceTest, LocalSourcesInsideTheRunsArtifactRootAreAccepted) {
  store::NewExperiment e;
  e.name = "local";
  e.artifact_location = "file:///srv/artifacts";
  auto exp = store_->CreateExperiment(e);
  ASSERT_TRUE(exp.ok());
  const std::string run = NewRun(*exp);
  NewModel("m");
  auto v = Register("m", "file:///srv/artifacts/" + run + "/artifacts/model", run);
  ASSERT_TRUE(v.ok()) << v.status().ToString();
  EXPECT_EQ(v->artifact_path, std::optional<std::string>("model"));
  auto outside = Register("m", "file:///srv/other/model", run);
  EXPECT_EQ(outside.status().code(), StatusCode::kInvalidArgument);
}

TEST_F(RegistryServiceTest, StagesAndLatestVersions) {
  NewModel("m");
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(Register("m", "s3://b/" + std::to_string(i)).ok());
  ASSERT_TRUE(service_->TransitionModelVersionStage("m", 1, "Production", false).ok());
  ASSERT_TRUE(service_->TransitionModelVersionStage("m", 2, "STAGING", false).ok());

  auto prod = service_->GetLatestVersions("m", {"production"});
  ASSERT_TRUE(prod.ok()) << prod.status().ToString();
  ASSERT_EQ(prod->size(), 1u);
  EXPECT_EQ((*prod)[0].version, 1);
  auto all = service_->GetLatestVersions("m", {});
  ASSERT_TRUE(all.ok());
  EXPECT_EQ(all->size(), 3u);
  auto none = service_->GetLatestVersions("m", {"Archived"});
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE(none->empty());

  auto bad_stage = service_->GetLatestVersions("m", {"Live"});
  EXPECT_EQ(Message(bad_stage.status()),
            "Invalid Model Version stage: Live. Value must be one of None, Staging, Production, "
            "Archived.");
  EXPECT_EQ(service_->TransitionModelVersionStage("m", 1, "Live", false).status().code(),
            StatusCode::kInvalidArgument);
  auto archive_from_none = service_->TransitionModelVersionStage("m", 3, "None", true);
  EXPECT_EQ(archive_from_none.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(Message(archive_from_none.status()).find("is not an Active stage"), std::string::npos);
  EXPECT_EQ(service_->GetLatestVersions("nope", {}).status().code(), StatusCode::kNotFound);

  auto promoted = service_->TransitionModelVersionStage("m", 3, "Production", true);
  ASSERT_TRUE(promoted.ok());
  EXPECT_EQ(service_->GetModelVersion("m", 1)->current_stage, ModelStage::kArchived);
}

TEST_F(RegistryServiceTest, AliasNamesFollowMlflowsRules) {
  NewModel("m");
  ASSERT_TRUE(Register("m", "s3://b/1").ok());
  for (const char* ok : {"champion", "challenger_2", "blue-green", "v1a", "V"}) {
    EXPECT_TRUE(service_->SetRegisteredModelAlias("m", ok, 1).ok()) << ok;
  }
  EXPECT_EQ(Message(service_->SetRegisteredModelAlias("m", "latest", 1)),
            "'latest' alias name (case insensitive) is reserved.");
  EXPECT_EQ(Message(service_->SetRegisteredModelAlias("m", "LaTeSt", 1)),
            "'latest' alias name (case insensitive) is reserved.");
  EXPECT_EQ(Message(service_->SetRegisteredModelAlias("m", "v12", 1)),
            "Version alias name 'v12' is reserved.");
  EXPECT_EQ(Message(service_->SetRegisteredModelAlias("m", "V3", 1)),
            "Version alias name 'V3' is reserved.");
  EXPECT_EQ(Message(service_->SetRegisteredModelAlias("m", "", 1)),
            "Registered model alias name cannot be empty.");
  EXPECT_NE(Message(service_->SetRegisteredModelAlias("m", "has space", 1))
                .find("Invalid alias name: 'has space'"),
            std::string::npos);
  EXPECT_EQ(service_->SetRegisteredModelAlias("m", std::string(256, 'a'), 1).code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(service_->SetRegisteredModelAlias("m", "champion", 9).code(), StatusCode::kNotFound);
  EXPECT_EQ(service_->GetModelVersionByAlias("m", "nope").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(service_->GetModelVersionByAlias("m", "champion")->version, 1);
}

TEST_F(RegistryServiceTest, ResolveModelUris) {
  NewModel("m");
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(Register("m", "s3://b/" + std::to_string(i)).ok());
  ASSERT_TRUE(service_->SetRegisteredModelAlias("m", "champion", 2).ok());
  ASSERT_TRUE(service_->TransitionModelVersionStage("m", 1, "Production", false).ok());

  EXPECT_EQ(service_->ResolveModelUri("models:/m/3")->version, 3);
  EXPECT_EQ(service_->ResolveModelUri("models:/m@champion")->version, 2);
  EXPECT_EQ(service_->ResolveModelUri("models:/m/latest")->version, 3);
  EXPECT_EQ(service_->ResolveModelUri("models:/m/production")->version, 1);
  auto staging = service_->ResolveModelUri("models:/m/Staging");
  EXPECT_EQ(staging.status().code(), StatusCode::kNotFound);
  EXPECT_EQ(Message(staging.status()), "Registered model 'm' has no version in stage 'Staging'");
  EXPECT_EQ(service_->ResolveModelUri("models:/m/Live").status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(service_->ResolveModelUri("models:/m/7").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(service_->ResolveModelUri("models:/x/latest").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(service_->ResolveModelUri("models:/m@nope").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(service_->ResolveModelUri("m").status().code(), StatusCode::kInvalidArgument);
  NewModel("empty");
  EXPECT_EQ(Message(service_->ResolveModelUri("models:/empty/latest").status()),
            "Registered model 'empty' has no versions");
}

TEST_F(RegistryServiceTest, SearchPagesAndRejectsBadInput) {
  for (const char* name : {"a", "b", "c", "d", "e"}) NewModel(name);
  SearchRegisteredModelsRequest req;
  req.max_results = 2;
  std::vector<std::string> seen;
  for (int pages = 0; pages < 10; ++pages) {
    auto page = service_->SearchRegisteredModels(req);
    ASSERT_TRUE(page.ok()) << page.status().ToString();
    for (const auto& m : page->models) seen.push_back(m.name);
    if (page->next_page_token.empty()) break;
    req.page_token = page->next_page_token;
  }
  EXPECT_EQ(seen, (std::vector<std::string>{"a", "b", "c", "d", "e"}));

  SearchRegisteredModelsRequest bad;
  bad.max_results = 0;
  EXPECT_EQ(service_->SearchRegisteredModels(bad).status().code(), StatusCode::kInvalidArgument);
  bad.max_results = 1001;
  EXPECT_EQ(Message(service_->SearchRegisteredModels(bad).status()),
            "Invalid value for request parameter max_results. It must be at most 1000, but got "
            "value 1001");
  bad.max_results = 10;
  bad.filter = "metrics.auc > 1";
  EXPECT_EQ(service_->SearchRegisteredModels(bad).status().code(), StatusCode::kInvalidArgument);
  bad.filter = "";
  bad.order_by = {"tags.team"};
  EXPECT_EQ(service_->SearchRegisteredModels(bad).status().code(), StatusCode::kInvalidArgument);
  bad.order_by = {};
  bad.page_token = "garbage";
  EXPECT_EQ(service_->SearchRegisteredModels(bad).status().code(), StatusCode::kInvalidArgument);

  ASSERT_TRUE(Register("a", "s3://x/1").ok());
  ASSERT_TRUE(Register("a", "s3://x/2").ok());
  ASSERT_TRUE(Register("b", "s3://x/3").ok());
  SearchModelVersionsRequest versions;
  versions.filter = "name = 'a' AND version_number > 1";
  auto found = service_->SearchModelVersions(versions);
  ASSERT_TRUE(found.ok()) << found.status().ToString();
  ASSERT_EQ(found->versions.size(), 1u);
  EXPECT_EQ(found->versions[0].version, 2);
  versions.filter = "source_path LIKE 's3://x/%'";
  versions.order_by = {"version_number ASC"};
  versions.max_results = 2;
  found = service_->SearchModelVersions(versions);
  ASSERT_TRUE(found.ok()) << found.status().ToString();
  ASSERT_EQ(found->versions.size(), 2u);
  EXPECT_EQ(found->versions[0].name, "a");
  EXPECT_EQ(found->versions[1].name, "b");
  EXPECT_FALSE(found->next_page_token.empty());
  versions.max_results = 200001;
  EXPECT_EQ(service_->SearchModelVersions(versions).status().code(),
            StatusCode::kInvalidArgument);
}

TEST_F(RegistryServiceTest, ApprovalLivesInVersionTags) {
  NewModel("m");
  ASSERT_TRUE(Register("m", "s3://b/1").ok());
  EXPECT_EQ(ApprovalOf(*service_->GetModelVersion("m", 1)).state, ApprovalState::kPending);
  clock_.Advance(500);
  auto approved = service_->SetApproval("m", 1, ApprovalState::kApproved, "bob", "looks good");
  ASSERT_TRUE(approved.ok()) << approved.status().ToString();
  Approval a = ApprovalOf(*approved);
  EXPECT_EQ(a.state, ApprovalState::kApproved);
  EXPECT_EQ(a.by, "bob");
  EXPECT_EQ(a.time, clock_.NowMillis());
  EXPECT_EQ(a.comment, "looks good");
  auto rejected = service_->SetApproval("m", 1, ApprovalState::kRejected, "carol", "");
  ASSERT_TRUE(rejected.ok());
  EXPECT_EQ(ApprovalOf(*rejected).by, "carol");
  auto pending = service_->SetApproval("m", 1, ApprovalState::kPending, "", "");
  ASSERT_TRUE(pending.ok());
  EXPECT_EQ(ApprovalOf(*pending).state, ApprovalState::kPending);
  EXPECT_TRUE(pending->tags.empty());
  EXPECT_EQ(Message(service_->SetApproval("m", 1, ApprovalState::kApproved, "", "").status()),
            "Missing value for required parameter 'by'.");
  EXPECT_EQ(service_->SetApproval("m", 5, ApprovalState::kApproved, "bob", "").status().code(),
            StatusCode::kNotFound);
}

TEST(RegistryFilterGrammarTest, RegisteredModelFilters) {
  auto f = tracking::ParseRegisteredModelFilter("name LIKE '%churn%' AND tags.team = \"ml\"");
  ASSERT_TRUE(f.ok()) << f.status().ToString();
  ASSERT_EQ(f->size(), 2u);
  EXPECT_EQ((*f)[0].kind, EntityKind::kAttribute);
  EXPECT_EQ((*f)[0].key, "name");
  EXPECT_EQ((*f)[0].op, CompareOp::kLike);
  EXPECT_EQ(std::get<std::string>((*f)[0].value), "%churn%");
  EXPECT_EQ((*f)[1].kind, EntityKind::kTag);
  EXPECT_EQ((*f)[1].key, "team");
  EXPECT_TRUE(tracking::ParseRegisteredModelFilter("tag.`a b` != 'x'").ok());
  for (const char* bad : {"params.x = '1'", "run_id = 'x'", "creation_timestamp > 1",
                          "name > 'a'", "name = x"}) {
    EXPECT_FALSE(tracking::ParseRegisteredModelFilter(bad).ok()) << bad;
  }
  auto order = tracking::ParseRegisteredModelOrderBy("timestamp DESC");
  ASSERT_TRUE(order.ok());
  EXPECT_EQ(order->key, "last_updated_timestamp");
  EXPECT_FALSE(order->ascending);
  EXPECT_FALSE(tracking::ParseRegisteredModelOrderBy("tags.x").ok());
}

TEST(RegistryFilterGrammarTest, ModelVersionFilters) {
  auto f = tracking::ParseModelVersionFilter(
      "name = 'churn' AND run_id IN ('a', 'b') AND version_number >= 2 AND "
      "source_path LIKE 'runs:/%' AND tags.env = 'prod'");
  ASSERT_TRUE(f.ok()) << f.status().ToString();
  ASSERT_EQ(f->size(), 5u);
  EXPECT_EQ((*f)[1].op, CompareOp::kIn);
  EXPECT_EQ(std::get<std::vector<std::string>>((*f)[1].value),
            (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ((*f)[2].key, "version_number");
  EXPECT_EQ(std::get<double>((*f)[2].value), 2.0);
  EXPECT_EQ((*f)[3].key, "source_path");
  for (const char* bad : {"metrics.x > 1", "version_number = 'two'", "stage = 'x'"}) {
    EXPECT_FALSE(tracking::ParseModelVersionFilter(bad).ok()) << bad;
  }
  EXPECT_TRUE(tracking::ParseModelVersionOrderBy("version_number DESC").ok());
  EXPECT_TRUE(tracking::ParseModelVersionOrderBy("creation_timestamp").ok());
  EXPECT_FALSE(tracking::ParseModelVersionOrderBy("current_stage").ok());
  EXPECT_FALSE(tracking::ParseModelVersionOrderBy("tags.env").ok());
}

}  // namespace
}  // namespace cairn::registry
