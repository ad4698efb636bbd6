#include "pipelines/engine.h"

#include <algorithm>
#include <atomic>
#include <chrono>

#include "core/ids.h"
#include "pipelines/expression.h"

namespace cairn::pipelines {

namespace {

using Json = nlohmann::json;
using store::PipelineRun;
using store::PipelineRunStatus;
using store::StepRun;
using store::StepRunStatus;

constexpr char kApprovalType[] = "gate.approval";

std::string StatusWord(StepRunStatus s) {
  switch (s) {
    case StepRunStatus::kFailed: return "failed";
    case StepRunStatus::kSkipped: return "was skipped";
    case StepRunStatus::kCancelled: return "was cancelled";
    default: return std::string(store::StepRunStatusName(s));
  }
}

// "is queued", "already succeeded", "failed", …: a step's state in a sentence.
std::string Describe(StepRunStatus s) {
  switch (s) {
    case StepRunStatus::kQueued: return "is queued (its needs have not finished)";
    case StepRunStatus::kRunning: return "is running";
    case StepRunStatus::kWaiting: return "is waiting";
    case StepRunStatus::kSucceeded: return "already succeeded";
    default: return StatusWord(s);
  }
}

Json ParseOutputs(const std::string& text) {
  Json j = Json::parse(text, nullptr, /*allow_exceptions=*/false);
  return j.is_object() ? j : Json::object();
}

// `with` with every reference replaced by its value (strings only; lists and maps recursively).
Result<Json> SubstituteAll(const Json& value, const Resolver& resolve) {
  if (value.is_string()) {
    CAIRN_TRY(std::string s, Substitute(value.get<std::string>(), resolve));
    return Json(s);
  }
  if (value.is_array()) {
    Json out = Json::array();
    for (const Json& item : value) {
      CAIRN_TRY(Json v, SubstituteAll(item, resolve));
      out.push_back(std::move(v));
    }
    return out;
  }
  if (value.is_object()) {
    Json out = Json::object();
    for (const auto& [k, item] : value.items()) {
      CAIRN_TRY(Json v, SubstituteAll(item, resolve));
      out[k] = std::move(v);
    }
    return out;
  }
  return value;
}

}  // namespace

struct PipelineEngine::Active {
  std::string run_id;
  std::string step_id;
  std::mutex mu;
  std::condition_variable cv;
  bool cancel = false;
  std::thread thread;

