// cairn monitor drift | status | configure | feedback | reports
#include <CLI/CLI.hpp>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <optional>
#include <sstream>

#include "cli/command.h"
#include "cli/output.h"
#include "client/monitor_client.h"
#include "data/csv_reader.h"

namespace cairn::cli {
namespace {

using client::Json;
using client::MonitorClient;
using client::ReportWindow;

Result<std::unique_ptr<MonitorClient>> Connect(Session& s) {
  return MonitorClient::Connect(s.tracking_uri());
}

double Num(const Json& j, const char* key) {
  auto it = j.find(key);
  return it != j.end() && it->is_number() ? it->get<double>() : std::nan("");
}
std::string Str(const Json& j, const char* key) {
  auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : "";
}
// Four significant digits: a table for people (--output json keeps every digit).
std::string Short(double v) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%.4g", v);
  return buf;
}
std::string NumText(const Json& j, const char* key) {
  const double v = Num(j, key);
  return std::isfinite(v) ? Short(v) : "-";
}
std::string Percent(double share) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%.0f %%", share * 100);
  return buf;
}

// "dataset drift: 12 of 19 columns drifted (63 %) ≥ 50 %"
std::string VerdictLine(const Json& report) {
  const Json& s = report.value("summary", Json::object());
  const int64_t counted = s.value("counted", int64_t(0));
  const int64_t drifted = s.value("drifted", int64_t(0));
  const double share = s.value("share", 0.0);
  const double threshold = s.value("drift_share_threshold", 0.5);
  if (counted == 0) return "no verdict: no column had enough data to decide";
  const bool drift = s.value("dataset_drift", false);
  return std::string(drift ? "dataset drift: " : "no dataset drift: ") + std::to_string(drifted) +
         " of " + std::to_string(counted) + " columns drifted (" + Percent(share) + ") " +
         (drift ? "≥ " : "< ") + Percent(threshold);
}

std::string WindowText(const Json& r) {
  return FormatTimestamp(r.value("since", int64_t(0))) + " → " +
         FormatTimestamp(r.value("until", int64_t(0)));
}

std::string ModelsText(const Json& r) {
  std::string out;
  const Json models = r.value("model_versions", Json::object());
  for (const auto& [model, n] : models.items()) {
    out += (out.empty() ? "" : ", ") + (model.empty() ? std::string("?") : model) + " (" +
           n.dump() + ")";
  }
  return out.empty() ? "-" : out;
}

std::string LiveText(const Json& live) {
  std::string out;
  const Json metrics = live.value("metrics", Json::object());
  for (const auto& [name, v] : metrics.items()) {
    out += (out.empty() ? "" : ", ") + name + " " + (v.is_number() ? Short(v.get<double>()) : "-");
  }
  const std::string counts = std::to_string(live.value("matched", int64_t(0))) + " of " +
                             std::to_string(live.value("predictions", int64_t(0))) +
                             " predictions labelled";
  return out.empty() ? counts : out + " (" + counts + ")";
}

