#include "ml/model_dir.h"

#include <yaml-cpp/yaml.h>

#include <cctype>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <regex>
#include <sstream>
#include <system_error>

#include "core/ids.h"
#include "data/sketches.h"

namespace cairn::ml {
namespace {

namespace fs = std::filesystem;
using Json = nlohmann::json;

// ---------------------------------------------------------------------------------------------
// Writing

// Whether `s` reads back as the same string when written as a plain YAML scalar, under both
// YAML 1.2 (yaml-cpp) and YAML 1.1 (PyYAML, which MLflow reads MLmodel with, and which takes
// yes/no/on/off for booleans and all-digit strings for numbers).
bool IsPlainSafe(std::string_view s) {
  if (s.empty() || !std::isalpha(static_cast<unsigned char>(s.front()))) return false;
  for (char c : s) {
    const auto u = static_cast<unsigned char>(c);
    if (!std::isalnum(u) && c != '_' && c != '.' && c != '-' && c != '/') return false;
  }
  std::string lower(s);
  for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  for (std::string_view word : {"y", "n", "yes", "no", "true", "false", "on", "off", "null"}) {
    if (lower == word) return false;
  }
  return true;
}

void EmitString(YAML::Emitter& out, std::string_view s) {
  if (IsPlainSafe(s)) {
    out << std::string(s);
  } else {
    out << YAML::DoubleQuoted << std::string(s);
  }
}

// Single quotes, as MLflow writes JSON-valued fields, unless the text has a line break (which a
// single-quoted scalar would fold).
void EmitQuoted(YAML::Emitter& out, const std::string& s) {
  const bool breaks = s.find_first_of("\r\n") != std::string::npos;
  out << (breaks ? YAML::DoubleQuoted : YAML::SingleQuoted) << s;
}

// JSON → YAML for the cairn block; strings are always quoted so that they read back as strings.
void EmitJson(YAML::Emitter& out, const Json& j) {
  switch (j.type()) {
    case Json::value_t::object:
      out << YAML::BeginMap;
      for (const auto& [key, value] : j.items()) {
        out << YAML::Key;
        EmitString(out, key);
        out << YAML::Value;
        EmitJson(out, value);
      }
      out << YAML::EndMap;
      break;
    case Json::value_t::array: {
      bool scalars = true;
      for (const auto& item : j) scalars = scalars && !item.is_structured();
      out << (scalars ? YAML::Flow : YAML::Block) << YAML::BeginSeq;
      for (const auto& item : j) EmitJson(out, item);
      out << YAML::EndSeq;
      break;
    }
    case Json::value_t::string:
      out << YAML::DoubleQuoted << j.get<std::string>();
      break;
    case Json::value_t::boolean:
      out << j.get<bool>();
      break;
    case Json::value_t::number_integer:
      out << j.get<int64_t>();
      break;
    case Json::value_t::number_unsigned:
      out << j.get<uint64_t>();
      break;
    case Json::value_t::number_float:
      out << j.get<double>();
      break;
    default:
      out << YAML::Null;
      break;
  }
}

std::string MlflowType(const Feature& f) {
  switch (f.type) {
    case data::ColumnType::kInteger:
      return f.has_missing ? "double" : "long";  // pandas reads integers with gaps as floats
    case data::ColumnType::kFloat:
      return "double";
    case data::ColumnType::kBoolean:
      return "boolean";
    case data::ColumnType::kString:
      return "string";
  }
  return "double";
}

// A signature's column list as MLflow writes it: json.dumps of [{"type", "name", "required"}].
std::string ColumnSpecsJson(const std::vector<ColumnSpec>& specs) {
  std::string out = "[";
  for (size_t i = 0; i < specs.size(); ++i) {
    if (i) out += ", ";
    out += R"({"type": )" + Json(specs[i].type).dump();
    if (!specs[i].name.empty()) {
      out += R"(, "name": )" +
             Json(specs[i].name).dump(-1, ' ', false, Json::error_handler_t::replace);
    }
    out += std::string(R"(, "required": )") + (specs[i].required ? "true" : "false") + "}";
  }
  return out + "]";
}

std::string UtcTimeCreated(int64_t millis) {
  const std::time_t seconds = static_cast<std::time_t>(millis / 1000);
  std::tm tm{};
  gmtime_r(&seconds, &tm);
  char buffer[64];
  std::snprintf(buffer, sizeof buffer, "%04d-%02d-%02d %02d:%02d:%02d.%06d", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                static_cast<int>(millis % 1000) * 1000);
  return buffer;
}

// ---------------------------------------------------------------------------------------------
// Reading

// YAML → JSON for the cairn block: quoted scalars are strings; plain ones may be booleans,
// null, integers or floats.
Json YamlToJson(const YAML::Node& node) {
  switch (node.Type()) {
    case YAML::NodeType::Map: {
      Json out = Json::object();
      for (const auto& item : node) out[item.first.as<std::string>()] = YamlToJson(item.second);
      return out;
    }
    case YAML::NodeType::Sequence: {
      Json out = Json::array();
      for (const auto& item : node) out.push_back(YamlToJson(item));
      return out;
    }
    case YAML::NodeType::Scalar: {
      const std::string& s = node.Scalar();
      if (node.Tag() == "!") return s;  // quoted
      if (s == "true" || s == "True" || s == "TRUE") return true;
      if (s == "false" || s == "False" || s == "FALSE") return false;
      if (s == "~" || s == "null" || s == "Null" || s == "NULL") return nullptr;
      static const std::regex integer(R"([-+]?[0-9]+)");
      static const std::regex real(R"([-+]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][-+]?[0-9]+)?)");
      try {
        if (std::regex_match(s, integer)) return std::stoll(s);
        if (std::regex_match(s, real)) return std::stod(s);
      } catch (const std::exception&) {
        // out of range: keep the text
      }
      return s;
    }
    default:
      return nullptr;
  }
}

class MlModelReader {
 public:
  explicit MlModelReader(std::string source) : source_(std::move(source)) {}

