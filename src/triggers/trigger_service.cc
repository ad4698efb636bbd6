#include "triggers/trigger_service.h"

#include <chrono>
#include <cstdio>

#include "pipelines/spec.h"
#include "triggers/cron.h"
#include "triggers/trigger_spec.h"

namespace cairn::triggers {

namespace {

using Json = nlohmann::json;

Json ParseObject(const std::string& text) {
  Json j = Json::parse(text, nullptr, false);
  return j.is_discarded() ? Json::object() : j;
}

std::string Num(double v) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%.4g", v);
  return buf;
}

int64_t IntOf(const Json& j, const char* key, int64_t fallback = 0) {
  return j.is_object() && j.contains(key) && j[key].is_number_integer() ? j[key].get<int64_t>()
                                                                          : fallback;
}

std::string StrOf(const Json& j, const char* key) {
  return j.is_object() && j.contains(key) && j[key].is_string() ? j[key].get<std::string>() : "";
}

}  // namespace

struct TriggerService::Check {
  bool fire = false;
  std::string reason;
  std::map<std::string, std::string> context;
  Json next_state;
  bool consumed_when_held = false;  // the event is used up even when the firing is held back
};

TriggerService::TriggerService(store::MetadataStore& store, pipelines::PipelineEngine& engine,
                               const pipelines::StepTable& table, Signals& signals,
                               const Clock& clock, TriggerServiceOptions options)
    : store_(store),
      engine_(engine),
      table_(table),
      signals_(signals),
      clock_(clock),
      options_(options) {}

TriggerService::~TriggerService() { Stop(); }

// --- stored pipelines ------------------------------------------------------------------------

Result<store::PipelineDefinition> TriggerService::CreateDefinition(std::string_view yaml,
                                                                   std::string_view file,
                                                                   std::string_view user) {
  const std::string file_name = file.empty() ? "pipeline.yaml" : std::string(file);
  CAIRN_TRY(pipelines::PipelineSpec spec, pipelines::LoadPipeline(yaml, file_name, table_));
  CAIRN_TRY(std::vector<TriggerDef> defs, DeriveTriggers(spec.name, spec.triggers));
  std::lock_guard lock(mu_);
  const int64_t now = clock_.NowMillis();
  CAIRN_TRY(auto existing, store_.ListTriggers(spec.name));
  std::vector<store::TriggerRecord> records;
  for (const TriggerDef& d : defs) {
    store::TriggerRecord r;
    r.trigger_id = d.id;
    r.pipeline = spec.name;
    r.position = d.position;
    r.kind = d.kind;
    r.condition = d.condition.dump();
    r.state = InitialState(d.kind, d.condition, now).dump();
    for (const store::TriggerRecord& old : existing) {
      if (old.trigger_id != d.id) continue;
      // The same trigger: its flag, history and dedup reference stay; its memory only while it
      // still watches the same thing.
      r.enabled = old.enabled;
      r.last_fired_time = old.last_fired_time;
      r.last_run_id = old.last_run_id;
      r.last_reason = old.last_reason;
      r.held_time = old.held_time;
      r.held_reason = old.held_reason;
      if (old.kind == d.kind && ParseObject(old.condition) == d.condition) r.state = old.state;
    }
    records.push_back(std::move(r));
  }
  store::PipelineDefinition def;
  def.name = spec.name;
  def.spec = std::string(yaml);
  def.file = file_name;
  def.created_by = std::string(user);
  return store_.PutPipelineDefinition(def, records);
}

Result<std::vector<store::PipelineDefinition>> TriggerService::ListDefinitions() {
  return store_.ListPipelineDefinitions();
}

Result<store::PipelineDefinition> TriggerService::GetDefinition(std::string_view name) {
  return store_.GetPipelineDefinition(name);
}

Status TriggerService::DeleteDefinition(std::string_view name) {
  std::lock_guard lock(mu_);
  return store_.DeletePipelineDefinition(name);
}

