// MonitorService: per endpoint, drift reports over time windows (live inputs against the training
// dataset version's profile, outputs against the preceding window), data quality, live model
// metrics from ground-truth feedback, the monitor configuration, and a background thread that
// computes each endpoint's report on its interval. One service shared by the API, /metrics and
// the retraining triggers; knows nothing of HTTP.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <nlohmann/json_fwd.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "core/clock.h"
#include "core/result.h"
#include "data/profile.h"
#include "ml/model_dir.h"
#include "ml/task.h"
#include "monitoring/drift.h"
#include "monitoring/prediction_log.h"
#include "store/metadata_store.h"

namespace cairn::monitoring {

inline constexpr int64_t kHourMillis = 3600 * 1000;
inline constexpr size_t kMaxFeedbackPerCall = 10000;

// "500ms", "30s", "10m", "1h", "2d", and sums of them ("1h30m"); a bare number is seconds.
// kInvalidArgument naming `field` otherwise (and for 0 unless `allow_zero`).
Result<int64_t> ParseDuration(std::string_view text, std::string_view field,
                              bool allow_zero = false);
// The shortest of those forms: 600000 → "10m", 5400000 → "1h30m", 0 → "0s".
std::string FormatDurationMillis(int64_t ms);

// --- what the monitor reads from the rest of the workspace ------------------------------------

// A model an endpoint serves, as the monitor needs to know it.
struct ServedModel {
  std::string deployment;
  std::string model_uri;
  std::string model_version;     // "churn/3" as the prediction log names it; "" for run URIs
  int64_t traffic = 0;           // percent of live traffic
  std::optional<ml::Task> task;  // unknown for models without Cairn's preprocessing block
  std::string target;
  std::vector<std::string> input_columns;  // the features, in the model's order
  std::vector<std::string> classes;        // classification: classes[1] is the positive one
  std::optional<ml::DatasetRef> dataset;   // MLmodel's cairn.dataset
};

// The endpoints side. Thread-safe.
class EndpointCatalog {
 public:
  virtual ~EndpointCatalog() = default;
  // Every endpoint's name.
  virtual Result<std::vector<std::string>> ListEndpoints() = 0;
  // kNotFound "endpoint 'x' does not exist".
  virtual Status CheckEndpoint(std::string_view endpoint) = 0;
  // The endpoint's deployments with a loaded model description; kNotFound.
  virtual Result<std::vector<ServedModel>> ServedModels(std::string_view endpoint) = 0;
  // The endpoint's logged predictions (PredictionLog::Read, after a flush).
  virtual Result<PredictionPage> Predictions(const PredictionQuery& query) = 0;
};

// A dataset version's profile: the drift baseline.
struct BaselineProfile {
  std::string dataset;
  int64_t version = 0;
  std::string file;  // the profiled file it comes from
  data::DatasetProfile profile;
};

// The datasets side. Thread-safe.
class BaselineSource {
 public:
  virtual ~BaselineSource() = default;
  // Version `version` of `name` (nullopt: latest). Of several profiled files, the one with the
  // most of `columns`. kNotFound naming the dataset or version; kFailedPrecondition when it has
  // no profiled file.
  virtual Result<BaselineProfile> Profile(std::string_view name, std::optional<int64_t> version,
                                          const std::vector<std::string>& columns) = 0;
};

// --- configuration ------------------------------------------------------------------------------

struct MonitorConfig {
  DriftThresholds thresholds;  // including drift_share
  std::string baseline;        // "NAME@vN" or "NAME" (latest); "": the serving model's dataset
  std::vector<std::string> columns;   // empty: the model's input columns found in the baseline
  int64_t interval_ms = kHourMillis;  // the server computes a report this often; 0: never
  int64_t window_ms = kHourMillis;    // the window of scheduled reports and of `status`
  bool stored = false;                // false: the defaults (nothing was configured)
  int64_t last_update_time = 0;
};

// {"thresholds": {…}, "baseline", "columns", "interval", "interval_ms", "window", "window_ms",
// "configured", "last_update_time"}.
nlohmann::json ToJson(const MonitorConfig& config);
// Applies the fields present in `patch` onto `config`: "thresholds" (a subset, drift.h),
// "drift_share" (shorthand for thresholds.drift_share), "baseline" (string, "" to clear),
// "columns" (list of strings), "interval" and "window" (a duration string, or a number of ms).
// kInvalidArgument naming the field ("interval: …", "thresholds.p_value: …", unknown fields).
Status ApplyConfigPatch(const nlohmann::json& patch, MonitorConfig& config);

// --- results ------------------------------------------------------------------------------------

struct LiveMetrics {
  int64_t since = 0;
  int64_t until = 0;
  std::string task;         // "binary" | "multiclass" | "regression"; "" when unknown
  int64_t requests = 0;     // live requests logged in the window
  int64_t predictions = 0;  // their rows
  int64_t labelled = 0;     // requests with feedback
  int64_t matched = 0;      // rows with both a prediction and a usable label
  int64_t unmatched = 0;    // labelled rows that could not be used (row count or value mismatch)
  // binary: accuracy (P(positive) ≥ 0.5 is positive), auc, log_loss, precision, recall,
  // positive_rate (of the predictions); multiclass: accuracy, log_loss, macro_f1; regression:
  // rmse, mae. A metric undefined on the rows (the AUC with one class) is left out.
  std::map<std::string, double> values;
  std::vector<std::string> notes;
};
nlohmann::json ToJson(const LiveMetrics& metrics);
Result<LiveMetrics> LiveMetricsFromJson(const nlohmann::json& json);

// Data quality of one column over the window's rows. Rates are of the window's rows.
struct ColumnQuality {
  int64_t rows = 0;
  int64_t missing = 0;       // null, absent, or empty
  int64_t type_errors = 0;   // a value of the wrong type for the baseline's column
  int64_t out_of_range = 0;  // numeric only: outside the baseline's [min, max]
  double missing_rate = 0;
  double type_error_rate = 0;
  double out_of_range_rate = 0;
};

struct ColumnReport {
  ColumnDrift drift;
  ColumnQuality quality;
};

struct PredictionDrift {
  ColumnDrift drift;            // column "prediction"; not counted in the data drift share
  int64_t reference_since = 0;  // the preceding window of equal length
  int64_t reference_until = 0;
  int64_t reference_count = 0;
  int64_t current_count = 0;
  std::string note;  // "not enough data: …" when either side has too few values
};

struct MonitorReport {
  std::string report_id;
  std::string endpoint;
  int64_t creation_time = 0;
  int64_t since = 0;
  int64_t until = 0;
  std::string trigger;                            // "manual" | "schedule"
  std::map<std::string, int64_t> model_versions;  // seen in the window → requests
  std::string baseline;                           // "churn@v1"
  std::string baseline_file;                      // the profiled file
  int64_t requests = 0;
  int64_t rows = 0;
  std::vector<ColumnReport> columns;
  PredictionDrift prediction_drift;
  DriftSummary summary;
  double drift_share_threshold = 0.5;
  LiveMetrics live;
  std::vector<std::string> notes;
};
nlohmann::json ToJson(const MonitorReport& report);
Result<MonitorReport> MonitorReportFromJson(const nlohmann::json& json);

struct ReportRequest {
  std::string endpoint;
  // Set both, or neither: the window [since, until); neither: the last `window_ms` (0: the
  // config's window) up to now.
  std::optional<int64_t> since;
  std::optional<int64_t> until;
  int64_t window_ms = 0;
  std::string trigger = "manual";
};

struct ReportPage {
  std::vector<MonitorReport> reports;  // newest first
  std::string next_page_token;
};

// What GET …/monitor shows.
struct MonitorStatus {
  MonitorConfig config;
  std::optional<MonitorReport> latest;
  LiveMetrics live;
  int64_t feedback = 0;  // labels stored for the endpoint
};

// Thread-safe.
class MonitorService {
 public:
  // The store, catalog, baselines and clock must outlive it.
  MonitorService(store::MetadataStore& store, EndpointCatalog& endpoints, BaselineSource& baselines,
                 const Clock& clock);
  ~MonitorService();  // stops the background thread

