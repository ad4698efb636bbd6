// Handlers of MLflow's model registry calls: parse → one RegistryService call → MLflow JSON.
#include <memory>

#include "api/error_mapping.h"
#include "api/mlflow/mlflow_routes.h"
#include "api/mlflow/request_fields.h"
#include "wire/mlflow_registry.h"

namespace cairn::api::mlflow {

namespace {

using http::HttpRequest;
using http::HttpResponse;
using nlohmann::json;

HttpResponse Ok(const json& body) { return http::JsonResponse(200, wire::Dump(body)); }
HttpResponse OkEmpty() { return http::JsonResponse(200, "{}"); }

// The request's fields. MLflow's clients send DELETE with a JSON body; a DELETE (or PATCH)
// without a body but with a query string is read from the query, as a GET.
Result<RequestFields> Fields(const HttpRequest& req) {
  if (req.method != "GET" && req.body.empty() && !req.query.empty()) {
    HttpRequest as_get;
    as_get.method = "GET";
    as_get.query = req.query;
    return RequestFields::FromRequest(as_get);
  }
  return RequestFields::FromRequest(req);
}

// A model version number: a string as in MLflow's protos, or an integer as some clients send.
Result<int64_t> VersionField(const RequestFields& f, std::string_view name = "version") {
  auto it = f.body().find(name);
  if (it == f.body().end() || it->is_null()) return MissingField(name);
  if (it->is_number_integer()) return it->get<int64_t>();
  if (!it->is_string()) return InvalidField(name, it->dump(), "a string");
  const std::string& text = it->get_ref<const std::string&>();
  if (text.empty()) return MissingField(name);
  return registry::ParseVersion(text);
}

Result<bool> BoolField(const RequestFields& f, std::string_view name) {
  auto it = f.body().find(name);
  if (it == f.body().end() || it->is_null()) return false;
  if (it->is_boolean()) return it->get<bool>();
  if (it->is_string()) {
    std::string text = it->get<std::string>();
    for (char& c : text) {
      if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    }
    if (text == "true") return true;
    if (text == "false") return false;
  }
  return InvalidField(name, it->dump(), "a boolean");
}

template <typename T>
json List(const std::vector<T>& items) {
  json out = json::array();
  for (const T& item : items) out.push_back(wire::ToJson(item));
  return out;
}

class RegistryHandlers {
 public:
  explicit RegistryHandlers(registry::RegistryService& service) : service_(service) {}

  // --- registered models ---
  HttpResponse CreateRegisteredModel(HttpRequest& req) {
    CAIRN_TRY_RESPOND(auto f, Fields(req));
    CAIRN_TRY_RESPOND(auto name, f.RequiredString("name"));
    CAIRN_TRY_RESPOND(auto tags, f.Tags("tags"));
    CAIRN_TRY_RESPOND(auto description, f.String("description"));
    CAIRN_TRY_RESPOND(auto model, service_.CreateRegisteredModel(name, std::move(tags),
                                                                 description.value_or("")));
    return Ok({{"registered_model", wire::ToJson(model)}});
  }

  HttpResponse GetRegisteredModel(HttpRequest& req) {
    CAIRN_TRY_RESPOND(auto f, Fields(req));
    CAIRN_TRY_RESPOND(auto name, f.RequiredString("name"));
    CAIRN_TRY_RESPOND(auto model, service_.GetRegisteredModel(name));
    return Ok({{"registered_model", wire::ToJson(model)}});
  }

  HttpResponse RenameRegisteredModel(HttpRequest& req) {
    CAIRN_TRY_RESPOND(auto f, Fields(req));
    CAIRN_TRY_RESPOND(auto name, f.RequiredString("name"));
    CAIRN_TRY_RESPOND(auto new_name, f.String("new_name"));
    CAIRN_TRY_RESPOND(auto model, service_.RenameRegisteredModel(name, new_name.value_or("")));
    return Ok({{"registered_model", wire::ToJson(model)}});
  }

  HttpResponse UpdateRegisteredModel(HttpRequest& req) {
    CAIRN_TRY_RESPOND(auto f, Fields(req));
    CAIRN_TRY_RESPOND(auto name, f.RequiredString("name"));
    CAIRN_TRY_RESPOND(auto description, f.String("description"));
    CAIRN_TRY_RESPOND(auto model,
                      service_.UpdateRegisteredModel(name, description.value_or("")));
    return Ok({{"registered_model", wire::ToJson(model)}});
  }

