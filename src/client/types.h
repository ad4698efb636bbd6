// Request and result types of the tracking client; entities reuse store/records.h and wire.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "store/records.h"
#include "wire/mlflow_entities.h"

namespace cairn::client {

using store::DatasetInput;
using store::Experiment;
using store::LifecycleStage;
using store::Metric;
using store::Param;
using store::Run;
using store::RunInfo;
using store::RunStatus;
using store::RunUpdate;
using store::Tag;
using store::ViewType;

struct SearchExperimentsRequest {
  int64_t max_results = 1000;
  std::string page_token;
  std::string filter;
  std::vector<std::string> order_by;
  ViewType view_type = ViewType::kActiveOnly;
};

struct ExperimentsPage {
  std::vector<Experiment> experiments;
  std::string next_page_token;  // empty on the last page
};

struct CreateRunRequest {
  std::string experiment_id;
  std::string run_name;               // empty: the server picks one
  std::optional<int64_t> start_time;  // unset: now (the client's clock)
  std::vector<Tag> tags;
  std::string user_id;
};

struct SearchRunsRequest {
  std::vector<std::string> experiment_ids;
  std::string filter;
  ViewType run_view_type = ViewType::kActiveOnly;
  int64_t max_results = 1000;
  std::vector<std::string> order_by;
  std::string page_token;
};

struct RunsPage {
  std::vector<Run> runs;
  std::string next_page_token;
};

struct MetricHistoryPage {
  std::vector<Metric> metrics;
  std::string next_page_token;
};

// One entry of an artifact listing; paths are relative to the run's artifact root (tracking
// list) or to the listed directory (proxy list), as the server answers.
using wire::FileInfo;

struct ArtifactListing {
  std::string root_uri;  // tracking list only
  std::vector<FileInfo> files;
  std::string next_page_token;
};

}  // namespace cairn::client
