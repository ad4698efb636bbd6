// Handlers of /api/v1/pipelines: parse, one engine (or store) call, serialize.
#include <charconv>

#include "api/error_mapping.h"
#include "api/v1/pipeline_routes.h"

namespace cairn::api::v1 {

namespace {

using http::HttpRequest;
using http::HttpResponse;
using nlohmann::json;

std::string Dump(const json& j) { return j.dump(-1, ' ', false, json::error_handler_t::replace); }

json ObjectOf(const std::string& text) {
  json j = json::parse(text, nullptr, false);
  return j.is_object() ? j : json::object();
}

Result<json> ParseBody(const std::string& body) {
  if (body.empty()) return json::object();
  json j = json::parse(body, nullptr, false);
  if (j.is_discarded() || !j.is_object()) {
    return InvalidArgument("the request body is not a JSON object");
  }
  return j;
}

Result<std::string> StringField(const json& j, const char* key, bool required) {
  if (!j.contains(key) || j[key].is_null()) {
    if (required) return InvalidArgument(std::string(key) + ": required");
    return std::string();
  }
  if (!j[key].is_string()) return InvalidArgument(std::string(key) + ": expected a string");
  return j[key].get<std::string>();
}

class PipelineHandlers {
 public:
  PipelineHandlers(pipelines::PipelineEngine& engine, store::MetadataStore& store)
      : engine_(engine), store_(store) {}

  HttpResponse Start(HttpRequest& req) {
    CAIRN_TRY_RESPOND(json body, ParseBody(req.body));
    pipelines::StartRequest start;
    CAIRN_TRY_RESPOND(start.yaml, StringField(body, "yaml", true));
    CAIRN_TRY_RESPOND(std::string file, StringField(body, "file", false));
    if (!file.empty()) start.file = file;
    if (body.contains("params")) {
      if (!body["params"].is_object()) {
        return ErrorResponse(InvalidArgument("params: expected an object of strings"));
      }
      for (const auto& [k, v] : body["params"].items()) {
        if (!v.is_string()) {
          return ErrorResponse(InvalidArgument("params." + k + ": expected a string"));
        }
        start.params[k] = v.get<std::string>();
      }
    }
    start.user = std::string(req.Header(kUserHeader));
    if (start.user.empty()) start.user = "anonymous";
    CAIRN_TRY_RESPOND(store::PipelineRun run, engine_.Submit(start));
    return http::JsonResponse(200, Dump(json{{"run", PipelineRunToJson(run, false)}}));
  }

  HttpResponse List(HttpRequest& req) {
    store::PipelineRunQuery query;
    for (const std::string& s : req.QueryParams("status")) {
      auto status = store::ParsePipelineRunStatus(s);
      if (!status) {
        return ErrorResponse(InvalidArgument(
            "status: '" + s + "' is not one of queued, running, succeeded, failed, cancelled"));
      }
      query.statuses.push_back(*status);
    }
    query.name = req.QueryParam("name").value_or("");
    if (auto max = req.QueryParam("max_results")) {
      int64_t n = 0;
      auto [p, ec] = std::from_chars(max->data(), max->data() + max->size(), n);
      if (ec != std::errc() || p != max->data() + max->size() || n < 1 || n > 1000) {
        return ErrorResponse(InvalidArgument("max_results: expected a number from 1 to 1000"));
      }
      query.max_results = n;
    }
    CAIRN_TRY_RESPOND(auto runs, store_.ListPipelineRuns(query));
    json out = json::array();
    for (const auto& r : runs) out.push_back(PipelineRunToJson(r, false));
    return http::JsonResponse(200, Dump(json{{"runs", std::move(out)}}));
  }

  HttpResponse Get(HttpRequest& req) {
    CAIRN_TRY_RESPOND(auto run, store_.GetPipelineRun(req.PathParam("id")));
    return http::JsonResponse(200, Dump(json{{"run", PipelineRunToJson(run, true)}}));
  }

