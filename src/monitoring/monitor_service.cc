#include "monitoring/monitor_service.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <limits>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <unordered_map>

#include "core/ids.h"
#include "ml/metrics.h"
#include "ml/tabular.h"

namespace cairn::monitoring {

using json = nlohmann::json;

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
// Records read per page of the prediction log, and the most rows one window reads (a window
// past it is cut, with a note).
constexpr size_t kReadPage = 10000;
constexpr int64_t kMaxWindowRows = 2'000'000;
constexpr int64_t kMaxWindowMillis = int64_t(366) * 24 * kHourMillis;

json Number(double v) { return std::isfinite(v) ? json(v) : json(nullptr); }
double NumberOr(const json& j, std::string_view key, double fallback = kNaN) {
  auto it = j.find(key);
  if (it == j.end() || !it->is_number()) return fallback;
  return it->get<double>();
}
int64_t IntOr(const json& j, std::string_view key, int64_t fallback = 0) {
  auto it = j.find(key);
  if (it == j.end() || !it->is_number()) return fallback;
  return it->get<int64_t>();
}
std::string StringOr(const json& j, std::string_view key) {
  auto it = j.find(key);
  if (it == j.end() || !it->is_string()) return "";
  return it->get<std::string>();
}

}  // namespace

// --- durations ----------------------------------------------------------------------------------

Result<int64_t> ParseDuration(std::string_view text, std::string_view field, bool allow_zero) {
  auto bad = [&] {
    return InvalidArgument(std::string(field) +
                           ": expected a duration such as 30s, 10m, 1h, 1d or 1h30m, got '" +
                           std::string(text) + "'");
  };
  if (text.empty()) return bad();
  int64_t total = 0;
  size_t i = 0;
  bool any_unit = false;
  while (i < text.size()) {
    int64_t n = 0;
    auto [end, ec] = std::from_chars(text.data() + i, text.data() + text.size(), n);
    if (ec != std::errc() || end == text.data() + i || n < 0) return bad();
    i = static_cast<size_t>(end - text.data());
    int64_t unit = 0;
    if (i == text.size()) {
      if (any_unit) return bad();
      unit = 1000;  // bare seconds
    } else if (text.substr(i, 2) == "ms") {
      unit = 1, i += 2;
    } else {
      switch (text[i]) {
        case 's':
          unit = 1000;
          break;
        case 'm':
          unit = 60 * 1000;
          break;
        case 'h':
          unit = kHourMillis;
          break;
        case 'd':
          unit = 24 * kHourMillis;
          break;
        default:
          return bad();
      }
      ++i;
    }
    any_unit = true;
    if (n > kMaxWindowMillis) return bad();
    total += n * unit;
    if (total > kMaxWindowMillis) {
      return InvalidArgument(std::string(field) + ": at most 366d, got '" + std::string(text) +
                             "'");
    }
  }
  if (total == 0 && !allow_zero) return InvalidArgument(std::string(field) + ": must be > 0");
  return total;
}

std::string FormatDurationMillis(int64_t ms) {
  if (ms == 0) return "0s";
  std::string out;
  const std::pair<int64_t, const char*> units[] = {
      {24 * kHourMillis, "d"}, {kHourMillis, "h"}, {60000, "m"}, {1000, "s"}, {1, "ms"}};
  for (auto [unit, name] : units) {
    if (ms >= unit) {
      out += std::to_string(ms / unit) + name;
      ms %= unit;
    }
  }
  return out;
}

// --- configuration ------------------------------------------------------------------------------

json ToJson(const MonitorConfig& config) {
  return {{"thresholds", ToJson(config.thresholds)},
          {"baseline", config.baseline},
          {"columns", config.columns},
          {"interval", FormatDurationMillis(config.interval_ms)},
          {"interval_ms", config.interval_ms},
          {"window", FormatDurationMillis(config.window_ms)},
          {"window_ms", config.window_ms},
          {"configured", config.stored},
          {"last_update_time", config.last_update_time}};
}

namespace {

Result<int64_t> DurationField(const json& value, std::string_view field, bool allow_zero) {
  if (value.is_number_integer()) {
    const int64_t ms = value.get<int64_t>();
    if (ms < 0 || ms > kMaxWindowMillis || (ms == 0 && !allow_zero)) {
      return InvalidArgument(std::string(field) + ": expected a number of ms in " +
                             (allow_zero ? "[0, " : "(0, ") + std::to_string(kMaxWindowMillis) +
                             "]");
    }
    return ms;
  }
  if (value.is_string()) return ParseDuration(value.get<std::string>(), field, allow_zero);
  return InvalidArgument(std::string(field) + ": expected a duration (\"10m\") or ms");
}

// "name", "name@latest", "name@vN", "name@N" → name and version (nullopt: latest).
Result<std::pair<std::string, std::optional<int64_t>>> ParseBaselineRef(std::string_view text,
                                                                        std::string_view field) {
  auto bad = [&] {
    return InvalidArgument(std::string(field) + ": expected NAME or NAME@vN, got '" +
                           std::string(text) + "'");
  };
  const size_t at = text.find('@');
  std::string name(text.substr(0, at));
  if (name.empty()) return bad();
  if (at == std::string_view::npos) return std::pair{name, std::optional<int64_t>()};
  std::string_view v = text.substr(at + 1);
  if (v == "latest") return std::pair{name, std::optional<int64_t>()};
  if (!v.empty() && v[0] == 'v') v.remove_prefix(1);
  int64_t n = 0;
  auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), n);
  if (v.empty() || ec != std::errc() || end != v.data() + v.size() || n < 1) return bad();
  return std::pair{name, std::optional<int64_t>(n)};
}

}  // namespace

