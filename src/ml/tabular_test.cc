#include "ml/tabular.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <nlohmann/json.hpp>
#include <numeric>
#include <string>
#include <vector>

namespace cairn::ml {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

const std::string kData = CAIRN_SOURCE_DIR "/../shared/data/";

const data::CsvTable& Telco() {
  static const data::CsvTable table = [] {
    auto t = data::LoadCsvFile(kData + "telco_churn.csv");
    EXPECT_TRUE(t.ok()) << t.status().ToString();
    return t.ok() ? std::move(*t) : data::CsvTable{};
  }();
  return table;
}

data::CsvTable Load(const std::string& file) {
  auto t = data::LoadCsvFile(kData + file);
  EXPECT_TRUE(t.ok()) << t.status().ToString();
  return t.ok() ? std::move(*t) : data::CsvTable{};
}

data::CsvTable Csv(std::string_view text) {
  auto t = data::LoadCsv(text);
  EXPECT_TRUE(t.ok()) << t.status().ToString();
  return t.ok() ? std::move(*t) : data::CsvTable{};
}

std::vector<int64_t> AllRows(const data::CsvTable& t) {
  std::vector<int64_t> rows(static_cast<size_t>(t.rows));
  std::iota(rows.begin(), rows.end(), 0);
  return rows;
}

Preprocessing Learn(const data::CsvTable& t, const std::string& target,
                    std::span<const int64_t> train_rows) {
  Preprocessing p;
  auto target_info = LearnTarget(t, {target, std::nullopt, std::nullopt});
  EXPECT_TRUE(target_info.ok()) << target_info.status().ToString();
  if (target_info.ok()) p.target = *target_info;
  auto features = LearnFeatures(t, target, {}, train_rows);
  EXPECT_TRUE(features.ok()) << features.status().ToString();
  if (features.ok()) p.features = *features;
  return p;
}

// ---------------------------------------------------------------------------------------------
// Target

TEST(LearnTarget, DetectsTheTaskOfEachDataset) {
  auto churn = LearnTarget(Telco(), {"churn", std::nullopt, std::nullopt});
  ASSERT_TRUE(churn.ok()) << churn.status().ToString();
  EXPECT_EQ(churn->task, Task::kBinary);
  EXPECT_THAT(churn->classes, ElementsAre("No", "Yes"));  // Yes is the positive class

  auto penguins = LearnTarget(Load("penguins.csv"), {"species", std::nullopt, std::nullopt});
  ASSERT_TRUE(penguins.ok()) << penguins.status().ToString();
  EXPECT_EQ(penguins->task, Task::kMulticlass);
  EXPECT_THAT(penguins->classes, ElementsAre("Adelie", "Chinstrap", "Gentoo"));

  auto ames = LearnTarget(Load("ames_housing.csv"), {"Sale_Price", std::nullopt, std::nullopt});
  ASSERT_TRUE(ames.ok()) << ames.status().ToString();
  EXPECT_EQ(ames->task, Task::kRegression);
  EXPECT_TRUE(ames->classes.empty());

  // An integer target with few distinct values is classification; with many, regression.
  auto few = LearnTarget(Telco(), {"senior_citizen", std::nullopt, std::nullopt});
  ASSERT_TRUE(few.ok());
  EXPECT_EQ(few->task, Task::kBinary);
  EXPECT_THAT(few->classes, ElementsAre("0", "1"));
  auto many = LearnTarget(Telco(), {"tenure", std::nullopt, std::nullopt});
  ASSERT_TRUE(many.ok());
  EXPECT_EQ(many->task, Task::kRegression);
  // An explicit task wins over detection.
  auto forced = LearnTarget(Telco(), {"senior_citizen", Task::kRegression, std::nullopt});
  ASSERT_TRUE(forced.ok());
  EXPECT_EQ(forced->task, Task::kRegression);
}

TEST(LearnTarget, BooleanTargetsAndAChosenPositiveClass) {
  const auto t = Csv("x,flag\n1,true\n2,false\n3,TRUE\n4,\n");
  auto target = LearnTarget(t, {"flag", std::nullopt, std::nullopt});
  ASSERT_TRUE(target.ok()) << target.status().ToString();
  EXPECT_EQ(target->task, Task::kBinary);
  EXPECT_THAT(target->classes, ElementsAre("false", "true"));
  auto labels = EncodeLabels(*target, t);
  ASSERT_TRUE(labels.ok());
  EXPECT_EQ((*labels)[0], 1.0f);
  EXPECT_EQ((*labels)[1], 0.0f);
  EXPECT_EQ((*labels)[2], 1.0f);
  EXPECT_TRUE(std::isnan((*labels)[3]));  // a missing target is no label

  auto credit = LearnTarget(Load("credit_data.csv"), {"Status", std::nullopt, "bad"});
  ASSERT_TRUE(credit.ok()) << credit.status().ToString();
  EXPECT_THAT(credit->classes, ElementsAre("good", "bad"));
  auto unknown = LearnTarget(Load("credit_data.csv"), {"Status", std::nullopt, "ugly"});
  EXPECT_EQ(unknown.status().code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(unknown.status().message(), HasSubstr("'ugly'"));
  EXPECT_THAT(unknown.status().message(), HasSubstr("bad, good"));
}

TEST(LearnTarget, RejectsBadTargetsNamingTheCulprit) {
  auto missing = LearnTarget(Telco(), {"Churn", std::nullopt, std::nullopt});
  EXPECT_EQ(missing.status().code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(missing.status().message(), HasSubstr("'Churn'"));
  EXPECT_THAT(missing.status().message(), HasSubstr("churn, female"));  // the real names

  auto text = LearnTarget(Load("penguins.csv"), {"species", Task::kRegression, std::nullopt});
  EXPECT_EQ(text.status().code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(text.status().message(), HasSubstr("'species' must be numeric"));
  EXPECT_THAT(text.status().message(), HasSubstr("row 1 has 'Adelie'"));

  auto constant = LearnTarget(Csv("x,y\n1,a\n2,a\n3,\n"), {"y", std::nullopt, std::nullopt});
  EXPECT_EQ(constant.status().code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(constant.status().message(), HasSubstr("'y' is constant"));
  auto constant_number = LearnTarget(Csv("x,y\n1,2.5\n2,2.5\n"), {"y", std::nullopt, std::nullopt});
  EXPECT_THAT(constant_number.status().message(), HasSubstr("'y' is constant"));

  auto empty = LearnTarget(Csv("x,y\n1,\n2,NA\n"), {"y", std::nullopt, std::nullopt});
  EXPECT_THAT(empty.status().message(), HasSubstr("'y' has no values"));

  auto three = LearnTarget(Load("penguins.csv"), {"species", Task::kBinary, std::nullopt});
  EXPECT_THAT(three.status().message(), HasSubstr("3 classes"));

  auto fractional = LearnTarget(Csv("x,y\n1,0.5\n2,1\n"), {"y", Task::kBinary, std::nullopt});
  EXPECT_THAT(fractional.status().message(), HasSubstr("0.5 (row 1)"));

  auto positive = LearnTarget(Load("penguins.csv"), {"species", std::nullopt, "Adelie"});
  EXPECT_THAT(positive.status().message(), HasSubstr("only applies to binary"));
}

TEST(EncodeLabels, NamesAClassTheModelDoesNotKnow) {
  auto target = LearnTarget(Telco(), {"churn", std::nullopt, std::nullopt});
  ASSERT_TRUE(target.ok());
  auto labels = EncodeLabels(*target, Csv("churn\nYes\nNo\nMaybe\n"));
  EXPECT_EQ(labels.status().code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(labels.status().message(), HasSubstr("row 3 has 'Maybe'"));
  // Integer classes match numbers in any column type: "1" ↔ 1.
  auto senior = LearnTarget(Telco(), {"senior_citizen", std::nullopt, std::nullopt});
  ASSERT_TRUE(senior.ok());
  auto numbers = EncodeLabels(*senior, Csv("senior_citizen\n1\n0\n"));
  ASSERT_TRUE(numbers.ok()) << numbers.status().ToString();
  EXPECT_THAT(*numbers, ElementsAre(1.0f, 0.0f));
}

// ---------------------------------------------------------------------------------------------
// Features

TEST(LearnFeatures, KindsOrderAndCategoriesFromTrainingRowsOnly) {
  const auto& t = Telco();
  const auto rows = AllRows(t);
  const Preprocessing p = Learn(t, "churn", rows);
  ASSERT_EQ(p.features.size(), t.columns.size() - 1);
  EXPECT_EQ(p.features.front().name, "female");  // table order, target left out
  EXPECT_EQ(p.features.back().name, "total_charges");
  const Feature* contract = p.FindFeature("contract");
  ASSERT_NE(contract, nullptr);
  EXPECT_EQ(contract->kind, FeatureKind::kCategorical);
  EXPECT_THAT(contract->categories, ElementsAre("Month-to-month", "One year", "Two year"));
  EXPECT_EQ(p.FindFeature("tenure")->kind, FeatureKind::kNumeric);
  EXPECT_EQ(p.FindFeature("tenure")->type, data::ColumnType::kInteger);
  EXPECT_FALSE(p.FindFeature("tenure")->has_missing);
  EXPECT_TRUE(p.FindFeature("total_charges")->has_missing);

  // A category seen only outside the training rows is unknown to the model: missing.
  const auto small = Csv("y,color\n1,red\n0,blue\n1,green\n0,red\n");
  const std::vector<int64_t> train = {0, 1, 3};
  const Preprocessing q = Learn(small, "y", train);
  EXPECT_THAT(q.features[0].categories, ElementsAre("blue", "red"));
  auto m = q.Transform(small);
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  EXPECT_EQ(m->values[0], 1.0f);          // red
  EXPECT_EQ(m->values[1], 0.0f);          // blue
  EXPECT_TRUE(std::isnan(m->values[2]));  // green: unseen
}

TEST(LearnFeatures, RejectsEmptyColumnsAndBadIgnores) {
  const auto t = Csv("y,a,empty,b\n1,2,,x\n0,3,,y\n1,4,,x\n");
  const std::vector<int64_t> rows = {0, 1, 2};
  auto empty = LearnFeatures(t, "y", {}, rows);
  EXPECT_EQ(empty.status().code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(empty.status().message(), HasSubstr("column 'empty' has no values"));
  const std::vector<std::string> ignore = {"empty"};
  auto ok = LearnFeatures(t, "y", ignore, rows);
  ASSERT_TRUE(ok.ok()) << ok.status().ToString();
  EXPECT_EQ(ok->size(), 2u);

  // A column with values only outside the training rows is empty for the model too.
  const auto late = Csv("y,a,late\n1,2,\n0,3,\n1,4,7\n");
  const std::vector<int64_t> first_two = {0, 1};
  auto none_in_train = LearnFeatures(late, "y", {}, first_two);
  EXPECT_THAT(none_in_train.status().message(), HasSubstr("'late' has no values in the 2"));

  const std::vector<std::string> unknown = {"nope"};
  EXPECT_THAT(LearnFeatures(t, "y", unknown, rows).status().message(), HasSubstr("'nope'"));
  const std::vector<std::string> target = {"y"};
  EXPECT_THAT(LearnFeatures(t, "y", target, rows).status().message(), HasSubstr("target"));
  const std::vector<std::string> everything = {"a", "empty", "b"};
  EXPECT_THAT(LearnFeatures(t, "y", everything, rows).status().message(),
              HasSubstr("no feature columns"));
}

// ---------------------------------------------------------------------------------------------
// Transform

TEST(Transform, EncodesTelcoRowsAsTheContractSays) {
  const auto& t = Telco();
  const Preprocessing p = Learn(t, "churn", AllRows(t));
  auto m = p.Transform(t);
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  ASSERT_EQ(m->rows, t.rows);
  ASSERT_EQ(m->cols, static_cast<int64_t>(p.features.size()));
  // Row 0: "No",1,0,1,0,1,0,"No phone service","DSL",…,"Month-to-month",1,"Electronic check",
  // 29.85,29.85
  auto at = [&](int64_t row, std::string_view name) {
    for (size_t j = 0; j < p.features.size(); ++j) {
      if (p.features[j].name == name) return m->values[static_cast<size_t>(row * m->cols) + j];
    }
    ADD_FAILURE() << name;
    return 0.0f;
  };
  EXPECT_EQ(at(0, "female"), 1.0f);
  EXPECT_EQ(at(0, "tenure"), 1.0f);
  EXPECT_EQ(at(0, "monthly_charges"), 29.85f);
  EXPECT_EQ(at(0, "contract"), 0.0f);  // Month-to-month, first in sorted order
  EXPECT_EQ(at(1, "contract"), 1.0f);  // One year
  const auto& pay = p.FindFeature("payment_method")->categories;
  EXPECT_EQ(
      at(0, "payment_method"),
      static_cast<float>(std::find(pay.begin(), pay.end(), "Electronic check") - pay.begin()));
  int missing = 0;
  for (int64_t r = 0; r < t.rows; ++r) missing += std::isnan(at(r, "total_charges")) ? 1 : 0;
  EXPECT_EQ(missing, 11);  // the data's documented gaps, kept as missing
}

TEST(Transform, MatchesColumnsByNameAndNamesBadValues) {
  const auto train = Csv("y,n,b,c\n1,1.5,true,red\n0,2,false,blue\n1,3,true,red\n");
  const Preprocessing p = Learn(train, "y", AllRows(train));
  ASSERT_EQ(p.features.size(), 3u);
  EXPECT_EQ(p.features[1].kind, FeatureKind::kBoolean);

  // Reordered columns, an extra one, no target, and types the reader infers differently.
  const auto scoring = Csv("c,extra,b,n\nblue,9,1,7\nred,9,0,\n");
  auto m = p.Transform(scoring);
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  EXPECT_THAT(m->values, ElementsAre(7.0f, 1.0f, 0.0f, ::testing::IsNan(), 0.0f, 1.0f));

  auto absent = p.Transform(Csv("n,b\n1,true\n"));
  EXPECT_THAT(absent.status().message(), HasSubstr("no column 'c'"));
  auto text = p.Transform(Csv("n,b,c\n1,true,red\nabc,false,red\n"));
  EXPECT_THAT(text.status().message(), HasSubstr("column 'n': row 2 has 'abc'"));
  auto not_bool = p.Transform(Csv("n,b,c\n1,2,red\n"));
  EXPECT_THAT(not_bool.status().message(), HasSubstr("column 'b': row 1 has '2'"));
  auto bool_for_number = p.Transform(Csv("n,b,c\ntrue,true,red\n"));
  EXPECT_THAT(bool_for_number.status().message(), HasSubstr("column 'n': row 1 has 'true'"));
  // A categorical column read as numbers matches categories by their text.
  const auto codes = Csv("y,code\n1,7\n0,x\n");
  const Preprocessing q = Learn(codes, "y", AllRows(codes));
  auto numeric = q.Transform(Csv("code\n7\n8\n"));
  ASSERT_TRUE(numeric.ok());
  EXPECT_EQ(numeric->values[0], 0.0f);  // "7" sorts before "x"
  EXPECT_TRUE(std::isnan(numeric->values[1]));
}

TEST(Transform, CellsGiveExactlyWhatTheTableGives) {
  const auto t = Load("credit_data.csv");
  const Preprocessing p = Learn(t, "Status", AllRows(t));
  const std::vector<int64_t> rows = {0, 5, 17, 123, 4000};
  auto expected = p.Transform(t, rows);
  ASSERT_TRUE(expected.ok()) << expected.status().ToString();
  std::vector<Cell> cells;
  for (int64_t r : rows) {
    for (const auto& f : p.features) {
      const data::CsvColumn& c = *t.Find(f.name);
      const auto i = static_cast<size_t>(r);
      if (c.type == data::ColumnType::kString) {
        cells.push_back(
            c.codes[i] < 0 ? Cell{}
                           : Cell{std::string_view(c.dictionary[static_cast<size_t>(c.codes[i])])});
      } else {
        cells.push_back(std::isnan(c.numbers[i]) ? Cell{} : Cell{c.numbers[i]});
      }
    }
  }
  auto got = p.TransformCells(cells, static_cast<int64_t>(rows.size()));
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  ASSERT_EQ(got->values.size(), expected->values.size());
  for (size_t i = 0; i < got->values.size(); ++i) {
    const float a = got->values[i], b = expected->values[i];
    EXPECT_TRUE(a == b || (std::isnan(a) && std::isnan(b))) << i;
  }
  // Cell errors name the row and column.
  std::vector<Cell> bad(p.features.size());
  bad[0] = Cell{std::string_view("ten")};  // Seniority is numeric
  auto error = p.TransformCells(bad, 1);
  EXPECT_THAT(error.status().message(), HasSubstr("row 1, column 'Seniority'"));
  EXPECT_THAT(p.TransformCells(bad, 2).status().message(), HasSubstr("values for 2 rows"));
}

// ---------------------------------------------------------------------------------------------
// JSON and the input example

TEST(PreprocessingJson, RoundTripsAndNamesBadFields) {
  const auto t = Load("ames_housing.csv");
  const Preprocessing p = Learn(t, "Sale_Price", AllRows(t));
  const nlohmann::json j = ToJson(p);
  auto back = PreprocessingFromJson(nlohmann::json::parse(j.dump()));
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_TRUE(*back == p);

  // Non-UTF-8 names and categories survive.
  Preprocessing odd = p;
  odd.features[0].name = "caf\xe9";
  odd.features[1].kind = FeatureKind::kCategorical;
  odd.features[1].categories = {"a", "\xff"};
  auto odd_back = PreprocessingFromJson(nlohmann::json::parse(ToJson(odd).dump()));
  ASSERT_TRUE(odd_back.ok()) << odd_back.status().ToString();
  EXPECT_TRUE(*odd_back == odd);

  nlohmann::json bad = j;
  bad["features"][3]["kind"] = "fancy";
  EXPECT_THAT(PreprocessingFromJson(bad).status().message(), HasSubstr("features[3].kind"));
  bad = j;
  bad["features"][2].erase("type");
  EXPECT_THAT(PreprocessingFromJson(bad).status().message(), HasSubstr("features[2].type"));
  bad = j;
  bad["target"]["task"] = "clustering";
  EXPECT_THAT(PreprocessingFromJson(bad).status().message(), HasSubstr("target.task"));
  bad = j;
  bad["features"][1]["categories"] = {"b", "a"};
  bad["features"][1]["kind"] = "categorical";
  EXPECT_THAT(PreprocessingFromJson(bad).status().message(), HasSubstr("sorted"));
  EXPECT_FALSE(PreprocessingFromJson(nlohmann::json::array()).ok());
}

TEST(InputExampleJson, RawValuesInMlflowSplitForm) {
  const auto& t = Telco();
  const Preprocessing p = Learn(t, "churn", AllRows(t));
  const std::vector<int64_t> rows = {0, 1};
  const nlohmann::json j = InputExampleJson(p, t, rows);
  ASSERT_EQ(j["columns"].size(), p.features.size());
  EXPECT_EQ(j["columns"][0], "female");
  ASSERT_EQ(j["data"].size(), 2u);
  EXPECT_EQ(j["data"][0][0], 1);                  // integer
  EXPECT_EQ(j["data"][0][14], "Month-to-month");  // contract, a string
  EXPECT_DOUBLE_EQ(j["data"][0][17].get<double>(), 29.85);
}

}  // namespace
}  // namespace cairn::ml
