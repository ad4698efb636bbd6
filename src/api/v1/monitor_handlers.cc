// Handlers of the endpoints' monitoring API: parse, one MonitorService call, serialize.
#include <nlohmann/json.hpp>

#include "api/error_mapping.h"
#include "api/v1/endpoint_json.h"
#include "api/v1/monitor_routes.h"

namespace cairn::api::v1 {

namespace {

using http::HttpRequest;
using http::HttpResponse;
using nlohmann::json;

std::string Dump(const json& j) { return j.dump(-1, ' ', false, json::error_handler_t::replace); }
std::string NameOf(const HttpRequest& req) { return std::string(req.PathParam("name")); }

Result<json> ParseBody(std::string_view body, bool allow_empty) {
  if (body.empty() && allow_empty) return json::object();
  json j = json::parse(body, nullptr, false);
  if (j.is_discarded()) return InvalidArgument("request body: not valid JSON");
  if (!j.is_object()) return InvalidArgument("request body: expected a JSON object");
  return j;
}

// A time given as ms (a number) or as text (digits or RFC 3339).
Result<int64_t> TimeField(const json& value, std::string_view field) {
  if (value.is_number_integer()) return value.get<int64_t>();
  if (value.is_string()) return ParseTimeParam(value.get<std::string>(), field);
  return InvalidArgument(std::string(field) + ": expected ms since the epoch or an RFC 3339 time");
}

class MonitorHandlers {
 public:
  explicit MonitorHandlers(monitoring::MonitorService& service) : service_(service) {}

  HttpResponse Feedback(HttpRequest& req) {
    CAIRN_TRY_RESPOND(json body, ParseBody(req.body, false));
    for (const auto& [key, value] : body.items()) {
      if (key != "labels") {
        return ErrorResponse(InvalidArgument(key + ": unknown field (expected labels)"));
      }
    }
    auto labels = body.find("labels");
    if (labels == body.end()) return ErrorResponse(InvalidArgument("labels: is required"));
    CAIRN_TRY_RESPOND(int64_t stored, service_.PostFeedback(NameOf(req), *labels));
    return http::JsonResponse(200, Dump(json{{"stored", stored}}));
  }

  HttpResponse Get(HttpRequest& req) {
    CAIRN_TRY_RESPOND(auto status, service_.GetStatus(NameOf(req)));
    json out = {{"config", monitoring::ToJson(status.config)},
                {"live", monitoring::ToJson(status.live)},
                {"feedback_labels", status.feedback}};
    if (status.latest) out["latest_report"] = monitoring::ToJson(*status.latest);
    return http::JsonResponse(200, Dump(out));
  }

  HttpResponse Put(HttpRequest& req) {
    CAIRN_TRY_RESPOND(json body, ParseBody(req.body, false));
    CAIRN_TRY_RESPOND(auto config, service_.UpdateConfig(NameOf(req), body));
    return http::JsonResponse(200, Dump(json{{"config", monitoring::ToJson(config)}}));
  }

  HttpResponse CreateReport(HttpRequest& req) {
    CAIRN_TRY_RESPOND(json body, ParseBody(req.body, true));
    monitoring::ReportRequest request;
    request.endpoint = NameOf(req);
    for (const auto& [key, value] : body.items()) {
      if (key != "window" && key != "since" && key != "until") {
        return ErrorResponse(InvalidArgument(key + ": unknown field (expected window, or since "
                                                   "and until)"));
      }
    }
    if (body.contains("window") && (body.contains("since") || body.contains("until"))) {
      return ErrorResponse(InvalidArgument("window: give a window or since/until, not both"));
    }
    if (auto it = body.find("window"); it != body.end()) {
      if (it->is_number_integer() && it->get<int64_t>() > 0) {
        request.window_ms = it->get<int64_t>();
      } else if (it->is_string()) {
        CAIRN_TRY_RESPOND(request.window_ms,
                          monitoring::ParseDuration(it->get<std::string>(), "window"));
      } else {
        return ErrorResponse(InvalidArgument("window: expected a duration such as \"1h\""));
      }
    }
    if (auto it = body.find("since"); it != body.end()) {
      CAIRN_TRY_RESPOND(request.since, TimeField(*it, "since"));
    }
    if (auto it = body.find("until"); it != body.end()) {
      CAIRN_TRY_RESPOND(request.until, TimeField(*it, "until"));
    }
    CAIRN_TRY_RESPOND(auto report, service_.ComputeReport(request));
    return http::JsonResponse(200, Dump(json{{"report", monitoring::ToJson(report)}}));
  }