  // --- feedback ---
  // Validates every item of `labels` (a JSON array of {"request_id", "label"}), then stores them
  // (upserted by request id, with the time received). kInvalidArgument naming the item
  // ("labels[3].request_id: …"), more than kMaxFeedbackPerCall items, or none; kNotFound for an
  // unknown endpoint. Returns how many were stored.
  Result<int64_t> PostFeedback(std::string_view endpoint, const nlohmann::json& labels);

  // --- configuration ---
  // The stored configuration, or the defaults. kNotFound for an unknown endpoint.
  Result<MonitorConfig> GetConfig(std::string_view endpoint);
  // Applies `patch` (ApplyConfigPatch) to the current configuration and stores it.
  Result<MonitorConfig> UpdateConfig(std::string_view endpoint, const nlohmann::json& patch);

  // --- reports ---
  // Computes, stores and returns a report (and tells the listeners). kInvalidArgument for a bad
  // window ("since: …", "until: must be after since"), kNotFound for an unknown endpoint or
  // baseline dataset, kFailedPrecondition when no baseline can be found (no deployment, a model
  // without cairn.dataset and no configured baseline).
  Result<MonitorReport> ComputeReport(const ReportRequest& request);
  Result<MonitorReport> GetReport(std::string_view endpoint, std::string_view report_id);
  // Newest first; `limit` in [1, 1000] (0: 100); kInvalidArgument naming page_token / limit.
  Result<ReportPage> ListReports(std::string_view endpoint, int64_t limit,
                                 std::string_view page_token);
  // The newest report, nullopt when none (kNotFound for an unknown endpoint).
  Result<std::optional<MonitorReport>> LatestReport(std::string_view endpoint);

