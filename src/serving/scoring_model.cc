// The ScoringModel of an XGBoost model directory: request parsing (request_parser.h), the
// LoadedModel's native prediction, and the protocols' response and error shapes.
#include "serving/scoring_model.h"

#include <algorithm>
#include <charconv>
#include <nlohmann/json.hpp>
#include <string_view>
#include <utility>

#include "ml/model_dir.h"
#include "ml/scorer.h"
#include "serving/json_text.h"
#include "serving/request_parser.h"

namespace cairn::serving {
namespace {

using Json = nlohmann::json;

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

enum class BodyFormat { kJson, kCsv };

// MLflow's rule: application/json or text/csv, UTF-8 only (a charset parameter naming anything
// else is 415). A request without a Content-Type is read as JSON.
Result<BodyFormat> FormatOf(std::string_view content_type) {
  const size_t semicolon = content_type.find(';');
  const std::string media = Lower(Trim(content_type.substr(0, semicolon)));
  if (semicolon != std::string_view::npos) {
    std::string_view params = content_type.substr(semicolon + 1);
    while (!params.empty()) {
      const size_t next = params.find(';');
      const std::string_view param = Trim(params.substr(0, next));
      params = next == std::string_view::npos ? std::string_view() : params.substr(next + 1);
      const size_t eq = param.find('=');
      if (eq == std::string_view::npos) continue;
      if (Lower(Trim(param.substr(0, eq))) != "charset") continue;
      std::string charset = Lower(Trim(param.substr(eq + 1)));
      if (charset.size() >= 2 && charset.front() == '"' && charset.back() == '"') {
        charset = charset.substr(1, charset.size() - 2);
      }
      if (charset != "utf-8" && charset != "utf8") {
        return FailedPrecondition("the body's charset is " + charset +
                                  "; scoring requests must be UTF-8");
      }
    }
  }
  if (media.empty() || media == "application/json") return BodyFormat::kJson;
  if (media == "text/csv") return BodyFormat::kCsv;
  return FailedPrecondition("unsupported Content-Type '" + media.substr(0, 80) +
                            "'; send application/json or text/csv");
}

// 400 for bad input, 415 for a media type we do not read, 500 for our own failures.
int HttpStatusOf(const Status& status) {
  switch (status.code()) {
    case StatusCode::kInvalidArgument:
      return 400;
    case StatusCode::kFailedPrecondition:
      return 415;
    default:
      return 500;
  }
}

ScoringOutcome ErrorOutcome(Protocol protocol, const Status& status) {
  ScoringOutcome outcome;
  const int code = HttpStatusOf(status);
  if (protocol == Protocol::kMlflow) {
    outcome.response = http::JsonError(
        code, code == 500 ? "INTERNAL_ERROR" : "BAD_REQUEST", status.message());
  } else {
    std::string body = "{\"error\":";
    AppendJsonString(body, status.message());
    body += '}';
    outcome.response = http::JsonResponse(code, std::move(body));
  }
  return outcome;
}

class XgboostScoringModel final : public ScoringModel {
 public:
  XgboostScoringModel(std::string path, ml::LoadedModel model, InputSchema schema,
                      std::vector<std::string> input_types)
      : path_(std::move(path)),
        model_(std::move(model)),
        schema_(std::move(schema)),
        input_types_(std::move(input_types)) {
    // The captured inputs' head is the same for every request: escaped once, here.
    inputs_head_ = "{\"columns\":[";
    for (size_t c = 0; c < schema_.size(); ++c) {
      if (c > 0) inputs_head_ += ',';
      AppendJsonString(inputs_head_, schema_.columns()[c].name);
    }
    inputs_head_ += "],\"data\":[";
    const auto& target = model_.preprocessing().target;
    for (const std::string& label : model_.classes()) {
      std::string json;
      int64_t number = 0;
      const auto [end, ec] = std::from_chars(label.data(), label.data() + label.size(), number);
      if (target.type == data::ColumnType::kInteger && ec == std::errc() &&
          end == label.data() + label.size()) {
        json = label;
        label_datatype_ = "INT64";
      } else if (target.type == data::ColumnType::kBoolean &&
                 (label == "true" || label == "false")) {
        json = label;
        label_datatype_ = "BOOL";
      } else {
        AppendJsonString(json, label);
        label_datatype_ = "BYTES";
      }
      label_json_.push_back(std::move(json));
    }
  }

  ScoringOutcome Score(Protocol protocol, const http::HttpRequest& request,
                       const ScoringOptions& options) const override {
    try {
      return ScoreOrThrow(protocol, request, options);
    } catch (const std::exception& e) {
      return ErrorOutcome(protocol, Internal(std::string("internal error: ") + e.what()));
    }
  }

