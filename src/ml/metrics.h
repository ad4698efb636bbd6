// Evaluation metrics for trained models: binary, multiclass and regression, as the run logs them.
#pragma once

#include <cstdint>
#include <span>

#include "core/result.h"

namespace cairn::ml {

// Conventions shared by every function below:
//  - `labels` and predictions have one entry per row (multiclass probabilities: `classes` per
//    row, row-major); an empty input or mismatched sizes is kInvalidArgument.
//  - Binary labels are 0 or 1; multiclass labels are class indices in [0, classes).
//  - A row is predicted positive when its probability is > 0.5 (XGBoost's own "error" rule).
//  - Probabilities are clipped to [kProbabilityEpsilon, 1 - kProbabilityEpsilon] for log loss.
inline constexpr double kProbabilityEpsilon = 1e-15;

// Area under the ROC curve; tied scores get their average rank (the Mann–Whitney statistic).
// kInvalidArgument when only one class is present (the AUC is undefined).
Result<double> BinaryAuc(std::span<const float> labels, std::span<const float> scores);
// Mean negative log-likelihood of the labels under `probabilities` (of class 1).
Result<double> BinaryLogLoss(std::span<const float> labels, std::span<const float> probabilities);

struct BinaryMetrics {
  double auc = 0;
  double log_loss = 0;
  double accuracy = 0;
  // Of the rows predicted positive, the fraction that are; 0 when none is predicted positive.
  double precision = 0;
  // Of the positive rows, the fraction predicted positive; 0 when there is none.
  double recall = 0;
  // Harmonic mean of precision and recall; 0 when both are 0.
  double f1 = 0;
};
Result<BinaryMetrics> ComputeBinaryMetrics(std::span<const float> labels,
                                           std::span<const float> probabilities);

struct MulticlassMetrics {
  double accuracy = 0;  // the arg-max class (the lowest index on ties) equals the label
  double log_loss = 0;  // mean -log p(label), clipped
  // Unweighted mean of the per-class F1 over the classes that occur in the labels or the
  // predictions (scikit-learn's f1_score(average="macro") with zero_division=0).
  double macro_f1 = 0;
};
Result<MulticlassMetrics> ComputeMulticlassMetrics(std::span<const float> labels,
                                                   std::span<const float> probabilities,
                                                   int64_t classes);

struct RegressionMetrics {
  double rmse = 0;
  double mae = 0;
  // 1 - SS_res / SS_tot; kInvalidArgument for a constant target, where it is undefined.
  double r2 = 0;
};
Result<RegressionMetrics> ComputeRegressionMetrics(std::span<const float> labels,
                                                   std::span<const float> predictions);

}  // namespace cairn::ml