  Status Error(const std::string& field, const std::string& problem) const {
    return InvalidArgument(source_ + ": " + field + " " + problem);
  }

  // The scalar at `node`, or nullopt when absent or null; an error when it is a map or list.
  Result<std::optional<std::string>> Scalar(const YAML::Node& parent, const std::string& key,
                                            const std::string& field) const {
    const YAML::Node node = parent[key];
    if (!node.IsDefined() || node.IsNull()) return std::optional<std::string>();
    if (!node.IsScalar()) return Error(field, "must be a single value");
    return std::optional<std::string>(node.Scalar());
  }

  Result<std::string> OptionalString(const YAML::Node& parent, const std::string& key,
                                     const std::string& field) const {
    CAIRN_TRY(auto value, Scalar(parent, key, field));
    return value.value_or("");
  }

  Result<std::vector<ColumnSpec>> Specs(const std::string& text, const std::string& field) const {
    Json json;
    try {
      json = Json::parse(text);
    } catch (const std::exception& e) {
      return Error(field, std::string("is not valid JSON: ") + e.what());
    }
    if (!json.is_array()) return Error(field, "must be a JSON list of column specs");
    std::vector<ColumnSpec> specs;
    for (size_t i = 0; i < json.size(); ++i) {
      const Json& j = json[i];
      const std::string where = field + "[" + std::to_string(i) + "]";
      if (!j.is_object()) return Error(where, "must be an object");
      const auto type = j.find("type");
      if (type == j.end() || !type->is_string()) return Error(where + ".type", "is missing");
      ColumnSpec spec;
      spec.type = type->get<std::string>();
      if (const auto name = j.find("name"); name != j.end()) {
        if (!name->is_string()) return Error(where + ".name", "must be a string");
        spec.name = name->get<std::string>();
      }
      if (const auto required = j.find("required"); required != j.end()) {
        if (!required->is_boolean()) return Error(where + ".required", "must be a boolean");
        spec.required = required->get<bool>();
      } else if (const auto optional = j.find("optional"); optional != j.end()) {
        spec.required = !(optional->is_boolean() && optional->get<bool>());  // MLflow < 2.9
      }
      specs.push_back(std::move(spec));
    }
    return specs;
  }

