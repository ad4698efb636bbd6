// batch_score_bench: `cairn batch-score`'s engine, file to file, against XGBoost's own
// prediction on the same rows already in memory as a dense matrix, both with 2 threads.
//
// A 100-tree, depth-6 model is trained on telco_churn (ml::Train: num_boost_round=100,
// early_stopping_rounds=0, max_depth=6); telco's rows are repeated into a CSV of ~1.5 M rows.
//   (a) XGBoost: the encoded rows as one dense float matrix → a DMatrix (built outside the
//       timing) → XGBoosterPredict, nthread=2; also XGBoost's in-place predict on the raw
//       buffer. The faster of the two is the baseline.
//   (b) BatchScoreFile: read, parse, encode, predict, format and write the CSV, 2 workers.
// The contenders run in turn, --runs rounds; each figure is the median round's. The figure is
// b / a (target ≥ 0.9); the CPU seconds each took are printed too, as the machine is shared.
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

double CpuSeconds() {
  timespec ts{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + ts.tv_nsec / 1e9;
}

// One measurement: wall-clock seconds, and the process's CPU seconds meanwhile (what the work
// costs, whatever else the machine runs).
struct Timing {
  double wall = 0;
  double cpu = 0;
};

template <typename Fn>
Timing Measure(Fn&& fn) {
  const double cpu = CpuSeconds();
  const auto start = std::chrono::steady_clock::now();
  fn();
  return {std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count(),
          CpuSeconds() - cpu};
}

// The run with the median wall time.
Timing Median(std::vector<Timing> times) {
  std::sort(times.begin(), times.end(),
            [](const Timing& x, const Timing& y) { return x.wall < y.wall; });
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

  // The rows encoded once, as one dense matrix.
  ml::FeatureMatrix one = Check(model.preprocessing().Transform(table), "encoding");
  ml::FeatureMatrix all{rows, one.cols, {}};
  all.values.reserve(one.values.size() * static_cast<size_t>(copies));
  for (int64_t i = 0; i < copies; ++i) {
    all.values.insert(all.values.end(), one.values.begin(), one.values.end());
  }
  ml::XgboostBooster booster = Check(ml::XgboostBooster::LoadRaw(trained.booster, 2), "booster");
  serving::BatchScoreOptions batch;
  batch.threads = threads;
  serving::BatchScoreSummary summary;

  // Round-robin, so that every contender sees the same machine: the build machine is shared.
  std::vector<Timing> dmatrix, inplace, native, scored;
  for (int run = 0; run < runs; ++run) {
    // A new DMatrix every run (built untimed): XGBoost caches a DMatrix's predictions.
    ml::XgboostMatrix matrix =
        Check(ml::XgboostMatrix::Create(all.values, rows, all.cols, {}, 2), "DMatrix");
    dmatrix.push_back(Measure([&] { Check(booster.Predict(matrix), "predict"); }));
    inplace.push_back(Measure(
        [&] { Check(booster.PredictDense(all.values, rows, all.cols), "inplace_predict"); }));
    native.push_back(Measure([&] { Check(model.PredictMatrix(all), "predict"); }));
    scored.push_back(Measure([&] {
      summary = Check(serving::BatchScoreFile(model, input, output, batch), "batch scoring");
    }));
  }
  const Timing xgb_dmatrix = Median(dmatrix), xgb_inplace = Median(inplace);
  const Timing best = xgb_dmatrix.wall < xgb_inplace.wall ? xgb_dmatrix : xgb_inplace;
  const Timing own = Median(native), b_time = Median(scored);
  const double a = rows / best.wall;
  const double b = summary.rows / b_time.wall;
  std::printf("(a) XGBoost predict, dense matrix in memory, nthread=2: %.0f rows/s "
              "(DMatrix %.0f, in-place %.0f), %.2f CPU s\n",
              a, rows / xgb_dmatrix.wall, rows / xgb_inplace.wall, best.cpu);
  std::printf("    LoadedModel::PredictMatrix on that matrix (%s): %.0f rows/s, %.2f CPU s\n",
              model.native() ? "native" : "XGBoost", rows / own.wall, own.cpu);
  std::printf("(b) batch scoring file→file, %d threads: %.0f rows/s, %.0f MB/s in, %.0f MB/s "
              "out, %.2f CPU s\n",
              threads, b, mb / b_time.wall, summary.bytes_written / 1e6 / b_time.wall,
              b_time.cpu);
  std::printf("b/a = %.2f (target >= 0.90); CPU seconds per row, a/b = %.2f\n", b / a,
              best.cpu / b_time.cpu);

  fs::remove(input);
  fs::remove(output);
  return 0;
}
