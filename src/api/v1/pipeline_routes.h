// Registers Cairn's native API for pipeline runs on a router:
//   POST /api/v1/pipelines/runs                                start a run: {"yaml", "file",
//                                                              "params": {K: V}}; who starts it
//                                                              is the x-cairn-user header
//   GET  /api/v1/pipelines/runs                                newest first (?status=, ?name=,
//                                                              ?max_results=)
//   GET  /api/v1/pipelines/runs/{id}                           the run, its steps and its file
//   POST /api/v1/pipelines/runs/{id}/cancel
//   POST /api/v1/pipelines/runs/{id}/steps/{step}/approve      {"comment"}; x-cairn-user decides
//   POST /api/v1/pipelines/runs/{id}/steps/{step}/reject       {"comment"}
//   GET  /api/v1/pipelines/runs/{id}/steps/{step}/logs         {"log": "…"}
// Errors are MLflow's JSON ({"error_code", "message"}).
#pragma once

#include "http/router.h"
#include "pipelines/engine.h"

namespace cairn::api::v1 {

// Who a request comes from, until authentication exists.
inline constexpr char kUserHeader[] = "x-cairn-user";

// The engine must outlive the router.
void RegisterPipelineRoutes(http::Router& router, pipelines::PipelineEngine& engine,
                            store::MetadataStore& store);

// The JSON of a run (with its steps; `with_spec` adds the file's text) and of a step.
nlohmann::json PipelineRunToJson(const store::PipelineRun& run, bool with_spec);
nlohmann::json StepRunToJson(const store::StepRun& step);

}  // namespace cairn::api::v1
