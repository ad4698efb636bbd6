// MLflow's model and run URIs: models:/NAME/VERSION, models:/NAME/STAGE, models:/NAME/latest,
// models:/NAME@ALIAS and runs:/RUN_ID/PATH — parsed the same way on both sides of the wire.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "core/result.h"

namespace cairn::wire {

// A parsed models:/ URI; exactly one of version, alias, stage or latest is set.
struct ModelUri {
  std::string name;
  std::optional<int64_t> version;  // models:/churn/3
  std::string alias;               // models:/churn@champion
  std::string stage;               // models:/churn/Production: the latest version in the stage
  bool latest = false;             // models:/churn/latest: the highest version number
};

// MLflow's grammar (mlflow.store.artifact.utils.models._parse_model_uri): "models:/" then either
// NAME/SUFFIX (SUFFIX a version number, "latest" in any case, or a stage name) or NAME@ALIAS.
// kInvalidArgument with MLflow's message otherwise ("Not a proper models:/ URI: …").
Result<ModelUri> ParseModelUri(std::string_view uri);
// The URI back in its canonical form ("models:/churn/3", "models:/churn@champion").
std::string FormatModelUri(const ModelUri& uri);
bool IsModelUri(std::string_view text);  // starts with "models:"

// A parsed runs:/RUN_ID[/PATH] URI; `artifact_path` is "" for the run's artifact root.
struct RunsUri {
  std::string run_id;
  std::string artifact_path;  // '/'-separated, without leading or trailing '/'
};
// kInvalidArgument ("Not a proper runs:/ URI: …") unless `uri` is runs:/RUN_ID[/PATH].
Result<RunsUri> ParseRunsUri(std::string_view uri);
bool IsRunsUri(std::string_view text);  // starts with "runs:"

}  // namespace cairn::wire