void PrintReport(Session& s, const Json& r) {
  std::ostream& out = s.out();
  out << RenderKeyValues({{"report", Str(r, "report_id")},
                          {"endpoint", Str(r, "endpoint")},
                          {"window", WindowText(r)},
                          {"baseline", Str(r, "baseline") + " (" + Str(r, "baseline_file") + ")"},
                          {"models", ModelsText(r)},
                          {"requests", std::to_string(r.value("requests", int64_t(0))) + " (" +
                                           std::to_string(r.value("rows", int64_t(0))) + " rows)"}})
      << "\n";
  Table table({"COLUMN", "TEST", "STATISTIC", "SCORE", "THRESHOLD", "DRIFTED", "PSI", "MISSING",
               "TYPE ERR", "OUT OF RANGE"});
  for (size_t c : {2u, 3u, 4u, 6u, 7u, 8u, 9u}) table.SetRightAligned(c);
  for (const Json& c : r.value("columns", Json::array())) {
    const Json& q = c.value("quality", Json::object());
    const bool counted = c.value("counted", false);
    std::string drifted = counted ? (c.value("drifted", false) ? "yes" : "no") : "-";
    table.AddRow({Str(c, "column"), counted ? Str(c, "test") : "-", NumText(c, "statistic"),
                  NumText(c, "score"), counted ? NumText(c, "threshold") : "-", drifted,
                  NumText(c, "psi"), Percent(Num(q, "missing_rate")),
                  Percent(Num(q, "type_error_rate")), Percent(Num(q, "out_of_range_rate"))});
  }
  out << table.Render();
  for (const Json& c : r.value("columns", Json::array())) {
    if (!Str(c, "note").empty()) out << "  " << Str(c, "column") << ": " << Str(c, "note") << "\n";
  }
  const Json& pd = r.value("prediction_drift", Json::object());
  const Json reference = {{"since", pd.value("reference_since", int64_t(0))},
                          {"until", pd.value("reference_until", int64_t(0))}};
  out << "\nprediction drift (against " << WindowText(reference) << "): ";
  if (!pd.value("counted", false)) {
    out << Str(pd, "note") << "\n";
  } else {
    out << Str(pd, "test") << " statistic " << NumText(pd, "statistic") << ", score "
        << NumText(pd, "score") << " (threshold " << NumText(pd, "threshold") << "), "
        << (pd.value("drifted", false) ? "drifted" : "not drifted") << ", PSI "
        << NumText(pd, "psi") << "\n";
  }
  out << "live metrics: " << LiveText(r.value("live", Json::object())) << "\n";
  for (const Json& note : r.value("notes", Json::array())) {
    if (note.is_string()) out << "note: " << note.get<std::string>() << "\n";
  }
  out << VerdictLine(r) << "\n";
}

// --- drift ---

struct DriftOptions {
  std::string endpoint;
  ReportWindow window;
};

Status Drift(Session& s, const DriftOptions& o) {
  if (!o.window.window.empty() && !o.window.since.empty()) {
    return InvalidArgument("--window: give --window or --since, not both");
  }
  if (!o.window.until.empty() && o.window.since.empty()) {
    return InvalidArgument("--until: needs --since");
  }
  CAIRN_TRY(auto client, Connect(s));
  CAIRN_TRY(Json report, client->ComputeReport(o.endpoint, o.window));
  if (s.json()) {
    s.out() << RenderJson(report);
  } else {
    PrintReport(s, report);
  }
  return Status::Ok();
}

// --- status ---

struct StatusOptions {
  std::string endpoint;
  int64_t reports = 5;
};

std::string ConfigText(const Json& c) {
  std::string text = "every " + Str(c, "interval") + " over " + Str(c, "window");
  if (Str(c, "interval") == "0s") text = "no scheduled reports; window " + Str(c, "window");
  const Json& t = c.value("thresholds", Json::object());
  text += "; drift share " + NumText(t, "drift_share") + ", p < " + NumText(t, "p_value") +
          ", wasserstein ≥ " + NumText(t, "wasserstein") + ", jensen-shannon ≥ " +
          NumText(t, "jensen_shannon");
  if (!Str(c, "baseline").empty()) text += "; baseline " + Str(c, "baseline");
  if (!c.value("columns", Json::array()).empty()) {
    text += "; columns";
    for (const Json& col : c["columns"]) text += " " + col.get<std::string>();
  }
  if (!c.value("configured", false)) text += " (defaults)";
  return text;
}

