#include "client/mlflow_json.h"

#include <charconv>
#include <cmath>
#include <limits>
#include <utility>

namespace cairn::client {
namespace {

Status Malformed(std::string what) {
  return Internal("malformed response from server: " + std::move(what));
}

const Json* Field(const Json& j, const char* key) {
  if (!j.is_object()) return nullptr;
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return nullptr;
  return &*it;
}

Result<std::string> GetString(const Json& j, const char* key) {
  const Json* f = Field(j, key);
  if (f == nullptr) return std::string();
  if (!f->is_string()) return Malformed(std::string("'") + key + "' is not a string");
  return f->get<std::string>();
}

Result<int64_t> GetInt64(const Json& j, const char* key, int64_t fallback = 0) {
  const Json* f = Field(j, key);
  if (f == nullptr) return fallback;
  auto v = ParseInt64(*f);
  if (!v.ok()) return Malformed(std::string("'") + key + "': " + v.status().message());
  return *v;
}

Result<std::optional<int64_t>> GetOptionalInt64(const Json& j, const char* key) {
  const Json* f = Field(j, key);
  if (f == nullptr) return std::optional<int64_t>();
  CAIRN_TRY(int64_t v, GetInt64(j, key));
  return std::optional<int64_t>(v);
}

Result<bool> GetBool(const Json& j, const char* key) {
  const Json* f = Field(j, key);
  if (f == nullptr) return false;
  if (f->is_boolean()) return f->get<bool>();
  if (f->is_string() && (*f == "true" || *f == "false")) return *f == "true";
  return Malformed(std::string("'") + key + "' is not a boolean");
}

// The array at `key` (missing: empty); kInternal if it is something else.
Result<const Json*> GetArray(const Json& j, const char* key) {
  static const Json kEmpty = Json::array();
  const Json* f = Field(j, key);
  if (f == nullptr) return &kEmpty;
  if (!f->is_array()) return Malformed(std::string("'") + key + "' is not an array");
  return f;
}

Result<std::vector<Tag>> TagsFromJson(const Json& j, const char* key) {
  CAIRN_TRY(const Json* arr, GetArray(j, key));
  std::vector<Tag> tags;
  tags.reserve(arr->size());
  for (const Json& t : *arr) {
    CAIRN_TRY(std::string k, GetString(t, "key"));
    CAIRN_TRY(std::string v, GetString(t, "value"));
    tags.push_back({std::move(k), std::move(v)});
  }
  return tags;
}

Result<LifecycleStage> StageFromJson(const Json& j) {
  CAIRN_TRY(std::string s, GetString(j, "lifecycle_stage"));
  if (s.empty() || s == "active") return LifecycleStage::kActive;
  if (s == "deleted") return LifecycleStage::kDeleted;
  return Malformed("unknown lifecycle_stage '" + s + "'");
}

Json TagsToJson(const std::vector<Tag>& tags) {
  Json arr = Json::array();
  for (const Tag& t : tags) arr.push_back(ToJson(t));
  return arr;
}

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    char x = a[i] >= 'A' && a[i] <= 'Z' ? static_cast<char>(a[i] - 'A' + 'a') : a[i];
    char y = b[i] >= 'A' && b[i] <= 'Z' ? static_cast<char>(b[i] - 'A' + 'a') : b[i];
    if (x != y) return false;
  }
  return true;
}

}  // namespace

Result<double> ParseDouble(const Json& j) {
  if (j.is_number()) return j.get<double>();
  if (j.is_null()) return std::numeric_limits<double>::quiet_NaN();  // how some encoders write NaN
  if (!j.is_string()) return InvalidArgument("expected a number, got " + j.dump());
  const std::string& s = j.get_ref<const std::string&>();
  std::string_view v = s;
  bool negative = false;
  if (!v.empty() && (v[0] == '-' || v[0] == '+')) {
    negative = v[0] == '-';
    v.remove_prefix(1);
  }
  if (EqualsIgnoreCase(v, "nan")) return std::numeric_limits<double>::quiet_NaN();
  if (EqualsIgnoreCase(v, "infinity") || EqualsIgnoreCase(v, "inf")) {
    return negative ? -std::numeric_limits<double>::infinity()
                    : std::numeric_limits<double>::infinity();
  }
  double out = 0;
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  if (ec != std::errc() || ptr != s.data() + s.size() || s.empty()) {
    return InvalidArgument("expected a number, got \"" + s + "\"");
  }
  return out;
}

