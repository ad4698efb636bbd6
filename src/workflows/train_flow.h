// Trains XGBoost on a dataset version of the workspace and logs the run: what `cairn train` and
// the pipelines' train.xgboost step both do, over the client library.
#pragma once

#include <functional>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "client/dataset_client.h"
#include "client/tracking_client.h"
#include "core/result.h"
#include "ml/trainer.h"
#include "workflows/training_run.h"

namespace cairn::workflows {

struct TrainFlowRequest {
  std::string data;  // NAME, NAME@vN or NAME@latest
  std::string file;  // the CSV of a multi-file version; empty: its only CSV file
  ml::TrainOptions options;  // target, task, params, …
  // The run: experiment, name, register/alias, lineage. Its dataset fields are filled here.
  TrainingRunRequest run;
};

// "KEY=VALUE" pairs → map; the first '=' splits, the key must not be empty.
Result<std::map<std::string, std::string>> ParseKeyValues(const std::vector<std::string>& pairs,
                                                          const std::string& flag);

// The CSV file of the version to train on: `file`, else its only CSV file.
Result<std::string> PickCsvFile(const client::DatasetVersionInfo& info, const std::string& file,
                                const std::string& ref_text);

// Resolves the version (reading exactly the version resolved, even if one lands meanwhile),
// reads its CSV checked chunk by chunk, trains, then logs and registers (LogTrainingRun).
// `before_log` runs once training is done (e.g. to clear a progress line).
Result<TrainingRunOutcome> TrainFromDataset(client::TrackingClient& tracking,
                                            client::DatasetClient& datasets,
                                            const std::string& tracking_uri,
                                            TrainFlowRequest request,
                                            const std::function<void()>& before_log = {});

}  // namespace cairn::workflows
