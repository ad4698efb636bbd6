#include "ml/xgboost_booster.h"

#include <xgboost/c_api.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <limits>
#include <mutex>
#include <utility>

namespace cairn::ml {
namespace {

// XGBoost's error text without its decorations: "[16:22:43] ./src/metric/metric.cc:49: Unknown
// metric function bogus\nStack trace: …" → "Unknown metric function bogus".
std::string CleanXgboostMessage(std::string_view message) {
  if (const size_t trace = message.find("Stack trace:"); trace != std::string_view::npos) {
    message = message.substr(0, trace);
  }
  if (!message.empty() && message.front() == '[') {
    const size_t close = message.find("] ");
    if (close != std::string_view::npos) message = message.substr(close + 2);
    // A source location "./src/x.cc:49: " follows the time stamp.
    if (!message.empty() && (message.front() == '.' || message.front() == '/')) {
      const size_t colon = message.find(": ");
      if (colon != std::string_view::npos) message = message.substr(colon + 2);
    }
  }
  while (!message.empty() && std::isspace(static_cast<unsigned char>(message.back()))) {
    message.remove_suffix(1);
  }
  while (!message.empty() && std::isspace(static_cast<unsigned char>(message.front()))) {
    message.remove_prefix(1);
  }
  return std::string(message);
}

std::string LastError() { return CleanXgboostMessage(XGBGetLastError()); }

// Turns a failed C API call into a Status carrying XGBoost's own message.
Status Check(int rc, std::string_view what) {
  if (rc == 0) return Status();
  return Internal("xgboost: " + std::string(what) + ": " + LastError());
}

#define CAIRN_XGB(call, what) CAIRN_RETURN_IF_ERROR(Check((call), (what)))

// Frees a booster handle unless released; keeps error paths in Train leak-free.
struct BoosterGuard {
  BoosterHandle handle = nullptr;
  ~BoosterGuard() {
    if (handle != nullptr) XGBoosterFree(handle);
  }
  BoosterHandle release() { return std::exchange(handle, nullptr); }
};

// XGBoost's log callback registry is per thread, and so is this sink: while a LogCapture lives,
// XGBoost's messages on its thread are collected instead of printed.
thread_local std::string* log_sink = nullptr;

void RouteXgboostLog(const char* message) {
  if (log_sink != nullptr) {
    log_sink->append(message);
    log_sink->push_back('\n');
    return;
  }
  std::fprintf(stderr, "%s\n", message);  // what XGBoost does without a callback
}

class LogCapture {
 public:
  explicit LogCapture(std::string* sink) : previous_(std::exchange(log_sink, sink)) {
    XGBRegisterLogCallback(&RouteXgboostLog);
  }
  ~LogCapture() { log_sink = previous_; }
  LogCapture(const LogCapture&) = delete;
  LogCapture& operator=(const LogCapture&) = delete;

 private:
  std::string* previous_;
};

// XGBoost's global configuration (verbosity, use_rabit) is per thread, and a booster parameter
// "verbosity" changes it for the thread for good. This restores it when the scope ends, so one
// training's verbosity does not leak into the next on the same thread.
class GlobalConfigScope {
 public:
  GlobalConfigScope() {
    const char* config = nullptr;
    if (XGBGetGlobalConfig(&config) == 0 && config != nullptr) saved_ = config;
  }
  ~GlobalConfigScope() {
    if (!saved_.empty()) XGBSetGlobalConfig(saved_.c_str());
  }
  GlobalConfigScope(const GlobalConfigScope&) = delete;
  GlobalConfigScope& operator=(const GlobalConfigScope&) = delete;