Result<int64_t> ParseInt64(const Json& j) {
  if (j.is_number_integer()) return j.get<int64_t>();  // also covers unsigned within range
  if (j.is_number_float()) {
    double d = j.get<double>();
    if (std::isfinite(d) && d == std::floor(d) && std::fabs(d) < 9.2e18) {
      return static_cast<int64_t>(d);
    }
    return InvalidArgument("expected an integer, got " + j.dump());
  }
  if (j.is_string()) {
    const std::string& s = j.get_ref<const std::string&>();
    int64_t out = 0;
    auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
    if (ec == std::errc() && ptr == s.data() + s.size() && !s.empty()) return out;
    return InvalidArgument("expected an integer, got \"" + s + "\"");
  }
  return InvalidArgument("expected an integer, got " + j.dump());
}

Json DoubleToJson(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "Infinity" : "-Infinity";
  return v;
}

Result<Json> ParseResponseBody(std::string_view body, std::string_view what) {
  Json j = Json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return Malformed(std::string(what) + " is not JSON");
  if (!j.is_object()) return Malformed(std::string(what) + " is not a JSON object");
  return j;
}

Result<Experiment> ExperimentFromJson(const Json& j) {
  if (!j.is_object()) return Malformed("experiment is not an object");
  Experiment e;
  CAIRN_TRY(e.experiment_id, GetString(j, "experiment_id"));
  CAIRN_TRY(e.name, GetString(j, "name"));
  CAIRN_TRY(e.artifact_location, GetString(j, "artifact_location"));
  CAIRN_TRY(e.lifecycle_stage, StageFromJson(j));
  CAIRN_TRY(e.creation_time, GetInt64(j, "creation_time"));
  CAIRN_TRY(e.last_update_time, GetInt64(j, "last_update_time"));
  CAIRN_TRY(e.tags, TagsFromJson(j, "tags"));
  return e;
}

Result<RunInfo> RunInfoFromJson(const Json& j) {
  if (!j.is_object()) return Malformed("run info is not an object");
  RunInfo info;
  CAIRN_TRY(info.run_id, GetString(j, "run_id"));
  if (info.run_id.empty()) {
    CAIRN_TRY(info.run_id, GetString(j, "run_uuid"));
  }
  CAIRN_TRY(info.run_name, GetString(j, "run_name"));
  CAIRN_TRY(info.experiment_id, GetString(j, "experiment_id"));
  CAIRN_TRY(info.user_id, GetString(j, "user_id"));
  CAIRN_TRY(std::string status, GetString(j, "status"));
  if (!status.empty()) {
    auto s = store::ParseRunStatus(status);
    if (!s) return Malformed("unknown run status '" + status + "'");
    info.status = *s;
  }
  CAIRN_TRY(info.start_time, GetInt64(j, "start_time"));
  CAIRN_TRY(info.end_time, GetOptionalInt64(j, "end_time"));
  CAIRN_TRY(info.artifact_uri, GetString(j, "artifact_uri"));
  CAIRN_TRY(info.lifecycle_stage, StageFromJson(j));
  return info;
}

Result<Metric> MetricFromJson(const Json& j) {
  if (!j.is_object()) return Malformed("metric is not an object");
  Metric m;
  CAIRN_TRY(m.key, GetString(j, "key"));
  if (const Json* v = Field(j, "value")) {
    auto d = ParseDouble(*v);
    if (!d.ok()) return Malformed("metric '" + m.key + "': " + d.status().message());
    m.value = *d;
  }
  CAIRN_TRY(m.timestamp, GetInt64(j, "timestamp"));
  CAIRN_TRY(m.step, GetInt64(j, "step"));
  return m;
}

Result<Run> RunFromJson(const Json& j) {
  if (!j.is_object()) return Malformed("run is not an object");
  Run run;
  const Json* info = Field(j, "info");
  if (info == nullptr) return Malformed("run has no 'info'");
  CAIRN_TRY(run.info, RunInfoFromJson(*info));
  if (const Json* data = Field(j, "data")) {
    CAIRN_TRY(const Json* metrics, GetArray(*data, "metrics"));
    for (const Json& m : *metrics) {
      CAIRN_TRY(Metric metric, MetricFromJson(m));
      run.metrics.push_back(std::move(metric));
    }
    CAIRN_TRY(std::vector<Tag> params, TagsFromJson(*data, "params"));
    for (Tag& p : params) run.params.push_back({std::move(p.key), std::move(p.value)});
    CAIRN_TRY(run.tags, TagsFromJson(*data, "tags"));
  }
  if (const Json* inputs = Field(j, "inputs")) {
    CAIRN_TRY(const Json* datasets, GetArray(*inputs, "dataset_inputs"));
    for (const Json& di : *datasets) {
      DatasetInput d;
      CAIRN_TRY(d.tags, TagsFromJson(di, "tags"));
      if (const Json* ds = Field(di, "dataset")) {
        CAIRN_TRY(d.name, GetString(*ds, "name"));
        CAIRN_TRY(d.digest, GetString(*ds, "digest"));
        CAIRN_TRY(d.source_type, GetString(*ds, "source_type"));
        CAIRN_TRY(d.source, GetString(*ds, "source"));
        CAIRN_TRY(d.schema, GetString(*ds, "schema"));
        CAIRN_TRY(d.profile, GetString(*ds, "profile"));
      }
      run.inputs.push_back(std::move(d));
    }
  }
  if (run.info.run_name.empty()) {  // older servers keep the name only in a tag
    for (const Tag& t : run.tags) {
      if (t.key == "mlflow.runName") run.info.run_name = t.value;
    }
  }
  return run;
}

