#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <ctime>

#include "cli/output.h"
#include "cli/views.h"

namespace cairn::cli {
namespace {

using ::testing::HasSubstr;

class UtcEnvironment : public ::testing::Environment {
 public:
  void SetUp() override {
    setenv("TZ", "UTC", 1);
    tzset();
  }
};
const auto* const kUtc = ::testing::AddGlobalTestEnvironment(new UtcEnvironment);

TEST(OutputTest, MeasuresAndTruncatesUtf8ByColumns) {
  EXPECT_EQ(DisplayWidth("abc"), 3u);
  EXPECT_EQ(DisplayWidth("précis"), 6u);
  EXPECT_EQ(Truncate("abcdef", 10), "abcdef");
  EXPECT_EQ(Truncate("abcdef", 4), "abc…");
  EXPECT_EQ(DisplayWidth(Truncate("abcdef", 4)), 4u);
  EXPECT_EQ(Truncate("ééééé", 3), "éé…");  // never splits a multi-byte character
  EXPECT_EQ(Truncate("abc", 0), "");
  EXPECT_EQ(OneLine("a\nb\tc"), "a b c");
}

TEST(OutputTest, FormatsTimestampsInLocalTime) {
  EXPECT_EQ(FormatTimestamp(1700000000123), "2023-11-14 22:13:20");
  EXPECT_EQ(FormatTimestamp(0), "-");
}

TEST(OutputTest, FormatsDurations) {
  EXPECT_EQ(FormatDuration(std::nullopt), "-");
  EXPECT_EQ(FormatDuration(-5), "-");
  EXPECT_EQ(FormatDuration(850), "850ms");
  EXPECT_EQ(FormatDuration(12345), "12.3s");
  EXPECT_EQ(FormatDuration(245'000), "4m 05s");
  EXPECT_EQ(FormatDuration(2 * 3600'000 + 3 * 60'000), "2h 03m");
  EXPECT_EQ(FormatDuration(3 * 86400'000LL + 4 * 3600'000), "3d 04h");
}

TEST(OutputTest, FormatsNumbers) {
  EXPECT_EQ(FormatDouble(0.873333333), "0.873333");
  EXPECT_EQ(FormatDouble(42), "42");
  EXPECT_EQ(FormatDouble(std::nan("")), "NaN");
  EXPECT_EQ(FormatDouble(-INFINITY), "-Infinity");
  EXPECT_EQ(FormatBytes(512), "512 B");
  EXPECT_EQ(FormatBytes(1536), "1.5 KiB");
  EXPECT_EQ(FormatBytes(5LL << 30), "5.0 GiB");
}

TEST(TableTest, SizesColumnsToContent) {
  Table t({"ID", "NAME"});
  t.AddRow({"1", "churn"});
  t.AddRow({"10", "a"});
  EXPECT_EQ(t.Render(),
            "ID  NAME\n"
            "1   churn\n"
            "10  a\n");
}

TEST(TableTest, RightAlignsAndTruncatesAndNeverLeavesTrailingSpaces) {
  Table t({"KEY", "VALUE", "NOTE"});
  t.SetRightAligned(1);
  t.SetMaxWidth(2, 5);
  t.AddRow({"auc", "0.9", "a very long note"});
  t.AddRow({"loss", "12.25", ""});
  EXPECT_EQ(t.Render(),
            "KEY   VALUE  NOTE\n"
            "auc     0.9  a ve…\n"
            "loss  12.25\n");
}

TEST(TableTest, KeepsEachRowOnOneLineAndPadsMissingCells) {
  Table t({"A", "B"});
  t.AddRow({"x\ny"});
  EXPECT_EQ(t.rows(), 1u);
  EXPECT_EQ(t.Render(), "A    B\nx y\n");
}

TEST(OutputTest, AlignsKeyValues) {
  EXPECT_EQ(RenderKeyValues({{"ID", "1"}, {"Name", "churn"}, {"Empty", ""}}),
            "ID:     1\n"
            "Name:   churn\n"
            "Empty:\n");
}

TEST(OutputTest, RendersJsonWithoutThrowingOnBadUtf8) {
  EXPECT_EQ(RenderJson({{"a", 1}}), "{\n  \"a\": 1\n}\n");
  EXPECT_NO_THROW(RenderJson(nlohmann::json(std::string("\xff"))));
}

client::Run MakeRun(std::string id, std::string name, std::vector<client::Param> params,
                    std::vector<client::Metric> metrics) {
  client::Run r;
  r.info.run_id = std::move(id);
  r.info.run_name = std::move(name);
  r.info.experiment_id = "1";
  r.info.status = client::RunStatus::kFinished;
  r.info.start_time = 1700000000000;
  r.info.end_time = 1700000065000;
  r.params = std::move(params);
  r.metrics = std::move(metrics);
  return r;
}

TEST(ViewsTest, CompareMarksRowsThatDiffer) {
  std::vector<client::Run> runs = {
      MakeRun("aaaaaaaa1111", "fox", {{"depth", "6"}, {"eta", "0.1"}},
              {{"auc", 0.91, 1, 0}, {"loss", std::nan(""), 1, 0}}),
      MakeRun("bbbbbbbb2222", "owl", {{"depth", "6"}, {"eta", "0.3"}},
              {{"auc", 0.93, 1, 0}, {"loss", std::nan(""), 1, 0}}),
  };
  std::string out = CompareTable(runs);
  EXPECT_EQ(out,
            "   KEY           aaaaaaaa  bbbbbbbb\n"
            "   name               fox       owl\n"
            "   status        FINISHED  FINISHED\n"
            "   duration        1m 05s    1m 05s\n"
            "   params.depth         6         6\n"
            "*  params.eta         0.1       0.3\n"
            "*  metrics.auc       0.91      0.93\n"
            "   metrics.loss       NaN       NaN\n");
}

TEST(ViewsTest, CompareMarksKeysMissingFromSomeRuns) {
  std::vector<client::Run> runs = {MakeRun("a", "x", {{"depth", "6"}}, {}),
                                   MakeRun("b", "y", {}, {{"auc", 1, 0, 0}})};
  std::string out = CompareTable(runs);
  EXPECT_THAT(out, HasSubstr("*  params.depth         6         -\n"));
  EXPECT_THAT(out, HasSubstr("*  metrics.auc          -         1\n"));
}

TEST(ViewsTest, RunsTableNamesExperimentsAndAddsNamedColumns) {
  std::vector<client::Run> runs = {MakeRun("r1", "fox", {{"depth", "6"}}, {{"auc", 0.5, 1, 0}})};
  RunsTableOptions options;
  options.metric_columns = {"auc"};
  options.param_columns = {"depth"};
  std::string out = RunsTable(runs, {{"1", "churn"}}, options);
  EXPECT_EQ(out,
            "RUN ID  NAME  EXPERIMENT  STATUS    STARTED              DURATION  metrics.auc  "
            "params.depth\n"
            "r1      fox   churn       FINISHED  2023-11-14 22:13:20    1m 05s          0.5  6\n");
}

TEST(ViewsTest, ArtifactsTableShowsFoldersAndSizes) {
  std::string out = ArtifactsTable({{"model", true, std::nullopt}, {"a.txt", false, 2048}});
  EXPECT_EQ(out,
            "PATH       SIZE\n"
            "model/        -\n"
            "a.txt   2.0 KiB\n");
}

TEST(ViewsTest, ExperimentDetailsListsTags) {
  client::Experiment e;
  e.experiment_id = "3";
  e.name = "churn";
  e.tags = {{"team", "ml"}};
  std::string out = ExperimentDetails(e);
  EXPECT_THAT(out, HasSubstr("Name:               churn\n"));
  EXPECT_THAT(out, HasSubstr("TAG   VALUE\nteam  ml\n"));
}

TEST(ViewsTest, FindsKeysNamedInFiltersAndOrderBy) {
  NamedKeys keys = KeysNamedIn({"metrics.auc DESC",
                                "metrics.auc > 0.9 and params.depth = '6' and "
                                "metrics.`f1 score` < 1 and tags.x = 'metrics.no' and "
                                "param.eta != '0.1' and attributes.status = 'FINISHED'"});
  EXPECT_EQ(keys.metrics, (std::vector<std::string>{"auc", "f1 score"}));
  EXPECT_EQ(keys.params, (std::vector<std::string>{"depth", "eta"}));
}

}  // namespace
}  // namespace cairn::cli
