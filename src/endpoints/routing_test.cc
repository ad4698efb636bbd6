#include "endpoints/routing.h"

#include <gtest/gtest.h>

#include <map>

namespace cairn::endpoints {
namespace {

using store::EndpointTraffic;

const std::vector<std::string> kDeployments = {"blue", "green", "red"};

Status Check(std::vector<store::TrafficShare> live, std::vector<store::TrafficShare> mirror = {}) {
  return ValidateTraffic("churn", EndpointTraffic{std::move(live), std::move(mirror)},
                         kDeployments);
}

TEST(ValidateTrafficTest, WeightsSumTo100OrZero) {
  EXPECT_TRUE(Check({{"blue", 90}, {"green", 10}}).ok());
  EXPECT_TRUE(Check({{"blue", 100}}).ok());
  EXPECT_TRUE(Check({}).ok());
  EXPECT_TRUE(Check({{"blue", 0}}).ok());
  Status s = Check({{"blue", 90}, {"green", 5}});
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("sum to 95"), std::string::npos) << s.message();
  EXPECT_EQ(Check({{"blue", 90}, {"green", 20}}).code(), StatusCode::kInvalidArgument);
  s = Check({{"blue", 120}});
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("'blue' = 120"), std::string::npos) << s.message();
  EXPECT_EQ(Check({{"blue", -10}, {"green", 110}}).code(), StatusCode::kInvalidArgument);
  s = Check({{"blue", 50}, {"blue", 50}});
  EXPECT_NE(s.message().find("named twice"), std::string::npos) << s.message();
}

TEST(ValidateTrafficTest, UnknownDeploymentsAreNotFound) {
  Status s = Check({{"purple", 100}});
  EXPECT_EQ(s.code(), StatusCode::kNotFound);
  EXPECT_NE(s.message().find("deployment 'purple' of endpoint 'churn'"), std::string::npos);
  EXPECT_EQ(Check({{"blue", 100}}, {{"purple", 10}}).code(), StatusCode::kNotFound);
}

TEST(ValidateTrafficTest, MirrorsTakeAtMostHalfAndNeverLiveTraffic) {
  EXPECT_TRUE(Check({{"blue", 100}}, {{"green", 50}}).ok());
  EXPECT_TRUE(Check({{"blue", 100}}, {{"green", 20}, {"red", 10}}).ok());
  Status s = Check({{"blue", 100}}, {{"green", 60}});
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("at most 50"), std::string::npos) << s.message();
  s = Check({{"blue", 90}, {"green", 10}}, {{"green", 20}});
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("one or the other"), std::string::npos) << s.message();
  // A zero share on either side is no conflict.
  EXPECT_TRUE(Check({{"blue", 100}, {"green", 0}}, {{"green", 20}}).ok());
  EXPECT_TRUE(Check({{"blue", 100}}, {{"blue", 0}}).ok());
}

TEST(WeightedTargetsTest, PicksEachTargetForExactlyItsPoints) {
  auto t = WeightedTargets::FromPercents({90, 0, 10});
  std::map<size_t, int> hits;
  for (uint64_t p = 0; p < 100; ++p) hits[*t.Pick(p)]++;
  EXPECT_EQ(hits, (std::map<size_t, int>{{0, 90}, {2, 10}}));
  EXPECT_EQ(*t.Pick(89), 0u);
  EXPECT_EQ(*t.Pick(90), 2u);
  EXPECT_EQ(*t.Pick(1295), 2u);  // any draw works: taken modulo 100
  EXPECT_EQ(*t.Pick(1234), 0u);
  EXPECT_FALSE(WeightedTargets::FromPercents({}).Pick(5).has_value());
  EXPECT_FALSE(WeightedTargets::FromPercents({0, 0}).Pick(5).has_value());
}

TEST(RouteKeyTest, StableAndSpreadLikeTheWeights) {
  // The same key always gives the same point — in every process (fixed values).
  EXPECT_EQ(RouteKeyHash("customer-42"), RouteKeyHash("customer-42"));
  EXPECT_NE(RouteKeyHash("customer-42"), RouteKeyHash("customer-43"));
  EXPECT_EQ(RouteKeyHash("customer-42"), 0xe02a92178bccfd76ull);
  EXPECT_EQ(RouteKeyPoint("customer-42"), 54u);
  EXPECT_EQ(RouteKeyMirrorPoint("customer-42"), 95u);
  auto t = WeightedTargets::FromPercents({70, 20, 10});
  std::map<size_t, int> hits;
  constexpr int kKeys = 20000;
  for (int i = 0; i < kKeys; ++i) hits[*t.Pick(RouteKeyPoint("user-" + std::to_string(i)))]++;
  EXPECT_NEAR(hits[0], kKeys * 0.70, kKeys * 0.02);
  EXPECT_NEAR(hits[1], kKeys * 0.20, kKeys * 0.02);
  EXPECT_NEAR(hits[2], kKeys * 0.10, kKeys * 0.02);
  // The mirror draw is independent of the live one.
  int both = 0;
  for (int i = 0; i < kKeys; ++i) {
    const std::string key = "user-" + std::to_string(i);
    both += RouteKeyPoint(key) < 50 && RouteKeyMirrorPoint(key) < 50;
  }
  EXPECT_NEAR(both, kKeys * 0.25, kKeys * 0.02);
}

}  // namespace
}  // namespace cairn::endpoints