Result<FileInfo> FileInfoFromJson(const Json& j) {
  if (!j.is_object()) return Malformed("file info is not an object");
  FileInfo f;
  CAIRN_TRY(f.path, GetString(j, "path"));
  CAIRN_TRY(f.is_dir, GetBool(j, "is_dir"));
  CAIRN_TRY(f.file_size, GetOptionalInt64(j, "file_size"));
  return f;
}

Result<ExperimentsPage> ExperimentsPageFromJson(const Json& j) {
  ExperimentsPage page;
  CAIRN_TRY(const Json* arr, GetArray(j, "experiments"));
  for (const Json& e : *arr) {
    CAIRN_TRY(Experiment exp, ExperimentFromJson(e));
    page.experiments.push_back(std::move(exp));
  }
  CAIRN_TRY(page.next_page_token, GetString(j, "next_page_token"));
  return page;
}

Result<RunsPage> RunsPageFromJson(const Json& j) {
  RunsPage page;
  CAIRN_TRY(const Json* arr, GetArray(j, "runs"));
  for (const Json& r : *arr) {
    CAIRN_TRY(Run run, RunFromJson(r));
    page.runs.push_back(std::move(run));
  }
  CAIRN_TRY(page.next_page_token, GetString(j, "next_page_token"));
  return page;
}

Result<MetricHistoryPage> MetricHistoryPageFromJson(const Json& j) {
  MetricHistoryPage page;
  CAIRN_TRY(const Json* arr, GetArray(j, "metrics"));
  for (const Json& m : *arr) {
    CAIRN_TRY(Metric metric, MetricFromJson(m));
    page.metrics.push_back(std::move(metric));
  }
  CAIRN_TRY(page.next_page_token, GetString(j, "next_page_token"));
  return page;
}

Result<ArtifactListing> ArtifactListingFromJson(const Json& j) {
  ArtifactListing listing;
  CAIRN_TRY(listing.root_uri, GetString(j, "root_uri"));
  CAIRN_TRY(const Json* arr, GetArray(j, "files"));
  for (const Json& f : *arr) {
    CAIRN_TRY(FileInfo info, FileInfoFromJson(f));
    listing.files.push_back(std::move(info));
  }
  CAIRN_TRY(listing.next_page_token, GetString(j, "next_page_token"));
  return listing;
}

Json ToJson(const Tag& t) { return {{"key", t.key}, {"value", t.value}}; }
Json ToJson(const Param& p) { return {{"key", p.key}, {"value", p.value}}; }

Json ToJson(const Metric& m) {
  return {{"key", m.key},
          {"value", DoubleToJson(m.value)},
          {"timestamp", m.timestamp},
          {"step", m.step}};
}

Json ToJson(const Experiment& e) {
  return {{"experiment_id", e.experiment_id},
          {"name", e.name},
          {"artifact_location", e.artifact_location},
          {"lifecycle_stage", store::LifecycleStageName(e.lifecycle_stage)},
          {"last_update_time", e.last_update_time},
          {"creation_time", e.creation_time},
          {"tags", TagsToJson(e.tags)}};
}

Json ToJson(const RunInfo& info) {
  Json j = {{"run_id", info.run_id},
            {"run_uuid", info.run_id},
            {"run_name", info.run_name},
            {"experiment_id", info.experiment_id},
            {"user_id", info.user_id},
            {"status", store::RunStatusName(info.status)},
            {"start_time", info.start_time},
            {"artifact_uri", info.artifact_uri},
            {"lifecycle_stage", store::LifecycleStageName(info.lifecycle_stage)}};
  if (info.end_time) j["end_time"] = *info.end_time;
  return j;
}

Json ToJson(const DatasetInput& d) {
  Json ds = {
      {"name", d.name}, {"digest", d.digest}, {"source_type", d.source_type}, {"source", d.source}};
  if (!d.schema.empty()) ds["schema"] = d.schema;
  if (!d.profile.empty()) ds["profile"] = d.profile;
  return {{"tags", TagsToJson(d.tags)}, {"dataset", std::move(ds)}};
}

