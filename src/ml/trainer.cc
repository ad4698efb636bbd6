#include "ml/trainer.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <nlohmann/json.hpp>
#include <utility>

#include "ml/split.h"

namespace cairn::ml {
namespace {

constexpr int64_t kInputExampleRows = 5;
// A categorical column with at least this many categories, all distinct in the training rows,
// looks like an identifier; training goes on, with a warning.
constexpr size_t kIdentifierWarningCategories = 50;

Result<int> IntParam(const std::string& key, const std::string& value, int min) {
  int parsed = 0;
  const auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), parsed);
  if (ec != std::errc() || end != value.data() + value.size() || parsed < min) {
    return InvalidArgument("parameter " + key + " must be an integer ≥ " + std::to_string(min) +
                           ", got '" + value + "'");
  }
  return parsed;
}

bool StartsWith(std::string_view s, std::string_view prefix) {
  return s.substr(0, prefix.size()) == prefix;
}

// The task's objective must produce what the task's metrics and scoring expect: probabilities
// of class 1, per-class probabilities, or values.
Status CheckObjective(Task task, const std::string& objective) {
  switch (task) {
    case Task::kBinary:
      if (objective == "binary:logistic") return Status();
      break;
    case Task::kMulticlass:
      if (objective == "multi:softprob") return Status();
      break;
    case Task::kRegression:
      if ((StartsWith(objective, "reg:") && objective != "reg:logistic") ||
          StartsWith(objective, "count:")) {
        return Status();
      }
      break;
  }
  const std::string allowed = task == Task::kBinary       ? "binary:logistic"
                              : task == Task::kMulticlass ? "multi:softprob"
                                                          : "reg:* or count:poisson";
  return InvalidArgument("parameter objective=" + objective + " does not fit a " +
                         std::string(TaskName(task)) + " task (use " + allowed + ")");
}

std::string FeatureTypeCode(const Feature& f) {
  switch (f.kind) {
    case FeatureKind::kBoolean:
      return "i";  // XGBoost's "indicator"
    case FeatureKind::kCategorical:
      return "int";  // ordinal codes
    case FeatureKind::kNumeric:
      return f.type == data::ColumnType::kInteger ? "int" : "q";
  }
  return "q";
}

std::vector<float> Gather(std::span<const float> labels, std::span<const int64_t> rows) {
  std::vector<float> out;
  out.reserve(rows.size());
  for (int64_t r : rows) out.push_back(labels[static_cast<size_t>(r)]);
  return out;
}

}  // namespace

std::map<std::string, std::string> DefaultXgboostParams() {
  return {{"eta", "0.05"},      {"max_depth", "4"},          {"min_child_weight", "1"},
          {"subsample", "0.8"}, {"colsample_bytree", "0.8"}, {"tree_method", "hist"},
          {"max_bin", "256"}};
}

Result<RowSplit> SplitRows(Task task, std::span<const float> labels, double validation_fraction,
                           uint64_t seed) {
  RowSplit split;
  split.description.seed = seed;
  split.description.validation_fraction = validation_fraction;
  split.description.stratified = IsClassification(task);
  split.description.total_rows = static_cast<int64_t>(labels.size());
  std::vector<int64_t> labelled;
  labelled.reserve(labels.size());
  for (size_t r = 0; r < labels.size(); ++r) {
    if (!std::isnan(labels[r])) labelled.push_back(static_cast<int64_t>(r));
  }
  split.description.missing_target_rows = static_cast<int64_t>(labels.size() - labelled.size());
  if (labelled.size() < 2) {
    return InvalidArgument("need at least 2 rows with a target value to split, got " +
                           std::to_string(labelled.size()));
  }
  Split positions;
  if (IsClassification(task)) {
    std::vector<int32_t> classes;
    classes.reserve(labelled.size());
    for (int64_t r : labelled)
      classes.push_back(static_cast<int32_t>(labels[static_cast<size_t>(r)]));
    CAIRN_TRY(positions, StratifiedSplit(classes, validation_fraction, seed));
  } else {
    CAIRN_TRY(positions,
              RandomSplit(static_cast<int64_t>(labelled.size()), validation_fraction, seed));
  }
  if (positions.train.empty()) return InvalidArgument("the split left no training rows");
  auto map = [&](const std::vector<int64_t>& from, std::vector<int64_t>& to) {
    to.reserve(from.size());
    for (int64_t p : from) to.push_back(labelled[static_cast<size_t>(p)]);
    std::sort(to.begin(), to.end());
  };
  map(positions.train, split.train);
  map(positions.valid, split.valid);
  split.description.train_rows = static_cast<int64_t>(split.train.size());
  split.description.valid_rows = static_cast<int64_t>(split.valid.size());
  return split;
}