Status ApplyConfigPatch(const json& patch, MonitorConfig& config) {
  if (!patch.is_object()) return InvalidArgument("monitor configuration: expected a JSON object");
  static const std::set<std::string, std::less<>> kKnown = {
      "thresholds", "drift_share", "baseline", "columns", "interval", "window",
      // read-only fields a client may send back from GET
      "interval_ms", "window_ms", "configured", "last_update_time"};
  for (const auto& [key, value] : patch.items()) {
    if (!kKnown.contains(key)) {
      return InvalidArgument(key +
                             ": unknown field (expected thresholds, drift_share, baseline, "
                             "columns, interval, window)");
    }
  }
  MonitorConfig next = config;
  if (auto it = patch.find("thresholds"); it != patch.end()) {
    if (!it->is_object()) return InvalidArgument("thresholds: expected an object");
    json merged = ToJson(next.thresholds);
    for (const auto& [key, value] : it->items()) merged[key] = value;
    auto parsed = DriftThresholdsFromJson(merged);
    if (!parsed.ok()) return parsed.status();
    next.thresholds = *parsed;
  }
  if (auto it = patch.find("drift_share"); it != patch.end()) {
    json merged = ToJson(next.thresholds);
    merged["drift_share"] = *it;
    auto parsed = DriftThresholdsFromJson(merged);
    if (!parsed.ok()) {
      return InvalidArgument("drift_share: expected a number in (0, 1]");
    }
    next.thresholds = *parsed;
  }
  if (auto it = patch.find("baseline"); it != patch.end()) {
    if (!it->is_string()) return InvalidArgument("baseline: expected a string such as churn@v1");
    const std::string text = it->get<std::string>();
    if (!text.empty()) {
      CAIRN_RETURN_IF_ERROR(ParseBaselineRef(text, "baseline").status());
    }
    next.baseline = text;
  }
  if (auto it = patch.find("columns"); it != patch.end()) {
    if (!it->is_array()) return InvalidArgument("columns: expected a list of column names");
    std::vector<std::string> columns;
    std::set<std::string> seen;
    for (size_t i = 0; i < it->size(); ++i) {
      const json& c = (*it)[i];
      if (!c.is_string() || c.get<std::string>().empty()) {
        return InvalidArgument("columns[" + std::to_string(i) + "]: expected a column name");
      }
      if (!seen.insert(c.get<std::string>()).second) {
        return InvalidArgument("columns[" + std::to_string(i) + "]: duplicate column '" +
                               c.get<std::string>() + "'");
      }
      columns.push_back(c.get<std::string>());
    }
    next.columns = std::move(columns);
  }
  if (auto it = patch.find("interval"); it != patch.end()) {
    CAIRN_TRY(next.interval_ms, DurationField(*it, "interval", /*allow_zero=*/true));
  }
  if (auto it = patch.find("window"); it != patch.end()) {
    CAIRN_TRY(next.window_ms, DurationField(*it, "window", /*allow_zero=*/false));
  }
  config = std::move(next);
  return Status::Ok();
}

// --- results as JSON ----------------------------------------------------------------------------

json ToJson(const LiveMetrics& m) {
  json values = json::object();
  for (const auto& [k, v] : m.values) values[k] = Number(v);
  return {{"since", m.since},
          {"until", m.until},
          {"task", m.task},
          {"requests", m.requests},
          {"predictions", m.predictions},
          {"labelled", m.labelled},
          {"matched", m.matched},
          {"unmatched", m.unmatched},
          {"metrics", values},
          {"notes", m.notes}};
}

Result<LiveMetrics> LiveMetricsFromJson(const json& j) {
  if (!j.is_object()) return InvalidArgument("live: expected an object");
  LiveMetrics m;
  m.since = IntOr(j, "since");
  m.until = IntOr(j, "until");
  m.task = StringOr(j, "task");
  m.requests = IntOr(j, "requests");
  m.predictions = IntOr(j, "predictions");
  m.labelled = IntOr(j, "labelled");
  m.matched = IntOr(j, "matched");
  m.unmatched = IntOr(j, "unmatched");
  if (auto it = j.find("metrics"); it != j.end() && it->is_object()) {
    for (const auto& [k, v] : it->items()) m.values[k] = v.is_number() ? v.get<double>() : kNaN;
  }
  if (auto it = j.find("notes"); it != j.end() && it->is_array()) {
    for (const auto& n : *it) {
      if (n.is_string()) m.notes.push_back(n.get<std::string>());
    }
  }
  return m;
}

namespace {

json ToJson(const ColumnQuality& q) {
  return {{"rows", q.rows},
          {"missing", q.missing},
          {"type_errors", q.type_errors},
          {"out_of_range", q.out_of_range},
          {"missing_rate", q.missing_rate},
          {"type_error_rate", q.type_error_rate},
          {"out_of_range_rate", q.out_of_range_rate}};
}

ColumnQuality QualityFromJson(const json& j) {
  ColumnQuality q;
  q.rows = IntOr(j, "rows");
  q.missing = IntOr(j, "missing");
  q.type_errors = IntOr(j, "type_errors");
  q.out_of_range = IntOr(j, "out_of_range");
  q.missing_rate = NumberOr(j, "missing_rate", 0);
  q.type_error_rate = NumberOr(j, "type_error_rate", 0);
  q.out_of_range_rate = NumberOr(j, "out_of_range_rate", 0);
  return q;
}

}  // namespace

json ToJson(const MonitorReport& r) {
  json columns = json::array();
  for (const ColumnReport& c : r.columns) {
    json col = ToJson(c.drift);
    col["quality"] = ToJson(c.quality);
    columns.push_back(std::move(col));
  }
  json prediction = ToJson(r.prediction_drift.drift);
  prediction["reference_since"] = r.prediction_drift.reference_since;
  prediction["reference_until"] = r.prediction_drift.reference_until;
  prediction["note"] = r.prediction_drift.note;
  json summary = ToJson(r.summary);
  summary["drift_share_threshold"] = r.drift_share_threshold;
  return {{"report_id", r.report_id},
          {"endpoint", r.endpoint},
          {"creation_time", r.creation_time},
          {"since", r.since},
          {"until", r.until},
          {"trigger", r.trigger},
          {"model_versions", r.model_versions},
          {"baseline", r.baseline},
          {"baseline_file", r.baseline_file},
          {"requests", r.requests},
          {"rows", r.rows},
          {"columns", std::move(columns)},
          {"prediction_drift", std::move(prediction)},
          {"summary", std::move(summary)},
          {"live", ToJson(r.live)},
          {"notes", r.notes}};
}

