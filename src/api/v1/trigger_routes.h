// Registers Cairn's native API for stored pipelines and their retraining triggers:
//   POST   /api/v1/pipelines/definitions                 store a pipeline: {"yaml", "file"}; a
//                                                        name already stored gets a new revision
//   GET    /api/v1/pipelines/definitions                 {"definitions": […]} by name
//   GET    /api/v1/pipelines/definitions/{name}          {"definition" (with spec), "triggers"}
//   DELETE /api/v1/pipelines/definitions/{name}          with its triggers and their firings
//   POST   /api/v1/pipelines/definitions/{name}/runs     start a run: {"params": {K: V}}
//   GET    /api/v1/triggers                              {"triggers": […]} (?pipeline=NAME)
//   GET    /api/v1/triggers/{pipeline}/{kind}            one trigger with its recent firings
//   POST   /api/v1/triggers/{pipeline}/{kind}/enable
//   POST   /api/v1/triggers/{pipeline}/{kind}/disable
// A trigger id is "<pipeline>/<kind>" ("…/drift-2" for a second of a kind), hence two path
// segments. Who acts is the x-cairn-user header. Errors are MLflow's JSON.
#pragma once

#include <nlohmann/json.hpp>

#include "http/router.h"
#include "triggers/trigger_service.h"

namespace cairn::api::v1 {

// The service must outlive the router.
void RegisterTriggerRoutes(http::Router& router, triggers::TriggerService& service);

// The JSON of a trigger (as listed), a firing and a stored pipeline (`with_spec` adds the YAML).
nlohmann::json TriggerToJson(const store::TriggerRecord& trigger);
nlohmann::json TriggerFiringToJson(const store::TriggerFiring& firing);
nlohmann::json PipelineDefinitionToJson(const store::PipelineDefinition& def, bool with_spec);

}  // namespace cairn::api::v1