Result<store::PipelineRun> TriggerService::RunDefinition(
    std::string_view name, const std::map<std::string, std::string>& params,
    std::string_view user) {
  CAIRN_TRY(store::PipelineDefinition def, store_.GetPipelineDefinition(name));
  pipelines::StartRequest start;
  start.yaml = def.spec;
  start.file = def.file;
  start.params = params;
  start.user = std::string(user);
  return engine_.Submit(start);
}

// --- triggers --------------------------------------------------------------------------------

Result<std::vector<store::TriggerRecord>> TriggerService::ListTriggers(std::string_view pipeline) {
  if (!pipeline.empty()) CAIRN_RETURN_IF_ERROR(store_.GetPipelineDefinition(pipeline).status());
  return store_.ListTriggers(pipeline);
}

Result<TriggerDetails> TriggerService::GetTrigger(std::string_view trigger_id) {
  TriggerDetails out;
  CAIRN_TRY(out.trigger, store_.GetTrigger(trigger_id));
  CAIRN_TRY(out.firings, store_.ListTriggerFirings(trigger_id, options_.firings_shown));
  return out;
}

Result<store::TriggerRecord> TriggerService::SetEnabled(std::string_view trigger_id,
                                                        bool enabled) {
  std::lock_guard lock(mu_);
  CAIRN_TRY(store::TriggerRecord t, store_.GetTrigger(trigger_id));
  store::TriggerUpdate update;
  update.trigger_id = t.trigger_id;
  update.enabled = enabled;
  if (enabled && !t.enabled && t.kind == "schedule") {
    // The times missed while disabled are not made up for.
    update.state = InitialState(t.kind, ParseObject(t.condition), clock_.NowMillis()).dump();
  }
  return store_.UpdateTrigger(update);
}

Json TriggerService::InitialState(std::string_view kind, const Json& condition,
                                  int64_t now) const {
  if (kind == "schedule" && condition.is_string()) {
    auto cron = CronSchedule::Parse(condition.get<std::string>());
    if (cron.ok()) return Json{{"next", cron->NextAfter(now)}};
  }
  return Json::object();
}

// --- evaluation ------------------------------------------------------------------------------

