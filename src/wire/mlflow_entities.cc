#include "wire/mlflow_entities.h"

#include <charconv>
#include <cmath>
#include <limits>
#include <utility>

namespace cairn::wire {
namespace {

std::string Quoted(const char* key) { return std::string("'") + key + "'"; }

// The value at `key`; nullptr when missing or null (protobuf JSON's "unset").
const Json* Field(const Json& j, const char* key) {
  if (!j.is_object()) return nullptr;
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return nullptr;
  return &*it;
}

Result<int64_t> Int64Field(const Json& j, const char* key) {
  const Json* f = Field(j, key);
  if (f == nullptr) return int64_t{0};
  auto v = ParseInt64(*f);
  if (!v.ok()) return InvalidArgument(Quoted(key) + ": " + v.status().message());
  return *v;
}

Result<std::optional<int64_t>> OptionalInt64Field(const Json& j, const char* key) {
  if (Field(j, key) == nullptr) return std::optional<int64_t>();
  CAIRN_TRY(int64_t v, Int64Field(j, key));
  return std::optional<int64_t>(v);
}

Result<bool> BoolField(const Json& j, const char* key) {
  const Json* f = Field(j, key);
  if (f == nullptr) return false;
  if (f->is_boolean()) return f->get<bool>();
  if (f->is_string() && (*f == "true" || *f == "false")) return *f == "true";
  return InvalidArgument(Quoted(key) + " is not a boolean");
}

template <typename KeyValue>
Result<KeyValue> KeyValueFromJson(const Json& j) {
  KeyValue kv;
  CAIRN_TRY(kv.key, StringField(j, "key"));
  CAIRN_TRY(kv.value, StringField(j, "value"));
  return kv;
}

Result<std::vector<store::Tag>> TagsField(const Json& j, const char* key) {
  return ListField<store::Tag>(j, key, KeyValueFromJson<store::Tag>);
}

Result<store::LifecycleStage> StageFromJson(const Json& j) {
  CAIRN_TRY(std::string s, StringField(j, "lifecycle_stage"));
  if (s.empty() || s == "active") return store::LifecycleStage::kActive;
  if (s == "deleted") return store::LifecycleStage::kDeleted;
  return InvalidArgument("unknown lifecycle_stage '" + s + "'");
}

Result<store::DatasetInput> DatasetInputFromJson(const Json& j) {
  store::DatasetInput d;
  CAIRN_TRY(d.tags, TagsField(j, "tags"));
  if (const Json* ds = Field(j, "dataset")) {
    CAIRN_TRY(d.name, StringField(*ds, "name"));
    CAIRN_TRY(d.digest, StringField(*ds, "digest"));
    CAIRN_TRY(d.source_type, StringField(*ds, "source_type"));
    CAIRN_TRY(d.source, StringField(*ds, "source"));
    CAIRN_TRY(d.schema, StringField(*ds, "schema"));
    CAIRN_TRY(d.profile, StringField(*ds, "profile"));
  }
  return d;
}

// A JSON array of ToJson(item), or nothing when `items` is empty (protobuf JSON).
template <typename T>
void PutList(Json& out, const char* key, const std::vector<T>& items) {
  if (items.empty()) return;
  Json list = Json::array();
  for (const T& item : items) list.push_back(ToJson(item));
  out[key] = std::move(list);
}

}  // namespace

// --- Values ------------------------------------------------------------------------------------

std::string Dump(const Json& json) {
  return json.dump(-1, ' ', false, Json::error_handler_t::replace);
}

Json DoubleToJson(double value) {
  if (std::isnan(value)) return "NaN";
  if (std::isinf(value)) return value > 0 ? "Infinity" : "-Infinity";
  return value;
}

std::optional<double> ParseDoubleText(std::string_view text) {
  if (text == "NaN") return std::numeric_limits<double>::quiet_NaN();
  if (text == "Infinity") return std::numeric_limits<double>::infinity();
  if (text == "-Infinity") return -std::numeric_limits<double>::infinity();
  double value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size() || text.empty()) return std::nullopt;
  return value;
}

std::optional<int64_t> ParseInt64Text(std::string_view text) {
  int64_t value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size() || text.empty()) return std::nullopt;
  return value;
}

