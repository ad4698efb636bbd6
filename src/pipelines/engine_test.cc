#include "pipelines/engine.h"

#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>
#include <mutex>

#include "core/ids.h"
#include "store/sqlite/sqlite_metadata_store.h"

namespace cairn::pipelines {
namespace {

namespace fs = std::filesystem;
using store::PipelineRun;
using store::PipelineRunStatus;
using store::StepRun;
using store::StepRunStatus;

// What the fake steps did, shared by every engine of a test.
struct Journal {
  std::mutex mu;
  std::condition_variable cv;
  std::vector<std::string> calls;           // "step:attempt" in start order
  std::map<std::string, nlohmann::json> with;  // the inputs each step saw
  int running = 0;
  int max_running = 0;
  bool release = false;  // lets "fake.block" steps return

  void Release() {
    std::lock_guard lock(mu);
    release = true;
    cv.notify_all();
  }
  int Calls(const std::string& step) {
    std::lock_guard lock(mu);
    int n = 0;
    for (const auto& c : calls) n += c.rfind(step + ":", 0) == 0 ? 1 : 0;
    return n;
  }
};

// fake.ok: outputs value=<with.value or the step id>; fake.fail: fails with with.message;
// fake.block: waits for Journal::Release (or cancellation), then succeeds; fake.pair: waits
// until two fake.pair steps run at once (proves parallelism without timing).
class FakeStep : public Step {
 public:
  FakeStep(Journal& j, std::string kind) : j_(j), kind_(std::move(kind)) {}
  Result<StepOutputs> Run(StepContext& ctx) override {
    {
      std::lock_guard lock(j_.mu);
      j_.calls.push_back(ctx.step_id + ":" + std::to_string(ctx.attempt));
      j_.with[ctx.step_id] = ctx.with;
      j_.max_running = std::max(j_.max_running, ++j_.running);
      j_.cv.notify_all();
    }
    ctx.log("hello from " + ctx.step_id);
    Status status;
    if (kind_ == "fail") status = FailedPrecondition(ctx.Input("message", "it broke"));
    if (kind_ == "block" || kind_ == "pair") {
      std::unique_lock lock(j_.mu);
      while (!ctx.cancelled() && !(kind_ == "block" ? j_.release : j_.max_running >= 2)) {
        j_.cv.wait_for(lock, std::chrono::milliseconds(20));
      }
      if (ctx.cancelled()) status = Unavailable("interrupted");
    }
    {
      std::lock_guard lock(j_.mu);
      --j_.running;
    }
    if (!status.ok()) return status;
    return StepOutputs{{"value", ctx.Input("value", ctx.step_id)}};
  }

 private:
  Journal& j_;
  std::string kind_;
};

class EngineTest : public ::testing::Test {
 protected:
  EngineTest() : dir_(fs::temp_directory_path() / ("cairn-engine-" + NewUuidHex())) {
    fs::create_directories(dir_);
    table_ = BuiltinStepTypes();  // for gate.approval
    for (const std::string kind : {"ok", "fail", "block", "pair"}) {
      StepType type;
      type.name = "fake." + kind;
      type.inputs = {{"value", false}, {"message", false}};
      type.outputs = {"value"};
      type.make = [this, kind] { return std::make_unique<FakeStep>(journal_, kind); };
      table_.Add(std::move(type));
    }
    OpenStore();
  }
  ~EngineTest() override {
    engine_.reset();
    store_.reset();
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }

  void OpenStore() {
    auto s = store::SqliteMetadataStore::Open((dir_ / "meta.db").string(), clock_);
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    store_ = std::move(*s);
  }
  void StartEngine() {
    engine_ = std::make_unique<PipelineEngine>(table_, *store_, clock_, nullptr);
    ASSERT_TRUE(engine_->Start().ok());
  }
  std::string Submit(const std::string& yaml, std::map<std::string, std::string> params = {},
                     const std::string& user = "ana") {
    StartRequest req;
    req.yaml = yaml;
    req.params = std::move(params);
    req.user = user;
    auto run = engine_->Submit(req);
    EXPECT_TRUE(run.ok()) << run.status().ToString();
    return run.ok() ? run->run_id : "";
  }
  PipelineRun Wait(const std::string& id) {
    auto run = engine_->WaitForRun(id);
    EXPECT_TRUE(run.ok());
    return run.ok() ? *run : PipelineRun{};
  }
  PipelineRun WaitForStep(const std::string& id, const std::string& step, StepRunStatus status) {
    auto run = engine_->WaitUntil(id, [&](const PipelineRun& r) {
      for (const StepRun& s : r.steps) {
        if (s.step_id == step) return s.status == status;
      }
      return false;
    });
    EXPECT_TRUE(run.ok());
    return run.ok() ? *run : PipelineRun{};
  }
  static const StepRun& Step(const PipelineRun& run, const std::string& id) {
    for (const StepRun& s : run.steps) {
      if (s.step_id == id) return s;
    }
    static StepRun none;
    ADD_FAILURE() << "no step " << id;
    return none;
  }