Result<MonitorReport> MonitorReportFromJson(const json& j) {
  if (!j.is_object()) return InvalidArgument("report: expected an object");
  MonitorReport r;
  r.report_id = StringOr(j, "report_id");
  r.endpoint = StringOr(j, "endpoint");
  r.creation_time = IntOr(j, "creation_time");
  r.since = IntOr(j, "since");
  r.until = IntOr(j, "until");
  r.trigger = StringOr(j, "trigger");
  if (auto it = j.find("model_versions"); it != j.end() && it->is_object()) {
    for (const auto& [k, v] : it->items())
      r.model_versions[k] = v.is_number() ? v.get<int64_t>() : 0;
  }
  r.baseline = StringOr(j, "baseline");
  r.baseline_file = StringOr(j, "baseline_file");
  r.requests = IntOr(j, "requests");
  r.rows = IntOr(j, "rows");
  if (auto it = j.find("columns"); it != j.end() && it->is_array()) {
    for (const json& c : *it) {
      json drift = c;
      drift.erase("quality");
      CAIRN_TRY(ColumnDrift d, ColumnDriftFromJson(drift));
      ColumnReport col{std::move(d), {}};
      if (auto q = c.find("quality"); q != c.end() && q->is_object()) {
        col.quality = QualityFromJson(*q);
      }
      r.columns.push_back(std::move(col));
    }
  }
  if (auto it = j.find("prediction_drift"); it != j.end() && it->is_object()) {
    json drift = *it;
    r.prediction_drift.reference_since = IntOr(drift, "reference_since");
    r.prediction_drift.reference_until = IntOr(drift, "reference_until");
    for (const char* k : {"reference_since", "reference_until"}) drift.erase(k);
    CAIRN_TRY(r.prediction_drift.drift, ColumnDriftFromJson(drift));
    r.prediction_drift.note = r.prediction_drift.drift.note;
    r.prediction_drift.reference_count = r.prediction_drift.drift.reference_count;
    r.prediction_drift.current_count = r.prediction_drift.drift.current_count;
  }
  if (auto it = j.find("summary"); it != j.end() && it->is_object()) {
    r.summary.counted = static_cast<int>(IntOr(*it, "counted"));
    r.summary.drifted = static_cast<int>(IntOr(*it, "drifted"));
    r.summary.share = NumberOr(*it, "share", 0);
    r.summary.dataset_drift = it->value("dataset_drift", false);
    r.drift_share_threshold = NumberOr(*it, "drift_share_threshold", 0.5);
  }
  if (auto it = j.find("live"); it != j.end()) {
    CAIRN_TRY(r.live, LiveMetricsFromJson(*it));
  }
  if (auto it = j.find("notes"); it != j.end() && it->is_array()) {
    for (const auto& n : *it) {
      if (n.is_string()) r.notes.push_back(n.get<std::string>());
    }
  }
  return r;
}

// --- the service
// ----------------------------------------------------------------------------------

MonitorService::MonitorService(store::MetadataStore& store, EndpointCatalog& endpoints,
                               BaselineSource& baselines, const Clock& clock)
    : store_(store), endpoints_(endpoints), baselines_(baselines), clock_(clock) {}

MonitorService::~MonitorService() { Stop(); }

// --- feedback ---

Result<int64_t> MonitorService::PostFeedback(std::string_view endpoint, const json& labels) {
  CAIRN_RETURN_IF_ERROR(endpoints_.CheckEndpoint(endpoint));
  if (!labels.is_array()) {
    return InvalidArgument("labels: expected a list of {\"request_id\", \"label\"}");
  }
  if (labels.empty()) return InvalidArgument("labels: is empty");
  if (labels.size() > kMaxFeedbackPerCall) {
    return InvalidArgument("labels: at most " + std::to_string(kMaxFeedbackPerCall) +
                           " per call, got " + std::to_string(labels.size()));
  }
  const int64_t now = clock_.NowMillis();
  std::vector<store::FeedbackLabel> out;
  out.reserve(labels.size());
  auto scalar_ok = [](const json& v) { return v.is_number() || v.is_string() || v.is_boolean(); };
  for (size_t i = 0; i < labels.size(); ++i) {
    const std::string at = "labels[" + std::to_string(i) + "]";
    const json& item = labels[i];
    if (!item.is_object()) return InvalidArgument(at + ": expected {\"request_id\", \"label\"}");
    for (const auto& [key, value] : item.items()) {
      if (key != "request_id" && key != "label") {
        return InvalidArgument(at + "." + key + ": unknown field (expected request_id, label)");
      }
    }
    auto id = item.find("request_id");
    if (id == item.end()) return InvalidArgument(at + ".request_id: is required");
    if (!id->is_string() || id->get<std::string>().empty() || id->get<std::string>().size() > 256) {
      return InvalidArgument(at +
                             ".request_id: expected a non-empty string of at most 256 "
                             "characters");
    }
    auto label = item.find("label");
    if (label == item.end()) return InvalidArgument(at + ".label: is required");
    if (label->is_number_float() && !std::isfinite(label->get<double>())) {
      return InvalidArgument(at + ".label: must be finite");
    }
    if (label->is_array()) {
      if (label->empty()) return InvalidArgument(at + ".label: is an empty list");
      for (size_t k = 0; k < label->size(); ++k) {
        if (!scalar_ok((*label)[k])) {
          return InvalidArgument(at + ".label[" + std::to_string(k) +
                                 "]: expected a number, a string or a boolean");
        }
      }
    } else if (!scalar_ok(*label)) {
      return InvalidArgument(at +
                             ".label: expected a number, a string, a boolean or a list of "
                             "them (one per row of the request)");
    }
    out.push_back({std::string(endpoint), id->get<std::string>(), label->dump(), now});
  }
  return store_.PutFeedbackLabels(out);
}

// --- configuration ---

Result<MonitorConfig> MonitorService::ConfigOf(std::string_view endpoint) {
  auto record = store_.GetMonitorConfig(endpoint);
  MonitorConfig config;
  if (!record.ok()) {
    if (record.status().code() == StatusCode::kNotFound) return config;
    return record.status();
  }
  json stored = json::parse(record->config_json, nullptr, false);
  if (stored.is_discarded())
    return Internal("monitor configuration of '" + std::string(endpoint) + "' is not JSON");
  for (const char* k : {"interval_ms", "window_ms", "configured", "last_update_time"}) {
    stored.erase(k);
  }
  CAIRN_RETURN_IF_ERROR(ApplyConfigPatch(stored, config));
  config.stored = true;
  config.last_update_time = record->last_update_time;
  return config;
}

Result<MonitorConfig> MonitorService::GetConfig(std::string_view endpoint) {
  CAIRN_RETURN_IF_ERROR(endpoints_.CheckEndpoint(endpoint));
  return ConfigOf(endpoint);
}

Result<MonitorConfig> MonitorService::UpdateConfig(std::string_view endpoint, const json& patch) {
  CAIRN_RETURN_IF_ERROR(endpoints_.CheckEndpoint(endpoint));
  CAIRN_TRY(MonitorConfig config, ConfigOf(endpoint));
  CAIRN_RETURN_IF_ERROR(ApplyConfigPatch(patch, config));
  config.stored = true;
  config.last_update_time = clock_.NowMillis();
  json stored = ToJson(config);
  stored.erase("configured");
  stored.erase("last_update_time");
  stored.erase("interval_ms");
  stored.erase("window_ms");
  stored["interval"] = config.interval_ms;  // exact ms
  stored["window"] = config.window_ms;
  CAIRN_RETURN_IF_ERROR(
      store_.PutMonitorConfig({std::string(endpoint), stored.dump(), config.last_update_time}));
  return config;
}

