#include "client/pipeline_client.h"

#include <pwd.h>
#include <unistd.h>

#include <cstdlib>

namespace cairn::client {

namespace {

constexpr std::string_view kPrefix = "/api/v1/pipelines/runs";

std::string RunPath(std::string_view id) {
  return std::string(kPrefix) + "/" + http::PercentEncode(id);
}

std::string StepPath(std::string_view id, std::string_view step) {
  return RunPath(id) + "/steps/" + http::PercentEncode(step);
}

std::string Str(const Json& j, const char* key) {
  return j.contains(key) && j[key].is_string() ? j[key].get<std::string>() : "";
}

int64_t Int(const Json& j, const char* key) {
  return j.contains(key) && j[key].is_number_integer() ? j[key].get<int64_t>() : 0;
}

std::string ObjectText(const Json& j, const char* key) {
  return j.contains(key) && j[key].is_object() ? j[key].dump() : "{}";
}

}  // namespace

std::string ResolveUser(const std::string& flag) {
  if (!flag.empty()) return flag;
  if (const char* v = std::getenv("CAIRN_USER"); v != nullptr && *v != '\0') return v;
  if (const char* v = ::getlogin(); v != nullptr && *v != '\0') return v;
  if (const passwd* pw = ::getpwuid(::getuid()); pw != nullptr && pw->pw_name != nullptr) {
    return pw->pw_name;
  }
  for (const char* var : {"USER", "LOGNAME"}) {
    if (const char* v = std::getenv(var); v != nullptr && *v != '\0') return v;
  }
  return "unknown";
}

Result<store::StepRun> StepRunFromJson(const Json& j, const std::string& run_id) {
  if (!j.is_object()) return InvalidArgument("a pipeline step is not a JSON object");
  store::StepRun s;
  s.pipeline_run_id = run_id;
  s.step_id = Str(j, "step_id");
  s.uses = Str(j, "uses");
  auto status = store::ParseStepRunStatus(Str(j, "status"));
  if (!status) return InvalidArgument("step '" + s.step_id + "' has an unknown status");
  s.status = *status;
  s.attempt = Int(j, "attempt");
  s.outputs = ObjectText(j, "outputs");
  s.error = Str(j, "error");
  s.mlflow_run_id = Str(j, "mlflow_run_id");
  s.start_time = Int(j, "start_time");
  s.end_time = Int(j, "end_time");
  s.deadline = Int(j, "deadline");
  s.decision = Str(j, "decision");
  s.decided_by = Str(j, "decided_by");
  s.comment = Str(j, "comment");
  s.decision_time = Int(j, "decision_time");
  return s;
}

Result<store::PipelineRun> PipelineRunFromJson(const Json& j) {
  if (!j.is_object()) return InvalidArgument("a pipeline run is not a JSON object");
  store::PipelineRun r;
  r.run_id = Str(j, "run_id");
  r.name = Str(j, "name");
  r.file = Str(j, "file");
  r.spec = Str(j, "spec");
  r.params = ObjectText(j, "params");
  r.created_by = Str(j, "created_by");
  auto status = store::ParsePipelineRunStatus(Str(j, "status"));
  if (!status) return InvalidArgument("pipeline run '" + r.run_id + "' has an unknown status");
  r.status = *status;
  r.error = Str(j, "error");
  r.experiment_id = Str(j, "experiment_id");
  r.mlflow_run_id = Str(j, "mlflow_run_id");
  r.cancel_requested = j.value("cancel_requested", false);
  r.creation_time = Int(j, "creation_time");
  r.start_time = Int(j, "start_time");
  r.end_time = Int(j, "end_time");
  r.last_update_time = Int(j, "last_update_time");
  if (j.contains("steps") && j["steps"].is_array()) {
    int64_t position = 0;
    for (const Json& s : j["steps"]) {
      CAIRN_TRY(store::StepRun step, StepRunFromJson(s, r.run_id));
      step.position = position++;
      r.steps.push_back(std::move(step));
    }
  }
  return r;
}

Result<std::unique_ptr<PipelineClient>> PipelineClient::Connect(std::string_view tracking_uri,
                                                                 std::string user) {
  CAIRN_TRY(std::unique_ptr<Transport> transport, ConnectHttp(tracking_uri));
  return std::make_unique<PipelineClient>(std::move(transport), std::move(user));
}

PipelineClient::PipelineClient(std::unique_ptr<Transport> transport, std::string user)
    : transport_(std::move(transport)), user_(std::move(user)) {}

Result<Json> PipelineClient::Call(std::string_view method, const std::string& target,
                   const Json* body) {
  return CallJson(*transport_, method, target, body, {{"x-cairn-user", user_}});
}

Result<store::PipelineRun> PipelineClient::Start(const StartPipelineRequest& req) {
  Json body = {{"yaml", req.yaml}, {"params", req.params}};
  if (!req.file.empty()) body["file"] = req.file;
  CAIRN_TRY(Json j, Call("POST", std::string(kPrefix), &body));
  return PipelineRunFromJson(j.value("run", Json()));
}

Result<std::vector<store::PipelineRun>> PipelineClient::List(
    const std::vector<std::string>& statuses, std::string_view name, int64_t max_results) {
  std::string query = "?max_results=" + std::to_string(max_results);
  for (const std::string& s : statuses) query += "&status=" + http::PercentEncode(s);
  if (!name.empty()) query += "&name=" + http::PercentEncode(name);
  CAIRN_TRY(Json j, Call("GET", std::string(kPrefix) + query, nullptr));
  std::vector<store::PipelineRun> runs;
  if (j.contains("runs") && j["runs"].is_array()) {
    for (const Json& r : j["runs"]) {
      CAIRN_TRY(store::PipelineRun run, PipelineRunFromJson(r));
      runs.push_back(std::move(run));
    }
  }
  return runs;
}

Result<store::PipelineRun> PipelineClient::Get(std::string_view run_id) {
  CAIRN_TRY(Json j, Call("GET", RunPath(run_id), nullptr));
  return PipelineRunFromJson(j.value("run", Json()));
}

Result<store::PipelineRun> PipelineClient::Cancel(std::string_view run_id) {
  Json body = Json::object();
  CAIRN_TRY(Json j, Call("POST", RunPath(run_id) + "/cancel", &body));
  return PipelineRunFromJson(j.value("run", Json()));
}

Result<store::StepRun> PipelineClient::Approve(std::string_view run_id, std::string_view step,
                                               std::string_view comment) {
  Json body = {{"comment", comment}};
  CAIRN_TRY(Json j, Call("POST", StepPath(run_id, step) + "/approve", &body));
  return StepRunFromJson(j.value("step", Json()), std::string(run_id));
}

Result<store::StepRun> PipelineClient::Reject(std::string_view run_id, std::string_view step,
                                              std::string_view comment) {
  Json body = {{"comment", comment}};
  CAIRN_TRY(Json j, Call("POST", StepPath(run_id, step) + "/reject", &body));
  return StepRunFromJson(j.value("step", Json()), std::string(run_id));
}

Result<std::string> PipelineClient::StepLog(std::string_view run_id, std::string_view step) {
  CAIRN_TRY(Json j, Call("GET", StepPath(run_id, step) + "/logs", nullptr));
  return j.value("log", std::string());
}

}  // namespace cairn::client
