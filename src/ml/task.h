// The kinds of supervised task Cairn trains and scores, and the metrics each one reports.
#pragma once

#include <cstdint>
#include <map>
#include <span>
#include <string>
#include <string_view>

#include "core/result.h"

namespace cairn::ml {

enum class Task { kBinary, kMulticlass, kRegression };

// "binary", "multiclass", "regression".
std::string_view TaskName(Task task);
// The inverse of TaskName; kInvalidArgument naming the accepted values otherwise.
Result<Task> ParseTask(std::string_view name);
bool IsClassification(Task task);

// The metrics a run logs for a model of `task`, by name, computed by metrics.h:
//   binary      auc, log_loss, accuracy, precision, recall, f1   (positive class = class 1)
//   multiclass  accuracy, log_loss, macro_f1
//   regression  rmse, mae, r2
// `labels` are class indices (classification) or values (regression), one per row;
// `predictions` are P(class 1) per row (binary), `classes` probabilities per row (multiclass),
// or values (regression). A metric undefined on these rows — the AUC when only one class
// occurs, R² of a constant target — is left out rather than failing the whole evaluation.
Result<std::map<std::string, double>> ComputeTaskMetrics(Task task, std::span<const float> labels,
                                                         std::span<const float> predictions,
                                                         int64_t classes);

}  // namespace cairn::ml
