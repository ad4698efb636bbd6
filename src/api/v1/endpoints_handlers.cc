// Handlers of /api/v1/endpoints and of the endpoints' scoring routes: parse, one EndpointService
// call, serialize.
#include "api/error_mapping.h"
#include "api/v1/endpoint_json.h"
#include "api/v1/endpoint_routes.h"

namespace cairn::api::v1 {

namespace {

using http::HttpRequest;
using http::HttpResponse;
using nlohmann::json;

std::string Dump(const json& j) { return j.dump(-1, ' ', false, json::error_handler_t::replace); }

std::string NameOf(const HttpRequest& req) { return std::string(req.PathParam("name")); }
std::string DeploymentOf(const HttpRequest& req) {
  return std::string(req.PathParam("deployment"));
}

class EndpointHandlers {
 public:
  explicit EndpointHandlers(endpoints::EndpointService& service) : service_(service) {}

  HttpResponse List(HttpRequest&) {
    CAIRN_TRY_RESPOND(auto views, service_.ListEndpoints());
    json out = json::array();
    for (const auto& v : views) out.push_back(ToJson(v));
    return http::JsonResponse(200, Dump(json{{"endpoints", std::move(out)}}));
  }

  HttpResponse Create(HttpRequest& req) {
    CAIRN_TRY_RESPOND(auto request, ParseCreateEndpoint(req.body));
    CAIRN_TRY_RESPOND(auto view, service_.CreateEndpoint(request));
    return http::JsonResponse(200, Dump(json{{"endpoint", ToJson(view)}}));
  }

  HttpResponse Get(HttpRequest& req) {
    CAIRN_TRY_RESPOND(auto view, service_.GetEndpoint(NameOf(req)));
    return http::JsonResponse(200, Dump(json{{"endpoint", ToJson(view)}}));
  }

  HttpResponse Update(HttpRequest& req) {
    CAIRN_TRY_RESPOND(auto request, ParseUpdateEndpoint(req.body, NameOf(req)));
    CAIRN_TRY_RESPOND(auto view, service_.UpdateEndpoint(request));
    return http::JsonResponse(200, Dump(json{{"endpoint", ToJson(view)}}));
  }

  HttpResponse Delete(HttpRequest& req) {
    CAIRN_RESPOND_IF_ERROR(service_.DeleteEndpoint(NameOf(req)));
    return http::JsonResponse(200, "{}");
  }

  HttpResponse Traffic(HttpRequest& req) {
    CAIRN_TRY_RESPOND(auto request, ParseTraffic(req.body, NameOf(req)));
    CAIRN_TRY_RESPOND(auto view, service_.SetTraffic(request));
    return http::JsonResponse(200, Dump(json{{"endpoint", ToJson(view)}}));
  }

  HttpResponse ListDeployments(HttpRequest& req) {
    CAIRN_TRY_RESPOND(auto views, service_.ListDeployments(NameOf(req)));
    json out = json::array();
    for (const auto& v : views) out.push_back(ToJson(v));
    return http::JsonResponse(200, Dump(json{{"deployments", std::move(out)}}));
  }

  HttpResponse CreateDeployment(HttpRequest& req) {
    CAIRN_TRY_RESPOND(auto request, ParseCreateDeployment(req.body, NameOf(req)));
    CAIRN_TRY_RESPOND(auto view, service_.CreateDeployment(request));
    return http::JsonResponse(200, Dump(json{{"deployment", ToJson(view)}}));
  }

  HttpResponse GetDeployment(HttpRequest& req) {
    CAIRN_TRY_RESPOND(auto view, service_.GetDeployment(NameOf(req), DeploymentOf(req)));
    return http::JsonResponse(200, Dump(json{{"deployment", ToJson(view)}}));
  }

  HttpResponse UpdateDeployment(HttpRequest& req) {
    CAIRN_TRY_RESPOND(auto request,
                      ParseUpdateDeployment(req.body, NameOf(req), DeploymentOf(req)));
    CAIRN_TRY_RESPOND(auto view, service_.UpdateDeployment(request));
    return http::JsonResponse(200, Dump(json{{"deployment", ToJson(view)}}));
  }

  HttpResponse DeleteDeployment(HttpRequest& req) {
    CAIRN_RESPOND_IF_ERROR(service_.DeleteDeployment(NameOf(req), DeploymentOf(req)));
    return http::JsonResponse(200, "{}");
  }

  HttpResponse Predictions(HttpRequest& req) {
    CAIRN_TRY_RESPOND(auto query, ParsePredictionQuery(req, NameOf(req)));
    CAIRN_TRY_RESPOND(auto page, service_.Predictions(query));
    json records = json::array();
    for (const auto& r : page.records) records.push_back(ToJson(r));
    json out = {{"predictions", std::move(records)}};
    if (!page.next_page_token.empty()) out["next_page_token"] = page.next_page_token;
    return http::JsonResponse(200, Dump(out));
  }

