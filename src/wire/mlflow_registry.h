// MLflow's JSON wire format of model registry entities (registered models, model versions,
// aliases), shared by server and client.
#pragma once

#include <nlohmann/json.hpp>

#include "core/result.h"
#include "store/records.h"
#include "wire/mlflow_entities.h"

namespace cairn::wire {

// Protobuf's JSON mapping, as MLflow answers: versions are strings ("3"), timestamps numbers;
// empty optional strings (description, run_id, run_link, status_message) and empty lists
// (latest_versions, tags, aliases) are left out. Cairn's storage_location and artifact_path are
// not part of MLflow's entities (get-download-uri answers the location).
Json ToJson(const store::ModelVersion& version);
Json ToJson(const store::RegisteredModel& model);
Json ToJson(const store::ModelAlias& alias);  // {alias, version: "3"}

// Missing fields default to empty or zero; a field of the wrong type (or a version that is not a
// decimal integer) is kInvalidArgument naming it. Unknown stages and statuses are errors.
Result<store::ModelVersion> ModelVersionFromJson(const Json& j);
Result<store::RegisteredModel> RegisteredModelFromJson(const Json& j);

}  // namespace cairn::wire
