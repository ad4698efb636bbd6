// Handlers of /api/v1/jobs: parse, one JobService call, serialize.
#include <charconv>

#include "api/error_mapping.h"
#include "api/v1/job_routes.h"

namespace cairn::api::v1 {

namespace {

using http::HttpRequest;
using http::HttpResponse;
using nlohmann::json;

std::string DumpJson(const json& j) {
  return j.dump(-1, ' ', false, json::error_handler_t::replace);
}

Result<int64_t> IntParam(const HttpRequest& req, std::string_view name, int64_t fallback) {
  auto text = req.QueryParam(name);
  if (!text) return fallback;
  int64_t value = 0;
  auto [p, ec] = std::from_chars(text->data(), text->data() + text->size(), value);
  if (text->empty() || ec != std::errc() || p != text->data() + text->size() || value < 0) {
    return InvalidArgument(std::string(name) + ": '" + *text + "' is not a number >= 0");
  }
  return value;
}

Result<jobs::SubmitJobRequest> ParseSubmit(std::string_view body) {
  json j = json::parse(body, nullptr, false);
  if (j.is_discarded() || !j.is_object()) {
    return InvalidArgument("request body: expected a JSON object {\"spec\", \"code\"?}");
  }
  if (!j.contains("spec")) return InvalidArgument("spec: required");
  jobs::SubmitJobRequest request;
  CAIRN_TRY(request.spec, jobs::JobSpecFromJson(j["spec"]));
  if (auto it = j.find("code"); it != j.end() && !it->is_null()) {
    if (!it->is_object()) return InvalidArgument("code: expected {\"files\": [...]}");
    request.code_json = it->dump();
  }
  for (auto [key, out] :
       {std::pair{"user", &request.user}, std::pair{"source_name", &request.source_name}}) {
    if (auto it = j.find(key); it != j.end() && !it->is_null()) {
      if (!it->is_string()) return InvalidArgument(std::string(key) + ": expected a string");
      *out = it->get<std::string>();
    }
  }
  return request;
}

class JobHandlers {
 public:
  explicit JobHandlers(jobs::JobService& service) : service_(service) {}

  HttpResponse Submit(HttpRequest& req) {
    CAIRN_TRY_RESPOND(auto request, ParseSubmit(req.body));
    CAIRN_TRY_RESPOND(auto job, service_.Submit(std::move(request)));
    return http::JsonResponse(200, DumpJson(json{{"job", JobToJson(job)}}));
  }

  HttpResponse List(HttpRequest& req) {
    store::JobQuery query;
    query.states = req.QueryParams("state");
    CAIRN_TRY_RESPOND(query.max_results, IntParam(req, "max_results", 100));
    if (query.max_results == 0) query.max_results = 100;
    CAIRN_TRY_RESPOND(auto jobs, service_.List(query));
    json out = json::array();
    for (const auto& job : jobs) out.push_back(JobToJson(job));
    return http::JsonResponse(200, DumpJson(json{{"jobs", std::move(out)}}));
  }

  HttpResponse Get(HttpRequest& req) {
    CAIRN_TRY_RESPOND(auto job, service_.Get(req.PathParam("id")));
    return http::JsonResponse(200, DumpJson(json{{"job", JobToJson(job)}}));
  }

  HttpResponse Cancel(HttpRequest& req) {
    CAIRN_TRY_RESPOND(auto job, service_.Cancel(req.PathParam("id")));
    return http::JsonResponse(200, DumpJson(json{{"job", JobToJson(job)}}));
  }

  HttpResponse Logs(HttpRequest& req) {
    std::string stream = req.QueryParam("stream").value_or("stdout");
    CAIRN_TRY_RESPOND(int64_t offset, IntParam(req, "offset", 0));
    CAIRN_TRY_RESPOND(int64_t max_bytes, IntParam(req, "max_bytes", 0));
    CAIRN_TRY_RESPOND(auto chunk, service_.ReadLog(req.PathParam("id"), stream, offset, max_bytes));
    HttpResponse response =
        http::TextResponse(200, std::move(chunk.data), "text/plain; charset=utf-8");
    response.SetHeader("x-cairn-log-offset", std::to_string(chunk.next_offset));
    response.SetHeader("x-cairn-log-complete", chunk.complete ? "true" : "false");
    return response;
  }

 private:
  jobs::JobService& service_;
};

}  // namespace

json JobToJson(const jobs::Job& job) {
  const store::JobRecord& r = job.record;
  return {{"id", r.job_id},
          {"name", r.name},
          {"state", jobs::JobStateName(job.state)},
          {"compute", r.compute},
          {"run_id", r.run_id},
          {"experiment_id", r.experiment_id},
          {"code_digest", r.code_digest},
          {"executor_handle", r.executor_handle},
          {"creation_time", r.creation_time},
          {"start_time", r.start_time},
          {"end_time", r.end_time},
          {"exit_code", r.exit_code ? json(*r.exit_code) : json(nullptr)},
          {"message", r.message},
          {"spec", jobs::ToJson(job.spec)}};
}

void RegisterJobRoutes(http::Router& router, jobs::JobService& service,
                       const JobRouteLimits& limits) {
  auto h = std::make_shared<JobHandlers>(service);
  http::RouteOptions submit_options;
  submit_options.max_body_bytes = limits.max_submit_body_bytes;
  const std::string base = "/api/v1/jobs";
  router.Add(
      "POST", base, [h](HttpRequest& r) { return h->Submit(r); }, submit_options);
  router.Add("GET", base, [h](HttpRequest& r) { return h->List(r); });
  router.Add("GET", base + "/{id}", [h](HttpRequest& r) { return h->Get(r); });
  router.Add("GET", base + "/{id}/logs", [h](HttpRequest& r) { return h->Logs(r); });
  router.Add("POST", base + "/{id}/cancel", [h](HttpRequest& r) { return h->Cancel(r); });
}

}  // namespace cairn::api::v1
