// Tracking records as the metadata store keeps them (MLflow's entities, without any wire format),
// plus dataset versions and the model registry.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace cairn::store {

enum class LifecycleStage { kActive, kDeleted };
enum class RunStatus { kRunning, kScheduled, kFinished, kFailed, kKilled };
enum class ViewType { kActiveOnly, kDeletedOnly, kAll };

std::string_view LifecycleStageName(LifecycleStage stage);  // "active" | "deleted"
std::string_view RunStatusName(RunStatus status);           // "RUNNING" | …
std::optional<RunStatus> ParseRunStatus(std::string_view name);
std::optional<ViewType> ParseViewType(std::string_view name);  // "ACTIVE_ONLY" | "DELETED_ONLY" | "ALL"

struct Tag {
  std::string key;
  std::string value;
  bool operator==(const Tag&) const = default;
};

struct Param {
  std::string key;
  std::string value;
  bool operator==(const Param&) const = default;
};

struct Metric {
  std::string key;
  double value = 0;
  int64_t timestamp = 0;  // ms since the epoch
  int64_t step = 0;
};

struct Experiment {
  std::string experiment_id;
  std::string name;
  std::string artifact_location;
  LifecycleStage lifecycle_stage = LifecycleStage::kActive;
  int64_t creation_time = 0;
  int64_t last_update_time = 0;
  std::vector<Tag> tags;  // sorted by key
};

struct RunInfo {
  std::string run_id;
  std::string run_name;
  std::string experiment_id;
  std::string user_id;
  RunStatus status = RunStatus::kRunning;
  int64_t start_time = 0;
  std::optional<int64_t> end_time;
  std::string artifact_uri;
  LifecycleStage lifecycle_stage = LifecycleStage::kActive;
};

struct DatasetInput {
  std::string name;
  std::string digest;
  std::string source_type;
  std::string source;
  std::string schema;   // JSON text, may be empty
  std::string profile;  // JSON text, may be empty
  std::vector<Tag> tags;  // input tags, e.g. mlflow.data.context=training
};

struct Run {
  RunInfo info;
  std::vector<Metric> metrics;  // latest value per key (MLflow's order: step, timestamp, value)
  std::vector<Param> params;    // sorted by key
  std::vector<Tag> tags;        // sorted by key
  std::vector<DatasetInput> inputs;
};

struct NewExperiment {
  std::string name;
  std::string artifact_location;  // empty: "<default artifact root>/<experiment_id>"
  std::vector<Tag> tags;
  int64_t creation_time = 0;
};

struct NewRun {
  std::string run_id;  // 32 hex characters, chosen by the caller
  std::string experiment_id;
  std::string run_name;
  std::string user_id;
  RunStatus status = RunStatus::kRunning;
  int64_t start_time = 0;
  std::vector<Tag> tags;
};

struct RunUpdate {
  std::string run_id;
  std::optional<RunStatus> status;
  std::optional<int64_t> end_time;
  std::optional<std::string> run_name;  // also written to the tag mlflow.runName
};

// One file in the artifact index; directories are derived from paths.
struct ArtifactEntry {
  std::string path;  // relative to the artifact root, '/'-separated, never starting with '/'
  bool is_dir = false;
  int64_t size = 0;     // files only
  std::string digest;   // files only: SHA-256 hex of the content in the blob store
};

// One immutable version of a named dataset. The bytes live in the blob store; this is the index.
struct DatasetVersion {
  std::string name;
  int64_t version = 0;          // 1, 2, … per name; assigned by the store
  std::string version_id;       // SHA-256 hex of the canonical manifest: the content address
  std::string manifest_digest;  // blob digest of the manifest bytes
  std::string profile_digest;   // blob digest of the profile JSON; empty when there is none
  int64_t size_bytes = 0;
  int64_t row_count = -1;       // -1 when the content is not a CSV
  std::string description;
  std::string created_by;
  int64_t creation_time = 0;    // ms since the epoch
  bool operator==(const DatasetVersion&) const = default;
};

// What CreateDatasetVersion did: `created` is false when the content equalled the latest
// version's, which is then returned unchanged.
struct CreatedDatasetVersion {
  DatasetVersion version;
  bool created = false;
};

// A dataset as listed: its latest version and how many it has.
struct DatasetSummary {
  std::string name;
  int64_t latest_version = 0;
  int64_t version_count = 0;
  int64_t last_update_time = 0;  // the latest version's creation_time
  std::string description;       // the latest version's
};

// --- model registry (MLflow's registered models, model versions, aliases) --------------------

// MLflow's model version stages. Canonical names: "None", "Staging", "Production", "Archived".
enum class ModelStage { kNone, kStaging, kProduction, kArchived };
// MLflow's model version statuses; Cairn registers synchronously, so versions are kReady.
enum class ModelVersionStatus { kPendingRegistration, kFailedRegistration, kReady };

std::string_view ModelStageName(ModelStage stage);
// Case-insensitive, as MLflow's get_canonical_stage ("production" → kProduction).
std::optional<ModelStage> ParseModelStage(std::string_view name);
std::string_view ModelVersionStatusName(ModelVersionStatus status);  // "READY" | …
std::optional<ModelVersionStatus> ParseModelVersionStatus(std::string_view name);

