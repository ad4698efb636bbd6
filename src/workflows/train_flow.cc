#include "workflows/train_flow.h"

#include "core/clock.h"
#include "data/csv_reader.h"
#include "data/snapshot.h"

namespace cairn::workflows {

Result<std::map<std::string, std::string>> ParseKeyValues(const std::vector<std::string>& pairs,
                                                          const std::string& flag) {
  std::map<std::string, std::string> params;
  for (const std::string& pair : pairs) {
    const size_t eq = pair.find('=');
    if (eq == std::string::npos || eq == 0) {
      return InvalidArgument(flag + " '" + pair + "': expected KEY=VALUE");
    }
    params[pair.substr(0, eq)] = pair.substr(eq + 1);
  }
  return params;
}

Result<std::string> PickCsvFile(const client::DatasetVersionInfo& info, const std::string& file,
                                const std::string& ref_text) {
  std::vector<std::string> csvs;
  for (const client::DatasetFile& f : info.files) {
    if (!file.empty() && f.path == file) return f.path;
    if (data::IsCsvPath(f.path)) csvs.push_back(f.path);
  }
  if (!file.empty()) return NotFound("dataset " + ref_text + " has no file '" + file + "'");
  if (csvs.size() == 1) return csvs.front();
  if (csvs.empty()) return InvalidArgument("dataset " + ref_text + " has no CSV file to train on");
  std::string list;
  for (const std::string& c : csvs) list += (list.empty() ? "" : ", ") + c;
  return InvalidArgument("dataset " + ref_text + " has several CSV files (" + list +
                         "); choose one with --file");
}

Result<TrainingRunOutcome> TrainFromDataset(client::TrackingClient& tracking,
                                            client::DatasetClient& datasets,
                                            const std::string& tracking_uri,
                                            TrainFlowRequest request,
                                            const std::function<void()>& before_log) {
  // The data: the version's CSV file, verified chunk by chunk while it is read.
  CAIRN_TRY(client::DatasetRef ref, client::ParseDatasetRef(request.data));
  CAIRN_TRY(client::DatasetVersionInfo info, datasets.Get(ref, /*include_profiles=*/false));
  const std::string ref_text = info.version.name + "@v" + std::to_string(info.version.version);
  CAIRN_TRY(std::string file, PickCsvFile(info, request.file, ref_text));
  ref.version = info.version.version;  // read the version just resolved, even if one lands now
  CAIRN_TRY(std::string bytes, datasets.ReadFile(ref, file));
  Result<data::CsvTable> table = data::LoadCsv(bytes);
  if (!table.ok()) {
    return Status(table.status().code(), ref_text + "/" + file + ": " + table.status().message());
  }
  bytes.clear();
  bytes.shrink_to_fit();

  TrainingRunRequest& run = request.run;
  run.dataset.name = info.version.name;
  run.dataset.version = "v" + std::to_string(info.version.version);
  run.dataset.digest = info.version.version_id;
  run.dataset_file = file;
  run.start_millis = SystemClock::Instance().NowMillis();
  Result<ml::TrainResult> result = ml::Train(*table, request.options);
  if (before_log) before_log();
  if (!result.ok()) return result.status();
  return LogTrainingRun(tracking, tracking_uri, run, std::move(*result));
}

}  // namespace cairn::workflows
