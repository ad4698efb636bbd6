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

std::string_view ModelStageName(ModelStage stage) {
  switch (stage) {
    case ModelStage::kNone: return "None";
    case ModelStage::kStaging: return "Staging";
    case ModelStage::kProduction: return "Production";
    case ModelStage::kArchived: return "Archived";
  }
  return "None";
}

std::optional<ModelStage> ParseModelStage(std::string_view name) {
  auto lower = [](char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; };
  for (ModelStage s : {ModelStage::kNone, ModelStage::kStaging, ModelStage::kProduction,
                       ModelStage::kArchived}) {
    std::string_view canonical = ModelStageName(s);
    if (canonical.size() != name.size()) continue;
    bool same = true;
    for (size_t i = 0; i < name.size() && same; ++i) same = lower(canonical[i]) == lower(name[i]);
    if (same) return s;
  }
  return std::nullopt;
}

std::string_view ModelVersionStatusName(ModelVersionStatus status) {
  switch (status) {
    case ModelVersionStatus::kPendingRegistration: return "PENDING_REGISTRATION";
    case ModelVersionStatus::kFailedRegistration: return "FAILED_REGISTRATION";
    case ModelVersionStatus::kReady: return "READY";
  }
  return "READY";
}

std::optional<ModelVersionStatus> ParseModelVersionStatus(std::string_view name) {
  for (ModelVersionStatus s : {ModelVersionStatus::kPendingRegistration,
                               ModelVersionStatus::kFailedRegistration, ModelVersionStatus::kReady}) {
    if (ModelVersionStatusName(s) == name) return s;
  }
  return std::nullopt;
}

}  // namespace cairn::store
