#include "serving/scoring_routes.h"

#include <optional>
#include <string>

#include "serving/json_text.h"

namespace cairn::serving {
namespace {

http::HttpResponse V2Error(int status, std::string_view message) {
  std::string body = "{\"error\":";
  AppendJsonString(body, message);
  body += '}';
  return http::JsonResponse(status, std::move(body));
}

// The v2 model named by the path, or a 404 saying what is served.
std::optional<http::HttpResponse> CheckModel(const http::HttpRequest& req,
                                             const ScoringOptions& names) {
  const std::string_view name = req.PathParam("m");
  if (name != names.model_name) {
    return V2Error(404, "model '" + std::string(name.substr(0, 200)) +
                            "' is not served here; this server serves '" + names.model_name +
                            "'");
  }
  bool has_version = false;
  for (const auto& [key, value] : req.path_params) has_version |= key == "v";
  if (has_version && req.PathParam("v") != names.model_version) {
    const std::string_view v = req.PathParam("v");
    return V2Error(404, "model '" + names.model_name + "' has no version '" +
                            std::string(v.substr(0, 200)) + "'" +
                            (names.model_version.empty()
                                 ? std::string("; it is served without a version")
                                 : "; this server serves version " + names.model_version));
  }
  return std::nullopt;
}

}  // namespace

void RegisterScoringRoutes(http::Router& router, std::shared_ptr<const ScoringModel> model,
                           const ScoringRouteOptions& options, ScoringStats& stats,
                           http::HttpMetrics* metrics) {
  const ScoringOptions names = options.names;
  http::RouteOptions scoring;
  scoring.max_body_bytes = options.max_body_bytes;

  auto count = [&stats](const ScoringOutcome& outcome) {
    if (outcome.response.status == 200) {
      stats.requests.fetch_add(1, std::memory_order_relaxed);
      stats.rows.fetch_add(outcome.rows, std::memory_order_relaxed);
    } else if (outcome.response.status < 500) {
      stats.rejected.fetch_add(1, std::memory_order_relaxed);
    }
  };

  router.Add(
      "POST", "/invocations",
      [model, names, count](http::HttpRequest& req) {
        ScoringOutcome outcome = model->Score(Protocol::kMlflow, req, names);
        count(outcome);
        return std::move(outcome.response);
      },
      scoring);
  for (const char* path : {"/ping", "/health"}) {
    router.Add("GET", path, [](http::HttpRequest&) { return http::TextResponse(200, "\n"); });
  }
  router.Add("GET", "/version",
             [](http::HttpRequest&) { return http::TextResponse(200, CAIRN_VERSION); });

  // Open Inference Protocol v2.
  router.Add("GET", "/v2", [](http::HttpRequest&) {
    return http::JsonResponse(
        200, std::string("{\"name\":\"cairn\",\"version\":\"") + CAIRN_VERSION +
                 "\",\"extensions\":[]}");
  });
  router.Add("GET", "/v2/health/live",
             [](http::HttpRequest&) { return http::JsonResponse(200, "{\"live\":true}"); });
  router.Add("GET", "/v2/health/ready",
             [](http::HttpRequest&) { return http::JsonResponse(200, "{\"ready\":true}"); });
  for (const std::string prefix : {"/v2/models/{m}", "/v2/models/{m}/versions/{v}"}) {
    router.Add("GET", prefix, [model, names](http::HttpRequest& req) {
      if (auto error = CheckModel(req, names)) return std::move(*error);
      return http::JsonResponse(200, model->MetadataV2Json(names));
    });
    router.Add("GET", prefix + "/ready", [names](http::HttpRequest& req) {
      if (auto error = CheckModel(req, names)) return std::move(*error);
      std::string body = "{\"name\":";
      AppendJsonString(body, names.model_name);
      body += ",\"ready\":true}";
      return http::JsonResponse(200, std::move(body));
    });
    router.Add(
        "POST", prefix + "/infer",
        [model, names, count](http::HttpRequest& req) {
          if (auto error = CheckModel(req, names)) return std::move(*error);
          ScoringOutcome outcome = model->Score(Protocol::kInferenceV2, req, names);
          count(outcome);
          return std::move(outcome.response);
        },
        scoring);
  }

  router.Add("GET", "/metrics", [metrics, &stats](http::HttpRequest&) {
    std::string text = metrics != nullptr ? metrics->Render() : std::string();
    text += "# HELP cairn_scoring_requests_total Scoring requests answered with predictions.\n"
            "# TYPE cairn_scoring_requests_total counter\n"
            "cairn_scoring_requests_total " +
            std::to_string(stats.requests.load()) +
            "\n# HELP cairn_scoring_rows_total Rows scored.\n"
            "# TYPE cairn_scoring_rows_total counter\n"
            "cairn_scoring_rows_total " +
            std::to_string(stats.rows.load()) +
            "\n# HELP cairn_scoring_rejected_total Scoring requests rejected as bad input.\n"
            "# TYPE cairn_scoring_rejected_total counter\n"
            "cairn_scoring_rejected_total " +
            std::to_string(stats.rejected.load()) + "\n";
    return http::TextResponse(200, std::move(text), "text/plain; version=0.0.4");
  });
}

}  // namespace cairn::serving
