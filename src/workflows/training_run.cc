#include "workflows/training_run.h"

#include <pwd.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "client/registry_client.h"
#include "core/clock.h"
#include "core/ids.h"

namespace cairn::workflows {
namespace {

namespace fs = std::filesystem;
using Json = nlohmann::json;

// MLflow caps a log-batch at 1000 metrics.
constexpr size_t kMetricsPerBatch = 1000;

std::string CurrentUser() {
  for (const char* var : {"CAIRN_USER", "USER", "LOGNAME"}) {
    const char* value = std::getenv(var);
    if (value != nullptr && *value != '\0') return value;
  }
  if (const passwd* pw = ::getpwuid(::getuid()); pw != nullptr && pw->pw_name != nullptr) {
    return pw->pw_name;
  }
  return "unknown";
}

std::vector<store::Tag> RunTags(const TrainingRunRequest& request, const ml::TrainResult& result) {
  std::vector<store::Tag> tags = {
      {"mlflow.user", request.user.empty() ? CurrentUser() : request.user},
      {"mlflow.source.name", request.source_name},
      {"mlflow.source.type", "LOCAL"},
      {kTagDatasetName, request.dataset.name},
      {kTagDatasetVersion, request.dataset.version},
      {kTagDatasetDigest, request.dataset.digest},
      {"cairn.dataset.file", request.dataset_file},
      {kTagCommand, request.command_line},
      {kTagCairnVersion, CAIRN_VERSION},
      {"cairn.task", std::string(ml::TaskName(result.preprocessing.target.task))},
      {"cairn.target", result.preprocessing.target.name},
      {"cairn.xgboost.version", result.xgboost_version},
  };
  for (const store::Tag& t : request.extra_tags) tags.push_back(t);
  if (request.git) {
    tags.push_back({"mlflow.source.git.commit", request.git->commit});
    if (!request.git->branch.empty()) {
      tags.push_back({"mlflow.source.git.branch", request.git->branch});
    }
    tags.push_back({"mlflow.source.git.repoURL", request.git->repository_root});
  }
  return tags;
}

std::vector<store::Param> RunParams(const ml::TrainResult& result) {
  std::vector<store::Param> params;
  for (const auto& [key, value] : result.params) params.push_back({key, value});
  const ml::SplitDescription& split = result.split;
  params.push_back({"target", result.preprocessing.target.name});
  params.push_back({"task", std::string(ml::TaskName(result.preprocessing.target.task))});
  params.push_back({"validation_fraction", std::to_string(split.validation_fraction)});
  params.push_back({"split_seed", std::to_string(split.seed)});
  params.push_back({"split_stratified", split.stratified ? "true" : "false"});
  params.push_back({"train_rows", std::to_string(split.train_rows)});
  params.push_back({"valid_rows", std::to_string(split.valid_rows)});
  params.push_back({"features", std::to_string(result.preprocessing.features.size())});
  return params;
}

// Per-round history (step = boosting round) and the final validation metrics (at the step of
// the kept round).
std::vector<store::Metric> RunMetrics(const ml::TrainResult& result, int64_t now) {
  std::vector<store::Metric> metrics;
  for (const ml::MetricHistory& h : result.history) {
    for (size_t round = 0; round < h.values.size(); ++round) {
      metrics.push_back({h.key, h.values[round], now, static_cast<int64_t>(round)});
    }
  }
  const int64_t best = std::max(result.best_iteration, 0);
  for (const auto& [name, value] : result.metrics) metrics.push_back({name, value, now, best});
  metrics.push_back({"best_iteration", static_cast<double>(result.best_iteration), now, 0});
  metrics.push_back({"rounds", static_cast<double>(result.rounds_run), now, 0});
  return metrics;
}

store::DatasetInput TrainingInput(const TrainingRunRequest& request,
                                  const ml::TrainResult& result) {
  store::DatasetInput input;
  input.name = request.dataset.name + "@" + request.dataset.version;
  input.digest = request.dataset.digest.substr(0, 12);  // MLflow shows short digests
  input.source_type = "cairn";
  input.source =
      Json{{"dataset", request.dataset.name}, {"version", request.dataset.version},
           {"digest", request.dataset.digest}, {"file", request.dataset_file}}
          .dump();
  Json columns = Json::array();
  for (const std::string& f : result.preprocessing.FeatureNames()) columns.push_back(f);
  input.schema = Json{{"features", columns}, {"target", result.preprocessing.target.name}}.dump();
  input.profile = Json{{"num_rows", result.split.total_rows}}.dump();
  input.tags = {{"mlflow.data.context", "training"}};
  return input;
}

// MLflow's model JSON for runs/log-model, from the MLmodel that was written.
Json LoggedModelJson(const ml::MlModel& m) {
  Json xgboost = {{"data", m.xgb_data}, {"model_format", m.model_format},
                  {"model_class", m.model_class}, {"xgb_version", m.xgb_version},
                  {"code", nullptr}};
  Json pyfunc = {{"loader_module", "mlflow.xgboost"}, {"data", m.xgb_data},
                 {"python_version", std::string(ml::kPythonVersion)}};
  return {{"artifact_path", m.artifact_path},
          {"run_id", m.run_id},
          {"utc_time_created", m.utc_time_created},
          {"model_uuid", m.model_uuid},
          {"mlflow_version", m.mlflow_version},
          {"flavors", {{"python_function", pyfunc}, {"xgboost", xgboost}}}};
}

class TempDir {
 public:
  TempDir() {
    std::string pattern = (fs::temp_directory_path() / "cairn-model-XXXXXX").string();
    if (::mkdtemp(pattern.data()) != nullptr) path_ = pattern;
  }
  ~TempDir() {
    std::error_code ec;
    if (!path_.empty()) fs::remove_all(path_, ec);
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

Status LogEverything(client::TrackingClient& tracking, const TrainingRunRequest& request,
                     const ml::TrainResult& result, const std::string& run_id) {
  const int64_t now = SystemClock::Instance().NowMillis();
  std::vector<store::Param> params = RunParams(result);
  std::vector<store::Metric> metrics = RunMetrics(result, now);
  // Params go with the first batch, metrics in batches of MLflow's limit.
  size_t next = 0;
  do {
    const size_t end = std::min(metrics.size(), next + kMetricsPerBatch);
    std::vector<store::Metric> batch(metrics.begin() + next, metrics.begin() + end);
    CAIRN_RETURN_IF_ERROR(tracking.LogBatch(run_id, batch, next == 0 ? params
                                                                     : std::vector<store::Param>{},
                                            {}));
    next = end;
  } while (next < metrics.size());
  CAIRN_RETURN_IF_ERROR(tracking.LogInputs(run_id, {TrainingInput(request, result)}));

  ml::ModelInfo info;
  info.artifact_path = "model";
  info.run_id = run_id;
  info.created_millis = now;
  info.dataset = request.dataset;
  CAIRN_TRY(ml::ModelFiles files, ml::RenderModelDirectory(result, info));
  TempDir dir;
  if (dir.path().empty()) return Internal("cannot create a temporary directory for the model");
  CAIRN_RETURN_IF_ERROR(ml::WriteModelFiles(dir.path() + "/model", files));
  CAIRN_RETURN_IF_ERROR(tracking.UploadArtifacts(run_id, dir.path() + "/model", "model").status());
  if (auto importance = files.find("feature_importance.json"); importance != files.end()) {
    CAIRN_RETURN_IF_ERROR(
        tracking.UploadArtifacts(run_id, dir.path() + "/model/feature_importance.json").status());
  }
  CAIRN_TRY(ml::MlModel mlmodel, ml::ParseMlModel(files.at("MLmodel")));
  return tracking.LogModel(run_id, LoggedModelJson(mlmodel));
}

// A new version of `model` (the registered model created when missing) from the run's model.
Status RegisterModel(const std::string& tracking_uri, TrainingRunOutcome& outcome,
                     const TrainingRunRequest& request) {
  CAIRN_TRY(auto registry, client::RegistryClient::Connect(tracking_uri));
  Result<store::RegisteredModel> created = registry->CreateRegisteredModel(request.register_model);
  if (!created.ok() && created.status().code() != StatusCode::kAlreadyExists) {
    return created.status();
  }
  client::CreateModelVersionRequest version;
  version.name = request.register_model;
  version.source = outcome.model_uri;
  version.run_id = outcome.run_id;
  version.description = "Trained by cairn train on " + outcome.dataset_ref;
  version.tags = {{kTagDatasetName, request.dataset.name},
                  {kTagDatasetVersion, request.dataset.version},
                  {kTagDatasetDigest, request.dataset.digest}};
  CAIRN_TRY(store::ModelVersion registered, registry->CreateModelVersion(version));
  outcome.registered_model = registered.name;
  outcome.registered_version = std::to_string(registered.version);
  if (!request.alias.empty()) {
    CAIRN_RETURN_IF_ERROR(
        registry->SetRegisteredModelAlias(registered.name, request.alias, registered.version));
    outcome.alias = request.alias;
  }
  return Status();
}

}  // namespace

Result<store::Experiment> EnsureExperiment(client::TrackingClient& tracking,
                                           const std::string& name) {
  Result<store::Experiment> found = tracking.GetExperimentByName(name);
  if (found.ok() || found.status().code() != StatusCode::kNotFound) return found;
  Result<std::string> id = tracking.CreateExperiment(name);
  if (!id.ok() && id.status().code() == StatusCode::kAlreadyExists) {
    return tracking.GetExperimentByName(name);  // created by someone else meanwhile
  }
  if (!id.ok()) return id.status();
  return tracking.GetExperiment(*id);
}

Result<TrainingRunOutcome> LogTrainingRun(client::TrackingClient& tracking,
                                          const std::string& tracking_uri,
                                          const TrainingRunRequest& request,
                                          ml::TrainResult result) {
  CAIRN_TRY(store::Experiment experiment, EnsureExperiment(tracking, request.experiment));
  client::CreateRunRequest create;
  create.experiment_id = experiment.experiment_id;
  create.run_name = request.run_name.empty() ? "train-" + request.dataset.name + "-" +
                                                   result.preprocessing.target.name
                                             : request.run_name;
  create.user_id = request.user.empty() ? CurrentUser() : request.user;
  if (request.start_millis > 0) create.start_time = request.start_millis;
  create.tags = RunTags(request, result);
  CAIRN_TRY(store::Run run, tracking.CreateRun(create));
  const std::string run_id = run.info.run_id;

  store::RunUpdate done;
  done.run_id = run_id;
  done.end_time = SystemClock::Instance().NowMillis();
  Status logged = LogEverything(tracking, request, result, run_id);
  done.status = logged.ok() ? store::RunStatus::kFinished : store::RunStatus::kFailed;
  Status finished = tracking.UpdateRun(done).status();
  if (!logged.ok()) {
    return Status(logged.code(), "run " + run_id + " marked FAILED: " + logged.message());
  }
  CAIRN_RETURN_IF_ERROR(finished);

  TrainingRunOutcome outcome;
  outcome.run_id = run_id;
  outcome.experiment_id = experiment.experiment_id;
  outcome.experiment_name = experiment.name;
  outcome.dataset_ref = request.dataset.name + "@" + request.dataset.version;
  outcome.dataset_digest = request.dataset.digest;
  outcome.model_uri = "runs:/" + run_id + "/model";
  outcome.result = std::move(result);
  if (!request.register_model.empty()) {
    Status registered = RegisterModel(tracking_uri, outcome, request);
    if (!registered.ok()) {
      return Status(registered.code(), "run " + run_id + " logged, but registering model '" +
                                           request.register_model +
                                           "' failed: " + registered.message());
    }
  }
  return outcome;
}

Json TrainingRunOutcomeToJson(const TrainingRunOutcome& outcome) {
  const ml::TrainResult& r = outcome.result;
  Json metrics = Json::object();
  for (const auto& [k, v] : r.metrics) metrics[k] = v;
  Json importance = Json::array();
  for (const ml::FeatureImportance& f : r.importance) {
    importance.push_back({{"feature", f.feature}, {"mean_abs_shap", f.mean_abs_shap}});
  }
  Json j = {{"run_id", outcome.run_id},
            {"experiment_id", outcome.experiment_id},
            {"dataset", outcome.dataset_ref},
            {"dataset_digest", outcome.dataset_digest},
            {"task", std::string(ml::TaskName(r.preprocessing.target.task))},
            {"target", r.preprocessing.target.name},
            {"train_rows", r.split.train_rows},
            {"valid_rows", r.split.valid_rows},
            {"rounds", r.rounds_run},
            {"best_iteration", r.best_iteration},
            {"metrics", metrics},
            {"feature_importance", importance},
            {"model_uri", outcome.model_uri},
            {"warnings", r.warnings}};
  if (!outcome.registered_version.empty()) {
    j["registered_model"] = {{"name", outcome.registered_model},
                             {"version", outcome.registered_version},
                             {"alias", outcome.alias}};
  }
  return j;
}

}  // namespace cairn::workflows
