// Pipeline runs and their step runs as the metadata store keeps them: the persisted state machine
// the pipeline engine advances.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace cairn::store {

enum class PipelineRunStatus { kQueued, kRunning, kSucceeded, kFailed, kCancelled };
enum class StepRunStatus { kQueued, kRunning, kWaiting, kSucceeded, kFailed, kSkipped, kCancelled };

std::string_view PipelineRunStatusName(PipelineRunStatus s);  // "queued" | "running" | …
std::optional<PipelineRunStatus> ParsePipelineRunStatus(std::string_view name);
std::string_view StepRunStatusName(StepRunStatus s);  // "queued" | … | "waiting" | "skipped" | …
std::optional<StepRunStatus> ParseStepRunStatus(std::string_view name);
bool IsTerminal(PipelineRunStatus s);
bool IsTerminal(StepRunStatus s);

struct StepRun {
  std::string pipeline_run_id;
  std::string step_id;
  int64_t position = 0;  // the step's place in the pipeline file
  std::string uses;      // its step type
  StepRunStatus status = StepRunStatus::kQueued;
  int64_t attempt = 0;  // how many times it started (a restart after a crash makes 2)
  std::string outputs = "{}";  // JSON object of strings
  std::string error;           // why it failed, or why it was skipped
  std::string mlflow_run_id;   // the run it made (train, compare), if any
  int64_t start_time = 0;      // ms since the epoch; 0 before it starts
  int64_t end_time = 0;        // 0 until it ends
  // Approval gates: when waiting stops (0: never), and the decision.
  int64_t deadline = 0;
  std::string decision;  // "" | "approved" | "rejected"
  std::string decided_by;
  std::string comment;
  int64_t decision_time = 0;
  bool operator==(const StepRun&) const = default;
};

struct PipelineRun {
  std::string run_id;  // 32 hex characters, chosen by the caller
  std::string name;    // the pipeline's name
  std::string file;    // the file it came from, as the client named it
  std::string spec;    // the YAML text
  std::string params;  // JSON object of the run's parameter values
  std::string created_by;
  PipelineRunStatus status = PipelineRunStatus::kQueued;
  std::string error;
  std::string experiment_id;  // of the MLflow parent run
  std::string mlflow_run_id;  // the MLflow parent run
  bool cancel_requested = false;
  int64_t creation_time = 0;
  int64_t start_time = 0;
  int64_t end_time = 0;
  int64_t last_update_time = 0;
  std::vector<StepRun> steps;  // by position; logs are not included (GetStepLogs)
  bool operator==(const PipelineRun&) const = default;
};

// Fields that are set are written. With `if_status` non-empty, the update applies only while the
// step's status is one of them (else kFailedPrecondition naming the status it has): approvals,
// cancellation and the engine race on a gate, and exactly one wins.
struct StepRunUpdate {
  std::string pipeline_run_id;
  std::string step_id;
  std::vector<StepRunStatus> if_status;
  std::optional<StepRunStatus> status;
  std::optional<int64_t> attempt;
  std::optional<std::string> outputs;
  std::optional<std::string> error;
  std::optional<std::string> mlflow_run_id;
  std::optional<int64_t> start_time;
  std::optional<int64_t> end_time;
  std::optional<int64_t> deadline;
  std::optional<std::string> decision;
  std::optional<std::string> decided_by;
  std::optional<std::string> comment;
  std::optional<int64_t> decision_time;
};

struct PipelineRunUpdate {
  std::string run_id;
  // Non-empty: applies only while the run's status is one of these, else kFailedPrecondition.
  std::vector<PipelineRunStatus> if_status;
  std::optional<PipelineRunStatus> status;
  std::optional<std::string> error;
  std::optional<std::string> experiment_id;
  std::optional<std::string> mlflow_run_id;
  std::optional<bool> cancel_requested;
  std::optional<int64_t> start_time;
  std::optional<int64_t> end_time;
};

struct PipelineRunQuery {
  std::vector<PipelineRunStatus> statuses;  // empty: any
  std::string name;                         // empty: any pipeline
  int64_t max_results = 100;
};

}  // namespace cairn::store
