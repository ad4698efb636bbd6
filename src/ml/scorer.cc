#include "ml/scorer.h"

#include <algorithm>
#include <cmath>
#include <nlohmann/json.hpp>
#include <utility>

namespace cairn::ml {
namespace {

using Json = nlohmann::json;

struct BoosterObjective {
  std::string name;       // "binary:logistic"
  int64_t num_class = 0;  // 0 unless multi:*
};

Result<BoosterObjective> ReadObjective(const XgboostBooster& booster) {
  CAIRN_TRY(std::string config, booster.SaveConfig());
  try {
    const Json json = Json::parse(config);
    const Json& learner = json.at("learner");
    BoosterObjective out;
    out.name = learner.at("learner_train_param").at("objective").get<std::string>();
    out.num_class =
        std::stoll(learner.at("learner_model_param").at("num_class").get<std::string>());
    return out;
  } catch (const std::exception& e) {
    return Internal(std::string("reading the booster's configuration: ") + e.what());
  }
}

bool StartsWith(std::string_view s, std::string_view prefix) {
  return s.substr(0, prefix.size()) == prefix;
}

// The task a booster's objective implies, and how its output becomes probabilities or values.
Result<std::pair<Task, OutputTransform>> TaskOf(const BoosterObjective& objective) {
  const std::string& name = objective.name;
  if (name == "binary:logistic") return std::pair{Task::kBinary, OutputTransform::kNone};
  if (name == "binary:logitraw") return std::pair{Task::kBinary, OutputTransform::kSigmoid};
  if (name == "multi:softprob") return std::pair{Task::kMulticlass, OutputTransform::kNone};
  if (name == "multi:softmax") return std::pair{Task::kMulticlass, OutputTransform::kSoftmax};
  if (StartsWith(name, "binary:") || StartsWith(name, "multi:")) {
    return InvalidArgument("the booster's objective " + name +
                           " gives neither probabilities nor values; Cairn scores "
                           "binary:logistic, binary:logitraw, multi:softprob, multi:softmax and "
                           "regression objectives");
  }
  return std::pair{Task::kRegression, OutputTransform::kNone};
}

Result<Feature> FeatureFromSpec(const ColumnSpec& spec, size_t index) {
  const std::string where = "signature input " + std::to_string(index + 1) +
                            (spec.name.empty() ? "" : " ('" + spec.name + "')");
  if (spec.type == "tensor") {
    return InvalidArgument(where + " is a tensor; Cairn scores column-based signatures");
  }
  if (spec.name.empty()) return InvalidArgument(where + " has no name");
  Feature f;
  f.name = spec.name;
  f.has_missing = true;
  if (spec.type == "double" || spec.type == "float") {
    f.kind = FeatureKind::kNumeric;
    f.type = data::ColumnType::kFloat;
  } else if (spec.type == "long" || spec.type == "integer") {
    f.kind = FeatureKind::kNumeric;
    f.type = data::ColumnType::kInteger;
  } else if (spec.type == "boolean") {
    f.kind = FeatureKind::kBoolean;
    f.type = data::ColumnType::kBoolean;
  } else {
    return InvalidArgument(where + " has type " + spec.type +
                           "; an MLflow xgboost model without Cairn's preprocessing takes "
                           "numeric and boolean columns only");
  }
  return f;
}

}  // namespace

std::vector<int32_t> Predictions::ClassIndices() const {
  std::vector<int32_t> out;
  if (task == Task::kRegression) return out;
  out.reserve(static_cast<size_t>(rows));
  for (int64_t r = 0; r < rows; ++r) {
    if (width == 1) {
      out.push_back(values[static_cast<size_t>(r)] > 0.5f ? 1 : 0);
      continue;
    }
    const float* row = values.data() + r * width;
    out.push_back(static_cast<int32_t>(std::max_element(row, row + width) - row));
  }
  return out;
}

Result<LoadedModel> LoadedModel::Load(const std::string& dir) {
  CAIRN_TRY(ModelDirectory directory, LoadModelDirectory(dir));
  return FromDirectory(directory);
}

Result<LoadedModel> LoadedModel::FromParts(Preprocessing preprocessing, std::string_view booster,
                                           int nthread) {
  CAIRN_TRY(XgboostBooster loaded, XgboostBooster::LoadRaw(booster, nthread));
  CAIRN_TRY(const int64_t features, loaded.NumFeatures());
  if (features != static_cast<int64_t>(preprocessing.features.size())) {
    return InvalidArgument("the booster takes " + std::to_string(features) +
                           " features, the preprocessing gives " +
                           std::to_string(preprocessing.features.size()));
  }
  CAIRN_TRY(const BoosterObjective objective, ReadObjective(loaded));
  CAIRN_TRY(const auto task, TaskOf(objective));
  if (task.first != preprocessing.target.task) {
    return InvalidArgument("the preprocessing is for a " +
                           std::string(TaskName(preprocessing.target.task)) +
                           " task, but the booster's objective is " + objective.name);
  }
  if (task.first == Task::kMulticlass &&
      objective.num_class != static_cast<int64_t>(preprocessing.target.classes.size())) {
    return InvalidArgument("the booster has " + std::to_string(objective.num_class) +
                           " classes, the preprocessing " +
                           std::to_string(preprocessing.target.classes.size()));
  }
  LoadedModel model(std::move(preprocessing), std::move(loaded), task.second, nthread);
  model.AttachNativeEvaluator();
  return model;
}

Result<LoadedModel> LoadedModel::FromDirectory(const ModelDirectory& dir) {
  const MlModel& m = dir.mlmodel;
  const std::string where = dir.path.empty() ? "model" : dir.path;
  if (m.preprocessing) {
    auto model = FromParts(*m.preprocessing, dir.booster);
    if (!model.ok()) return Status(model.status().code(), where + ": " + model.status().message());
    return model;
  }
  // A plain MLflow xgboost model: everything from the booster and the signature.
  auto booster = XgboostBooster::LoadRaw(dir.booster);
  if (!booster.ok()) {
    return InvalidArgument(where + "/" + m.xgb_data + ": " + booster.status().message());
  }
  CAIRN_TRY(const int64_t num_features, booster->NumFeatures());
  CAIRN_TRY(const BoosterObjective objective, ReadObjective(*booster));
  auto task = TaskOf(objective);
  if (!task.ok()) return InvalidArgument(where + ": " + task.status().message());

  Preprocessing pre;
  pre.target.task = task->first;
  if (task->first == Task::kBinary) pre.target.classes = {"0", "1"};
  if (task->first == Task::kMulticlass) {
    for (int64_t k = 0; k < objective.num_class; ++k)
      pre.target.classes.push_back(std::to_string(k));
  }
  pre.target.type =
      IsClassification(task->first) ? data::ColumnType::kInteger : data::ColumnType::kFloat;
  if (m.inputs) {
    for (size_t i = 0; i < m.inputs->size(); ++i) {
      auto f = FeatureFromSpec((*m.inputs)[i], i);
      if (!f.ok()) return InvalidArgument(where + "/MLmodel: " + f.status().message());
      pre.features.push_back(std::move(*f));
    }
  } else {
    CAIRN_TRY(const auto names, booster->FeatureNames());
    if (names.empty()) {
      return InvalidArgument(where +
                             "/MLmodel has no signature and the booster stores no "
                             "feature names: nothing says which columns to score");
    }
    for (const auto& name : names) {
      Feature f;
      f.name = name;
      f.has_missing = true;
      pre.features.push_back(std::move(f));
    }
  }
  if (static_cast<int64_t>(pre.features.size()) != num_features) {
    return InvalidArgument(where + ": the signature has " + std::to_string(pre.features.size()) +
                           " inputs, but the booster takes " + std::to_string(num_features) +
                           " features");
  }
  LoadedModel model(std::move(pre), std::move(*booster), task->second, kDefaultXgboostThreads);
  model.AttachNativeEvaluator();
  return model;
}

void LoadedModel::AttachNativeEvaluator() {
  // Rows probed at load: enough to reach every leaf of typical trees a few times, cheap
  // (~1 ms for 100 trees).
  constexpr int64_t kProbeRows = 256;
  auto json = booster_.SaveRaw("json");
  if (!json.ok()) {
    native_status_ = json.status().message();
    return;
  }
  auto ensemble = TreeEnsemble::FromXgboostJson(*json);
  if (!ensemble.ok()) {
    native_status_ = ensemble.status().message();
    return;
  }
  const int64_t cols = static_cast<int64_t>(preprocessing_.features.size());
  const int64_t width = task() == Task::kMulticlass ? static_cast<int64_t>(classes().size()) : 1;
  if (ensemble->num_features() != cols || ensemble->num_groups() != width) {
    native_status_ = "the trees take " + std::to_string(ensemble->num_features()) +
                     " features and give " + std::to_string(ensemble->num_groups()) +
                     " values per row";
    return;
  }
  const bool margin = transform_ != OutputTransform::kNone;
  const FeatureMatrix probe = ensemble->ProbeRows(kProbeRows, /*seed=*/20240229);
  auto expected = booster_.PredictDense(probe.values, probe.rows, cols, margin);
  if (!expected.ok()) {
    native_status_ = expected.status().message();
    return;
  }
  const std::vector<float> got = ensemble->Predict(probe.values, probe.rows, margin);
  if (got.size() != expected->size()) {
    native_status_ = "XGBoost predicts " + std::to_string(expected->size()) + " values for " +
                     std::to_string(probe.rows) + " rows, the native evaluator " +
                     std::to_string(got.size());
    return;
  }
  for (size_t i = 0; i < got.size(); ++i) {
    const double want = (*expected)[i];
    if (!(std::abs(got[i] - want) <= 1e-6 * std::max(1.0, std::abs(want)))) {
      native_status_ = "the native evaluator disagrees with XGBoost on probe row " +
                       std::to_string(i / static_cast<size_t>(width));
      return;
    }
  }
  ensemble_ = std::make_shared<const TreeEnsemble>(std::move(*ensemble));
}

Result<Predictions> LoadedModel::PredictMatrix(const FeatureMatrix& matrix) const {
  if (ensemble_ == nullptr) return PredictMatrixWithXgboost(matrix);
  const int64_t cols = static_cast<int64_t>(preprocessing_.features.size());
  if (matrix.cols != cols || matrix.values.size() != static_cast<size_t>(matrix.rows * cols)) {
    return InvalidArgument("the matrix has " + std::to_string(matrix.cols) +
                           " columns, the model takes " + std::to_string(cols));
  }
  Predictions p;
  p.task = task();
  p.rows = matrix.rows;
  p.width = task() == Task::kMulticlass ? static_cast<int64_t>(classes().size()) : 1;
  p.values.resize(static_cast<size_t>(p.rows * p.width));
  ensemble_->Predict(matrix.values, matrix.rows, transform_ != OutputTransform::kNone, p.values,
                     nthread_);
  return Finish(std::move(p));
}

Result<Predictions> LoadedModel::PredictMatrixWithXgboost(const FeatureMatrix& matrix) const {
  const int64_t cols = static_cast<int64_t>(preprocessing_.features.size());
  if (matrix.cols != cols) {
    return InvalidArgument("the matrix has " + std::to_string(matrix.cols) +
                           " columns, the model takes " + std::to_string(cols));
  }
  Predictions p;
  p.task = task();
  p.rows = matrix.rows;
  p.width = task() == Task::kMulticlass ? static_cast<int64_t>(classes().size()) : 1;
  if (matrix.rows == 0) return p;
  const bool margin = transform_ != OutputTransform::kNone;
  auto values = booster_.PredictDense(matrix.values, matrix.rows, cols, margin);
  if (!values.ok()) {
    // Boosters without in-place prediction (gblinear) predict through a DMatrix.
    CAIRN_TRY(XgboostMatrix dmatrix,
              XgboostMatrix::Create(matrix.values, matrix.rows, cols, {}, nthread_));
    values = booster_.Predict(dmatrix, margin);
  }
  CAIRN_TRY(p.values, std::move(values));
  if (static_cast<int64_t>(p.values.size()) != p.rows * p.width) {
    return Internal("the booster returned " + std::to_string(p.values.size()) + " values for " +
                    std::to_string(p.rows) + " rows");
  }
  return Finish(std::move(p));
}

Result<Predictions> LoadedModel::Finish(Predictions p) const {
  if (transform_ == OutputTransform::kSigmoid) {
    for (float& v : p.values)
      v = static_cast<float>(1.0 / (1.0 + std::exp(-static_cast<double>(v))));
  } else if (transform_ == OutputTransform::kSoftmax) {
    for (int64_t r = 0; r < p.rows; ++r) {
      float* row = p.values.data() + r * p.width;
      const double top = *std::max_element(row, row + p.width);
      double sum = 0;
      for (int64_t k = 0; k < p.width; ++k) sum += std::exp(row[k] - top);
      for (int64_t k = 0; k < p.width; ++k) {
        row[k] = static_cast<float>(std::exp(row[k] - top) / sum);
      }
    }
  }
  return p;
}

Result<Predictions> LoadedModel::Predict(const data::CsvTable& table) const {
  CAIRN_TRY(FeatureMatrix m, preprocessing_.Transform(table));
  return PredictMatrix(m);
}

Result<Predictions> LoadedModel::Predict(const data::CsvTable& table,
                                         std::span<const int64_t> rows) const {
  CAIRN_TRY(FeatureMatrix m, preprocessing_.Transform(table, rows));
  return PredictMatrix(m);
}

Result<Predictions> LoadedModel::PredictCells(std::span<const Cell> cells, int64_t rows) const {
  CAIRN_TRY(FeatureMatrix m, preprocessing_.TransformCells(cells, rows));
  return PredictMatrix(m);
}

Result<std::vector<std::string>> LoadedModel::Labels(const Predictions& predictions) const {
  if (!IsClassification(predictions.task)) {
    return FailedPrecondition("a regression model predicts values, not labels");
  }
  std::vector<std::string> out;
  out.reserve(static_cast<size_t>(predictions.rows));
  for (int32_t k : predictions.ClassIndices()) {
    if (k < 0 || static_cast<size_t>(k) >= classes().size()) {
      return Internal("predicted class " + std::to_string(k) + " has no label");
    }
    out.push_back(classes()[static_cast<size_t>(k)]);
  }
  return out;
}

Result<Evaluation> LoadedModel::Evaluate(const data::CsvTable& table,
                                         std::optional<std::string> target_column,
                                         std::optional<std::span<const int64_t>> rows) const {
  Target target = preprocessing_.target;
  if (target_column) target.name = *target_column;
  if (target.name.empty()) {
    return InvalidArgument(
        "the model does not record its target column; name the column to "
        "evaluate against");
  }
  CAIRN_TRY(const std::vector<float> all_labels, EncodeLabels(target, table));
  Evaluation evaluation;
  std::vector<int64_t> kept;
  std::vector<float> labels;
  auto consider = [&](int64_t r) {
    const float y = all_labels[static_cast<size_t>(r)];
    if (std::isnan(y)) {
      ++evaluation.missing_target_rows;
      return;
    }
    kept.push_back(r);
    labels.push_back(y);
  };
  if (rows) {
    for (int64_t r : *rows) {
      if (r < 0 || r >= table.rows) {
        return InvalidArgument("row index " + std::to_string(r) + " is outside the table's " +
                               std::to_string(table.rows) + " rows");
      }
      consider(r);
    }
  } else {
    for (int64_t r = 0; r < table.rows; ++r) consider(r);
  }
  if (kept.empty()) {
    return InvalidArgument("no row has a value in the target column '" + target.name + "'");
  }
  CAIRN_TRY(const Predictions predictions, Predict(table, kept));
  CAIRN_TRY(evaluation.metrics, ComputeTaskMetrics(task(), labels, predictions.values,
                                                   static_cast<int64_t>(classes().size())));
  evaluation.rows = static_cast<int64_t>(kept.size());
  return evaluation;
}

}  // namespace cairn::ml
