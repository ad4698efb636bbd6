#include "client/monitor_client.h"

#include "http/http_types.h"

namespace cairn::client {

namespace {

std::string Base(std::string_view endpoint) {
  return "/api/v1/endpoints/" + http::PercentEncode(endpoint);
}


}  // namespace

Result<std::unique_ptr<MonitorClient>> MonitorClient::Connect(std::string_view tracking_uri) {
  CAIRN_TRY(std::unique_ptr<Transport> transport, ConnectHttp(tracking_uri));
  return std::make_unique<MonitorClient>(std::move(transport));
}

MonitorClient::MonitorClient(std::unique_ptr<Transport> transport)
    : transport_(std::move(transport)) {}

Result<Json> MonitorClient::Call(std::string_view method, const std::string& target,
                   const Json* body) {
  return CallJson(*transport_, method, target, body);
}

Result<int64_t> MonitorClient::PostFeedback(std::string_view endpoint, const Json& labels) {
  Json body = {{"labels", labels}};
  CAIRN_TRY(Json j, Call("POST", Base(endpoint) + "/feedback", &body));
  if (!j.contains("stored") || !j["stored"].is_number_integer()) {
    return Internal("feedback: the server's answer has no 'stored' count");
  }
  return j["stored"].get<int64_t>();
}

Result<Json> MonitorClient::GetMonitor(std::string_view endpoint) {
  return Call("GET", Base(endpoint) + "/monitor", nullptr);
}

Result<Json> MonitorClient::Configure(std::string_view endpoint, const Json& patch) {
  CAIRN_TRY(Json j, Call("PUT", Base(endpoint) + "/monitor", &patch));
  return j.value("config", Json::object());
}

Result<Json> MonitorClient::ComputeReport(std::string_view endpoint, const ReportWindow& window) {
  Json body = Json::object();
  if (!window.window.empty()) body["window"] = window.window;
  if (!window.since.empty()) body["since"] = window.since;
  if (!window.until.empty()) body["until"] = window.until;
  CAIRN_TRY(Json j, Call("POST", Base(endpoint) + "/monitor/reports", &body));
  return j.value("report", Json::object());
}

Result<Json> MonitorClient::ListReports(std::string_view endpoint, int64_t limit,
                                        std::string_view page_token) {
  std::string target = Base(endpoint) + "/monitor/reports";
  std::string sep = "?";
  if (limit > 0) target += sep + "limit=" + std::to_string(limit), sep = "&";
  if (!page_token.empty()) target += sep + "page_token=" + http::PercentEncode(page_token);
  return Call("GET", target, nullptr);
}

Result<Json> MonitorClient::GetReport(std::string_view endpoint, std::string_view report_id) {
  CAIRN_TRY(
      Json j,
      Call("GET", Base(endpoint) + "/monitor/reports/" + http::PercentEncode(report_id), nullptr));
  return j.value("report", Json::object());
}

Result<Json> MonitorClient::LiveMetrics(std::string_view endpoint, const ReportWindow& window) {
  std::string target = Base(endpoint) + "/monitor/metrics";
  std::string sep = "?";
  auto add = [&](const char* key, const std::string& value) {
    if (value.empty()) return;
    target += sep + key + "=" + http::PercentEncode(value);
    sep = "&";
  };
  add("window", window.window);
  add("since", window.since);
  add("until", window.until);
  CAIRN_TRY(Json j, Call("GET", target, nullptr));
  return j.value("live", Json::object());
}

}  // namespace cairn::client