  HttpResponse DeleteRegisteredModel(HttpRequest& req) {
    CAIRN_TRY_RESPOND(auto f, Fields(req));
    CAIRN_TRY_RESPOND(auto name, f.RequiredString("name"));
    CAIRN_RESPOND_IF_ERROR(service_.DeleteRegisteredModel(name));
    return OkEmpty();
  }

  HttpResponse SearchRegisteredModels(HttpRequest& req) {
    CAIRN_TRY_RESPOND(auto f, Fields(req));
    registry::SearchRegisteredModelsRequest request;
    CAIRN_TRY_RESPOND(auto filter, f.String("filter"));
    request.filter = filter.value_or("");
    CAIRN_TRY_RESPOND(auto max_results, f.Int64("max_results"));
    request.max_results = max_results.value_or(100);
    CAIRN_TRY_RESPOND(request.order_by, f.StringList("order_by"));
    CAIRN_TRY_RESPOND(auto token, f.String("page_token"));
    request.page_token = token.value_or("");
    CAIRN_TRY_RESPOND(auto page, service_.SearchRegisteredModels(request));
    json out = json::object();
    if (!page.models.empty()) out["registered_models"] = List(page.models);
    if (!page.next_page_token.empty()) out["next_page_token"] = page.next_page_token;
    return Ok(out);
  }

  HttpResponse SetRegisteredModelTag(HttpRequest& req) {
    CAIRN_TRY_RESPOND(auto f, Fields(req));
    CAIRN_TRY_RESPOND(auto name, f.RequiredString("name"));
    CAIRN_TRY_RESPOND(auto key, f.RequiredString("key"));
    CAIRN_TRY_RESPOND(auto value, f.String("value"));
    CAIRN_RESPOND_IF_ERROR(service_.SetRegisteredModelTag(name, {key, value.value_or("")}));
    return OkEmpty();
  }

  HttpResponse DeleteRegisteredModelTag(HttpRequest& req) {
    CAIRN_TRY_RESPOND(auto f, Fields(req));
    CAIRN_TRY_RESPOND(auto name, f.RequiredString("name"));
    CAIRN_TRY_RESPOND(auto key, f.RequiredString("key"));
    CAIRN_RESPOND_IF_ERROR(service_.DeleteRegisteredModelTag(name, key));
    return OkEmpty();
  }

  HttpResponse GetLatestVersions(HttpRequest& req) {
    CAIRN_TRY_RESPOND(auto f, Fields(req));
    CAIRN_TRY_RESPOND(auto name, f.RequiredString("name"));
    CAIRN_TRY_RESPOND(auto stages, f.StringList("stages"));
    CAIRN_TRY_RESPOND(auto versions, service_.GetLatestVersions(name, stages));
    json out = json::object();
    if (!versions.empty()) out["model_versions"] = List(versions);
    return Ok(out);
  }

  // --- model versions ---
  HttpResponse CreateModelVersion(HttpRequest& req) {
    CAIRN_TRY_RESPOND(auto f, Fields(req));
    registry::CreateModelVersionRequest request;
    CAIRN_TRY_RESPOND(request.name, f.RequiredString("name"));
    CAIRN_TRY_RESPOND(request.source, f.RequiredString("source"));
    CAIRN_TRY_RESPOND(auto run_id, f.String("run_id"));
    request.run_id = run_id.value_or("");
    CAIRN_TRY_RESPOND(request.tags, f.Tags("tags"));
    CAIRN_TRY_RESPOND(auto run_link, f.String("run_link"));
    request.run_link = run_link.value_or("");
    CAIRN_TRY_RESPOND(auto description, f.String("description"));
    request.description = description.value_or("");
    CAIRN_TRY_RESPOND(auto version, service_.CreateModelVersion(std::move(request)));
    return Ok({{"model_version", wire::ToJson(version)}});
  }

  HttpResponse GetModelVersion(HttpRequest& req) {
    CAIRN_TRY_RESPOND(auto f, Fields(req));
    CAIRN_TRY_RESPOND(auto name, f.RequiredString("name"));
    CAIRN_TRY_RESPOND(auto number, VersionField(f));
    CAIRN_TRY_RESPOND(auto version, service_.GetModelVersion(name, number));
    return Ok({{"model_version", wire::ToJson(version)}});
  }

