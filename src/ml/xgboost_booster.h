// A small RAII wrapper over XGBoost's C API: matrices, training with early stopping, model
// bytes, predictions and TreeSHAP contributions. Only plain types cross this header; the C API
// itself is included by xgboost_booster.cc alone.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"

namespace cairn::ml {

// The thread count used unless told otherwise: small, so XGBoost's OpenMP threads do not spin
// against each other (or against the server) on a small machine.
inline constexpr int kDefaultXgboostThreads = 2;

// XGBoost's version, e.g. "1.7.4".
std::string XgboostVersion();

// An XGBoost DMatrix: a dense row-major float matrix, NaN for missing, with optional labels.
// Move-only; the data are copied in, so the caller's buffers may go away after Create.
class XgboostMatrix {
 public:
  // `values` has rows × cols entries; `labels` is empty or has `rows` entries.
  static Result<XgboostMatrix> Create(std::span<const float> values, int64_t rows, int64_t cols,
                                      std::span<const float> labels = {},
                                      int nthread = kDefaultXgboostThreads);
  XgboostMatrix(XgboostMatrix&& other) noexcept;
  XgboostMatrix& operator=(XgboostMatrix&& other) noexcept;
  XgboostMatrix(const XgboostMatrix&) = delete;
  XgboostMatrix& operator=(const XgboostMatrix&) = delete;
  ~XgboostMatrix();

  int64_t rows() const { return rows_; }
  int64_t cols() const { return cols_; }
  void* handle() const { return handle_; }  // DMatrixHandle, for xgboost_booster.cc

 private:
  XgboostMatrix(void* handle, int64_t rows, int64_t cols)
      : handle_(handle), rows_(rows), cols_(cols) {}
  void* handle_ = nullptr;
  int64_t rows_ = 0;
  int64_t cols_ = 0;
};

// One "[round]\tset-metric:value" entry of XGBoost's per-round evaluation line.
struct EvalEntry {
  std::string set;     // "train", "valid"
  std::string metric;  // "auc", "logloss", "ndcg@5" …
  double value = 0;
};

struct BoosterOptions {
  // XGBoost parameters ("objective", "eta", "max_depth", "eval_metric", "seed" …), set in key
  // order. "nthread" here overrides `nthread` below. "eval_metric" may list several metrics
  // separated by commas ("logloss,auc"); each is evaluated every round, and the last one is the
  // metric early stopping watches (as in XGBoost's Python package).
  std::map<std::string, std::string> params;
  int num_rounds = 100;
  // Stop when the validation metric has not improved for this many rounds; 0 turns early
  // stopping off. Needs a validation matrix.
  int early_stopping_rounds = 0;
  int nthread = kDefaultXgboostThreads;
  // Called after every round with the round (0-based) and the last evaluation metric on the
  // training and validation sets (NaN for the validation set when there is none).
  std::function<void(int round, double train_metric, double valid_metric)> on_iteration;
  // Called after every round with every entry of XGBoost's evaluation line, in its order.
  std::function<void(int round, std::span<const EvalEntry> entries)> on_evaluation;
};

struct TrainSummary {
  std::string metric;     // the metric early stopping watched, e.g. "auc"
  bool maximize = false;  // whether larger values of `metric` are better
  int rounds_run = 0;     // rounds trained before stopping
  int best_round = -1;    // 0-based round with the best validation metric (-1: no validation)
  double best_valid_metric = 0;
  double best_train_metric = 0;  // the training metric at `best_round` (or the last round)
};

// SHAP values from XGBoost's TreeSHAP: for each row (and class, for multiclass
// models) one contribution per feature plus a bias term; they sum to the margin prediction.
struct ShapValues {
  int64_t rows = 0;
  int64_t groups = 1;         // number of classes for multi:softprob/softmax, else 1
  int64_t features = 0;       // each row and group holds features + 1 values; the last is the bias
  std::vector<float> values;  // rows × groups × (features + 1), row-major

