// Parser of MLflow's search-filter and order_by grammar (SearchUtils in MLflow 2.9) into store
// queries.
#pragma once

#include <string_view>
#include <vector>

#include "core/result.h"
#include "store/run_query.h"

namespace cairn::tracking {

// Grammar (keywords and word operators are case-insensitive):
//   filter     := "" | clause (AND clause)*          — no OR, no parentheses, no ';'
//   clause     := identifier op value | identifier [NOT] IN "(" string ("," string)* ")"
//   identifier := [entity "."] key                   — no entity means "attribute"
//   key        := bare name (may contain dots) | "quoted" | `quoted`
//   value      := number | 'string' | "string"
// Entities: metric(s), param(s)/parameter(s), tag(s), attribute(s)/attr/run. Keys are returned
// unquoted; attribute keys are normalized (created/Created → start_time, "run name" → run_name).
// Every error is kInvalidArgument with MLflow's message; user text echoed in a message is
// truncated. Never crashes on hostile input; linear time.

// Parses a run-search filter ("metrics.auc > 0.9 and params.depth = '6'"). Empty → no terms.
// metrics and numeric attributes (start_time, end_time, created): = != > >= < <= with a number;
// params and tags: = != LIKE ILIKE with a quoted string; string attributes (run_id, run_name,
// status, user_id, artifact_uri, lifecycle_stage): those and IN / NOT IN with a list of strings.
Result<std::vector<store::Comparison>> ParseRunFilter(std::string_view filter);

// Parses one order_by clause: `identifier [ASC|DESC]` ("metrics.auc DESC",
// "attributes.start_time", "params.`a b` asc"); ascending by default. Like MLflow, rejects
// leading or trailing whitespace.
Result<store::OrderKey> ParseRunOrderBy(std::string_view clause);

// Parses an experiment-search filter: attributes name (= != LIKE ILIKE), creation_time and
// last_update_time (numeric); tags (= != LIKE ILIKE). Entities: attribute(s), tag(s).
Result<std::vector<store::Comparison>> ParseExperimentFilter(std::string_view filter);

// Parses one experiment order_by clause; attributes name, experiment_id, creation_time,
// last_update_time only.
Result<store::OrderKey> ParseExperimentOrderBy(std::string_view clause);

// Model registry searches. Entities: attribute (the default), tag(s).
// Registered models: attribute name (= != LIKE ILIKE), tags (= != LIKE ILIKE); order_by name,
// creation_timestamp, last_updated_timestamp (alias timestamp).
Result<std::vector<store::Comparison>> ParseRegisteredModelFilter(std::string_view filter);
Result<store::OrderKey> ParseRegisteredModelOrderBy(std::string_view clause);
// Model versions: string attributes name, run_id, source_path (also IN / NOT IN), numeric
// version_number, tags; order_by name, version_number, creation_timestamp,
// last_updated_timestamp.
Result<std::vector<store::Comparison>> ParseModelVersionFilter(std::string_view filter);
Result<store::OrderKey> ParseModelVersionOrderBy(std::string_view clause);

}  // namespace cairn::tracking
