// The stored-pipeline and trigger API through Router::Dispatch (no socket).
#include <gtest/gtest.h>

#include <filesystem>
#include <nlohmann/json.hpp>

#include "api/v1/trigger_routes.h"
#include "core/ids.h"
#include "store/sqlite/sqlite_metadata_store.h"
#include "triggers/testing/fake_signals.h"

namespace cairn::api::v1 {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

class TriggersApiTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("cairn-triggers-api-" + NewUuidHex());
    fs::create_directories(dir_);
    auto store = store::SqliteMetadataStore::Open((dir_ / "meta.db").string(), clock_);
    ASSERT_TRUE(store.ok());
    store_ = std::move(*store);
    table_ = pipelines::BuiltinStepTypes();
    engine_ = std::make_unique<pipelines::PipelineEngine>(table_, *store_, clock_, nullptr);
    ASSERT_TRUE(engine_->Start().ok());
    service_ = std::make_unique<triggers::TriggerService>(*store_, *engine_, table_, signals_,
                                                          clock_);
    RegisterTriggerRoutes(router_, *service_);
  }
  void TearDown() override {
    service_.reset();
    engine_.reset();
    store_.reset();
    fs::remove_all(dir_);
  }

  json Call(const std::string& method, const std::string& target, const json& body,
            int expect_status) {
    http::HttpRequest req;
    req.method = method;
    req.target = target;
    const size_t q = target.find('?');
    req.path = target.substr(0, q);
    req.query = q == std::string::npos ? "" : target.substr(q + 1);
    req.body = body.is_null() ? "" : body.dump();
    req.headers.emplace_back("x-cairn-user", "ana");
    http::HttpResponse r = router_.Dispatch(req);
    EXPECT_EQ(r.status, expect_status) << method << " " << target << ": " << r.body;
    return json::parse(r.body, nullptr, false);
  }

  fs::path dir_;
  FakeClock clock_;
  pipelines::StepTable table_;
  triggers::testing::FakeSignals signals_;
  std::unique_ptr<store::SqliteMetadataStore> store_;
  std::unique_ptr<pipelines::PipelineEngine> engine_;
  std::unique_ptr<triggers::TriggerService> service_;
  http::Router router_;
};

constexpr char kYaml[] = R"(name: churn-retrain
params: {dataset_version: '0'}
triggers:
  - dataset: telco
  - drift: {endpoint: churn, threshold: 0.5}
  - drift: {endpoint: churn, threshold: 0.05, column: tenure}
steps:
  gate: {uses: gate.approval}
)";

TEST_F(TriggersApiTest, StoreListShowAndRunDefinitions) {
  json created = Call("POST", "/api/v1/pipelines/definitions",
                      {{"yaml", kYaml}, {"file", "/p/retrain.yaml"}}, 200);
  EXPECT_EQ(created["definition"]["name"], "churn-retrain");
  EXPECT_EQ(created["definition"]["revision"], 1);
  EXPECT_EQ(created["definition"]["created_by"], "ana");
  ASSERT_EQ(created["triggers"].size(), 3u);
  EXPECT_EQ(created["triggers"][2]["trigger_id"], "churn-retrain/drift-2");
  EXPECT_EQ(created["triggers"][1]["description"], "churn: drift share ≥ 0.5");
  json again = Call("POST", "/api/v1/pipelines/definitions", {{"yaml", kYaml}}, 200);
  EXPECT_EQ(again["definition"]["revision"], 2);

  json list = Call("GET", "/api/v1/pipelines/definitions", nullptr, 200);
  ASSERT_EQ(list["definitions"].size(), 1u);
  EXPECT_EQ(list["definitions"][0]["trigger_count"], 3);
  EXPECT_FALSE(list["definitions"][0].contains("spec"));
  json one = Call("GET", "/api/v1/pipelines/definitions/churn-retrain", nullptr, 200);
  EXPECT_EQ(one["definition"]["spec"], kYaml);

  json run = Call("POST", "/api/v1/pipelines/definitions/churn-retrain/runs",
                  {{"params", {{"dataset_version", "7"}}}}, 200);
  EXPECT_EQ(run["run"]["name"], "churn-retrain");
  EXPECT_EQ(run["run"]["params"]["dataset_version"], "7");
  EXPECT_EQ(run["run"]["created_by"], "ana");

  Call("DELETE", "/api/v1/pipelines/definitions/churn-retrain", nullptr, 200);
  json gone = Call("GET", "/api/v1/pipelines/definitions/churn-retrain", nullptr, 404);
  EXPECT_EQ(gone["error_code"], "RESOURCE_DOES_NOT_EXIST");
  EXPECT_EQ(gone["message"], "pipeline 'churn-retrain' does not exist");
}