 private:
  std::string saved_;
};

// Sets `params` in key order; "eval_metric" may list several metrics separated by commas.
Status SetParams(BoosterHandle handle, const std::map<std::string, std::string>& params) {
  for (const auto& [key, value] : params) {
    if (key != "eval_metric") {
      CAIRN_XGB(XGBoosterSetParam(handle, key.c_str(), value.c_str()), "setting parameter " + key);
      continue;
    }
    size_t pos = 0;
    while (pos <= value.size()) {
      size_t end = value.find(',', pos);
      if (end == std::string::npos) end = value.size();
      const std::string metric = value.substr(pos, end - pos);
      pos = end + 1;
      if (metric.empty()) continue;
      CAIRN_XGB(XGBoosterSetParam(handle, "eval_metric", metric.c_str()),
                "setting parameter eval_metric");
    }
  }
  return Status();
}

// The names in XGBoost's validation warning: 'Parameters: { "foo", "bar" } are not used.'
std::vector<std::string> UnusedParameters(std::string_view log) {
  std::vector<std::string> names;
  size_t pos = 0;
  while ((pos = log.find("Parameters: {", pos)) != std::string_view::npos) {
    const size_t close = log.find('}', pos);
    if (close == std::string_view::npos) break;
    std::string_view list = log.substr(pos, close - pos);
    size_t q = 0;
    while ((q = list.find('"', q)) != std::string_view::npos) {
      const size_t end = list.find('"', q + 1);
      if (end == std::string_view::npos) break;
      std::string name(list.substr(q + 1, end - q - 1));
      if (std::find(names.begin(), names.end(), name) == names.end()) names.push_back(name);
      q = end + 1;
    }
    pos = close;
  }
  return names;
}

const EvalEntry* LastEntryFor(const std::vector<EvalEntry>& entries, std::string_view set) {
  const EvalEntry* found = nullptr;
  for (const auto& e : entries) {
    if (e.set == set) found = &e;
  }
  return found;
}

}  // namespace

std::string XgboostVersion() {
  int major = 0, minor = 0, patch = 0;
  XGBoostVersion(&major, &minor, &patch);
  return std::to_string(major) + "." + std::to_string(minor) + "." + std::to_string(patch);
}

// ---------------------------------------------------------------------------------------------
// XgboostMatrix

Result<XgboostMatrix> XgboostMatrix::Create(std::span<const float> values, int64_t rows,
                                            int64_t cols, std::span<const float> labels,
                                            int nthread) {
  if (rows <= 0 || cols <= 0) {
    return InvalidArgument("a matrix needs rows and columns, got " + std::to_string(rows) + "×" +
                           std::to_string(cols));
  }
  if (values.size() != static_cast<size_t>(rows * cols)) {
    return InvalidArgument(std::to_string(values.size()) + " values for a " + std::to_string(rows) +
                           "×" + std::to_string(cols) + " matrix");
  }
  if (!labels.empty() && labels.size() != static_cast<size_t>(rows)) {
    return InvalidArgument(std::to_string(labels.size()) + " labels for " + std::to_string(rows) +
                           " rows");
  }
  DMatrixHandle handle = nullptr;
  CAIRN_XGB(XGDMatrixCreateFromMat_omp(values.data(), static_cast<bst_ulong>(rows),
                                       static_cast<bst_ulong>(cols),
                                       std::numeric_limits<float>::quiet_NaN(), &handle, nthread),
            "creating a matrix");
  XgboostMatrix matrix(handle, rows, cols);
  if (!labels.empty()) {
    CAIRN_XGB(XGDMatrixSetFloatInfo(handle, "label", labels.data(),
                                    static_cast<bst_ulong>(labels.size())),
              "setting labels");
  }
  return matrix;
}

XgboostMatrix::XgboostMatrix(XgboostMatrix&& other) noexcept
    : handle_(std::exchange(other.handle_, nullptr)), rows_(other.rows_), cols_(other.cols_) {}

XgboostMatrix& XgboostMatrix::operator=(XgboostMatrix&& other) noexcept {
  if (this != &other) {
    if (handle_ != nullptr) XGDMatrixFree(handle_);
    handle_ = std::exchange(other.handle_, nullptr);
    rows_ = other.rows_;
    cols_ = other.cols_;
  }
  return *this;
}

XgboostMatrix::~XgboostMatrix() {
  if (handle_ != nullptr) XGDMatrixFree(handle_);
}

// ---------------------------------------------------------------------------------------------
// Evaluation lines

Result<std::vector<EvalEntry>> ParseEvalLine(std::string_view line) {
  std::vector<EvalEntry> entries;
  size_t pos = 0;
  bool first = true;
  while (pos <= line.size()) {
    size_t end = line.find('\t', pos);
    if (end == std::string_view::npos) end = line.size();
    const std::string_view token = line.substr(pos, end - pos);
    pos = end + 1;
    if (first) {  // "[3]"
      first = false;
      if (token.size() < 3 || token.front() != '[' || token.back() != ']') {
        return InvalidArgument("malformed evaluation line: " + std::string(line));
      }
      continue;
    }
    if (token.empty()) continue;
    const size_t dash = token.find('-');
    const size_t colon = token.rfind(':');
    if (dash == std::string_view::npos || colon == std::string_view::npos || colon < dash) {
      return InvalidArgument("malformed evaluation entry '" + std::string(token) +
                             "' in: " + std::string(line));
    }
    EvalEntry entry;
    entry.set = std::string(token.substr(0, dash));
    entry.metric = std::string(token.substr(dash + 1, colon - dash - 1));
    const std::string_view number = token.substr(colon + 1);
    auto [ptr, ec] = std::from_chars(number.data(), number.data() + number.size(), entry.value);
    if (ec != std::errc() || ptr != number.data() + number.size()) {
      return InvalidArgument("malformed metric value '" + std::string(number) +
                             "' in: " + std::string(line));
    }
    entries.push_back(std::move(entry));
  }
  if (first) return InvalidArgument("empty evaluation line");
  return entries;
}

bool MetricIsMaximized(std::string_view metric) {
  for (std::string_view name : {"auc", "aucpr", "map", "ndcg", "pre"}) {
    if (metric == name) return true;
    // Parameterised forms: "ndcg@5", "map@10-", "pre@3".
    if (metric.size() > name.size() && metric.substr(0, name.size()) == name &&
        metric[name.size()] == '@') {
      return true;
    }
  }
  return false;
}

// ---------------------------------------------------------------------------------------------
// XgboostBooster

Result<XgboostBooster> XgboostBooster::Train(const XgboostMatrix& train, const XgboostMatrix* valid,
                                             const BoosterOptions& options, TrainSummary* summary) {
  if (options.num_rounds <= 0) {
    return InvalidArgument("num_rounds must be positive, got " +
                           std::to_string(options.num_rounds));
  }
  if (options.early_stopping_rounds < 0) {
    return InvalidArgument("early_stopping_rounds must not be negative");
  }
  if (options.early_stopping_rounds > 0 && valid == nullptr) {
    return InvalidArgument("early stopping needs a validation set");
  }
  if (valid != nullptr && valid->cols() != train.cols()) {
    return InvalidArgument("validation matrix has " + std::to_string(valid->cols()) +
                           " columns, training matrix " + std::to_string(train.cols()));
  }
  DMatrixHandle dmats[2] = {train.handle(), valid != nullptr ? valid->handle() : nullptr};
  const char* names[2] = {"train", "valid"};
  const bst_ulong num_sets = valid != nullptr ? 2 : 1;

  GlobalConfigScope global_config;
  BoosterGuard booster;
  CAIRN_XGB(XGBoosterCreate(dmats, num_sets, &booster.handle), "creating a booster");
  const std::string nthread = std::to_string(options.nthread);
  CAIRN_XGB(XGBoosterSetParam(booster.handle, "nthread", nthread.c_str()), "setting nthread");
  CAIRN_RETURN_IF_ERROR(SetParams(booster.handle, options.params));

  TrainSummary result;
  const double nan = std::numeric_limits<double>::quiet_NaN();
  for (int round = 0; round < options.num_rounds; ++round) {
    CAIRN_XGB(XGBoosterUpdateOneIter(booster.handle, round, train.handle()),
              "training round " + std::to_string(round));
    result.rounds_run = round + 1;
    const char* eval = nullptr;
    CAIRN_XGB(XGBoosterEvalOneIter(booster.handle, round, dmats, names, num_sets, &eval),
              "evaluating round " + std::to_string(round));
    CAIRN_TRY(auto entries, ParseEvalLine(eval));
    const EvalEntry* train_entry = LastEntryFor(entries, "train");
    const EvalEntry* valid_entry = LastEntryFor(entries, "valid");
    if (train_entry == nullptr || (valid != nullptr && valid_entry == nullptr)) {
      return Internal("xgboost: unexpected evaluation line: " + std::string(eval));
    }
    const double train_metric = train_entry->value;
    const double valid_metric = valid_entry != nullptr ? valid_entry->value : nan;
    if (options.on_iteration) options.on_iteration(round, train_metric, valid_metric);
    if (options.on_evaluation) options.on_evaluation(round, entries);

    result.metric = (valid_entry != nullptr ? valid_entry : train_entry)->metric;
    result.maximize = MetricIsMaximized(result.metric);
    if (valid == nullptr) {
      result.best_train_metric = train_metric;
      continue;
    }
    const bool improved =
        result.best_round < 0 || (result.maximize ? valid_metric > result.best_valid_metric
                                                  : valid_metric < result.best_valid_metric);
    if (improved) {
      result.best_round = round;
      result.best_valid_metric = valid_metric;
      result.best_train_metric = train_metric;
    } else if (options.early_stopping_rounds > 0 &&
               round - result.best_round >= options.early_stopping_rounds) {
      break;
    }
  }

  if (options.early_stopping_rounds > 0 && result.best_round + 1 < result.rounds_run) {
    BoosterGuard sliced;
    CAIRN_XGB(XGBoosterSlice(booster.handle, 0, result.best_round + 1, 1, &sliced.handle),
              "keeping the best rounds");
    std::swap(booster.handle, sliced.handle);
  }
  if (summary != nullptr) *summary = std::move(result);
  return XgboostBooster(booster.release());
}

Result<XgboostBooster> XgboostBooster::LoadRaw(std::string_view bytes, int nthread) {
  if (bytes.empty()) return InvalidArgument("empty model bytes");
  BoosterGuard booster;
  CAIRN_XGB(XGBoosterCreate(nullptr, 0, &booster.handle), "creating a booster");
  CAIRN_XGB(XGBoosterLoadModelFromBuffer(booster.handle, bytes.data(),
                                         static_cast<bst_ulong>(bytes.size())),
            "loading a model");
  const std::string threads = std::to_string(nthread);
  CAIRN_XGB(XGBoosterSetParam(booster.handle, "nthread", threads.c_str()), "setting nthread");
  return XgboostBooster(booster.release());
}

XgboostBooster::XgboostBooster(XgboostBooster&& other) noexcept
    : handle_(std::exchange(other.handle_, nullptr)) {}

XgboostBooster& XgboostBooster::operator=(XgboostBooster&& other) noexcept {
  if (this != &other) {
    if (handle_ != nullptr) XGBoosterFree(handle_);
    handle_ = std::exchange(other.handle_, nullptr);
  }
  return *this;
}

XgboostBooster::~XgboostBooster() {
  if (handle_ != nullptr) XGBoosterFree(handle_);
}

Result<std::string> XgboostBooster::SaveRaw(std::string_view format) const {
  if (format != "json" && format != "ubj") {
    return InvalidArgument("model format must be json or ubj, got " + std::string(format));
  }
  const std::string config = R"({"format": ")" + std::string(format) + R"("})";
  bst_ulong length = 0;
  const char* bytes = nullptr;
  CAIRN_XGB(XGBoosterSaveModelToBuffer(handle_, config.c_str(), &length, &bytes),
            "saving the model");
  return std::string(bytes, static_cast<size_t>(length));
}

Result<std::vector<float>> XgboostBooster::PredictRaw(const XgboostMatrix& matrix, int type,
                                                      std::vector<uint64_t>* shape) const {
  const std::string config = R"({"type": )" + std::to_string(type) +
                             R"(, "training": false, "iteration_begin": 0, )"
                             R"("iteration_end": 0, "strict_shape": false})";
  const bst_ulong* out_shape = nullptr;
  bst_ulong out_dim = 0;
  const float* out = nullptr;
  CAIRN_XGB(XGBoosterPredictFromDMatrix(handle_, matrix.handle(), config.c_str(), &out_shape,
                                        &out_dim, &out),
            "predicting");
  size_t size = 1;
  shape->assign(out_shape, out_shape + out_dim);
  for (uint64_t d : *shape) size *= static_cast<size_t>(d);
  return std::vector<float>(out, out + size);
}

Result<std::vector<float>> XgboostBooster::Predict(const XgboostMatrix& matrix,
                                                   bool output_margin) const {
  std::vector<uint64_t> shape;
  return PredictRaw(matrix, output_margin ? 1 : 0, &shape);
}

Result<ShapValues> XgboostBooster::ShapContributions(const XgboostMatrix& matrix) const {
  std::vector<uint64_t> shape;
  CAIRN_TRY(auto values, PredictRaw(matrix, 2, &shape));
  ShapValues shap;
  shap.rows = matrix.rows();
  shap.features = matrix.cols();
  // (rows, features + 1) for one output group; (rows, groups, features + 1) for several.
  if (shape.size() == 3) {
    shap.groups = static_cast<int64_t>(shape[1]);
  } else if (shape.size() != 2) {
    return Internal("xgboost: unexpected contribution shape of " + std::to_string(shape.size()) +
                    " dimensions");
  }
  if (static_cast<int64_t>(shape.front()) != shap.rows ||
      static_cast<int64_t>(shape.back()) != shap.features + 1) {
    return Internal("xgboost: contribution shape does not match the matrix");
  }
  shap.values = std::move(values);
  return shap;
}

Result<int> XgboostBooster::NumRounds() const {
  int rounds = 0;
  CAIRN_XGB(XGBoosterBoostedRounds(handle_, &rounds), "counting rounds");
  return rounds;
}

Result<int64_t> XgboostBooster::NumFeatures() const {
  bst_ulong features = 0;
  CAIRN_XGB(XGBoosterGetNumFeature(handle_, &features), "counting features");
  return static_cast<int64_t>(features);
}

Result<std::vector<float>> XgboostBooster::PredictDense(std::span<const float> values, int64_t rows,
                                                        int64_t cols, bool output_margin) const {
  if (rows <= 0 || cols <= 0 || values.size() != static_cast<size_t>(rows * cols)) {
    return InvalidArgument(std::to_string(values.size()) + " values for a " + std::to_string(rows) +
                           "×" + std::to_string(cols) + " matrix");
  }
  // NumPy's __array_interface__, which XGBoost reads the buffer through.
  const std::string array =
      R"({"data": [)" + std::to_string(reinterpret_cast<uintptr_t>(values.data())) +
      R"(, true], "shape": [)" + std::to_string(rows) + ", " + std::to_string(cols) +
      R"(], "strides": null, "typestr": "<f4", "version": 3})";
  const std::string config = R"({"type": )" + std::string(output_margin ? "1" : "0") +
                             R"(, "training": false, "iteration_begin": 0, "iteration_end": 0, )"
                             R"("strict_shape": false, "missing": NaN, "cache_id": 0})";
  const bst_ulong* out_shape = nullptr;
  bst_ulong out_dim = 0;
  const float* out = nullptr;
  if (XGBoosterPredictFromDense(handle_, array.c_str(), config.c_str(), nullptr, &out_shape,
                                &out_dim, &out) != 0) {
    const std::string error = LastError();
    if (error.find("Inplace predict is not supported") == std::string::npos) {
      return Internal("xgboost: predicting: " + error);
    }
    // gblinear boosters (XGBoost 1.7) predict only through a DMatrix. That path keeps
    // per-booster state, so calls are serialized; gbtree boosters never come here.
    static std::mutex dmatrix_predict;
    std::lock_guard<std::mutex> lock(dmatrix_predict);
    CAIRN_TRY(XgboostMatrix matrix, XgboostMatrix::Create(values, rows, cols, {}, 1));
    return Predict(matrix, output_margin);
  }
  size_t size = 1;
  for (bst_ulong d = 0; d < out_dim; ++d) size *= static_cast<size_t>(out_shape[d]);
  return std::vector<float>(out, out + size);
}

Result<std::string> XgboostBooster::SaveConfig() const {
  bst_ulong length = 0;
  const char* json = nullptr;
  CAIRN_XGB(XGBoosterSaveJsonConfig(handle_, &length, &json), "saving the configuration");
  return std::string(json, static_cast<size_t>(length));
}

Status XgboostBooster::SetFeatureInfo(std::span<const std::string> names,
                                      std::span<const std::string> types) {
  if (!types.empty() && types.size() != names.size()) {
    return InvalidArgument(std::to_string(types.size()) + " feature types for " +
                           std::to_string(names.size()) + " names");
  }
  auto set = [&](const char* field, std::span<const std::string> values) -> Status {
    std::vector<const char*> pointers;
    pointers.reserve(values.size());
    for (const auto& v : values) pointers.push_back(v.c_str());
    return Check(XGBoosterSetStrFeatureInfo(handle_, field, pointers.data(),
                                            static_cast<bst_ulong>(pointers.size())),
                 std::string("setting ") + field);
  };
  CAIRN_RETURN_IF_ERROR(set("feature_name", names));
  if (!types.empty()) CAIRN_RETURN_IF_ERROR(set("feature_type", types));
  return Status();
}

Status XgboostBooster::SetAttribute(const std::string& key, const std::string& value) {
  return Check(XGBoosterSetAttr(handle_, key.c_str(), value.c_str()), "setting attribute " + key);
}

Result<std::vector<std::string>> XgboostBooster::FeatureNames() const {
  bst_ulong length = 0;
  const char** names = nullptr;
  CAIRN_XGB(XGBoosterGetStrFeatureInfo(handle_, "feature_name", &length, &names),
            "reading feature names");
  return std::vector<std::string>(names, names + length);
}

Status ValidateXgboostParams(const std::map<std::string, std::string>& params,
                             int64_t num_features) {
  if (num_features <= 0) return InvalidArgument("no features to validate parameters with");
  const std::vector<float> zeros(static_cast<size_t>(2 * num_features), 0.0f);
  const std::vector<float> labels = {0.0f, 1.0f};
  CAIRN_TRY(auto matrix, XgboostMatrix::Create(zeros, 2, num_features, labels, 1));
  DMatrixHandle dmat = matrix.handle();
  BoosterGuard booster;
  CAIRN_XGB(XGBoosterCreate(&dmat, 1, &booster.handle), "creating a booster");
  CAIRN_XGB(XGBoosterSetParam(booster.handle, "validate_parameters", "1"), "validating");
  CAIRN_XGB(XGBoosterSetParam(booster.handle, "nthread", "1"), "setting nthread");
  // Warnings must be on for XGBoost to report unused parameters; "verbosity" is global, not a
  // booster parameter, so it is checked here rather than handed to the booster.
  GlobalConfigScope global_config;
  CAIRN_XGB(XGBSetGlobalConfig(R"({"verbosity": 1})"), "setting verbosity");
  std::string log;
  LogCapture capture(&log);
  // One parameter at a time, configuring after each, so a failure names its parameter even when
  // XGBoost's message does not ("Unknown metric function bogus"). A booster whose configuration
  // failed is unusable (XGBoost 1.7 crashes on the next update), so the first failure ends it.
  for (const auto& [key, value] : params) {
    if (key == "verbosity") {
      if (value != "0" && value != "1" && value != "2" && value != "3") {
        return InvalidArgument("invalid XGBoost parameter verbosity=" + value +
                               ": must be 0 (silent), 1 (warning), 2 (info) or 3 (debug)");
      }
      continue;
    }
    Status status = SetParams(booster.handle, {{key, value}});
    if (status.ok()) {
      bst_ulong length = 0;
      const char* json = nullptr;
      if (XGBoosterSaveJsonConfig(booster.handle, &length, &json) != 0) {
        status = Internal(LastError());
      }
    }
    if (!status.ok()) {
      std::string message = status.message();
      if (message.rfind("xgboost: ", 0) == 0) {  // drop Check's "xgboost: setting …: " prefix
        const size_t colon = message.find(": ", 9);
        if (colon != std::string::npos) message = message.substr(colon + 2);
      }
      return InvalidArgument("invalid XGBoost parameter " + key + "=" + value + ": " + message);
    }
  }
  const std::vector<std::string> unused = UnusedParameters(log);
  if (!unused.empty()) {
    std::string list;
    for (const auto& name : unused) list += (list.empty() ? "" : ", ") + name;
    return InvalidArgument("unknown XGBoost parameter" +
                           std::string(unused.size() > 1 ? "s " : " ") + list +
                           " (XGBoost: Parameters: { " + list + " } are not used)");
  }
  return Status();
}

std::vector<double> MeanAbsoluteShap(const ShapValues& shap) {
  std::vector<double> mean(static_cast<size_t>(shap.features), 0.0);
  if (shap.rows == 0 || shap.groups == 0) return mean;
  for (int64_t r = 0; r < shap.rows; ++r) {
    for (int64_t g = 0; g < shap.groups; ++g) {
      for (int64_t f = 0; f < shap.features; ++f) {
        mean[static_cast<size_t>(f)] += std::abs(static_cast<double>(shap.at(r, g, f)));
      }
    }
  }
  for (double& m : mean) m /= static_cast<double>(shap.rows * shap.groups);
  return mean;
}

}  // namespace cairn::ml
