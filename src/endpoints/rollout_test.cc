#include "endpoints/rollout.h"

#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <map>

#include "core/ids.h"
#include "endpoints/testing/fake_model_provider.h"
#include "store/sqlite/sqlite_metadata_store.h"

namespace cairn::endpoints {
namespace {

DeploymentCounters Counters(int64_t ok, int64_t c4xx, int64_t c5xx, std::vector<int64_t> buckets) {
  DeploymentCounters c;
  c.status_2xx = ok;
  c.status_4xx = c4xx;
  c.status_5xx = c5xx;
  c.count = ok + c4xx + c5xx;
  c.bucket_bounds_seconds = {0.001, 0.01, 0.1};
  c.buckets = std::move(buckets);
  return c;
}

TEST(RolloutWindowTest, ErrorRateCounts5xxAnd4xxAboveTheBaseline) {
  const DeploymentCounters before = Counters(100, 10, 0, {100, 10, 0});
  // Over the window: 80 OK, 15 4xx, 5 5xx.
  const DeploymentCounters after = Counters(180, 25, 5, {180, 25, 5});
  WindowFigures w = Window(before, after, /*baseline_4xx_rate=*/0.10);
  EXPECT_EQ(w.requests, 100);
  EXPECT_EQ(w.status_4xx, 15);
  EXPECT_EQ(w.status_5xx, 5);
  EXPECT_DOUBLE_EQ(w.excess_4xx, 5);  // 15 seen, 10 expected at the old deployment's rate
  EXPECT_DOUBLE_EQ(w.error_rate, 0.10);
  EXPECT_DOUBLE_EQ(w.p99_ms, 100);  // the 99th answer falls in the (10 ms, 100 ms] bucket
  // A 4xx rate no higher than the old deployment's is the callers' fault, not the model's.
  EXPECT_DOUBLE_EQ(Window(before, after, 0.5).error_rate, 0.05);
}

TEST(RolloutWindowTest, FastAnswersAndEmptyWindows) {
  const DeploymentCounters before = Counters(0, 0, 0, {0, 0, 0});
  WindowFigures fast = Window(before, Counters(200, 0, 0, {200, 0, 0}), 0);
  EXPECT_DOUBLE_EQ(fast.p99_ms, 1);
  EXPECT_DOUBLE_EQ(fast.error_rate, 0);
  WindowFigures none = Window(before, before, 0);
  EXPECT_EQ(none.requests, 0);
  EXPECT_DOUBLE_EQ(none.error_rate, 0);
  // Answers slower than the last bucket: p99 is past it.
  EXPECT_TRUE(std::isinf(Window(before, Counters(10, 0, 0, {0, 0, 0}), 0).p99_ms));
}

TEST(RolloutStrategyTest, ParsesItsNames) {
  for (auto s : {RolloutStrategy::kReplace, RolloutStrategy::kBlueGreen, RolloutStrategy::kCanary,
                 RolloutStrategy::kAb, RolloutStrategy::kShadow}) {
    auto parsed = ParseRolloutStrategy(RolloutStrategyName(s));
    ASSERT_TRUE(parsed.ok());
    EXPECT_EQ(*parsed, s);
  }
  EXPECT_EQ(ParseRolloutStrategy("sideways").status().code(), StatusCode::kInvalidArgument);
}

namespace fs = std::filesystem;

// Rollouts over a real EndpointService with fake models (testing/fake_model_provider.h: a fake
// model answers 400 to the body "bad"). Canary windows are driven by the wait hook, which sends
// the window's traffic itself: no clocks, no sleeps.
class RolloutTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("cairn_rollout_" + NewUuidHex());
    fs::create_directories(dir_);
    auto store = store::SqliteMetadataStore::Open((dir_ / "metadata.db").string(), clock_);
    ASSERT_TRUE(store.ok());
    store_ = std::move(*store);
    service_ = std::make_unique<EndpointService>(*store_, provider_, nullptr, clock_);
  }
  void TearDown() override {
    service_.reset();
    store_.reset();
    fs::remove_all(dir_);
  }

  Result<RolloutResult> Roll(RolloutRequest r, std::function<bool(int64_t)> wait = nullptr) {
    RolloutHooks hooks;
    hooks.log = [this](std::string_view line) { log_ += std::string(line) + "\n"; };
    hooks.wait_for = std::move(wait);
    return Rollout(*service_, r, hooks);
  }
  RolloutRequest Request(std::string model, RolloutStrategy strategy) {
    RolloutRequest r;
    r.endpoint = "churn";
    r.model_uri = std::move(model);
    r.strategy = strategy;
    return r;
  }
  // deployment → {model, live %, mirror %}
  std::map<std::string, std::tuple<std::string, int64_t, int64_t>> State() {
    std::map<std::string, std::tuple<std::string, int64_t, int64_t>> out;
    auto view = service_->GetEndpoint("churn");
    EXPECT_TRUE(view.ok());
    for (const DeploymentView& d : view->deployments) {
      out[d.deployment.name] = {d.deployment.model_uri, d.deployment.traffic,
                                d.deployment.mirror};
    }
    return out;
  }
  // Sends `n` requests with `body` to deployment `name`.
  void Send(const std::string& name, const std::string& body, int n) {
    for (int i = 0; i < n; ++i) {
      http::HttpRequest req;
      req.method = "POST";
      req.path = "/endpoints/churn/invocations";
      req.body = body;
      req.headers = {{"x-cairn-deployment", name}};
      ASSERT_TRUE(service_->Score("churn", serving::Protocol::kMlflow, req).ok());
    }
  }

  fs::path dir_;
  FakeClock clock_;
  testing::FakeProvider provider_;
  std::unique_ptr<store::SqliteMetadataStore> store_;
  std::unique_ptr<EndpointService> service_;
  std::string log_;
};

