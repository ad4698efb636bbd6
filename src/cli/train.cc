// cairn train: trains XGBoost on a dataset version and logs everything to a run — parameters,
// per-round metric history, final metrics, SHAP importance, lineage and the model directory in
// the MLflow format — then optionally registers the model.
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <map>
#include <nlohmann/json.hpp>

#include "cli/command.h"
#include "cli/lineage.h"
#include "cli/output.h"
#include "client/dataset_client.h"
#include "core/clock.h"
#include "core/ids.h"
#include "data/csv_reader.h"
#include "data/snapshot.h"
#include "ml/model_dir.h"
#include "ml/trainer.h"
#include "workflows/train_flow.h"
#include "workflows/training_run.h"

namespace cairn::cli {
namespace {

struct TrainFlags {
  std::string data;
  std::string file;
  std::string target;
  std::string task = "auto";
  std::string positive_class;
  std::vector<std::string> params;
  std::vector<std::string> ignore;
  double validation_fraction = 0.2;
  uint64_t seed = 42;
  std::string experiment = "Default";
  std::string run_name;
  std::string register_model;
  std::string alias;
};

using workflows::TrainingRunOutcome;
using workflows::TrainingRunOutcomeToJson;

// A one-line progress report on stderr while training, when it is a terminal.
class RoundProgress {
 public:
  RoundProgress() : enabled_(::isatty(STDERR_FILENO) == 1) {}
  void Update(int round, std::span<const ml::EvalEntry> entries) {
    if (!enabled_) return;
    std::string line = "\rtraining: round " + std::to_string(round + 1);
    for (const ml::EvalEntry& e : entries) {
      if (e.set == "valid") line += "  valid-" + e.metric + " " + FormatDouble(e.value);
    }
    std::cerr << line << "\x1b[K" << std::flush;
    shown_ = true;
  }
  void Clear() {
    if (shown_) std::cerr << "\r\x1b[K" << std::flush;
    shown_ = false;
  }