  std::string MetadataV2Json(const ScoringOptions& options) const override {
    Json inputs = Json::array();
    for (size_t c = 0; c < schema_.size(); ++c) {
      inputs.push_back({{"name", schema_.columns()[c].name},
                        {"datatype", input_types_[c]},
                        {"shape", {-1}}});
    }
    Json outputs = Json::array();
    Json predict = {{"name", "predict"}, {"datatype", "FP32"}, {"shape", {-1}}};
    if (model_.task() == ml::Task::kMulticlass) {
      predict["shape"] = {-1, static_cast<int64_t>(model_.classes().size())};
    }
    outputs.push_back(predict);
    if (ml::IsClassification(model_.task())) {
      outputs.push_back({{"name", "label"}, {"datatype", label_datatype_}, {"shape", {-1}}});
    }
    Json versions = Json::array();
    if (!options.model_version.empty()) versions.push_back(options.model_version);
    Json body = {{"name", options.model_name},
                 {"versions", versions},
                 {"platform", "xgboost"},
                 {"inputs", inputs},
                 {"outputs", outputs},
                 {"parameters",
                  {{"task", ml::TaskName(model_.task())},
                   {"native_evaluator", model_.native()}}}};
    return body.dump(-1, ' ', false, Json::error_handler_t::replace);
  }

  std::string Description() const override {
    std::string task(ml::TaskName(model_.task()));
    std::string out = "xgboost " + task + " model on " + std::to_string(schema_.size()) +
                      " columns from " + path_ + " (";
    out += model_.native() ? "native tree evaluator" : "XGBoost predictor: " + model_.native_status();
    return out + ")";
  }

 private:
  ScoringOutcome ScoreOrThrow(Protocol protocol, const http::HttpRequest& request,
                              const ScoringOptions& options) const {
    thread_local RequestParser parser;
    Result<const ScoringInput*> parsed = InvalidArgument("");
    if (protocol == Protocol::kMlflow) {
      auto format = FormatOf(request.Header("content-type"));
      if (!format.ok()) return ErrorOutcome(protocol, format.status());
      parsed = *format == BodyFormat::kCsv ? parser.ParseCsv(schema_, request.body)
                                           : parser.ParseMlflowJson(schema_, request.body);
    } else {
      parsed = parser.ParseV2Json(schema_, request.body);
    }
    if (!parsed.ok()) return ErrorOutcome(protocol, parsed.status());
    const ScoringInput& input = **parsed;

    PredictKind predict = input.predict;
    if (const auto query = request.QueryParam("predict")) {
      if (*query == "labels") {
        predict = PredictKind::kLabels;
      } else if (*query != "probabilities" && *query != "values") {
        return ErrorOutcome(protocol, InvalidArgument("the query parameter predict must be "
                                                      "labels or probabilities"));
      }
    }
    const bool classifier = ml::IsClassification(model_.task());
    // v2: the outputs asked for, by name; "predict" follows the predict parameter.
    std::vector<std::string_view> outputs;
    for (const std::string& name : input.outputs) {
      if (name != "predict" && !(name == "label" && classifier)) {
        return ErrorOutcome(protocol, InvalidArgument("the model has no output '" + name +
                                                      (classifier ? "'; it has predict and label"
                                                                  : "'; it has predict")));
      }
      outputs.push_back(name);
    }
    if (outputs.empty()) outputs.push_back("predict");
    if (predict == PredictKind::kLabels && !classifier) {
      return ErrorOutcome(protocol, InvalidArgument("a regression model predicts values, not "
                                                    "labels"));
    }

    auto predictions = model_.PredictCells(input.cells, input.rows);
    if (!predictions.ok()) {
      const Status& s = predictions.status();
      return ErrorOutcome(protocol, s.code() == StatusCode::kInvalidArgument
                                        ? s
                                        : Internal("prediction failed: " + s.message()));
    }
    const bool any_labels =
        predict == PredictKind::kLabels ||
        std::find(outputs.begin(), outputs.end(), "label") != outputs.end();
    std::vector<int32_t> classes;
    if (classifier && any_labels) classes = predictions->ClassIndices();

    ScoringOutcome outcome;
    outcome.rows = input.rows;
    std::string body;
    body.reserve(64 + static_cast<size_t>(predictions->values.size()) * 12);
    if (protocol == Protocol::kMlflow) {
      body += "{\"predictions\":";
      const size_t start = body.size();
      AppendPredictions(body, *predictions, classes, predict == PredictKind::kLabels);
      if (options.capture) outcome.outputs_json.assign(body, start, std::string::npos);
      body += '}';
    } else {
      body += "{\"model_name\":";
      AppendJsonString(body, options.model_name);
      if (!options.model_version.empty()) {
        body += ",\"model_version\":";
        AppendJsonString(body, options.model_version);
      }
      body += ",\"id\":";
      AppendJsonString(body, input.id.empty() ? std::string_view(request.request_id)
                                              : std::string_view(input.id));
      body += ",\"outputs\":[";
      for (size_t o = 0; o < outputs.size(); ++o) {
        if (o > 0) body += ',';
        const bool labels = outputs[o] == "label" || predict == PredictKind::kLabels;
        AppendTensor(body, outputs[o], *predictions, classes, labels);
      }
      body += "]}";
      if (options.capture) {
        AppendPredictions(outcome.outputs_json, *predictions, classes,
                          predict == PredictKind::kLabels);
      }
    }
    if (options.capture) AppendInputsJson(outcome.inputs_json, input);
    outcome.response = http::JsonResponse(200, std::move(body));
    return outcome;
  }

