// Registers the MLflow REST API 2.0 (tracking, model registry) and the artifact proxy on a router, under both
// /api/2.0 and /ajax-api/2.0.
#pragma once

#include <cstddef>

#include "http/router.h"
#include "registry/registry_service.h"
#include "tracking/artifact_service.h"
#include "tracking/tracking_service.h"

namespace cairn::api::mlflow {

struct RouteLimits {
  size_t max_json_body_bytes = 1 << 20;
  size_t max_artifact_bytes = size_t(64) << 30;
};

// The services must outlive the router.
void RegisterTrackingRoutes(http::Router& router, tracking::TrackingService& tracking,
                            const RouteLimits& limits);
void RegisterArtifactRoutes(http::Router& router, tracking::ArtifactService& artifacts,
                            const RouteLimits& limits);
// The model registry (registered models, versions, tags, aliases): registry_handlers.cc.
void RegisterRegistryRoutes(http::Router& router, registry::RegistryService& registry,
                            const RouteLimits& limits);

}  // namespace cairn::api::mlflow