using Shares = std::map<std::string, std::tuple<std::string, int64_t, int64_t>>;

TEST_F(RolloutTest, FirstDeployCreatesTheEndpointThenBlueGreenSwitchesAndKeepsTheOld) {
  auto first = Roll(Request("models:/churn/1", RolloutStrategy::kBlueGreen));
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  EXPECT_EQ(first->deployment, "blue");
  EXPECT_EQ(first->previous, "");
  EXPECT_EQ(State(), (Shares{{"blue", {"models:/churn/1", 100, 0}}}));

  auto second = Roll(Request("models:/churn/2", RolloutStrategy::kBlueGreen));
  ASSERT_TRUE(second.ok()) << second.status().ToString();
  EXPECT_EQ(second->deployment, "green");
  EXPECT_EQ(second->previous, "blue");
  EXPECT_EQ(State(), (Shares{{"blue", {"models:/churn/1", 0, 0}},
                            {"green", {"models:/churn/2", 100, 0}}}));
  // The next one goes back to blue, replacing its model.
  auto third = Roll(Request("models:/churn/3", RolloutStrategy::kBlueGreen));
  ASSERT_TRUE(third.ok());
  EXPECT_EQ(third->deployment, "blue");
  EXPECT_EQ(State(), (Shares{{"blue", {"models:/churn/3", 100, 0}},
                            {"green", {"models:/churn/2", 0, 0}}}));
}

TEST_F(RolloutTest, ReplaceAbAndShadow) {
  ASSERT_TRUE(Roll(Request("models:/churn/1", RolloutStrategy::kReplace)).ok());
  auto replaced = Roll(Request("models:/churn/2", RolloutStrategy::kReplace));
  ASSERT_TRUE(replaced.ok());
  EXPECT_EQ(replaced->deployment, "blue");
  EXPECT_EQ(State(), (Shares{{"blue", {"models:/churn/2", 100, 0}}}));

  RolloutRequest ab = Request("models:/churn/3", RolloutStrategy::kAb);
  ab.split = 30;
  ASSERT_TRUE(Roll(ab).ok());
  EXPECT_EQ(State(), (Shares{{"blue", {"models:/churn/2", 70, 0}},
                            {"green", {"models:/churn/3", 30, 0}}}));

  RolloutRequest shadow = Request("models:/churn/4", RolloutStrategy::kShadow);
  shadow.deployment = "shadow";
  shadow.mirror = 20;
  auto mirrored = Roll(shadow);
  ASSERT_TRUE(mirrored.ok()) << mirrored.status().ToString();
  EXPECT_EQ(mirrored->previous, "blue");
  EXPECT_EQ(std::get<1>(State()["shadow"]), 0);
  EXPECT_EQ(std::get<2>(State()["shadow"]), 20);
  EXPECT_EQ(std::get<1>(State()["blue"]), 70);  // live traffic untouched

  RolloutRequest same = Request("models:/churn/5", RolloutStrategy::kBlueGreen);
  same.deployment = "blue";
  EXPECT_EQ(Roll(same).status().code(), StatusCode::kInvalidArgument);
  RolloutRequest none = Request("models:/churn/5", RolloutStrategy::kShadow);
  none.endpoint = "nothing";
  EXPECT_EQ(Roll(none).status().code(), StatusCode::kFailedPrecondition);
}

TEST_F(RolloutTest, HealthyCanaryStepsUpToAllTraffic) {
  ASSERT_TRUE(Roll(Request("models:/churn/1", RolloutStrategy::kBlueGreen)).ok());
  RolloutRequest canary = Request("models:/churn/2", RolloutStrategy::kCanary);
  canary.steps = {10, 50, 100};
  canary.min_requests = 5;
  std::vector<int64_t> seen;
  auto result = Roll(canary, [&](int64_t) {
    seen.push_back(std::get<1>(State()["green"]));
    Send("green", "{}", 10);
    Send("blue", "bad", 2);  // the old one's own 4xx rate sets the bar for the new one's
    Send("green", "bad", 2);
    return true;
  });
  ASSERT_TRUE(result.ok()) << result.status().ToString() << "\n" << log_;
  EXPECT_EQ(seen, (std::vector<int64_t>{10, 50}));
  EXPECT_EQ(State(), (Shares{{"blue", {"models:/churn/1", 0, 0}},
                            {"green", {"models:/churn/2", 100, 0}}}));
}

TEST_F(RolloutTest, FailingCanaryRollsBackWithTheFigures) {
  ASSERT_TRUE(Roll(Request("models:/churn/1", RolloutStrategy::kBlueGreen)).ok());
  RolloutRequest canary = Request("models:/churn/2", RolloutStrategy::kCanary);
  canary.steps = {25, 100};
  canary.max_error_rate = 0.05;
  auto result = Roll(canary, [&](int64_t) {
    Send("blue", "{}", 20);
    Send("green", "{}", 8);
    Send("green", "bad", 2);  // 20 % errors, the old deployment none
    return true;
  });
  ASSERT_EQ(result.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(result.status().message().find("canary green at 25%: error rate 20.0% above "
                                           "max_error_rate 5.0% (10 answers"),
            std::string::npos)
      << result.status().message();
  EXPECT_EQ(std::get<1>(State()["blue"]), 100);
  EXPECT_EQ(std::get<1>(State()["green"]), 0);

  // Cancelled during a window: rolled back too.
  auto cancelled = Roll(canary, [&](int64_t) { return false; });
  EXPECT_EQ(cancelled.status().code(), StatusCode::kUnavailable);
  EXPECT_EQ(std::get<1>(State()["blue"]), 100);
}

}  // namespace
}  // namespace cairn::endpoints