Result<TriggerService::Check> TriggerService::CheckCondition(const store::TriggerRecord& t,
                                                             const Json& c, const Json& state,
                                                             int64_t now) {
  Check out;
  out.next_state = state.is_object() ? state : Json::object();
  out.context["trigger"] = t.trigger_id;
  if (t.kind == "schedule") {
    CAIRN_TRY(CronSchedule cron, CronSchedule::Parse(c.is_string() ? c.get<std::string>() : ""));
    const int64_t next = IntOf(state, "next", -2);
    if (next == -2) {  // no memory yet: wait for the next time after now
      out.next_state["next"] = cron.NextAfter(now);
      return out;
    }
    if (next < 0 || now < next) return out;
    int64_t scheduled = next;
    int64_t missed = 0;
    for (int64_t n = cron.NextAfter(scheduled); n >= 0 && n <= now && missed < 1'000'000;
         n = cron.NextAfter(scheduled)) {
      scheduled = n;
      ++missed;
    }
    out.fire = true;
    out.consumed_when_held = true;
    out.next_state["next"] = cron.NextAfter(now);
    out.reason = "scheduled at " + FormatUtc(scheduled) +
                 (missed > 0 ? " (with " + std::to_string(missed) +
                                   " earlier missed time" + (missed > 1 ? "s" : "") +
                                   " coalesced)"
                             : "");
    out.context["scheduled_time"] = FormatUtc(scheduled);
    return out;
  }
  if (t.kind == "drift") {
    const std::string endpoint = StrOf(c, "endpoint");
    CAIRN_TRY(auto report, signals_.LatestDriftReport(endpoint));
    if (!report || report->id == StrOf(state, "report")) return out;
    out.next_state["report"] = report->id;
    out.next_state["report_time"] = report->time;
    out.consumed_when_held = true;
    const double threshold = c.value("threshold", 0.0);
    out.context["endpoint"] = endpoint;
    out.context["drift_share"] = Num(report->share);
    out.context["drift_report"] = report->id;
    if (!c.contains("column")) {
      if (report->share >= threshold) {
        out.fire = true;
        out.reason = "drift share " + Num(report->share) + " ≥ " + Num(threshold) + " in report " +
                     report->id;
      }
      return out;
    }
    const std::string column = StrOf(c, "column");
    const std::string statistic = StrOf(c, "statistic").empty() ? "score" : StrOf(c, "statistic");
    auto col = report->columns.find(column);
    if (col == report->columns.end()) return out;
    double value = col->second.score;
    if (statistic != "score") {
      auto v = col->second.values.find(statistic);
      if (v == col->second.values.end()) return out;
      value = v->second;
    }
    const bool p_value = IsPValue(statistic, col->second.test);
    const std::string label =
        "column " + column + " " +
        (statistic == "score" ? col->second.test + (p_value ? " p-value" : " distance")
                              : statistic);
    if (p_value ? value < threshold : value >= threshold) {
      out.fire = true;
      out.reason = label + " " + Num(value) + (p_value ? " < " : " ≥ ") + Num(threshold) +
                   " in report " + report->id;
    }
    return out;
  }
  if (t.kind == "metric") {
    const int64_t window = IntOf(c, "window_ms", 3'600'000);
    const int64_t last = IntOf(state, "last_fired");
    if (last > 0 && now - last < window) return out;
    const std::string endpoint = StrOf(c, "endpoint");
    const std::string name = StrOf(c, "name");
    CAIRN_TRY(auto metric, signals_.LiveMetricOver(endpoint, name, now - window, now));
    const int64_t min_count = IntOf(c, "min_count", 50);
    const double below = c.value("below", 0.0);
    if (!metric || metric->count < min_count || !(metric->value < below)) return out;
    out.fire = true;
    out.next_state["last_fired"] = now;
    out.reason = name + " " + Num(metric->value) + " < " + Num(below) + " over the last " +
                 StrOf(c, "window") + " (" + std::to_string(metric->count) +
                 " labelled predictions)";
    out.context["endpoint"] = endpoint;
    out.context["metric"] = name;
    out.context["metric_value"] = Num(metric->value);
    return out;
  }
  if (t.kind == "dataset") {
    const std::string name = StrOf(c, "name");
    CAIRN_TRY(auto latest, signals_.LatestDatasetVersion(name));
    const int64_t version = latest.value_or(0);
    if (!state.is_object() || !state.contains("version")) {
      out.next_state["version"] = version;  // the first look only records
      return out;
    }
    const int64_t seen = IntOf(state, "version");
    if (version <= seen) return out;
    out.fire = true;
    out.next_state["version"] = version;
    out.reason = "dataset " + name + " has a new version v" + std::to_string(version) +
                 (seen > 0 ? " (after v" + std::to_string(seen) + ")" : " (its first)");
    out.context["dataset"] = name;
    out.context["dataset_version"] = std::to_string(version);
    return out;
  }
  return InvalidArgument("unknown trigger kind '" + t.kind + "'");
}

