// The built-in steps that act on the workspace (data.snapshot, train.xgboost, model.compare,
// model.register, endpoint.deploy) and the MLflow recorder of pipeline runs. They reach the
// workspace through the client library at the server's own URL — the code path of the CLI.
#pragma once

#include <memory>
#include <string>

#include "endpoints/endpoint_service.h"
#include "pipelines/engine.h"
#include "pipelines/step.h"

namespace cairn::pipelines {

struct StepServices {
  std::string tracking_uri;  // this server's URL, e.g. http://127.0.0.1:5000
  endpoints::EndpointService* endpoints = nullptr;  // endpoint.deploy; null: not available
};

// Installs the makers of the built-in task steps into `table` (made by BuiltinStepTypes()).
// The services must outlive the table.
void InstallBuiltinSteps(StepTable& table, const StepServices& services);

// Parent runs through the tracking client at services.tracking_uri (read at each call, so it may
// be set once the server listens). `services` must outlive the recorder.
std::unique_ptr<RunRecorder> MakeTrackingRecorder(const StepServices& services);

}  // namespace cairn::pipelines
