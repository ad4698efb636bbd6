#include "client/endpoint_client.h"

#include "client/uri.h"
#include "http/http_types.h"

namespace cairn::client {

namespace {

constexpr std::string_view kEndpointsPrefix = "/api/v1/endpoints";

std::string Segment(std::string_view s) { return http::PercentEncode(s); }

std::string EndpointPath(std::string_view name) {
  return std::string(kEndpointsPrefix) + "/" + Segment(name);
}

std::string DeploymentPath(std::string_view endpoint, std::string_view name) {
  return EndpointPath(endpoint) + "/deployments/" + Segment(name);
}

// The server's JSON as records; a missing or mistyped field is the server's fault (kInternal).
Result<DeploymentInfo> DeploymentFromJson(const Json& j) {
  try {
    DeploymentInfo info;
    store::Deployment& d = info.deployment;
    d.name = j.at("name").get<std::string>();
    d.endpoint = j.at("endpoint").get<std::string>();
    d.model_uri = j.at("model_uri").get<std::string>();
    d.model_name = j.value("model_name", "");
    d.model_version = j.value("model_version", int64_t(0));
    d.run_id = j.value("run_id", "");
    d.storage_location = j.value("storage_location", "");
    d.threads = j.value("threads", int64_t(0));
    d.traffic = j.value("traffic", int64_t(0));
    d.mirror = j.value("mirror", int64_t(0));
    d.creation_time = j.value("creation_time", int64_t(0));
    d.last_update_time = j.value("last_update_time", int64_t(0));
    info.state = j.value("state", "");
    info.error = j.value("error", "");
    info.model = j.value("model", "");
    return info;
  } catch (const Json::exception& e) {
    return Internal(std::string("malformed response from server: deployment: ") + e.what());
  }
}

Result<EndpointInfo> EndpointFromJson(const Json& j) {
  try {
    EndpointInfo info;
    store::Endpoint& e = info.endpoint;
    e.name = j.at("name").get<std::string>();
    e.description = j.value("description", "");
    e.sample_rate = j.value("sample_rate", 1.0);
    e.traffic_version = j.value("traffic_version", int64_t(0));
    e.creation_time = j.value("creation_time", int64_t(0));
    e.last_update_time = j.value("last_update_time", int64_t(0));
    info.scoring_path = j.value("scoring_path", "");
    info.v2_path = j.value("v2_path", "");
    for (const Json& d : j.value("deployments", Json::array())) {
      CAIRN_TRY(DeploymentInfo deployment, DeploymentFromJson(d));
      info.deployments.push_back(std::move(deployment));
    }
    return info;
  } catch (const Json::exception& ex) {
    return Internal(std::string("malformed response from server: endpoint: ") + ex.what());
  }
}

Result<const Json*> Field(const Json& j, const char* key) {
  auto it = j.find(key);
  if (it == j.end()) return Internal(std::string("malformed response from server: no ") + key);
  return &*it;
}

Result<EndpointInfo> EndpointIn(const Json& j) {
  CAIRN_TRY(const Json* e, Field(j, "endpoint"));
  return EndpointFromJson(*e);
}

Result<DeploymentInfo> DeploymentIn(const Json& j) {
  CAIRN_TRY(const Json* d, Field(j, "deployment"));
  return DeploymentFromJson(*d);
}

Json SharesJson(const std::vector<store::TrafficShare>& shares) {
  Json out = Json::object();
  for (const auto& s : shares) out[s.deployment] = s.percent;
  return out;
}


}  // namespace

EndpointClient::EndpointClient(std::unique_ptr<Transport> transport)
    : transport_(std::move(transport)) {}

Result<std::unique_ptr<EndpointClient>> EndpointClient::Connect(std::string_view tracking_uri) {
  CAIRN_TRY(std::unique_ptr<Transport> transport, ConnectHttp(tracking_uri));
  return std::make_unique<EndpointClient>(std::move(transport));
}

Result<Json> EndpointClient::Call(std::string_view method, const std::string& target,
                   const Json* body) {
  return CallJson(*transport_, method, target, body);
}

Result<EndpointInfo> EndpointClient::CreateEndpoint(std::string_view name,
                                                    std::string_view description,
                                                    std::optional<double> sample_rate) {
  Json body = {{"name", name}};
  if (!description.empty()) body["description"] = description;
  if (sample_rate) body["sample_rate"] = *sample_rate;
  CAIRN_TRY(Json j, Call("POST", std::string(kEndpointsPrefix), &body));
  return EndpointIn(j);
}

Result<EndpointInfo> EndpointClient::GetEndpoint(std::string_view name) {
  CAIRN_TRY(Json j, Call("GET", EndpointPath(name), nullptr));
  return EndpointIn(j);
}

Result<std::vector<EndpointInfo>> EndpointClient::ListEndpoints() {
  CAIRN_TRY(Json j, Call("GET", std::string(kEndpointsPrefix), nullptr));
  CAIRN_TRY(const Json* list, Field(j, "endpoints"));
  if (!list->is_array()) return Internal("malformed response from server: endpoints");
  std::vector<EndpointInfo> out;
  for (const Json& e : *list) {
    CAIRN_TRY(EndpointInfo info, EndpointFromJson(e));
    out.push_back(std::move(info));
  }
  return out;
}

Result<EndpointInfo> EndpointClient::UpdateEndpoint(std::string_view name,
                                                    std::optional<std::string> description,
                                                    std::optional<double> sample_rate) {
  Json body = Json::object();
  if (description) body["description"] = *description;
  if (sample_rate) body["sample_rate"] = *sample_rate;
  CAIRN_TRY(Json j, Call("PATCH", EndpointPath(name), &body));
  return EndpointIn(j);
}

Status EndpointClient::DeleteEndpoint(std::string_view name) {
  return Call("DELETE", EndpointPath(name), nullptr).status();
}

Result<EndpointInfo> EndpointClient::SetTraffic(
    std::string_view name, std::optional<std::vector<store::TrafficShare>> live,
    std::optional<std::vector<store::TrafficShare>> mirror) {
  Json body = Json::object();
  if (live) body["traffic"] = SharesJson(*live);
  if (mirror) body["mirror"] = SharesJson(*mirror);
  CAIRN_TRY(Json j, Call("PUT", EndpointPath(name) + "/traffic", &body));
  return EndpointIn(j);
}

Result<DeploymentInfo> EndpointClient::CreateDeployment(std::string_view endpoint,
                                                        std::string_view name,
                                                        std::string_view model_uri,
                                                        int64_t threads) {
  Json body = {{"name", name}, {"model", model_uri}};
  if (threads != 0) body["threads"] = threads;
  CAIRN_TRY(Json j, Call("POST", EndpointPath(endpoint) + "/deployments", &body));
  return DeploymentIn(j);
}

Result<DeploymentInfo> EndpointClient::GetDeployment(std::string_view endpoint,
                                                     std::string_view name) {
  CAIRN_TRY(Json j, Call("GET", DeploymentPath(endpoint, name), nullptr));
  return DeploymentIn(j);
}

Result<std::vector<DeploymentInfo>> EndpointClient::ListDeployments(std::string_view endpoint) {
  CAIRN_TRY(Json j, Call("GET", EndpointPath(endpoint) + "/deployments", nullptr));
  CAIRN_TRY(const Json* list, Field(j, "deployments"));
  if (!list->is_array()) return Internal("malformed response from server: deployments");
  std::vector<DeploymentInfo> out;
  for (const Json& d : *list) {
    CAIRN_TRY(DeploymentInfo info, DeploymentFromJson(d));
    out.push_back(std::move(info));
  }
  return out;
}

Result<DeploymentInfo> EndpointClient::UpdateDeployment(std::string_view endpoint,
                                                        std::string_view name,
                                                        std::optional<std::string> model_uri,
                                                        std::optional<int64_t> threads) {
  Json body = Json::object();
  if (model_uri) body["model"] = *model_uri;
  if (threads) body["threads"] = *threads;
  CAIRN_TRY(Json j, Call("PATCH", DeploymentPath(endpoint, name), &body));
  return DeploymentIn(j);
}

Status EndpointClient::DeleteDeployment(std::string_view endpoint, std::string_view name) {
  return Call("DELETE", DeploymentPath(endpoint, name), nullptr).status();
}

Result<PredictionsPage> EndpointClient::GetPredictions(const PredictionsRequest& req) {
  std::string query;
  auto add = [&](const char* key, const std::string& value) {
    if (value.empty()) return;
    query += (query.empty() ? "?" : "&") + std::string(key) + "=" + http::PercentEncode(value);
  };
  add("since", req.since);
  add("until", req.until);
  add("deployment", req.deployment);
  add("request_id", req.request_id);
  if (req.mirrored) add("mirrored", *req.mirrored ? "true" : "false");
  add("limit", std::to_string(req.limit));
  add("page_token", req.page_token);
  CAIRN_TRY(Json j, Call("GET", EndpointPath(req.endpoint) + "/predictions" + query, nullptr));
  CAIRN_TRY(const Json* list, Field(j, "predictions"));
  if (!list->is_array()) return Internal("malformed response from server: predictions");
  PredictionsPage page;
  for (const Json& p : *list) page.predictions.push_back(p);
  auto token = j.find("next_page_token");
  if (token != j.end() && token->is_string()) page.next_page_token = token->get<std::string>();
  return page;
}

Result<InvokeResult> EndpointClient::Invoke(std::string_view endpoint, std::string_view body,
                                            const InvokeOptions& options) {
  const std::string base = "/endpoints/" + Segment(endpoint);
  const std::string target =
      options.v2 ? base + "/v2/models/" + Segment(endpoint) + "/infer" : base + "/invocations";
  http::Headers headers = {{"content-type", options.content_type}};
  if (!options.deployment.empty()) headers.emplace_back("x-cairn-deployment", options.deployment);
  if (!options.route_key.empty()) headers.emplace_back("x-cairn-route-key", options.route_key);
  if (!options.request_id.empty()) headers.emplace_back("x-request-id", options.request_id);
  CAIRN_TRY(http::ClientResponse resp, transport_->Send("POST", target, body, headers));
  InvokeResult out;
  out.status = resp.status;
  out.deployment = std::string(resp.Header("x-cairn-deployment"));
  out.request_id = std::string(resp.Header("x-request-id"));
  out.body = std::move(resp.body);
  return out;
}

}  // namespace cairn::client
