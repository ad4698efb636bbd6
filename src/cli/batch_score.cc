// cairn batch-score: scores a CSV file of any size with a model — from the registry
// (models:/NAME/VERSION, models:/NAME@ALIAS), a run (runs:/RUN/PATH) or a local directory — and
// writes the rows with their predictions (and SHAP contributions with --explain). A local
// command: the model is fetched once, then everything runs in this process.
#include <stdlib.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <nlohmann/json.hpp>
#include <thread>

#include "cli/command.h"
#include "cli/output.h"
#include "client/registry_client.h"
#include "ml/scorer.h"
#include "serving/batch_scorer.h"
#include "wire/model_uri.h"

namespace cairn::cli {
namespace {

namespace fs = std::filesystem;

struct BatchScoreFlags {
  std::string model;
  std::string input;
  std::string output;
  int threads = 0;  // 0: one per core
  bool explain = false;
  std::vector<std::string> output_columns;
  bool predictions_only = false;
  double block_mb = 4;
};

// A temporary directory for a downloaded model, removed with the object.
class TempDir {
 public:
  TempDir() {
    std::string pattern = (fs::temp_directory_path() / "cairn-batch-score-XXXXXX").string();
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

struct ResolvedModel {
  std::string directory;  // where the model's files are
  std::string label;      // what the summary calls it: models:/churn/3, runs:/…, the path
};

// Downloads (models:/, runs:/) or points at (a local directory) the model's files.
Result<ResolvedModel> FetchModel(Session& session, const std::string& uri, const TempDir& temp) {
  if (wire::IsModelUri(uri)) {
    if (temp.path().empty()) return Internal("cannot create a temporary directory");
    CAIRN_TRY(auto registry, client::RegistryClient::Connect(session.tracking_uri()));
    CAIRN_TRY(store::ModelVersion version, registry->DownloadModel(uri, temp.path()));
    return ResolvedModel{temp.path(),
                         "models:/" + version.name + "/" + std::to_string(version.version)};
  }
  if (wire::IsRunsUri(uri)) {
    if (temp.path().empty()) return Internal("cannot create a temporary directory");
    CAIRN_TRY(wire::RunsUri runs, wire::ParseRunsUri(uri));
    CAIRN_TRY(client::TrackingClient * tracking, session.Client());
    CAIRN_TRY(auto files, tracking->DownloadArtifacts(runs.run_id, runs.artifact_path,
                                                      temp.path()));
    if (files.empty()) return NotFound("run " + runs.run_id + " has no artifacts under '" +
                                       runs.artifact_path + "'");
    return ResolvedModel{(fs::path(temp.path()) / runs.artifact_path).string(), uri};
  }
  std::error_code ec;
  if (fs::is_directory(uri, ec)) return ResolvedModel{uri, uri};
  const Status not_a_directory =
      NotFound("no model directory at '" + uri +
               "' (give a directory, models:/NAME/VERSION, models:/NAME@ALIAS or "
               "runs:/RUN_ID/PATH)");
  // A bare NAME is a registered model's latest version (as everywhere in the CLI), unless a
  // directory of that name exists.
  if (uri.empty() || uri.find('/') != std::string::npos || temp.path().empty()) {
    return not_a_directory;
  }
  auto registry = client::RegistryClient::Connect(session.tracking_uri());
  if (!registry.ok()) return not_a_directory;
  Result<store::ModelVersion> version = (*registry)->DownloadModel(uri, temp.path());
  if (!version.ok()) {
    if (version.status().code() == StatusCode::kNotFound) {
      return NotFound("no model directory or registered model named '" + uri + "'");
    }
    return Status(version.status().code(),
                  "not a directory, and as a registered model: " + version.status().message());
  }
  return ResolvedModel{temp.path(),
                       "models:/" + version->name + "/" + std::to_string(version->version)};
}

// One line on stderr while scoring, when it is a terminal: rows done and throughput.
class Progress {
 public:
  Progress() : enabled_(::isatty(STDERR_FILENO) == 1), start_(Clock::now()) {}
  bool enabled() const { return enabled_; }
  // From the writer thread, after each block.
  void Update(const serving::BatchProgress& p) {
    const auto now = Clock::now();
    if (now - last_ < std::chrono::milliseconds(200)) return;
    last_ = now;
    const double seconds = std::max(1e-9, std::chrono::duration<double>(now - start_).count());
    char line[160];
    std::snprintf(line, sizeof line, "\rscoring: %lld rows (%.0f rows/s), %s read, %.1f MB/s\x1b[K",
                  static_cast<long long>(p.rows), p.rows / seconds,
                  FormatBytes(p.bytes_read).c_str(), p.bytes_read / seconds / 1e6);
    std::cerr << line << std::flush;
    shown_ = true;
  }
  void Clear() {
    if (shown_) std::cerr << "\r\x1b[K" << std::flush;
    shown_ = false;
  }

 private:
  using Clock = std::chrono::steady_clock;
  bool enabled_;
  bool shown_ = false;
  Clock::time_point start_;
  Clock::time_point last_{};
};

// "7043 rows in 0.12 s (58690 rows/s, 2 threads)"
std::string Scored(int64_t rows, double seconds, double rows_per_second, int threads) {
  char text[128];
  std::snprintf(text, sizeof text, "%lld rows in %.2f s (%.0f rows/s, %d %s)",
                static_cast<long long>(rows), seconds, rows_per_second, threads,
                threads == 1 ? "thread" : "threads");
  return text;
}

Status RunBatchScore(Session& session, const BatchScoreFlags& flags) {
  if (flags.predictions_only && !flags.output_columns.empty()) {
    return InvalidArgument("--predictions-only and --output-columns exclude each other");
  }
  if (flags.threads < 0) return InvalidArgument("--threads must be at least 1");
  if (!(flags.block_mb > 0 && flags.block_mb <= 1024)) {
    return InvalidArgument("--block-mb must be above 0 and at most 1024");
  }
  if (flags.input != "-") {
    std::error_code ec;
    if (!fs::exists(flags.input, ec)) return NotFound("--input '" + flags.input + "': no such file");
  }
  TempDir temp;
  Result<ResolvedModel> resolved = FetchModel(session, flags.model, temp);
  if (!resolved.ok()) {
    return Status(resolved.status().code(),
                  "--model '" + flags.model + "': " + resolved.status().message());
  }
  Result<ml::LoadedModel> model = ml::LoadedModel::Load(resolved->directory);
  if (!model.ok()) {
    return Status(model.status().code(),
                  "--model '" + flags.model + "': " + model.status().message());
  }

  serving::BatchScoreOptions options;
  options.threads = flags.threads > 0
                        ? flags.threads
                        : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  options.block_bytes = static_cast<size_t>(flags.block_mb * (1 << 20));
  options.explain = flags.explain;
  options.predictions_only = flags.predictions_only;
  for (const std::string& c : flags.output_columns) {
    // "--output-columns a,b" and "--output-columns a --output-columns b" alike.
    size_t start = 0;
    while (start <= c.size()) {
      const size_t comma = std::min(c.find(',', start), c.size());
      if (comma > start) options.output_columns.push_back(c.substr(start, comma - start));
      start = comma + 1;
    }
  }
  Progress progress;
  if (progress.enabled()) {
    options.on_progress = [&progress](const serving::BatchProgress& p) { progress.Update(p); };
  }
  const auto start = std::chrono::steady_clock::now();
  Result<serving::BatchScoreSummary> summary =
      serving::BatchScoreFile(*model, flags.input, flags.output, options);
  progress.Clear();
  if (!summary.ok()) return summary.status();
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  const double rows_per_second = seconds > 0 ? summary->rows / seconds : 0;

  // With --output -, stdout holds the CSV: the summary would corrupt it.
  if (flags.output == "-") return Status();
  const std::vector<std::string> predictions = serving::PredictionColumns(*model, false);
  if (session.json()) {
    nlohmann::json j = {{"model", resolved->label},
                        {"input", flags.input},
                        {"output", flags.output},
                        {"rows", summary->rows},
                        {"bytes_read", summary->bytes_read},
                        {"bytes_written", summary->bytes_written},
                        {"seconds", seconds},
                        {"rows_per_second", rows_per_second},
                        {"threads", options.threads},
                        {"columns", summary->columns}};
    session.out() << RenderJson(j);
    return Status();
  }
  std::string columns;
  for (const std::string& c : predictions) columns += (columns.empty() ? "" : ", ") + c;
  if (flags.explain) columns += ", shap_…";
  session.out() << RenderKeyValues({
      {"model", resolved->label},
      {"scored", Scored(summary->rows, seconds, rows_per_second, options.threads)},
      {"output", flags.output + " (" + columns + ")"},
  });
  return Status();
}

}  // namespace

void AddBatchScoreCommand(CLI::App& app, GlobalOptions& options) {
  auto flags = std::make_shared<BatchScoreFlags>();
  CLI::App* cmd = app.add_subcommand(
      "batch-score",
      "Score a CSV file of any size with a model: the rows in order with their predictions");
  cmd->add_option("--model", flags->model,
                  "models:/NAME/VERSION, models:/NAME@ALIAS, runs:/RUN_ID/PATH, a model "
                  "directory, or NAME (its latest version)")
      ->required();
  cmd->add_option("--input", flags->input, "The CSV file to score (- for stdin)")->required();
  // Shadows the global --output (table|json) inside this command; -o still sets the format.
  cmd->add_option("--output", flags->output,
                  "The CSV file to write (- for stdout); replaced only once complete")
      ->required();
  cmd->add_option("--threads", flags->threads,
                  "Worker threads that parse, predict and format (default: one per core)")
      ->check(CLI::Range(1, 256));
  cmd->add_flag("--explain", flags->explain,
                "Add each row's SHAP contributions: shap_<feature> and shap_bias");
  cmd->add_option("--output-columns", flags->output_columns,
                  "Input columns to copy before the predictions, e.g. id,region (default: all)");
  cmd->add_flag("--predictions-only", flags->predictions_only,
                "Copy no input column: only the predictions");
  cmd->add_option("--block-mb", flags->block_mb,
                  "Input megabytes per unit of parallel work (default 4)");
  cmd->callback([&options, flags] {
    SetCommand(options, [flags](Session& session) { return RunBatchScore(session, *flags); });
  });
}

}  // namespace cairn::cli