Result<double> ParseDouble(const Json& j) {
  if (j.is_number()) return j.get<double>();
  if (j.is_null()) return std::numeric_limits<double>::quiet_NaN();
  if (j.is_string()) {
    const std::string& s = j.get_ref<const std::string&>();
    if (auto d = ParseDoubleText(s)) return *d;
    return InvalidArgument("expected a number, got \"" + s + "\"");
  }
  return InvalidArgument("expected a number, got " + j.dump());
}

Result<int64_t> ParseInt64(const Json& j) {
  if (j.is_number_integer()) return j.get<int64_t>();  // also covers unsigned within range
  if (j.is_number_float()) {
    double d = j.get<double>();
    if (std::isfinite(d) && d == std::floor(d) && std::fabs(d) < 9.2e18) {
      return static_cast<int64_t>(d);
    }
  } else if (j.is_string()) {
    const std::string& s = j.get_ref<const std::string&>();
    if (auto i = ParseInt64Text(s)) return *i;
    return InvalidArgument("expected an integer, got \"" + s + "\"");
  }
  return InvalidArgument("expected an integer, got " + j.dump());
}

// --- Entities to JSON --------------------------------------------------------------------------

Json ToJson(const store::Tag& tag) { return {{"key", tag.key}, {"value", tag.value}}; }
Json ToJson(const store::Param& param) { return {{"key", param.key}, {"value", param.value}}; }

Json ToJson(const store::Metric& metric) {
  return {{"key", metric.key},
          {"value", DoubleToJson(metric.value)},
          {"timestamp", metric.timestamp},
          {"step", metric.step}};
}

Json TagsToJson(const std::vector<store::Tag>& tags) {
  Json out = Json::array();
  for (const store::Tag& t : tags) out.push_back(ToJson(t));
  return out;
}

Json ToJson(const store::Experiment& e) {
  Json out = {{"experiment_id", e.experiment_id},
              {"name", e.name},
              {"artifact_location", e.artifact_location},
              {"lifecycle_stage", store::LifecycleStageName(e.lifecycle_stage)},
              {"last_update_time", e.last_update_time},
              {"creation_time", e.creation_time}};
  PutList(out, "tags", e.tags);
  return out;
}

Json ToJson(const store::RunInfo& info) {
  Json out = {{"run_id", info.run_id},
              {"run_uuid", info.run_id},
              {"run_name", info.run_name},
              {"experiment_id", info.experiment_id},
              {"user_id", info.user_id},
              {"status", store::RunStatusName(info.status)},
              {"start_time", info.start_time},
              {"artifact_uri", info.artifact_uri},
              {"lifecycle_stage", store::LifecycleStageName(info.lifecycle_stage)}};
  if (info.end_time) out["end_time"] = *info.end_time;
  return out;
}

Json ToJson(const store::DatasetInput& input) {
  Json dataset = {{"name", input.name},
                  {"digest", input.digest},
                  {"source_type", input.source_type},
                  {"source", input.source}};
  if (!input.schema.empty()) dataset["schema"] = input.schema;
  if (!input.profile.empty()) dataset["profile"] = input.profile;
  Json out = {{"dataset", std::move(dataset)}};
  PutList(out, "tags", input.tags);
  return out;
}

Json ToJson(const store::Run& run) {
  Json data = Json::object();
  PutList(data, "metrics", run.metrics);
  PutList(data, "params", run.params);
  PutList(data, "tags", run.tags);
  Json inputs = Json::object();
  PutList(inputs, "dataset_inputs", run.inputs);
  return {{"info", ToJson(run.info)}, {"data", std::move(data)}, {"inputs", std::move(inputs)}};
}

Json ToJson(const FileInfo& file) {
  Json out = {{"path", file.path}, {"is_dir", file.is_dir}};
  if (file.file_size) out["file_size"] = *file.file_size;
  return out;
}

Json ToJson(const store::ArtifactEntry& entry) {
  return ToJson(FileInfo{entry.path, entry.is_dir,
                         entry.is_dir ? std::nullopt : std::optional<int64_t>(entry.size)});
}

// --- Entities from JSON ------------------------------------------------------------------------

Result<std::string> StringField(const Json& object, const char* key) {
  const Json* f = Field(object, key);
  if (f == nullptr) return std::string();
  if (!f->is_string()) return InvalidArgument(Quoted(key) + " is not a string");
  return f->get<std::string>();
}

