// Handlers of MLflow's tracking calls: parse → one TrackingService call → MLflow JSON.
#include <functional>

#include "api/error_mapping.h"
#include "api/mlflow/mlflow_json.h"
#include "api/mlflow/mlflow_routes.h"
#include "api/mlflow/request_fields.h"
#include "wire/mlflow_entities.h"

namespace cairn::api::mlflow {

namespace {

using http::HttpRequest;
using http::HttpResponse;
using nlohmann::json;

HttpResponse Ok(const json& body) { return http::JsonResponse(200, wire::Dump(body)); }
HttpResponse OkEmpty() { return http::JsonResponse(200, "{}"); }

Result<store::ViewType> ViewTypeField(const RequestFields& f, std::string_view name) {
  CAIRN_TRY(auto text, f.String(name));
  if (!text || text->empty()) return store::ViewType::kActiveOnly;
  auto view = store::ParseViewType(*text);
  if (!view) {
    return InvalidField(name, *text, "one of ACTIVE_ONLY, DELETED_ONLY, ALL");
  }
  return *view;
}

class TrackingHandlers {
 public:
  explicit TrackingHandlers(tracking::TrackingService& service) : service_(service) {}

  // --- experiments ---
  HttpResponse CreateExperiment(HttpRequest& req) {
    CAIRN_TRY_RESPOND(auto f, RequestFields::FromRequest(req));
    CAIRN_TRY_RESPOND(auto name, f.RequiredString("name"));
    CAIRN_TRY_RESPOND(auto location, f.String("artifact_location"));
    CAIRN_TRY_RESPOND(auto tags, f.Tags("tags"));
    CAIRN_TRY_RESPOND(auto id, service_.CreateExperiment(name, location.value_or(""), tags));
    return Ok({{"experiment_id", id}});
  }

  HttpResponse GetExperiment(HttpRequest& req) {
    CAIRN_TRY_RESPOND(auto f, RequestFields::FromRequest(req));
    CAIRN_TRY_RESPOND(auto id, f.RequiredString("experiment_id"));
    CAIRN_TRY_RESPOND(auto experiment, service_.GetExperiment(id));
    return Ok({{"experiment", wire::ToJson(experiment)}});
  }

  HttpResponse GetExperimentByName(HttpRequest& req) {
    CAIRN_TRY_RESPOND(auto f, RequestFields::FromRequest(req));
    CAIRN_TRY_RESPOND(auto name, f.RequiredString("experiment_name"));
    CAIRN_TRY_RESPOND(auto experiment, service_.GetExperimentByName(name));
    return Ok({{"experiment", wire::ToJson(experiment)}});
  }

  HttpResponse SearchExperiments(HttpRequest& req) {
    CAIRN_TRY_RESPOND(auto f, RequestFields::FromRequest(req));
    tracking::SearchExperimentsRequest request;
    CAIRN_TRY_RESPOND(auto max_results, f.Int64("max_results"));
    request.max_results = max_results.value_or(1000);
    CAIRN_TRY_RESPOND(auto filter, f.String("filter"));
    request.filter = filter.value_or("");
    CAIRN_TRY_RESPOND(request.order_by, f.StringList("order_by"));
    CAIRN_TRY_RESPOND(auto token, f.String("page_token"));
    request.page_token = token.value_or("");
    CAIRN_TRY_RESPOND(request.view_type, ViewTypeField(f, "view_type"));
    CAIRN_TRY_RESPOND(auto page, service_.SearchExperiments(request));
    json experiments = json::array();
    for (const auto& e : page.experiments) experiments.push_back(wire::ToJson(e));
    json out = {{"experiments", std::move(experiments)}};
    if (!page.next_page_token.empty()) out["next_page_token"] = page.next_page_token;
    return Ok(out);
  }

  HttpResponse UpdateExperiment(HttpRequest& req) {
    CAIRN_TRY_RESPOND(auto f, RequestFields::FromRequest(req));
    CAIRN_TRY_RESPOND(auto id, f.RequiredString("experiment_id"));
    CAIRN_TRY_RESPOND(auto new_name, f.String("new_name"));
    if (new_name) CAIRN_RESPOND_IF_ERROR(service_.RenameExperiment(id, *new_name));
    else CAIRN_RESPOND_IF_ERROR(service_.GetExperiment(id).status());
    return OkEmpty();
  }

  HttpResponse DeleteExperiment(HttpRequest& req) {
    CAIRN_TRY_RESPOND(auto f, RequestFields::FromRequest(req));
    CAIRN_TRY_RESPOND(auto id, f.RequiredString("experiment_id"));
    CAIRN_RESPOND_IF_ERROR(service_.DeleteExperiment(id));
    return OkEmpty();
  }