  HttpResponse Cancel(HttpRequest& req) {
    CAIRN_TRY_RESPOND(auto run, engine_.Cancel(req.PathParam("id")));
    return http::JsonResponse(200, Dump(json{{"run", PipelineRunToJson(run, false)}}));
  }

  HttpResponse Approve(HttpRequest& req) { return Decide(req, true); }
  HttpResponse Reject(HttpRequest& req) { return Decide(req, false); }

  HttpResponse Logs(HttpRequest& req) {
    CAIRN_TRY_RESPOND(auto log, store_.GetStepLog(req.PathParam("id"), req.PathParam("step")));
    return http::JsonResponse(200, Dump(json{{"log", log}}));
  }

 private:
  HttpResponse Decide(HttpRequest& req, bool approve) {
    CAIRN_TRY_RESPOND(json body, ParseBody(req.body));
    CAIRN_TRY_RESPOND(std::string comment, StringField(body, "comment", false));
    CAIRN_TRY_RESPOND(auto step, engine_.Decide(req.PathParam("id"), req.PathParam("step"),
                                                approve, req.Header(kUserHeader), comment));
    return http::JsonResponse(200, Dump(json{{"step", StepRunToJson(step)}}));
  }

  pipelines::PipelineEngine& engine_;
  store::MetadataStore& store_;
};

}  // namespace

json StepRunToJson(const store::StepRun& s) {
  json j = {{"step_id", s.step_id},
            {"uses", s.uses},
            {"status", std::string(store::StepRunStatusName(s.status))},
            {"attempt", s.attempt},
            {"outputs", ObjectOf(s.outputs)},
            {"error", s.error},
            {"mlflow_run_id", s.mlflow_run_id},
            {"start_time", s.start_time},
            {"end_time", s.end_time}};
  if (s.uses == "gate.approval") {
    j["deadline"] = s.deadline;
    j["decision"] = s.decision;
    j["decided_by"] = s.decided_by;
    j["comment"] = s.comment;
    j["decision_time"] = s.decision_time;
  }
  return j;
}

json PipelineRunToJson(const store::PipelineRun& r, bool with_spec) {
  json steps = json::array();
  for (const auto& s : r.steps) steps.push_back(StepRunToJson(s));
  json j = {{"run_id", r.run_id},
            {"name", r.name},
            {"file", r.file},
            {"status", std::string(store::PipelineRunStatusName(r.status))},
            {"params", ObjectOf(r.params)},
            {"created_by", r.created_by},
            {"error", r.error},
            {"experiment_id", r.experiment_id},
            {"mlflow_run_id", r.mlflow_run_id},
            {"cancel_requested", r.cancel_requested},
            {"creation_time", r.creation_time},
            {"start_time", r.start_time},
            {"end_time", r.end_time},
            {"last_update_time", r.last_update_time},
            {"steps", std::move(steps)}};
  if (with_spec) j["spec"] = r.spec;
  return j;
}

void RegisterPipelineRoutes(http::Router& router, pipelines::PipelineEngine& engine,
                            store::MetadataStore& store) {
  auto h = std::make_shared<PipelineHandlers>(engine, store);
  http::RouteOptions options;
  options.max_body_bytes = 4 << 20;  // a pipeline file and its params
  const std::string base = "/api/v1/pipelines/runs";
  const std::string one = base + "/{id}";
  const std::string step = one + "/steps/{step}";
  auto add = [&](const char* method, const std::string& path,
                 HttpResponse (PipelineHandlers::*fn)(HttpRequest&)) {
    router.Add(
        method, path, [h, fn](HttpRequest& r) { return ((*h).*fn)(r); }, options);
  };
  add("POST", base, &PipelineHandlers::Start);
  add("GET", base, &PipelineHandlers::List);
  add("GET", one, &PipelineHandlers::Get);
  add("POST", one + "/cancel", &PipelineHandlers::Cancel);
  add("POST", step + "/approve", &PipelineHandlers::Approve);
  add("POST", step + "/reject", &PipelineHandlers::Reject);
  add("GET", step + "/logs", &PipelineHandlers::Logs);
}

}  // namespace cairn::api::v1
