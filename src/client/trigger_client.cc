#include "client/trigger_client.h"

#include "client/pipeline_client.h"

namespace cairn::client {

namespace {

constexpr std::string_view kDefinitions = "/api/v1/pipelines/definitions";

std::string Str(const Json& j, const char* key) {
  return j.contains(key) && j[key].is_string() ? j[key].get<std::string>() : "";
}

int64_t Int(const Json& j, const char* key) {
  return j.contains(key) && j[key].is_number_integer() ? j[key].get<int64_t>() : 0;
}

std::string Text(const Json& j, const char* key, const char* fallback) {
  return j.contains(key) && !j[key].is_null() ? j[key].dump() : fallback;
}

// "<pipeline>/<kind>" → its path; kInvalidArgument otherwise.
Result<std::string> TriggerPath(std::string_view id) {
  const size_t slash = id.find('/');
  if (slash == std::string_view::npos || slash == 0 || slash + 1 == id.size() ||
      id.find('/', slash + 1) != std::string_view::npos) {
    return InvalidArgument("trigger id '" + std::string(id) +
                           "': expected PIPELINE/KIND, e.g. churn-retrain/drift");
  }
  return "/api/v1/triggers/" + http::PercentEncode(id.substr(0, slash)) + "/" +
         http::PercentEncode(id.substr(slash + 1));
}

StoredPipeline StoredFromJson(const Json& j) {
  StoredPipeline out;
  out.definition = PipelineDefinitionFromJson(j.value("definition", Json::object()));
  if (j.contains("triggers") && j["triggers"].is_array()) {
    for (const Json& t : j["triggers"]) out.triggers.push_back(TriggerFromJson(t));
  }
  return out;
}

}  // namespace

store::TriggerRecord TriggerFromJson(const Json& j) {
  store::TriggerRecord t;
  t.trigger_id = Str(j, "trigger_id");
  t.pipeline = Str(j, "pipeline");
  t.position = Int(j, "position");
  t.kind = Str(j, "kind");
  t.condition = Text(j, "condition", "null");
  t.enabled = j.value("enabled", true);
  t.state = Text(j, "state", "{}");
  t.last_fired_time = Int(j, "last_fired_time");
  t.last_run_id = Str(j, "last_run_id");
  t.last_reason = Str(j, "last_reason");
  t.held_time = Int(j, "held_time");
  t.held_reason = Str(j, "held_reason");
  t.creation_time = Int(j, "creation_time");
  t.last_update_time = Int(j, "last_update_time");
  return t;
}

store::TriggerFiring TriggerFiringFromJson(const Json& j) {
  store::TriggerFiring f;
  f.firing_id = Int(j, "firing_id");
  f.trigger_id = Str(j, "trigger_id");
  f.pipeline = Str(j, "pipeline");
  f.kind = Str(j, "kind");
  f.time = Int(j, "time");
  f.reason = Str(j, "reason");
  f.context = Text(j, "context", "{}");
  f.run_id = Str(j, "run_id");
  f.user = Str(j, "user");
  f.error = Str(j, "error");
  return f;
}

store::PipelineDefinition PipelineDefinitionFromJson(const Json& j) {
  store::PipelineDefinition d;
  d.name = Str(j, "name");
  d.revision = Int(j, "revision");
  d.spec = Str(j, "spec");
  d.file = Str(j, "file");
  d.created_by = Str(j, "created_by");
  d.creation_time = Int(j, "creation_time");
  d.last_update_time = Int(j, "last_update_time");
  d.trigger_count = Int(j, "trigger_count");
  return d;
}

Result<std::unique_ptr<TriggerClient>> TriggerClient::Connect(std::string_view tracking_uri,
                                                               std::string user) {
  CAIRN_TRY(std::unique_ptr<Transport> transport, ConnectHttp(tracking_uri));
  return std::make_unique<TriggerClient>(std::move(transport), std::move(user));
}

TriggerClient::TriggerClient(std::unique_ptr<Transport> transport, std::string user)
    : transport_(std::move(transport)), user_(std::move(user)) {}

Result<Json> TriggerClient::Call(std::string_view method, const std::string& target,
                   const Json* body) {
  return CallJson(*transport_, method, target, body, {{"x-cairn-user", user_}});
}

Result<StoredPipeline> TriggerClient::CreateDefinition(const std::string& yaml,
                                                       const std::string& file) {
  Json body = {{"yaml", yaml}};
  if (!file.empty()) body["file"] = file;
  CAIRN_TRY(Json j, Call("POST", std::string(kDefinitions), &body));
  return StoredFromJson(j);
}

Result<std::vector<store::PipelineDefinition>> TriggerClient::ListDefinitions() {
  CAIRN_TRY(Json j, Call("GET", std::string(kDefinitions), nullptr));
  std::vector<store::PipelineDefinition> out;
  if (j.contains("definitions") && j["definitions"].is_array()) {
    for (const Json& d : j["definitions"]) out.push_back(PipelineDefinitionFromJson(d));
  }
  return out;
}

Result<StoredPipeline> TriggerClient::GetDefinition(std::string_view name) {
  CAIRN_TRY(Json j, Call("GET", std::string(kDefinitions) + "/" + http::PercentEncode(name),
                         nullptr));
  return StoredFromJson(j);
}

Status TriggerClient::DeleteDefinition(std::string_view name) {
  return Call("DELETE", std::string(kDefinitions) + "/" + http::PercentEncode(name), nullptr)
      .status();
}

Result<store::PipelineRun> TriggerClient::RunDefinition(
    std::string_view name, const std::map<std::string, std::string>& params) {
  Json body = {{"params", params}};
  CAIRN_TRY(Json j, Call("POST",
                         std::string(kDefinitions) + "/" + http::PercentEncode(name) + "/runs",
                         &body));
  return PipelineRunFromJson(j.value("run", Json()));
}

Result<std::vector<store::TriggerRecord>> TriggerClient::ListTriggers(std::string_view pipeline) {
  std::string target = "/api/v1/triggers";
  if (!pipeline.empty()) target += "?pipeline=" + http::PercentEncode(pipeline);
  CAIRN_TRY(Json j, Call("GET", target, nullptr));
  std::vector<store::TriggerRecord> out;
  if (j.contains("triggers") && j["triggers"].is_array()) {
    for (const Json& t : j["triggers"]) out.push_back(TriggerFromJson(t));
  }
  return out;
}

Result<TriggerWithFirings> TriggerClient::GetTrigger(std::string_view trigger_id) {
  CAIRN_TRY(std::string path, TriggerPath(trigger_id));
  CAIRN_TRY(Json j, Call("GET", path, nullptr));
  const Json t = j.value("trigger", Json::object());
  TriggerWithFirings out;
  out.trigger = TriggerFromJson(t);
  if (t.contains("firings") && t["firings"].is_array()) {
    for (const Json& f : t["firings"]) out.firings.push_back(TriggerFiringFromJson(f));
  }
  return out;
}

Result<store::TriggerRecord> TriggerClient::SetEnabled(std::string_view trigger_id,
                                                       bool enabled) {
  CAIRN_TRY(std::string path, TriggerPath(trigger_id));
  Json body = Json::object();
  CAIRN_TRY(Json j, Call("POST", path + (enabled ? "/enable" : "/disable"), &body));
  return TriggerFromJson(j.value("trigger", Json::object()));
}

}  // namespace cairn::client