  HttpResponse RestoreExperiment(HttpRequest& req) {
    CAIRN_TRY_RESPOND(auto f, RequestFields::FromRequest(req));
    CAIRN_TRY_RESPOND(auto id, f.RequiredString("experiment_id"));
    CAIRN_RESPOND_IF_ERROR(service_.RestoreExperiment(id));
    return OkEmpty();
  }

  HttpResponse SetExperimentTag(HttpRequest& req) {
    CAIRN_TRY_RESPOND(auto f, RequestFields::FromRequest(req));
    CAIRN_TRY_RESPOND(auto id, f.RequiredString("experiment_id"));
    CAIRN_TRY_RESPOND(auto key, f.RequiredString("key"));
    CAIRN_TRY_RESPOND(auto value, f.String("value"));
    CAIRN_RESPOND_IF_ERROR(service_.SetExperimentTag(id, {key, value.value_or("")}));
    return OkEmpty();
  }

  // --- runs ---
  HttpResponse CreateRun(HttpRequest& req) {
    CAIRN_TRY_RESPOND(auto f, RequestFields::FromRequest(req));
    tracking::CreateRunRequest request;
    CAIRN_TRY_RESPOND(auto experiment_id, f.String("experiment_id"));
    request.experiment_id = experiment_id.value_or("");
    CAIRN_TRY_RESPOND(auto user_id, f.String("user_id"));
    request.user_id = user_id.value_or("");
    CAIRN_TRY_RESPOND(auto run_name, f.String("run_name"));
    request.run_name = run_name.value_or("");
    CAIRN_TRY_RESPOND(request.start_time, f.Int64("start_time"));
    CAIRN_TRY_RESPOND(request.tags, f.Tags("tags"));
    CAIRN_TRY_RESPOND(auto run, service_.CreateRun(std::move(request)));
    return Ok({{"run", wire::ToJson(run)}});
  }

  HttpResponse GetRun(HttpRequest& req) {
    CAIRN_TRY_RESPOND(auto f, RequestFields::FromRequest(req));
    CAIRN_TRY_RESPOND(auto run_id, f.RequiredStringOf("run_id", "run_uuid"));
    CAIRN_TRY_RESPOND(auto run, service_.GetRun(run_id));
    return Ok({{"run", wire::ToJson(run)}});
  }

  HttpResponse UpdateRun(HttpRequest& req) {
    CAIRN_TRY_RESPOND(auto f, RequestFields::FromRequest(req));
    store::RunUpdate update;
    CAIRN_TRY_RESPOND(update.run_id, f.RequiredStringOf("run_id", "run_uuid"));
    CAIRN_TRY_RESPOND(auto status, f.String("status"));
    if (status) {
      auto parsed = store::ParseRunStatus(*status);
      if (!parsed) {
        return ErrorResponse(InvalidField(
            "status", *status, "one of RUNNING, SCHEDULED, FINISHED, FAILED, KILLED"));
      }
      update.status = *parsed;
    }
    CAIRN_TRY_RESPOND(update.end_time, f.Int64("end_time"));
    CAIRN_TRY_RESPOND(update.run_name, f.String("run_name"));
    CAIRN_TRY_RESPOND(auto info, service_.UpdateRun(std::move(update)));
    return Ok({{"run_info", wire::ToJson(info)}});
  }

  HttpResponse DeleteRun(HttpRequest& req) {
    CAIRN_TRY_RESPOND(auto f, RequestFields::FromRequest(req));
    CAIRN_TRY_RESPOND(auto run_id, f.RequiredString("run_id"));
    CAIRN_RESPOND_IF_ERROR(service_.DeleteRun(run_id));
    return OkEmpty();
  }

  HttpResponse RestoreRun(HttpRequest& req) {
    CAIRN_TRY_RESPOND(auto f, RequestFields::FromRequest(req));
    CAIRN_TRY_RESPOND(auto run_id, f.RequiredString("run_id"));
    CAIRN_RESPOND_IF_ERROR(service_.RestoreRun(run_id));
    return OkEmpty();
  }

  HttpResponse LogMetric(HttpRequest& req) {
    CAIRN_TRY_RESPOND(auto f, RequestFields::FromRequest(req));
    CAIRN_TRY_RESPOND(auto run_id, f.RequiredStringOf("run_id", "run_uuid"));
    store::Metric metric;
    CAIRN_TRY_RESPOND(metric.key, f.RequiredString("key"));
    CAIRN_TRY_RESPOND(auto value, f.Double("value"));
    if (!value) return ErrorResponse(MissingField("value"));
    metric.value = *value;
    CAIRN_TRY_RESPOND(auto timestamp, f.Int64("timestamp"));
    if (!timestamp) return ErrorResponse(MissingField("timestamp"));
    metric.timestamp = *timestamp;
    CAIRN_TRY_RESPOND(auto step, f.Int64("step"));
    metric.step = step.value_or(0);
    CAIRN_RESPOND_IF_ERROR(service_.LogMetric(run_id, std::move(metric)));
    return OkEmpty();
  }

