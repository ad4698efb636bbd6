// EndpointClient: the C++ client of /api/v1/endpoints (endpoints, deployments, traffic, the
// prediction log) and of the endpoints' scoring routes.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "client/mlflow_json.h"
#include "client/transport.h"
#include "core/result.h"
#include "store/records.h"

namespace cairn::client {

struct DeploymentInfo {
  store::Deployment deployment;
  std::string state;  // "ready" | "failed"
  std::string error;  // why it failed to load
  std::string model;  // the loaded model's description
};

struct EndpointInfo {
  store::Endpoint endpoint;
  std::vector<DeploymentInfo> deployments;  // by name
  std::string scoring_path;                 // "/endpoints/NAME/invocations"
  std::string v2_path;                      // "/endpoints/NAME/v2/models/NAME/infer"
};

struct PredictionsRequest {
  std::string endpoint;
  std::string since;  // ms since the epoch or RFC 3339; "" from the start
  std::string until;
  std::string deployment;
  std::string request_id;
  std::optional<bool> mirrored;
  int64_t limit = 100;
  std::string page_token;
};

struct PredictionsPage {
  std::vector<Json> predictions;  // the server's records (time, request_id, deployment, …)
  std::string next_page_token;
};

struct InvokeOptions {
  std::string deployment;  // x-cairn-deployment
  std::string route_key;   // x-cairn-route-key
  std::string request_id;  // x-request-id
  std::string content_type = "application/json";
  bool v2 = false;  // the Open Inference Protocol's /infer instead of /invocations
};

struct InvokeResult {
  int status = 0;
  std::string body;
  std::string deployment;  // who answered
  std::string request_id;
};

// Each call is one HTTP exchange; server errors come back as Status (RESOURCE_DOES_NOT_EXIST →
// kNotFound, INVALID_PARAMETER_VALUE → kInvalidArgument, INVALID_STATE → kInvalidArgument, …).
// Not thread-safe: one client per thread.
class EndpointClient {
 public:
  static Result<std::unique_ptr<EndpointClient>> Connect(std::string_view tracking_uri);
  explicit EndpointClient(std::unique_ptr<Transport> transport);

  Result<EndpointInfo> CreateEndpoint(std::string_view name, std::string_view description = {},
                                      std::optional<double> sample_rate = std::nullopt);
  Result<EndpointInfo> GetEndpoint(std::string_view name);
  Result<std::vector<EndpointInfo>> ListEndpoints();
  Result<EndpointInfo> UpdateEndpoint(std::string_view name, std::optional<std::string> description,
                                      std::optional<double> sample_rate);
  Status DeleteEndpoint(std::string_view name);
  // Unset parts of the configuration stay as they are (see endpoints/endpoint_types.h).
  Result<EndpointInfo> SetTraffic(std::string_view name,
                                  std::optional<std::vector<store::TrafficShare>> live,
                                  std::optional<std::vector<store::TrafficShare>> mirror);

  Result<DeploymentInfo> CreateDeployment(std::string_view endpoint, std::string_view name,
                                          std::string_view model_uri, int64_t threads = 0);
  Result<DeploymentInfo> GetDeployment(std::string_view endpoint, std::string_view name);
  Result<std::vector<DeploymentInfo>> ListDeployments(std::string_view endpoint);
  Result<DeploymentInfo> UpdateDeployment(std::string_view endpoint, std::string_view name,
                                          std::optional<std::string> model_uri,
                                          std::optional<int64_t> threads);
  Status DeleteDeployment(std::string_view endpoint, std::string_view name);

  Result<PredictionsPage> GetPredictions(const PredictionsRequest& req);

  // Scores `body` at the endpoint. Any answer from the server is a result (check `status`);
  // kUnavailable when it cannot be reached.
  Result<InvokeResult> Invoke(std::string_view endpoint, std::string_view body,
                              const InvokeOptions& options = {});

 private:
  Result<Json> Call(std::string_view method, const std::string& target, const Json* body);

  std::unique_ptr<Transport> transport_;
};

}  // namespace cairn::client