  // --- live metrics ---
  // The live metrics over [since, until). kNotFound for an unknown endpoint.
  Result<LiveMetrics> ComputeLiveMetrics(std::string_view endpoint, int64_t since, int64_t until);
  // One metric over the last `window_ms` up to now; nullopt when it is undefined there (no
  // matched rows, or not a metric of the model's task). For metric triggers.
  Result<std::optional<double>> LiveMetricValue(std::string_view endpoint, std::string_view name,
                                                int64_t window_ms);
  // Config, latest report, live metrics of the config's window, feedback count.
  Result<MonitorStatus> GetStatus(std::string_view endpoint);

  // --- background ---
  // Called (on the computing thread) with every report stored, manual or scheduled.
  void AddReportListener(std::function<void(const MonitorReport&)> listener);
  // Computes the report of every endpoint whose interval has elapsed since its last report (or
  // since this service first saw it without one), over the configured window up to `now`;
  // returns the reports made. Errors of one endpoint are logged to stderr
  // and do not stop the others. The background thread calls it; tests call it directly.
  std::vector<MonitorReport> RunDue(int64_t now);
  // Starts the background thread, which calls RunDue every `tick_ms` of wall time.
  void Start(int64_t tick_ms = 10000);
  void Stop();

  // Now, by the service's clock (the end of default windows).
  int64_t Now() const { return clock_.NowMillis(); }

  // Prometheus exposition: per endpoint, the latest report's gauges, live metrics of the
  // default window and the feedback count.
  std::string RenderMetrics();

 private:
  Result<std::vector<PredictionRecord>> ReadWindow(std::string_view endpoint, int64_t since,
                                                   int64_t until);
  Result<LiveMetrics> LiveMetricsOf(std::string_view endpoint, const ServedModel* model,
                                    const std::vector<PredictionRecord>& records, int64_t since,
                                    int64_t until);
  Result<MonitorConfig> ConfigOf(std::string_view endpoint);
  Status Store(const MonitorReport& report);

  store::MetadataStore& store_;
  EndpointCatalog& endpoints_;
  BaselineSource& baselines_;
  const Clock& clock_;

  std::mutex listeners_mu_;
  std::vector<std::function<void(const MonitorReport&)>> listeners_;

  std::mutex thread_mu_;
  std::condition_variable wake_;
  bool stopping_ = false;
  std::thread thread_;
  std::mutex run_mu_;                            // one RunDue at a time
  std::map<std::string, int64_t> last_attempt_;  // endpoint → last scheduled try; run_mu_
};

}  // namespace cairn::monitoring