  HttpResponse LogParam(HttpRequest& req) {
    CAIRN_TRY_RESPOND(auto f, RequestFields::FromRequest(req));
    CAIRN_TRY_RESPOND(auto run_id, f.RequiredStringOf("run_id", "run_uuid"));
    CAIRN_TRY_RESPOND(auto key, f.RequiredString("key"));
    CAIRN_TRY_RESPOND(auto value, f.String("value"));
    if (!value) return ErrorResponse(MissingField("value"));
    CAIRN_RESPOND_IF_ERROR(service_.LogParam(run_id, {key, *value}));
    return OkEmpty();
  }

  HttpResponse SetTag(HttpRequest& req) {
    CAIRN_TRY_RESPOND(auto f, RequestFields::FromRequest(req));
    CAIRN_TRY_RESPOND(auto run_id, f.RequiredStringOf("run_id", "run_uuid"));
    CAIRN_TRY_RESPOND(auto key, f.RequiredString("key"));
    CAIRN_TRY_RESPOND(auto value, f.String("value"));
    if (!value) return ErrorResponse(MissingField("value"));
    CAIRN_RESPOND_IF_ERROR(service_.SetTag(run_id, {key, *value}));
    return OkEmpty();
  }

  HttpResponse DeleteTag(HttpRequest& req) {
    CAIRN_TRY_RESPOND(auto f, RequestFields::FromRequest(req));
    CAIRN_TRY_RESPOND(auto run_id, f.RequiredString("run_id"));
    CAIRN_TRY_RESPOND(auto key, f.RequiredString("key"));
    CAIRN_RESPOND_IF_ERROR(service_.DeleteTag(run_id, key));
    return OkEmpty();
  }

  HttpResponse LogBatch(HttpRequest& req) {
    CAIRN_TRY_RESPOND(auto batch, ParseLogBatch(req.body));
    CAIRN_RESPOND_IF_ERROR(service_.LogBatch(batch));
    return OkEmpty();
  }

  HttpResponse LogModel(HttpRequest& req) {
    CAIRN_TRY_RESPOND(auto f, RequestFields::FromRequest(req));
    CAIRN_TRY_RESPOND(auto run_id, f.RequiredString("run_id"));
    CAIRN_TRY_RESPOND(auto model_json, f.RequiredString("model_json"));
    CAIRN_RESPOND_IF_ERROR(service_.LogModel(run_id, model_json));
    return OkEmpty();
  }

  HttpResponse LogInputs(HttpRequest& req) {
    CAIRN_TRY_RESPOND(auto f, RequestFields::FromRequest(req));
    CAIRN_TRY_RESPOND(auto run_id, f.RequiredString("run_id"));
    CAIRN_TRY_RESPOND(auto inputs, ParseDatasetInputs(f.body()));
    CAIRN_RESPOND_IF_ERROR(service_.LogInputs(run_id, inputs));
    return OkEmpty();
  }

  HttpResponse SearchRuns(HttpRequest& req) {
    CAIRN_TRY_RESPOND(auto f, RequestFields::FromRequest(req));
    tracking::SearchRunsRequest request;
    CAIRN_TRY_RESPOND(request.experiment_ids, f.StringList("experiment_ids"));
    CAIRN_TRY_RESPOND(auto filter, f.String("filter"));
    request.filter = filter.value_or("");
    CAIRN_TRY_RESPOND(request.view_type, ViewTypeField(f, "run_view_type"));
    CAIRN_TRY_RESPOND(auto max_results, f.Int64("max_results"));
    request.max_results = max_results.value_or(1000);
    CAIRN_TRY_RESPOND(request.order_by, f.StringList("order_by"));
    CAIRN_TRY_RESPOND(auto token, f.String("page_token"));
    request.page_token = token.value_or("");
    CAIRN_TRY_RESPOND(auto page, service_.SearchRuns(request));
    json runs = json::array();
    for (const auto& run : page.runs) runs.push_back(wire::ToJson(run));
    json out = json::object();
    if (!runs.empty()) out["runs"] = std::move(runs);
    if (!page.next_page_token.empty()) out["next_page_token"] = page.next_page_token;
    return Ok(out);
  }