Json ToJson(const Run& r) {
  Json metrics = Json::array();
  for (const Metric& m : r.metrics) metrics.push_back(ToJson(m));
  Json params = Json::array();
  for (const Param& p : r.params) params.push_back(ToJson(p));
  Json inputs = Json::array();
  for (const DatasetInput& d : r.inputs) inputs.push_back(ToJson(d));
  return {{"info", ToJson(r.info)},
          {"data",
           {{"metrics", std::move(metrics)},
            {"params", std::move(params)},
            {"tags", TagsToJson(r.tags)}}},
          {"inputs", {{"dataset_inputs", std::move(inputs)}}}};
}

Json ToJson(const FileInfo& f) {
  Json j = {{"path", f.path}, {"is_dir", f.is_dir}};
  if (f.file_size) j["file_size"] = *f.file_size;
  return j;
}

std::string_view ViewTypeName(ViewType v) {
  switch (v) {
    case ViewType::kActiveOnly:
      return "ACTIVE_ONLY";
    case ViewType::kDeletedOnly:
      return "DELETED_ONLY";
    case ViewType::kAll:
      return "ALL";
  }
  return "ACTIVE_ONLY";
}

Json SearchExperimentsBody(const SearchExperimentsRequest& req) {
  Json j = {{"max_results", req.max_results}, {"view_type", ViewTypeName(req.view_type)}};
  if (!req.page_token.empty()) j["page_token"] = req.page_token;
  if (!req.filter.empty()) j["filter"] = req.filter;
  if (!req.order_by.empty()) j["order_by"] = req.order_by;
  return j;
}

Json SearchRunsBody(const SearchRunsRequest& req) {
  Json j = {{"experiment_ids", req.experiment_ids},
            {"run_view_type", ViewTypeName(req.run_view_type)},
            {"max_results", req.max_results}};
  if (!req.filter.empty()) j["filter"] = req.filter;
  if (!req.order_by.empty()) j["order_by"] = req.order_by;
  if (!req.page_token.empty()) j["page_token"] = req.page_token;
  return j;
}

Json CreateRunBody(const CreateRunRequest& req, int64_t now_ms) {
  Json j = {{"experiment_id", req.experiment_id}, {"start_time", req.start_time.value_or(now_ms)}};
  if (!req.run_name.empty()) j["run_name"] = req.run_name;
  if (!req.user_id.empty()) j["user_id"] = req.user_id;
  if (!req.tags.empty()) j["tags"] = TagsToJson(req.tags);
  return j;
}

Status StatusFromHttpError(int http_status, std::string_view body) {
  std::string error_code;
  std::string message;
  Json j = Json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (!j.is_discarded() && j.is_object()) {
    if (auto c = j.find("error_code"); c != j.end() && c->is_string()) error_code = *c;
    if (auto m = j.find("message"); m != j.end() && m->is_string()) message = *m;
  }
  if (message.empty()) {
    std::string_view snippet = body.substr(0, 200);
    while (!snippet.empty() &&
           (snippet.back() == '\n' || snippet.back() == '\r' || snippet.back() == ' ')) {
      snippet.remove_suffix(1);
    }
    message = "HTTP " + std::to_string(http_status);
    if (!snippet.empty() && error_code.empty()) message += ": " + std::string(snippet);
    if (!error_code.empty()) message += " " + error_code;
  }
  if (http_status == 413) return ResourceExhausted(std::move(message));
  if (error_code == "RESOURCE_DOES_NOT_EXIST") return NotFound(std::move(message));
  if (error_code == "RESOURCE_ALREADY_EXISTS") return AlreadyExists(std::move(message));
  if (error_code == "INVALID_PARAMETER_VALUE" || error_code == "BAD_REQUEST" ||
      error_code == "INVALID_STATE") {
    return InvalidArgument(std::move(message));
  }
  if (error_code == "PERMISSION_DENIED") {
    return {StatusCode::kPermissionDenied, std::move(message)};
  }
  if (error_code == "UNAUTHENTICATED") return {StatusCode::kUnauthenticated, std::move(message)};
  if (error_code.empty()) {  // not an MLflow error body: fall back on the HTTP status
    if (http_status == 404) return NotFound(std::move(message));
    if (http_status == 401) return {StatusCode::kUnauthenticated, std::move(message)};
    if (http_status == 403) return {StatusCode::kPermissionDenied, std::move(message)};
    if (http_status == 503) return Unavailable(std::move(message));
  }
  return Internal(std::move(message));
}

}  // namespace cairn::client
