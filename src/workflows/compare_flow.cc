#include "workflows/compare_flow.h"

#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <map>
#include <optional>
#include <span>
#include <unordered_set>

#include "core/clock.h"
#include "data/csv_reader.h"
#include "data/row_fingerprint.h"
#include "data/snapshot.h"
#include "ml/scorer.h"
#include "ml/trainer.h"
#include "workflows/training_run.h"

namespace cairn::workflows {
namespace {

namespace fs = std::filesystem;

// Six significant digits, as the CLI prints numbers.
std::string FormatNumber(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.6g", v);
  return buf;
}

}  // namespace

bool LowerIsBetter(const std::string& metric) {
  return metric == "log_loss" || metric == "rmse" || metric == "mae";
}

namespace {

std::string DefaultMetric(ml::Task task) {
  switch (task) {
    case ml::Task::kBinary:
      return "auc";
    case ml::Task::kMulticlass:
      return "accuracy";
    case ml::Task::kRegression:
      return "rmse";
  }
  return "auc";
}

// What a model's run says about the data it trained on.
struct TrainingLineage {
  std::string dataset;  // NAME@vN
  std::string file;
  uint64_t seed = 0;
  double validation_fraction = 0;
};

struct ModelUnderTest {
  std::string role;  // "candidate" | "baseline"
  std::string uri;
  std::string resolved;  // "models:/churn/2", or the URI itself
  std::string run_id;
  std::optional<ml::LoadedModel> model;
  std::optional<TrainingLineage> lineage;
  std::unordered_set<uint64_t> trained_rows;  // fingerprints of the rows it trained on
  ml::Evaluation evaluation;
};

class TempDir {
 public:
  TempDir() {
    std::string pattern = (fs::temp_directory_path() / "cairn-compare-XXXXXX").string();
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

// Downloads (models:/, runs:/) or points at (a local directory) the model and loads it.
Status LoadModel(client::TrackingClient& tracking, client::RegistryClient& registry,
                 const std::string& dir, const std::string& field_prefix, ModelUnderTest& m) {
  std::string model_dir;
  if (m.uri.rfind("models:/", 0) == 0) {
    CAIRN_TRY(store::ModelVersion version, registry.ResolveModelUri(m.uri));
    m.resolved = "models:/" + version.name + "/" + std::to_string(version.version);
    m.run_id = version.run_id;
    CAIRN_RETURN_IF_ERROR(registry.DownloadModelVersion(version, dir).status());
    model_dir = dir;
  } else if (m.uri.rfind("runs:/", 0) == 0) {
    const std::string rest = m.uri.substr(6);
    const size_t slash = rest.find('/');
    if (slash == 0 || rest.empty()) {
      return InvalidArgument(field_prefix + m.role + " '" + m.uri +
                             "': expected runs:/RUN_ID/PATH");
    }
    m.run_id = rest.substr(0, slash);
    const std::string path = slash == std::string::npos ? "" : rest.substr(slash + 1);
    CAIRN_RETURN_IF_ERROR(tracking.DownloadArtifacts(m.run_id, path, dir).status());
    m.resolved = m.uri;
    model_dir = dir + "/" + path;
  } else {
    m.resolved = m.uri;
    model_dir = m.uri;
  }
  Result<ml::LoadedModel> loaded = ml::LoadedModel::Load(model_dir);
  if (!loaded.ok()) {
    return Status(loaded.status().code(), m.role + " " + m.uri + ": " + loaded.status().message());
  }
  m.model.emplace(std::move(*loaded));
  return Status();
}

// The run's lineage tags and split parameters, when it was trained by `cairn train`.
Result<std::optional<TrainingLineage>> ReadLineage(client::TrackingClient& tracking,
                                                   const std::string& run_id) {
  if (run_id.empty()) return std::optional<TrainingLineage>();
  CAIRN_TRY(store::Run run, tracking.GetRun(run_id));
  std::map<std::string, std::string> tags, params;
  for (const store::Tag& t : run.tags) tags[t.key] = t.value;
  for (const store::Param& p : run.params) params[p.key] = p.value;
  if (!tags.contains(kTagDatasetName) || !tags.contains(kTagDatasetVersion) ||
      !params.contains("split_seed") || !params.contains("validation_fraction")) {
    return std::optional<TrainingLineage>();
  }
  TrainingLineage lineage;
  lineage.dataset = tags[kTagDatasetName] + "@" + tags[kTagDatasetVersion];
  lineage.file = tags["cairn.dataset.file"];
  try {
    lineage.seed = std::stoull(params["split_seed"]);
    lineage.validation_fraction = std::stod(params["validation_fraction"]);
  } catch (const std::exception&) {
    return InvalidArgument("run " + run_id + ": unreadable split_seed or validation_fraction");
  }
  return std::optional<TrainingLineage>(lineage);
}

// A dataset file's bytes, fetched once per (version, file).
class DatasetCache {
 public:
  DatasetCache(client::DatasetClient& client, std::string field_prefix)
      : client_(client), field_prefix_(std::move(field_prefix)) {}
  Result<const std::string*> Read(const std::string& ref_text, const std::string& file) {
    const std::string key = ref_text + "\n" + file;
    if (auto it = files_.find(key); it != files_.end()) return &it->second;
    CAIRN_TRY(client::DatasetRef ref, client::ParseDatasetRef(ref_text));
    std::string path = file;
    if (path.empty()) {
      CAIRN_TRY(client::DatasetVersionInfo info, client_.Get(ref, false));
      std::vector<std::string> csvs;
      for (const client::DatasetFile& f : info.files) {
        if (data::IsCsvPath(f.path)) csvs.push_back(f.path);
      }
      if (csvs.size() != 1) {
        return InvalidArgument("dataset " + ref_text + " has " + std::to_string(csvs.size()) +
                               " CSV files; choose one with " + field_prefix_ + "file");
      }
      path = csvs.front();
    }
    CAIRN_TRY(std::string bytes, client_.ReadFile(ref, path));
    return &files_.emplace(key, std::move(bytes)).first->second;
  }

 private:
  client::DatasetClient& client_;
  std::string field_prefix_;
  std::map<std::string, std::string> files_;
};

// Fingerprints of the rows `m` trained on: its training version re-read and re-split exactly as
// `cairn train` split it (SplitRows is a function of the labels, fraction and seed).
Status FindTrainedRows(DatasetCache& cache, ModelUnderTest& m) {
  const TrainingLineage& lineage = *m.lineage;
  CAIRN_TRY(const std::string* bytes, cache.Read(lineage.dataset, lineage.file));
  Result<data::CsvTable> table = data::LoadCsv(*bytes);
  if (!table.ok()) return table.status();
  const ml::Target& target = m.model->preprocessing().target;
  CAIRN_TRY(std::vector<float> labels, ml::EncodeLabels(target, *table));
  CAIRN_TRY(ml::RowSplit split, ml::SplitRows(target.task, labels, lineage.validation_fraction,
                                              lineage.seed));
  CAIRN_TRY(std::vector<uint64_t> fingerprints, data::FingerprintCsvRows(*bytes));
  for (int64_t row : split.train) m.trained_rows.insert(fingerprints[row]);
  return Status();
}

}  // namespace

Result<CompareOutcome> CompareModels(client::TrackingClient& tracking,
                                     client::RegistryClient& registry,
                                     client::DatasetClient& datasets,
                                     const CompareRequest& request) {
  const std::string& fp = request.field_prefix;
  if (!(request.min_improvement >= 0) || !std::isfinite(request.min_improvement)) {
    return InvalidArgument(fp + "min-improvement must be a number >= 0");
  }
  DatasetCache cache(datasets, fp);

  TempDir tmp;
  if (tmp.path().empty()) return Internal("cannot create a temporary directory");
  ModelUnderTest candidate, baseline;
  candidate.role = "candidate";
  candidate.uri = request.candidate;
  baseline.role = "baseline";
  baseline.uri = request.baseline;
  CAIRN_RETURN_IF_ERROR(LoadModel(tracking, registry, tmp.path() + "/candidate", fp, candidate));
  CAIRN_RETURN_IF_ERROR(LoadModel(tracking, registry, tmp.path() + "/baseline", fp, baseline));
  const ml::Task task = candidate.model->task();
  if (baseline.model->task() != task) {
    return InvalidArgument("the candidate is a " + std::string(ml::TaskName(task)) +
                           " model and the baseline a " +
                           std::string(ml::TaskName(baseline.model->task())) +
                           " model: they cannot be compared");
  }
  const std::string metric = request.metric.empty() ? DefaultMetric(task) : request.metric;

  // The evaluation rows: the data version's, minus those either model trained on.
  CAIRN_TRY(client::DatasetRef data_ref, client::ParseDatasetRef(request.data));
  CAIRN_TRY(store::DatasetVersion data_version, datasets.Resolve(data_ref));
  const std::string data_text = data_version.name + "@v" + std::to_string(data_version.version);
  CAIRN_TRY(const std::string* data_bytes, cache.Read(data_text, request.file));
  Result<data::CsvTable> table = data::LoadCsv(*data_bytes);
  if (!table.ok()) {
    return Status(table.status().code(), data_text + ": " + table.status().message());
  }
  CAIRN_TRY(std::vector<uint64_t> fingerprints, data::FingerprintCsvRows(*data_bytes));

  CompareOutcome out;
  for (ModelUnderTest* m : {&candidate, &baseline}) {
    CAIRN_TRY(m->lineage, ReadLineage(tracking, m->run_id));
    if (m->lineage) {
      CAIRN_RETURN_IF_ERROR(FindTrainedRows(cache, *m));
    } else {
      out.warnings.push_back("the " + m->role + " (" + m->uri +
                             ") records no training data lineage: rows it may have trained on "
                             "cannot be left out");
    }
  }
  std::vector<int64_t> kept;
  for (size_t row = 0; row < fingerprints.size(); ++row) {
    const uint64_t f = fingerprints[row];
    if (!candidate.trained_rows.contains(f) && !baseline.trained_rows.contains(f)) {
      kept.push_back(static_cast<int64_t>(row));
    }
  }
  const int64_t total_rows = static_cast<int64_t>(fingerprints.size());
  if (kept.empty()) {
    return FailedPrecondition(data_text + ": all " + std::to_string(total_rows) +
                              " rows were trained on by the candidate or the baseline; compare "
                              "on a version with rows neither has seen");
  }
  std::optional<std::string> target;
  if (!request.target.empty()) target = request.target;
  for (ModelUnderTest* m : {&candidate, &baseline}) {
    Result<ml::Evaluation> evaluation =
        m->model->Evaluate(*table, target, std::span<const int64_t>(kept));
    if (!evaluation.ok()) {
      return Status(evaluation.status().code(),
                    m->role + " on " + data_text + ": " + evaluation.status().message());
    }
    m->evaluation = std::move(*evaluation);
  }
  const auto& cm = candidate.evaluation.metrics;
  const auto& bm = baseline.evaluation.metrics;
  if (!cm.contains(metric) || !bm.contains(metric)) {
    std::string known;
    for (const auto& [k, v] : cm) known += (known.empty() ? "" : ", ") + k;
    return InvalidArgument(fp + "metric '" + metric + "' is not computed for " +
                           std::string(ml::TaskName(task)) + " models on these rows (" + known +
                           ")");
  }
  const double improvement =
      LowerIsBetter(metric) ? bm.at(metric) - cm.at(metric) : cm.at(metric) - bm.at(metric);
  const bool better = improvement >= request.min_improvement && improvement > 0;
  const int64_t evaluated = candidate.evaluation.rows;

  // The evaluation run: what was compared, on what, and the verdict.
  CAIRN_TRY(store::Experiment experiment, EnsureExperiment(tracking, request.experiment));
  client::CreateRunRequest create;
  create.experiment_id = experiment.experiment_id;
  create.user_id = request.user;
  create.run_name = "compare-" + candidate.resolved.substr(candidate.resolved.rfind('/') + 1) +
                    "-vs-" + baseline.resolved.substr(baseline.resolved.rfind('/') + 1);
  create.tags = {{"mlflow.source.name", request.source_name},
                 {"cairn.compare.candidate", candidate.resolved},
                 {"cairn.compare.baseline", baseline.resolved},
                 {"cairn.compare.verdict", better ? "better" : "not_better"},
                 {kTagDatasetName, data_version.name},
                 {kTagDatasetVersion, "v" + std::to_string(data_version.version)},
                 {kTagDatasetDigest, data_version.version_id},
                 {kTagCommand, request.command_line},
                 {kTagCairnVersion, CAIRN_VERSION}};
  for (const store::Tag& t : request.extra_tags) create.tags.push_back(t);
  CAIRN_TRY(store::Run run, tracking.CreateRun(create));
  const int64_t now = SystemClock::Instance().NowMillis();
  std::vector<store::Metric> metrics;
  for (const auto& [k, v] : cm) metrics.push_back({"candidate." + k, v, now, 0});
  for (const auto& [k, v] : bm) metrics.push_back({"baseline." + k, v, now, 0});
  metrics.push_back({"improvement", improvement, now, 0});
  metrics.push_back({"rows_evaluated", static_cast<double>(evaluated), now, 0});
  std::vector<store::Param> params = {
      {"candidate", candidate.uri},
      {"baseline", baseline.uri},
      {"data", data_text},
      {"metric", metric},
      {"min_improvement", FormatNumber(request.min_improvement)},
      {"rows_total", std::to_string(total_rows)},
      {"rows_kept", std::to_string(kept.size())}};
  CAIRN_RETURN_IF_ERROR(tracking.LogBatch(run.info.run_id, metrics, params));
  store::RunUpdate done;
  done.run_id = run.info.run_id;
  done.status = store::RunStatus::kFinished;
  done.end_time = SystemClock::Instance().NowMillis();
  CAIRN_RETURN_IF_ERROR(tracking.UpdateRun(done).status());

  auto summary = [](const ModelUnderTest& m) {
    ComparedModel c;
    c.role = m.role;
    c.uri = m.uri;
    c.resolved = m.resolved;
    c.run_id = m.run_id;
    if (m.lineage) c.trained_on = m.lineage->dataset;
    c.metrics = m.evaluation.metrics;
    return c;
  };
  out.candidate = summary(candidate);
  out.baseline = summary(baseline);
  out.data = data_text;
  out.rows_total = total_rows;
  out.rows_kept = static_cast<int64_t>(kept.size());
  out.rows_evaluated = evaluated;
  out.metric = metric;
  out.improvement = improvement;
  out.min_improvement = request.min_improvement;
  out.better = better;
  out.run_id = run.info.run_id;
  return out;
}

}  // namespace cairn::workflows