  HttpResponse GetMetricHistory(HttpRequest& req) {
    CAIRN_TRY_RESPOND(auto f, RequestFields::FromRequest(req));
    tracking::MetricHistoryRequest request;
    CAIRN_TRY_RESPOND(request.run_id, f.RequiredStringOf("run_id", "run_uuid"));
    CAIRN_TRY_RESPOND(request.metric_key, f.RequiredString("metric_key"));
    CAIRN_TRY_RESPOND(request.max_results, f.Int64("max_results"));
    CAIRN_TRY_RESPOND(auto token, f.String("page_token"));
    request.page_token = token.value_or("");
    CAIRN_TRY_RESPOND(auto page, service_.GetMetricHistory(request));
    json metrics = json::array();
    for (const auto& m : page.metrics) metrics.push_back(wire::ToJson(m));
    json out = {{"metrics", std::move(metrics)}};
    if (!page.next_page_token.empty()) out["next_page_token"] = page.next_page_token;
    return Ok(out);
  }

 private:
  static Result<std::vector<store::DatasetInput>> ParseDatasetInputs(const json& body) {
    std::vector<store::DatasetInput> inputs;
    auto it = body.find("datasets");
    if (it == body.end() || it->is_null()) return inputs;
    if (!it->is_array()) return InvalidField("datasets", it->dump(), "a list");
    for (const auto& item : *it) {
      if (!item.is_object()) return InvalidField("datasets", item.dump(), "a list of objects");
      CAIRN_TRY(auto fields, RequestFields::FromJson(item.dump()));
      auto dataset_it = item.find("dataset");
      if (dataset_it == item.end() || !dataset_it->is_object()) {
        return MissingField("datasets.dataset");
      }
      CAIRN_TRY(auto dataset, RequestFields::FromJson(dataset_it->dump()));
      store::DatasetInput input;
      CAIRN_TRY(input.name, dataset.RequiredString("name"));
      CAIRN_TRY(input.digest, dataset.RequiredString("digest"));
      CAIRN_TRY(input.source_type, dataset.RequiredString("source_type"));
      CAIRN_TRY(input.source, dataset.RequiredString("source"));
      CAIRN_TRY(auto schema, dataset.String("schema"));
      input.schema = schema.value_or("");
      CAIRN_TRY(auto profile, dataset.String("profile"));
      input.profile = profile.value_or("");
      CAIRN_TRY(input.tags, fields.Tags("tags"));
      inputs.push_back(std::move(input));
    }
    return inputs;
  }

  tracking::TrackingService& service_;
};

}  // namespace

void RegisterTrackingRoutes(http::Router& router, tracking::TrackingService& tracking,
                            const RouteLimits& limits) {
  auto handlers = std::make_shared<TrackingHandlers>(tracking);
  using Method = HttpResponse (TrackingHandlers::*)(HttpRequest&);
  struct Entry {
    std::vector<const char*> methods;
    const char* path;
    Method method;
  };
  const Entry kRoutes[] = {
      {{"POST"}, "experiments/create", &TrackingHandlers::CreateExperiment},
      {{"GET"}, "experiments/get", &TrackingHandlers::GetExperiment},
      {{"GET"}, "experiments/get-by-name", &TrackingHandlers::GetExperimentByName},
      {{"GET", "POST"}, "experiments/search", &TrackingHandlers::SearchExperiments},
      {{"POST"}, "experiments/update", &TrackingHandlers::UpdateExperiment},
      {{"POST"}, "experiments/delete", &TrackingHandlers::DeleteExperiment},
      {{"POST"}, "experiments/restore", &TrackingHandlers::RestoreExperiment},
      {{"POST"}, "experiments/set-experiment-tag", &TrackingHandlers::SetExperimentTag},
      {{"POST"}, "runs/create", &TrackingHandlers::CreateRun},
      {{"GET"}, "runs/get", &TrackingHandlers::GetRun},
      {{"POST"}, "runs/update", &TrackingHandlers::UpdateRun},
      {{"POST"}, "runs/delete", &TrackingHandlers::DeleteRun},
      {{"POST"}, "runs/restore", &TrackingHandlers::RestoreRun},
      {{"POST"}, "runs/log-metric", &TrackingHandlers::LogMetric},
      {{"POST"}, "runs/log-parameter", &TrackingHandlers::LogParam},
      {{"POST"}, "runs/set-tag", &TrackingHandlers::SetTag},
      {{"POST"}, "runs/delete-tag", &TrackingHandlers::DeleteTag},
      {{"POST"}, "runs/log-batch", &TrackingHandlers::LogBatch},
      {{"POST"}, "runs/log-model", &TrackingHandlers::LogModel},
      {{"POST"}, "runs/log-inputs", &TrackingHandlers::LogInputs},
      {{"POST"}, "runs/search", &TrackingHandlers::SearchRuns},
      {{"GET"}, "metrics/get-history", &TrackingHandlers::GetMetricHistory},
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