// --- reading a window ---

Result<std::vector<PredictionRecord>> MonitorService::ReadWindow(std::string_view endpoint,
                                                                 int64_t since, int64_t until) {
  std::vector<PredictionRecord> out;
  PredictionQuery query;
  query.endpoint = std::string(endpoint);
  query.since = since;
  query.until = until;
  query.mirrored = 0;  // live answers only: a shadow's answers were never seen by the client
  query.limit = kReadPage;
  while (true) {
    CAIRN_TRY(PredictionPage page, endpoints_.Predictions(query));
    for (PredictionRecord& r : page.records) {
      if (r.status == 200 && !r.inputs.empty()) out.push_back(std::move(r));
    }
    if (page.next_page_token.empty() || static_cast<int64_t>(out.size()) >= kMaxWindowRows) break;
    query.page_token = page.next_page_token;
  }
  return out;
}

namespace {

// A parsed record: its rows' cells by column name, and its outputs.
struct ParsedRecord {
  const PredictionRecord* record = nullptr;
  json inputs;   // {"columns", "data"} or discarded
  json outputs;  // an array, or discarded
  std::unordered_map<std::string, size_t> column_index;
  size_t rows = 0;
};

std::vector<ParsedRecord> ParseRecords(const std::vector<PredictionRecord>& records,
                                       bool want_inputs) {
  std::vector<ParsedRecord> out;
  out.reserve(records.size());
  for (const PredictionRecord& r : records) {
    ParsedRecord p;
    p.record = &r;
    p.outputs = json::parse(r.outputs, nullptr, false);
    if (want_inputs) {
      p.inputs = json::parse(r.inputs, nullptr, false);
      if (!p.inputs.is_discarded() && p.inputs.is_object()) {
        auto cols = p.inputs.find("columns");
        auto data = p.inputs.find("data");
        if (cols != p.inputs.end() && cols->is_array() && data != p.inputs.end() &&
            data->is_array()) {
          for (size_t i = 0; i < cols->size(); ++i) {
            if ((*cols)[i].is_string()) p.column_index[(*cols)[i].get<std::string>()] = i;
          }
          p.rows = data->size();
        }
      }
    }
    if (!want_inputs && p.outputs.is_array()) p.rows = p.outputs.size();
    out.push_back(std::move(p));
  }
  return out;
}

// The class index of a label or predicted class (text as the model's classes spell them).
std::optional<size_t> ClassIndex(const json& v, const std::vector<std::string>& classes) {
  std::string text;
  if (v.is_string()) {
    text = v.get<std::string>();
  } else if (v.is_boolean()) {
    text = v.get<bool>() ? "true" : "false";
  } else if (v.is_number()) {
    text = ml::CanonicalText(v.get<double>());
  } else {
    return std::nullopt;
  }
  for (size_t i = 0; i < classes.size(); ++i) {
    if (classes[i] == text) return i;
  }
  return std::nullopt;
}

// One prediction as a number for prediction drift: P(positive) (binary), the value
// (regression), the arg-max class index (multiclass probabilities), a label's class index.
double PredictionNumber(const json& v, const ServedModel* model) {
  if (v.is_number()) return v.get<double>();
  if (v.is_array() && !v.empty()) {
    size_t best = 0;
    double best_p = -1;
    for (size_t i = 0; i < v.size(); ++i) {
      if (!v[i].is_number()) return kNaN;
      if (v[i].get<double>() > best_p) best_p = v[i].get<double>(), best = i;
    }
    return static_cast<double>(best);
  }
  if (model != nullptr) {
    if (auto index = ClassIndex(v, model->classes)) return static_cast<double>(*index);
  }
  return kNaN;
}

}  // namespace

Result<LiveMetrics> MonitorService::LiveMetricsOf(std::string_view endpoint,
                                                  const ServedModel* model,
                                                  const std::vector<PredictionRecord>& records,
                                                  int64_t since, int64_t until) {
  LiveMetrics m;
  m.since = since;
  m.until = until;
  m.requests = static_cast<int64_t>(records.size());
  std::vector<std::string> ids;
  ids.reserve(records.size());
  std::vector<json> outputs;
  outputs.reserve(records.size());
  for (const PredictionRecord& r : records) {
    json out = json::parse(r.outputs, nullptr, false);
    if (out.is_array()) m.predictions += static_cast<int64_t>(out.size());
    outputs.push_back(std::move(out));
    if (!r.request_id.empty()) ids.push_back(r.request_id);
  }
  CAIRN_TRY(std::vector<store::FeedbackLabel> labels, store_.GetFeedbackLabels(endpoint, ids));
  std::unordered_map<std::string, json> by_id;
  for (const auto& l : labels) by_id[l.request_id] = json::parse(l.label_json, nullptr, false);

  std::optional<ml::Task> task = model != nullptr ? model->task : std::nullopt;
  if (task) m.task = std::string(ml::TaskName(*task));
  std::vector<float> y;
  std::vector<float> p;  // binary: P(positive); regression: value; multiclass: K per row
  const size_t k = model != nullptr ? model->classes.size() : 0;
  int64_t positives_predicted = 0;
  for (size_t i = 0; i < records.size(); ++i) {
    auto it = by_id.find(records[i].request_id);
    if (it == by_id.end()) continue;
    ++m.labelled;
    const json& out = outputs[i];
    if (!out.is_array()) continue;
    const size_t rows = out.size();
    const json& label = it->second;
    std::vector<const json*> row_labels;
    if (label.is_array()) {
      if (label.size() == rows) {
        for (const json& l : label) row_labels.push_back(&l);
      }
    } else if (rows == 1) {
      row_labels.push_back(&label);
    }
    if (row_labels.size() != rows || !task) {
      m.unmatched += static_cast<int64_t>(std::max<size_t>(rows, 1));
      continue;
    }
    for (size_t r = 0; r < rows; ++r) {
      const json& pred = out[r];
      const json& lab = *row_labels[r];
      if (*task == ml::Task::kRegression) {
        if (!pred.is_number() || !lab.is_number()) {
          ++m.unmatched;
          continue;
        }
        y.push_back(lab.get<float>());
        p.push_back(pred.get<float>());
      } else {
        auto cls = ClassIndex(lab, model->classes);
        if (!cls) {
          ++m.unmatched;
          continue;
        }
        if (*task == ml::Task::kBinary) {
          double prob = kNaN;
          if (pred.is_number()) {
            prob = pred.get<double>();
          } else if (auto pc = ClassIndex(pred, model->classes)) {
            prob = *pc == 1 ? 1.0 : 0.0;  // a label answer: certain
          }
          if (!std::isfinite(prob)) {
            ++m.unmatched;
            continue;
          }
          y.push_back(static_cast<float>(*cls));
          p.push_back(static_cast<float>(prob));
          if (prob > 0.5) ++positives_predicted;
        } else {
          std::vector<float> probs(k, 0.f);
          if (pred.is_array() && pred.size() == k) {
            bool ok = true;
            for (size_t c = 0; c < k; ++c) {
              if (!pred[c].is_number())
                ok = false;
              else
                probs[c] = pred[c].get<float>();
            }
            if (!ok) {
              ++m.unmatched;
              continue;
            }
          } else if (auto pc = ClassIndex(pred, model->classes)) {
            probs[*pc] = 1.f;
          } else {
            ++m.unmatched;
            continue;
          }
          y.push_back(static_cast<float>(*cls));
          p.insert(p.end(), probs.begin(), probs.end());
        }
      }
      ++m.matched;
    }
  }
  if (!task) {
    if (m.labelled > 0) m.notes.push_back("the model's task is unknown: no live metrics");
    return m;
  }
  if (m.matched == 0) {
    if (m.requests > 0) m.notes.push_back("no prediction of the window has a label yet");
    return m;
  }
  auto metrics = ml::ComputeTaskMetrics(*task, y, p, static_cast<int64_t>(k));
  if (!metrics.ok()) {
    m.notes.push_back(metrics.status().message());
    return m;
  }
  for (const auto& [name, value] : *metrics) {
    if (name == "r2" || name == "f1") continue;  // not among the live metrics Azure shows
    m.values[name] = value;
  }
  if (*task == ml::Task::kBinary) {
    m.values["positive_rate"] = static_cast<double>(positives_predicted) / double(m.matched);
    if (!m.values.contains("auc")) m.notes.push_back("auc: only one class among the labels");
  }
  return m;
}

