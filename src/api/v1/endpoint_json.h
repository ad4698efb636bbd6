// The wire format of /api/v1/endpoints: request bodies and query strings -> service requests
// (kInvalidArgument naming the field), views and prediction records -> JSON.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string_view>

#include "core/result.h"
#include "endpoints/endpoint_types.h"
#include "http/http_types.h"
#include "monitoring/prediction_log.h"

namespace cairn::api::v1 {

// POST /api/v1/endpoints
Result<endpoints::CreateEndpointRequest> ParseCreateEndpoint(std::string_view body);
// PATCH /api/v1/endpoints/{name}
Result<endpoints::UpdateEndpointRequest> ParseUpdateEndpoint(std::string_view body,
                                                             std::string_view name);
// PUT /api/v1/endpoints/{name}/traffic
Result<endpoints::TrafficRequest> ParseTraffic(std::string_view body, std::string_view name);
// POST /api/v1/endpoints/{name}/deployments
Result<endpoints::CreateDeploymentRequest> ParseCreateDeployment(std::string_view body,
                                                                 std::string_view endpoint);
// PATCH /api/v1/endpoints/{name}/deployments/{deployment}
Result<endpoints::UpdateDeploymentRequest> ParseUpdateDeployment(std::string_view body,
                                                                 std::string_view endpoint,
                                                                 std::string_view name);
// GET /api/v1/endpoints/{name}/predictions
Result<monitoring::PredictionQuery> ParsePredictionQuery(const http::HttpRequest& req,
                                                         std::string_view endpoint);

// A time as ms since the epoch: digits, or RFC 3339 in UTC ("2024-05-01T12:00:00Z", with
// optional fractional seconds or a +HH:MM offset). kInvalidArgument naming `field`.
Result<int64_t> ParseTimeParam(std::string_view text, std::string_view field);

inline constexpr size_t kMaxPredictionsPerPage = 10000;

nlohmann::json ToJson(const endpoints::EndpointView& view);
nlohmann::json ToJson(const endpoints::DeploymentView& view);
nlohmann::json ToJson(const monitoring::PredictionRecord& record);

}  // namespace cairn::api::v1
