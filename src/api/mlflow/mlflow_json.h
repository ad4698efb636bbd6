// The hot path of MLflow's request bodies: runs/log-batch parsed with simdjson. The entities'
// JSON shapes are in wire/mlflow_entities.h.
#pragma once

#include <string>
#include <string_view>

#include "core/result.h"
#include "tracking/tracking_types.h"

namespace cairn::api::mlflow {

// kInvalidArgument naming the bad field.
Result<tracking::LogBatchRequest> ParseLogBatch(std::string_view body);

}  // namespace cairn::api::mlflow
