// MLflow's JSON shapes for tracking entities (protobuf's JSON mapping: empty lists omitted,
// int64 as numbers, non-finite doubles as "NaN" / "Infinity" / "-Infinity").
#pragma once

#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "core/result.h"
#include "store/records.h"
#include "tracking/tracking_types.h"

namespace cairn::api::mlflow {

nlohmann::json DoubleToJson(double value);
nlohmann::json TagsToJson(const std::vector<store::Tag>& tags);
nlohmann::json ExperimentToJson(const store::Experiment& experiment);
nlohmann::json RunInfoToJson(const store::RunInfo& info);
nlohmann::json MetricToJson(const store::Metric& metric);
nlohmann::json RunToJson(const store::Run& run);
nlohmann::json ArtifactFileToJson(const store::ArtifactEntry& entry);

// The hot path: runs/log-batch parsed with simdjson. kInvalidArgument naming the bad field.
Result<tracking::LogBatchRequest> ParseLogBatch(std::string_view body);

}  // namespace cairn::api::mlflow
