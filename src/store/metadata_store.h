// MetadataStore: the workspace's durable metadata (experiments, runs, metric histories, artifact
// index, dataset versions). One interface; backends (SQLite now, PostgreSQL later) pass the same
// conformance suite.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"
#include "store/records.h"
#include "store/run_query.h"

namespace cairn::store {

// Thread-safe. Every mutating call is durable (committed) when it returns OK: a process crash
// afterwards loses nothing. Callers validate formats and limits; the store enforces existence,
// uniqueness, lifecycle and write-once rules atomically. Errors: kNotFound for unknown ids,
// kAlreadyExists for taken names, kInvalidArgument for rule violations (inactive run, changed
// param), kInternal for storage failures.
class MetadataStore {
 public:
  virtual ~MetadataStore() = default;

  // --- experiments ---------------------------------------------------------------------------
  // Creates an experiment; returns its id. kAlreadyExists if any experiment (even a deleted
  // one) has the name.
  virtual Result<std::string> CreateExperiment(const NewExperiment& experiment) = 0;
  virtual Result<Experiment> GetExperiment(std::string_view experiment_id) = 0;
  // Finds active and deleted experiments alike.
  virtual Result<Experiment> GetExperimentByName(std::string_view name) = 0;
  virtual Result<ExperimentPage> SearchExperiments(const ExperimentQuery& query) = 0;
  // kInvalidArgument if the experiment is deleted; kAlreadyExists if the name is taken.
  virtual Status RenameExperiment(std::string_view experiment_id, std::string_view new_name,
                                  int64_t time) = 0;
  // Deleting an experiment deletes its runs; restoring restores them.
  virtual Status SetExperimentLifecycle(std::string_view experiment_id, LifecycleStage stage,
                                        int64_t time) = 0;
  // Upserts a tag. kInvalidArgument if the experiment is deleted.
  virtual Status SetExperimentTag(std::string_view experiment_id, const Tag& tag) = 0;

  // --- runs ----------------------------------------------------------------------------------
  // kNotFound if the experiment does not exist; kInvalidArgument if it is deleted. The run's
  // artifact_uri is "<experiment artifact_location>/<run_id>/artifacts".
  virtual Result<Run> CreateRun(const NewRun& run) = 0;
  virtual Result<Run> GetRun(std::string_view run_id) = 0;
  virtual Result<RunInfo> UpdateRun(const RunUpdate& update) = 0;
  virtual Status SetRunLifecycle(std::string_view run_id, LifecycleStage stage) = 0;
  // Atomically appends metrics to their histories (updating each key's latest value), writes
  // params (write-once: the same value again is fine, a different one — stored or within the
  // batch — is kInvalidArgument naming the key) and upserts tags. kInvalidArgument if the run
  // is deleted; nothing is written on any error.
  virtual Status LogBatch(std::string_view run_id, const std::vector<Metric>& metrics,
                          const std::vector<Param>& params, const std::vector<Tag>& tags) = 0;
  // kNotFound if the tag is absent.
  virtual Status DeleteTag(std::string_view run_id, std::string_view key) = 0;
  // Records dataset inputs; the same (name, digest) twice for a run is recorded once.
  virtual Status LogInputs(std::string_view run_id, const std::vector<DatasetInput>& inputs) = 0;
  // A metric's full history, in logged order, paged by offset. Unknown key: empty page.
  virtual Result<MetricHistoryPage> GetMetricHistory(std::string_view run_id,
                                                     std::string_view key, int64_t offset,
                                                     int64_t max_results) = 0;
  virtual Result<RunPage> SearchRuns(const RunQuery& query) = 0;

  // --- artifact index (path → blob digest) ---------------------------------------------------
  // Adds or replaces the file at `path`.
  virtual Status PutArtifact(const ArtifactEntry& entry) = 0;
  // The file at `path`; kNotFound if there is none (directories are not files).
  virtual Result<ArtifactEntry> GetArtifact(std::string_view path) = 0;
  // Direct children of directory `dir` ("" is the root): files, and subdirectories (is_dir)
  // derived from deeper paths; sorted by path. Empty when nothing is under `dir`.
  virtual Result<std::vector<ArtifactEntry>> ListArtifacts(std::string_view dir) = 0;
  // Removes the file at `path`, or every file under it when it is a directory. kNotFound if
  // nothing matched.
  virtual Status DeleteArtifacts(std::string_view path) = 0;

  // --- datasets (immutable, numbered versions per name) -------------------------------------
  // Records the next version of dataset `v.name` (1 for a new name), ignoring `v.version`;
  // `v.creation_time` 0 means now. If the latest version of the name has the same version_id,
  // records nothing and returns that version with created=false. Only the latest counts: content
  // equal to an older version makes a new version. Concurrent calls on one name get distinct,
  // consecutive numbers. The caller validates names.
  virtual Result<CreatedDatasetVersion> CreateDatasetVersion(const DatasetVersion& v) = 0;
  // Version `version` of dataset `name`, or its latest when nullopt. kNotFound naming the dataset
  // ("dataset 'x' does not exist") or the version ("dataset 'x' has no version v7 (latest is
  // v3)").
  virtual Result<DatasetVersion> GetDatasetVersion(std::string_view name,
                                                   std::optional<int64_t> version) = 0;
  // Every dataset, sorted by name. Empty when there are none.
  virtual Result<std::vector<DatasetSummary>> ListDatasets() = 0;
  // Every version of dataset `name`, newest first. kNotFound if the dataset does not exist.
  virtual Result<std::vector<DatasetVersion>> ListDatasetVersions(std::string_view name) = 0;
};

}  // namespace cairn::store
