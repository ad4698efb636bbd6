// PipelineEngine: runs pipeline runs as a persisted state machine on a background thread —
// steps start when their needs succeeded, independent steps run in parallel, approval gates
// wait, and a restarted server resumes where the last one stopped.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "core/clock.h"
#include "core/result.h"
#include "pipelines/spec.h"
#include "pipelines/step.h"
#include "store/metadata_store.h"

namespace cairn::pipelines {

// The MLflow side of a pipeline run: a parent run per pipeline run (steps' runs are its
// children). Optional: without it, runs have no MLflow run.
class RunRecorder {
 public:
  virtual ~RunRecorder() = default;
  // Creates the parent run in `experiment` (by name, created when missing); returns
  // {experiment_id, run_id}.
  virtual Result<std::pair<std::string, std::string>> StartParentRun(
      const std::string& experiment, const std::string& run_name, const std::string& user,
      const std::map<std::string, std::string>& tags) = 0;
  // Ends it: FINISHED, FAILED or KILLED.
  virtual Status EndParentRun(const std::string& run_id, store::PipelineRunStatus status) = 0;
  // Marks `child` as a child of `parent` (tag mlflow.parentRunId).
  virtual Status LinkChild(const std::string& parent, const std::string& child) = 0;
};

struct StartRequest {
  std::string yaml;
  std::string file = "pipeline.yaml";  // as named in errors
  std::map<std::string, std::string> params;
  std::string user;
};

struct EngineOptions {
  // Experiment of the parent runs when the spec names none.
  std::string default_experiment = "pipelines";
};

// Thread-safe. The store is the truth: every transition is written before it takes effect, so a
// crash at any point leaves a state Start() can resume.
class PipelineEngine {
 public:
  // The table (with makers for task steps), store, clock and recorder (may be null) must outlive
  // the engine.
  PipelineEngine(const StepTable& table, store::MetadataStore& store, const Clock& clock,
                 RunRecorder* recorder, EngineOptions options = {});
  ~PipelineEngine();  // Stop()

  // Resumes the runs a previous process left unfinished (a step that was running is queued to
  // run again; a waiting gate keeps waiting) and starts the scheduler thread.
  Status Start();
  // Stops scheduling and waits for running steps to return (they see ctx.cancelled()); their
  // steps stay "running" in the store, to be rerun by the next Start().
  void Stop();

  // Validates the file (kInvalidArgument listing every problem) and the params, records a new
  // run (queued) and wakes the scheduler. Returns the run as recorded.
  Result<store::PipelineRun> Submit(const StartRequest& request);
  // Requests cancellation: queued and waiting steps are cancelled, running ones asked to stop.
  // kFailedPrecondition when the run already ended.
  Result<store::PipelineRun> Cancel(std::string_view run_id);
  // Decides a waiting approval gate. kFailedPrecondition when the step is not a gate or not
  // waiting; kPermissionDenied when the gate requires an approver other than the run's starter
  // and `user` is that person (approvals only; anyone may reject).
  Result<store::StepRun> Decide(std::string_view run_id, std::string_view step_id, bool approve,
                                std::string_view user, std::string_view comment);

  // Wakes the scheduler (tests moving a fake clock past a gate's deadline).
  void Poke();
  // Blocks until the run has ended (tests). kNotFound for an unknown run.
  Result<store::PipelineRun> WaitForRun(std::string_view run_id);
  // Blocks until `pred` holds for the run, re-checking after each transition (tests).
  Result<store::PipelineRun> WaitUntil(std::string_view run_id,
                                       const std::function<bool(const store::PipelineRun&)>& pred);

 private:
  struct Active;  // a step running on its own thread
  struct Loaded;  // a run's parsed spec and params

  void Loop();
  // Advances one run as far as it goes now; returns the earliest gate deadline it waits for
  // (0: none).
  int64_t Advance(const store::PipelineRun& run);
  Result<Loaded*> Load(const store::PipelineRun& run);
  void Launch(const store::PipelineRun& run, const Loaded& loaded, const StepSpec& spec,
              const store::StepRun& step, nlohmann::json with);
  void RunStep(std::shared_ptr<Active> active, std::unique_ptr<Step> step, StepContext ctx);
  void Finish(const store::PipelineRun& run, store::PipelineRunStatus status,
              const std::string& error);
  void Log(const std::string& run_id, const std::string& step_id, std::string_view line);
  void Notify();
  bool IsActive(const std::string& run_id, const std::string& step_id);

  const StepTable& table_;
  store::MetadataStore& store_;
  const Clock& clock_;
  RunRecorder* recorder_;
  EngineOptions options_;

  std::mutex mu_;
  std::condition_variable wake_;     // the scheduler waits here
  std::condition_variable changed_;  // WaitUntil waits here
  uint64_t generation_ = 0;          // bumped by every wake-up request
  uint64_t passes_ = 0;              // bumped after every scheduler pass
  bool stopping_ = false;
  bool started_ = false;
  std::map<std::pair<std::string, std::string>, std::shared_ptr<Active>> active_;
  std::vector<std::thread> finished_threads_;  // joined by the scheduler
  std::map<std::string, std::unique_ptr<Loaded>> loaded_;
  std::thread scheduler_;
};

}  // namespace cairn::pipelines