  // MLflow's predictions: P(positive) per row, per-class lists, values, or labels.
  void AppendPredictions(std::string& out, const ml::Predictions& p,
                         const std::vector<int32_t>& classes, bool labels) const {
    out += '[';
    for (int64_t r = 0; r < p.rows; ++r) {
      if (r > 0) out += ',';
      if (labels) {
        out += label_json_[static_cast<size_t>(classes[static_cast<size_t>(r)])];
      } else if (p.width == 1) {
        AppendFloat(out, p.values[static_cast<size_t>(r)]);
      } else {
        out += '[';
        for (int64_t k = 0; k < p.width; ++k) {
          if (k > 0) out += ',';
          AppendFloat(out, p.values[static_cast<size_t>(r * p.width + k)]);
        }
        out += ']';
      }
    }
    out += ']';
  }

  void AppendTensor(std::string& out, std::string_view name, const ml::Predictions& p,
                    const std::vector<int32_t>& classes, bool labels) const {
    out += "{\"name\":";
    AppendJsonString(out, name);
    out += ",\"shape\":[" + std::to_string(p.rows);
    if (!labels && p.width > 1) out += "," + std::to_string(p.width);
    out += "],\"datatype\":\"";
    out += labels ? label_datatype_ : "FP32";
    out += "\",\"data\":[";
    if (labels) {
      for (int64_t r = 0; r < p.rows; ++r) {
        if (r > 0) out += ',';
        out += label_json_[static_cast<size_t>(classes[static_cast<size_t>(r)])];
      }
    } else {
      for (size_t i = 0; i < p.values.size(); ++i) {
        if (i > 0) out += ',';
        AppendFloat(out, p.values[i]);
      }
    }
    out += "]}";
  }

  // The request's rows as MLflow's dataframe_split, in the model's column order.
  void AppendInputsJson(std::string& out, const ScoringInput& input) const {
    const size_t cols = schema_.size();
    out.reserve(out.size() + inputs_head_.size() + 4 +
                static_cast<size_t>(input.rows) * (2 + cols * 8));
    out += inputs_head_;
    for (int64_t r = 0; r < input.rows; ++r) {
      out += r > 0 ? ",[" : "[";
      for (size_t c = 0; c < cols; ++c) {
        if (c > 0) out += ',';
        AppendCell(out, input.cells[static_cast<size_t>(r) * cols + c]);
      }
      out += ']';
    }
    out += "]}";
  }

  std::string path_;
  ml::LoadedModel model_;
  InputSchema schema_;
  std::vector<std::string> input_types_;  // v2 datatype per column
  std::vector<std::string> label_json_;   // per class: the label as a JSON value
  std::string label_datatype_ = "BYTES";
  std::string inputs_head_;  // `{"columns":[…],"data":[` of captured inputs
};

}  // namespace

Result<std::shared_ptr<const ScoringModel>> LoadScoringModel(const std::string& dir) {
  CAIRN_TRY(ml::ModelDirectory directory, ml::LoadModelDirectory(dir));
  CAIRN_TRY(ml::LoadedModel model, ml::LoadedModel::FromDirectory(directory));
  std::vector<InputColumn> columns;
  std::vector<std::string> types;
  for (const ml::Feature& f : model.preprocessing().features) {
    InputColumn column;
    column.name = f.name;
    column.kind = f.kind;
    std::string type = f.kind == ml::FeatureKind::kCategorical ? "BYTES"
                       : f.kind == ml::FeatureKind::kBoolean   ? "BOOL"
                                                               : "FP64";
    if (directory.mlmodel.inputs) {
      for (const ml::ColumnSpec& spec : *directory.mlmodel.inputs) {
        if (spec.name != f.name) continue;
        column.optional = !spec.required;
        if (spec.type == "long" || spec.type == "integer") {
          column.integral = true;
          type = "INT64";
        } else if (spec.type == "float") {
          type = "FP32";
        }
      }
    }
    columns.push_back(std::move(column));
    types.push_back(std::move(type));
  }
  return std::shared_ptr<const ScoringModel>(std::make_shared<XgboostScoringModel>(
      dir, std::move(model), InputSchema(std::move(columns)), std::move(types)));
}

}  // namespace cairn::serving