Status ShowStatus(Session& s, const StatusOptions& o) {
  CAIRN_TRY(auto client, Connect(s));
  CAIRN_TRY(Json monitor, client->GetMonitor(o.endpoint));
  CAIRN_TRY(Json reports, client->ListReports(o.endpoint, o.reports));
  if (s.json()) {
    monitor["reports"] = reports.value("reports", Json::array());
    s.out() << RenderJson(monitor);
    return Status::Ok();
  }
  const Json& live = monitor.value("live", Json::object());
  s.out() << RenderKeyValues(
      {{"endpoint", o.endpoint},
       {"monitor", ConfigText(monitor.value("config", Json::object()))},
       {"feedback", std::to_string(monitor.value("feedback_labels", int64_t(0))) + " labels"},
       {"live metrics", WindowText(live) + ": " + LiveText(live)}});
  for (const Json& note : live.value("notes", Json::array())) {
    if (note.is_string()) s.out() << "  note: " << note.get<std::string>() << "\n";
  }
  s.out() << "\n";
  Table table({"REPORT", "CREATED", "WINDOW", "TRIGGER", "DRIFTED", "SHARE", "DATASET DRIFT",
               "PREDICTION DRIFT", "BASELINE"});
  for (const Json& r : reports.value("reports", Json::array())) {
    const Json& sum = r.value("summary", Json::object());
    const Json& pd = r.value("prediction_drift", Json::object());
    table.AddRow(
        {Str(r, "report_id").substr(0, 8), FormatTimestamp(r.value("creation_time", int64_t(0))),
         FormatDuration(r.value("until", int64_t(0)) - r.value("since", int64_t(0))),
         Str(r, "trigger"),
         std::to_string(sum.value("drifted", 0)) + "/" + std::to_string(sum.value("counted", 0)),
         Percent(sum.value("share", 0.0)), sum.value("dataset_drift", false) ? "yes" : "no",
         pd.value("counted", false) ? (pd.value("drifted", false) ? "yes" : "no") : "-",
         Str(r, "baseline")});
  }
  if (table.rows() == 0) {
    s.out() << "No reports yet (cairn monitor drift " << o.endpoint << " computes one).\n";
  } else {
    s.out() << table.Render();
  }
  if (monitor.contains("latest_report")) {
    s.out() << "latest: " << VerdictLine(monitor["latest_report"]) << "\n";
  }
  return Status::Ok();
}

// --- reports ---

struct ReportsOptions {
  std::string endpoint;
  std::string report_id;
};

Status ShowReport(Session& s, const ReportsOptions& o) {
  CAIRN_TRY(auto client, Connect(s));
  CAIRN_TRY(Json report, client->GetReport(o.endpoint, o.report_id));
  if (s.json()) {
    s.out() << RenderJson(report);
  } else {
    PrintReport(s, report);
  }
  return Status::Ok();
}

// --- configure ---

struct ConfigureOptions {
  std::string endpoint;
  std::optional<std::string> interval;
  std::optional<std::string> window;
  std::optional<std::string> baseline;
  std::optional<double> drift_share;
  std::optional<double> p_value;
  std::optional<double> wasserstein;
  std::optional<double> jensen_shannon;
  std::optional<double> psi;
  std::optional<std::vector<std::string>> columns;
  bool all_columns = false;
};

Status Configure(Session& s, const ConfigureOptions& o) {
  Json patch = Json::object();
  if (o.interval) patch["interval"] = *o.interval;
  if (o.window) patch["window"] = *o.window;
  if (o.baseline) patch["baseline"] = *o.baseline;
  if (o.drift_share) patch["drift_share"] = *o.drift_share;
  Json thresholds = Json::object();
  if (o.p_value) thresholds["p_value"] = *o.p_value;
  if (o.wasserstein) thresholds["wasserstein"] = *o.wasserstein;
  if (o.jensen_shannon) thresholds["jensen_shannon"] = *o.jensen_shannon;
  if (o.psi) thresholds["psi"] = *o.psi;
  if (!thresholds.empty()) patch["thresholds"] = thresholds;
  if (o.columns) patch["columns"] = *o.columns;
  if (o.all_columns) patch["columns"] = Json::array();
  CAIRN_TRY(auto client, Connect(s));
  CAIRN_TRY(Json config, client->Configure(o.endpoint, patch));
  if (s.json()) {
    s.out() << RenderJson(config);
  } else {
    s.out() << "Monitor of " << o.endpoint << ": " << ConfigText(config) << "\n";
  }
  return Status::Ok();
}

// --- feedback ---

struct FeedbackOptions {
  std::string endpoint;
  std::string file;
  int64_t batch = 10000;
};

