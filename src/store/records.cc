#include "store/records.h"

namespace cairn::store {

std::string_view LifecycleStageName(LifecycleStage stage) {
  return stage == LifecycleStage::kActive ? "active" : "deleted";
}

std::string_view RunStatusName(RunStatus status) {
  switch (status) {
    case RunStatus::kRunning: return "RUNNING";
    case RunStatus::kScheduled: return "SCHEDULED";
    case RunStatus::kFinished: return "FINISHED";
    case RunStatus::kFailed: return "FAILED";
    case RunStatus::kKilled: return "KILLED";
  }
  return "RUNNING";
}

std::optional<RunStatus> ParseRunStatus(std::string_view name) {
  for (RunStatus s : {RunStatus::kRunning, RunStatus::kScheduled, RunStatus::kFinished,
                      RunStatus::kFailed, RunStatus::kKilled}) {
    if (RunStatusName(s) == name) return s;
  }
  return std::nullopt;
}

std::optional<ViewType> ParseViewType(std::string_view name) {
  if (name == "ACTIVE_ONLY") return ViewType::kActiveOnly;
  if (name == "DELETED_ONLY") return ViewType::kDeletedOnly;
  if (name == "ALL") return ViewType::kAll;
  return std::nullopt;
}

}  // namespace cairn::store
