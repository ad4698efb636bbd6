// TriggerService: the pipelines the server keeps (stored definitions, run by name) and their
// retraining triggers — evaluated on a background thread every tick, or at once on Poke() —
// which start a stored pipeline with the firing's context as parameters.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/clock.h"
#include "core/result.h"
#include "pipelines/engine.h"
#include "pipelines/step.h"
#include "store/metadata_store.h"
#include "triggers/signals.h"

namespace cairn::triggers {

struct TriggerServiceOptions {
  int64_t tick_ms = 30'000;  // how often the background thread evaluates every trigger
  int64_t firings_shown = 20;  // firings GetTrigger returns
};

// A trigger with its recent firings, newest first.
struct TriggerDetails {
  store::TriggerRecord trigger;
  std::vector<store::TriggerFiring> firings;
};

// What one evaluation of one trigger did (tests, logs).
struct Evaluation {
  std::string trigger_id;
  enum class Outcome { kQuiet, kFired, kHeld, kFailed } outcome = Outcome::kQuiet;
  std::string reason;
  std::string run_id;
};

// Thread-safe. Evaluations and definition changes are serialized, so a redefinition never loses
// a state update.
//
// How each kind decides (`now` from the clock):
//   schedule  fires once `now` passes the next matching minute; times missed while the server
//             was down coalesce into one firing (scheduled_time = the latest of them); re-enabled,
//             it waits for the next time after `now`.
//   drift     looks at the endpoint's latest report when it is not the one it examined last:
//             without column, fires when share ≥ threshold; with column, compares that column's
//             statistic: a p-value (p_value, or the score of a ks/chi2/z test) fires when below
//             the threshold, anything else (a distance, psi, a test statistic) when ≥ threshold.
//   metric    fires when the live metric over [now - window, now) is below `below` with at least
//             min_count labelled predictions; at most once per window.
//   dataset   fires when the dataset's latest version is newer than the last one it saw; the
//             first evaluation only records it (a dataset that does not exist yet counts as
//             version 0, so its first version fires).
// While a run the trigger started is in flight (queued, running, waiting at a gate), a trigger
// whose condition holds does not start another: it records held_time/held_reason instead. A
// held schedule time or drift report is used up; a held dataset version or metric fires once
// the run has ended, if it still holds.
class TriggerService {
 public:
  // Everything must outlive the service.
  TriggerService(store::MetadataStore& store, pipelines::PipelineEngine& engine,
                 const pipelines::StepTable& table, Signals& signals, const Clock& clock,
                 TriggerServiceOptions options = {});
  ~TriggerService();  // Stop()

  // --- stored pipelines ----------------------------------------------------------------------
  // Validates `yaml` (kInvalidArgument listing every problem, triggers included) and stores it
  // as the next revision of the spec's name. Its triggers are re-derived: one whose id is still
  // there keeps its enabled flag, and its state when its condition is unchanged.
  Result<store::PipelineDefinition> CreateDefinition(std::string_view yaml, std::string_view file,
                                                     std::string_view user);
  Result<std::vector<store::PipelineDefinition>> ListDefinitions();
  Result<store::PipelineDefinition> GetDefinition(std::string_view name);  // kNotFound
  Status DeleteDefinition(std::string_view name);                         // kNotFound
  // Starts a run of the stored pipeline (PipelineEngine::Submit).
  Result<store::PipelineRun> RunDefinition(std::string_view name,
                                           const std::map<std::string, std::string>& params,
                                           std::string_view user);

  // --- triggers ------------------------------------------------------------------------------
  // Of one pipeline, or all when `pipeline` is empty (kNotFound for an unknown pipeline).
  Result<std::vector<store::TriggerRecord>> ListTriggers(std::string_view pipeline);
  Result<TriggerDetails> GetTrigger(std::string_view trigger_id);  // kNotFound
  Result<store::TriggerRecord> SetEnabled(std::string_view trigger_id, bool enabled);

  // Evaluates every enabled trigger at `now` (tests call this directly).
  std::vector<Evaluation> Evaluate(int64_t now);

  // Starts the background thread (evaluates at once, then every tick).
  void Start();
  void Stop();
  // Asks the background thread for an evaluation now (a drift report or a dataset version was
  // just created).
  void Poke();

 private:
  struct Check;  // what a trigger's condition says at `now`

  Evaluation EvaluateOne(const store::TriggerRecord& t, int64_t now);
  Result<Check> CheckCondition(const store::TriggerRecord& t, const nlohmann::json& condition,
                               const nlohmann::json& state, int64_t now);
  nlohmann::json InitialState(std::string_view kind, const nlohmann::json& condition,
                              int64_t now) const;
  void Loop();

  store::MetadataStore& store_;
  pipelines::PipelineEngine& engine_;
  const pipelines::StepTable& table_;
  Signals& signals_;
  const Clock& clock_;
  TriggerServiceOptions options_;

  std::mutex mu_;  // serializes evaluations and definition changes

  std::mutex loop_mu_;
  std::condition_variable wake_;
  bool poked_ = false;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace cairn::triggers