  void RequestCancel() {
    std::lock_guard lock(mu);
    cancel = true;
    cv.notify_all();
  }
  bool Cancelled() {
    std::lock_guard lock(mu);
    return cancel;
  }
};

struct PipelineEngine::Loaded {
  PipelineSpec spec;
  std::map<std::string, std::string> params;
};

PipelineEngine::PipelineEngine(const StepTable& table, store::MetadataStore& store,
                               const Clock& clock, RunRecorder* recorder, EngineOptions options)
    : table_(table), store_(store), clock_(clock), recorder_(recorder),
      options_(std::move(options)) {}

PipelineEngine::~PipelineEngine() { Stop(); }

Status PipelineEngine::Start() {
  {
    std::lock_guard lock(mu_);
    if (started_) return FailedPrecondition("the pipeline engine is already started");
    started_ = true;
  }
  store::PipelineRunQuery unfinished;
  unfinished.statuses = {PipelineRunStatus::kQueued, PipelineRunStatus::kRunning};
  unfinished.max_results = 100000;
  CAIRN_TRY(std::vector<PipelineRun> runs, store_.ListPipelineRuns(unfinished));
  for (const PipelineRun& run : runs) {
    for (const StepRun& step : run.steps) {
      if (step.status != StepRunStatus::kRunning) continue;
      // Cut short by the last process: it runs again from its start (steps are safe to rerun).
      store::StepRunUpdate requeue;
      requeue.pipeline_run_id = run.run_id;
      requeue.step_id = step.step_id;
      requeue.if_status = {StepRunStatus::kRunning};
      requeue.status = StepRunStatus::kQueued;
      CAIRN_RETURN_IF_ERROR(store_.UpdateStepRun(requeue).status());
      Log(run.run_id, step.step_id,
          "server restarted while the step was running (attempt " +
              std::to_string(step.attempt) + "); running it again");
    }
  }
  scheduler_ = std::thread([this] { Loop(); });
  return Status::Ok();
}

void PipelineEngine::Stop() {
  std::vector<std::shared_ptr<Active>> actives;
  {
    std::lock_guard lock(mu_);
    if (stopping_) return;
    stopping_ = true;
    for (auto& [key, a] : active_) actives.push_back(a);
    ++generation_;
  }
  wake_.notify_all();
  for (auto& a : actives) a->RequestCancel();
  if (scheduler_.joinable()) scheduler_.join();
  // Steps return on their own once they see the cancellation.
  std::unique_lock lock(mu_);
  changed_.wait(lock, [&] { return active_.empty(); });
  std::vector<std::thread> threads = std::move(finished_threads_);
  lock.unlock();
  for (std::thread& t : threads) t.join();
}

void PipelineEngine::Notify() {
  {
    std::lock_guard lock(mu_);
    ++generation_;
  }
  wake_.notify_all();
  changed_.notify_all();
}

void PipelineEngine::Poke() { Notify(); }

bool PipelineEngine::IsActive(const std::string& run_id, const std::string& step_id) {
  std::lock_guard lock(mu_);
  return active_.contains({run_id, step_id});
}

void PipelineEngine::Log(const std::string& run_id, const std::string& step_id,
                         std::string_view line) {
  // Best effort: a log line that cannot be written must not fail the step.
  (void)store_.AppendStepLog(run_id, step_id, std::string(line) + "\n");
}

Result<store::PipelineRun> PipelineEngine::Submit(const StartRequest& request) {
  CAIRN_TRY(PipelineSpec spec, LoadPipeline(request.yaml, request.file, table_));
  CAIRN_TRY(auto params, ResolveParams(spec, request.params));
  PipelineRun run;
  run.run_id = NewUuidHex();
  run.name = spec.name;
  run.file = request.file;
  run.spec = request.yaml;
  run.params = Json(params).dump();
  run.created_by = request.user;
  run.status = PipelineRunStatus::kQueued;
  run.creation_time = clock_.NowMillis();
  int64_t position = 0;
  for (const StepSpec& s : spec.steps) {
    StepRun step;
    step.step_id = s.id;
    step.position = position++;
    step.uses = s.uses;
    run.steps.push_back(std::move(step));
  }
  CAIRN_TRY(PipelineRun stored, store_.CreatePipelineRun(run));
  Notify();
  return stored;
}

Result<store::PipelineRun> PipelineEngine::Cancel(std::string_view run_id) {
  store::PipelineRunUpdate update;
  update.run_id = std::string(run_id);
  update.if_status = {PipelineRunStatus::kQueued, PipelineRunStatus::kRunning};
  update.cancel_requested = true;
  Result<PipelineRun> run = store_.UpdatePipelineRun(update);
  if (!run.ok() && run.status().code() == StatusCode::kFailedPrecondition) {
    return FailedPrecondition("pipeline run '" + std::string(run_id) + "' already ended");
  }
  if (!run.ok()) return run.status();
  {
    std::lock_guard lock(mu_);
    for (auto& [key, a] : active_) {
      if (key.first == run_id) a->RequestCancel();
    }
  }
  Notify();
  return run;
}

Result<store::StepRun> PipelineEngine::Decide(std::string_view run_id, std::string_view step_id,
                                              bool approve, std::string_view user,
                                              std::string_view comment) {
  if (user.empty()) {
    return InvalidArgument("who decides is unknown: pass --user or set CAIRN_USER "
                           "(header x-cairn-user)");
  }
  CAIRN_TRY(PipelineRun run, store_.GetPipelineRun(run_id));
  const StepRun* step = nullptr;
  for (const StepRun& s : run.steps) {
    if (s.step_id == step_id) step = &s;
  }
  if (step == nullptr) {
    return NotFound("step '" + std::string(step_id) + "' of pipeline run '" +
                    std::string(run_id) + "' does not exist");
  }
  if (step->uses != kApprovalType) {
    return FailedPrecondition("step '" + step->step_id + "' is a " + step->uses +
                              " step, not an approval gate");
  }
  if (step->status != StepRunStatus::kWaiting) {
    return FailedPrecondition("step '" + step->step_id + "' is not waiting for approval: it " +
                              Describe(step->status));
  }
  if (approve) {
    std::string require;
    {
      std::lock_guard lock(mu_);
      auto it = loaded_.find(run.run_id);
      if (it != loaded_.end()) {
        if (const StepSpec* s = it->second->spec.FindStep(step_id)) {
          if (s->with.contains("require_other_approver")) {
            require = s->with["require_other_approver"].is_string()
                          ? s->with["require_other_approver"].get<std::string>()
                          : s->with["require_other_approver"].dump();
          }
        }
      }
    }
    if (require.empty()) {
      // Not loaded in this process (yet): read the spec.
      Result<PipelineSpec> spec = LoadPipeline(run.spec, run.file, table_);
      if (spec.ok()) {
        if (const StepSpec* s = spec->FindStep(step_id);
            s != nullptr && s->with.contains("require_other_approver")) {
          require = s->with["require_other_approver"].is_string()
                        ? s->with["require_other_approver"].get<std::string>()
                        : s->with["require_other_approver"].dump();
        }
      }
    }
    if (require == "true" && user == run.created_by) {
      return Status(StatusCode::kPermissionDenied,
                    "step '" + step->step_id + "' needs an approver other than '" +
                        run.created_by + "', who started the run");
    }
  }
  const int64_t now = clock_.NowMillis();
  store::StepRunUpdate update;
  update.pipeline_run_id = run.run_id;
  update.step_id = step->step_id;
  update.if_status = {StepRunStatus::kWaiting};
  update.status = approve ? StepRunStatus::kSucceeded : StepRunStatus::kFailed;
  update.decision = approve ? "approved" : "rejected";
  update.decided_by = std::string(user);
  update.comment = std::string(comment);
  update.decision_time = now;
  update.end_time = now;
  update.outputs = Json{{"decision", *update.decision},
                        {"approved_by", approve ? std::string(user) : ""},
                        {"comment", std::string(comment)}}
                       .dump();
  if (!approve) {
    update.error = "rejected by " + std::string(user) +
                   (comment.empty() ? "" : ": " + std::string(comment));
  }
  Result<StepRun> decided = store_.UpdateStepRun(update);
  if (!decided.ok() && decided.status().code() == StatusCode::kFailedPrecondition) {
    return FailedPrecondition("step '" + step->step_id + "' is no longer waiting for approval");
  }
  if (!decided.ok()) return decided.status();
  Log(run.run_id, step->step_id,
      std::string(approve ? "approved" : "rejected") + " by " + std::string(user) +
          (comment.empty() ? "" : ": " + std::string(comment)));
  Notify();
  return decided;
}

Result<store::PipelineRun> PipelineEngine::WaitUntil(
    std::string_view run_id, const std::function<bool(const store::PipelineRun&)>& pred) {
  while (true) {
    uint64_t seen;
    {
      std::lock_guard lock(mu_);
      seen = generation_ + passes_;
    }
    CAIRN_TRY(PipelineRun run, store_.GetPipelineRun(run_id));
    if (pred(run)) return run;
    std::unique_lock lock(mu_);
    // Re-checked after every transition and scheduler pass; the timeout only guards against a
    // missed wake-up.
    changed_.wait_for(lock, std::chrono::seconds(1),
                      [&] { return generation_ + passes_ != seen; });
  }
}

Result<store::PipelineRun> PipelineEngine::WaitForRun(std::string_view run_id) {
  return WaitUntil(run_id, [](const PipelineRun& r) { return store::IsTerminal(r.status); });
}

void PipelineEngine::Loop() {
  while (true) {
    uint64_t seen;
    std::vector<std::thread> done;
    {
      std::lock_guard lock(mu_);
      if (stopping_) return;
      seen = generation_;
      done = std::move(finished_threads_);
      finished_threads_.clear();
    }
    for (std::thread& t : done) t.join();

    int64_t next_deadline = 0;
    store::PipelineRunQuery unfinished;
    unfinished.statuses = {PipelineRunStatus::kQueued, PipelineRunStatus::kRunning};
    unfinished.max_results = 100000;
    Result<std::vector<PipelineRun>> runs = store_.ListPipelineRuns(unfinished);
    if (runs.ok()) {
      for (const PipelineRun& run : *runs) {
        const int64_t d = Advance(run);
        if (d > 0 && (next_deadline == 0 || d < next_deadline)) next_deadline = d;
      }
    }
    {
      std::lock_guard lock(mu_);
      ++passes_;
    }
    changed_.notify_all();

    std::unique_lock lock(mu_);
    auto woken = [&] { return stopping_ || generation_ != seen; };
    if (!runs.ok()) {
      wake_.wait_for(lock, std::chrono::seconds(1), woken);  // the store failed: retry soon
    } else if (next_deadline > 0) {
      const int64_t wait = std::max<int64_t>(0, next_deadline - clock_.NowMillis());
      wake_.wait_for(lock, std::chrono::milliseconds(wait), woken);
    } else {
      wake_.wait(lock, woken);
    }
  }
}

Result<PipelineEngine::Loaded*> PipelineEngine::Load(const store::PipelineRun& run) {
  {
    std::lock_guard lock(mu_);
    auto it = loaded_.find(run.run_id);
    if (it != loaded_.end()) return it->second.get();
  }
  auto loaded = std::make_unique<Loaded>();
  CAIRN_TRY(loaded->spec, LoadPipeline(run.spec, run.file, table_));
  Json params = Json::parse(run.params, nullptr, false);
  if (params.is_object()) {
    for (const auto& [k, v] : params.items()) {
      loaded->params[k] = v.is_string() ? v.get<std::string>() : v.dump();
    }
  }
  std::lock_guard lock(mu_);
  Loaded* out = loaded.get();
  loaded_[run.run_id] = std::move(loaded);
  return out;
}

void PipelineEngine::Finish(const store::PipelineRun& run, store::PipelineRunStatus status,
                            const std::string& error) {
  store::PipelineRunUpdate update;
  update.run_id = run.run_id;
  update.if_status = {PipelineRunStatus::kQueued, PipelineRunStatus::kRunning};
  update.status = status;
  update.error = error;
  update.end_time = clock_.NowMillis();
  if (!store_.UpdatePipelineRun(update).ok()) return;
  if (recorder_ != nullptr && !run.mlflow_run_id.empty()) {
    (void)recorder_->EndParentRun(run.mlflow_run_id, status);
  }
  std::lock_guard lock(mu_);
  loaded_.erase(run.run_id);
}

int64_t PipelineEngine::Advance(const store::PipelineRun& input) {
  PipelineRun run = input;
  Result<Loaded*> loaded_or = Load(run);
  if (!loaded_or.ok()) {
    Finish(run, PipelineRunStatus::kFailed, loaded_or.status().message());
    return 0;
  }
  const Loaded& loaded = **loaded_or;
  const int64_t now = clock_.NowMillis();

  if (run.status == PipelineRunStatus::kQueued && !run.cancel_requested) {
    store::PipelineRunUpdate start;
    start.run_id = run.run_id;
    start.if_status = {PipelineRunStatus::kQueued};
    start.status = PipelineRunStatus::kRunning;
    start.start_time = now;
    if (recorder_ != nullptr && run.mlflow_run_id.empty()) {
      const std::string experiment =
          loaded.spec.experiment.empty() ? options_.default_experiment : loaded.spec.experiment;
      std::map<std::string, std::string> tags = {{"cairn.pipeline.name", run.name},
                                                 {"cairn.pipeline.run_id", run.run_id},
                                                 {"cairn.pipeline.file", run.file}};
      auto parent = recorder_->StartParentRun(experiment, run.name + "-" + run.run_id.substr(0, 8),
                                              run.created_by, tags);
      if (!parent.ok()) {
        Finish(run, PipelineRunStatus::kFailed,
               "cannot start the MLflow run of the pipeline: " + parent.status().message());
        return 0;
      }
      start.experiment_id = parent->first;
      start.mlflow_run_id = parent->second;
    }
    Result<PipelineRun> started = store_.UpdatePipelineRun(start);
    if (!started.ok()) return 0;
    run = std::move(*started);
  }

  auto set_step = [&](const StepRun& step, StepRunStatus status, const std::string& error,
                      std::vector<StepRunStatus> if_status) {
    store::StepRunUpdate u;
    u.pipeline_run_id = run.run_id;
    u.step_id = step.step_id;
    u.if_status = std::move(if_status);
    u.status = status;
    u.error = error;
    u.end_time = clock_.NowMillis();
    if (store_.UpdateStepRun(u).ok() && !error.empty()) Log(run.run_id, step.step_id, error);
  };

  bool any_active = false;
  {
    std::lock_guard lock(mu_);
    for (const auto& [key, a] : active_) {
      if (key.first != run.run_id) continue;
      any_active = true;
      if (run.cancel_requested) a->RequestCancel();
    }
  }

  if (run.cancel_requested) {
    for (const StepRun& step : run.steps) {
      if (step.status == StepRunStatus::kQueued || step.status == StepRunStatus::kWaiting) {
        set_step(step, StepRunStatus::kCancelled, "cancelled: the run was cancelled",
                 {StepRunStatus::kQueued, StepRunStatus::kWaiting});
      }
    }
    if (!any_active) Finish(run, PipelineRunStatus::kCancelled, "cancelled");
    return 0;
  }

  int64_t next_deadline = 0;
  // Gates past their deadline fail.
  for (const StepRun& step : run.steps) {
    if (step.status != StepRunStatus::kWaiting || step.deadline <= 0) continue;
    if (now >= step.deadline) {
      set_step(step, StepRunStatus::kFailed,
               "approval timed out (nobody approved or rejected it by the deadline)",
               {StepRunStatus::kWaiting});
    } else if (next_deadline == 0 || step.deadline < next_deadline) {
      next_deadline = step.deadline;
    }
  }

  // Start, skip or wait, until nothing changes (skips cascade through needs).
  for (bool changed = true; changed;) {
    changed = false;
    Result<PipelineRun> fresh = store_.GetPipelineRun(run.run_id);
    if (!fresh.ok()) return next_deadline;
    run = std::move(*fresh);
    std::map<std::string, const StepRun*> by_id;
    std::string failed_step;
    for (const StepRun& s : run.steps) {
      by_id[s.step_id] = &s;
      if (s.status == StepRunStatus::kFailed && failed_step.empty()) failed_step = s.step_id;
    }
    for (const StepRun& step : run.steps) {
      if (!failed_step.empty() && step.status == StepRunStatus::kWaiting) {
        set_step(step, StepRunStatus::kCancelled,
                 "cancelled: step '" + failed_step + "' failed", {StepRunStatus::kWaiting});
        changed = true;
        continue;
      }
      if (step.status != StepRunStatus::kQueued || IsActive(run.run_id, step.step_id)) continue;
      const StepSpec* spec = loaded.spec.FindStep(step.step_id);
      if (spec == nullptr) {
        set_step(step, StepRunStatus::kFailed, "the pipeline file has no step '" + step.step_id + "'",
                 {StepRunStatus::kQueued});
        changed = true;
        continue;
      }
      std::string blocked_by;
      bool ready = true;
      for (const std::string& need : spec->needs) {
        const StepRun* n = by_id.count(need) ? by_id[need] : nullptr;
        if (n == nullptr) continue;
        if (n->status == StepRunStatus::kFailed || n->status == StepRunStatus::kSkipped ||
            n->status == StepRunStatus::kCancelled) {
          blocked_by = "skipped: needs '" + need + "', which " + StatusWord(n->status);
          break;
        }
        if (n->status != StepRunStatus::kSucceeded) ready = false;
      }
      if (!blocked_by.empty()) {
        set_step(step, StepRunStatus::kSkipped, blocked_by, {StepRunStatus::kQueued});
        changed = true;
        continue;
      }
      if (!failed_step.empty()) {
        set_step(step, StepRunStatus::kSkipped, "skipped: step '" + failed_step + "' failed",
                 {StepRunStatus::kQueued});
        changed = true;
        continue;
      }
      if (!ready) continue;

      Resolver resolve = [&](const Reference& ref) -> Result<std::string> {
        if (ref.kind == Reference::Kind::kParam) {
          auto it = loaded.params.find(ref.name);
          if (it == loaded.params.end()) return NotFound("no parameter '" + ref.name + "'");
          return it->second;
        }
        const StepRun* from = by_id.count(ref.step) ? by_id[ref.step] : nullptr;
        if (from == nullptr) return NotFound("no step '" + ref.step + "'");
        Json outputs = ParseOutputs(from->outputs);
        if (!outputs.contains(ref.name)) {
          return NotFound("step '" + ref.step + "' produced no output '" + ref.name + "'");
        }
        const Json& v = outputs[ref.name];
        return v.is_string() ? v.get<std::string>() : v.dump();
      };
      if (!spec->if_expr.empty()) {
        Result<Expression> e = Expression::Parse(spec->if_expr);
        Result<bool> take = e.ok() ? e->Evaluate(resolve) : Result<bool>(e.status());
        if (!take.ok()) {
          set_step(step, StepRunStatus::kFailed, "if: " + take.status().message(),
                   {StepRunStatus::kQueued});
          changed = true;
          continue;
        }
        if (!*take) {
          set_step(step, StepRunStatus::kSkipped, "skipped: if '" + spec->if_expr + "' is false",
                   {StepRunStatus::kQueued});
          changed = true;
          continue;
        }
      }
      Result<Json> with = SubstituteAll(spec->with, resolve);
      if (!with.ok()) {
        set_step(step, StepRunStatus::kFailed, "with: " + with.status().message(),
                 {StepRunStatus::kQueued});
        changed = true;
        continue;
      }
      const StepType* type = table_.Find(spec->uses);
      if (type != nullptr && type->kind == StepType::Kind::kApproval) {
        store::StepRunUpdate wait;
        wait.pipeline_run_id = run.run_id;
        wait.step_id = step.step_id;
        wait.if_status = {StepRunStatus::kQueued};
        wait.status = StepRunStatus::kWaiting;
        wait.attempt = step.attempt + 1;
        wait.start_time = clock_.NowMillis();
        if (with->contains("timeout")) {
          const Json& t = (*with)["timeout"];
          Result<int64_t> ms = ParseDurationMillis(t.is_string() ? t.get<std::string>() : t.dump());
          if (ms.ok()) wait.deadline = *wait.start_time + *ms;
        }
        if (store_.UpdateStepRun(wait).ok()) {
          const std::string message = with->value("message", std::string());
          Log(run.run_id, step.step_id,
              "waiting for approval" + (message.empty() ? "" : ": " + message) +
                  " (cairn pipelines approve " + run.run_id + " " + step.step_id + ")");
          if (wait.deadline && *wait.deadline > 0 &&
              (next_deadline == 0 || *wait.deadline < next_deadline)) {
            next_deadline = *wait.deadline;
          }
        }
        changed = true;
        continue;
      }
      Launch(run, loaded, *spec, step, std::move(*with));
      changed = true;
    }
  }

  // Ended when every step is: failed if any failed.
  bool all_done = true;
  std::string failed_step, failed_error;
  for (const StepRun& s : run.steps) {
    all_done = all_done && store::IsTerminal(s.status);
    if (s.status == StepRunStatus::kFailed && failed_step.empty()) {
      failed_step = s.step_id;
      failed_error = s.error;
    }
  }
  {
    std::lock_guard lock(mu_);
    for (const auto& [key, a] : active_) all_done = all_done && key.first != run.run_id;
  }
  if (all_done) {
    if (failed_step.empty()) {
      Finish(run, PipelineRunStatus::kSucceeded, "");
    } else {
      Finish(run, PipelineRunStatus::kFailed, "step '" + failed_step + "' failed: " + failed_error);
    }
  }
  return next_deadline;
}

void PipelineEngine::Launch(const store::PipelineRun& run, const Loaded& loaded,
                            const StepSpec& spec, const store::StepRun& step, Json with) {
  const StepType* type = table_.Find(spec.uses);
  store::StepRunUpdate start;
  start.pipeline_run_id = run.run_id;
  start.step_id = step.step_id;
  start.if_status = {StepRunStatus::kQueued};
  start.status = StepRunStatus::kRunning;
  start.attempt = step.attempt + 1;
  start.start_time = clock_.NowMillis();
  start.error = "";
  if (type == nullptr || !type->make) {
    start.status = StepRunStatus::kFailed;
    start.end_time = start.start_time;
    start.error = "step type '" + spec.uses + "' cannot run in this server" +
                  (type != nullptr && !type->unavailable.empty() ? ": " + type->unavailable : "");
    if (store_.UpdateStepRun(start).ok()) Log(run.run_id, step.step_id, *start.error);
    return;
  }
  if (!store_.UpdateStepRun(start).ok()) return;

  auto active = std::make_shared<Active>();
  active->run_id = run.run_id;
  active->step_id = step.step_id;

  StepContext ctx;
  ctx.pipeline_run_id = run.run_id;
  ctx.pipeline_name = run.name;
  ctx.pipeline_file = run.file;
  ctx.step_id = step.step_id;
  ctx.attempt = *start.attempt;
  ctx.user = run.created_by;
  ctx.experiment =
      loaded.spec.experiment.empty() ? options_.default_experiment : loaded.spec.experiment;
  ctx.parent_run_id = run.mlflow_run_id;
  ctx.with = std::move(with);
  ctx.clock = &clock_;
  const std::string run_id = run.run_id, step_id = step.step_id, parent = run.mlflow_run_id;
  ctx.log = [this, run_id, step_id](std::string_view line) { Log(run_id, step_id, line); };
  ctx.set_run_id = [this, run_id, step_id, parent](std::string_view mlflow_run) {
    store::StepRunUpdate u;
    u.pipeline_run_id = run_id;
    u.step_id = step_id;
    u.mlflow_run_id = std::string(mlflow_run);
    (void)store_.UpdateStepRun(u);
    if (recorder_ != nullptr && !parent.empty()) {
      (void)recorder_->LinkChild(parent, std::string(mlflow_run));
    }
  };
  ctx.cancelled = [active] { return active->Cancelled(); };
  ctx.wait_for = [active](int64_t millis) {
    std::unique_lock lock(active->mu);
    active->cv.wait_for(lock, std::chrono::milliseconds(millis), [&] { return active->cancel; });
    return !active->cancel;
  };

  Log(run_id, step_id, "started " + spec.uses + " (attempt " + std::to_string(ctx.attempt) + ")");
  std::unique_ptr<Step> runner = type->make();
  std::lock_guard lock(mu_);
  if (stopping_) return;  // stays "running": the next start reruns it
  active_[{run_id, step_id}] = active;
  active->thread = std::thread([this, active, r = std::move(runner), c = std::move(ctx)]() mutable {
    RunStep(active, std::move(r), std::move(c));
  });
}

void PipelineEngine::RunStep(std::shared_ptr<Active> active, std::unique_ptr<Step> step,
                             StepContext ctx) {
  Result<StepOutputs> result = step->Run(ctx);
  bool stopping;
  {
    std::lock_guard lock(mu_);
    stopping = stopping_;
  }
  const bool cancelled = active->Cancelled();
  store::StepRunUpdate done;
  done.pipeline_run_id = active->run_id;
  done.step_id = active->step_id;
  done.if_status = {StepRunStatus::kRunning};
  done.end_time = clock_.NowMillis();
  bool write = true;
  if (result.ok()) {
    done.status = StepRunStatus::kSucceeded;
    done.outputs = Json(*result).dump();
    Log(active->run_id, active->step_id, "succeeded");
  } else if (stopping && cancelled) {
    write = false;  // cut short by the server stopping: rerun by the next start
  } else if (cancelled) {
    done.status = StepRunStatus::kCancelled;
    done.error = "cancelled: " + result.status().message();
    Log(active->run_id, active->step_id, *done.error);
  } else {
    done.status = StepRunStatus::kFailed;
    done.error = result.status().message();
    Log(active->run_id, active->step_id, "failed: " + result.status().message());
  }
  if (write) (void)store_.UpdateStepRun(done);
  {
    std::lock_guard lock(mu_);
    active_.erase({active->run_id, active->step_id});
    finished_threads_.push_back(std::move(active->thread));
    ++generation_;
  }
  wake_.notify_all();
  changed_.notify_all();
}

}  // namespace cairn::pipelines
