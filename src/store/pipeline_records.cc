#include "store/pipeline_records.h"

namespace cairn::store {

std::string_view PipelineRunStatusName(PipelineRunStatus s) {
  switch (s) {
    case PipelineRunStatus::kQueued: return "queued";
    case PipelineRunStatus::kRunning: return "running";
    case PipelineRunStatus::kSucceeded: return "succeeded";
    case PipelineRunStatus::kFailed: return "failed";
    case PipelineRunStatus::kCancelled: return "cancelled";
  }
  return "queued";
}

std::optional<PipelineRunStatus> ParsePipelineRunStatus(std::string_view name) {
  for (auto s : {PipelineRunStatus::kQueued, PipelineRunStatus::kRunning,
                 PipelineRunStatus::kSucceeded, PipelineRunStatus::kFailed,
                 PipelineRunStatus::kCancelled}) {
    if (PipelineRunStatusName(s) == name) return s;
  }
  return std::nullopt;
}

std::string_view StepRunStatusName(StepRunStatus s) {
  switch (s) {
    case StepRunStatus::kQueued: return "queued";
    case StepRunStatus::kRunning: return "running";
    case StepRunStatus::kWaiting: return "waiting";
    case StepRunStatus::kSucceeded: return "succeeded";
    case StepRunStatus::kFailed: return "failed";
    case StepRunStatus::kSkipped: return "skipped";
    case StepRunStatus::kCancelled: return "cancelled";
  }
  return "queued";
}

std::optional<StepRunStatus> ParseStepRunStatus(std::string_view name) {
  for (auto s : {StepRunStatus::kQueued, StepRunStatus::kRunning, StepRunStatus::kWaiting,
                 StepRunStatus::kSucceeded, StepRunStatus::kFailed, StepRunStatus::kSkipped,
                 StepRunStatus::kCancelled}) {
    if (StepRunStatusName(s) == name) return s;
  }
  return std::nullopt;
}

bool IsTerminal(PipelineRunStatus s) {
  return s == PipelineRunStatus::kSucceeded || s == PipelineRunStatus::kFailed ||
         s == PipelineRunStatus::kCancelled;
}

bool IsTerminal(StepRunStatus s) {
  return s == StepRunStatus::kSucceeded || s == StepRunStatus::kFailed ||
         s == StepRunStatus::kSkipped || s == StepRunStatus::kCancelled;
}

}  // namespace cairn::store
