// The Step interface every built-in step implements, what a step is given when it runs, and the
// table of step types (inputs, outputs) that validation and the engine share.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/clock.h"
#include "core/result.h"

namespace cairn::pipelines {

using StepOutputs = std::map<std::string, std::string>;

// What a running step sees. `with` holds the step's inputs with every reference substituted:
// scalars as strings, lists and maps as written.
struct StepContext {
  std::string pipeline_run_id;
  std::string pipeline_name;
  // The pipeline file as the client named it (`cairn pipelines run` sends it absolute); files a
  // step names with a relative path are found beside it.
  std::string pipeline_file;
  std::string step_id;
  int64_t attempt = 1;          // 2, 3, … when rerun after a server restart
  std::string user;             // who started the run
  std::string experiment;       // the run's experiment (name)
  std::string parent_run_id;    // the pipeline run's MLflow run (may be empty)
  nlohmann::json with = nlohmann::json::object();
  const Clock* clock = &SystemClock::Instance();

  // Appends a line to the step's log (stored with the step run; thread-safe).
  std::function<void(std::string_view)> log = [](std::string_view) {};
  // Records the MLflow run the step made (shown by `pipelines show`, linked as a child).
  std::function<void(std::string_view)> set_run_id = [](std::string_view) {};
  // True once the run is cancelled or the server is stopping: a step returns soon after.
  std::function<bool()> cancelled = [] { return false; };
  // Waits `millis` (a canary's interval); returns false early when cancelled.
  std::function<bool(int64_t)> wait_for = [](int64_t) { return true; };

  // with[key] as a string, or `fallback` when absent.
  std::string Input(const std::string& key, const std::string& fallback = "") const;
  bool Has(const std::string& key) const { return with.contains(key) && !with[key].is_null(); }
};

// A built-in step. Run may be called again for the same step after a server restart (the
// previous attempt was cut short), so it must be safe to rerun.
class Step {
 public:
  virtual ~Step() = default;
  // Returns the step's outputs, or the error that fails it (logged first through ctx.log).
  virtual Result<StepOutputs> Run(StepContext& ctx) = 0;
};

struct InputSpec {
  std::string name;
  bool required = false;
};

// One step type: the inputs it takes, the outputs it may produce, and how it runs.
struct StepType {
  enum class Kind { kTask, kApproval };
  std::string name;  // "train.xgboost"
  Kind kind = Kind::kTask;
  std::vector<InputSpec> inputs;
  // Output names; an entry ending in '*' names a family ("candidate_*": candidate_auc, …).
  std::vector<std::string> outputs;
  // Non-empty: the type is known but cannot run in this build; validation reports this.
  std::string unavailable;
  // Extra checks of literal inputs (values without references): error messages, each naming the
  // input ("strategy: …").
  std::function<std::vector<std::string>(const nlohmann::json& with)> check;
  // Makes the step (kTask). Null in tables used only to validate.
  std::function<std::unique_ptr<Step>()> make;

  bool Produces(std::string_view output) const;
};

// Step types by name. Not thread-safe to modify; read-only once built.
class StepTable {
 public:
  void Add(StepType type);
  const StepType* Find(std::string_view name) const;
  std::vector<std::string> Names() const;
  // Installs a maker on an existing type (the server adds them once its services exist).
  Status SetMaker(std::string_view name, std::function<std::unique_ptr<Step>()> make);
  StepType* Mutable(std::string_view name);

 private:
  std::map<std::string, StepType, std::less<>> types_;
};

// Durations in pipeline files: "500ms", "90s", "5m", "2h", "1d", or plain seconds.
Result<int64_t> ParseDurationMillis(std::string_view text);

// The built-in step types (declarations only: inputs, outputs, checks; no makers).
StepTable BuiltinStepTypes();

}  // namespace cairn::pipelines