// A CSV cell as a label: a JSON list ("[0,1]") as it is, a number as a number, else the text.
Json LabelOf(std::string_view cell) {
  if (!cell.empty() && cell.front() == '[') {
    Json j = Json::parse(cell, nullptr, false);
    if (!j.is_discarded()) return j;
  }
  if (auto n = data::ParseInteger(cell)) return *n;
  if (auto f = data::ParseFloat(cell)) return *f;
  return std::string(cell);
}

class FeedbackCsv : public data::CsvVisitor {
 public:
  explicit FeedbackCsv(Json& labels) : labels_(labels) {}
  Status OnHeader(std::span<const std::string> names) override {
    for (size_t i = 0; i < names.size(); ++i) {
      if (names[i] == "request_id") id_ = i;
      if (names[i] == "label") label_ = i;
    }
    if (id_ == kNone || label_ == kNone) {
      return InvalidArgument("--file: the CSV needs the columns request_id and label");
    }
    return Status::Ok();
  }
  Status OnRow(std::span<const std::string_view> fields, int64_t line) override {
    if (fields[id_].empty()) {
      return InvalidArgument("--file: line " + std::to_string(line) + ": empty request_id");
    }
    labels_.push_back(
        {{"request_id", std::string(fields[id_])}, {"label", LabelOf(fields[label_])}});
    return Status::Ok();
  }

 private:
  static constexpr size_t kNone = size_t(-1);
  Json& labels_;
  size_t id_ = kNone;
  size_t label_ = kNone;
};

Result<Json> ReadLabels(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return NotFound("--file: cannot read " + path);
  std::stringstream buffer;
  buffer << in.rdbuf();
  const std::string text = buffer.str();
  Json labels = Json::array();
  const size_t first = text.find_first_not_of(" \t\r\n");
  if (first != std::string::npos && text[first] == '{') {  // JSON lines
    std::istringstream lines(text);
    std::string line;
    int64_t n = 0;
    while (std::getline(lines, line)) {
      ++n;
      if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
      Json j = Json::parse(line, nullptr, false);
      if (j.is_discarded() || !j.is_object()) {
        return InvalidArgument("--file: line " + std::to_string(n) + ": not a JSON object");
      }
      labels.push_back(std::move(j));
    }
  } else {
    FeedbackCsv visitor(labels);
    data::CsvParser parser(visitor);
    CAIRN_RETURN_IF_ERROR(parser.Feed(text));
    CAIRN_RETURN_IF_ERROR(parser.Finish());
  }
  if (labels.empty()) return InvalidArgument("--file: no labels in " + path);
  return labels;
}

Status Feedback(Session& s, const FeedbackOptions& o) {
  if (o.batch < 1 || o.batch > 10000) return InvalidArgument("--batch: expected 1 to 10000");
  CAIRN_TRY(Json labels, ReadLabels(o.file));
  CAIRN_TRY(auto client, Connect(s));
  int64_t stored = 0;
  for (size_t begin = 0; begin < labels.size(); begin += static_cast<size_t>(o.batch)) {
    const size_t end = std::min(labels.size(), begin + static_cast<size_t>(o.batch));
    Json batch(labels.begin() + static_cast<std::ptrdiff_t>(begin),
               labels.begin() + static_cast<std::ptrdiff_t>(end));
    auto n = client->PostFeedback(o.endpoint, batch);
    if (!n.ok()) {
      // Item indexes in the server's message are of this batch; say where it starts.
      return Status(n.status().code(),
                    n.status().message() +
                        (begin > 0 ? " (in the batch starting at label " + std::to_string(begin) +
                                         ", " + std::to_string(stored) + " labels stored before it)"
                                   : ""));
    }
    stored += *n;
  }
  if (s.json()) {
    s.out() << RenderJson({{"endpoint", o.endpoint}, {"stored", stored}});
  } else {
    s.out() << "Stored " << stored << " labels for endpoint " << o.endpoint << "\n";
  }
  return Status::Ok();
}

