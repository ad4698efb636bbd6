// Handlers of /api/v1/pipelines/definitions and /api/v1/triggers: parse, one service call,
// serialize.
#include "api/error_mapping.h"
#include "api/v1/pipeline_routes.h"
#include "api/v1/trigger_routes.h"
#include "triggers/trigger_spec.h"

namespace cairn::api::v1 {

namespace {

using http::HttpRequest;
using http::HttpResponse;
using nlohmann::json;

std::string Dump(const json& j) { return j.dump(-1, ' ', false, json::error_handler_t::replace); }

json Parsed(const std::string& text, json fallback) {
  json j = json::parse(text, nullptr, false);
  return j.is_discarded() ? fallback : j;
}

Result<json> ParseBody(const std::string& body) {
  if (body.empty()) return json::object();
  json j = json::parse(body, nullptr, false);
  if (j.is_discarded() || !j.is_object()) {
    return InvalidArgument("the request body is not a JSON object");
  }
  return j;
}

std::string User(const HttpRequest& req) {
  std::string user(req.Header(kUserHeader));
  return user.empty() ? "anonymous" : user;
}

std::string TriggerId(const HttpRequest& req) {
  return std::string(req.PathParam("pipeline")) + "/" + std::string(req.PathParam("kind"));
}

class TriggerHandlers {
 public:
  explicit TriggerHandlers(triggers::TriggerService& service) : service_(service) {}

  HttpResponse CreateDefinition(HttpRequest& req) {
    CAIRN_TRY_RESPOND(json body, ParseBody(req.body));
    if (!body.contains("yaml") || !body["yaml"].is_string()) {
      return ErrorResponse(InvalidArgument("yaml: required (the pipeline file's text)"));
    }
    std::string file;
    if (body.contains("file") && !body["file"].is_null()) {
      if (!body["file"].is_string()) return ErrorResponse(InvalidArgument("file: expected a string"));
      file = body["file"].get<std::string>();
    }
    CAIRN_TRY_RESPOND(auto def, service_.CreateDefinition(body["yaml"].get<std::string>(), file,
                                                          User(req)));
    return DefinitionResponse(def, false);
  }

  HttpResponse ListDefinitions(HttpRequest&) {
    CAIRN_TRY_RESPOND(auto defs, service_.ListDefinitions());
    json out = json::array();
    for (const auto& d : defs) out.push_back(PipelineDefinitionToJson(d, false));
    return http::JsonResponse(200, Dump(json{{"definitions", std::move(out)}}));
  }

  HttpResponse GetDefinition(HttpRequest& req) {
    CAIRN_TRY_RESPOND(auto def, service_.GetDefinition(req.PathParam("name")));
    return DefinitionResponse(def, true);
  }

  HttpResponse DeleteDefinition(HttpRequest& req) {
    CAIRN_RESPOND_IF_ERROR(service_.DeleteDefinition(req.PathParam("name")));
    return http::JsonResponse(200, "{}");
  }

  HttpResponse RunDefinition(HttpRequest& req) {
    CAIRN_TRY_RESPOND(json body, ParseBody(req.body));
    std::map<std::string, std::string> params;
    if (body.contains("params")) {
      if (!body["params"].is_object()) {
        return ErrorResponse(InvalidArgument("params: expected an object of strings"));
      }
      for (const auto& [k, v] : body["params"].items()) {
        if (!v.is_string()) {
          return ErrorResponse(InvalidArgument("params." + k + ": expected a string"));
        }
        params[k] = v.get<std::string>();
      }
    }
    CAIRN_TRY_RESPOND(auto run, service_.RunDefinition(req.PathParam("name"), params, User(req)));
    return http::JsonResponse(200, Dump(json{{"run", PipelineRunToJson(run, false)}}));
  }

  HttpResponse ListTriggers(HttpRequest& req) {
    CAIRN_TRY_RESPOND(auto list, service_.ListTriggers(req.QueryParam("pipeline").value_or("")));
    json out = json::array();
    for (const auto& t : list) out.push_back(TriggerToJson(t));
    return http::JsonResponse(200, Dump(json{{"triggers", std::move(out)}}));
  }

  HttpResponse GetTrigger(HttpRequest& req) {
    CAIRN_TRY_RESPOND(auto details, service_.GetTrigger(TriggerId(req)));
    json t = TriggerToJson(details.trigger);
    json firings = json::array();
    for (const auto& f : details.firings) firings.push_back(TriggerFiringToJson(f));
    t["firings"] = std::move(firings);
    return http::JsonResponse(200, Dump(json{{"trigger", std::move(t)}}));
  }

