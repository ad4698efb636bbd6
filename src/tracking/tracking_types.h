// Request types of the tracking service (what the API layer parses wire formats into).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "store/records.h"

namespace cairn::tracking {

struct CreateRunRequest {
  std::string experiment_id;  // empty: the Default experiment "0"
  std::string run_name;       // empty: a generated name such as "brave-owl-417"
  std::string user_id;
  std::optional<int64_t> start_time;  // ms; default now
  std::vector<store::Tag> tags;
};

struct LogBatchRequest {
  std::string run_id;
  std::vector<store::Metric> metrics;
  std::vector<store::Param> params;
  std::vector<store::Tag> tags;
};

struct SearchRunsRequest {
  std::vector<std::string> experiment_ids;
  std::string filter;
  store::ViewType view_type = store::ViewType::kActiveOnly;
  int64_t max_results = 1000;
  std::vector<std::string> order_by;
  std::string page_token;
};

struct SearchRunsResponse {
  std::vector<store::Run> runs;
  std::string next_page_token;  // empty on the last page
};

struct SearchExperimentsRequest {
  std::string filter;
  store::ViewType view_type = store::ViewType::kActiveOnly;
  int64_t max_results = 1000;
  std::vector<std::string> order_by;
  std::string page_token;
};

struct SearchExperimentsResponse {
  std::vector<store::Experiment> experiments;
  std::string next_page_token;
};

struct MetricHistoryRequest {
  std::string run_id;
  std::string metric_key;
  std::optional<int64_t> max_results;  // unset: the whole history
  std::string page_token;
};

struct MetricHistoryResponse {
  std::vector<store::Metric> metrics;
  std::string next_page_token;
};

// MLflow's documented limits.
inline constexpr size_t kMaxMetricsPerBatch = 1000;
inline constexpr size_t kMaxParamsPerBatch = 100;
inline constexpr size_t kMaxTagsPerBatch = 100;
inline constexpr size_t kMaxEntitiesPerBatch = 1000;
inline constexpr size_t kMaxKeyLength = 250;
inline constexpr size_t kMaxParamValueLength = 6000;
inline constexpr size_t kMaxTagValueLength = 8000;
inline constexpr size_t kMaxExperimentNameLength = 500;
inline constexpr int64_t kMaxSearchResults = 50000;

}  // namespace cairn::tracking