Result<TrainResult> Train(const data::CsvTable& table, const TrainOptions& options) {
  if (!(options.validation_fraction > 0 && options.validation_fraction < 1)) {
    return InvalidArgument("validation fraction must be in (0, 1), got " +
                           std::to_string(options.validation_fraction));
  }
  if (options.target.empty()) return InvalidArgument("no target column given");

  // Cairn's own keys come out of the parameter map; the rest is XGBoost's.
  int num_boost_round = options.num_boost_round;
  int early_stopping_rounds = options.early_stopping_rounds;
  std::map<std::string, std::string> user = options.params;
  for (const char* key : {"num_boost_round", "n_estimators"}) {
    if (auto it = user.find(key); it != user.end()) {
      CAIRN_TRY(num_boost_round, IntParam(key, it->second, 1));
      user.erase(it);
    }
  }
  if (auto it = user.find("early_stopping_rounds"); it != user.end()) {
    CAIRN_TRY(early_stopping_rounds, IntParam("early_stopping_rounds", it->second, 0));
    user.erase(it);
  }
  if (num_boost_round < 1) return InvalidArgument("num_boost_round must be at least 1");
  if (early_stopping_rounds < 0) return InvalidArgument("early_stopping_rounds must be ≥ 0");

  TrainResult result;
  Preprocessing& pre = result.preprocessing;
  CAIRN_TRY(pre.target, LearnTarget(table, TargetOptions{options.target, options.task,
                                                         options.positive_class}));
  CAIRN_TRY(const std::vector<float> labels, EncodeLabels(pre.target, table));
  CAIRN_TRY(RowSplit split,
            SplitRows(pre.target.task, labels, options.validation_fraction, options.seed));
  result.split = split.description;
  CAIRN_TRY(pre.features,
            LearnFeatures(table, pre.target.name, options.ignore_columns, split.train));
  for (const auto& f : pre.features) {
    if (f.kind == FeatureKind::kCategorical &&
        f.categories.size() >= kIdentifierWarningCategories) {
      const data::CsvColumn* c = table.Find(f.name);
      int64_t present = 0;
      for (int64_t r : split.train) present += c->codes[static_cast<size_t>(r)] >= 0 ? 1 : 0;
      if (static_cast<int64_t>(f.categories.size()) == present) {
        result.warnings.push_back("column '" + f.name + "' has a different value in every " +
                                  "training row (an identifier?); consider ignoring it");
      }
    }
  }

  // Parameters: defaults, then the task's, then the caller's.
  const int64_t classes = static_cast<int64_t>(pre.target.classes.size());
  std::map<std::string, std::string> params = DefaultXgboostParams();
  switch (pre.target.task) {
    case Task::kBinary:
      params["objective"] = "binary:logistic";
      params["eval_metric"] = "logloss,auc";
      break;
    case Task::kMulticlass:
      params["objective"] = "multi:softprob";
      params["num_class"] = std::to_string(classes);
      params["eval_metric"] = "mlogloss";
      break;
    case Task::kRegression:
      params["objective"] = "reg:squarederror";
      params["eval_metric"] = "rmse";
      break;
  }
  params["seed"] = std::to_string(options.seed);
  params["nthread"] = std::to_string(options.nthread);
  if (auto it = user.find("num_class"); it != user.end()) {
    if (pre.target.task != Task::kMulticlass || it->second != params["num_class"]) {
      return InvalidArgument("parameter num_class=" + it->second + " contradicts the target, " +
                             "which has " + std::to_string(classes) + " classes (" +
                             std::string(TaskName(pre.target.task)) + ")");
    }
  }
  for (const auto& [key, value] : user) params[key] = value;
  CAIRN_RETURN_IF_ERROR(CheckObjective(pre.target.task, params["objective"]));
  const int64_t cols = static_cast<int64_t>(pre.features.size());
  CAIRN_RETURN_IF_ERROR(ValidateXgboostParams(params, cols));
  CAIRN_TRY(const int nthread, IntParam("nthread", params["nthread"], 0));

  // Matrices. The labels of the kept rows are never NaN.
  CAIRN_TRY(FeatureMatrix train_x, pre.Transform(table, split.train));
  CAIRN_TRY(FeatureMatrix valid_x, pre.Transform(table, split.valid));
  const std::vector<float> train_y = Gather(labels, split.train);
  const std::vector<float> valid_y = Gather(labels, split.valid);
  CAIRN_TRY(auto train_m,
            XgboostMatrix::Create(train_x.values, train_x.rows, cols, train_y, nthread));
  CAIRN_TRY(auto valid_m,
            XgboostMatrix::Create(valid_x.values, valid_x.rows, cols, valid_y, nthread));

  BoosterOptions booster_options;
  booster_options.params = params;
  booster_options.num_rounds = num_boost_round;
  booster_options.early_stopping_rounds = early_stopping_rounds;
  booster_options.nthread = nthread;
  booster_options.on_evaluation = [&](int round, std::span<const EvalEntry> entries) {
    for (const auto& e : entries) {
      const std::string key = e.set + "-" + e.metric;
      auto it = std::find_if(result.history.begin(), result.history.end(),
                             [&](const MetricHistory& h) { return h.key == key; });
      if (it == result.history.end()) {
        result.history.push_back({key, {}});
        it = result.history.end() - 1;
      }
      it->values.push_back(e.value);
    }
    if (options.on_round) options.on_round(round, entries);
  };
  TrainSummary summary;
  CAIRN_TRY(XgboostBooster booster,
            XgboostBooster::Train(train_m, &valid_m, booster_options, &summary));
  result.rounds_run = summary.rounds_run;
  result.best_iteration = early_stopping_rounds > 0 ? summary.best_round : summary.rounds_run - 1;
  result.stopped_early = summary.rounds_run < num_boost_round;
  result.stopping_metric = summary.metric;
  result.xgboost_version = XgboostVersion();
  result.params = params;
  result.params["num_boost_round"] = std::to_string(num_boost_round);
  result.params["early_stopping_rounds"] = std::to_string(early_stopping_rounds);

  // Names and types travel in the model file, for XGBoost's own tools and Python users.
  std::vector<std::string> types;
  for (const auto& f : pre.features) types.push_back(FeatureTypeCode(f));
  CAIRN_RETURN_IF_ERROR(booster.SetFeatureInfo(pre.FeatureNames(), types));
  // What XGBClassifier/XGBRegressor.save_model would store, so that mlflow.xgboost (which loads
  // model.ubj with the flavor's model_class) gets a working estimator: XGBoost 1.7's
  // XGBClassifier needs n_classes_ from here for predict_proba. Labels are the encoded 0..K-1.
  nlohmann::json sklearn = {{"_estimator_type", classes > 0 ? "classifier" : "regressor"},
                            {"objective", params["objective"]}};
  if (classes > 0) {
    sklearn["n_classes_"] = classes;
    std::vector<int64_t> encoded(static_cast<size_t>(classes));
    for (int64_t k = 0; k < classes; ++k) encoded[static_cast<size_t>(k)] = k;
    sklearn["classes_"] = encoded;
  }
  CAIRN_RETURN_IF_ERROR(booster.SetAttribute("scikit_learn", sklearn.dump()));
  CAIRN_TRY(result.booster, booster.SaveRaw("ubj"));

  CAIRN_TRY(const std::vector<float> predictions, booster.Predict(valid_m));
  CAIRN_TRY(result.metrics, ComputeTaskMetrics(pre.target.task, valid_y, predictions, classes));

  if (options.shap_rows > 0) {
    const int64_t n = std::min<int64_t>(options.shap_rows, valid_x.rows);
    std::vector<float> sample;
    sample.reserve(static_cast<size_t>(n * cols));
    for (int64_t i = 0; i < n; ++i) {
      const int64_t r = i * valid_x.rows / n;  // evenly spaced
      const auto begin = valid_x.values.begin() + r * cols;
      sample.insert(sample.end(), begin, begin + cols);
    }
    CAIRN_TRY(auto shap_m, XgboostMatrix::Create(sample, n, cols, {}, nthread));
    CAIRN_TRY(ShapValues shap, booster.ShapContributions(shap_m));
    const std::vector<double> mean = MeanAbsoluteShap(shap);
    for (size_t j = 0; j < pre.features.size(); ++j) {
      result.importance.push_back({pre.features[j].name, mean[j]});
    }
    std::stable_sort(result.importance.begin(), result.importance.end(),
                     [](const FeatureImportance& a, const FeatureImportance& b) {
                       return a.mean_abs_shap > b.mean_abs_shap;
                     });
    result.shap_rows = n;
  }

  const std::vector<int64_t> example(
      split.train.begin(),
      split.train.begin() + std::min<int64_t>(kInputExampleRows, split.description.train_rows));
  result.input_example = InputExampleJson(pre, table, example).dump();  // compact, as MLflow
  return result;
}

}  // namespace cairn::ml
