// Logs a trained model to a run — parameters, metric history, metrics, lineage, the model
// directory — and registers it: the part of `cairn train` after XGBoost has finished.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "client/tracking_client.h"
#include "core/result.h"
#include "ml/model_dir.h"
#include "ml/trainer.h"

namespace cairn::workflows {

// The git commit of the working directory a run was started from.
struct GitInfo {
  std::string commit;  // 40 hex digits
  std::string branch;  // empty when HEAD is detached
  std::string repository_root;
};

struct TrainingRunRequest {
  std::string experiment = "Default";  // by name; created when missing
  std::string run_name;                // empty: "train-<dataset>-<target>"
  ml::DatasetRef dataset;
  std::string dataset_file;  // the CSV of the version that was read
  std::string command_line;
  int64_t start_millis = 0;  // when training started: the run's start time
  std::optional<GitInfo> git;
  std::string user;                      // the run's user; empty: $CAIRN_USER, $USER, …
  std::string source_name = "cairn train";  // tag mlflow.source.name
  std::vector<store::Tag> extra_tags;    // e.g. mlflow.parentRunId of a pipeline's run
  std::string register_model;  // empty: do not register
  std::string alias;           // with register_model: point it at the new version
};

struct TrainingRunOutcome {
  std::string run_id;
  std::string experiment_id;
  std::string experiment_name;
  std::string dataset_ref;  // NAME@vN
  std::string dataset_digest;
  std::string model_uri;    // runs:/<run id>/model
  std::string registered_model;
  std::string registered_version;
  std::string alias;
  ml::TrainResult result;
};

// The run's tags that record lineage (also read back by `models compare`).
inline constexpr char kTagDatasetName[] = "cairn.dataset.name";
inline constexpr char kTagDatasetVersion[] = "cairn.dataset.version";
inline constexpr char kTagDatasetDigest[] = "cairn.dataset.digest";
inline constexpr char kTagCommand[] = "cairn.command";
inline constexpr char kTagCairnVersion[] = "cairn.version";

// The experiment named `name`, created when missing (as mlflow.set_experiment does).
Result<store::Experiment> EnsureExperiment(client::TrackingClient& tracking,
                                           const std::string& name);

// Creates the run only once training succeeded (bad input leaves no run behind), logs
// everything, uploads the model directory under `model/`, marks the run FINISHED — or FAILED
// when logging breaks half-way, saying so in the error — and registers the model when asked.
Result<TrainingRunOutcome> LogTrainingRun(client::TrackingClient& tracking,
                                          const std::string& tracking_uri,
                                          const TrainingRunRequest& request,
                                          ml::TrainResult result);

nlohmann::json TrainingRunOutcomeToJson(const TrainingRunOutcome& outcome);

}  // namespace cairn::workflows