  Result<MlModel> Read(const YAML::Node& root) const {
    if (!root.IsMap()) return InvalidArgument(source_ + ": not a YAML mapping");
    MlModel m;
    CAIRN_TRY(m.artifact_path, OptionalString(root, "artifact_path", "artifact_path"));
    CAIRN_TRY(m.run_id, OptionalString(root, "run_id", "run_id"));
    CAIRN_TRY(m.model_uuid, OptionalString(root, "model_uuid", "model_uuid"));
    CAIRN_TRY(m.utc_time_created, OptionalString(root, "utc_time_created", "utc_time_created"));
    CAIRN_TRY(m.mlflow_version, OptionalString(root, "mlflow_version", "mlflow_version"));

    const YAML::Node flavors = root["flavors"];
    if (!flavors.IsDefined() || flavors.IsNull()) return Error("flavors", "is missing");
    if (!flavors.IsMap()) return Error("flavors", "must be a mapping");
    const YAML::Node xgb = flavors["xgboost"];
    if (!xgb.IsDefined() || !xgb.IsMap()) {
      std::string names;
      for (const auto& item : flavors) names += (names.empty() ? "" : ", ") + item.first.Scalar();
      return InvalidArgument(source_ + ": no xgboost flavor (the model has: " +
                             (names.empty() ? std::string("none") : names) +
                             "); Cairn scores XGBoost models");
    }
    CAIRN_TRY(auto data, Scalar(xgb, "data", "flavors.xgboost.data"));
    if (!data || data->empty()) return Error("flavors.xgboost.data", "is missing");
    m.xgb_data = *data;
    CAIRN_TRY(m.model_format, OptionalString(xgb, "model_format", "flavors.xgboost.model_format"));
    if (m.model_format.empty()) {
      const std::string ext = fs::path(m.xgb_data).extension().string();
      m.model_format = ext.empty() ? "deprecated" : ext.substr(1);
    }
    CAIRN_TRY(m.model_class, OptionalString(xgb, "model_class", "flavors.xgboost.model_class"));
    CAIRN_TRY(m.xgb_version, OptionalString(xgb, "xgb_version", "flavors.xgboost.xgb_version"));

    const YAML::Node signature = root["signature"];
    if (signature.IsDefined() && !signature.IsNull()) {
      if (!signature.IsMap()) return Error("signature", "must be a mapping");
      CAIRN_TRY(auto inputs, Scalar(signature, "inputs", "signature.inputs"));
      if (inputs) {
        CAIRN_TRY(m.inputs, Specs(*inputs, "signature.inputs"));
      }
      CAIRN_TRY(auto outputs, Scalar(signature, "outputs", "signature.outputs"));
      if (outputs) {
        CAIRN_TRY(m.outputs, Specs(*outputs, "signature.outputs"));
      }
    }

    const YAML::Node cairn = root["cairn"];
    if (cairn.IsDefined() && !cairn.IsNull()) {
      if (!cairn.IsMap()) return Error("cairn", "must be a mapping");
      const YAML::Node pre = cairn["preprocessing"];
      if (pre.IsDefined() && !pre.IsNull()) {
        auto parsed = PreprocessingFromJson(YamlToJson(pre));
        if (!parsed.ok()) {
          return InvalidArgument(source_ + ": cairn.preprocessing: " + parsed.status().message());
        }
        m.preprocessing = std::move(*parsed);
      }
      const YAML::Node dataset = cairn["dataset"];
      if (dataset.IsDefined() && !dataset.IsNull()) {
        if (!dataset.IsMap()) return Error("cairn.dataset", "must be a mapping");
        DatasetRef ref;
        CAIRN_TRY(ref.name, OptionalString(dataset, "name", "cairn.dataset.name"));
        CAIRN_TRY(ref.version, OptionalString(dataset, "version", "cairn.dataset.version"));
        CAIRN_TRY(ref.digest, OptionalString(dataset, "digest", "cairn.dataset.digest"));
        m.dataset = std::move(ref);
      }
    }
    return m;
  }

