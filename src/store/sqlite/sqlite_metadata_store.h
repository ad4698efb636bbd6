// SqliteMetadataStore: the MetadataStore on one SQLite database file (WAL mode).
#pragma once

#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "core/clock.h"
#include "core/result.h"
#include "store/metadata_store.h"

struct sqlite3;  // from sqlite3.h, which only the .cc includes

namespace cairn::store {

namespace sqlite_internal {
class Connection;
}  // namespace sqlite_internal

// Writes go through one connection, group-committed (concurrent writers share one transaction,
// each in its own savepoint), acknowledged after COMMIT (WAL, synchronous=NORMAL: a process crash loses nothing acknowledged). Reads use
// a pool of connections, each read in one snapshot transaction, so reads proceed during writes.
// WAL checkpoints (the only fsyncs) run on a background thread, off the write path.
// Metric histories are stored as packed blocks (one row per key per LogBatch call), with the
// latest value per key kept in its own indexed table for search.
class SqliteMetadataStore : public MetadataStore {
 public:
  // Opens (creating if needed) the database at `db_path`, applies pending schema migrations and
  // makes sure the Default experiment (id "0", artifact location "<root>/0") exists.
  // kFailedPrecondition if the database was written by a newer schema version.
  static Result<std::unique_ptr<SqliteMetadataStore>> Open(
      const std::string& db_path, const Clock& clock,
      std::string default_artifact_root = "mlflow-artifacts:");
  ~SqliteMetadataStore() override;

  // Number of schema migrations recorded in the database / known to this build.
  Result<int> SchemaVersion();
  static int LatestSchemaVersion();

  Result<std::string> CreateExperiment(const NewExperiment& experiment) override;
  Result<Experiment> GetExperiment(std::string_view experiment_id) override;
  Result<Experiment> GetExperimentByName(std::string_view name) override;
  Result<ExperimentPage> SearchExperiments(const ExperimentQuery& query) override;
  Status RenameExperiment(std::string_view experiment_id, std::string_view new_name,
                          int64_t time) override;
  Status SetExperimentLifecycle(std::string_view experiment_id, LifecycleStage stage,
                                int64_t time) override;
  Status SetExperimentTag(std::string_view experiment_id, const Tag& tag) override;

  Result<Run> CreateRun(const NewRun& run) override;
  Result<Run> GetRun(std::string_view run_id) override;
  Result<RunInfo> UpdateRun(const RunUpdate& update) override;
  Status SetRunLifecycle(std::string_view run_id, LifecycleStage stage) override;
  Status LogBatch(std::string_view run_id, const std::vector<Metric>& metrics,
                  const std::vector<Param>& params, const std::vector<Tag>& tags) override;
  Status DeleteTag(std::string_view run_id, std::string_view key) override;
  Status LogInputs(std::string_view run_id, const std::vector<DatasetInput>& inputs) override;
  Result<MetricHistoryPage> GetMetricHistory(std::string_view run_id, std::string_view key,
                                             int64_t offset, int64_t max_results) override;
  Result<RunPage> SearchRuns(const RunQuery& query) override;

  Status PutArtifact(const ArtifactEntry& entry) override;
  Result<ArtifactEntry> GetArtifact(std::string_view path) override;
  Result<std::vector<ArtifactEntry>> ListArtifacts(std::string_view dir) override;
  Status DeleteArtifacts(std::string_view path) override;

  Result<CreatedDatasetVersion> CreateDatasetVersion(const DatasetVersion& v) override;
  Result<DatasetVersion> GetDatasetVersion(std::string_view name,
                                           std::optional<int64_t> version) override;
  Result<std::vector<DatasetSummary>> ListDatasets() override;
  Result<std::vector<DatasetVersion>> ListDatasetVersions(std::string_view name) override;

  Result<RegisteredModel> CreateRegisteredModel(const RegisteredModel& model) override;
  Result<RegisteredModel> GetRegisteredModel(std::string_view name) override;
  Result<RegisteredModel> UpdateRegisteredModel(std::string_view name,
                                                std::string_view description,
                                                int64_t time) override;
  Result<RegisteredModel> RenameRegisteredModel(std::string_view name, std::string_view new_name,
                                                int64_t time) override;
  Status DeleteRegisteredModel(std::string_view name) override;
  Result<RegisteredModelPage> SearchRegisteredModels(const RegisteredModelQuery& query) override;
  Status SetRegisteredModelTag(std::string_view name, const Tag& tag) override;
  Status DeleteRegisteredModelTag(std::string_view name, std::string_view key) override;
  Result<ModelVersion> CreateModelVersion(const ModelVersion& v) override;
  Result<ModelVersion> GetModelVersion(std::string_view name, int64_t version) override;
  Result<ModelVersion> UpdateModelVersion(std::string_view name, int64_t version,
                                          std::string_view description, int64_t time) override;
  Result<ModelVersion> TransitionModelVersionStage(std::string_view name, int64_t version,
                                                   ModelStage stage, bool archive_existing,
                                                   int64_t time) override;
  Status DeleteModelVersion(std::string_view name, int64_t version, int64_t time) override;
  Result<ModelVersionPage> SearchModelVersions(const ModelVersionQuery& query) override;
  Status SetModelVersionTag(std::string_view name, int64_t version, const Tag& tag) override;
  Status DeleteModelVersionTag(std::string_view name, int64_t version,
                               std::string_view key) override;
  Status SetRegisteredModelAlias(std::string_view name, std::string_view alias,
                                 int64_t version) override;
  Status DeleteRegisteredModelAlias(std::string_view name, std::string_view alias) override;
  Result<ModelVersion> GetModelVersionByAlias(std::string_view name,
                                              std::string_view alias) override;