Result<LiveMetrics> MonitorService::ComputeLiveMetrics(std::string_view endpoint, int64_t since,
                                                       int64_t until) {
  CAIRN_RETURN_IF_ERROR(endpoints_.CheckEndpoint(endpoint));
  if (until <= since) return InvalidArgument("until: must be after since");
  CAIRN_TRY(std::vector<ServedModel> models, endpoints_.ServedModels(endpoint));
  CAIRN_TRY(std::vector<PredictionRecord> records, ReadWindow(endpoint, since, until));
  // The model that answered most of the window (else the one with most traffic) decides the
  // task and classes.
  std::map<std::string, int64_t> seen;
  for (const auto& r : records) ++seen[r.model_version];
  const ServedModel* model = nullptr;
  int64_t best = -1;
  for (const ServedModel& candidate : models) {
    const int64_t score = seen[candidate.model_version] * 1000 + candidate.traffic;
    if (score > best) best = score, model = &candidate;
  }
  return LiveMetricsOf(endpoint, model, records, since, until);
}

Result<std::optional<double>> MonitorService::LiveMetricValue(std::string_view endpoint,
                                                              std::string_view name,
                                                              int64_t window_ms) {
  if (window_ms <= 0) return InvalidArgument("window: must be > 0");
  const int64_t now = clock_.NowMillis();
  CAIRN_TRY(LiveMetrics m, ComputeLiveMetrics(endpoint, now - window_ms, now));
  if (auto it = m.values.find(std::string(name)); it != m.values.end()) {
    return std::optional<double>(it->second);
  }
  if (name == "matched") return std::optional<double>(double(m.matched));
  if (name == "predictions") return std::optional<double>(double(m.predictions));
  if (name == "requests") return std::optional<double>(double(m.requests));
  return std::optional<double>();
}

// --- reports ---

namespace {

// A column's current values out of the window's inputs, with their data quality.
struct ColumnValues {
  std::vector<double> numbers;
  std::vector<std::string> strings;
  ColumnQuality quality;
};

ColumnValues ExtractColumn(const std::vector<ParsedRecord>& records, const std::string& column,
                           const data::ColumnProfile& profile) {
  ColumnValues out;
  const bool numeric = profile.numeric();
  const bool boolean = profile.type == data::ColumnType::kBoolean;
  const bool has_range =
      numeric && profile.count > 0 && std::isfinite(profile.min) && std::isfinite(profile.max);
  for (const ParsedRecord& p : records) {
    if (p.rows == 0) continue;
    out.quality.rows += static_cast<int64_t>(p.rows);
    auto col = p.column_index.find(column);
    if (col == p.column_index.end()) {
      out.quality.missing += static_cast<int64_t>(p.rows);
      continue;
    }
    const json& data = p.inputs["data"];
    for (const json& row : data) {
      if (!row.is_array() || col->second >= row.size() || row[col->second].is_null()) {
        ++out.quality.missing;
        continue;
      }
      const json& v = row[col->second];
      if (numeric) {
        if (!v.is_number()) {
          ++out.quality.type_errors;
          continue;
        }
        const double x = v.get<double>();
        if (has_range && (x < profile.min || x > profile.max)) ++out.quality.out_of_range;
        out.numbers.push_back(x);
      } else if (boolean) {
        if (v.is_boolean()) {
          out.strings.push_back(v.get<bool>() ? "true" : "false");
        } else if (v.is_number() && (v.get<double>() == 0 || v.get<double>() == 1)) {
          out.strings.push_back(v.get<double>() == 1 ? "true" : "false");
        } else if (v.is_string() &&
                   (v.get<std::string>() == "true" || v.get<std::string>() == "false")) {
          out.strings.push_back(v.get<std::string>());
        } else {
          ++out.quality.type_errors;
        }
      } else {
        // String columns: a number or boolean matches a category by its text, as the scorer
        // matches it (tabular.h).
        if (v.is_string()) {
          if (v.get<std::string>().empty()) {
            ++out.quality.missing;
            continue;
          }
          out.strings.push_back(v.get<std::string>());
        } else if (v.is_number()) {
          out.strings.push_back(ml::CanonicalText(v.get<double>()));
        } else if (v.is_boolean()) {
          out.strings.push_back(v.get<bool>() ? "true" : "false");
        } else {
          ++out.quality.type_errors;
        }
      }
    }
  }
  if (out.quality.rows > 0) {
    const double rows = static_cast<double>(out.quality.rows);
    out.quality.missing_rate = double(out.quality.missing) / rows;
    out.quality.type_error_rate = double(out.quality.type_errors) / rows;
    out.quality.out_of_range_rate = double(out.quality.out_of_range) / rows;
  }
  return out;
}

std::vector<double> PredictionValues(const std::vector<ParsedRecord>& records,
                                     const ServedModel* model) {
  std::vector<double> out;
  for (const ParsedRecord& p : records) {
    if (!p.outputs.is_array()) continue;
    for (const json& v : p.outputs) {
      const double x = PredictionNumber(v, model);
      if (std::isfinite(x)) out.push_back(x);
    }
  }
  return out;
}

}  // namespace

