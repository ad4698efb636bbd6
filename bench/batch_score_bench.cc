// batch_score_bench: `cairn batch-score`'s engine, file to file, against XGBoost's own
// prediction on the same rows already in memory as a dense matrix, both with 2 threads.
//
// A 100-tree, depth-6 model is trained on telco_churn (ml::Train: num_boost_round=100,
// early_stopping_rounds=0, max_depth=6); telco's rows are repeated into a CSV of ~1.5 M rows.
//   (a) XGBoost: the encoded rows as one dense float matrix → a DMatrix (built outside the
//       timing) → XGBoosterPredict, nthread=2; also XGBoost's in-place predict on the raw
//       buffer. The faster of the two is the baseline.
//   (b) BatchScoreFile: read, parse, encode, predict, format and write the CSV, 2 workers.
// Each is the median of --runs runs; the figure is b / a (target ≥ 0.9).
//
//   batch_score_bench [--rows N] [--runs K] [--threads T] [--dir DIR]
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>
#include <ctime>
#include <string>
#include <vector>

#include "data/csv_reader.h"
#include "ml/scorer.h"
#include "ml/trainer.h"
#include "ml/xgboost_booster.h"
#include "serving/batch_scorer.h"

namespace {

namespace fs = std::filesystem;
using namespace cairn;

const std::string kTelco = CAIRN_SOURCE_DIR "/../shared/data/telco_churn.csv";

template <typename T>
T Check(Result<T> r, const char* what) {
  if (!r.ok()) {
    std::fprintf(stderr, "%s: %s\n", what, r.status().ToString().c_str());
    std::exit(1);
  }
  return std::move(*r);
}

struct Timing {
  double wall = 0;  // median wall-clock seconds
  double cpu = 0;   // the process's CPU seconds in that run: what the work costs, load or not
};

double CpuSeconds() {
  timespec ts{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + ts.tv_nsec / 1e9;
}

// The median of `runs` runs of fn(); `prepare` runs before each, untimed.
template <typename Prepare, typename Fn>
Timing Median(int runs, Prepare&& prepare, Fn&& fn) {
  std::vector<Timing> times;
  for (int i = 0; i < runs; ++i) {
    prepare();
    const double cpu = CpuSeconds();
    const auto start = std::chrono::steady_clock::now();
    fn();
    times.push_back(
        {std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count(),
         CpuSeconds() - cpu});
  }
  std::sort(times.begin(), times.end(), [](const Timing& x, const Timing& y) { return x.wall < y.wall; });
  return times[times.size() / 2];
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

}  // namespace

int main(int argc, char** argv) {
  int64_t target_rows = 1500000;
  int runs = 3;
  int threads = 2;
  std::string dir = fs::temp_directory_path().string();
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string flag = argv[i];
    if (flag == "--rows") target_rows = std::atoll(argv[i + 1]);
    else if (flag == "--runs") runs = std::max(1, std::atoi(argv[i + 1]));
    else if (flag == "--threads") threads = std::max(1, std::atoi(argv[i + 1]));
    else if (flag == "--dir") dir = argv[i + 1];
  }

  // The model.
  const std::string telco = ReadFile(kTelco);
  data::CsvTable table = Check(data::LoadCsv(telco), "loading telco_churn");
  ml::TrainOptions options;
  options.target = "churn";
  options.num_boost_round = 100;
  options.early_stopping_rounds = 0;
  options.params["max_depth"] = "6";
  options.shap_rows = 0;
  ml::TrainResult trained = Check(ml::Train(table, options), "training");
  ml::LoadedModel model =
      Check(ml::LoadedModel::FromParts(trained.preprocessing, trained.booster), "loading");
  std::printf("model: %d trees, depth 6, %zu features (telco_churn)\n", trained.rounds_run,
              trained.preprocessing.features.size());

  // The input: telco's rows repeated.
  const size_t header_end = telco.find('\n') + 1;
  const std::string_view rows_text = std::string_view(telco).substr(header_end);
  const int64_t copies = (target_rows + table.rows - 1) / table.rows;
  const int64_t rows = copies * table.rows;
  const std::string input = dir + "/cairn_batch_bench_" + std::to_string(::getpid()) + ".csv";
  const std::string output = dir + "/cairn_batch_bench_" + std::to_string(::getpid()) + ".out";
  {
    std::ofstream out(input, std::ios::binary | std::ios::trunc);
    out << telco.substr(0, header_end);
    for (int64_t i = 0; i < copies; ++i) out << rows_text;
  }
  const double mb = static_cast<double>(fs::file_size(input)) / 1e6;
  std::printf("input: %lld rows, %.1f MB\n", static_cast<long long>(rows), mb);

  // (a) XGBoost on the dense matrix in memory.
  ml::FeatureMatrix one = Check(model.preprocessing().Transform(table), "encoding");
  std::vector<float> dense;
  dense.reserve(one.values.size() * static_cast<size_t>(copies));
  for (int64_t i = 0; i < copies; ++i) dense.insert(dense.end(), one.values.begin(), one.values.end());
  ml::XgboostBooster booster = Check(ml::XgboostBooster::LoadRaw(trained.booster, 2), "booster");
  auto nothing = [] {};
  // A new DMatrix for every run: XGBoost caches a DMatrix's predictions.
  std::optional<ml::XgboostMatrix> matrix;
  const Timing xgb_dmatrix = Median(
      runs,
      [&] {
        matrix.reset();
        matrix.emplace(Check(ml::XgboostMatrix::Create(dense, rows, one.cols, {}, 2), "DMatrix"));
      },
      [&] { Check(booster.Predict(*matrix), "predict"); });
  matrix.reset();
  const Timing xgb_inplace = Median(runs, nothing, [&] {
    Check(booster.PredictDense(dense, rows, one.cols), "inplace_predict");
  });
  const Timing& best = xgb_dmatrix.wall < xgb_inplace.wall ? xgb_dmatrix : xgb_inplace;
  const double a = rows / best.wall;
  std::printf("(a) XGBoost predict, dense matrix in memory, nthread=2: %.0f rows/s "
              "(DMatrix %.0f, in-place %.0f; %.2f CPU s)\n",
              a, rows / xgb_dmatrix.wall, rows / xgb_inplace.wall, best.cpu);

  // For reference: the scorer's own prediction on the same matrix.
  ml::FeatureMatrix all{rows, one.cols, dense};
  const Timing native =
      Median(runs, nothing, [&] { Check(model.PredictMatrix(all), "predict"); });
  std::printf("    LoadedModel::PredictMatrix on that matrix (%s): %.0f rows/s, %.2f CPU s\n",
              model.native() ? "native" : "XGBoost", rows / native.wall, native.cpu);
  dense.clear();
  dense.shrink_to_fit();
  all.values.clear();
  all.values.shrink_to_fit();

  // (b) Batch scoring, file to file.
  serving::BatchScoreOptions batch;
  batch.threads = threads;
  serving::BatchScoreSummary summary;
  const Timing b_time = Median(runs, nothing, [&] {
    summary = Check(serving::BatchScoreFile(model, input, output, batch), "batch scoring");
  });
  const double b = summary.rows / b_time.wall;
  std::printf("(b) batch scoring file→file, %d threads: %.0f rows/s, %.0f MB/s in, %.0f MB/s out; "
              "%.2f CPU s\n",
              threads, b, mb / b_time.wall, summary.bytes_written / 1e6 / b_time.wall, b_time.cpu);
  std::printf("b/a = %.2f (target ≥ 0.90); CPU per row b/a = %.2f\n", b / a,
              b_time.cpu / best.cpu);

  fs::remove(input);
  fs::remove(output);
  return 0;
}
