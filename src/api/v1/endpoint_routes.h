// Registers the endpoints API and the endpoints' scoring routes on a router.
//
// Management (/api/v1, JSON; errors MLflow-style {"error_code", "message"}):
//   GET    /api/v1/endpoints                                   list, with deployments
//   POST   /api/v1/endpoints                                   {"name", "description"?,
//                                                               "sample_rate"?}
//   GET    /api/v1/endpoints/{name}                            one, with deployments
//   PATCH  /api/v1/endpoints/{name}                            {"description"?, "sample_rate"?}
//   DELETE /api/v1/endpoints/{name}                            with its deployments
//   PUT    /api/v1/endpoints/{name}/traffic                    {"traffic"?: {"blue": 90, …},
//                                                               "mirror"?: {"green": 20}}
//   GET    /api/v1/endpoints/{name}/deployments
//   POST   /api/v1/endpoints/{name}/deployments                {"name", "model", "threads"?}
//   GET    /api/v1/endpoints/{name}/deployments/{deployment}
//   PATCH  /api/v1/endpoints/{name}/deployments/{deployment}   {"model"?, "threads"?}
//   DELETE /api/v1/endpoints/{name}/deployments/{deployment}
//   GET    /api/v1/endpoints/{name}/predictions                ?since=&until= (ms since the
//          epoch or RFC 3339 UTC) &deployment= &request_id= &mirrored=true|false &limit=
//          (default 100, at most 10000) &page_token=
//
// Scoring (the protocols of serving/scoring_model.h; errors in the protocol's shape):
//   POST /endpoints/{name}/invocations                       MLflow
//   GET  /endpoints/{name}/ping                              200 when it would score, else 503
//   POST /endpoints/{name}/v2/models/{name}/infer            Open Inference Protocol v2
//   GET  /endpoints/{name}/v2/models/{name}[/ready]          metadata, readiness
//   GET  /endpoints/{name}/v2/health/live, …/v2/health/ready
// Requests may carry x-cairn-deployment and x-cairn-route-key; answers carry
// x-cairn-deployment and x-request-id (endpoints/endpoint_types.h).
#pragma once

#include <cstddef>

#include "endpoints/endpoint_service.h"
#include "http/router.h"

namespace cairn::api::v1 {

struct EndpointRouteLimits {
  size_t max_json_body_bytes = 1 << 20;
  size_t max_scoring_body_bytes = 32u << 20;
};

// The service must outlive the router.
void RegisterEndpointRoutes(http::Router& router, endpoints::EndpointService& service,
                            const EndpointRouteLimits& limits = {});
void RegisterEndpointScoringRoutes(http::Router& router, endpoints::EndpointService& service,
                                   const EndpointRouteLimits& limits = {});

}  // namespace cairn::api::v1
