// TrackingService: experiments, runs, params, metrics and tags with MLflow's rules (validation,
// limits, write-once params, generated run names, page tokens) over a MetadataStore.
#pragma once

#include <string>
#include <string_view>

#include "core/clock.h"
#include "core/result.h"
#include "store/metadata_store.h"
#include "tracking/tracking_types.h"

namespace cairn::tracking {

// Thread-safe (as the store is). Validation failures are kInvalidArgument naming the field.
class TrackingService {
 public:
  TrackingService(store::MetadataStore& store, const Clock& clock) : store_(store), clock_(clock) {}

  // Experiments.
  Result<std::string> CreateExperiment(std::string_view name, std::string_view artifact_location,
                                       std::vector<store::Tag> tags);
  Result<store::Experiment> GetExperiment(std::string_view experiment_id);
  Result<store::Experiment> GetExperimentByName(std::string_view name);
  Result<SearchExperimentsResponse> SearchExperiments(const SearchExperimentsRequest& request);
  Status RenameExperiment(std::string_view experiment_id, std::string_view new_name);
  Status DeleteExperiment(std::string_view experiment_id);
  Status RestoreExperiment(std::string_view experiment_id);
  Status SetExperimentTag(std::string_view experiment_id, store::Tag tag);

  // Runs.
  Result<store::Run> CreateRun(CreateRunRequest request);
  Result<store::Run> GetRun(std::string_view run_id);
  Result<store::RunInfo> UpdateRun(store::RunUpdate update);
  Status DeleteRun(std::string_view run_id);
  Status RestoreRun(std::string_view run_id);
  Status LogBatch(const LogBatchRequest& request);
  Status LogMetric(std::string_view run_id, store::Metric metric);
  Status LogParam(std::string_view run_id, store::Param param);
  Status SetTag(std::string_view run_id, store::Tag tag);
  Status DeleteTag(std::string_view run_id, std::string_view key);
  Status LogInputs(std::string_view run_id, const std::vector<store::DatasetInput>& inputs);
  // Appends `model_json` (a JSON object) to the run's mlflow.log-model.history tag.
  Status LogModel(std::string_view run_id, std::string_view model_json);
  Result<MetricHistoryResponse> GetMetricHistory(const MetricHistoryRequest& request);
  Result<SearchRunsResponse> SearchRuns(const SearchRunsRequest& request);

 private:
  store::MetadataStore& store_;
  const Clock& clock_;
};

// Validation shared with other services (exposed for tests).
Status ValidateKey(std::string_view what, std::string_view key);
Status ValidateLogBatch(const LogBatchRequest& request);
std::string GenerateRunName();
// Page tokens are opaque to clients: base64 of {"offset": N}.
std::string EncodePageToken(int64_t offset);
Result<int64_t> DecodePageToken(std::string_view token);

}  // namespace cairn::tracking
