#include "ml/task.h"

#include <cmath>

#include "ml/metrics.h"

namespace cairn::ml {

std::string_view TaskName(Task task) {
  switch (task) {
    case Task::kBinary:
      return "binary";
    case Task::kMulticlass:
      return "multiclass";
    case Task::kRegression:
      return "regression";
  }
  return "unknown";
}

Result<Task> ParseTask(std::string_view name) {
  for (Task task : {Task::kBinary, Task::kMulticlass, Task::kRegression}) {
    if (name == TaskName(task)) return task;
  }
  return InvalidArgument("task must be binary, multiclass or regression, got '" +
                         std::string(name) + "'");
}

bool IsClassification(Task task) { return task != Task::kRegression; }

Result<std::map<std::string, double>> ComputeTaskMetrics(Task task, std::span<const float> labels,
                                                         std::span<const float> predictions,
                                                         int64_t classes) {
  switch (task) {
    case Task::kBinary: {
      bool seen[2] = {false, false};
      for (float y : labels) seen[y == 1.0f ? 1 : 0] = true;
      if (seen[0] && seen[1]) {
        CAIRN_TRY(auto m, ComputeBinaryMetrics(labels, predictions));
        return std::map<std::string, double>{{"auc", m.auc},           {"log_loss", m.log_loss},
                                             {"accuracy", m.accuracy}, {"precision", m.precision},
                                             {"recall", m.recall},     {"f1", m.f1}};
      }
      // One class only: everything but the AUC is still defined.
      CAIRN_TRY(double log_loss, BinaryLogLoss(labels, predictions));
      double tp = 0, fp = 0, fn = 0, correct = 0;
      for (size_t i = 0; i < labels.size(); ++i) {
        const bool predicted = predictions[i] > 0.5f;
        const bool actual = labels[i] == 1.0f;
        correct += predicted == actual ? 1 : 0;
        tp += predicted && actual ? 1 : 0;
        fp += predicted && !actual ? 1 : 0;
        fn += !predicted && actual ? 1 : 0;
      }
      const double precision = tp + fp > 0 ? tp / (tp + fp) : 0.0;
      const double recall = tp + fn > 0 ? tp / (tp + fn) : 0.0;
      return std::map<std::string, double>{
          {"log_loss", log_loss},
          {"accuracy", correct / static_cast<double>(labels.size())},
          {"precision", precision},
          {"recall", recall},
          {"f1", precision + recall > 0 ? 2 * precision * recall / (precision + recall) : 0.0}};
    }
    case Task::kMulticlass: {
      CAIRN_TRY(auto m, ComputeMulticlassMetrics(labels, predictions, classes));
      return std::map<std::string, double>{
          {"accuracy", m.accuracy}, {"log_loss", m.log_loss}, {"macro_f1", m.macro_f1}};
    }
    case Task::kRegression: {
      auto m = ComputeRegressionMetrics(labels, predictions);
      if (m.ok())
        return std::map<std::string, double>{{"rmse", m->rmse}, {"mae", m->mae}, {"r2", m->r2}};
      if (labels.empty() || labels.size() != predictions.size()) return m.status();
      // A constant target: R² is undefined, the errors are not.
      double squared = 0, absolute = 0;
      for (size_t i = 0; i < labels.size(); ++i) {
        const double error = static_cast<double>(labels[i]) - predictions[i];
        squared += error * error;
        absolute += std::abs(error);
      }
      const double n = static_cast<double>(labels.size());
      return std::map<std::string, double>{{"rmse", std::sqrt(squared / n)}, {"mae", absolute / n}};
    }
  }
  return InvalidArgument("unknown task");
}

}  // namespace cairn::ml
