// Model directories in the MLflow model format: writing Cairn's (MLmodel with the xgboost and
// python_function flavors, the booster, preprocessing, input example, SHAP importance) and
// reading Cairn's or those written by mlflow.xgboost.log_model. Local files only.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"
#include "ml/tabular.h"
#include "ml/trainer.h"

namespace cairn::ml {

// The MLflow release whose model format Cairn writes (MLmodel's `mlflow_version`, and the
// mlflow requirement of the Python environment files), and the Python those files ask for.
inline constexpr std::string_view kMlflowFormatVersion = "2.10.0";
inline constexpr std::string_view kPythonVersion = "3.11.2";

// The dataset version a model was trained on (MLmodel's cairn.dataset).
struct DatasetRef {
  std::string name;
  std::string version;
  std::string digest;  // the version's content digest

  friend bool operator==(const DatasetRef&, const DatasetRef&) = default;
};

// What the caller knows about a model that the trainer does not.
struct ModelInfo {
  std::string artifact_path = "model";  // where the directory sits in the run's artifacts
  std::string run_id;
  std::string model_uuid;      // empty: a new random one (32 hex characters, as MLflow's)
  int64_t created_millis = 0;  // Unix time in ms → utc_time_created "YYYY-MM-DD hh:mm:ss.ffffff"
  std::optional<DatasetRef> dataset;
};

// A model directory's files: path relative to the directory → bytes.
using ModelFiles = std::map<std::string, std::string>;

// The booster file Cairn writes, and the flavor fields that describe it.
inline constexpr std::string_view kBoosterFile = "model.ubj";

// Renders Cairn's model directory for a trained model:
//   MLmodel              flavors python_function (loader_module mlflow.xgboost) and xgboost
//                        (model_class XGBClassifier/XGBRegressor, model_format ubj), signature
//                        (inputs: the feature columns with MLflow types; outputs: probabilities
//                        or values), run_id, model_uuid, utc_time_created, mlflow_version,
//                        saved_input_example_info, and a `cairn` block: task, target, dataset,
//                        preprocessing
//   model.ubj            the booster (the feature names it stores are the columns)
//   input_example.json   a few training rows, MLflow's "split" orientation
//   preprocessing.json   the preprocessing (tabular.h), also inside MLmodel
//   feature_importance.json  mean |SHAP value| per feature, most important first
//   conda.yaml, python_env.yaml, requirements.txt   for `mlflow models serve`
// Deterministic: the same result and info give the same bytes.
Result<ModelFiles> RenderModelDirectory(const TrainResult& result, const ModelInfo& info);

// Writes `files` under `dir`, creating it (and parents) if needed and replacing existing files.
// kInvalidArgument for a path that is absolute or leaves the directory; kInternal on I/O errors,
// naming the file.
Status WriteModelFiles(const std::string& dir, const ModelFiles& files);

// One column of an MLflow signature: {"type": "double", "name": "x", "required": true}. A tensor
// spec is kept as type "tensor" (Cairn scores column signatures only).
struct ColumnSpec {
  std::string name;  // empty for an unnamed column (MLflow's output of a series)
  std::string type;  // double, float, long, integer, boolean, string, binary, datetime, tensor
  bool required = true;

  friend bool operator==(const ColumnSpec&, const ColumnSpec&) = default;
};

// What Cairn reads from an MLmodel file. Unknown keys are ignored.
struct MlModel {
  std::string artifact_path;
  std::string run_id;
  std::string model_uuid;
  std::string utc_time_created;
  std::string mlflow_version;
  // The xgboost flavor: the booster file (relative to the directory), its format ("ubj", "json",
  // "xgb", "deprecated"; when MLmodel omits it, from the file's extension), the estimator class
  // and the XGBoost version that wrote it.
  std::string xgb_data;
  std::string model_format;
  std::string model_class;
  std::string xgb_version;
  std::optional<std::vector<ColumnSpec>> inputs;   // signature.inputs, when present
  std::optional<std::vector<ColumnSpec>> outputs;  // signature.outputs, when present
  // The `cairn` block, in models Cairn wrote.
  std::optional<Preprocessing> preprocessing;
  std::optional<DatasetRef> dataset;
};

// Parses MLmodel text. kInvalidArgument naming the file and field: "MLmodel: flavors.xgboost.data
// is missing", "MLmodel: signature.inputs: not a JSON list of column specs", YAML syntax errors
// with their line, a model without an xgboost flavor (listing the flavors it has).
Result<MlModel> ParseMlModel(std::string_view text);

struct ModelDirectory {
  std::string path;
  MlModel mlmodel;
  std::string booster;  // the bytes of the xgboost flavor's data file
};

// Reads `dir`/MLmodel and the booster file it names. kNotFound when the directory, its MLmodel
// or the booster file is missing; kInvalidArgument for a malformed MLmodel or a data path that
// leaves the directory; each naming the file.
Result<ModelDirectory> LoadModelDirectory(const std::string& dir);

}  // namespace cairn::ml
