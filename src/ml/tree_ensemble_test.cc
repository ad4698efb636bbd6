#include "ml/tree_ensemble.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <nlohmann/json.hpp>
#include <random>
#include <string>

#include "ml/scorer.h"
#include "ml/trainer.h"
#include "ml/xgboost_booster.h"

namespace cairn::ml {
namespace {

using ::testing::HasSubstr;
using Json = nlohmann::json;

const std::string kData = CAIRN_SOURCE_DIR "/../shared/data/";
constexpr float kNaN = std::numeric_limits<float>::quiet_NaN();

// |a - b| within 1e-6, relative for values beyond 1 (house prices).
void ExpectClose(std::span<const float> got, std::span<const float> want, const std::string& what) {
  ASSERT_EQ(got.size(), want.size()) << what;
  size_t bad = 0;
  for (size_t i = 0; i < got.size(); ++i) {
    const double tolerance = 1e-6 * std::max(1.0, std::abs(static_cast<double>(want[i])));
    if (!(std::abs(static_cast<double>(got[i]) - want[i]) <= tolerance)) {
      if (++bad <= 5) ADD_FAILURE() << what << ": value " << i << " is " << got[i] << ", XGBoost "
                                    << want[i];
    }
  }
  EXPECT_EQ(bad, 0u) << what;
}

// ---------------------------------------------------------------------------------------------
// Every shared dataset, trained by Cairn's trainer: the native evaluator (PredictMatrix) and
// XGBoost (PredictMatrixWithXgboost) agree on every row of the file and on random rows with
// missing values.

struct DatasetCase {
  const char* file;
  const char* target;
  Task task;
};

class EveryDataset : public ::testing::TestWithParam<DatasetCase> {};

TEST_P(EveryDataset, NativeAgreesWithXgboost) {
  const DatasetCase& c = GetParam();
  auto table = data::LoadCsvFile(kData + c.file);
  ASSERT_TRUE(table.ok()) << table.status().ToString();
  TrainOptions options;
  options.target = c.target;
  options.num_boost_round = 100;
  options.early_stopping_rounds = 0;
  options.params = {{"max_depth", "6"}};
  options.shap_rows = 0;
  auto trained = Train(*table, options);
  ASSERT_TRUE(trained.ok()) << trained.status().ToString();
  ASSERT_EQ(trained->preprocessing.target.task, c.task);
  auto model = LoadedModel::FromParts(trained->preprocessing, trained->booster);
  ASSERT_TRUE(model.ok()) << model.status().ToString();
  ASSERT_TRUE(model->native()) << model->native_status();

  auto matrix = model->preprocessing().Transform(*table);
  ASSERT_TRUE(matrix.ok()) << matrix.status().ToString();
  auto native = model->PredictMatrix(*matrix);
  auto reference = model->PredictMatrixWithXgboost(*matrix);
  ASSERT_TRUE(native.ok() && reference.ok());
  EXPECT_EQ(native->width, reference->width);
  ExpectClose(native->values, reference->values, std::string(c.file) + " rows");

  // Random rows: each value drawn from the column's own values in the file or missing (30 %).
  std::mt19937_64 rng(7);
  FeatureMatrix random;
  random.rows = 2000;
  random.cols = matrix->cols;
  random.values.resize(static_cast<size_t>(random.rows * random.cols));
  for (int64_t r = 0; r < random.rows; ++r) {
    for (int64_t j = 0; j < random.cols; ++j) {
      const int64_t source = static_cast<int64_t>(rng() % static_cast<uint64_t>(matrix->rows));
      random.values[static_cast<size_t>(r * random.cols + j)] =
          rng() % 10 < 3 ? kNaN : matrix->values[static_cast<size_t>(source * matrix->cols + j)];
    }
  }
  native = model->PredictMatrix(random);
  reference = model->PredictMatrixWithXgboost(random);
  ASSERT_TRUE(native.ok() && reference.ok());
  ExpectClose(native->values, reference->values, std::string(c.file) + " random rows");

  // Single rows (the serving case) give the same values as the batch.
  for (int64_t r = 0; r < 20; ++r) {
    FeatureMatrix one{1, random.cols,
                      {random.values.begin() + r * random.cols,
                       random.values.begin() + (r + 1) * random.cols}};
    auto single = model->PredictMatrix(one);
    ASSERT_TRUE(single.ok());
    for (int64_t k = 0; k < native->width; ++k) {
      EXPECT_EQ(single->values[static_cast<size_t>(k)],
                native->values[static_cast<size_t>(r * native->width + k)]);
    }
  }
}

INSTANTIATE_TEST_SUITE_P(
    SharedData, EveryDataset,
    ::testing::Values(DatasetCase{"telco_churn.csv", "churn", Task::kBinary},
                      DatasetCase{"lending_club.csv", "Class", Task::kBinary},
                      DatasetCase{"credit_data.csv", "Status", Task::kBinary},
                      DatasetCase{"penguins.csv", "species", Task::kMulticlass},
                      DatasetCase{"ames_housing.csv", "Sale_Price", Task::kRegression}),
    [](const auto& test) {
      std::string name = test.param.file;
      name = name.substr(0, name.find('.'));
      return name;
    });

// ---------------------------------------------------------------------------------------------
// Objectives and booster shapes, straight from XGBoost's C API: margins and outputs agree.

struct Synthetic {
  std::vector<float> x;
  std::vector<float> y;
  int64_t rows = 600;
  int64_t cols = 5;
};

Synthetic MakeData(int classes, bool positive) {
  Synthetic s;
  std::mt19937_64 rng(3);
  std::uniform_real_distribution<float> u(-2, 2);
  for (int64_t r = 0; r < s.rows; ++r) {
    float score = 0;
    for (int64_t j = 0; j < s.cols; ++j) {
      const float v = rng() % 8 == 0 ? kNaN : u(rng);
      s.x.push_back(v);
      if (!std::isnan(v)) score += v * static_cast<float>(j + 1);
    }
    if (classes == 2) {
      s.y.push_back(score > 0 ? 1.0f : 0.0f);
    } else if (classes > 2) {
      s.y.push_back(static_cast<float>(static_cast<int>(std::abs(score)) % classes));
    } else {
      s.y.push_back(positive ? std::exp(score / 8) : score);
    }
  }
  return s;
}

struct ObjectiveCase {
  std::map<std::string, std::string> params;
  int classes;  // 0: regression
  bool positive_target;
};

class Objectives : public ::testing::TestWithParam<ObjectiveCase> {};

TEST_P(Objectives, MarginsAndOutputsMatchXgboost) {
  const ObjectiveCase& c = GetParam();
  const Synthetic s = MakeData(c.classes, c.positive_target);
  auto m = XgboostMatrix::Create(s.x, s.rows, s.cols, s.y);
  ASSERT_TRUE(m.ok());
  BoosterOptions options;
  options.params = c.params;
  options.params["max_depth"] = "5";
  options.params["seed"] = "1";
  options.num_rounds = 20;
  auto booster = XgboostBooster::Train(*m, nullptr, options);
  ASSERT_TRUE(booster.ok()) << booster.status().ToString();
  auto json = booster->SaveRaw("json");
  ASSERT_TRUE(json.ok());
  auto ensemble = TreeEnsemble::FromXgboostJson(*json);
  ASSERT_TRUE(ensemble.ok()) << ensemble.status().ToString();
  EXPECT_EQ(ensemble->objective(), c.params.at("objective"));
  const FeatureMatrix probe = ensemble->ProbeRows(500, 11);
  for (const auto* rows : {&s.x, &probe.values}) {
    const int64_t n = static_cast<int64_t>(rows->size()) / s.cols;
    for (bool margin : {true, false}) {
      auto want = booster->PredictDense(*rows, n, s.cols, margin);
      ASSERT_TRUE(want.ok());
      ExpectClose(ensemble->Predict(*rows, n, margin), *want,
                  c.params.at("objective") + (margin ? " margins" : " outputs"));
    }
  }
}

INSTANTIATE_TEST_SUITE_P(
    Xgboost, Objectives,
    ::testing::Values(
        ObjectiveCase{{{"objective", "binary:logistic"}}, 2, false},
        ObjectiveCase{{{"objective", "binary:logistic"}, {"base_score", "0.3"}}, 2, false},
        ObjectiveCase{{{"objective", "binary:logitraw"}}, 2, false},
        ObjectiveCase{{{"objective", "reg:logistic"}}, 2, false},
        ObjectiveCase{{{"objective", "multi:softprob"}, {"num_class", "4"}}, 4, false},
        ObjectiveCase{{{"objective", "multi:softmax"}, {"num_class", "3"}}, 3, false},
        ObjectiveCase{{{"objective", "reg:squarederror"}, {"tree_method", "exact"}}, 0, false},
        ObjectiveCase{{{"objective", "reg:absoluteerror"}}, 0, false},
        ObjectiveCase{{{"objective", "reg:pseudohubererror"}}, 0, false},
        ObjectiveCase{{{"objective", "count:poisson"}}, 0, true},
        ObjectiveCase{{{"objective", "reg:gamma"}}, 0, true},
        ObjectiveCase{{{"objective", "reg:tweedie"}}, 0, true},
        // A random forest: several trees per round.
        ObjectiveCase{{{"objective", "binary:logistic"},
                       {"num_parallel_tree", "4"},
                       {"subsample", "0.8"},
                       {"colsample_bynode", "0.8"}},
                      2,
                      false},
        ObjectiveCase{{{"objective", "reg:squarederror"}, {"tree_method", "approx"}}, 0, false}),
    [](const auto& test) { return "case" + std::to_string(test.index); });

TEST(TreeEnsemble, ThreadsGiveTheSameValues) {
  const Synthetic s = MakeData(3, false);
  auto m = XgboostMatrix::Create(s.x, s.rows, s.cols, s.y);
  ASSERT_TRUE(m.ok());
  BoosterOptions options;
  options.params = {{"objective", "multi:softprob"}, {"num_class", "3"}};
  options.num_rounds = 10;
  auto booster = XgboostBooster::Train(*m, nullptr, options);
  ASSERT_TRUE(booster.ok());
  auto ensemble = TreeEnsemble::FromXgboostJson(*booster->SaveRaw("json"));
  ASSERT_TRUE(ensemble.ok());
  const FeatureMatrix rows = ensemble->ProbeRows(10000, 5);
  EXPECT_EQ(ensemble->Predict(rows.values, rows.rows, false, 1),
            ensemble->Predict(rows.values, rows.rows, false, 3));
  auto want = booster->PredictDense(rows.values, rows.rows, rows.cols, false);
  ASSERT_TRUE(want.ok());
  ExpectClose(ensemble->Predict(rows.values, rows.rows, false, 3), *want, "threaded");
}

// ---------------------------------------------------------------------------------------------
// The layout, on a hand-written model: thresholds compare as `value < threshold`, missing
// values take the default branch, the base score becomes a logit.

Json TinyModel() {
  // Tree 0: x0 < 0.5 ? (x1 < 2 ? 0.1 : 0.2) : 0.3, missing x0 → right, missing x1 → left.
  // Tree 1: a single leaf, -0.05. Nodes numbered out of breadth-first order on purpose.
  Json tree0 = {{"left_children", {1, 3, -1, -1, -1}},
                {"right_children", {2, 4, -1, -1, -1}},
                {"split_indices", {0, 1, 0, 0, 0}},
                {"split_conditions", {0.5, 2.0, 0.3, 0.1, 0.2}},
                {"default_left", {0, 1, 0, 0, 0}},
                {"split_type", {0, 0, 0, 0, 0}},
                {"tree_param", {{"num_nodes", "5"}, {"size_leaf_vector", "0"}}}};
  Json tree1 = {{"left_children", {-1}},    {"right_children", {-1}},
                {"split_indices", {0}},     {"split_conditions", {-0.05}},
                {"default_left", {0}},      {"split_type", {0}}};
  return {{"learner",
           {{"gradient_booster",
             {{"name", "gbtree"},
              {"model", {{"trees", {tree0, tree1}}, {"tree_info", {0, 0}}}}}},
            {"learner_model_param",
             {{"base_score", "5E-1"}, {"num_class", "0"}, {"num_feature", "2"},
              {"num_target", "1"}}},
            {"objective", {{"name", "binary:logistic"}}}}}};
}

TEST(TreeEnsemble, FollowsThresholdsAndDefaultDirections) {
  auto e = TreeEnsemble::FromXgboostJson(TinyModel().dump());
  ASSERT_TRUE(e.ok()) << e.status().ToString();
  EXPECT_EQ(e->num_trees(), 2);
  EXPECT_EQ(e->num_features(), 2);
  EXPECT_EQ(e->base_margin(), 0.0f);  // logit(0.5)
  const std::vector<float> rows = {
      0.4f, 1.0f,   // left, left: 0.1
      0.5f, 1.0f,   // 0.5 is not < 0.5: right, 0.3
      0.4f, 2.0f,   // left, right: 0.2
      kNaN, 1.0f,   // missing x0 → right: 0.3
      0.0f, kNaN,   // missing x1 → left: 0.1
  };
  const std::vector<float> margins = e->Predict(rows, 5, /*output_margin=*/true);
  const std::vector<float> want = {0.1f - 0.05f, 0.3f - 0.05f, 0.2f - 0.05f, 0.3f - 0.05f,
                                   0.1f - 0.05f};
  for (size_t i = 0; i < want.size(); ++i) EXPECT_FLOAT_EQ(margins[i], want[i]) << i;
  const std::vector<float> p = e->Predict(rows, 5);
  EXPECT_NEAR(p[0], 1 / (1 + std::exp(-0.05)), 1e-7);
}

TEST(TreeEnsemble, BaseScoreIsAMarginPerObjective) {
  Json model = TinyModel();
  model["learner"]["learner_model_param"]["base_score"] = "0.25";
  auto e = TreeEnsemble::FromXgboostJson(model.dump());
  ASSERT_TRUE(e.ok());
  EXPECT_NEAR(e->base_margin(), std::log(0.25 / 0.75), 1e-6);
  model["learner"]["objective"]["name"] = "count:poisson";
  e = TreeEnsemble::FromXgboostJson(model.dump());
  ASSERT_TRUE(e.ok());
  EXPECT_NEAR(e->base_margin(), std::log(0.25), 1e-6);
  model["learner"]["objective"]["name"] = "reg:squarederror";
  e = TreeEnsemble::FromXgboostJson(model.dump());
  ASSERT_TRUE(e.ok());
  EXPECT_EQ(e->base_margin(), 0.25f);
}

TEST(TreeEnsemble, BoostersItDoesNotEvaluateAreNamed) {
  Json dart = TinyModel();
  dart["learner"]["gradient_booster"]["name"] = "dart";
  auto e = TreeEnsemble::FromXgboostJson(dart.dump());
  EXPECT_EQ(e.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_THAT(e.status().message(), HasSubstr("dart"));

  Json categorical = TinyModel();
  categorical["learner"]["gradient_booster"]["model"]["trees"][0]["split_type"] = {1, 0, 0, 0, 0};
  e = TreeEnsemble::FromXgboostJson(categorical.dump());
  EXPECT_EQ(e.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_THAT(e.status().message(), HasSubstr("categorical"));

  Json objective = TinyModel();
  objective["learner"]["objective"]["name"] = "binary:hinge";
  e = TreeEnsemble::FromXgboostJson(objective.dump());
  EXPECT_EQ(e.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_THAT(e.status().message(), HasSubstr("binary:hinge"));
}

TEST(TreeEnsemble, MalformedTreesAreRejected) {
  auto rejects = [](Json model, const std::string& needle) {
    auto e = TreeEnsemble::FromXgboostJson(model.dump());
    EXPECT_EQ(e.status().code(), StatusCode::kInvalidArgument) << needle;
    EXPECT_THAT(e.status().message(), HasSubstr(needle));
  };
  Json m = TinyModel();
  m["learner"]["gradient_booster"]["model"]["trees"][0]["left_children"][1] = 7;
  rejects(m, "trees[0]: node 1 has an invalid child 7");
  m = TinyModel();
  m["learner"]["gradient_booster"]["model"]["trees"][0]["left_children"][1] = 0;  // a cycle
  rejects(m, "invalid child 0");
  m = TinyModel();
  m["learner"]["gradient_booster"]["model"]["trees"][0]["split_indices"][0] = 9;
  rejects(m, "splits feature 9 of 2");
  m = TinyModel();
  m["learner"]["gradient_booster"]["model"]["trees"][0]["split_conditions"] = {0.5};
  rejects(m, "trees[0].split_conditions must be an array of 5 values");
  m = TinyModel();
  m["learner"]["gradient_booster"]["model"]["tree_info"] = {0, 1};
  rejects(m, "tree_info[1]");
  m = TinyModel();
  m["learner"]["learner_model_param"]["base_score"] = "1.5";
  rejects(m, "base_score must be in (0, 1)");
  rejects(Json::object(), "learner is missing");
  EXPECT_EQ(TreeEnsemble::FromXgboostJson("{not json").status().code(),
            StatusCode::kInvalidArgument);
}

// A gblinear booster is left to XGBoost, and still predicts through LoadedModel.
TEST(LoadedModelNative, LinearBoostersFallBackToXgboost) {
  const Synthetic s = MakeData(0, false);
  auto m = XgboostMatrix::Create(s.x, s.rows, s.cols, s.y);
  ASSERT_TRUE(m.ok());
  BoosterOptions options;
  options.params = {{"objective", "reg:squarederror"}, {"booster", "gblinear"}};
  options.num_rounds = 5;
  auto booster = XgboostBooster::Train(*m, nullptr, options);
  ASSERT_TRUE(booster.ok());
  Preprocessing pre;
  pre.target.task = Task::kRegression;
  for (int j = 0; j < s.cols; ++j) {
    Feature f;
    f.name = "x" + std::to_string(j);
    pre.features.push_back(f);
  }
  auto model = LoadedModel::FromParts(pre, *booster->SaveRaw("ubj"));
  ASSERT_TRUE(model.ok()) << model.status().ToString();
  EXPECT_FALSE(model->native());
  EXPECT_THAT(model->native_status(), HasSubstr("gblinear"));
  FeatureMatrix x{s.rows, s.cols, s.x};
  auto p = model->PredictMatrix(x);
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  auto want = booster->Predict(*m);
  ASSERT_TRUE(want.ok()) << want.status().ToString();
  ExpectClose(p->values, *want, "gblinear");
}

}  // namespace
}  // namespace cairn::ml