struct ModelVersion {
  std::string name;
  int64_t version = 0;  // 1, 2, … per registered model; assigned by the store, never reused
  int64_t creation_timestamp = 0;
  int64_t last_updated_timestamp = 0;
  ModelStage current_stage = ModelStage::kNone;
  std::string description;
  std::string source;            // as the client gave it (runs:/…, mlflow-artifacts:/…, s3://…)
  std::string storage_location;  // where the model's files are: the download URI
  std::string run_id;            // the run that produced it; may be empty
  // When storage_location lies under run_id's artifact root: the path inside it ("" for the root).
  std::optional<std::string> artifact_path;
  std::string run_link;
  ModelVersionStatus status = ModelVersionStatus::kReady;
  std::string status_message;
  std::vector<Tag> tags;             // sorted by key
  std::vector<std::string> aliases;  // sorted
};

struct ModelAlias {
  std::string alias;
  int64_t version = 0;
  bool operator==(const ModelAlias&) const = default;
};

struct RegisteredModel {
  std::string name;
  int64_t creation_timestamp = 0;
  int64_t last_updated_timestamp = 0;
  std::string description;
  // The latest version of each stage that has one, stages ordered by their lowest version number
  // (MLflow's order).
  std::vector<ModelVersion> latest_versions;
  std::vector<Tag> tags;            // sorted by key
  std::vector<ModelAlias> aliases;  // sorted by alias
};

// --- endpoints and deployments (workspace scoring) -------------------------------------------

// A scoring endpoint: a stable name whose requests are split between its deployments.
struct Endpoint {
  std::string name;
  std::string description;
  // The share of requests the prediction log keeps (inputs, outputs), in [0, 1].
  double sample_rate = 1.0;
  // Counts the traffic configurations set (SetEndpointTraffic): 0 before the first.
  int64_t traffic_version = 0;
  int64_t creation_time = 0;     // ms since the epoch
  int64_t last_update_time = 0;  // ms since the epoch
  bool operator==(const Endpoint&) const = default;
};

// A model served behind an endpoint, with its shares of the endpoint's traffic.
struct Deployment {
  std::string endpoint;
  std::string name;
  std::string model_uri;         // as given: models:/churn/3, models:/churn@champion, runs:/…
  std::string model_name;        // the registered model it resolved to; "" for other URIs
  int64_t model_version = 0;     // the version it resolved to (pinned); 0 for other URIs
  std::string run_id;            // the run that produced the model; may be empty
  std::string storage_location;  // where the model's files are (mlflow-artifacts:/…)
  int64_t threads = 0;           // requests it scores at once; 0: no limit of its own
  int64_t traffic = 0;           // percent of the endpoint's live requests it answers
  int64_t mirror = 0;            // percent of the endpoint's requests copied to it (shadow)
  int64_t creation_time = 0;
  int64_t last_update_time = 0;
  bool operator==(const Deployment&) const = default;
};

struct TrafficShare {
  std::string deployment;
  int64_t percent = 0;
  bool operator==(const TrafficShare&) const = default;
};

// An endpoint's whole traffic configuration: deployments not named take none.
struct EndpointTraffic {
  std::vector<TrafficShare> live;
  std::vector<TrafficShare> mirror;
};

// --- monitoring (endpoint monitors: configs, drift reports, ground-truth labels) ------------
// Keyed by endpoint name, not id: like the prediction log, monitoring data outlives a deleted
// endpoint (for audit) and is found again by a new endpoint of the same name. The monitor
// service owns the JSON formats; the store keeps them as given.

// An endpoint's monitor configuration (JSON text).
struct MonitorConfigRecord {
  std::string endpoint;
  std::string config_json;
  int64_t last_update_time = 0;  // ms since the epoch
  bool operator==(const MonitorConfigRecord&) const = default;
};

// One drift report of an endpoint over the window [since, until), with the figures listings
// and triggers need outside the JSON.
struct MonitorReportRecord {
  std::string report_id;
  std::string endpoint;
  int64_t creation_time = 0;  // ms since the epoch
  int64_t since = 0;
  int64_t until = 0;
  double drift_share = 0;  // share of the counted columns that drifted, in [0, 1]
  bool dataset_drift = false;
  std::string report_json;  // the whole report
  bool operator==(const MonitorReportRecord&) const = default;
};

// Reports of one endpoint, newest first (creation time, then id, both descending).
struct MonitorReportQuery {
  std::string endpoint;
  int64_t max_results = 100;
  // Keyset paging: only reports strictly older than (before_time, before_id) when before_id is
  // set — the last report of the previous page.
  int64_t before_time = 0;
  std::string before_id;
};

// A ground-truth label posted for a scored request (upserted by endpoint and request id).
struct FeedbackLabel {
  std::string endpoint;
  std::string request_id;
  std::string label_json;  // a number, a string, or an array (one per row of the request)
  int64_t time = 0;        // when it was received, ms since the epoch
  bool operator==(const FeedbackLabel&) const = default;
};

}  // namespace cairn::store