 private:
  std::string source_;
};

Result<MlModel> ParseMlModelFrom(std::string_view text, const std::string& source) {
  YAML::Node root;
  try {
    root = YAML::Load(std::string(text));
  } catch (const YAML::Exception& e) {
    return InvalidArgument(source + ": line " + std::to_string(e.mark.line + 1) + ", column " +
                           std::to_string(e.mark.column + 1) + ": " + e.msg);
  }
  try {
    return MlModelReader(source).Read(root);
  } catch (const YAML::Exception& e) {
    return InvalidArgument(source + ": " + e.what());
  }
}

// A relative path that stays inside its directory ("a/b.ubj", not "/x" or "../x").
bool IsContainedPath(const std::string& path) {
  const fs::path p = fs::path(path).lexically_normal();
  if (p.empty() || p.is_absolute() || p.has_root_name()) return false;
  for (const auto& part : p) {
    if (part == "..") return false;
  }
  return p != ".";
}

Result<std::string> ReadFile(const fs::path& path) {
  std::error_code ec;
  if (!fs::is_regular_file(path, ec)) return NotFound(path.string() + ": no such file");
  std::ifstream in(path, std::ios::binary);
  if (!in) return Internal(path.string() + ": cannot open");
  std::ostringstream bytes;
  bytes << in.rdbuf();
  if (in.bad()) return Internal(path.string() + ": read error");
  return bytes.str();
}

}  // namespace

Result<ModelFiles> RenderModelDirectory(const TrainResult& result, const ModelInfo& info) {
  const Preprocessing& pre = result.preprocessing;
  if (result.booster.empty()) return InvalidArgument("the training result has no booster");
  if (info.artifact_path.empty()) return InvalidArgument("artifact_path must not be empty");
  const std::string model_uuid = info.model_uuid.empty() ? NewUuidHex() : info.model_uuid;
  const std::string booster_file(kBoosterFile);
  const bool classifier = IsClassification(pre.target.task);
  const std::string xgb_version =
      result.xgboost_version.empty() ? std::string("unknown") : result.xgboost_version;

  std::vector<ColumnSpec> inputs;
  for (const auto& f : pre.features) inputs.push_back({f.name, MlflowType(f), true});
  std::vector<ColumnSpec> outputs;
  if (pre.target.task == Task::kMulticlass) {
    for (const auto& c : pre.target.classes) outputs.push_back({c, "double", true});
  } else {
    outputs.push_back({"", "double", true});
  }

  const Json pre_json = ToJson(pre);
  YAML::Emitter out;
  out << YAML::BeginMap;
  out << YAML::Key << "artifact_path" << YAML::Value;
  EmitString(out, info.artifact_path);
  out << YAML::Key << "cairn" << YAML::Value << YAML::BeginMap;
  if (info.dataset) {
    out << YAML::Key << "dataset" << YAML::Value << YAML::BeginMap;
    out << YAML::Key << "digest" << YAML::Value << YAML::DoubleQuoted << info.dataset->digest;
    out << YAML::Key << "name" << YAML::Value << YAML::DoubleQuoted << info.dataset->name;
    out << YAML::Key << "version" << YAML::Value << YAML::DoubleQuoted << info.dataset->version;
    out << YAML::EndMap;
  }
  out << YAML::Key << "preprocessing" << YAML::Value;
  EmitJson(out, pre_json);
  out << YAML::Key << "target" << YAML::Value << YAML::DoubleQuoted << pre.target.name;
  out << YAML::Key << "task" << YAML::Value << std::string(TaskName(pre.target.task));
  out << YAML::EndMap;
  out << YAML::Key << "flavors" << YAML::Value << YAML::BeginMap;
  out << YAML::Key << "python_function" << YAML::Value << YAML::BeginMap;
  out << YAML::Key << "data" << YAML::Value << booster_file;
  out << YAML::Key << "env" << YAML::Value << YAML::BeginMap;
  out << YAML::Key << "conda" << YAML::Value << "conda.yaml";
  out << YAML::Key << "virtualenv" << YAML::Value << "python_env.yaml";
  out << YAML::EndMap;
  out << YAML::Key << "loader_module" << YAML::Value << "mlflow.xgboost";
  out << YAML::Key << "python_version" << YAML::Value << YAML::DoubleQuoted
      << std::string(kPythonVersion);
  out << YAML::EndMap;
  out << YAML::Key << "xgboost" << YAML::Value << YAML::BeginMap;
  out << YAML::Key << "code" << YAML::Value << YAML::Null;
  out << YAML::Key << "data" << YAML::Value << booster_file;
  out << YAML::Key << "model_class" << YAML::Value
      << (classifier ? "xgboost.sklearn.XGBClassifier" : "xgboost.sklearn.XGBRegressor");
  out << YAML::Key << "model_format" << YAML::Value << "ubj";
  out << YAML::Key << "xgb_version" << YAML::Value << YAML::DoubleQuoted << xgb_version;
  out << YAML::EndMap;
  out << YAML::EndMap;
  out << YAML::Key << "mlflow_version" << YAML::Value << YAML::DoubleQuoted
      << std::string(kMlflowFormatVersion);
  out << YAML::Key << "model_uuid" << YAML::Value << YAML::DoubleQuoted << model_uuid;
  if (!info.run_id.empty()) {
    out << YAML::Key << "run_id" << YAML::Value << YAML::DoubleQuoted << info.run_id;
  }
  out << YAML::Key << "saved_input_example_info" << YAML::Value << YAML::BeginMap;
  out << YAML::Key << "artifact_path" << YAML::Value << "input_example.json";
  out << YAML::Key << "pandas_orient" << YAML::Value << "split";
  out << YAML::Key << "type" << YAML::Value << "dataframe";
  out << YAML::EndMap;
  out << YAML::Key << "signature" << YAML::Value << YAML::BeginMap;
  out << YAML::Key << "inputs" << YAML::Value;
  EmitQuoted(out, ColumnSpecsJson(inputs));
  out << YAML::Key << "outputs" << YAML::Value;
  EmitQuoted(out, ColumnSpecsJson(outputs));
  out << YAML::Key << "params" << YAML::Value << YAML::Null;
  out << YAML::EndMap;
  out << YAML::Key << "utc_time_created" << YAML::Value << YAML::SingleQuoted
      << UtcTimeCreated(info.created_millis);
  out << YAML::EndMap;
  if (!out.good()) return Internal("writing MLmodel: " + out.GetLastError());

  ModelFiles files;
  files["MLmodel"] = std::string(out.c_str()) + "\n";
  files[booster_file] = result.booster;
  files["input_example.json"] = result.input_example.empty()
                                    ? std::string(R"({"columns": [], "data": []})")
                                    : result.input_example;
  files["preprocessing.json"] = pre_json.dump(2) + "\n";

  Json importance = Json::array();
  for (const auto& f : result.importance) {
    importance.push_back(
        {{"feature", data::BytesToJson(f.feature)}, {"mean_abs_shap", f.mean_abs_shap}});
  }
  files["feature_importance.json"] =
      Json{{"method", "mean |SHAP value| (XGBoost TreeSHAP contributions)"},
           {"rows", result.shap_rows},
           {"features", std::move(importance)}}
          .dump(2) +
      "\n";

  const std::string mlflow(kMlflowFormatVersion);
  const std::string python(kPythonVersion);
  files["requirements.txt"] = "mlflow==" + mlflow + "\nxgboost==" + xgb_version + "\n";
  files["conda.yaml"] = "channels:\n- conda-forge\ndependencies:\n- python=" + python +
                        "\n- pip\n- pip:\n  - mlflow==" + mlflow + "\n  - xgboost==" + xgb_version +
                        "\nname: mlflow-env\n";
  files["python_env.yaml"] = "python: " + python +
                             "\nbuild_dependencies:\n- pip\n- setuptools\n- wheel\n"
                             "dependencies:\n- -r requirements.txt\n";
  return files;
}

Status WriteModelFiles(const std::string& dir, const ModelFiles& files) {
  for (const auto& [path, bytes] : files) {
    if (!IsContainedPath(path)) {
      return InvalidArgument("model file path '" + path + "' leaves the model directory");
    }
  }
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) return Internal(dir + ": cannot create the directory: " + ec.message());
  for (const auto& [path, bytes] : files) {
    const fs::path target = fs::path(dir) / path;
    if (target.has_parent_path()) {
      fs::create_directories(target.parent_path(), ec);
      if (ec) return Internal(target.parent_path().string() + ": " + ec.message());
    }
    std::ofstream file(target, std::ios::binary | std::ios::trunc);
    file.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    file.close();
    if (!file) return Internal(target.string() + ": write failed");
  }
  return Status();
}

