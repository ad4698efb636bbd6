#include "wire/mlflow_registry.h"

#include <gtest/gtest.h>

namespace cairn::wire {
namespace {

store::ModelVersion SampleVersion() {
  store::ModelVersion v;
  v.name = "churn";
  v.version = 3;
  v.creation_timestamp = 1700000000000;
  v.last_updated_timestamp = 1700000001000;
  v.current_stage = store::ModelStage::kProduction;
  v.description = "best so far";
  v.source = "runs:/abc/model";
  v.storage_location = "mlflow-artifacts:/0/abc/artifacts/model";
  v.run_id = "abc";
  v.artifact_path = "model";
  v.run_link = "http://ui/runs/abc";
  v.tags = {{"k", "v"}};
  v.aliases = {"champion"};
  return v;
}

TEST(MlflowRegistryJsonTest, ModelVersionAsMlflowAnswersIt) {
  Json j = ToJson(SampleVersion());
  EXPECT_EQ(j["version"], "3");  // a string, as in MLflow's proto
  EXPECT_EQ(j["current_stage"], "Production");
  EXPECT_EQ(j["status"], "READY");
  EXPECT_EQ(j["source"], "runs:/abc/model");
  EXPECT_EQ(j["run_id"], "abc");
  EXPECT_EQ(j["aliases"], Json::array({"champion"}));
  EXPECT_EQ(j["tags"], Json::parse(R"([{"key":"k","value":"v"}])"));
  EXPECT_FALSE(j.contains("storage_location"));  // not an MLflow field
  EXPECT_FALSE(j.contains("status_message"));    // empty optional strings are left out

  store::ModelVersion bare;
  bare.name = "m";
  bare.version = 1;
  bare.source = "s3://b/m";
  Json b = ToJson(bare);
  for (const char* absent : {"description", "run_id", "run_link", "tags", "aliases"}) {
    EXPECT_FALSE(b.contains(absent)) << absent;
  }
  EXPECT_EQ(b["current_stage"], "None");
}

TEST(MlflowRegistryJsonTest, RoundTrips) {
  store::ModelVersion v = SampleVersion();
  auto back = ModelVersionFromJson(ToJson(v));
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(back->name, v.name);
  EXPECT_EQ(back->version, 3);
  EXPECT_EQ(back->current_stage, store::ModelStage::kProduction);
  EXPECT_EQ(back->description, v.description);
  EXPECT_EQ(back->run_link, v.run_link);
  EXPECT_EQ(back->tags, v.tags);
  EXPECT_EQ(back->aliases, v.aliases);
  EXPECT_EQ(back->creation_timestamp, v.creation_timestamp);

  store::RegisteredModel m;
  m.name = "churn";
  m.creation_timestamp = 1;
  m.last_updated_timestamp = 2;
  m.description = "d";
  m.latest_versions = {v};
  m.tags = {{"team", "ml"}};
  m.aliases = {{"champion", 3}};
  Json j = ToJson(m);
  EXPECT_EQ(j["aliases"], Json::parse(R"([{"alias":"champion","version":"3"}])"));
  auto m2 = RegisteredModelFromJson(j);
  ASSERT_TRUE(m2.ok()) << m2.status().ToString();
  EXPECT_EQ(m2->aliases, m.aliases);
  ASSERT_EQ(m2->latest_versions.size(), 1u);
  EXPECT_EQ(m2->latest_versions[0].version, 3);
  EXPECT_EQ(m2->tags, m.tags);
}

TEST(MlflowRegistryJsonTest, WrongTypesNameTheField) {
  auto bad_version = ModelVersionFromJson(Json::parse(R"({"name":"m","version":"x"})"));
  ASSERT_FALSE(bad_version.ok());
  EXPECT_NE(bad_version.status().message().find("'version'"), std::string::npos);
  auto bad_stage = ModelVersionFromJson(Json::parse(R"({"name":"m","current_stage":"Live"})"));
  ASSERT_FALSE(bad_stage.ok());
  EXPECT_NE(bad_stage.status().message().find("current_stage"), std::string::npos);
  auto bad_tags = RegisteredModelFromJson(Json::parse(R"({"name":"m","tags":{}})"));
  ASSERT_FALSE(bad_tags.ok());
  EXPECT_NE(bad_tags.status().message().find("'tags'"), std::string::npos);
  // Versions given as numbers (some clients) are read too.
  auto numeric = ModelVersionFromJson(Json::parse(R"({"name":"m","version":7})"));
  ASSERT_TRUE(numeric.ok());
  EXPECT_EQ(numeric->version, 7);
}

}  // namespace
}  // namespace cairn::wire