  HttpResponse UpdateModelVersion(HttpRequest& req) {
    CAIRN_TRY_RESPOND(auto f, Fields(req));
    CAIRN_TRY_RESPOND(auto name, f.RequiredString("name"));
    CAIRN_TRY_RESPOND(auto number, VersionField(f));
    CAIRN_TRY_RESPOND(auto description, f.String("description"));
    CAIRN_TRY_RESPOND(auto version,
                      service_.UpdateModelVersion(name, number, description.value_or("")));
    return Ok({{"model_version", wire::ToJson(version)}});
  }

  HttpResponse TransitionModelVersionStage(HttpRequest& req) {
    CAIRN_TRY_RESPOND(auto f, Fields(req));
    CAIRN_TRY_RESPOND(auto name, f.RequiredString("name"));
    CAIRN_TRY_RESPOND(auto number, VersionField(f));
    CAIRN_TRY_RESPOND(auto stage, f.RequiredString("stage"));
    CAIRN_TRY_RESPOND(auto archive, BoolField(f, "archive_existing_versions"));
    CAIRN_TRY_RESPOND(auto version,
                      service_.TransitionModelVersionStage(name, number, stage, archive));
    return Ok({{"model_version", wire::ToJson(version)}});
  }

  HttpResponse DeleteModelVersion(HttpRequest& req) {
    CAIRN_TRY_RESPOND(auto f, Fields(req));
    CAIRN_TRY_RESPOND(auto name, f.RequiredString("name"));
    CAIRN_TRY_RESPOND(auto number, VersionField(f));
    CAIRN_RESPOND_IF_ERROR(service_.DeleteModelVersion(name, number));
    return OkEmpty();
  }

  HttpResponse SearchModelVersions(HttpRequest& req) {
    CAIRN_TRY_RESPOND(auto f, Fields(req));
    registry::SearchModelVersionsRequest request;
    CAIRN_TRY_RESPOND(auto filter, f.String("filter"));
    request.filter = filter.value_or("");
    CAIRN_TRY_RESPOND(auto max_results, f.Int64("max_results"));
    request.max_results = max_results.value_or(10000);
    CAIRN_TRY_RESPOND(request.order_by, f.StringList("order_by"));
    CAIRN_TRY_RESPOND(auto token, f.String("page_token"));
    request.page_token = token.value_or("");
    CAIRN_TRY_RESPOND(auto page, service_.SearchModelVersions(request));
    json out = json::object();
    if (!page.versions.empty()) out["model_versions"] = List(page.versions);
    if (!page.next_page_token.empty()) out["next_page_token"] = page.next_page_token;
    return Ok(out);
  }

  HttpResponse SetModelVersionTag(HttpRequest& req) {
    CAIRN_TRY_RESPOND(auto f, Fields(req));
    CAIRN_TRY_RESPOND(auto name, f.RequiredString("name"));
    CAIRN_TRY_RESPOND(auto number, VersionField(f));
    CAIRN_TRY_RESPOND(auto key, f.RequiredString("key"));
    CAIRN_TRY_RESPOND(auto value, f.String("value"));
    CAIRN_RESPOND_IF_ERROR(service_.SetModelVersionTag(name, number, {key, value.value_or("")}));
    return OkEmpty();
  }

  HttpResponse DeleteModelVersionTag(HttpRequest& req) {
    CAIRN_TRY_RESPOND(auto f, Fields(req));
    CAIRN_TRY_RESPOND(auto name, f.RequiredString("name"));
    CAIRN_TRY_RESPOND(auto number, VersionField(f));
    CAIRN_TRY_RESPOND(auto key, f.RequiredString("key"));
    CAIRN_RESPOND_IF_ERROR(service_.DeleteModelVersionTag(name, number, key));
    return OkEmpty();
  }

  HttpResponse GetModelVersionDownloadUri(HttpRequest& req) {
    CAIRN_TRY_RESPOND(auto f, Fields(req));
    CAIRN_TRY_RESPOND(auto name, f.RequiredString("name"));
    CAIRN_TRY_RESPOND(auto number, VersionField(f));
    CAIRN_TRY_RESPOND(auto uri, service_.GetModelVersionDownloadUri(name, number));
    return Ok({{"artifact_uri", uri}});
  }

  // --- aliases ---
  HttpResponse SetAlias(HttpRequest& req) {
    CAIRN_TRY_RESPOND(auto f, Fields(req));
    CAIRN_TRY_RESPOND(auto name, f.RequiredString("name"));
    CAIRN_TRY_RESPOND(auto alias, f.RequiredString("alias"));
    CAIRN_TRY_RESPOND(auto number, VersionField(f));
    CAIRN_RESPOND_IF_ERROR(service_.SetRegisteredModelAlias(name, alias, number));
    return OkEmpty();
  }