 private:
  endpoints::EndpointService& service_;
};

// --- scoring: errors in the protocol's own shape ---

HttpResponse V2Error(int status, std::string_view message) {
  return http::JsonResponse(status, Dump(json{{"error", message}}));
}

HttpResponse ProtocolError(serving::Protocol protocol, const Status& status) {
  if (protocol == serving::Protocol::kMlflow) return ErrorResponse(status);
  return V2Error(HttpErrorOf(status.code()).http_status, status.message());
}

// The v2 model in the path must be the endpoint's name (traffic picks the deployment).
std::optional<HttpResponse> CheckV2Model(const HttpRequest& req) {
  const std::string_view model = req.PathParam("model");
  const std::string_view name = req.PathParam("name");
  if (model == name) return std::nullopt;
  return V2Error(404, "model '" + std::string(model.substr(0, 200)) +
                          "' is not served here; endpoint '" + std::string(name) +
                          "' serves its models as '" + std::string(name) + "'");
}

}  // namespace

void RegisterEndpointRoutes(http::Router& router, endpoints::EndpointService& service,
                            const EndpointRouteLimits& limits) {
  auto h = std::make_shared<EndpointHandlers>(service);
  http::RouteOptions options;
  options.max_body_bytes = limits.max_json_body_bytes;
  const std::string base = "/api/v1/endpoints";
  const std::string one = base + "/{name}";
  const std::string deployment = one + "/deployments/{deployment}";
  auto add = [&](const char* method, const std::string& path,
                 HttpResponse (EndpointHandlers::*fn)(HttpRequest&)) {
    router.Add(
        method, path, [h, fn](HttpRequest& r) { return ((*h).*fn)(r); }, options);
  };
  add("GET", base, &EndpointHandlers::List);
  add("POST", base, &EndpointHandlers::Create);
  add("GET", one, &EndpointHandlers::Get);
  add("PATCH", one, &EndpointHandlers::Update);
  add("DELETE", one, &EndpointHandlers::Delete);
  add("PUT", one + "/traffic", &EndpointHandlers::Traffic);
  add("GET", one + "/deployments", &EndpointHandlers::ListDeployments);
  add("POST", one + "/deployments", &EndpointHandlers::CreateDeployment);
  add("GET", deployment, &EndpointHandlers::GetDeployment);
  add("PATCH", deployment, &EndpointHandlers::UpdateDeployment);
  add("DELETE", deployment, &EndpointHandlers::DeleteDeployment);
  add("GET", one + "/predictions", &EndpointHandlers::Predictions);
}

void RegisterEndpointScoringRoutes(http::Router& router, endpoints::EndpointService& service,
                                   const EndpointRouteLimits& limits) {
  http::RouteOptions scoring;
  scoring.max_body_bytes = limits.max_scoring_body_bytes;
  endpoints::EndpointService* s = &service;
  const std::string base = "/endpoints/{name}";
  const std::string model = base + "/v2/models/{model}";

  router.Add(
      "POST", base + "/invocations",
      [s](HttpRequest& req) {
        auto answer = s->Score(req.PathParam("name"), serving::Protocol::kMlflow, req);
        if (!answer.ok()) return ProtocolError(serving::Protocol::kMlflow, answer.status());
        return std::move(answer).value();
      },
      scoring);
  router.Add(
      "POST", model + "/infer",
      [s](HttpRequest& req) {
        if (auto error = CheckV2Model(req)) return std::move(*error);
        auto answer = s->Score(req.PathParam("name"), serving::Protocol::kInferenceV2, req);
        if (!answer.ok()) return ProtocolError(serving::Protocol::kInferenceV2, answer.status());
        return std::move(answer).value();
      },
      scoring);
  router.Add("GET", base + "/ping", [s](HttpRequest& req) {
    Status ready = s->Ready(req.PathParam("name"));
    if (!ready.ok()) return ErrorResponse(ready);
    return http::TextResponse(200, "\n");
  });
  router.Add("GET", model, [s](HttpRequest& req) {
    if (auto error = CheckV2Model(req)) return std::move(*error);
    auto metadata = s->ModelMetadata(req.PathParam("name"), req);
    if (!metadata.ok()) return ProtocolError(serving::Protocol::kInferenceV2, metadata.status());
    return http::JsonResponse(200, std::move(metadata).value());
  });
  router.Add("GET", model + "/ready", [s](HttpRequest& req) {
    if (auto error = CheckV2Model(req)) return std::move(*error);
    Status ready = s->Ready(req.PathParam("name"));
    if (ready.code() == StatusCode::kNotFound) {
      return ProtocolError(serving::Protocol::kInferenceV2, ready);
    }
    return http::JsonResponse(ready.ok() ? 200 : 503,
                              Dump(json{{"name", req.PathParam("name")}, {"ready", ready.ok()}}));
  });
  router.Add("GET", base + "/v2/health/live", [s](HttpRequest& req) {
    Status exists = s->Ready(req.PathParam("name"));
    if (exists.code() == StatusCode::kNotFound) {
      return ProtocolError(serving::Protocol::kInferenceV2, exists);
    }
    return http::JsonResponse(200, "{\"live\":true}");
  });
  router.Add("GET", base + "/v2/health/ready", [s](HttpRequest& req) {
    Status ready = s->Ready(req.PathParam("name"));
    if (ready.code() == StatusCode::kNotFound) {
      return ProtocolError(serving::Protocol::kInferenceV2, ready);
    }
    return http::JsonResponse(ready.ok() ? 200 : 503, Dump(json{{"ready", ready.ok()}}));
  });
}

}  // namespace cairn::api::v1