  fs::path dir_;
  FakeClock clock_;
  Journal journal_;
  StepTable table_;
  std::unique_ptr<store::SqliteMetadataStore> store_;
  std::unique_ptr<PipelineEngine> engine_;
};

TEST_F(EngineTest, RunsStepsInNeedsOrderAndPassesOutputs) {
  StartEngine();
  const std::string id = Submit(R"(name: chain
params: {greeting: hi}
steps:
  c:
    uses: fake.ok
    needs: [b]
    with: {value: "${{ steps.b.outputs.value }}+${{ params.greeting }}"}
  b:
    uses: fake.ok
    needs: a
    with: {value: "got-${{ steps.a.outputs.value }}"}
  a:
    uses: fake.ok
)");
  PipelineRun run = Wait(id);
  EXPECT_EQ(run.status, PipelineRunStatus::kSucceeded) << run.error;
  EXPECT_EQ(journal_.calls, (std::vector<std::string>{"a:1", "b:1", "c:1"}));
  EXPECT_EQ(journal_.with["c"]["value"], "got-a+hi");
  EXPECT_EQ(Step(run, "c").outputs, R"({"value":"got-a+hi"})");
  EXPECT_EQ(Step(run, "a").attempt, 1);
  EXPECT_NE(store_->GetStepLog(id, "a")->find("hello from a"), std::string::npos);
}

TEST_F(EngineTest, IndependentStepsRunInParallel) {
  StartEngine();
  const std::string id = Submit(R"(name: fan
steps:
  left: {uses: fake.pair}
  right: {uses: fake.pair}
  join: {uses: fake.ok, needs: [left, right]}
)");
  PipelineRun run = Wait(id);
  EXPECT_EQ(run.status, PipelineRunStatus::kSucceeded) << run.error;
  EXPECT_EQ(journal_.max_running, 2);
  EXPECT_EQ(journal_.calls.back(), "join:1");
}

TEST_F(EngineTest, FalseConditionSkipsTheStepAndItsDependents) {
  StartEngine();
  const std::string id = Submit(R"(name: skip
steps:
  compare: {uses: fake.ok, with: {value: "false"}}
  register:
    uses: fake.ok
    needs: compare
    if: ${{ steps.compare.outputs.value }} == 'true'
  deploy: {uses: fake.ok, needs: register}
  report:
    uses: fake.ok
    needs: compare
    if: "!steps.compare.outputs.value"
)");
  PipelineRun run = Wait(id);
  EXPECT_EQ(run.status, PipelineRunStatus::kSucceeded) << run.error;
  EXPECT_EQ(Step(run, "register").status, StepRunStatus::kSkipped);
  EXPECT_NE(Step(run, "register").error.find("is false"), std::string::npos);
  EXPECT_EQ(Step(run, "deploy").status, StepRunStatus::kSkipped);
  EXPECT_EQ(Step(run, "deploy").error, "skipped: needs 'register', which was skipped");
  EXPECT_EQ(Step(run, "report").status, StepRunStatus::kSucceeded);
  EXPECT_EQ(journal_.Calls("deploy"), 0);
}

TEST_F(EngineTest, AFailingStepFailsTheRunAndSkipsItsDependents) {
  StartEngine();
  const std::string id = Submit(R"(name: fail
steps:
  train: {uses: fake.fail, with: {message: "target column missing"}}
  register: {uses: fake.ok, needs: train}
  deploy: {uses: fake.ok, needs: register}
)");
  PipelineRun run = Wait(id);
  EXPECT_EQ(run.status, PipelineRunStatus::kFailed);
  EXPECT_EQ(run.error, "step 'train' failed: target column missing");
  EXPECT_EQ(Step(run, "train").status, StepRunStatus::kFailed);
  EXPECT_EQ(Step(run, "register").error, "skipped: needs 'train', which failed");
  EXPECT_EQ(Step(run, "deploy").status, StepRunStatus::kSkipped);
  EXPECT_NE(store_->GetStepLog(id, "train")->find("failed: target column missing"),
            std::string::npos);
}

TEST_F(EngineTest, ApprovalGateWaitsForADecision) {
  StartEngine();
  const std::string yaml = R"(name: gated
steps:
  gate: {uses: gate.approval, with: {message: "ship?", require_other_approver: true}}
  deploy: {uses: fake.ok, needs: gate, with: {value: "${{ steps.gate.outputs.approved_by }}"}}
)";
  const std::string id = Submit(yaml);
  WaitForStep(id, "gate", StepRunStatus::kWaiting);
  EXPECT_EQ(journal_.Calls("deploy"), 0);
  // The starter may not approve; nobody may approve a step that is no gate.
  auto self = engine_->Decide(id, "gate", true, "ana", "");
  EXPECT_EQ(self.status().code(), StatusCode::kPermissionDenied);
  EXPECT_EQ(engine_->Decide(id, "deploy", true, "bob", "").status().code(),
            StatusCode::kFailedPrecondition);
  auto ok = engine_->Decide(id, "gate", true, "bob", "looks good");
  ASSERT_TRUE(ok.ok()) << ok.status().ToString();
  EXPECT_EQ(ok->decided_by, "bob");
  EXPECT_EQ(engine_->Decide(id, "gate", true, "bob", "").status().code(),
            StatusCode::kFailedPrecondition);
  PipelineRun run = Wait(id);
  EXPECT_EQ(run.status, PipelineRunStatus::kSucceeded) << run.error;
  EXPECT_EQ(journal_.with["deploy"]["value"], "bob");
  EXPECT_EQ(Step(run, "gate").comment, "looks good");

