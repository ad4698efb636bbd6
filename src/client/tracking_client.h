// TrackingClient: a typed C++ client of the MLflow REST API 2.0 tracking calls and the artifact
// proxy, as served by `cairn server` (or MLflow's own server).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "client/mlflow_json.h"
#include "client/transport.h"
#include "client/types.h"
#include "core/clock.h"
#include "core/result.h"

namespace cairn::client {

// Each call is one HTTP exchange (the recursive artifact helpers make several). Server errors come
// back as Status (see StatusFromHttpError); an unreachable server is kUnavailable. Not
// thread-safe: use one client per thread.
class TrackingClient {
 public:
  // Connects to the server at `tracking_uri` ("http://host:port", see ResolveTrackingUri).
  static Result<std::unique_ptr<TrackingClient>> Connect(
      std::string_view tracking_uri, const Clock& clock = SystemClock::Instance());
  explicit TrackingClient(std::unique_ptr<Transport> transport,
                          const Clock& clock = SystemClock::Instance());

  // --- Experiments ---------------------------------------------------------------------------
  // Returns the new experiment's id; kAlreadyExists if the name is taken.
  Result<std::string> CreateExperiment(std::string_view name,
                                       std::string_view artifact_location = {},
                                       const std::vector<Tag>& tags = {});
  Result<Experiment> GetExperiment(std::string_view experiment_id);
  Result<Experiment> GetExperimentByName(std::string_view name);
  // By name first, then by id; kNotFound if neither names an experiment.
  Result<Experiment> GetExperimentByNameOrId(std::string_view name_or_id);
  // One page of experiments/search.
  Result<ExperimentsPage> SearchExperiments(const SearchExperimentsRequest& req);
  // Follows page tokens until `limit` experiments (0: no limit) or the last page.
  Result<std::vector<Experiment>> SearchAllExperiments(SearchExperimentsRequest req,
                                                       size_t limit = 0);
  Status RenameExperiment(std::string_view experiment_id, std::string_view new_name);
  Status DeleteExperiment(std::string_view experiment_id);
  Status RestoreExperiment(std::string_view experiment_id);
  Status SetExperimentTag(std::string_view experiment_id, std::string_view key,
                          std::string_view value);

  // --- Runs ----------------------------------------------------------------------------------
  Result<Run> CreateRun(const CreateRunRequest& req);
  Result<Run> GetRun(std::string_view run_id);
  // Sets the fields that are present; returns the updated run info.
  Result<RunInfo> UpdateRun(const RunUpdate& update);
  Status DeleteRun(std::string_view run_id);
  Status RestoreRun(std::string_view run_id);
  // A metric timestamp of 0 means now (the client's clock).
  Status LogMetric(std::string_view run_id, const Metric& metric);
  Status LogParam(std::string_view run_id, std::string_view key, std::string_view value);
  Status SetTag(std::string_view run_id, std::string_view key, std::string_view value);
  Status DeleteTag(std::string_view run_id, std::string_view key);
  // One log-batch request; the server enforces MLflow's limits (1000 metrics, 100 params, …).
  Status LogBatch(std::string_view run_id, const std::vector<Metric>& metrics,
                  const std::vector<Param>& params = {}, const std::vector<Tag>& tags = {});
  Status LogInputs(std::string_view run_id, const std::vector<DatasetInput>& datasets);
  // runs/log-model: records a logged model (MLflow's model JSON) in the run's
  // mlflow.log-model.history tag.
  Status LogModel(std::string_view run_id, const Json& model);
  // One page of runs/search.
  Result<RunsPage> SearchRuns(const SearchRunsRequest& req);
  // Follows page tokens until `limit` runs (0: no limit) or the last page.
  Result<std::vector<Run>> SearchAllRuns(SearchRunsRequest req, size_t limit = 0);
  // One page of a metric's history (max_results 0: the server's default).
  Result<MetricHistoryPage> GetMetricHistory(std::string_view run_id, std::string_view key,
                                             int64_t max_results = 0,
                                             std::string_view page_token = {});
  // The whole history, all pages.
  Result<std::vector<Metric>> GetFullMetricHistory(std::string_view run_id, std::string_view key);

  // --- Artifacts through the tracking API ---------------------------------------------------
  // One page of artifacts/list for the directory `path` of the run ("" : the root).
  Result<ArtifactListing> ListArtifacts(std::string_view run_id, std::string_view path = {},
                                        std::string_view page_token = {});
  // All pages of one directory.
  Result<std::vector<FileInfo>> ListAllArtifacts(std::string_view run_id,
                                                 std::string_view path = {});

  // --- Artifact proxy: `proxy_path` is relative to /api/2.0/mlflow-artifacts/artifacts -------
  // (e.g. "1/<run>/artifacts/model/x.bin"; segments are percent-encoded here).
  Status ProxyUpload(std::string_view proxy_path, const std::string& local_file);
  Status ProxyDownload(std::string_view proxy_path, const std::string& local_file);
  Result<std::vector<FileInfo>> ProxyList(std::string_view proxy_path);
  Status ProxyDelete(std::string_view proxy_path);

  // --- Run artifacts (the run's mlflow-artifacts:/ URI mapped onto the proxy) ----------------
  // Uploads one file as `artifact_path` (the file's full path in the run, e.g. "model/x.bin").
  Status UploadRunArtifact(const RunInfo& run, const std::string& local_file,
                           std::string_view artifact_path);
  // Downloads the file `artifact_path` of the run to `local_file`.
  Status DownloadRunArtifact(const RunInfo& run, std::string_view artifact_path,
                             const std::string& local_file);
  // Uploads a file as `artifact_dir`/<its name>, or a directory's contents recursively under
  // `artifact_dir` (like mlflow.log_artifact / log_artifacts). Returns the artifact paths written.
  Result<std::vector<std::string>> UploadArtifacts(std::string_view run_id,
                                                   const std::string& local_path,
                                                   std::string_view artifact_dir = {});
  // Downloads the file or directory `artifact_path` ("" : everything) to `dest_dir`/`artifact_path`
  // (like mlflow.artifacts.download_artifacts). Returns the local files written.
  Result<std::vector<std::string>> DownloadArtifacts(std::string_view run_id,
                                                     std::string_view artifact_path,
                                                     const std::string& dest_dir);

 private:
  // A call under /api/2.0/mlflow/<endpoint>: GET with `query`, or POST/… with a JSON body.
  Result<Json> Call(std::string_view method, std::string_view endpoint, const Json* body,
                    std::string_view query = {});
  Result<Json> Get(std::string_view endpoint, std::string_view query) {
    return Call("GET", endpoint, nullptr, query);
  }
  Result<Json> Post(std::string_view endpoint, const Json& body) {
    return Call("POST", endpoint, &body);
  }
  Status PostStatus(std::string_view endpoint, const Json& body);

  std::unique_ptr<Transport> transport_;
  const Clock& clock_;
};

}  // namespace cairn::client
