#include "data/profile_diff.h"

#include <gtest/gtest.h>

#include <cmath>
#include <string>

#include <nlohmann/json.hpp>

namespace cairn::data {
namespace {

DatasetProfile Profile(const std::string& csv) {
  Result<DatasetProfile> profile = ProfileCsv(csv);
  EXPECT_TRUE(profile.ok()) << profile.status().ToString();
  return profile.ok() ? std::move(profile).value() : DatasetProfile{};
}

const ColumnDiff* Column(const ProfileDiff& diff, const std::string& name) {
  for (const auto& c : diff.columns) {
    if (c.name == name) return &c;
  }
  return nullptr;
}

const StatChange* Stat(const ColumnDiff& c, const std::string& statistic,
                       const std::string& value = "") {
  for (const auto& s : c.stats) {
    if (s.statistic == statistic && s.value == value) return &s;
  }
  return nullptr;
}

// n rows of (x = i % 100 + shift, color = red|blue by `red_every`).
std::string Csv(int n, double shift, int red_every) {
  std::string csv = "x,color,id\n";
  for (int i = 0; i < n; ++i) {
    csv += std::to_string(i % 100 + shift) + "," + (i % red_every == 0 ? "red" : "blue") + "," +
           std::to_string(i) + "\n";
  }
  return csv;
}

TEST(ProfileDiffTest, IdenticalProfilesChangeNothing) {
  DatasetProfile p = Profile(Csv(1000, 0, 2));
  ProfileDiff diff = DiffProfiles(p, p);
  EXPECT_FALSE(diff.schema_changed());
  EXPECT_EQ(diff.rows_from, 1000);
  EXPECT_EQ(diff.rows_to, 1000);
  ASSERT_EQ(diff.columns.size(), 3u);
  for (const auto& c : diff.columns) {
    EXPECT_FALSE(c.changed()) << c.name;
    EXPECT_FALSE(c.flagged()) << c.name;
    ASSERT_NE(Stat(c, "psi"), nullptr) << c.name;
    EXPECT_EQ(Stat(c, "psi")->to, 0.0) << c.name;
  }
}

TEST(ProfileDiffTest, SchemaChangesAreListedByName) {
  DatasetProfile a = Profile("a,b,c\n1,x,2\n2,y,3\n");
  DatasetProfile b = Profile("a,c,d\n1,x,1.5\n2,y,2.5\n");
  ProfileDiff diff = DiffProfiles(a, b);
  ASSERT_TRUE(diff.schema_changed());
  ASSERT_EQ(diff.removed.size(), 1u);
  EXPECT_EQ(diff.removed[0].name, "b");
  ASSERT_EQ(diff.added.size(), 1u);
  EXPECT_EQ(diff.added[0].name, "d");
  EXPECT_EQ(diff.added[0].type, ColumnType::kFloat);
  ASSERT_EQ(diff.type_changed.size(), 1u);
  EXPECT_EQ(diff.type_changed[0].name, "c");
  EXPECT_EQ(diff.type_changed[0].from, ColumnType::kInteger);
  EXPECT_EQ(diff.type_changed[0].to, ColumnType::kString);
  // Columns on both sides are compared; the type-changed one counts as changed.
  ASSERT_EQ(diff.columns.size(), 2u);
  EXPECT_FALSE(Column(diff, "a")->changed());
  EXPECT_TRUE(Column(diff, "c")->changed());
  // No numeric statistics between an integer and a string column.
  EXPECT_EQ(Stat(*Column(diff, "c"), "mean"), nullptr);
}

TEST(ProfileDiffTest, ShiftedNumericColumnIsFlagged) {
  DatasetProfile a = Profile(Csv(2000, 0, 2));
  DatasetProfile b = Profile(Csv(2000, 30, 2));  // x moved by ~1 stddev (29)
  ProfileDiff diff = DiffProfiles(a, b);
  const ColumnDiff* x = Column(diff, "x");
  ASSERT_NE(x, nullptr);
  EXPECT_TRUE(x->flagged());
  EXPECT_TRUE(Stat(*x, "mean")->flagged);
  EXPECT_NEAR(Stat(*x, "mean")->to - Stat(*x, "mean")->from, 30, 1e-9);
  EXPECT_FALSE(Stat(*x, "stddev")->flagged);
  EXPECT_GE(Stat(*x, "psi")->to, 0.2);
  EXPECT_TRUE(Stat(*x, "psi")->flagged);
  EXPECT_NEAR(Stat(*x, "p50")->to - Stat(*x, "p50")->from, 30, 1e-9);
  // The other columns did not move.
  EXPECT_FALSE(Column(diff, "color")->changed());
  EXPECT_FALSE(Column(diff, "id")->flagged());
}

TEST(ProfileDiffTest, CategoricalShareChangeIsFlagged) {
  DatasetProfile a = Profile(Csv(1000, 0, 2));   // half red
  DatasetProfile b = Profile(Csv(1000, 0, 4));   // a quarter red
  ProfileDiff diff = DiffProfiles(a, b);
  const ColumnDiff* color = Column(diff, "color");
  ASSERT_NE(color, nullptr);
  const StatChange* red = Stat(*color, "top_share", "red");
  ASSERT_NE(red, nullptr);
  EXPECT_DOUBLE_EQ(red->from, 0.5);
  EXPECT_DOUBLE_EQ(red->to, 0.25);
  EXPECT_TRUE(red->flagged);
  EXPECT_TRUE(Stat(*color, "psi")->flagged);  // PSI = 0.25·ln2 + 0.25·ln(1.5)·… ≈ 0.27
  EXPECT_FALSE(Column(diff, "x")->changed());
}

TEST(ProfileDiffTest, SmallAppendChangesButDoesNotFlag) {
  DatasetProfile a = Profile(Csv(2000, 0, 2));
  DatasetProfile b = Profile(Csv(2020, 0, 2));  // 1 % more rows, same distribution
  ProfileDiff diff = DiffProfiles(a, b);
  EXPECT_FALSE(diff.schema_changed());
  EXPECT_EQ(diff.rows_to - diff.rows_from, 20);
  EXPECT_TRUE(Column(diff, "id")->changed());  // max and distinct grew
  for (const auto& c : diff.columns) EXPECT_FALSE(c.flagged()) << c.name;
}

TEST(ProfileDiffTest, MissingRateShiftIsFlagged) {
  std::string a = "v\n", b = "v\n";
  for (int i = 0; i < 100; ++i) {
    a += std::to_string(i) + "\n";
    b += (i % 10 == 0 ? std::string("") : std::to_string(i)) + "\n";
  }
  ProfileDiff diff = DiffProfiles(Profile(a), Profile(b));
  const StatChange* missing = Stat(*Column(diff, "v"), "missing_rate");
  ASSERT_NE(missing, nullptr);
  EXPECT_DOUBLE_EQ(missing->from, 0.0);
  EXPECT_DOUBLE_EQ(missing->to, 0.1);
  EXPECT_TRUE(missing->flagged);
}

TEST(ProfileDiffTest, JsonNamesEverything) {
  DatasetProfile a = Profile("a,b\n1,x\n");
  DatasetProfile b = Profile("a,c\n,y\n");
  nlohmann::json j = ToJson(DiffProfiles(a, b));
  EXPECT_EQ(j["rows"]["from"], 1);
  EXPECT_EQ(j["schema"]["added"][0]["name"], "c");
  EXPECT_EQ(j["schema"]["removed"][0]["type"], "string");
  ASSERT_EQ(j["columns"].size(), 1u);
  EXPECT_EQ(j["columns"][0]["name"], "a");
  EXPECT_EQ(j["columns"][0]["stats"][0]["statistic"], "missing_rate");
  EXPECT_EQ(j["columns"][0]["stats"][0]["to"], 1.0);
  // The mean of a column without values is NaN: null in JSON, and the dump does not throw.
  bool saw_null = false;
  for (const auto& s : j["columns"][0]["stats"]) saw_null |= s["to"].is_null();
  EXPECT_TRUE(saw_null);
  EXPECT_NO_THROW(j.dump());
}

TEST(ProfileDiffTest, JsonRoundTrips) {
  ProfileDiff diff = DiffProfiles(Profile(Csv(300, 0, 2)), Profile("x,color,z\n1,red,2\n"));
  nlohmann::json j = ToJson(diff);
  Result<ProfileDiff> back = ProfileDiffFromJson(j);
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(ToJson(*back), j);
  EXPECT_EQ(back->removed.size(), 1u);
  EXPECT_EQ(back->added.size(), 1u);
  EXPECT_EQ(back->columns.size(), diff.columns.size());
  j["columns"][0]["stats"][0].erase("flagged");
  EXPECT_EQ(ProfileDiffFromJson(j).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(ProfileDiffFromJson(nlohmann::json::array()).status().code(),
            StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace cairn::data