  // A rejection fails the run; the starter may reject.
  const std::string second = Submit(yaml);
  WaitForStep(second, "gate", StepRunStatus::kWaiting);
  ASSERT_TRUE(engine_->Decide(second, "gate", false, "ana", "not today").ok());
  PipelineRun rejected = Wait(second);
  EXPECT_EQ(rejected.status, PipelineRunStatus::kFailed);
  EXPECT_EQ(rejected.error, "step 'gate' failed: rejected by ana: not today");
  EXPECT_EQ(Step(rejected, "deploy").status, StepRunStatus::kSkipped);
}

TEST_F(EngineTest, ApprovalTimesOut) {
  StartEngine();
  const std::string id = Submit(R"(name: slow
steps:
  gate: {uses: gate.approval, with: {timeout: 1h}}
)");
  PipelineRun waiting = WaitForStep(id, "gate", StepRunStatus::kWaiting);
  EXPECT_EQ(Step(waiting, "gate").deadline, clock_.NowMillis() + 3600000);
  clock_.Advance(3600000);
  engine_->Poke();
  PipelineRun run = Wait(id);
  EXPECT_EQ(run.status, PipelineRunStatus::kFailed);
  EXPECT_NE(Step(run, "gate").error.find("timed out"), std::string::npos);
}

TEST_F(EngineTest, CancelStopsRunningAndWaitingSteps) {
  StartEngine();
  const std::string id = Submit(R"(name: cancel
steps:
  work: {uses: fake.block}
  gate: {uses: gate.approval}
  after: {uses: fake.ok, needs: [work, gate]}
)");
  WaitForStep(id, "gate", StepRunStatus::kWaiting);
  WaitForStep(id, "work", StepRunStatus::kRunning);
  ASSERT_TRUE(engine_->Cancel(id).ok());
  PipelineRun run = Wait(id);
  EXPECT_EQ(run.status, PipelineRunStatus::kCancelled);
  EXPECT_EQ(Step(run, "work").status, StepRunStatus::kCancelled);
  EXPECT_EQ(Step(run, "gate").status, StepRunStatus::kCancelled);
  EXPECT_EQ(Step(run, "after").status, StepRunStatus::kCancelled);
  EXPECT_EQ(engine_->Cancel(id).status().code(), StatusCode::kFailedPrecondition);
}

TEST_F(EngineTest, ResumesAfterRestartWithoutRerunningCompletedSteps) {
  StartEngine();
  const std::string id = Submit(R"(name: resume
steps:
  first: {uses: fake.ok}
  slow: {uses: fake.block, needs: first}
  gate: {uses: gate.approval, needs: first}
  last: {uses: fake.ok, needs: [slow, gate]}
)");
  WaitForStep(id, "slow", StepRunStatus::kRunning);
  WaitForStep(id, "gate", StepRunStatus::kWaiting);
  engine_->Stop();  // as a server going down: "slow" is cut short
  engine_.reset();
  auto stored = store_->GetPipelineRun(id);
  EXPECT_EQ(Step(*stored, "slow").status, StepRunStatus::kRunning);

  // A new process: a new store object and engine over the same database.
  store_.reset();
  OpenStore();
  journal_.Release();
  StartEngine();
  WaitForStep(id, "slow", StepRunStatus::kSucceeded);
  PipelineRun mid = WaitForStep(id, "gate", StepRunStatus::kWaiting);
  EXPECT_EQ(Step(mid, "slow").attempt, 2);
  ASSERT_TRUE(engine_->Decide(id, "gate", true, "bob", "").ok());
  PipelineRun run = Wait(id);
  EXPECT_EQ(run.status, PipelineRunStatus::kSucceeded) << run.error;
  EXPECT_EQ(journal_.Calls("first"), 1);
  EXPECT_EQ(journal_.Calls("slow"), 2);
  EXPECT_EQ(journal_.Calls("last"), 1);
  EXPECT_NE(store_->GetStepLog(id, "slow")->find("server restarted"), std::string::npos);
}

TEST_F(EngineTest, SubmitRejectsInvalidFilesAndParams) {
  StartEngine();
  StartRequest bad;
  bad.yaml = "name: x\nsteps:\n  a: {uses: fake.nope}\n";
  bad.file = "bad.yaml";
  auto r = engine_->Submit(bad);
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(r.status().message().find("bad.yaml:3: step 'a': unknown step type"),
            std::string::npos);
  StartRequest params;
  params.yaml = "name: x\nsteps:\n  a: {uses: fake.ok}\n";
  params.params = {{"nope", "1"}};
  EXPECT_EQ(engine_->Submit(params).status().code(), StatusCode::kInvalidArgument);
  EXPECT_TRUE(store_->ListPipelineRuns({})->empty());
}

}  // namespace
}  // namespace cairn::pipelines
