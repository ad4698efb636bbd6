#include "api/v1/endpoint_json.h"

#include <charconv>
#include <cmath>
#include <ctime>
#include <initializer_list>
#include <set>

namespace cairn::api::v1 {

namespace {

using nlohmann::json;

// The body as a JSON object with only `allowed` fields (a typo is an error, not ignored).
Result<json> ParseObject(std::string_view body, std::initializer_list<std::string_view> allowed) {
  json j = json::parse(body, nullptr, false);
  if (j.is_discarded() || !j.is_object()) {
    return InvalidArgument("request body: expected a JSON object");
  }
  for (const auto& [key, value] : j.items()) {
    bool known = false;
    for (std::string_view a : allowed) known = known || key == a;
    if (!known) {
      std::string list;
      for (std::string_view a : allowed) list += (list.empty() ? "" : ", ") + std::string(a);
      return InvalidArgument("unknown field '" + key.substr(0, 100) + "' (expected: " + list + ")");
    }
  }
  return j;
}

Result<std::optional<std::string>> OptString(const json& j, const char* field) {
  auto it = j.find(field);
  if (it == j.end() || it->is_null()) return std::optional<std::string>();
  if (!it->is_string()) return InvalidArgument(std::string(field) + ": expected a string");
  return std::optional<std::string>(it->get<std::string>());
}

Result<std::optional<double>> OptNumber(const json& j, const char* field) {
  auto it = j.find(field);
  if (it == j.end() || it->is_null()) return std::optional<double>();
  if (!it->is_number()) return InvalidArgument(std::string(field) + ": expected a number");
  return std::optional<double>(it->get<double>());
}

Result<std::optional<int64_t>> OptInteger(const json& j, const char* field) {
  auto it = j.find(field);
  if (it == j.end() || it->is_null()) return std::optional<int64_t>();
  if (it->is_number_integer()) return std::optional<int64_t>(it->get<int64_t>());
  if (it->is_number_float()) {
    double v = it->get<double>();
    if (std::isfinite(v) && v == std::floor(v) && std::fabs(v) < 1e15) {
      return std::optional<int64_t>(static_cast<int64_t>(v));
    }
  }
  return InvalidArgument(std::string(field) + ": expected a whole number");
}

// {"blue": 90, "green": 10} → shares, in the object's (sorted) order.
Result<std::optional<std::vector<store::TrafficShare>>> OptShares(const json& j,
                                                                  const char* field) {
  auto it = j.find(field);
  if (it == j.end() || it->is_null()) return std::optional<std::vector<store::TrafficShare>>();
  if (!it->is_object()) {
    return InvalidArgument(std::string(field) +
                           ": expected an object of deployment name to percent, e.g. "
                           "{\"blue\": 90, \"green\": 10}");
  }
  std::vector<store::TrafficShare> shares;
  for (const auto& [name, value] : it->items()) {
    const std::string where = std::string(field) + "." + name.substr(0, 100);
    if (!value.is_number()) return InvalidArgument(where + ": expected a whole percent");
    double v = value.get<double>();
    if (!std::isfinite(v) || v != std::floor(v) || std::fabs(v) > 1e9) {
      return InvalidArgument(where + ": expected a whole percent, got " + value.dump());
    }
    shares.push_back({name, static_cast<int64_t>(v)});
  }
  return std::optional<std::vector<store::TrafficShare>>(std::move(shares));
}

Result<int64_t> ParseDigits(std::string_view text, std::string_view field) {
  int64_t v = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (text.empty() || ec != std::errc() || end != text.data() + text.size()) {
    return InvalidArgument(std::string(field) + ": expected a whole number, got '" +
                           std::string(text.substr(0, 100)) + "'");
  }
  return v;
}

json Shares(const std::vector<endpoints::DeploymentView>& deployments, bool mirror) {
  json out = json::object();
  for (const auto& d : deployments) {
    int64_t percent = mirror ? d.deployment.mirror : d.deployment.traffic;
    if (percent > 0) out[d.deployment.name] = percent;
  }
  return out;
}

}  // namespace

Result<int64_t> ParseTimeParam(std::string_view text, std::string_view field) {
  auto bad = [&] {
    return InvalidArgument(std::string(field) +
                           ": expected ms since the epoch or an RFC 3339 time such as "
                           "2024-05-01T12:00:00Z, got '" +
                           std::string(text.substr(0, 100)) + "'");
  };
  if (text.empty()) return bad();
  if (text.find_first_not_of("0123456789") == std::string_view::npos) {
    auto v = ParseDigits(text, field);
    if (!v.ok()) return bad();
    return v;
  }
  // YYYY-MM-DDTHH:MM:SS[.fff…](Z|±HH:MM)
  auto num = [&](size_t pos, size_t len, int* out) {
    if (pos + len > text.size()) return false;
    int v = 0;
    for (size_t i = pos; i < pos + len; ++i) {
      if (text[i] < '0' || text[i] > '9') return false;
      v = v * 10 + (text[i] - '0');
    }
    *out = v;
    return true;
  };
  int year, month, day, hour, minute, second;
  if (!num(0, 4, &year) || text.size() < 19 || text[4] != '-' || !num(5, 2, &month) ||
      text[7] != '-' || !num(8, 2, &day) ||
      (text[10] != 'T' && text[10] != 't' && text[10] != ' ') || !num(11, 2, &hour) ||
      text[13] != ':' || !num(14, 2, &minute) || text[16] != ':' || !num(17, 2, &second)) {
    return bad();
  }
  if (month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59 || second > 60) {
    return bad();
  }
  size_t pos = 19;
  int64_t millis = 0;
  if (pos < text.size() && text[pos] == '.') {
    ++pos;
    int digits = 0;
    while (pos < text.size() && text[pos] >= '0' && text[pos] <= '9') {
      if (digits < 3) millis = millis * 10 + (text[pos] - '0');
      ++digits;
      ++pos;
    }
    if (digits == 0) return bad();
    for (int d = digits; d < 3; ++d) millis *= 10;
  }
  int64_t offset_s = 0;
  if (pos < text.size() && (text[pos] == 'Z' || text[pos] == 'z')) {
    ++pos;
  } else if (pos < text.size() && (text[pos] == '+' || text[pos] == '-')) {
    int oh, om;
    if (!num(pos + 1, 2, &oh) || pos + 3 >= text.size() || text[pos + 3] != ':' ||
        !num(pos + 4, 2, &om)) {
      return bad();
    }
    offset_s = (text[pos] == '+' ? 1 : -1) * (oh * 3600 + om * 60);
    pos += 6;
  } else {
    return bad();
  }
  if (pos != text.size()) return bad();
  std::tm tm{};
  tm.tm_year = year - 1900;
  tm.tm_mon = month - 1;
  tm.tm_mday = day;
  tm.tm_hour = hour;
  tm.tm_min = minute;
  tm.tm_sec = second;
  const int64_t seconds = static_cast<int64_t>(timegm(&tm)) - offset_s;
  return seconds * 1000 + millis;
}

Result<endpoints::CreateEndpointRequest> ParseCreateEndpoint(std::string_view body) {
  CAIRN_TRY(json j, ParseObject(body, {"name", "description", "sample_rate"}));
  endpoints::CreateEndpointRequest req;
  CAIRN_TRY(auto name, OptString(j, "name"));
  if (!name) return InvalidArgument("name: required");
  req.name = std::move(*name);
  CAIRN_TRY(auto description, OptString(j, "description"));
  req.description = description.value_or("");
  CAIRN_TRY(req.sample_rate, OptNumber(j, "sample_rate"));
  return req;
}

Result<endpoints::UpdateEndpointRequest> ParseUpdateEndpoint(std::string_view body,
                                                             std::string_view name) {
  CAIRN_TRY(json j, ParseObject(body, {"description", "sample_rate"}));
  endpoints::UpdateEndpointRequest req;
  req.name = std::string(name);
  CAIRN_TRY(req.description, OptString(j, "description"));
  CAIRN_TRY(req.sample_rate, OptNumber(j, "sample_rate"));
  return req;
}

Result<endpoints::TrafficRequest> ParseTraffic(std::string_view body, std::string_view name) {
  CAIRN_TRY(json j, ParseObject(body, {"traffic", "mirror"}));
  endpoints::TrafficRequest req;
  req.endpoint = std::string(name);
  CAIRN_TRY(req.live, OptShares(j, "traffic"));
  CAIRN_TRY(req.mirror, OptShares(j, "mirror"));
  if (!req.live && !req.mirror) {
    return InvalidArgument("traffic: required (or mirror), e.g. {\"traffic\": {\"blue\": 100}}");
  }
  return req;
}

Result<endpoints::CreateDeploymentRequest> ParseCreateDeployment(std::string_view body,
                                                                 std::string_view endpoint) {
  CAIRN_TRY(json j, ParseObject(body, {"name", "model", "threads"}));
  endpoints::CreateDeploymentRequest req;
  req.endpoint = std::string(endpoint);
  CAIRN_TRY(auto name, OptString(j, "name"));
  if (!name) return InvalidArgument("name: required");
  req.name = std::move(*name);
  CAIRN_TRY(auto model, OptString(j, "model"));
  if (!model)
    return InvalidArgument(
        "model: required (models:/NAME/VERSION, models:/NAME@ALIAS "
        "or runs:/RUN_ID/PATH)");
  req.model_uri = std::move(*model);
  CAIRN_TRY(auto threads, OptInteger(j, "threads"));
  req.threads = threads.value_or(0);
  return req;
}

Result<endpoints::UpdateDeploymentRequest> ParseUpdateDeployment(std::string_view body,
                                                                 std::string_view endpoint,
                                                                 std::string_view name) {
  CAIRN_TRY(json j, ParseObject(body, {"model", "threads"}));
  endpoints::UpdateDeploymentRequest req;
  req.endpoint = std::string(endpoint);
  req.name = std::string(name);
  CAIRN_TRY(req.model_uri, OptString(j, "model"));
  CAIRN_TRY(req.threads, OptInteger(j, "threads"));
  if (!req.model_uri && !req.threads) return InvalidArgument("model or threads: required");
  return req;
}

Result<monitoring::PredictionQuery> ParsePredictionQuery(const http::HttpRequest& req,
                                                         std::string_view endpoint) {
  monitoring::PredictionQuery q;
  q.endpoint = std::string(endpoint);
  static const std::set<std::string, std::less<>> kKnown = {
      "since", "until", "deployment", "request_id", "mirrored", "limit", "page_token"};
  for (const auto& [key, value] : req.QueryPairs()) {
    if (!kKnown.contains(key)) {
      return InvalidArgument("unknown query parameter '" + key.substr(0, 100) + "'");
    }
  }
  if (auto since = req.QueryParam("since")) {
    CAIRN_TRY(q.since, ParseTimeParam(*since, "since"));
  }
  if (auto until = req.QueryParam("until")) {
    CAIRN_TRY(q.until, ParseTimeParam(*until, "until"));
  }
  q.deployment = req.QueryParam("deployment").value_or("");
  q.request_id = req.QueryParam("request_id").value_or("");
  if (auto mirrored = req.QueryParam("mirrored")) {
    if (*mirrored == "true") {
      q.mirrored = 1;
    } else if (*mirrored == "false") {
      q.mirrored = 0;
    } else {
      return InvalidArgument("mirrored: expected true or false, got '" + mirrored->substr(0, 100) +
                             "'");
    }
  }
  if (auto limit = req.QueryParam("limit")) {
    CAIRN_TRY(int64_t n, ParseDigits(*limit, "limit"));
    if (n < 1 || n > int64_t(kMaxPredictionsPerPage)) {
      return InvalidArgument("limit: must be between 1 and " +
                             std::to_string(kMaxPredictionsPerPage));
    }
    q.limit = static_cast<size_t>(n);
  }
  q.page_token = req.QueryParam("page_token").value_or("");
  return q;
}

nlohmann::json ToJson(const endpoints::DeploymentView& view) {
  const store::Deployment& d = view.deployment;
  json j = {{"name", d.name},
            {"endpoint", d.endpoint},
            {"model_uri", d.model_uri},
            {"model_name", d.model_name},
            {"model_version", d.model_version},
            {"run_id", d.run_id},
            {"storage_location", d.storage_location},
            {"threads", d.threads},
            {"traffic", d.traffic},
            {"mirror", d.mirror},
            {"state", view.ready ? "ready" : "failed"},
            {"model", view.model},
            {"creation_time", d.creation_time},
            {"last_update_time", d.last_update_time}};
  if (!view.error.empty()) j["error"] = view.error;
  return j;
}

nlohmann::json ToJson(const endpoints::EndpointView& view) {
  const store::Endpoint& e = view.endpoint;
  json deployments = json::array();
  for (const auto& d : view.deployments) deployments.push_back(ToJson(d));
  return {{"name", e.name},
          {"description", e.description},
          {"sample_rate", e.sample_rate},
          {"traffic", Shares(view.deployments, false)},
          {"mirror", Shares(view.deployments, true)},
          {"traffic_version", e.traffic_version},
          {"scoring_path", "/endpoints/" + e.name + "/invocations"},
          {"v2_path", "/endpoints/" + e.name + "/v2/models/" + e.name + "/infer"},
          {"creation_time", e.creation_time},
          {"last_update_time", e.last_update_time},
          {"deployments", std::move(deployments)}};
}

nlohmann::json ToJson(const monitoring::PredictionRecord& r) {
  auto raw = [](const std::string& text) {
    if (text.empty()) return json(nullptr);
    json parsed = json::parse(text, nullptr, false);
    return parsed.is_discarded() ? json(nullptr) : parsed;
  };
  return {{"time", r.time},
          {"request_id", r.request_id},
          {"endpoint", r.endpoint},
          {"deployment", r.deployment},
          {"model_uri", r.model_uri},
          {"model_version", r.model_version},
          {"latency_us", r.latency_us},
          {"status", r.status},
          {"mirrored", r.mirrored},
          {"inputs", raw(r.inputs)},
          {"outputs", raw(r.outputs)}};
}

}  // namespace cairn::api::v1
