// MetadataStore: the workspace's durable metadata (experiments, runs, metric histories, artifact
// index, dataset versions, model registry). One interface; backends (SQLite now, PostgreSQL later) pass the same
// conformance suite.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"
#include "store/job_records.h"
#include "store/pipeline_records.h"
#include "store/records.h"
#include "store/registry_query.h"
#include "store/run_query.h"
#include "store/trigger_records.h"

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
  // --- model registry (MLflow's registered models, versions, tags, aliases) -----------------
  // Names compare exactly. Version numbers are assigned by the store: 1 for a model's first
  // version, then one more than the highest ever assigned to it (a deleted version's number is
  // never reused; a deleted and re-created model starts again at 1). The caller validates names,
  // tags, aliases, stages and sources. `time` arguments of 0 mean now. Errors name the entity as
  // MLflow does: "Registered Model with name=x not found", "Model Version (name=x, version=3) not
  // found", "Registered model alias a not found.", "Registered Model (name=x) already exists."

  // Creates model `model.name` with its description and tags, created and last updated at
  // `model.creation_timestamp` (0: now); latest_versions and aliases are ignored. Returns the
  // stored model. kAlreadyExists if the name is taken.
  virtual Result<RegisteredModel> CreateRegisteredModel(const RegisteredModel& model) = 0;
  // The model with its tags, aliases and latest version per stage. kNotFound.
  virtual Result<RegisteredModel> GetRegisteredModel(std::string_view name) = 0;
  // Sets the description and last_updated_timestamp; returns the model. kNotFound.
  virtual Result<RegisteredModel> UpdateRegisteredModel(std::string_view name,
                                                        std::string_view description,
                                                        int64_t time) = 0;
  // Renames the model; its versions (last updated at `time` too), tags and aliases follow.
  // kNotFound; kAlreadyExists if another model has `new_name`.
  virtual Result<RegisteredModel> RenameRegisteredModel(std::string_view name,
                                                        std::string_view new_name,
                                                        int64_t time) = 0;
  // Deletes the model with its versions, tags and aliases. kNotFound.
  virtual Status DeleteRegisteredModel(std::string_view name) = 0;
  virtual Result<RegisteredModelPage> SearchRegisteredModels(
      const RegisteredModelQuery& query) = 0;
  // Upserts a model tag. kNotFound if there is no such model.
  virtual Status SetRegisteredModelTag(std::string_view name, const Tag& tag) = 0;
  // Removes the tag if present (an absent tag is fine, as in MLflow). kNotFound if no model.
  virtual Status DeleteRegisteredModelTag(std::string_view name, std::string_view key) = 0;

  // Records the next version of model `v.name` (v.version and v.aliases are ignored), created and
  // last updated at v.creation_timestamp (0: now), which also becomes the model's
  // last_updated_timestamp. Returns the stored version. kNotFound if there is no such model.
  // Concurrent calls on one model get distinct, consecutive numbers.
  virtual Result<ModelVersion> CreateModelVersion(const ModelVersion& v) = 0;
  // The version with its tags and aliases. kNotFound (also for an unknown model).
  virtual Result<ModelVersion> GetModelVersion(std::string_view name, int64_t version) = 0;
  // Sets the description and last_updated_timestamp; returns the version. kNotFound.
  virtual Result<ModelVersion> UpdateModelVersion(std::string_view name, int64_t version,
                                                  std::string_view description,
                                                  int64_t time) = 0;
  // Moves the version to `stage`. With `archive_existing`, the model's other versions in `stage`
  // move to Archived. Every version moved, and the model, are last updated at `time`. Returns the
  // version. kNotFound.
  virtual Result<ModelVersion> TransitionModelVersionStage(std::string_view name, int64_t version,
                                                           ModelStage stage,
                                                           bool archive_existing,
                                                           int64_t time) = 0;
  // Deletes the version with its tags and the aliases pointing at it; the model is last updated
  // at `time`. kNotFound.
  virtual Status DeleteModelVersion(std::string_view name, int64_t version, int64_t time) = 0;
  virtual Result<ModelVersionPage> SearchModelVersions(const ModelVersionQuery& query) = 0;
  // Upserts a version tag. kNotFound.
  virtual Status SetModelVersionTag(std::string_view name, int64_t version, const Tag& tag) = 0;
  // Removes the tag if present. kNotFound if there is no such version.
  virtual Status DeleteModelVersionTag(std::string_view name, int64_t version,
                                       std::string_view key) = 0;
  // Points `alias` at the version, moving it if it pointed elsewhere. kNotFound for an unknown
  // model or version.
  virtual Status SetRegisteredModelAlias(std::string_view name, std::string_view alias,
                                         int64_t version) = 0;
  // Removes the alias if present (absent is fine, as in MLflow). kNotFound if no model.
  virtual Status DeleteRegisteredModelAlias(std::string_view name, std::string_view alias) = 0;
  // The version `alias` points at. kNotFound for an unknown model or alias.
  virtual Result<ModelVersion> GetModelVersionByAlias(std::string_view name,
                                                      std::string_view alias) = 0;

  // --- endpoints and deployments ------------------------------------------------------------
  // Names compare exactly. The caller validates names, model URIs and the traffic rules (sums,
  // limits); the store enforces existence, uniqueness, and that a deployment taking traffic
  // stays. `time` arguments of 0 mean now. Errors name the entity: "endpoint 'x' does not
  // exist", "deployment 'blue' of endpoint 'x' does not exist".

  // Creates `endpoint.name` (traffic_version 0, no deployments), created and updated at
  // endpoint.creation_time (0: now). kAlreadyExists if the name is taken.
  virtual Result<Endpoint> CreateEndpoint(const Endpoint& endpoint) = 0;
  virtual Result<Endpoint> GetEndpoint(std::string_view name) = 0;
  // Every endpoint, sorted by name.
  virtual Result<std::vector<Endpoint>> ListEndpoints() = 0;
  // Sets the description and sample rate; returns the endpoint. kNotFound.
  virtual Result<Endpoint> UpdateEndpoint(std::string_view name, std::string_view description,
                                          double sample_rate, int64_t time) = 0;
  // Deletes the endpoint with its deployments. kNotFound.
  virtual Status DeleteEndpoint(std::string_view name) = 0;
  // Replaces the endpoint's traffic configuration in one transaction: the deployments named in
  // `traffic` get their live and mirrored percents, every other one 0, and traffic_version goes
  // up by one. kNotFound naming the endpoint, or a deployment it does not have (then nothing
  // changes). Returns the endpoint.
  virtual Result<Endpoint> SetEndpointTraffic(std::string_view name,
                                              const EndpointTraffic& traffic, int64_t time) = 0;

  // Adds deployment `d.name` to endpoint `d.endpoint`, taking no traffic (d.traffic and d.mirror
  // are ignored), created and updated at d.creation_time (0: now). kNotFound for an unknown
  // endpoint; kAlreadyExists if the endpoint has a deployment of that name.
  virtual Result<Deployment> CreateDeployment(const Deployment& d) = 0;
  virtual Result<Deployment> GetDeployment(std::string_view endpoint, std::string_view name) = 0;
  // The endpoint's deployments, sorted by name. kNotFound for an unknown endpoint.
  virtual Result<std::vector<Deployment>> ListDeployments(std::string_view endpoint) = 0;
  // Sets the model (model_uri, model_name, model_version, run_id, storage_location) and threads
  // of deployment (d.endpoint, d.name), updated at `time`; its traffic is kept. kNotFound.
  virtual Result<Deployment> UpdateDeployment(const Deployment& d, int64_t time) = 0;
  // kNotFound; kFailedPrecondition while it takes live or mirrored traffic.
  virtual Status DeleteDeployment(std::string_view endpoint, std::string_view name) = 0;

  // --- jobs (the job service's queue and history) --------------------------------------------
  // Records `job`; creation_time 0 means now. kAlreadyExists if the id is taken.
  virtual Status CreateJob(const JobRecord& job) = 0;
  // kNotFound "job 'x' does not exist".
  virtual Result<JobRecord> GetJob(std::string_view job_id) = 0;
  // Replaces every field of job `job.job_id` but its id, name, spec and creation time.
  // kNotFound.
  virtual Status UpdateJob(const JobRecord& job) = 0;
  // Jobs in `query.states` (any when empty), newest first (creation time, then id), at most
  // `query.max_results`.
  virtual Result<std::vector<JobRecord>> ListJobs(const JobQuery& query) = 0;

  // --- pipeline runs (the pipeline engine's persisted state machine) ------------------------
  // Errors name the entity: "pipeline run 'x' does not exist", "step 'train' of pipeline run 'x'
  // does not exist".

  // Records `run` with its steps (each with run.run_id) in one transaction; creation and last
  // update time run.creation_time (0: now). kAlreadyExists if the id is taken. Returns it stored.
  virtual Result<PipelineRun> CreatePipelineRun(const PipelineRun& run) = 0;
  // The run with its steps (by position), without step logs. kNotFound.
  virtual Result<PipelineRun> GetPipelineRun(std::string_view run_id) = 0;
  // Runs matching `query`, newest first (creation time, then id), with their steps.
  virtual Result<std::vector<PipelineRun>> ListPipelineRuns(const PipelineRunQuery& query) = 0;
  // Writes the fields that are set, and last_update_time. kNotFound; kFailedPrecondition when
  // if_status does not hold. Returns the run with its steps.
  virtual Result<PipelineRun> UpdatePipelineRun(const PipelineRunUpdate& update) = 0;
  // Writes the step's fields that are set (and the run's last_update_time). kNotFound;
  // kFailedPrecondition when if_status does not hold. Returns the step.
  virtual Result<StepRun> UpdateStepRun(const StepRunUpdate& update) = 0;
  // Appends `text` to the step's log. kNotFound.
  virtual Status AppendStepLog(std::string_view run_id, std::string_view step_id,
                               std::string_view text) = 0;
  // The step's whole log ("" when nothing was logged). kNotFound.
  virtual Result<std::string> GetStepLog(std::string_view run_id, std::string_view step_id) = 0;

  // --- monitoring ------------------------------------------------------------------------------
  // Per endpoint name (records.h); the store does not check that the endpoint exists.

  // Creates or replaces the endpoint's monitor configuration.
  virtual Status PutMonitorConfig(const MonitorConfigRecord& config) = 0;
  // kNotFound "no monitor configuration for endpoint 'x'" when none was put.
  virtual Result<MonitorConfigRecord> GetMonitorConfig(std::string_view endpoint) = 0;
  // Endpoints with a configuration, sorted by name.
  virtual Result<std::vector<MonitorConfigRecord>> ListMonitorConfigs() = 0;
  // Records a report; kAlreadyExists if the id is taken.
  virtual Status CreateMonitorReport(const MonitorReportRecord& report) = 0;
  // kNotFound "monitor report 'id' of endpoint 'x' does not exist".
  virtual Result<MonitorReportRecord> GetMonitorReport(std::string_view endpoint,
                                                       std::string_view report_id) = 0;
  // The endpoint's reports matching `query`, newest first, at most query.max_results.
  virtual Result<std::vector<MonitorReportRecord>> ListMonitorReports(
      const MonitorReportQuery& query) = 0;
  // Upserts every label (by endpoint and request id; a later one replaces the earlier) in one
  // transaction. Returns how many were written.
  virtual Result<int64_t> PutFeedbackLabels(const std::vector<FeedbackLabel>& labels) = 0;
  // The endpoint's labels for those of `request_ids` that have one (any order; unknown ids are
  // skipped).
  virtual Result<std::vector<FeedbackLabel>> GetFeedbackLabels(
      std::string_view endpoint, const std::vector<std::string>& request_ids) = 0;
  // How many labels the endpoint has.
  virtual Result<int64_t> CountFeedbackLabels(std::string_view endpoint) = 0;
  // --- end monitoring --------------------------------------------------------------------------

  // --- triggers --------------------------------------------------------------------------------
  // Stored pipeline definitions (by name) and their triggers (trigger_records.h). Errors name the
  // entity: "pipeline 'x' does not exist", "trigger 'x/drift' does not exist".

  // Stores `def.spec` as the next revision of pipeline `def.name` (1 for a new name; the first
  // revision's creation_time is kept), updated at def.last_update_time (0: now), and replaces the
  // pipeline's triggers with `triggers` in the same transaction (each with pipeline = def.name;
  // the caller decides their enabled flag and state). Firings of triggers no longer present are
  // deleted. kAlreadyExists if a trigger id belongs to another pipeline. Returns the stored
  // definition.
  virtual Result<PipelineDefinition> PutPipelineDefinition(
      const PipelineDefinition& def, const std::vector<TriggerRecord>& triggers) = 0;
  // kNotFound.
  virtual Result<PipelineDefinition> GetPipelineDefinition(std::string_view name) = 0;
  // Every definition (latest revision), sorted by name.
  virtual Result<std::vector<PipelineDefinition>> ListPipelineDefinitions() = 0;
  // Deletes the definition with its triggers and their firings. kNotFound.
  virtual Status DeletePipelineDefinition(std::string_view name) = 0;
  // The triggers of `pipeline` (every pipeline's when empty), by pipeline then position.
  virtual Result<std::vector<TriggerRecord>> ListTriggers(std::string_view pipeline) = 0;
  // kNotFound.
  virtual Result<TriggerRecord> GetTrigger(std::string_view trigger_id) = 0;
  // Writes the fields that are set, and last_update_time. kNotFound. Returns the trigger.
  virtual Result<TriggerRecord> UpdateTrigger(const TriggerUpdate& update) = 0;
  // Appends `firing` (time 0: now; firing_id assigned) and applies `update` to its trigger in one
  // transaction. kNotFound for an unknown trigger. Returns the firing as stored.
  virtual Result<TriggerFiring> RecordTriggerFiring(const TriggerFiring& firing,
                                                    const TriggerUpdate& update) = 0;
  // The trigger's firings, newest first, at most `max_results`. kNotFound for an unknown trigger.
  virtual Result<std::vector<TriggerFiring>> ListTriggerFirings(std::string_view trigger_id,
                                                                int64_t max_results) = 0;
  // --- end triggers ----------------------------------------------------------------------------
};

}  // namespace cairn::store