 private:
  bool enabled_;
  bool shown_ = false;
};

std::string Bar(double value, double max, int width) {
  if (max <= 0) return "";
  const int n = static_cast<int>(value / max * width + 0.5);
  std::string bar;
  for (int i = 0; i < n; ++i) bar += "█";
  return bar;
}

void PrintOutcome(Session& session, const TrainingRunOutcome& outcome) {
  const ml::TrainResult& r = outcome.result;
  if (session.json()) {
    session.out() << RenderJson(TrainingRunOutcomeToJson(outcome));
    return;
  }
  std::ostream& out = session.out();
  std::vector<std::pair<std::string, std::string>> summary = {
      {"run", outcome.run_id},
      {"experiment", outcome.experiment_name + " (" + outcome.experiment_id + ")"},
      {"dataset", outcome.dataset_ref + "  " + outcome.dataset_digest.substr(0, 12)},
      {"task", std::string(ml::TaskName(r.preprocessing.target.task)) + " on '" +
                   r.preprocessing.target.name + "'"},
      {"rows", std::to_string(r.split.train_rows) + " train, " +
                   std::to_string(r.split.valid_rows) + " validation (seed " +
                   std::to_string(r.split.seed) + ")"},
      {"rounds", std::to_string(r.rounds_run) + ", best " + std::to_string(r.best_iteration + 1) +
                     (r.stopped_early ? " (early stopping on valid-" + r.stopping_metric + ")"
                                      : "")},
      {"model", outcome.model_uri},
  };
  if (!outcome.registered_version.empty()) {
    summary.push_back({"registered", "models:/" + outcome.registered_model + "/" +
                                         outcome.registered_version +
                                         (outcome.alias.empty() ? "" : " @" + outcome.alias)});
  }
  out << RenderKeyValues(summary) << "\n";
  Table metrics({"METRIC", "VALIDATION"});
  metrics.SetRightAligned(1);
  for (const auto& [name, value] : r.metrics) metrics.AddRow({name, FormatDouble(value)});
  out << metrics.Render() << "\n";
  if (!r.importance.empty()) {
    Table importance({"FEATURE", "MEAN |SHAP|", ""});
    importance.SetRightAligned(1);
    const double max = r.importance.front().mean_abs_shap;
    const size_t shown = std::min<size_t>(r.importance.size(), 15);
    for (size_t i = 0; i < shown; ++i) {
      const ml::FeatureImportance& f = r.importance[i];
      importance.AddRow({f.feature, FormatDouble(f.mean_abs_shap), Bar(f.mean_abs_shap, max, 30)});
    }
    out << importance.Render();
    if (shown < r.importance.size()) {
      out << "(" << r.importance.size() - shown << " more in feature_importance.json)\n";
    }
  }
  for (const std::string& w : r.warnings) std::cerr << "warning: " << w << "\n";
}

Status RunTrain(Session& session, const TrainFlags& flags) {
  CAIRN_TRY(auto params, workflows::ParseKeyValues(flags.params, "--param"));
  if (!(flags.validation_fraction > 0 && flags.validation_fraction < 1)) {
    return InvalidArgument("--validation-fraction must be between 0 and 1 (exclusive)");
  }
  if (!flags.alias.empty() && flags.register_model.empty()) {
    return InvalidArgument("--alias needs --register MODEL");
  }
  workflows::TrainFlowRequest request;
  ml::TrainOptions& options = request.options;
  options.target = flags.target;
  if (flags.task != "auto") {
    CAIRN_TRY(ml::Task task, ml::ParseTask(flags.task));
    options.task = task;
  }
  if (!flags.positive_class.empty()) options.positive_class = flags.positive_class;
  options.ignore_columns = flags.ignore;
  options.params = std::move(params);
  options.validation_fraction = flags.validation_fraction;
  options.seed = flags.seed;
  request.data = flags.data;
  request.file = flags.file;
  request.run.experiment = flags.experiment;
  request.run.run_name = flags.run_name;
  request.run.command_line = ShellCommandLine(session.options().argv);
  if (auto git = FindGitSource(std::filesystem::current_path())) {
    request.run.git = workflows::GitInfo{git->commit, git->branch, git->repository_root};
  }
  request.run.register_model = flags.register_model;
  request.run.alias = flags.alias;

  RoundProgress progress;
  options.on_round = [&](int round, std::span<const ml::EvalEntry> entries) {
    progress.Update(round, entries);
  };
  CAIRN_TRY(auto datasets, client::DatasetClient::Connect(session.tracking_uri()));
  CAIRN_TRY(client::TrackingClient * tracking, session.Client());
  CAIRN_TRY(TrainingRunOutcome outcome,
            workflows::TrainFromDataset(*tracking, *datasets, session.tracking_uri(),
                                        std::move(request), [&] { progress.Clear(); }));
  PrintOutcome(session, outcome);
  return Status();
}

}  // namespace

void AddTrainCommand(CLI::App& app, GlobalOptions& options) {
  auto flags = std::make_shared<TrainFlags>();
  CLI::App* train = app.add_subcommand(
      "train", "Train an XGBoost model on a dataset version and log it to a run");
  train->add_option("--data", flags->data, "Dataset version: NAME, NAME@vN or NAME@latest")
      ->required();
  train->add_option("--target", flags->target, "The column to predict")->required();
  train->add_option("--task", flags->task, "auto, binary, multiclass or regression")
      ->check(CLI::IsMember({"auto", "binary", "multiclass", "regression"}));
  train->add_option("--param", flags->params,
                    "XGBoost parameter KEY=VALUE (repeatable), e.g. max_depth=6, eta=0.1, "
                    "num_boost_round=500, early_stopping_rounds=0");
  train->add_option("--validation-fraction", flags->validation_fraction,
                    "Share of rows held out for early stopping and the metrics (default 0.2)");
  train->add_option("--seed", flags->seed, "Seed of the split and of XGBoost (default 42)");
  train->add_option("--experiment", flags->experiment,
                    "Experiment to log to (created if missing; default: Default)");
  train->add_option("--run-name", flags->run_name, "Name of the run");
  train->add_option("--register", flags->register_model,
                    "Register the model as a new version of this registered model");
  train->add_option("--alias", flags->alias, "With --register: point this alias at the version");
  train->add_option("--positive-class", flags->positive_class,
                    "Binary tasks: the class whose probability the model predicts");
  train->add_option("--ignore", flags->ignore, "A column to leave out of the features (repeatable)");
  train->add_option("--file", flags->file,
                    "The CSV file of a multi-file dataset version to train on");
  train->callback([&options, flags] {
    SetCommand(options, [flags](Session& session) { return RunTrain(session, *flags); });
  });
}

}  // namespace cairn::cli