Result<MonitorReport> MonitorService::ComputeReport(const ReportRequest& request) {
  CAIRN_RETURN_IF_ERROR(endpoints_.CheckEndpoint(request.endpoint));
  CAIRN_TRY(MonitorConfig config, ConfigOf(request.endpoint));
  const int64_t now = clock_.NowMillis();
  int64_t since = 0;
  int64_t until = 0;
  if (request.since.has_value() != request.until.has_value()) {
    if (request.since) {
      since = *request.since;
      until = now;
    } else {
      return InvalidArgument("since: is required with until");
    }
  } else if (request.since) {
    since = *request.since;
    until = *request.until;
  } else {
    const int64_t window = request.window_ms > 0 ? request.window_ms : config.window_ms;
    until = now;
    since = now - window;
  }
  if (since < 0) return InvalidArgument("since: must be ≥ 0");
  if (until <= since) return InvalidArgument("until: must be after since");
  if (until - since > kMaxWindowMillis) return InvalidArgument("window: at most 366d");

  MonitorReport report;
  report.endpoint = request.endpoint;
  report.since = since;
  report.until = until;
  report.trigger = request.trigger;
  report.drift_share_threshold = config.thresholds.drift_share;

  CAIRN_TRY(std::vector<ServedModel> models, endpoints_.ServedModels(request.endpoint));
  CAIRN_TRY(std::vector<PredictionRecord> records, ReadWindow(request.endpoint, since, until));
  if (static_cast<int64_t>(records.size()) >= kMaxWindowRows) {
    report.notes.push_back("the window was cut at " + std::to_string(kMaxWindowRows) + " requests");
  }
  for (const auto& r : records) {
    ++report.model_versions[r.model_version.empty() ? r.model_uri : r.model_version];
  }
  report.requests = static_cast<int64_t>(records.size());

  // The serving model: the one that answered most of the window, else the most live traffic.
  const ServedModel* model = nullptr;
  {
    int64_t best = -1;
    for (const ServedModel& candidate : models) {
      auto seen = report.model_versions.find(
          candidate.model_version.empty() ? candidate.model_uri : candidate.model_version);
      const int64_t score =
          (seen == report.model_versions.end() ? 0 : seen->second) * 1000 + candidate.traffic;
      if (score > best) best = score, model = &candidate;
    }
  }

  // The baseline.
  std::string baseline_name;
  std::optional<int64_t> baseline_version;
  if (!config.baseline.empty()) {
    CAIRN_TRY(auto ref, ParseBaselineRef(config.baseline, "baseline"));
    baseline_name = ref.first;
    baseline_version = ref.second;
  } else if (model != nullptr && model->dataset) {
    auto ref =
        ParseBaselineRef(model->dataset->name + "@" + model->dataset->version, "cairn.dataset");
    if (!ref.ok())
      return FailedPrecondition("model " + model->model_uri + ": " + ref.status().message());
    baseline_name = ref->first;
    baseline_version = ref->second;
  } else {
    const std::string why = model == nullptr
                                ? "endpoint '" + request.endpoint + "' has no deployment"
                                : "the model of deployment '" + model->deployment +
                                      "' records no training dataset (MLmodel cairn.dataset)";
    return FailedPrecondition(why + "; set a baseline: cairn monitor configure " +
                              request.endpoint + " --baseline NAME@vN");
  }
  std::vector<std::string> wanted = config.columns;
  if (wanted.empty() && model != nullptr) wanted = model->input_columns;
  CAIRN_TRY(BaselineProfile baseline, baselines_.Profile(baseline_name, baseline_version, wanted));
  report.baseline = baseline.dataset + "@v" + std::to_string(baseline.version);
  report.baseline_file = baseline.file;

  // The monitored columns.
  const std::string target = model != nullptr ? model->target : "";
  std::vector<const data::ColumnProfile*> columns;
  if (!config.columns.empty()) {
    for (const std::string& name : config.columns) {
      const data::ColumnProfile* c = baseline.profile.Find(name);
      if (c == nullptr) {
        report.notes.push_back("column '" + name + "' is not in the baseline " + report.baseline);
      } else {
        columns.push_back(c);
      }
    }
  } else if (model != nullptr && !model->input_columns.empty()) {
    for (const std::string& name : model->input_columns) {
      if (name == target) continue;
      const data::ColumnProfile* c = baseline.profile.Find(name);
      if (c == nullptr) {
        report.notes.push_back("input column '" + name + "' is not in the baseline " +
                               report.baseline);
      } else {
        columns.push_back(c);
      }
    }
  } else {
    for (const data::ColumnProfile& c : baseline.profile.columns) {
      if (c.name != target) columns.push_back(&c);
    }
  }

  std::vector<ParsedRecord> parsed = ParseRecords(records, /*want_inputs=*/true);
  for (const ParsedRecord& p : parsed) report.rows += static_cast<int64_t>(p.rows);
  std::vector<ColumnDrift> drifts;
  for (const data::ColumnProfile* profile : columns) {
    ColumnValues values = ExtractColumn(parsed, profile->name, *profile);
    ColumnReport col;
    col.drift =
        profile->numeric()
            ? CompareNumeric(profile->name, *profile, values.numbers, config.thresholds)
            : CompareCategorical(profile->name, *profile, values.strings, config.thresholds);
    col.quality = values.quality;
    drifts.push_back(col.drift);
    report.columns.push_back(std::move(col));
  }
  report.summary = Summarize(drifts, config.thresholds.drift_share);

  // Prediction drift: this window's outputs against the preceding window of equal length.
  {
    PredictionDrift& pd = report.prediction_drift;
    pd.reference_until = since;
    pd.reference_since = std::max<int64_t>(0, since - (until - since));
    CAIRN_TRY(std::vector<PredictionRecord> before,
              ReadWindow(request.endpoint, pd.reference_since, pd.reference_until));
    std::vector<double> reference =
        PredictionValues(ParseRecords(before, /*want_inputs=*/false), model);
    std::vector<double> current = PredictionValues(parsed, model);
    pd.reference_count = static_cast<int64_t>(reference.size());
    pd.current_count = static_cast<int64_t>(current.size());
    const size_t min = std::max<size_t>(config.thresholds.min_current, 1);
    if (reference.size() < min || current.size() < min) {
      pd.drift.column = "prediction";
      pd.drift.kind = "numeric";
      pd.drift.statistic = kNaN;
      pd.drift.p_value = kNaN;
      pd.drift.score = kNaN;
      pd.drift.psi = kNaN;
      pd.drift.reference_count = pd.reference_count;
      pd.drift.current_count = pd.current_count;
      pd.note = "not enough data: " + std::to_string(reference.size()) +
                " predictions in the preceding window and " + std::to_string(current.size()) +
                " in this one (at least " + std::to_string(min) + " each)";
      pd.drift.note = pd.note;
    } else {
      pd.drift = CompareSamples("prediction", reference, current, config.thresholds);
      pd.drift.reference_count = pd.reference_count;  // the whole preceding window
      pd.drift.current_count = pd.current_count;
      pd.note = pd.drift.note;
    }
  }

  CAIRN_TRY(report.live, LiveMetricsOf(request.endpoint, model, records, since, until));
  if (records.empty()) report.notes.push_back("no live prediction was logged in the window");

  report.report_id = NewUuidHex();
  report.creation_time = now;
  CAIRN_RETURN_IF_ERROR(Store(report));
  return report;
}