template <typename T>
void Run(CLI::App* app, GlobalOptions& g, std::shared_ptr<T> options,
         Status (*fn)(Session&, const T&)) {
  app->callback(
      [&g, options, fn] { SetCommand(g, [options, fn](Session& s) { return fn(s, *options); }); });
}

}  // namespace

void AddMonitorCommands(CLI::App& app, GlobalOptions& g) {
  CLI::App* noun = app.add_subcommand(
      "monitor", "Endpoint monitoring: data and prediction drift, data quality, live metrics");
  noun->require_subcommand(1);
  const char* kTimeHelp = "ms since the epoch or ISO 8601 UTC (2024-05-01T12:00:00Z)";

  auto drift = std::make_shared<DriftOptions>();
  CLI::App* d = noun->add_subcommand(
      "drift", "Compute a drift report of an endpoint's live data now and print it");
  d->add_option("endpoint", drift->endpoint, "Endpoint name")->required();
  d->add_option("--window", drift->window.window, "The last WINDOW up to now (e.g. 1h, 30m)");
  d->add_option("--since", drift->window.since, std::string("From (") + kTimeHelp + ")");
  d->add_option("--until", drift->window.until, "Until (same forms; default now)");
  Run(d, g, drift, &Drift);

  auto status = std::make_shared<StatusOptions>();
  CLI::App* st = noun->add_subcommand(
      "status", "Show an endpoint's monitor: configuration, latest reports, live metrics");
  st->add_option("endpoint", status->endpoint, "Endpoint name")->required();
  st->add_option("--reports", status->reports, "How many recent reports (default 5)")
      ->check(CLI::Range(1, 1000));
  Run(st, g, status, &ShowStatus);

  auto show = std::make_shared<ReportsOptions>();
  CLI::App* sh = noun->add_subcommand("show", "Print a stored drift report");
  sh->add_option("endpoint", show->endpoint, "Endpoint name")->required();
  sh->add_option("report", show->report_id, "Report id (from monitor status)")->required();
  Run(sh, g, show, &ShowReport);

  auto configure = std::make_shared<ConfigureOptions>();
  CLI::App* c = noun->add_subcommand(
      "configure", "Change an endpoint's monitor (options not given keep their value)");
  c->add_option("endpoint", configure->endpoint, "Endpoint name")->required();
  c->add_option("--interval", configure->interval,
                "Compute a report this often (e.g. 10m; 0 turns scheduled reports off)");
  c->add_option("--window", configure->window, "The window of scheduled reports (e.g. 1h)");
  c->add_option("--baseline", configure->baseline,
                "Compare with this dataset version (NAME@vN) instead of the model's training "
                "data (\"\" to go back to it)");
  c->add_option("--drift-share", configure->drift_share,
                "Dataset drift when at least this share of the columns drift (default 0.5)");
  c->add_option("--p-value", configure->p_value, "KS / chi-squared / z drift below (0.05)");
  c->add_option("--wasserstein", configure->wasserstein, "Normalized Wasserstein drift from (0.1)");
  c->add_option("--jensen-shannon", configure->jensen_shannon,
                "Jensen-Shannon distance drift from (0.1)");
  c->add_option("--psi", configure->psi, "PSI level reported as significant (0.2)");
  c->add_option("--columns", configure->columns, "Monitor only these columns")->delimiter(',');
  c->add_flag("--all-columns", configure->all_columns,
              "Monitor all of the model's input columns again");
  Run(c, g, configure, &Configure);

  auto feedback = std::make_shared<FeedbackOptions>();
  CLI::App* f = noun->add_subcommand(
      "feedback", "Post ground-truth labels of scored requests (by their x-request-id)");
  f->add_option("endpoint", feedback->endpoint, "Endpoint name")->required();
  f->add_option("--file,-f", feedback->file,
                "CSV with columns request_id,label (a label may be a JSON list for a request of "
                "several rows), or JSON lines {\"request_id\", \"label\"}")
      ->required();
  f->add_option("--batch", feedback->batch, "Labels per request (at most 10000)");
  Run(f, g, feedback, &Feedback);
}

}  // namespace cairn::cli