Result<MlModel> ParseMlModel(std::string_view text) { return ParseMlModelFrom(text, "MLmodel"); }

Result<ModelDirectory> LoadModelDirectory(const std::string& dir) {
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) return NotFound(dir + ": no such model directory");
  const fs::path mlmodel_path = fs::path(dir) / "MLmodel";
  auto text = ReadFile(mlmodel_path);
  if (!text.ok()) {
    if (text.status().code() == StatusCode::kNotFound) {
      return NotFound(dir + ": not a model directory (no MLmodel file)");
    }
    return text.status();
  }
  ModelDirectory m;
  m.path = dir;
  CAIRN_TRY(m.mlmodel, ParseMlModelFrom(*text, mlmodel_path.string()));
  if (!IsContainedPath(m.mlmodel.xgb_data)) {
    return InvalidArgument(mlmodel_path.string() + ": flavors.xgboost.data '" + m.mlmodel.xgb_data +
                           "' must be a path inside the model directory");
  }
  const fs::path booster_path = fs::path(dir) / m.mlmodel.xgb_data;
  auto booster = ReadFile(booster_path);
  if (!booster.ok()) {
    return Status(booster.status().code(), booster.status().message() + " (named by " +
                                               mlmodel_path.string() + " flavors.xgboost.data)");
  }
  m.booster = std::move(*booster);
  return m;
}

}  // namespace cairn::ml
