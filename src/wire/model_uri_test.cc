#include "wire/model_uri.h"

#include <gtest/gtest.h>

namespace cairn::wire {
namespace {

TEST(ModelUriTest, VersionAliasStageAndLatest) {
  auto v = ParseModelUri("models:/churn/3");
  ASSERT_TRUE(v.ok()) << v.status().ToString();
  EXPECT_EQ(v->name, "churn");
  EXPECT_EQ(v->version, 3);
  EXPECT_TRUE(v->alias.empty());
  EXPECT_EQ(FormatModelUri(*v), "models:/churn/3");

  auto a = ParseModelUri("models:/churn@champion");
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(a->name, "churn");
  EXPECT_EQ(a->alias, "champion");
  EXPECT_FALSE(a->version);
  EXPECT_EQ(FormatModelUri(*a), "models:/churn@champion");

  auto at_in_name = ParseModelUri("models:/a@b@c");  // rsplit: the last '@' starts the alias
  ASSERT_TRUE(at_in_name.ok());
  EXPECT_EQ(at_in_name->name, "a@b");
  EXPECT_EQ(at_in_name->alias, "c");

  auto latest = ParseModelUri("models:/churn/LATEST");
  ASSERT_TRUE(latest.ok());
  EXPECT_TRUE(latest->latest);
  EXPECT_EQ(FormatModelUri(*latest), "models:/churn/latest");

  auto stage = ParseModelUri("models:/churn/Production");
  ASSERT_TRUE(stage.ok());
  EXPECT_EQ(stage->stage, "Production");
  EXPECT_FALSE(stage->latest);
  EXPECT_FALSE(stage->version);
}

TEST(ModelUriTest, MalformedUrisAreRejectedWithMlflowsMessage) {
  for (const char* bad :
       {"models:/", "models:", "models:/churn", "models:/churn/", "models:/churn/1/2",
        "models://churn/1", "models:/@alias", "models:/churn@", "models:/ /1", "runs:/x/y",
        "churn", "models:/churn/99999999999999999999999", "models:/churn/1?x=y"}) {
    auto parsed = ParseModelUri(bad);
    EXPECT_FALSE(parsed.ok()) << bad;
    EXPECT_EQ(parsed.status().code(), StatusCode::kInvalidArgument) << bad;
    EXPECT_NE(parsed.status().message().find("Not a proper models:/ URI"), std::string::npos);
  }
  EXPECT_TRUE(IsModelUri("models:/x/1"));
  EXPECT_FALSE(IsModelUri("churn"));
}

TEST(ModelUriTest, RunsUris) {
  auto r = ParseRunsUri("runs:/0123abcd/model");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->run_id, "0123abcd");
  EXPECT_EQ(r->artifact_path, "model");
  auto nested = ParseRunsUri("runs:/abc//models/xgb/");
  ASSERT_TRUE(nested.ok());
  EXPECT_EQ(nested->artifact_path, "models/xgb");
  auto root = ParseRunsUri("runs:/abc");
  ASSERT_TRUE(root.ok());
  EXPECT_EQ(root->run_id, "abc");
  EXPECT_EQ(root->artifact_path, "");
  for (const char* bad : {"runs:/", "runs://abc/model", "runs:", "models:/a/1", "runs:/abc/m?x"}) {
    EXPECT_EQ(ParseRunsUri(bad).status().code(), StatusCode::kInvalidArgument) << bad;
  }
  EXPECT_TRUE(IsRunsUri("runs:/a/b"));
}

}  // namespace
}  // namespace cairn::wire
