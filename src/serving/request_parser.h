// Parsers of scoring request bodies — MLflow's /invocations JSON and CSV, and the Open Inference
// Protocol v2's infer JSON — straight into cells in the model's feature order, checked against
// its input schema. Untrusted input: every malformed body is an InvalidArgument naming the
// field, column and row, never a crash (fuzzed: fuzz/scoring_request_fuzz.cc).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "core/result.h"
#include "ml/tabular.h"

namespace cairn::serving {

// One input column of a model: what a request must (or may) send for it.
struct InputColumn {
  std::string name;
  ml::FeatureKind kind = ml::FeatureKind::kNumeric;
  // The signature says long/integer: a number with a fraction is the wrong type.
  bool integral = false;
  // The signature marks it `required: false`: a request may leave it out (missing values).
  bool optional = false;
};

// The columns a model takes, in feature order.
class InputSchema {
 public:
  explicit InputSchema(std::vector<InputColumn> columns);
  // Movable (the index points into the columns' heap storage, which moves along), not copyable.
  InputSchema(InputSchema&&) noexcept = default;
  InputSchema& operator=(InputSchema&&) noexcept = default;
  InputSchema(const InputSchema&) = delete;
  InputSchema& operator=(const InputSchema&) = delete;
  const std::vector<InputColumn>& columns() const { return columns_; }
  size_t size() const { return columns_.size(); }
  // The column's index, or -1.
  int Find(std::string_view name) const;

 private:
  std::vector<InputColumn> columns_;
  std::unordered_map<std::string_view, int> index_;  // views into columns_' names
};

// What the caller asks to get back.
enum class PredictKind {
  kDefault,  // probabilities (classification) or values (regression)
  kLabels,   // the predicted class labels
};

// A parsed request: `rows` rows of cells in the schema's column order. String cells point into
// the RequestParser that produced it, valid until its next Parse call.
struct ScoringInput {
  int64_t rows = 0;
  std::vector<ml::Cell> cells;  // rows × schema.size()
  PredictKind predict = PredictKind::kDefault;
  // v2 only: the request's "id" (empty when none), and the outputs it names ("predict",
  // "label"; empty: the default output).
  std::string id;
  std::vector<std::string> outputs;
};

// Largest number of rows one request may carry.
inline constexpr int64_t kMaxRequestRows = 1'000'000;

// Parses request bodies. Reuses its buffers from call to call: keep one per thread. Not
// thread-safe.
class RequestParser {
 public:
  RequestParser();
  ~RequestParser();
  RequestParser(const RequestParser&) = delete;
  RequestParser& operator=(const RequestParser&) = delete;

  // MLflow's JSON: an object with exactly one of
  //   dataframe_split   {"columns": [...], "data": [[...], ...], "index"?: [...]}
  //   dataframe_records [{"col": value, ...}, ...]
  //   instances         [{"col": value, ...}, ...] or [[v, ...], ...] (values in schema order)
  //   inputs            {"col": [values...], ...} (columnar) or as instances
  // and optionally "params": {"predict": "labels" | "probabilities"}. Values: numbers,
  // strings, booleans, null (missing). NaN and Infinity are not JSON and are rejected; so are
  // numbers beyond float's range, fractions in integer columns, absent required columns, empty
  // batches, nested values.
  Result<const ScoringInput*> ParseMlflowJson(const InputSchema& schema, std::string_view body);
  // MLflow's text/csv: a header row naming the columns, then the rows (data/csv_reader.h's
  // dialect and missing markers).
  Result<const ScoringInput*> ParseCsv(const InputSchema& schema, std::string_view body);
  // An Open Inference Protocol v2 infer request: {"id"?, "parameters"?, "inputs": [...],
  // "outputs"?: [{"name"}]}. Inputs are either one tensor per column (named as the column,
  // shape [N] or [N, 1]) or a single [N, F] tensor with the F columns in schema order; "data"
  // flat or nested, its values matching the tensor's datatype (BOOL, INT*, UINT*, FP*, BYTES).
  // "parameters": {"predict": "labels"} asks for labels, as does an output named "label".
  Result<const ScoringInput*> ParseV2Json(const InputSchema& schema, std::string_view body);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace cairn::serving