  HttpResponse Enable(HttpRequest& req) { return SetEnabled(req, true); }
  HttpResponse Disable(HttpRequest& req) { return SetEnabled(req, false); }

 private:
  HttpResponse SetEnabled(HttpRequest& req, bool enabled) {
    CAIRN_TRY_RESPOND(auto t, service_.SetEnabled(TriggerId(req), enabled));
    return http::JsonResponse(200, Dump(json{{"trigger", TriggerToJson(t)}}));
  }

  HttpResponse DefinitionResponse(const store::PipelineDefinition& def, bool with_spec) {
    CAIRN_TRY_RESPOND(auto list, service_.ListTriggers(def.name));
    json triggers = json::array();
    for (const auto& t : list) triggers.push_back(TriggerToJson(t));
    return http::JsonResponse(200, Dump(json{{"definition", PipelineDefinitionToJson(def, with_spec)},
                                             {"triggers", std::move(triggers)}}));
  }

  triggers::TriggerService& service_;
};

}  // namespace

json TriggerToJson(const store::TriggerRecord& t) {
  const json condition = Parsed(t.condition, json());
  const json state = Parsed(t.state, json::object());
  json j = {{"trigger_id", t.trigger_id},
            {"pipeline", t.pipeline},
            {"kind", t.kind},
            {"position", t.position},
            {"condition", condition},
            {"description", triggers::DescribeCondition(t.kind, condition)},
            {"enabled", t.enabled},
            {"state", state},
            {"last_fired_time", t.last_fired_time},
            {"last_run_id", t.last_run_id},
            {"last_reason", t.last_reason},
            {"held_time", t.held_time},
            {"held_reason", t.held_reason},
            {"creation_time", t.creation_time},
            {"last_update_time", t.last_update_time}};
  if (t.kind == "schedule" && state.is_object() && state.contains("next") &&
      state["next"].is_number_integer() && state["next"].get<int64_t>() > 0) {
    j["next_time"] = state["next"];
  }
  return j;
}

json TriggerFiringToJson(const store::TriggerFiring& f) {
  return {{"firing_id", f.firing_id},
          {"trigger_id", f.trigger_id},
          {"pipeline", f.pipeline},
          {"kind", f.kind},
          {"time", f.time},
          {"reason", f.reason},
          {"context", Parsed(f.context, json::object())},
          {"run_id", f.run_id},
          {"user", f.user},
          {"error", f.error}};
}

json PipelineDefinitionToJson(const store::PipelineDefinition& d, bool with_spec) {
  json j = {{"name", d.name},
            {"revision", d.revision},
            {"file", d.file},
            {"created_by", d.created_by},
            {"creation_time", d.creation_time},
            {"last_update_time", d.last_update_time},
            {"trigger_count", d.trigger_count}};
  if (with_spec) j["spec"] = d.spec;
  return j;
}

void RegisterTriggerRoutes(http::Router& router, triggers::TriggerService& service) {
  auto h = std::make_shared<TriggerHandlers>(service);
  http::RouteOptions options;
  options.max_body_bytes = 4 << 20;  // a pipeline file
  auto add = [&](const char* method, const std::string& path,
                 HttpResponse (TriggerHandlers::*fn)(HttpRequest&)) {
    router.Add(
        method, path, [h, fn](HttpRequest& r) { return ((*h).*fn)(r); }, options);
  };
  const std::string defs = "/api/v1/pipelines/definitions";
  add("POST", defs, &TriggerHandlers::CreateDefinition);
  add("GET", defs, &TriggerHandlers::ListDefinitions);
  add("GET", defs + "/{name}", &TriggerHandlers::GetDefinition);
  add("DELETE", defs + "/{name}", &TriggerHandlers::DeleteDefinition);
  add("POST", defs + "/{name}/runs", &TriggerHandlers::RunDefinition);
  const std::string one = "/api/v1/triggers/{pipeline}/{kind}";
  add("GET", "/api/v1/triggers", &TriggerHandlers::ListTriggers);
  add("GET", one, &TriggerHandlers::GetTrigger);
  add("POST", one + "/enable", &TriggerHandlers::Enable);
  add("POST", one + "/disable", &TriggerHandlers::Disable);
}

}  // namespace cairn::api::v1
