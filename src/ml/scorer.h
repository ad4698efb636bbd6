// Native scoring of XGBoost model directories: Cairn's own, and those written by
// mlflow.xgboost.log_model. A LoadedModel turns tables or JSON-like rows into predictions with
// exactly the preprocessing the model was trained with, and evaluates itself on labelled data.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"
#include "data/csv_reader.h"
#include "ml/model_dir.h"
#include "ml/tabular.h"
#include "ml/task.h"
#include "ml/tree_ensemble.h"
#include "ml/xgboost_booster.h"

namespace cairn::ml {

struct Predictions {
  Task task = Task::kRegression;
  int64_t rows = 0;
  // Values per row: the number of classes for multiclass, else 1.
  int64_t width = 1;
  // binary: P(classes[1]) per row; multiclass: rows × classes probabilities (row-major);
  // regression: the predicted value. Exactly what XGBoost predicts for the same matrix.
  std::vector<float> values;

  // The predicted class of each row (classification only): class 1 when its probability is
  // > 0.5 (binary, XGBoost's own rule), else the most probable class (the lowest index on ties).
  std::vector<int32_t> ClassIndices() const;
};

// How a booster's raw output becomes Predictions::values, decided by its objective.
enum class OutputTransform {
  kNone,     // XGBoost's prediction as is (binary:logistic, multi:softprob, reg:*, count:* …)
  kSigmoid,  // binary:logitraw: margins → P(class 1)
  kSoftmax,  // multi:softmax: per-class margins → probabilities (XGBoost would give labels)
};

struct Evaluation {
  std::map<std::string, double> metrics;  // the names training logs (task.h)
  int64_t rows = 0;                       // rows evaluated
  int64_t missing_target_rows = 0;        // rows skipped for want of a target value
};

// A model ready to score: its booster, preprocessing and task. Predict and Evaluate may be
// called from several threads at once (XGBoost's in-place prediction is lock-free). Move-only.
class LoadedModel {
 public:
  // Loads a model directory (LoadModelDirectory), then:
  //  - with MLmodel's `cairn` block (Cairn's models): its preprocessing, checked against the
  //    booster (feature count, objective ↔ task);
  //  - without it (mlflow.xgboost.log_model): a preprocessing derived from the signature's
  //    inputs — numeric (double, float, long, integer) and boolean columns in signature order;
  //    a string or tensor input is kInvalidArgument naming it — or, with no signature, from the
  //    feature names stored in the booster. The task comes from the booster's objective
  //    (binary:logistic/logitraw → binary, multi:softprob/softmax → multiclass with classes
  //    "0".."K-1", anything else a regression of XGBoost's output); binary:hinge, whose output
  //    is neither a probability nor a value, is kInvalidArgument.
  static Result<LoadedModel> Load(const std::string& dir);
  static Result<LoadedModel> FromDirectory(const ModelDirectory& dir);
  // A model from a preprocessing and booster bytes (what Train returns).
  static Result<LoadedModel> FromParts(Preprocessing preprocessing, std::string_view booster,
                                       int nthread = kDefaultXgboostThreads);

  LoadedModel(LoadedModel&&) noexcept = default;
  LoadedModel& operator=(LoadedModel&&) noexcept = default;

  const Preprocessing& preprocessing() const { return preprocessing_; }
  Task task() const { return preprocessing_.target.task; }
  // Classification: class i is classes()[i]; empty for regression.
  const std::vector<std::string>& classes() const { return preprocessing_.target.classes; }
  OutputTransform transform() const { return transform_; }
  const XgboostBooster& booster() const { return booster_; }

  // Scores every row of `table` (or the rows `rows`), its columns matched by name; errors as
  // Preprocessing::Transform's.
  Result<Predictions> Predict(const data::CsvTable& table) const;
  Result<Predictions> Predict(const data::CsvTable& table, std::span<const int64_t> rows) const;
  // Scores rows given cell by cell, in feature order (Preprocessing::TransformCells).
  Result<Predictions> PredictCells(std::span<const Cell> cells, int64_t rows) const;
  // Scores an already encoded matrix (features in preprocessing order). Gbtree boosters are
  // evaluated natively (tree_ensemble.h: no XGBoost call, no OpenMP; large batches on
  // `nthread` threads); other boosters, or one the native evaluator disagreed with at load, by
  // XGBoost's in-place prediction. The values are XGBoost's either way (to 1e-6).
  Result<Predictions> PredictMatrix(const FeatureMatrix& matrix) const;
  // The same through XGBoost's own predictor, always: the reference the native evaluator is
  // checked against.
  Result<Predictions> PredictMatrixWithXgboost(const FeatureMatrix& matrix) const;
  // Whether PredictMatrix evaluates the trees natively; if not, native_status() says why.
  bool native() const { return ensemble_ != nullptr; }
  const std::string& native_status() const { return native_status_; }

  // The predicted class of each row as its value in the training data (classification only;
  // kFailedPrecondition for regression).
  Result<std::vector<std::string>> Labels(const Predictions& predictions) const;

  // Scores the rows of `table` (all, or `rows`) that have a value in `target_column` (default:
  // the training target; plain MLflow models have none and need it) and computes the task's
  // metrics against it. kInvalidArgument when the column is absent, holds a class the model does
  // not know (naming the row and value), or no row has a target value.
  Result<Evaluation> Evaluate(const data::CsvTable& table,
                              std::optional<std::string> target_column = std::nullopt,
                              std::optional<std::span<const int64_t>> rows = std::nullopt) const;

 private:
  LoadedModel(Preprocessing preprocessing, XgboostBooster booster, OutputTransform transform,
              int nthread)
      : preprocessing_(std::move(preprocessing)),
        booster_(std::move(booster)),
        transform_(transform),
        nthread_(nthread) {}
  // Loads the booster's trees into the native evaluator when it takes them and agrees with
  // XGBoost on rows that probe every split; otherwise records why in native_status_.
  void AttachNativeEvaluator();
  Result<Predictions> Finish(Predictions p) const;

  Preprocessing preprocessing_;
  XgboostBooster booster_;
  OutputTransform transform_ = OutputTransform::kNone;
  int nthread_ = kDefaultXgboostThreads;
  std::shared_ptr<const TreeEnsemble> ensemble_;
  std::string native_status_;
};

}  // namespace cairn::ml