TEST_F(TriggersApiTest, ListShowEnableDisableTriggers) {
  Call("POST", "/api/v1/pipelines/definitions", {{"yaml", kYaml}}, 200);
  json all = Call("GET", "/api/v1/triggers", nullptr, 200);
  ASSERT_EQ(all["triggers"].size(), 3u);
  json some = Call("GET", "/api/v1/triggers?pipeline=churn-retrain", nullptr, 200);
  EXPECT_EQ(some["triggers"].size(), 3u);
  Call("GET", "/api/v1/triggers?pipeline=nope", nullptr, 404);

  json off = Call("POST", "/api/v1/triggers/churn-retrain/drift/disable", nullptr, 200);
  EXPECT_FALSE(off["trigger"]["enabled"]);
  json on = Call("POST", "/api/v1/triggers/churn-retrain/drift/enable", nullptr, 200);
  EXPECT_TRUE(on["trigger"]["enabled"]);

  signals_.SetDriftReport("churn", {"r9", 1, 0.75, {}});
  service_->Evaluate(clock_.NowMillis());
  json shown = Call("GET", "/api/v1/triggers/churn-retrain/drift", nullptr, 200);
  EXPECT_EQ(shown["trigger"]["last_reason"], "drift share 0.75 ≥ 0.5 in report r9");
  ASSERT_EQ(shown["trigger"]["firings"].size(), 1u);
  const json& firing = shown["trigger"]["firings"][0];
  EXPECT_EQ(firing["user"], "trigger:churn-retrain/drift");
  EXPECT_EQ(firing["context"]["drift_share"], "0.75");
  EXPECT_EQ(firing["run_id"], shown["trigger"]["last_run_id"]);

  json missing = Call("GET", "/api/v1/triggers/churn-retrain/metric", nullptr, 404);
  EXPECT_EQ(missing["message"], "trigger 'churn-retrain/metric' does not exist");
  Call("POST", "/api/v1/triggers/x/y/enable", nullptr, 404);
}

TEST_F(TriggersApiTest, BadDefinitionsAreRejectedNamingTheField) {
  json bad = Call("POST", "/api/v1/pipelines/definitions",
                  {{"yaml", "name: p\ntriggers:\n  - schedule: \"0 3 * *\"\nsteps:\n  g: "
                            "{uses: gate.approval}\n"},
                   {"file", "p.yaml"}},
                  400);
  EXPECT_EQ(bad["error_code"], "INVALID_PARAMETER_VALUE");
  EXPECT_EQ(bad["message"], "p.yaml:3: triggers[0].schedule: '0 3 * *' has 4 fields; expected 5 "
                            "(minute hour day-of-month month day-of-week)");
  json no_yaml = Call("POST", "/api/v1/pipelines/definitions", json::object(), 400);
  EXPECT_EQ(no_yaml["message"], "yaml: required (the pipeline file's text)");
  Call("POST", "/api/v1/pipelines/definitions/nope/runs", json::object(), 404);
}

}  // namespace
}  // namespace cairn::api::v1
