// Registers Cairn's native API for jobs on a router:
//   POST /api/v1/jobs                    submit: {"spec": <jobs::ToJson spec>, "code"?: <code
//                                        snapshot JSON (jobs/code_snapshot.h)>, "user"?,
//                                        "source_name"?} → {"job"}
//   GET  /api/v1/jobs                    ?state=queued&state=running… &max_results=N (default
//                                        100) → {"jobs": [...]}, newest first
//   GET  /api/v1/jobs/{id}               {"job"}
//   GET  /api/v1/jobs/{id}/logs          ?stream=stdout|stderr &offset=N &max_bytes=N → the
//                                        bytes (text/plain); headers x-cairn-log-offset (where
//                                        the next read starts) and x-cairn-log-complete (true
//                                        once the job has ended and the log is read to its end)
//   POST /api/v1/jobs/{id}/cancel        {"job"}; 400 FAILED_PRECONDITION-style error when the
//                                        job has already ended
// The code snapshot's chunks are uploaded first through /api/v1/blobs (v1_routes.h). Errors are
// MLflow's JSON ({"error_code", "message"}).
#pragma once

#include <cstddef>
#include <nlohmann/json.hpp>

#include "http/router.h"
#include "jobs/job_service.h"

namespace cairn::api::v1 {

struct JobRouteLimits {
  size_t max_submit_body_bytes = 64u << 20;  // a spec and its code snapshot's manifests
};

// The service must outlive the router.
void RegisterJobRoutes(http::Router& router, jobs::JobService& service,
                       const JobRouteLimits& limits = {});

// The wire form of a job (shared with the client library's tests).
nlohmann::json JobToJson(const jobs::Job& job);

}  // namespace cairn::api::v1