Status MonitorService::Store(const MonitorReport& report) {
  store::MonitorReportRecord record;
  record.report_id = report.report_id;
  record.endpoint = report.endpoint;
  record.creation_time = report.creation_time;
  record.since = report.since;
  record.until = report.until;
  record.drift_share = report.summary.share;
  record.dataset_drift = report.summary.dataset_drift;
  record.report_json = ToJson(report).dump();
  CAIRN_RETURN_IF_ERROR(store_.CreateMonitorReport(record));
  std::vector<std::function<void(const MonitorReport&)>> listeners;
  {
    std::lock_guard lock(listeners_mu_);
    listeners = listeners_;
  }
  for (const auto& listener : listeners) listener(report);
  return Status::Ok();
}

namespace {

Result<MonitorReport> ReportOf(const store::MonitorReportRecord& record) {
  json j = json::parse(record.report_json, nullptr, false);
  if (j.is_discarded()) return Internal("monitor report '" + record.report_id + "' is not JSON");
  return MonitorReportFromJson(j);
}

}  // namespace

Result<MonitorReport> MonitorService::GetReport(std::string_view endpoint,
                                                std::string_view report_id) {
  CAIRN_RETURN_IF_ERROR(endpoints_.CheckEndpoint(endpoint));
  CAIRN_TRY(store::MonitorReportRecord record, store_.GetMonitorReport(endpoint, report_id));
  return ReportOf(record);
}

Result<ReportPage> MonitorService::ListReports(std::string_view endpoint, int64_t limit,
                                               std::string_view page_token) {
  CAIRN_RETURN_IF_ERROR(endpoints_.CheckEndpoint(endpoint));
  if (limit == 0) limit = 100;
  if (limit < 1 || limit > 1000) return InvalidArgument("limit: expected 1 to 1000");
  store::MonitorReportQuery query;
  query.endpoint = std::string(endpoint);
  query.max_results = limit + 1;
  if (!page_token.empty()) {
    // "<creation_time>.<report_id>" of the previous page's last report.
    const size_t dot = page_token.find('.');
    if (dot == std::string_view::npos) {
      return InvalidArgument("page_token: not a token this server returned");
    }
    int64_t time = 0;
    auto [end, ec] = std::from_chars(page_token.data(), page_token.data() + dot, time);
    if (ec != std::errc() || end != page_token.data() + dot || dot + 1 == page_token.size()) {
      return InvalidArgument("page_token: not a token this server returned");
    }
    query.before_time = time;
    query.before_id = std::string(page_token.substr(dot + 1));
  }
  CAIRN_TRY(std::vector<store::MonitorReportRecord> records, store_.ListMonitorReports(query));
  ReportPage page;
  for (size_t i = 0; i < records.size() && i < static_cast<size_t>(limit); ++i) {
    CAIRN_TRY(MonitorReport report, ReportOf(records[i]));
    page.reports.push_back(std::move(report));
  }
  if (records.size() > static_cast<size_t>(limit)) {
    const auto& last = records[static_cast<size_t>(limit) - 1];
    page.next_page_token = std::to_string(last.creation_time) + "." + last.report_id;
  }
  return page;
}

Result<std::optional<MonitorReport>> MonitorService::LatestReport(std::string_view endpoint) {
  CAIRN_RETURN_IF_ERROR(endpoints_.CheckEndpoint(endpoint));
  CAIRN_TRY(auto records,
            store_.ListMonitorReports({.endpoint = std::string(endpoint), .max_results = 1}));
  if (records.empty()) return std::optional<MonitorReport>();
  CAIRN_TRY(MonitorReport report, ReportOf(records[0]));
  return std::optional<MonitorReport>(std::move(report));
}

Result<MonitorStatus> MonitorService::GetStatus(std::string_view endpoint) {
  MonitorStatus status;
  CAIRN_TRY(status.config, GetConfig(endpoint));
  CAIRN_TRY(status.latest, LatestReport(endpoint));
  const int64_t now = clock_.NowMillis();
  CAIRN_TRY(status.live, ComputeLiveMetrics(endpoint, now - status.config.window_ms, now));
  CAIRN_TRY(status.feedback, store_.CountFeedbackLabels(endpoint));
  return status;
}

// --- background ---

void MonitorService::AddReportListener(std::function<void(const MonitorReport&)> listener) {
  std::lock_guard lock(listeners_mu_);
  listeners_.push_back(std::move(listener));
}

