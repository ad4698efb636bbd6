// TriggerClient: the C++ client of stored pipelines (/api/v1/pipelines/definitions) and their
// retraining triggers (/api/v1/triggers). Every request carries the acting user in x-cairn-user.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "client/mlflow_json.h"
#include "client/transport.h"
#include "core/result.h"
#include "store/pipeline_records.h"
#include "store/trigger_records.h"

namespace cairn::client {

// A stored pipeline with its triggers.
struct StoredPipeline {
  store::PipelineDefinition definition;
  std::vector<store::TriggerRecord> triggers;
};

// A trigger with its recent firings (newest first).
struct TriggerWithFirings {
  store::TriggerRecord trigger;
  std::vector<store::TriggerFiring> firings;
};

// Each call is one HTTP exchange; server errors come back as Status. Not thread-safe.
class TriggerClient {
 public:
  static Result<std::unique_ptr<TriggerClient>> Connect(std::string_view tracking_uri,
                                                        std::string user);
  TriggerClient(std::unique_ptr<Transport> transport, std::string user);

  // Stores `yaml` (named `file` in errors and for the steps' relative paths) under its name.
  Result<StoredPipeline> CreateDefinition(const std::string& yaml, const std::string& file);
  Result<std::vector<store::PipelineDefinition>> ListDefinitions();
  Result<StoredPipeline> GetDefinition(std::string_view name);  // with the YAML in spec
  Status DeleteDefinition(std::string_view name);
  Result<store::PipelineRun> RunDefinition(std::string_view name,
                                           const std::map<std::string, std::string>& params);

  // Every trigger, or those of `pipeline`.
  Result<std::vector<store::TriggerRecord>> ListTriggers(std::string_view pipeline = {});
  // `trigger_id` is "<pipeline>/<kind>".
  Result<TriggerWithFirings> GetTrigger(std::string_view trigger_id);
  Result<store::TriggerRecord> SetEnabled(std::string_view trigger_id, bool enabled);

 private:
  Result<Json> Call(std::string_view method, const std::string& target, const Json* body);

  std::unique_ptr<Transport> transport_;
  std::string user_;
};

// Records from the API's JSON (see api/v1/trigger_routes.h).
store::TriggerRecord TriggerFromJson(const Json& j);
store::TriggerFiring TriggerFiringFromJson(const Json& j);
store::PipelineDefinition PipelineDefinitionFromJson(const Json& j);

}  // namespace cairn::client
