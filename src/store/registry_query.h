// Parsed model-registry searches (MLflow's registry filter grammar after parsing), executed by the
// metadata store.
#pragma once

#include <cstdint>
#include <vector>

#include "store/records.h"
#include "store/run_query.h"

namespace cairn::store {

// Registered models. Filter terms: attribute `name` (= != LIKE ILIKE IN NOT IN), tags (= != LIKE
// ILIKE). Order keys (attributes): name, creation_timestamp, last_updated_timestamp; then name
// ASC breaks ties.
struct RegisteredModelQuery {
  std::vector<Comparison> filter;
  std::vector<OrderKey> order_by;
  int64_t offset = 0;
  int64_t max_results = 100;
};

struct RegisteredModelPage {
  std::vector<RegisteredModel> models;
  bool has_more = false;
};

// Model versions. Filter terms: string attributes name, run_id, source_path (the source as given)
// with = != LIKE ILIKE IN NOT IN; numeric attribute version_number; tags (= != LIKE ILIKE).
// Order keys (attributes): name, version_number, creation_timestamp, last_updated_timestamp; then
// name ASC, version_number DESC break ties (MLflow's order).
struct ModelVersionQuery {
  std::vector<Comparison> filter;
  std::vector<OrderKey> order_by;
  int64_t offset = 0;
  int64_t max_results = 1000;
};

struct ModelVersionPage {
  std::vector<ModelVersion> versions;
  bool has_more = false;
};

}  // namespace cairn::store