Evaluation TriggerService::EvaluateOne(const store::TriggerRecord& t, int64_t now) {
  Evaluation e;
  e.trigger_id = t.trigger_id;
  const Json state = ParseObject(t.state);
  auto checked = CheckCondition(t, ParseObject(t.condition), state, now);
  if (!checked.ok()) {
    e.outcome = Evaluation::Outcome::kFailed;
    e.reason = checked.status().message();
    return e;
  }
  Check& check = *checked;
  store::TriggerUpdate update;
  update.trigger_id = t.trigger_id;
  if (!check.fire) {
    if (check.next_state != state) {
      update.state = check.next_state.dump();
      (void)store_.UpdateTrigger(update);
    }
    return e;
  }
  e.reason = check.reason;
  check.context["reason"] = check.reason;
  // Dedup: one run in flight per trigger.
  if (!t.last_run_id.empty()) {
    auto last = store_.GetPipelineRun(t.last_run_id);
    if (last.ok() && !store::IsTerminal(last->status)) {
      e.outcome = Evaluation::Outcome::kHeld;
      e.run_id = last->run_id;
      if (check.consumed_when_held) update.state = check.next_state.dump();
      update.held_time = now;
      update.held_reason = check.reason + "; held back: run " + last->run_id + " is still " +
                           std::string(store::PipelineRunStatusName(last->status));
      (void)store_.UpdateTrigger(update);
      return e;
    }
  }
  store::TriggerFiring firing;
  firing.trigger_id = t.trigger_id;
  firing.pipeline = t.pipeline;
  firing.kind = t.kind;
  firing.time = now;
  firing.reason = check.reason;
  firing.context = Json(check.context).dump();
  firing.user = "trigger:" + t.trigger_id;
  Result<store::PipelineRun> run = InvalidArgument("");
  auto def = store_.GetPipelineDefinition(t.pipeline);
  if (!def.ok()) {
    run = def.status();
  } else if (auto spec = pipelines::LoadPipeline(def->spec, def->file, table_); !spec.ok()) {
    run = spec.status();
  } else {
    // Only the parameters the pipeline declares.
    pipelines::StartRequest start;
    start.yaml = def->spec;
    start.file = def->file;
    start.user = firing.user;
    for (const auto& [k, v] : check.context) {
      if (spec->params.contains(k)) start.params[k] = v;
    }
    run = engine_.Submit(start);
  }
  update.state = check.next_state.dump();
  update.last_fired_time = now;
  update.last_reason = check.reason;
  if (run.ok()) {
    firing.run_id = run->run_id;
    update.last_run_id = run->run_id;
    e.outcome = Evaluation::Outcome::kFired;
    e.run_id = run->run_id;
  } else {
    firing.error = run.status().message();
    update.last_run_id = "";
    update.last_reason = check.reason + "; the run could not start: " + firing.error;
    e.outcome = Evaluation::Outcome::kFailed;
    e.reason = *update.last_reason;
  }
  if (auto recorded = store_.RecordTriggerFiring(firing, update); !recorded.ok()) {
    std::fprintf(stderr, "warning: trigger %s: %s\n", t.trigger_id.c_str(),
                 recorded.status().message().c_str());
  }
  return e;
}

std::vector<Evaluation> TriggerService::Evaluate(int64_t now) {
  std::lock_guard lock(mu_);
  std::vector<Evaluation> out;
  auto triggers = store_.ListTriggers("");
  if (!triggers.ok()) return out;
  for (const store::TriggerRecord& t : *triggers) {
    if (!t.enabled) continue;
    out.push_back(EvaluateOne(t, now));
  }
  return out;
}

void TriggerService::Start() {
  std::lock_guard lock(loop_mu_);
  if (thread_.joinable()) return;
  stopping_ = false;
  thread_ = std::thread([this] { Loop(); });
}

void TriggerService::Stop() {
  {
    std::lock_guard lock(loop_mu_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void TriggerService::Poke() {
  {
    std::lock_guard lock(loop_mu_);
    poked_ = true;
  }
  wake_.notify_all();
}

void TriggerService::Loop() {
  while (true) {
    for (const Evaluation& e : Evaluate(clock_.NowMillis())) {
      if (e.outcome == Evaluation::Outcome::kFired) {
        std::fprintf(stderr, "cairn: trigger %s fired (%s): pipeline run %s\n",
                     e.trigger_id.c_str(), e.reason.c_str(), e.run_id.c_str());
      } else if (e.outcome == Evaluation::Outcome::kFailed && !e.reason.empty()) {
        std::fprintf(stderr, "warning: trigger %s: %s\n", e.trigger_id.c_str(), e.reason.c_str());
      }
    }
    std::unique_lock lock(loop_mu_);
    wake_.wait_for(lock, std::chrono::milliseconds(options_.tick_ms),
                   [this] { return poked_ || stopping_; });
    if (stopping_) return;
    poked_ = false;
  }
}

}  // namespace cairn::triggers
