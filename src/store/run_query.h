// Parsed search queries (MLflow's filter grammar after parsing), executed by the metadata store.
#pragma once

#include <cstdint>
#include <string>
#include <variant>
#include <vector>

#include "store/records.h"

namespace cairn::store {

enum class EntityKind { kMetric, kParam, kTag, kAttribute };
enum class CompareOp { kEq, kNe, kLt, kLe, kGt, kGe, kLike, kILike, kIn, kNotIn };

// One `kind.key OP value` term. Filters are conjunctions (AND) of terms.
// Run attributes (normalized names): string — run_id, run_name, status, user_id, artifact_uri,
// lifecycle_stage; numeric — start_time, end_time. Experiment attributes: string — name;
// numeric — creation_time, last_update_time.
// Value: double for metrics and numeric attributes; string for params, tags, string attributes;
// list of strings for IN / NOT IN. LIKE uses SQL wildcards (% and _), case-sensitive; ILIKE not.
struct Comparison {
  EntityKind kind = EntityKind::kAttribute;
  std::string key;
  CompareOp op = CompareOp::kEq;
  std::variant<double, std::string, std::vector<std::string>> value;
};

struct OrderKey {
  EntityKind kind = EntityKind::kAttribute;
  std::string key;
  bool ascending = true;
};

struct RunQuery {
  std::vector<std::string> experiment_ids;
  std::vector<Comparison> filter;
  ViewType view_type = ViewType::kActiveOnly;
  // Applied in order; then start_time DESC, run_id ASC break ties. Runs lacking an ordered
  // metric/param/tag sort after those that have it (whatever the direction); NaN metrics sort
  // after numbers.
  std::vector<OrderKey> order_by;
  int64_t offset = 0;
  int64_t max_results = 1000;
};

struct RunPage {
  std::vector<Run> runs;
  bool has_more = false;
};

struct ExperimentQuery {
  std::vector<Comparison> filter;  // attributes (name, creation_time, last_update_time) and tags
  ViewType view_type = ViewType::kActiveOnly;
  // Attributes name, experiment_id, creation_time, last_update_time; then MLflow's default
  // creation_time DESC, experiment_id ASC breaks ties.
  std::vector<OrderKey> order_by;
  int64_t offset = 0;
  int64_t max_results = 1000;
};

struct ExperimentPage {
  std::vector<Experiment> experiments;
  bool has_more = false;
};

struct MetricHistoryPage {
  std::vector<Metric> metrics;  // in the order logged
  bool has_more = false;
};

}  // namespace cairn::store