  HttpResponse DeleteAlias(HttpRequest& req) {
    CAIRN_TRY_RESPOND(auto f, Fields(req));
    CAIRN_TRY_RESPOND(auto name, f.RequiredString("name"));
    CAIRN_TRY_RESPOND(auto alias, f.RequiredString("alias"));
    CAIRN_RESPOND_IF_ERROR(service_.DeleteRegisteredModelAlias(name, alias));
    return OkEmpty();
  }

  HttpResponse GetByAlias(HttpRequest& req) {
    CAIRN_TRY_RESPOND(auto f, Fields(req));
    CAIRN_TRY_RESPOND(auto name, f.RequiredString("name"));
    CAIRN_TRY_RESPOND(auto alias, f.RequiredString("alias"));
    CAIRN_TRY_RESPOND(auto version, service_.GetModelVersionByAlias(name, alias));
    return Ok({{"model_version", wire::ToJson(version)}});
  }

 private:
  registry::RegistryService& service_;
};

}  // namespace

void RegisterRegistryRoutes(http::Router& router, registry::RegistryService& registry,
                            const RouteLimits& limits) {
  auto handlers = std::make_shared<RegistryHandlers>(registry);
  using Method = HttpResponse (RegistryHandlers::*)(HttpRequest&);
  struct Entry {
    std::vector<const char*> methods;
    const char* path;
    Method method;
  };
  // MLflow's methods (model_registry.proto); searches also take POST with a JSON body.
  const Entry kRoutes[] = {
      {{"POST"}, "registered-models/create", &RegistryHandlers::CreateRegisteredModel},
      {{"GET"}, "registered-models/get", &RegistryHandlers::GetRegisteredModel},
      {{"POST"}, "registered-models/rename", &RegistryHandlers::RenameRegisteredModel},
      {{"PATCH"}, "registered-models/update", &RegistryHandlers::UpdateRegisteredModel},
      {{"DELETE"}, "registered-models/delete", &RegistryHandlers::DeleteRegisteredModel},
      {{"GET", "POST"}, "registered-models/search", &RegistryHandlers::SearchRegisteredModels},
      {{"POST"}, "registered-models/set-tag", &RegistryHandlers::SetRegisteredModelTag},
      {{"DELETE"}, "registered-models/delete-tag", &RegistryHandlers::DeleteRegisteredModelTag},
      {{"GET", "POST"}, "registered-models/get-latest-versions",
       &RegistryHandlers::GetLatestVersions},
      {{"POST"}, "registered-models/alias", &RegistryHandlers::SetAlias},
      {{"DELETE"}, "registered-models/alias", &RegistryHandlers::DeleteAlias},
      {{"GET"}, "registered-models/alias", &RegistryHandlers::GetByAlias},
      {{"POST"}, "model-versions/create", &RegistryHandlers::CreateModelVersion},
      {{"GET"}, "model-versions/get", &RegistryHandlers::GetModelVersion},
      {{"PATCH"}, "model-versions/update", &RegistryHandlers::UpdateModelVersion},
      {{"POST"}, "model-versions/transition-stage",
       &RegistryHandlers::TransitionModelVersionStage},
      {{"DELETE"}, "model-versions/delete", &RegistryHandlers::DeleteModelVersion},
      {{"GET", "POST"}, "model-versions/search", &RegistryHandlers::SearchModelVersions},
      {{"POST"}, "model-versions/set-tag", &RegistryHandlers::SetModelVersionTag},
      {{"DELETE"}, "model-versions/delete-tag", &RegistryHandlers::DeleteModelVersionTag},
      {{"GET"}, "model-versions/get-download-uri",
       &RegistryHandlers::GetModelVersionDownloadUri},
  };
  http::RouteOptions options;
  options.max_body_bytes = limits.max_json_body_bytes;
  for (const char* prefix : {"/api/2.0/mlflow/", "/ajax-api/2.0/mlflow/"}) {
    for (const auto& route : kRoutes) {
      for (const char* method : route.methods) {
        Method fn = route.method;
        router.Add(method, std::string(prefix) + route.path,
                   [handlers, fn](HttpRequest& req) { return ((*handlers).*fn)(req); }, options);
      }
    }
  }
}

}  // namespace cairn::api::mlflow
