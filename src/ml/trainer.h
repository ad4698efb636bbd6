// Trains an XGBoost model on a table and returns everything a run logs: the preprocessing, the
// split, per-round metric histories, validation metrics, SHAP feature importance, the effective
// parameters and the model bytes. Knows nothing of runs or storage; the caller logs the result.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "core/result.h"
#include "data/csv_reader.h"
#include "ml/tabular.h"
#include "ml/task.h"
#include "ml/xgboost_booster.h"

namespace cairn::ml {

// ---------------------------------------------------------------------------------------------
// The split
// ---------------------------------------------------------------------------------------------

struct SplitDescription {
  uint64_t seed = 0;
  double validation_fraction = 0;
  bool stratified = false;          // by class, for classification
  int64_t total_rows = 0;           // rows in the table
  int64_t missing_target_rows = 0;  // rows without a target value: in neither set
  int64_t train_rows = 0;
  int64_t valid_rows = 0;
};

struct RowSplit {
  std::vector<int64_t> train;  // table row indices, ascending
  std::vector<int64_t> valid;  // table row indices, ascending
  SplitDescription description;
};

// The rows Train trains and validates on, from the table's encoded labels (EncodeLabels): rows
// with a missing target are set aside; the others are split by StratifiedSplit (classification,
// by class) or RandomSplit (regression) over their positions among the labelled rows. A function
// of its arguments alone, so `models compare` can recompute any model's rows from its
// SplitDescription and the same dataset version.
Result<RowSplit> SplitRows(Task task, std::span<const float> labels, double validation_fraction,
                           uint64_t seed);

// ---------------------------------------------------------------------------------------------
// Training
// ---------------------------------------------------------------------------------------------

// Defaults, chosen so that small and medium business tables (thousands to hundreds of thousands
// of rows) do not overfit — XGBoost's library defaults (eta 0.3, max_depth 6, no sampling, a
// fixed number of rounds) do:
//   eta 0.05, max_depth 4, min_child_weight 1, subsample 0.8, colsample_bytree 0.8,
//   tree_method hist, max_bin 256; up to 1000 rounds, stopping 50 rounds after the last
//   improvement of the validation metric and keeping the best round's trees;
//   binary      objective binary:logistic, eval_metric "logloss,auc" (early stopping on auc)
//   multiclass  objective multi:softprob, num_class K, eval_metric "mlogloss"
//   regression  objective reg:squarederror, eval_metric "rmse"
//   nthread 2 (kDefaultXgboostThreads): XGBoost's OpenMP threads must not spin against each
//   other or a server on a small machine; seed = TrainOptions::seed.
inline constexpr int kDefaultBoostRounds = 1000;
inline constexpr int kDefaultEarlyStoppingRounds = 50;
// The XGBoost defaults above, before the task's objective and metric.
std::map<std::string, std::string> DefaultXgboostParams();

struct TrainOptions {
  std::string target;                         // the target column
  std::optional<Task> task;                   // unset: detected (see TargetOptions)
  std::optional<std::string> positive_class;  // binary only (see TargetOptions)
  std::vector<std::string> ignore_columns;    // columns that are neither target nor feature
  // Parameters over the defaults. XGBoost's own (eta, max_depth, eval_metric "a,b", objective
  // within the task's family, …) are checked by XGBoost before training: an unknown name or a
  // bad value is kInvalidArgument naming the parameter. Three keys are Cairn's, not XGBoost's,
  // as in XGBoost's Python API: "num_boost_round" (alias "n_estimators") and
  // "early_stopping_rounds" (0 turns early stopping off) override the fields below.
  std::map<std::string, std::string> params;
  double validation_fraction = 0.2;  // in (0, 1)
  uint64_t seed = 42;                // the split's seed and XGBoost's (unless params has "seed")
  int num_boost_round = kDefaultBoostRounds;
  int early_stopping_rounds = kDefaultEarlyStoppingRounds;
  int nthread = kDefaultXgboostThreads;  // params "nthread" overrides it
  // SHAP importance is the mean |SHAP value| over at most this many validation rows (evenly
  // spaced, so the same rows every time); 0 skips it. Exact TreeSHAP costs rows × trees ×
  // leaves × depth², which for 2000 rows is ~15 % of a 200-round training on 56k rows; 500 rows
  // keep it near 4 % and still estimate each mean to a few percent (its standard error is
  // about std/√500).
  int64_t shap_rows = 500;
  // Called after every boosting round with XGBoost's evaluation of it ("train"/"valid" × each
  // eval_metric) — to stream metric history to a run while training.
  std::function<void(int round, std::span<const EvalEntry> entries)> on_round;
};

// One metric over the rounds: key "train-auc", "valid-logloss" … (set-metric, as XGBoost prints
// them); values[i] is round i's (MLflow step i).
struct MetricHistory {
  std::string key;
  std::vector<double> values;
};

struct FeatureImportance {
  std::string feature;
  double mean_abs_shap = 0;  // averaged over rows (and classes, for multiclass)
};

struct TrainResult {
  Preprocessing preprocessing;  // includes the target: task and class mapping
  SplitDescription split;
  // What XGBoost was given (defaults, task settings and the caller's overrides) plus
  // num_boost_round and early_stopping_rounds: the run's parameters.
  std::map<std::string, std::string> params;
  std::string booster;  // the model as UBJ bytes: identical for the same data, params and seed
  std::string xgboost_version;
  int rounds_run = 0;  // rounds trained before stopping
  int best_iteration =
      -1;  // 0-based round whose trees the model keeps (the last with no early stopping)
  bool stopped_early = false;
  std::string stopping_metric;  // the validation metric early stopping watched, e.g. "auc"
  std::vector<MetricHistory> history;
  // The task's metrics (task.h: ComputeTaskMetrics) on the validation rows, with the kept model.
  std::map<std::string, double> metrics;
  std::vector<FeatureImportance> importance;  // most important first; empty when shap_rows = 0
  int64_t shap_rows = 0;                      // rows the importance was averaged over
  std::string input_example;  // MLflow's input_example.json: a few training rows, raw values
  // Things the user should know but that do not stop training, e.g. a categorical column with a
  // distinct value in every row (an identifier?).
  std::vector<std::string> warnings;
};

// Learns the target and the split, then the features from the training rows; trains with early
// stopping on the validation rows; computes the validation metrics and SHAP importance.
// kInvalidArgument for bad input (see LearnTarget, LearnFeatures, the params above), naming the
// column or parameter at fault.
Result<TrainResult> Train(const data::CsvTable& table, const TrainOptions& options);

}  // namespace cairn::ml
