// A model loaded for online scoring, and the one entry point every front end uses to score an
// HTTP request with it: `cairn serve`, the workspace's endpoints, and (later) containers.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "core/result.h"
#include "http/http_types.h"

namespace cairn::serving {

// The wire protocols a scoring request may use.
enum class Protocol {
  kMlflow,       // POST /invocations: dataframe_split, dataframe_records, instances, inputs, text/csv
  kInferenceV2,  // POST /v2/models/{m}[/versions/{v}]/infer (Open Inference Protocol)
};

struct ScoringOptions {
  // Fill ScoringOutcome's inputs_json/outputs_json (for the prediction log). Off on the hot
  // path when the request is not sampled.
  bool capture = false;
  // The model name the v2 protocol answers with (`model_name` in the response); the endpoint's
  // name in the workspace, the served model's name standalone.
  std::string model_name;
  std::string model_version;
};

struct ScoringOutcome {
  // What the client gets: 200 with the protocol's prediction JSON, or 4xx/5xx with the
  // protocol's error shape (MLflow: {"error_code", "message"}; v2: {"error": "..."}).
  http::HttpResponse response;
  int64_t rows = 0;  // rows scored (0 when the request was rejected)
  // With ScoringOptions::capture and a 200 answer: the request's rows as MLflow
  // dataframe_split JSON ({"columns": [...], "data": [[...]...]}) and the predictions as a JSON
  // array, one entry per row.
  std::string inputs_json;
  std::string outputs_json;
};

// A model directory (Cairn's or mlflow.xgboost.log_model's) ready to score. Immutable after
// Load and safe to share between request threads: swap a deployment's model by swapping the
// shared_ptr.
class ScoringModel {
 public:
  virtual ~ScoringModel() = default;
  // Scores one HTTP request body of `protocol` (the caller has routed it); never throws, never
  // crashes on hostile input: bad input is a 4xx naming the column and row.
  virtual ScoringOutcome Score(Protocol protocol, const http::HttpRequest& request,
                               const ScoringOptions& options) const = 0;
  // GET /v2/models/{m}[/versions/{v}]: the model metadata (name, versions, platform, inputs,
  // outputs) as JSON text.
  virtual std::string MetadataV2Json(const ScoringOptions& options) const = 0;
  // Where it was loaded from and what it is (for /version, logs, endpoint views).
  virtual std::string Description() const = 0;
};

// Loads the model directory at `dir`. kNotFound / kInvalidArgument naming the file and field.
Result<std::shared_ptr<const ScoringModel>> LoadScoringModel(const std::string& dir);

}  // namespace cairn::serving
