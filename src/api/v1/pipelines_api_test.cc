// The pipelines API through Router::Dispatch (no socket), on an engine with the built-in gate and
// a fake task step.
#include <gtest/gtest.h>

#include <filesystem>
#include <nlohmann/json.hpp>

#include "api/v1/pipeline_routes.h"
#include "core/ids.h"
#include "store/sqlite/sqlite_metadata_store.h"

namespace cairn::api::v1 {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

class EchoStep : public pipelines::Step {
 public:
  Result<pipelines::StepOutputs> Run(pipelines::StepContext& ctx) override {
    ctx.log("echo " + ctx.Input("value"));
    return pipelines::StepOutputs{{"value", ctx.Input("value")}};
  }
};

class PipelinesApiTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("cairn-pipelines-api-" + NewUuidHex());
    fs::create_directories(dir_);
    auto store = store::SqliteMetadataStore::Open((dir_ / "meta.db").string(), clock_);
    ASSERT_TRUE(store.ok());
    store_ = std::move(*store);
    table_ = pipelines::BuiltinStepTypes();
    pipelines::StepType echo;
    echo.name = "test.echo";
    echo.inputs = {{"value", true}};
    echo.outputs = {"value"};
    echo.make = [] { return std::make_unique<EchoStep>(); };
    table_.Add(std::move(echo));
    engine_ = std::make_unique<pipelines::PipelineEngine>(table_, *store_, clock_, nullptr);
    ASSERT_TRUE(engine_->Start().ok());
    RegisterPipelineRoutes(router_, *engine_, *store_);
  }
  void TearDown() override {
    engine_.reset();
    store_.reset();
    fs::remove_all(dir_);
  }

  json Call(const std::string& method, const std::string& target, const json& body,
            int expect_status, const std::string& user = "") {
    http::HttpRequest req;
    req.method = method;
    req.target = target;
    const size_t q = target.find('?');
    req.path = target.substr(0, q);
    req.query = q == std::string::npos ? "" : target.substr(q + 1);
    req.body = body.is_null() ? "" : body.dump();
    if (!user.empty()) req.headers.emplace_back("x-cairn-user", user);
    http::HttpResponse r = router_.Dispatch(req);
    EXPECT_EQ(r.status, expect_status) << method << " " << target << ": " << r.body;
    return json::parse(r.body, nullptr, false);
  }

  fs::path dir_;
  FakeClock clock_;
  pipelines::StepTable table_;
  std::unique_ptr<store::SqliteMetadataStore> store_;
  std::unique_ptr<pipelines::PipelineEngine> engine_;
  http::Router router_;
};

constexpr char kYaml[] = R"(name: gated
params: {word: hello}
steps:
  gate: {uses: gate.approval, with: {require_other_approver: true}}
  echo: {uses: test.echo, needs: gate, with: {value: "${{ params.word }}"}}
)";

TEST_F(PipelinesApiTest, StartApproveAndFollowARun) {
  json started = Call("POST", "/api/v1/pipelines/runs",
                      {{"yaml", kYaml}, {"file", "gated.yaml"}, {"params", {{"word", "hi"}}}},
                      200, "ana");
  const std::string id = started["run"]["run_id"];
  EXPECT_EQ(started["run"]["created_by"], "ana");
  EXPECT_EQ(started["run"]["params"]["word"], "hi");
  ASSERT_TRUE(engine_->WaitUntil(id, [](const store::PipelineRun& r) {
                       return r.steps[0].status == store::StepRunStatus::kWaiting;
                     }).ok());

  json self = Call("POST", "/api/v1/pipelines/runs/" + id + "/steps/gate/approve", json::object(),
                   403, "ana");
  EXPECT_EQ(self["error_code"], "PERMISSION_DENIED");
  json nobody = Call("POST", "/api/v1/pipelines/runs/" + id + "/steps/gate/approve",
                     json::object(), 400);
  EXPECT_NE(nobody["message"].get<std::string>().find("--user"), std::string::npos);
  json approved = Call("POST", "/api/v1/pipelines/runs/" + id + "/steps/gate/approve",
                       {{"comment", "fine"}}, 200, "bob");
  EXPECT_EQ(approved["step"]["decision"], "approved");
  EXPECT_EQ(approved["step"]["decided_by"], "bob");
  json again = Call("POST", "/api/v1/pipelines/runs/" + id + "/steps/gate/reject",
                    json::object(), 400, "bob");
  EXPECT_EQ(again["error_code"], "INVALID_STATE");

  ASSERT_TRUE(engine_->WaitForRun(id).ok());
  json run = Call("GET", "/api/v1/pipelines/runs/" + id, nullptr, 200);
  EXPECT_EQ(run["run"]["status"], "succeeded");
  EXPECT_EQ(run["run"]["spec"], kYaml);
  EXPECT_EQ(run["run"]["steps"][1]["outputs"]["value"], "hi");
  json logs = Call("GET", "/api/v1/pipelines/runs/" + id + "/steps/echo/logs", nullptr, 200);
  EXPECT_NE(logs["log"].get<std::string>().find("echo hi"), std::string::npos);
  json list = Call("GET", "/api/v1/pipelines/runs?status=succeeded", nullptr, 200);
  ASSERT_EQ(list["runs"].size(), 1u);
  EXPECT_EQ(Call("GET", "/api/v1/pipelines/runs?status=running", nullptr, 200)["runs"].size(),
            0u);
  json cancel = Call("POST", "/api/v1/pipelines/runs/" + id + "/cancel", json::object(), 400);
  EXPECT_EQ(cancel["error_code"], "INVALID_STATE");
  EXPECT_NE(cancel["message"].get<std::string>().find("already ended"), std::string::npos);
}

TEST_F(PipelinesApiTest, BadInputIsRefusedNamingTheProblem) {
  json bad = Call("POST", "/api/v1/pipelines/runs",
                  {{"yaml", "name: x\nsteps:\n  a: {uses: nope}\n"}, {"file", "x.yaml"}}, 400);
  EXPECT_EQ(bad["error_code"], "INVALID_PARAMETER_VALUE");
  EXPECT_NE(bad["message"].get<std::string>().find("x.yaml:3: step 'a': unknown step type"),
            std::string::npos);
  EXPECT_NE(Call("POST", "/api/v1/pipelines/runs", json::object(), 400)["message"]
                .get<std::string>()
                .find("yaml: required"),
            std::string::npos);
  EXPECT_NE(Call("POST", "/api/v1/pipelines/runs", {{"yaml", kYaml}, {"params", {{"word", 1}}}},
                 400)["message"]
                .get<std::string>()
                .find("params.word: expected a string"),
            std::string::npos);
  json missing = Call("GET", "/api/v1/pipelines/runs/nope", nullptr, 404);
  EXPECT_EQ(missing["error_code"], "RESOURCE_DOES_NOT_EXIST");
  Call("GET", "/api/v1/pipelines/runs?status=lost", nullptr, 400);
  Call("GET", "/api/v1/pipelines/runs?max_results=0", nullptr, 400);
}

}  // namespace
}  // namespace cairn::api::v1