  float at(int64_t row, int64_t group, int64_t feature) const {
    return values[static_cast<size_t>((row * groups + group) * (features + 1) + feature)];
  }
};

// Global importance: mean |SHAP value| per feature over all rows (and classes, averaged), bias
// excluded. One value per feature, in column order.
std::vector<double> MeanAbsoluteShap(const ShapValues& shap);

// A trained (or loaded) XGBoost booster. Move-only; not thread-safe (XGBoost's prediction
// caches are per booster), so give each thread its own or serialize calls.
class XgboostBooster {
 public:
  // Trains on `train`, evaluating on `train` and `valid` (optional) after every round.
  // With early stopping, training stops when the validation metric (the last one XGBoost
  // reports, as in its Python package) has not improved for `early_stopping_rounds` rounds, and
  // the booster is then *sliced* to rounds [0, best_round]: the model holds only the best trees,
  // so its bytes, predictions and SHAP values all reflect the best round without any
  // iteration_range bookkeeping by whoever loads it later.
  static Result<XgboostBooster> Train(const XgboostMatrix& train, const XgboostMatrix* valid,
                                      const BoosterOptions& options,
                                      TrainSummary* summary = nullptr);
  // Loads bytes from SaveRaw (either format; XGBoost detects which).
  static Result<XgboostBooster> LoadRaw(std::string_view bytes,
                                        int nthread = kDefaultXgboostThreads);

  XgboostBooster(XgboostBooster&& other) noexcept;
  XgboostBooster& operator=(XgboostBooster&& other) noexcept;
  XgboostBooster(const XgboostBooster&) = delete;
  XgboostBooster& operator=(const XgboostBooster&) = delete;
  ~XgboostBooster();

  // The model as "json" or "ubj" (Universal Binary JSON) bytes. Deterministic: the same data,
  // parameters and seed give identical bytes.
  Result<std::string> SaveRaw(std::string_view format = "ubj") const;
  // Probabilities of class 1 for binary:logistic, rows × classes probabilities (row-major) for
  // multi:softprob, values for regression; untransformed margins when `output_margin`.
  Result<std::vector<float>> Predict(const XgboostMatrix& matrix, bool output_margin = false) const;
  // TreeSHAP contributions (XGBoost's pred_contribs).
  Result<ShapValues> ShapContributions(const XgboostMatrix& matrix) const;
  // Boosting rounds in the model.
  Result<int> NumRounds() const;
  // Number of input features the model was trained on.
  Result<int64_t> NumFeatures() const;
  // Predicts straight from a dense row-major float buffer (NaN = missing) without building a
  // DMatrix (XGBoost's in-place prediction): the same values as Predict on the same data, but
  // cheaper for small batches, and safe to call from several threads at once. Boosters XGBoost
  // cannot predict in place (gblinear) go through a DMatrix, one call at a time. `values` has
  // rows × cols entries;
  // cols must equal NumFeatures().
  Result<std::vector<float>> PredictDense(std::span<const float> values, int64_t rows, int64_t cols,
                                          bool output_margin = false) const;
  // XGBoost's configuration of this booster as JSON text (objective, num_class, parameters).
  Result<std::string> SaveConfig() const;
  // Names and types stored with the model (and shown by XGBoost's own tools); `types` uses
  // XGBoost's codes ("q" quantitative, "int", "i" indicator) and is empty or one per name.
  Status SetFeatureInfo(std::span<const std::string> names, std::span<const std::string> types);
  // Sets a string attribute stored with the model (XGBoosterSetAttr); Python's XGBClassifier
  // reads its estimator metadata from the "scikit_learn" attribute.
  Status SetAttribute(const std::string& key, const std::string& value);
  // The feature names stored with the model; empty when it has none.
  Result<std::vector<std::string>> FeatureNames() const;

 private:
  explicit XgboostBooster(void* handle) : handle_(handle) {}
  Result<std::vector<float>> PredictRaw(const XgboostMatrix& matrix, int type,
                                        std::vector<uint64_t>* shape) const;
  void* handle_ = nullptr;  // BoosterHandle
};

// Parses one XGBoosterEvalOneIter line, "[3]\ttrain-auc:0.91\tvalid-auc:0.84", into
// (set name, metric name, value) entries in order. kInvalidArgument on a malformed line.
Result<std::vector<EvalEntry>> ParseEvalLine(std::string_view line);

// Checks XGBoost parameters the way XGBoost itself would at the start of training, without
// training: kInvalidArgument naming the first parameter XGBoost rejects (a malformed value, an
// unknown objective, tree method or metric) with XGBoost's own message, or every parameter it
// would silently ignore (an unknown name such as "max_dept"). `num_features` sizes the small
// matrix the check configures a booster on. Parameters are applied in key order, "eval_metric"
// split on commas, as Train applies them.
Status ValidateXgboostParams(const std::map<std::string, std::string>& params,
                             int64_t num_features);

// Whether a larger value of XGBoost metric `metric` is better (auc, aucpr, map, ndcg, pre…).
bool MetricIsMaximized(std::string_view metric);

}  // namespace cairn::ml