std::vector<MonitorReport> MonitorService::RunDue(int64_t now) {
  std::lock_guard run_lock(run_mu_);
  std::vector<MonitorReport> made;
  auto names = endpoints_.ListEndpoints();
  if (!names.ok()) {
    std::fprintf(stderr, "warning: monitor: %s\n", names.status().message().c_str());
    return made;
  }
  for (const std::string& endpoint : *names) {
    auto config = ConfigOf(endpoint);
    if (!config.ok() || config->interval_ms <= 0) continue;
    int64_t last = 0;
    auto latest = store_.ListMonitorReports({.endpoint = endpoint, .max_results = 1});
    if (latest.ok() && !latest->empty()) last = (*latest)[0].creation_time;
    if (auto it = last_attempt_.find(endpoint); it != last_attempt_.end()) {
      last = std::max(last, it->second);
    }
    if (last == 0) {
      // First seen without a report: the first one is due an interval from now (not at once:
      // a fresh endpoint has no traffic to report on yet).
      last_attempt_[endpoint] = now;
      continue;
    }
    if (now - last < config->interval_ms) continue;
    last_attempt_[endpoint] = now;
    ReportRequest request;
    request.endpoint = endpoint;
    request.since = now - config->window_ms;
    request.until = now;
    request.trigger = "schedule";
    auto report = ComputeReport(request);
    if (!report.ok()) {
      std::fprintf(stderr, "warning: monitor of endpoint '%s': %s\n", endpoint.c_str(),
                   report.status().message().c_str());
      continue;
    }
    made.push_back(std::move(*report));
  }
  return made;
}

void MonitorService::Start(int64_t tick_ms) {
  std::lock_guard lock(thread_mu_);
  if (thread_.joinable()) return;
  stopping_ = false;
  thread_ = std::thread([this, tick_ms] {
    std::unique_lock lock(thread_mu_);
    while (!stopping_) {
      lock.unlock();
      RunDue(clock_.NowMillis());
      lock.lock();
      wake_.wait_for(lock, std::chrono::milliseconds(tick_ms), [this] { return stopping_; });
    }
  });
}

void MonitorService::Stop() {
  std::thread thread;
  {
    std::lock_guard lock(thread_mu_);
    stopping_ = true;
    thread = std::move(thread_);
  }
  wake_.notify_all();
  if (thread.joinable()) thread.join();
}

// --- /metrics ---

namespace {

std::string Escape(std::string_view v) {
  std::string out;
  for (char c : v) {
    if (c == '\\')
      out += "\\\\";
    else if (c == '"')
      out += "\\\"";
    else if (c == '\n')
      out += "\\n";
    else
      out += c;
  }
  return out;
}

std::string FormatValue(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  std::ostringstream out;
  out.precision(17);
  out << v;
  return out.str();
}

// Metric families collected across endpoints, so that each family's samples stay together.
class Families {
 public:
  void Add(const std::string& name, const std::string& help, const std::string& labels,
           double value) {
    auto [it, fresh] = families_.try_emplace(name);
    if (fresh) {
      order_.push_back(name);
      it->second = "# HELP " + name + " " + help + "\n# TYPE " + name + " gauge\n";
    }
    it->second += name + "{" + labels + "} " + FormatValue(value) + "\n";
  }
  std::string Render() const {
    std::string out;
    for (const std::string& name : order_) out += families_.at(name);
    return out;
  }

 private:
  std::vector<std::string> order_;
  std::map<std::string, std::string> families_;
};

}  // namespace

std::string MonitorService::RenderMetrics() {
  Families f;
  auto names = endpoints_.ListEndpoints();
  if (!names.ok()) return "";
  for (const std::string& endpoint : *names) {
    const std::string ep = "endpoint=\"" + Escape(endpoint) + "\"";
    if (auto count = store_.CountFeedbackLabels(endpoint); count.ok()) {
      f.Add("cairn_monitor_feedback_labels", "Ground-truth labels stored for the endpoint.", ep,
            double(*count));
    }
    auto latest = store_.ListMonitorReports({.endpoint = endpoint, .max_results = 1});
    if (!latest.ok() || latest->empty()) continue;
    auto report = ReportOf((*latest)[0]);
    if (!report.ok()) continue;
    const MonitorReport& r = *report;
    f.Add("cairn_monitor_report_timestamp_seconds",
          "When the latest monitor report was computed (Unix time).", ep,
          double(r.creation_time) / 1000.0);
    f.Add("cairn_monitor_drift_share",
          "Share of the monitored columns that drifted in the latest report.", ep, r.summary.share);
    f.Add("cairn_monitor_dataset_drift",
          "1 when the latest report found dataset drift (drift share at or above the threshold).",
          ep, r.summary.dataset_drift ? 1 : 0);
    f.Add("cairn_monitor_drifted_columns", "Columns that drifted in the latest report.", ep,
          r.summary.drifted);
    f.Add("cairn_monitor_monitored_columns", "Columns decided (counted) in the latest report.", ep,
          r.summary.counted);
    for (const ColumnReport& c : r.columns) {
      const std::string cl = ep + ",column=\"" + Escape(c.drift.column) + "\"";
      if (c.drift.counted && std::isfinite(c.drift.score)) {
        f.Add("cairn_monitor_column_drift_score",
              "The latest report's drift score of the column (p-value for ks/chi2/z, distance "
              "otherwise).",
              cl + ",test=\"" + Escape(c.drift.test) + "\"", c.drift.score);
        f.Add("cairn_monitor_column_drifted", "1 when the column drifted in the latest report.", cl,
              c.drift.drifted ? 1 : 0);
      }
      if (std::isfinite(c.drift.psi)) {
        f.Add("cairn_monitor_column_psi",
              "Population stability index of the column in the latest report.", cl, c.drift.psi);
      }
      f.Add("cairn_monitor_column_missing_rate", "Share of the window's rows missing the column.",
            cl, c.quality.missing_rate);
      f.Add("cairn_monitor_column_type_error_rate",
            "Share of the window's rows with a value of the wrong type in the column.", cl,
            c.quality.type_error_rate);
      f.Add("cairn_monitor_column_out_of_range_rate",
            "Share of the window's rows outside the baseline's range in the column.", cl,
            c.quality.out_of_range_rate);
    }
    const ColumnDrift& pd = r.prediction_drift.drift;
    if (pd.counted && std::isfinite(pd.score)) {
      f.Add("cairn_monitor_prediction_drift_score",
            "The latest report's drift score of the predictions against the preceding window.",
            ep + ",test=\"" + Escape(pd.test) + "\"", pd.score);
      f.Add("cairn_monitor_prediction_drifted",
            "1 when the predictions drifted in the latest report.", ep, pd.drifted ? 1 : 0);
    }
    for (const auto& [name, value] : r.live.values) {
      if (!std::isfinite(value)) continue;
      f.Add("cairn_monitor_live_metric",
            "Live model metric over the latest report's window, from ground-truth feedback.",
            ep + ",metric=\"" + Escape(name) + "\"", value);
    }
    f.Add("cairn_monitor_live_matched_rows",
          "Predictions with a ground-truth label in the latest report's window.", ep,
          double(r.live.matched));
  }
  return f.Render();
}

}  // namespace cairn::monitoring