  HttpResponse ListReports(HttpRequest& req) {
    int64_t limit = 0;
    if (auto text = req.QueryParam("limit")) {
      try {
        size_t used = 0;
        limit = std::stoll(*text, &used);
        if (used != text->size()) throw std::invalid_argument("trailing");
      } catch (const std::exception&) {
        return ErrorResponse(InvalidArgument("limit: expected a number from 1 to 1000"));
      }
      if (limit < 1)
        return ErrorResponse(InvalidArgument("limit: expected a number from 1 to 1000"));
    }
    CAIRN_TRY_RESPOND(auto page, service_.ListReports(NameOf(req), limit,
                                                      req.QueryParam("page_token").value_or("")));
    json reports = json::array();
    for (const auto& r : page.reports) reports.push_back(monitoring::ToJson(r));
    json out = {{"reports", std::move(reports)}};
    if (!page.next_page_token.empty()) out["next_page_token"] = page.next_page_token;
    return http::JsonResponse(200, Dump(out));
  }

  HttpResponse GetReport(HttpRequest& req) {
    CAIRN_TRY_RESPOND(auto report, service_.GetReport(NameOf(req), req.PathParam("id")));
    return http::JsonResponse(200, Dump(json{{"report", monitoring::ToJson(report)}}));
  }

  HttpResponse Metrics(HttpRequest& req) {
    const auto window = req.QueryParam("window");
    const auto since = req.QueryParam("since");
    const auto until = req.QueryParam("until");
    if (window && (since || until)) {
      return ErrorResponse(InvalidArgument("window: give a window or since/until, not both"));
    }
    int64_t from = 0;
    int64_t to = 0;
    if (since) {
      CAIRN_TRY_RESPOND(from, ParseTimeParam(*since, "since"));
      to = service_.Now();
      if (until) {
        CAIRN_TRY_RESPOND(to, ParseTimeParam(*until, "until"));
      }
    } else if (until) {
      return ErrorResponse(InvalidArgument("since: is required with until"));
    } else {
      int64_t ms = 0;
      if (window) {
        CAIRN_TRY_RESPOND(ms, monitoring::ParseDuration(*window, "window"));
      } else {
        CAIRN_TRY_RESPOND(auto config, service_.GetConfig(NameOf(req)));
        ms = config.window_ms;
      }
      to = service_.Now();
      from = to - ms;
    }
    CAIRN_TRY_RESPOND(auto live, service_.ComputeLiveMetrics(NameOf(req), from, to));
    return http::JsonResponse(200, Dump(json{{"live", monitoring::ToJson(live)}}));
  }

 private:
  monitoring::MonitorService& service_;
};

}  // namespace

void RegisterMonitorRoutes(http::Router& router, monitoring::MonitorService& service) {
  auto h = std::make_shared<MonitorHandlers>(service);
  http::RouteOptions options;
  options.max_body_bytes = 1 << 20;
  http::RouteOptions feedback = options;
  feedback.max_body_bytes = 16u << 20;  // 10,000 labels, some of them lists
  const std::string one = "/api/v1/endpoints/{name}";
  auto add = [&](const char* method, const std::string& path,
                 HttpResponse (MonitorHandlers::*fn)(HttpRequest&), const http::RouteOptions& o) {
    router.Add(
        method, path, [h, fn](HttpRequest& r) { return ((*h).*fn)(r); }, o);
  };
  add("POST", one + "/feedback", &MonitorHandlers::Feedback, feedback);
  add("GET", one + "/monitor", &MonitorHandlers::Get, options);
  add("PUT", one + "/monitor", &MonitorHandlers::Put, options);
  add("POST", one + "/monitor/reports", &MonitorHandlers::CreateReport, options);
  add("GET", one + "/monitor/reports", &MonitorHandlers::ListReports, options);
  add("GET", one + "/monitor/reports/{id}", &MonitorHandlers::GetReport, options);
  add("GET", one + "/monitor/metrics", &MonitorHandlers::Metrics, options);
}

}  // namespace cairn::api::v1
