#include "ml/metrics.h"

#include <gtest/gtest.h>

#include <cmath>
#include <vector>

namespace cairn::ml {
namespace {

// Expected values were cross-checked with scikit-learn 1.2.1 (roc_auc_score, log_loss,
// accuracy_score, precision_score, recall_score, f1_score, mean_squared_error,
// mean_absolute_error, r2_score) on the same inputs.

TEST(BinaryAuc, TiesGetTheAverageRank) {
  // Positives 0.35, 0.8, 0.5, 0.9 against negatives 0.1, 0.4, 0.5, 0.2: 13.5 of 16 pairs won,
  // the 0.5–0.5 tie counting a half.
  const std::vector<float> labels = {0, 0, 1, 1, 0, 1, 1, 0};
  const std::vector<float> scores = {0.1f, 0.4f, 0.35f, 0.8f, 0.5f, 0.5f, 0.9f, 0.2f};
  auto auc = BinaryAuc(labels, scores);
  ASSERT_TRUE(auc.ok()) << auc.status().ToString();
  EXPECT_DOUBLE_EQ(*auc, 0.84375);
}

TEST(BinaryAuc, PerfectReversedAndAllTied) {
  const std::vector<float> labels = {0, 1, 0, 1};
  EXPECT_DOUBLE_EQ(*BinaryAuc(labels, std::vector<float>{0.1f, 0.9f, 0.2f, 0.8f}), 1.0);
  EXPECT_DOUBLE_EQ(*BinaryAuc(labels, std::vector<float>{0.9f, 0.1f, 0.8f, 0.2f}), 0.0);
  EXPECT_DOUBLE_EQ(*BinaryAuc(labels, std::vector<float>{0.5f, 0.5f, 0.5f, 0.5f}), 0.5);
}

TEST(BinaryAuc, RejectsOneClassMismatchedSizesAndBadLabels) {
  EXPECT_EQ(BinaryAuc(std::vector<float>{1, 1}, std::vector<float>{0.2f, 0.3f}).status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(BinaryAuc(std::vector<float>{0, 1}, std::vector<float>{0.2f}).status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(BinaryAuc(std::vector<float>{0, 2}, std::vector<float>{0.2f, 0.3f}).status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(BinaryAuc({}, {}).status().code(), StatusCode::kInvalidArgument);
}

TEST(BinaryMetrics, MatchScikitLearn) {
  const std::vector<float> labels = {0, 0, 1, 1, 0, 1, 1, 0};
  const std::vector<float> probs = {0.1f, 0.4f, 0.35f, 0.8f, 0.5f, 0.5f, 0.9f, 0.2f};
  auto m = ComputeBinaryMetrics(labels, probs);
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  EXPECT_DOUBLE_EQ(m->auc, 0.84375);
  EXPECT_NEAR(m->log_loss, 0.4504937859079256, 1e-7);
  // 0.5 is not > 0.5: predicted positive are rows 3 and 6 only.
  EXPECT_DOUBLE_EQ(m->accuracy, 0.75);
  EXPECT_DOUBLE_EQ(m->precision, 1.0);
  EXPECT_DOUBLE_EQ(m->recall, 0.5);
  EXPECT_NEAR(m->f1, 2.0 / 3.0, 1e-12);
}

TEST(BinaryMetrics, LogLossIsClippedAndNothingPredictedPositiveGivesZeroPrecision) {
  const std::vector<float> labels = {1, 0};
  const std::vector<float> probs = {0.0f, 0.0f};  // a certain, wrong prediction on row 0
  auto m = ComputeBinaryMetrics(labels, probs);
  ASSERT_TRUE(m.ok());
  EXPECT_NEAR(m->log_loss, -std::log(kProbabilityEpsilon) / 2, 1e-9);  // finite, not inf
  EXPECT_EQ(m->precision, 0.0);
  EXPECT_EQ(m->recall, 0.0);
  EXPECT_EQ(m->f1, 0.0);
  EXPECT_DOUBLE_EQ(m->accuracy, 0.5);
}

TEST(MulticlassMetrics, MatchScikitLearn) {
  const std::vector<float> labels = {0, 1, 2, 2, 1, 0, 2};
  const std::vector<float> probs = {.7f, .2f, .1f, .1f, .6f, .3f, .2f, .2f, .6f, .5f, .3f,
                                    .2f, .3f, .3f, .4f, .8f, .1f, .1f, .1f, .1f, .8f};
  auto m = ComputeMulticlassMetrics(labels, probs, 3);
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  // Predicted 0 1 2 0 2 0 2: five of seven right. Per-class F1: 0.8, 2/3, 2/3.
  EXPECT_DOUBLE_EQ(m->accuracy, 5.0 / 7.0);
  EXPECT_NEAR(m->log_loss, 0.66257485686953521, 1e-7);
  EXPECT_NEAR(m->macro_f1, 0.71111111111111114, 1e-12);
}

TEST(MulticlassMetrics, RejectsLabelsOutOfRangeAndShapeMismatch) {
  const std::vector<float> probs = {.5f, .5f, .5f, .5f};
  EXPECT_EQ(ComputeMulticlassMetrics(std::vector<float>{0, 2}, probs, 2).status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(ComputeMulticlassMetrics(std::vector<float>{0, 1}, probs, 3).status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(ComputeMulticlassMetrics(std::vector<float>{0, 1}, probs, 1).status().code(),
            StatusCode::kInvalidArgument);
}

TEST(RegressionMetrics, MatchScikitLearn) {
  const std::vector<float> labels = {3, -0.5f, 2, 7, 4.2f};
  const std::vector<float> preds = {2.5f, 0.0f, 2, 8, 3.9f};
  auto m = ComputeRegressionMetrics(labels, preds);
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  EXPECT_NEAR(m->rmse, 0.56391485675387287, 1e-7);
  EXPECT_NEAR(m->mae, 0.45999994277954104, 1e-7);
  EXPECT_NEAR(m->r2, 0.94802563253939098, 1e-7);
}

TEST(RegressionMetrics, PerfectPredictionAndConstantTarget) {
  const std::vector<float> labels = {1, 2, 3};
  auto m = ComputeRegressionMetrics(labels, labels);
  ASSERT_TRUE(m.ok());
  EXPECT_EQ(m->rmse, 0.0);
  EXPECT_EQ(m->mae, 0.0);
  EXPECT_EQ(m->r2, 1.0);
  EXPECT_EQ(
      ComputeRegressionMetrics(std::vector<float>{2, 2}, std::vector<float>{1, 3}).status().code(),
      StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace cairn::ml
