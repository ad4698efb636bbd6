#include "ml/metrics.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <string>
#include <vector>

namespace cairn::ml {
namespace {

Status CheckSizes(size_t labels, size_t predictions, size_t per_row = 1) {
  if (labels == 0) return InvalidArgument("no rows to evaluate");
  if (predictions != labels * per_row) {
    return InvalidArgument(std::to_string(labels) + " labels but " + std::to_string(predictions) +
                           " predictions");
  }
  return Status();
}

Status CheckBinaryLabels(std::span<const float> labels) {
  for (float y : labels) {
    if (y != 0.0f && y != 1.0f) {
      return InvalidArgument("binary labels must be 0 or 1, got " + std::to_string(y));
    }
  }
  return Status();
}

double Clip(double p) { return std::clamp(p, kProbabilityEpsilon, 1.0 - kProbabilityEpsilon); }

}  // namespace

Result<double> BinaryAuc(std::span<const float> labels, std::span<const float> scores) {
  CAIRN_RETURN_IF_ERROR(CheckSizes(labels.size(), scores.size()));
  CAIRN_RETURN_IF_ERROR(CheckBinaryLabels(labels));
  const size_t n = labels.size();
  std::vector<size_t> order(n);
  std::iota(order.begin(), order.end(), size_t{0});
  std::sort(order.begin(), order.end(), [&](size_t a, size_t b) { return scores[a] < scores[b]; });
  // Sum of the (1-based, tie-averaged) ranks of the positive rows.
  double positive_rank_sum = 0;
  double positives = 0;
  for (size_t i = 0; i < n;) {
    size_t j = i;
    while (j < n && scores[order[j]] == scores[order[i]]) ++j;
    const double average_rank = (static_cast<double>(i + 1) + static_cast<double>(j)) / 2.0;
    for (size_t k = i; k < j; ++k) {
      if (labels[order[k]] == 1.0f) {
        positive_rank_sum += average_rank;
        positives += 1;
      }
    }
    i = j;
  }
  const double negatives = static_cast<double>(n) - positives;
  if (positives == 0 || negatives == 0) {
    return InvalidArgument("AUC is undefined when only one class is present");
  }
  return (positive_rank_sum - positives * (positives + 1) / 2.0) / (positives * negatives);
}

Result<double> BinaryLogLoss(std::span<const float> labels, std::span<const float> probabilities) {
  CAIRN_RETURN_IF_ERROR(CheckSizes(labels.size(), probabilities.size()));
  CAIRN_RETURN_IF_ERROR(CheckBinaryLabels(labels));
  double sum = 0;
  for (size_t i = 0; i < labels.size(); ++i) {
    const double p = Clip(probabilities[i]);
    sum -= labels[i] == 1.0f ? std::log(p) : std::log(1.0 - p);
  }
  return sum / static_cast<double>(labels.size());
}

Result<BinaryMetrics> ComputeBinaryMetrics(std::span<const float> labels,
                                           std::span<const float> probabilities) {
  BinaryMetrics m;
  CAIRN_TRY(m.auc, BinaryAuc(labels, probabilities));
  CAIRN_TRY(m.log_loss, BinaryLogLoss(labels, probabilities));
  double tp = 0, fp = 0, tn = 0, fn = 0;
  for (size_t i = 0; i < labels.size(); ++i) {
    const bool predicted = probabilities[i] > 0.5f;
    const bool actual = labels[i] == 1.0f;
    (predicted ? (actual ? tp : fp) : (actual ? fn : tn)) += 1;
  }
  m.accuracy = (tp + tn) / static_cast<double>(labels.size());
  m.precision = tp + fp > 0 ? tp / (tp + fp) : 0.0;
  m.recall = tp + fn > 0 ? tp / (tp + fn) : 0.0;
  m.f1 = m.precision + m.recall > 0 ? 2 * m.precision * m.recall / (m.precision + m.recall) : 0.0;
  return m;
}

Result<MulticlassMetrics> ComputeMulticlassMetrics(std::span<const float> labels,
                                                   std::span<const float> probabilities,
                                                   int64_t classes) {
  if (classes < 2) return InvalidArgument("multiclass metrics need at least 2 classes");
  const size_t k = static_cast<size_t>(classes);
  CAIRN_RETURN_IF_ERROR(CheckSizes(labels.size(), probabilities.size(), k));
  std::vector<double> true_positive(k), actual(k), predicted(k);
  double correct = 0;
  double log_loss = 0;
  for (size_t i = 0; i < labels.size(); ++i) {
    const float y = labels[i];
    if (!(y >= 0) || y >= static_cast<float>(classes) || y != std::floor(y)) {
      return InvalidArgument("multiclass label " + std::to_string(y) + " is not a class in [0, " +
                             std::to_string(classes) + ")");
    }
    const size_t label = static_cast<size_t>(y);
    const float* row = probabilities.data() + i * k;
    const size_t best = static_cast<size_t>(std::max_element(row, row + k) - row);
    log_loss -= std::log(Clip(row[label]));
    actual[label] += 1;
    predicted[best] += 1;
    if (best == label) {
      correct += 1;
      true_positive[label] += 1;
    }
  }
  MulticlassMetrics m;
  const double n = static_cast<double>(labels.size());
  m.accuracy = correct / n;
  m.log_loss = log_loss / n;
  double f1_sum = 0;
  int present = 0;
  for (size_t c = 0; c < k; ++c) {
    if (actual[c] == 0 && predicted[c] == 0) continue;
    ++present;
    // F1 = 2TP / (2TP + FP + FN) = 2TP / (actual + predicted).
    f1_sum += 2 * true_positive[c] / (actual[c] + predicted[c]);
  }
  m.macro_f1 = f1_sum / present;
  return m;
}

Result<RegressionMetrics> ComputeRegressionMetrics(std::span<const float> labels,
                                                   std::span<const float> predictions) {
  CAIRN_RETURN_IF_ERROR(CheckSizes(labels.size(), predictions.size()));
  const double n = static_cast<double>(labels.size());
  double mean = 0;
  for (float y : labels) mean += y;
  mean /= n;
  double squared = 0, absolute = 0, total = 0;
  for (size_t i = 0; i < labels.size(); ++i) {
    const double error = static_cast<double>(labels[i]) - predictions[i];
    squared += error * error;
    absolute += std::abs(error);
    total += (labels[i] - mean) * (labels[i] - mean);
  }
  if (total == 0) return InvalidArgument("R² is undefined for a constant target");
  RegressionMetrics m;
  m.rmse = std::sqrt(squared / n);
  m.mae = absolute / n;
  m.r2 = 1 - squared / total;
  return m;
}

}  // namespace cairn::ml