  Result<Endpoint> CreateEndpoint(const Endpoint& endpoint) override;
  Result<Endpoint> GetEndpoint(std::string_view name) override;
  Result<std::vector<Endpoint>> ListEndpoints() override;
  Result<Endpoint> UpdateEndpoint(std::string_view name, std::string_view description,
                                  double sample_rate, int64_t time) override;
  Status DeleteEndpoint(std::string_view name) override;
  Result<Endpoint> SetEndpointTraffic(std::string_view name, const EndpointTraffic& traffic,
                                      int64_t time) override;
  Result<Deployment> CreateDeployment(const Deployment& d) override;
  Result<Deployment> GetDeployment(std::string_view endpoint, std::string_view name) override;
  Result<std::vector<Deployment>> ListDeployments(std::string_view endpoint) override;
  Result<Deployment> UpdateDeployment(const Deployment& d, int64_t time) override;
  Status DeleteDeployment(std::string_view endpoint, std::string_view name) override;

  Status CreateJob(const JobRecord& job) override;
  Result<JobRecord> GetJob(std::string_view job_id) override;
  Status UpdateJob(const JobRecord& job) override;
  Result<std::vector<JobRecord>> ListJobs(const JobQuery& query) override;

  Result<PipelineRun> CreatePipelineRun(const PipelineRun& run) override;
  Result<PipelineRun> GetPipelineRun(std::string_view run_id) override;
  Result<std::vector<PipelineRun>> ListPipelineRuns(const PipelineRunQuery& query) override;
  Result<PipelineRun> UpdatePipelineRun(const PipelineRunUpdate& update) override;
  Result<StepRun> UpdateStepRun(const StepRunUpdate& update) override;
  Status AppendStepLog(std::string_view run_id, std::string_view step_id,
                       std::string_view text) override;
  Result<std::string> GetStepLog(std::string_view run_id, std::string_view step_id) override;

  // --- monitoring ---
  Status PutMonitorConfig(const MonitorConfigRecord& config) override;
  Result<MonitorConfigRecord> GetMonitorConfig(std::string_view endpoint) override;
  Result<std::vector<MonitorConfigRecord>> ListMonitorConfigs() override;
  Status CreateMonitorReport(const MonitorReportRecord& report) override;
  Result<MonitorReportRecord> GetMonitorReport(std::string_view endpoint,
                                               std::string_view report_id) override;
  Result<std::vector<MonitorReportRecord>> ListMonitorReports(
      const MonitorReportQuery& query) override;
  Result<int64_t> PutFeedbackLabels(const std::vector<FeedbackLabel>& labels) override;
  Result<std::vector<FeedbackLabel>> GetFeedbackLabels(
      std::string_view endpoint, const std::vector<std::string>& request_ids) override;
  Result<int64_t> CountFeedbackLabels(std::string_view endpoint) override;
  // --- end monitoring ---

  // --- triggers ---
  Result<PipelineDefinition> PutPipelineDefinition(
      const PipelineDefinition& def, const std::vector<TriggerRecord>& triggers) override;
  Result<PipelineDefinition> GetPipelineDefinition(std::string_view name) override;
  Result<std::vector<PipelineDefinition>> ListPipelineDefinitions() override;
  Status DeletePipelineDefinition(std::string_view name) override;
  Result<std::vector<TriggerRecord>> ListTriggers(std::string_view pipeline) override;
  Result<TriggerRecord> GetTrigger(std::string_view trigger_id) override;
  Result<TriggerRecord> UpdateTrigger(const TriggerUpdate& update) override;
  Result<TriggerFiring> RecordTriggerFiring(const TriggerFiring& firing,
                                            const TriggerUpdate& update) override;
  Result<std::vector<TriggerFiring>> ListTriggerFirings(std::string_view trigger_id,
                                                        int64_t max_results) override;
  // --- end triggers ---

 private:
  using Connection = sqlite_internal::Connection;
  SqliteMetadataStore(std::string db_path, const Clock& clock, std::string artifact_root,
                      std::unique_ptr<Connection> writer);

  // Runs `fn` in a write transaction; nothing of it stays on any error. Concurrent callers are
  // group-committed: one transaction, one savepoint per caller, each acknowledged after COMMIT.
  Status Write(const std::function<Status(Connection&)>& fn);
  struct PendingWrite {
    const std::function<Status(Connection&)>* fn;
    Status status;
    bool done = false;
  };
  void CommitBatch(const std::vector<PendingWrite*>& batch);
  // Runs `fn` in a read transaction on a pooled connection (one consistent snapshot).
  Status Read(const std::function<Status(Connection&)>& fn);

  std::string db_path_;
  const Clock& clock_;
  std::string artifact_root_;  // without a trailing '/'

  std::mutex queue_mu_;
  std::condition_variable queue_cv_;
  std::vector<PendingWrite*> queue_;
  bool leader_active_ = false;

  std::mutex write_mu_;
  std::unique_ptr<Connection> writer_;

  std::mutex pool_mu_;
  std::vector<std::unique_ptr<Connection>> idle_readers_;

  // Background checkpointer, woken by the writer's WAL hook when the WAL grows.
  void CheckpointLoop(std::unique_ptr<Connection> conn);
  static int OnWalCommit(void* self, ::sqlite3* db, const char* name, int pages);
  std::mutex checkpoint_mu_;
  std::condition_variable checkpoint_cv_;
  bool checkpoint_wanted_ = false;
  bool stopping_ = false;
  std::thread checkpointer_;
};

}  // namespace cairn::store
