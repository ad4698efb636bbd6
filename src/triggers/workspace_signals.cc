#include "triggers/workspace_signals.h"

namespace cairn::triggers {

Result<std::optional<int64_t>> WorkspaceSignals::LatestDatasetVersion(std::string_view dataset) {
  CAIRN_TRY(auto datasets, datasets_.ListDatasets());
  for (const store::DatasetSummary& d : datasets) {
    if (d.name == dataset) return std::optional<int64_t>(d.latest_version);
  }
  return std::optional<int64_t>();
}

}  // namespace cairn::triggers
