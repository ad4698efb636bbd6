// Registers Cairn's native API for datasets on a router:
//   GET  /api/v1/datasets                                          list
//   GET  /api/v1/datasets/{name}                                   its versions, newest first
//   POST /api/v1/datasets/{name}/versions                          commit a snapshot
//   GET  /api/v1/datasets/{name}/versions/{version}                record, files, profiles
//                                                                  (?include_profile=false)
//   GET  /api/v1/datasets/{name}/versions/{version}/files/{path…}  the file's bytes, verified
//   GET  /api/v1/datasets/{name}/versions/{version}/manifests/{path…}  its chunk manifest
//   GET  /api/v1/datasets/{name}/versions/{version}/profile        profiles (?path=one file)
//   GET  /api/v1/datasets/{name}/diff?from=V&to=V                  files and profile changes
//   POST /api/v1/blobs/missing                                     which chunks the server lacks
//   POST /api/v1/blobs                                             upload a pack of chunks
// {version} is a number, vN or "latest". Errors are MLflow's JSON ({"error_code", "message"}).
#pragma once

#include <cstddef>

#include "datasets/dataset_service.h"
#include "http/router.h"

namespace cairn::api::v1 {

struct DatasetRouteLimits {
  size_t max_json_body_bytes = 1 << 20;       // blobs/missing
  size_t max_commit_body_bytes = 256u << 20;  // manifests and profiles of a version
  size_t max_pack_bytes = 64u << 20;          // one pack of chunks
};

// The service must outlive the router.
void RegisterDatasetRoutes(http::Router& router, datasets::DatasetService& service,
                           const DatasetRouteLimits& limits = {});

}  // namespace cairn::api::v1