Result<const Json*> ArrayField(const Json& object, const char* key) {
  static const Json kEmpty = Json::array();
  const Json* f = Field(object, key);
  if (f == nullptr) return &kEmpty;
  if (!f->is_array()) return InvalidArgument(Quoted(key) + " is not an array");
  return f;
}

Result<store::Experiment> ExperimentFromJson(const Json& j) {
  if (!j.is_object()) return InvalidArgument("experiment is not an object");
  store::Experiment e;
  CAIRN_TRY(e.experiment_id, StringField(j, "experiment_id"));
  CAIRN_TRY(e.name, StringField(j, "name"));
  CAIRN_TRY(e.artifact_location, StringField(j, "artifact_location"));
  CAIRN_TRY(e.lifecycle_stage, StageFromJson(j));
  CAIRN_TRY(e.creation_time, Int64Field(j, "creation_time"));
  CAIRN_TRY(e.last_update_time, Int64Field(j, "last_update_time"));
  CAIRN_TRY(e.tags, TagsField(j, "tags"));
  return e;
}

Result<store::RunInfo> RunInfoFromJson(const Json& j) {
  if (!j.is_object()) return InvalidArgument("run info is not an object");
  store::RunInfo info;
  CAIRN_TRY(info.run_id, StringField(j, "run_id"));
  if (info.run_id.empty()) {
    CAIRN_TRY(info.run_id, StringField(j, "run_uuid"));
  }
  CAIRN_TRY(info.run_name, StringField(j, "run_name"));
  CAIRN_TRY(info.experiment_id, StringField(j, "experiment_id"));
  CAIRN_TRY(info.user_id, StringField(j, "user_id"));
  CAIRN_TRY(std::string status, StringField(j, "status"));
  if (!status.empty()) {
    auto s = store::ParseRunStatus(status);
    if (!s) return InvalidArgument("unknown run status '" + status + "'");
    info.status = *s;
  }
  CAIRN_TRY(info.start_time, Int64Field(j, "start_time"));
  CAIRN_TRY(info.end_time, OptionalInt64Field(j, "end_time"));
  CAIRN_TRY(info.artifact_uri, StringField(j, "artifact_uri"));
  CAIRN_TRY(info.lifecycle_stage, StageFromJson(j));
  return info;
}

Result<store::Metric> MetricFromJson(const Json& j) {
  if (!j.is_object()) return InvalidArgument("metric is not an object");
  store::Metric m;
  CAIRN_TRY(m.key, StringField(j, "key"));
  if (const Json* v = Field(j, "value")) {
    auto d = ParseDouble(*v);
    if (!d.ok()) return InvalidArgument("metric '" + m.key + "': " + d.status().message());
    m.value = *d;
  }
  CAIRN_TRY(m.timestamp, Int64Field(j, "timestamp"));
  CAIRN_TRY(m.step, Int64Field(j, "step"));
  return m;
}

Result<store::Run> RunFromJson(const Json& j) {
  if (!j.is_object()) return InvalidArgument("run is not an object");
  store::Run run;
  const Json* info = Field(j, "info");
  if (info == nullptr) return InvalidArgument("run has no 'info'");
  CAIRN_TRY(run.info, RunInfoFromJson(*info));
  if (const Json* data = Field(j, "data")) {
    CAIRN_TRY(run.metrics, ListField<store::Metric>(*data, "metrics", MetricFromJson));
    CAIRN_TRY(run.params, ListField<store::Param>(*data, "params", KeyValueFromJson<store::Param>));
    CAIRN_TRY(run.tags, TagsField(*data, "tags"));
  }
  if (const Json* inputs = Field(j, "inputs")) {
    CAIRN_TRY(run.inputs,
              ListField<store::DatasetInput>(*inputs, "dataset_inputs", DatasetInputFromJson));
  }
  if (run.info.run_name.empty()) {  // older servers keep the name only in a tag
    for (const store::Tag& t : run.tags) {
      if (t.key == "mlflow.runName") run.info.run_name = t.value;
    }
  }
  return run;
}

Result<FileInfo> FileInfoFromJson(const Json& j) {
  if (!j.is_object()) return InvalidArgument("file info is not an object");
  FileInfo f;
  CAIRN_TRY(f.path, StringField(j, "path"));
  CAIRN_TRY(f.is_dir, BoolField(j, "is_dir"));
  CAIRN_TRY(f.file_size, OptionalInt64Field(j, "file_size"));
  return f;
}

}  // namespace cairn::wire
