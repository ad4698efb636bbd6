// cairn models compare: scores a candidate and a baseline model on the same rows of a dataset
// version — only rows neither model trained on — logs an evaluation run, and answers with an
// exit code a release script can branch on (0 better by the margin, 3 not, 1 error).
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <cmath>
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <unordered_set>

#include "cli/command.h"
#include "cli/lineage.h"
#include "cli/output.h"
#include "client/dataset_client.h"
#include "client/registry_client.h"
#include "core/clock.h"
#include "data/csv_reader.h"
#include "data/row_fingerprint.h"
#include "data/snapshot.h"
#include "ml/scorer.h"
#include "ml/trainer.h"
#include "workflows/compare_flow.h"

namespace cairn::cli {
namespace {

namespace fs = std::filesystem;
using Json = nlohmann::json;

struct CompareFlags {
  std::string candidate;
  std::string baseline;
  std::string data;
  std::string file;
  std::string target;
  std::string metric;
  double min_improvement = 0.002;
  std::string experiment = "model-comparisons";
};

std::string Signed(double v) { return (v >= 0 ? "+" : "") + FormatDouble(v); }

Status RunCompare(Session& session, const CompareFlags& flags) {
  CAIRN_TRY(client::TrackingClient * tracking, session.Client());
  CAIRN_TRY(auto registry, client::RegistryClient::Connect(session.tracking_uri()));
  CAIRN_TRY(auto datasets, client::DatasetClient::Connect(session.tracking_uri()));
  workflows::CompareRequest request;
  request.candidate = flags.candidate;
  request.baseline = flags.baseline;
  request.data = flags.data;
  request.file = flags.file;
  request.target = flags.target;
  request.metric = flags.metric;
  request.min_improvement = flags.min_improvement;
  request.experiment = flags.experiment;
  request.command_line = ShellCommandLine(session.options().argv);
  CAIRN_TRY(workflows::CompareOutcome outcome,
            workflows::CompareModels(*tracking, *registry, *datasets, request));
  const workflows::ComparedModel& candidate = outcome.candidate;
  const workflows::ComparedModel& baseline = outcome.baseline;
  const auto& cm = candidate.metrics;
  const auto& bm = baseline.metrics;
  const std::string& metric = outcome.metric;
  const double improvement = outcome.improvement;
  const bool better = outcome.better;
  const std::vector<std::string>& warnings = outcome.warnings;
  const std::string& data_text = outcome.data;
  const int64_t total_rows = outcome.rows_total;
  const int64_t evaluated = outcome.rows_evaluated;
  const int64_t kept = outcome.rows_kept;
  const std::string& run_id = outcome.run_id;

  const std::string verdict =
      better ? "candidate is better on " + metric + " by " + FormatDouble(improvement) +
                   " (at least " + FormatDouble(flags.min_improvement) + " asked)"
             : "candidate is not better on " + metric + ": " + Signed(improvement) +
                   " (at least +" + FormatDouble(flags.min_improvement) + " asked)";
  if (session.json()) {
    Json j = {{"candidate", {{"uri", candidate.uri}, {"resolved", candidate.resolved},
                             {"run_id", candidate.run_id}, {"metrics", cm}}},
              {"baseline", {{"uri", baseline.uri}, {"resolved", baseline.resolved},
                            {"run_id", baseline.run_id}, {"metrics", bm}}},
              {"data", data_text},
              {"rows_total", total_rows},
              {"rows_kept", kept},
              {"rows_evaluated", evaluated},
              {"metric", metric},
              {"improvement", improvement},
              {"min_improvement", flags.min_improvement},
              {"better", better},
              {"evaluation_run_id", run_id},
              {"warnings", warnings}};
    session.out() << RenderJson(j);
  } else {
    std::ostream& out = session.out();
    auto describe = [](const workflows::ComparedModel& m) {
      std::string s = m.resolved;
      if (m.resolved != m.uri) s = m.uri + " → " + m.resolved;
      if (m.trained_on) s += "  (trained on " + *m.trained_on + ")";
      return s;
    };
    out << RenderKeyValues(
        {{"candidate", describe(candidate)},
         {"baseline", describe(baseline)},
         {"data", data_text + ": " + std::to_string(total_rows) + " rows, " +
                      std::to_string(kept) + " kept (" +
                      std::to_string(total_rows - kept) +
                      " trained on by either model), " + std::to_string(evaluated) +
                      " evaluated"},
         {"run", run_id}});
    out << "\n";
    Table table_out({"METRIC", "CANDIDATE", "BASELINE", "DELTA"});
    for (size_t c = 1; c < 4; ++c) table_out.SetRightAligned(c);
    for (const auto& [k, v] : cm) {
      if (!bm.contains(k)) continue;
      table_out.AddRow({k == metric ? k + " *" : k, FormatDouble(v), FormatDouble(bm.at(k)),
                        Signed(v - bm.at(k))});
    }
    out << table_out.Render() << "\n";
    out << "verdict: " << verdict << "\n";
  }
  for (const std::string& w : warnings) std::cerr << "warning: " << w << "\n";
  session.SetExitCode(better ? kExitOk : kExitNotBetter);
  return Status();
}

}  // namespace

void AddModelsCompareCommand(CLI::App& models, GlobalOptions& options) {
  auto flags = std::make_shared<CompareFlags>();
  CLI::App* compare = models.add_subcommand(
      "compare",
      "Score a candidate and a baseline model on the same unseen rows; exit 0 when the "
      "candidate is better by the margin, 3 when it is not");
  compare->add_option("--candidate", flags->candidate, "models:/NAME/VERSION, models:/NAME@ALIAS, "
                                                       "runs:/RUN/PATH or a model directory")
      ->required();
  compare->add_option("--baseline", flags->baseline, "The model to beat (same forms)")
      ->required();
  compare->add_option("--data", flags->data, "Dataset version to score: NAME[@VERSION]")
      ->required();
  compare->add_option("--metric", flags->metric,
                      "Deciding metric (default: auc, accuracy or rmse by task)");
  compare->add_option("--min-improvement", flags->min_improvement,
                      "Least improvement of the metric that counts as better (default 0.002)");
  compare->add_option("--target", flags->target, "Target column (default: the model's)");
  compare->add_option("--file", flags->file, "The CSV file of a multi-file dataset version");
  compare->add_option("--experiment", flags->experiment,
                      "Experiment of the evaluation run (default: model-comparisons)");
  compare->callback([&options, flags] {
    SetCommand(options, [flags](Session& session) { return RunCompare(session, *flags); });
  });
}

}  // namespace cairn::cli
