#include "ml/xgboost_booster.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <limits>
#include <optional>
#include <string>
#include <vector>

#include "data/csv_reader.h"
#include "ml/metrics.h"
#include "ml/split.h"

namespace cairn::ml {
namespace {

constexpr float kNaN = std::numeric_limits<float>::quiet_NaN();

TEST(ParseEvalLine, ReadsEverySetAndMetric) {
  auto entries = ParseEvalLine("[12]\ttrain-auc:0.912\tvalid-auc:0.84\tvalid-logloss:0.41");
  ASSERT_TRUE(entries.ok()) << entries.status().ToString();
  ASSERT_EQ(entries->size(), 3u);
  EXPECT_EQ((*entries)[0].set, "train");
  EXPECT_EQ((*entries)[0].metric, "auc");
  EXPECT_DOUBLE_EQ((*entries)[0].value, 0.912);
  EXPECT_EQ((*entries)[2].set, "valid");
  EXPECT_EQ((*entries)[2].metric, "logloss");
  EXPECT_DOUBLE_EQ((*entries)[2].value, 0.41);
  EXPECT_FALSE(ParseEvalLine("train-auc:0.9").ok());
  EXPECT_FALSE(ParseEvalLine("[0]\ttrain-auc:x").ok());
  EXPECT_FALSE(ParseEvalLine("[0]\ttrainauc0.9").ok());
}

TEST(MetricIsMaximized, KnowsWhichWayIsBetter) {
  EXPECT_TRUE(MetricIsMaximized("auc"));
  EXPECT_TRUE(MetricIsMaximized("aucpr"));
  EXPECT_TRUE(MetricIsMaximized("ndcg@5"));
  EXPECT_FALSE(MetricIsMaximized("logloss"));
  EXPECT_FALSE(MetricIsMaximized("rmse"));
  EXPECT_FALSE(MetricIsMaximized("mlogloss"));
}

TEST(XgboostMatrix, RejectsMismatchedShapes) {
  const std::vector<float> values = {1, 2, 3, 4, 5, 6};
  EXPECT_EQ(XgboostMatrix::Create(values, 4, 2).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(XgboostMatrix::Create(values, 3, 2, std::vector<float>{1, 0}).status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_TRUE(XgboostMatrix::Create(values, 3, 2, std::vector<float>{1, 0, 1}).ok());
}

TEST(XgboostBooster, ReportsXgboostErrorsAsStatuses) {
  const std::vector<float> values = {1, 2, 3, 4};
  auto m = XgboostMatrix::Create(values, 2, 2, std::vector<float>{0, 1});
  ASSERT_TRUE(m.ok());
  BoosterOptions options;
  options.params["objective"] = "no:such-objective";
  options.num_rounds = 2;
  auto booster = XgboostBooster::Train(*m, nullptr, options);
  ASSERT_FALSE(booster.ok());
  EXPECT_NE(booster.status().message().find("xgboost"), std::string::npos);
  EXPECT_FALSE(XgboostBooster::LoadRaw("not a model").ok());
  options.params.clear();
  options.early_stopping_rounds = 5;
  EXPECT_EQ(XgboostBooster::Train(*m, nullptr, options).status().code(),
            StatusCode::kInvalidArgument);
}

TEST(XgboostBooster, MulticlassAndRegressionShapes) {
  // y = class of x0 (0, 1, 2 by thirds); a regression target of 2·x0 - x1.
  std::vector<float> values, classes, target;
  for (int i = 0; i < 300; ++i) {
    const float x0 = static_cast<float>(i % 30) / 30.0f;
    const float x1 = static_cast<float>((i * 7) % 11) / 11.0f;
    values.push_back(x0);
    values.push_back(i % 13 == 0 ? kNaN : x1);  // some missing values
    classes.push_back(std::floor(x0 * 3));
    target.push_back(2 * x0 - x1);
  }
  auto mc = XgboostMatrix::Create(values, 300, 2, classes);
  ASSERT_TRUE(mc.ok());
  BoosterOptions options;
  options.params = {{"objective", "multi:softprob"}, {"num_class", "3"}, {"seed", "1"}};
  options.num_rounds = 20;
  auto multi = XgboostBooster::Train(*mc, nullptr, options);
  ASSERT_TRUE(multi.ok()) << multi.status().ToString();
  auto probs = multi->Predict(*mc);
  ASSERT_TRUE(probs.ok());
  ASSERT_EQ(probs->size(), 900u);
  EXPECT_NEAR((*probs)[0] + (*probs)[1] + (*probs)[2], 1.0, 1e-5);
  auto mm = ComputeMulticlassMetrics(classes, *probs, 3);
  ASSERT_TRUE(mm.ok());
  EXPECT_GT(mm->accuracy, 0.95);
  auto shap = multi->ShapContributions(*mc);
  ASSERT_TRUE(shap.ok()) << shap.status().ToString();
  EXPECT_EQ(shap->groups, 3);
  EXPECT_EQ(shap->features, 2);
  EXPECT_EQ(shap->values.size(), 300u * 3 * 3);
  const auto importance = MeanAbsoluteShap(*shap);
  ASSERT_EQ(importance.size(), 2u);
  EXPECT_GT(importance[0], importance[1]);  // the class depends on x0 only

  auto rm = XgboostMatrix::Create(values, 300, 2, target);
  ASSERT_TRUE(rm.ok());
  options.params = {{"objective", "reg:squarederror"}, {"seed", "1"}};
  options.num_rounds = 100;
  auto reg = XgboostBooster::Train(*rm, nullptr, options);
  ASSERT_TRUE(reg.ok()) << reg.status().ToString();
  auto preds = reg->Predict(*rm);
  ASSERT_TRUE(preds.ok());
  ASSERT_EQ(preds->size(), 300u);
  auto rmetrics = ComputeRegressionMetrics(target, *preds);
  ASSERT_TRUE(rmetrics.ok());
  EXPECT_GT(rmetrics->r2, 0.9);
}

// The telco churn data as a dense matrix: every column but the target, strings as their
// dictionary codes (missing → NaN), target "Yes" → 1.
struct ChurnData {
  int64_t rows = 0;
  int64_t cols = 0;
  std::vector<float> values;
  std::vector<float> labels;
  std::vector<std::string> names;

  // The rows `which`, as a matrix with labels.
  Result<XgboostMatrix> Matrix(const std::vector<int64_t>& which) const {
    std::vector<float> v, y;
    for (int64_t r : which) {
      const auto begin = values.begin() + r * cols;
      v.insert(v.end(), begin, begin + cols);
      y.push_back(labels[static_cast<size_t>(r)]);
    }
    return XgboostMatrix::Create(v, static_cast<int64_t>(which.size()), cols, y);
  }
  std::vector<float> Labels(const std::vector<int64_t>& which) const {
    std::vector<float> y;
    for (int64_t r : which) y.push_back(labels[static_cast<size_t>(r)]);
    return y;
  }
};

const ChurnData& Churn() {
  static const ChurnData data = [] {
    ChurnData d;
    auto table = data::LoadCsvFile(CAIRN_SOURCE_DIR "/../shared/data/telco_churn.csv");
    if (!table.ok()) {
      ADD_FAILURE() << table.status().ToString();
      return d;
    }
    const data::CsvColumn* target = table->Find("churn");
    if (target == nullptr) target = table->Find("Churn");
    if (target == nullptr || target->type != data::ColumnType::kString) {
      ADD_FAILURE() << "no Yes/No churn column";
      return d;
    }
    int32_t yes = -1;
    for (size_t i = 0; i < target->dictionary.size(); ++i) {
      if (target->dictionary[i] == "Yes") yes = static_cast<int32_t>(i);
    }
    std::vector<const data::CsvColumn*> features;
    for (const auto& c : table->columns) {
      if (&c == target || c.name == "customer_id" || c.name == "customerID") continue;
      features.push_back(&c);
      d.names.push_back(c.name);
    }
    d.rows = table->rows;
    d.cols = static_cast<int64_t>(features.size());
    d.values.reserve(static_cast<size_t>(d.rows * d.cols));
    for (int64_t r = 0; r < d.rows; ++r) {
      const auto row = static_cast<size_t>(r);
      for (const auto* c : features) {
        if (c->type == data::ColumnType::kString) {
          d.values.push_back(c->codes[row] < 0 ? kNaN : static_cast<float>(c->codes[row]));
        } else {
          d.values.push_back(static_cast<float>(c->numbers[row]));
        }
      }
      d.labels.push_back(target->codes[row] == yes ? 1.0f : 0.0f);
    }
    return d;
  }();
  return data;
}

BoosterOptions ChurnOptions() {
  BoosterOptions options;
  options.params = {{"objective", "binary:logistic"},
                    {"eval_metric", "auc"},
                    {"max_depth", "4"},
                    {"eta", "0.05"},
                    {"subsample", "0.8"},
                    {"colsample_bytree", "0.8"},
                    {"min_child_weight", "1"},
                    {"tree_method", "hist"},
                    {"seed", "42"}};
  options.num_rounds = 1000;
  options.early_stopping_rounds = 50;
  return options;
}

class ChurnTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const ChurnData& d = Churn();
    ASSERT_GT(d.rows, 7000);
    std::vector<int32_t> classes(d.labels.begin(), d.labels.end());
    auto split = StratifiedSplit(classes, 0.2, 42);
    ASSERT_TRUE(split.ok()) << split.status().ToString();
    split_ = *split;
    auto train = d.Matrix(split_.train);
    auto valid = d.Matrix(split_.valid);
    ASSERT_TRUE(train.ok() && valid.ok());
    train_.emplace(std::move(*train));
    valid_.emplace(std::move(*valid));
  }

  Split split_;
  std::optional<XgboostMatrix> train_;
  std::optional<XgboostMatrix> valid_;
};

TEST_F(ChurnTest, EarlyStoppingReachesTheHeldOutAucAndKeepsTheBestRounds) {
  BoosterOptions options = ChurnOptions();
  std::vector<double> valid_history;
  options.on_iteration = [&](int round, double train_metric, double valid_metric) {
    EXPECT_EQ(round, static_cast<int>(valid_history.size()));
    EXPECT_GT(train_metric, 0.5);
    valid_history.push_back(valid_metric);
  };
  TrainSummary summary;
  const auto start = std::chrono::steady_clock::now();
  auto booster = XgboostBooster::Train(*train_, &*valid_, options, &summary);
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  ASSERT_TRUE(booster.ok()) << booster.status().ToString();
  std::printf(
      "telco churn: xgboost %s, %d rounds run, best round %d, valid auc %.4f (train "
      "%.4f), %.2f s\n",
      XgboostVersion().c_str(), summary.rounds_run, summary.best_round, summary.best_valid_metric,
      summary.best_train_metric, seconds);

  EXPECT_EQ(summary.metric, "auc");
  EXPECT_TRUE(summary.maximize);
  EXPECT_EQ(static_cast<int>(valid_history.size()), summary.rounds_run);
  EXPECT_LT(summary.rounds_run, 1000);  // stopped early
  EXPECT_EQ(summary.rounds_run - 1 - summary.best_round, 50);
  EXPECT_EQ(*booster->NumRounds(), summary.best_round + 1);  // sliced to the best rounds

  // Our own AUC of the kept model agrees with XGBoost's best validation AUC.
  auto probs = booster->Predict(*valid_);
  ASSERT_TRUE(probs.ok()) << probs.status().ToString();
  const auto labels = Churn().Labels(split_.valid);
  auto metrics = ComputeBinaryMetrics(labels, *probs);
  ASSERT_TRUE(metrics.ok()) << metrics.status().ToString();
  std::printf(
      "telco churn: auc %.4f log loss %.4f accuracy %.4f precision %.4f recall %.4f f1 "
      "%.4f\n",
      metrics->auc, metrics->log_loss, metrics->accuracy, metrics->precision, metrics->recall,
      metrics->f1);
  EXPECT_NEAR(metrics->auc, summary.best_valid_metric, 1e-4);
  EXPECT_GE(metrics->auc, 0.84);
}

TEST_F(ChurnTest, SameDataParamsAndSeedGiveIdenticalBytes) {
  BoosterOptions options = ChurnOptions();
  options.num_rounds = 150;
  auto a = XgboostBooster::Train(*train_, &*valid_, options);
  auto b = XgboostBooster::Train(*train_, &*valid_, options);
  ASSERT_TRUE(a.ok() && b.ok());
  auto bytes_a = a->SaveRaw("ubj");
  auto bytes_b = b->SaveRaw("ubj");
  ASSERT_TRUE(bytes_a.ok() && bytes_b.ok());
  EXPECT_GT(bytes_a->size(), 1000u);
  EXPECT_TRUE(*bytes_a == *bytes_b) << "ubj bytes differ between identical trainings";

  options.params["seed"] = "43";  // and the seed matters (subsample, colsample)
  auto c = XgboostBooster::Train(*train_, &*valid_, options);
  ASSERT_TRUE(c.ok());
  EXPECT_NE(*c->SaveRaw("ubj"), *bytes_a);
}

TEST_F(ChurnTest, ShapContributionsSumToTheMargin) {
  BoosterOptions options = ChurnOptions();
  options.num_rounds = 100;
  options.early_stopping_rounds = 0;
  auto booster = XgboostBooster::Train(*train_, &*valid_, options);
  ASSERT_TRUE(booster.ok()) << booster.status().ToString();
  auto shap = booster->ShapContributions(*valid_);
  ASSERT_TRUE(shap.ok()) << shap.status().ToString();
  auto margin = booster->Predict(*valid_, /*output_margin=*/true);
  ASSERT_TRUE(margin.ok());
  EXPECT_EQ(shap->groups, 1);
  EXPECT_EQ(shap->features, valid_->cols());
  ASSERT_EQ(static_cast<int64_t>(margin->size()), shap->rows);
  for (int64_t r = 0; r < shap->rows; ++r) {
    double sum = 0;
    for (int64_t f = 0; f <= shap->features; ++f) sum += shap->at(r, 0, f);  // + the bias
    ASSERT_NEAR(sum, (*margin)[static_cast<size_t>(r)], 1e-4) << "row " << r;
  }
  const auto importance = MeanAbsoluteShap(*shap);
  ASSERT_EQ(static_cast<int64_t>(importance.size()), valid_->cols());
  double total = 0;
  for (double v : importance) {
    EXPECT_GE(v, 0.0);
    total += v;
  }
  EXPECT_GT(total, 0.0);
  // Contract and tenure drive churn in this data; one of them leads.
  const auto& names = Churn().names;
  const size_t top = static_cast<size_t>(std::max_element(importance.begin(), importance.end()) -
                                         importance.begin());
  std::printf("telco churn: top SHAP feature %s (%.4f)\n", names[top].c_str(), importance[top]);
  EXPECT_TRUE(names[top] == "contract" || names[top] == "tenure") << names[top];
}

TEST_F(ChurnTest, PredictionsSurviveSaveAndLoadInBothFormats) {
  BoosterOptions options = ChurnOptions();
  options.num_rounds = 60;
  options.early_stopping_rounds = 0;
  auto booster = XgboostBooster::Train(*train_, &*valid_, options);
  ASSERT_TRUE(booster.ok()) << booster.status().ToString();
  auto expected = booster->Predict(*valid_);
  ASSERT_TRUE(expected.ok());
  for (const char* format : {"ubj", "json"}) {
    auto bytes = booster->SaveRaw(format);
    ASSERT_TRUE(bytes.ok()) << bytes.status().ToString();
    auto loaded = XgboostBooster::LoadRaw(*bytes);
    ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();
    auto got = loaded->Predict(*valid_);
    ASSERT_TRUE(got.ok());
    EXPECT_EQ(*got, *expected) << format;
    EXPECT_EQ(*loaded->SaveRaw(format), *bytes) << format;
  }
  EXPECT_EQ(booster->SaveRaw("xml").status().code(), StatusCode::kInvalidArgument);
}

TEST_F(ChurnTest, InPlacePredictionFeatureNamesAndAttributesSurviveSaving) {
  BoosterOptions options = ChurnOptions();
  options.num_rounds = 30;
  options.early_stopping_rounds = 0;
  options.params["eval_metric"] = "logloss,auc";  // several metrics, in order, every round
  int rounds = 0;
  options.on_evaluation = [&](int round, std::span<const EvalEntry> entries) {
    EXPECT_EQ(round, rounds++);
    ASSERT_EQ(entries.size(), 4u);
    EXPECT_EQ(entries[0].set + "-" + entries[0].metric, "train-logloss");
    EXPECT_EQ(entries[3].set + "-" + entries[3].metric, "valid-auc");
  };
  TrainSummary summary;
  auto booster = XgboostBooster::Train(*train_, &*valid_, options, &summary);
  ASSERT_TRUE(booster.ok()) << booster.status().ToString();
  EXPECT_EQ(rounds, 30);
  EXPECT_EQ(summary.metric, "auc");  // the last metric decides

  // In-place prediction from the dense buffer equals prediction through a DMatrix.
  const ChurnData& d = Churn();
  std::vector<float> values;
  for (int64_t r : split_.valid) {
    values.insert(values.end(), d.values.begin() + r * d.cols, d.values.begin() + (r + 1) * d.cols);
  }
  const auto rows = static_cast<int64_t>(split_.valid.size());
  auto dense = booster->PredictDense(values, rows, d.cols);
  auto through_matrix = booster->Predict(*valid_);
  ASSERT_TRUE(dense.ok() && through_matrix.ok()) << dense.status().ToString();
  EXPECT_EQ(*dense, *through_matrix);
  auto margins = booster->PredictDense(values, rows, d.cols, /*output_margin=*/true);
  ASSERT_TRUE(margins.ok());
  EXPECT_NEAR(1 / (1 + std::exp(-(*margins)[0])), (*dense)[0], 1e-6);
  EXPECT_EQ(booster->PredictDense(values, rows + 1, d.cols).status().code(),
            StatusCode::kInvalidArgument);

  EXPECT_TRUE(booster->FeatureNames()->empty());
  ASSERT_TRUE(booster->SetFeatureInfo(d.names, std::vector<std::string>(d.names.size(), "q")).ok());
  ASSERT_TRUE(booster->SetAttribute("scikit_learn", R"({"n_classes_": 2})").ok());
  EXPECT_FALSE(booster->SetFeatureInfo(d.names, std::vector<std::string>{"q"}).ok());
  auto loaded = XgboostBooster::LoadRaw(*booster->SaveRaw("ubj"));
  ASSERT_TRUE(loaded.ok());
  EXPECT_EQ(*loaded->FeatureNames(), d.names);
  EXPECT_EQ(*loaded->NumFeatures(), d.cols);
  auto config = loaded->SaveConfig();
  ASSERT_TRUE(config.ok());
  EXPECT_NE(config->find("binary:logistic"), std::string::npos);
  EXPECT_NE(loaded->SaveRaw("json")->find("scikit_learn"), std::string::npos);
}

TEST(XgboostBooster, LinearBoostersPredictDenseThroughAMatrix) {
  std::vector<float> values, target;
  for (int i = 0; i < 200; ++i) {
    values.push_back(static_cast<float>(i % 10));
    values.push_back(static_cast<float>(i % 7));
    target.push_back(static_cast<float>(2 * (i % 10) - (i % 7)));
  }
  auto m = XgboostMatrix::Create(values, 200, 2, target);
  ASSERT_TRUE(m.ok());
  BoosterOptions options;
  options.params = {{"booster", "gblinear"}, {"objective", "reg:squarederror"}};
  options.num_rounds = 5;
  auto booster = XgboostBooster::Train(*m, nullptr, options);
  ASSERT_TRUE(booster.ok()) << booster.status().ToString();
  auto dense = booster->PredictDense(values, 200, 2);  // XGBoost 1.7: no in-place gblinear
  ASSERT_TRUE(dense.ok()) << dense.status().ToString();
  EXPECT_EQ(*dense, *booster->Predict(*m));
}

TEST(ValidateXgboostParams, NamesTheParameterXgboostRejectsOrIgnores) {
  EXPECT_TRUE(ValidateXgboostParams({{"objective", "multi:softprob"},
                                     {"num_class", "3"},
                                     {"eta", "0.1"},
                                     {"learning_rate", "0.1"},
                                     {"eval_metric", "mlogloss,merror"},
                                     {"max_bin", "64"},
                                     {"tree_method", "hist"},
                                     {"verbosity", "0"}},
                                    4)
                  .ok());
  // verbosity=0 above must not silence the check now (XGBoost's verbosity is per thread).
  auto unknown = ValidateXgboostParams({{"max_dept", "3"}, {"colsample_by_tree", "1"}}, 4);
  EXPECT_EQ(unknown.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(unknown.message().find("unknown XGBoost parameters colsample_by_tree, max_dept"),
            std::string::npos)
      << unknown.message();
  auto malformed = ValidateXgboostParams({{"max_depth", "deep"}}, 4);
  EXPECT_EQ(malformed.message(),
            "invalid XGBoost parameter max_depth=deep: Invalid Parameter format for max_depth "
            "expect int but value='deep'");
  // XGBoost's message does not name the parameter; ours does, without its stack trace.
  auto metric = ValidateXgboostParams({{"eta", "0.1"}, {"eval_metric", "bogus"}}, 4);
  EXPECT_EQ(metric.message(),
            "invalid XGBoost parameter eval_metric=bogus: Unknown metric function bogus");
  EXPECT_FALSE(ValidateXgboostParams({}, 0).ok());
  EXPECT_FALSE(ValidateXgboostParams({{"verbosity", "loud"}}, 4).ok());
  EXPECT_FALSE(ValidateXgboostParams({{"verbosity", "0"}, {"max_dept", "3"}}, 4).ok());
}

}  // namespace
}  // namespace cairn::ml
