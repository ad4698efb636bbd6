// train_bench: what Cairn's training costs on top of XGBoost itself.
//
// For each dataset (scaled up by repeating its rows, so the timings are not noise), the median
// of interleaved runs of:
//   (a) XGBoost's C API directly: DMatrix from the already transformed float matrices, a booster
//       with the same parameters, the same rounds, evaluated on the same train and validation
//       sets every round — the floor any wrapper pays;
//   (b) ml::Train from the loaded CsvTable: target and split, preprocessing, matrices, training
//       with per-round histories, final metrics, SHAP importance, model bytes;
//   (b0) the same without SHAP, to show SHAP's share separately;
// and the CSV reader's throughput on the same bytes. Early stopping is off in both so both train
// exactly the same number of rounds. Overhead = b / a − 1; the target is ≤ 10 %.
//
//   train_bench [--data DIR] [--scale N] [--rounds R] [--runs K]
#include <xgboost/c_api.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <limits>
#include <sstream>
#include <string>
#include <vector>

#include "data/csv_reader.h"
#include "ml/tabular.h"
#include "ml/trainer.h"

namespace {

using Clock = std::chrono::steady_clock;

double Seconds(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const size_t n = v.size();
  return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

#define XGB_CHECK(call)                                                    \
  do {                                                                     \
    if ((call) != 0) {                                                     \
      std::fprintf(stderr, "xgboost: %s: %s\n", #call, XGBGetLastError()); \
      std::exit(1);                                                        \
    }                                                                      \
  } while (0)

template <typename T>
T OrDie(cairn::Result<T> r, const char* what) {
  if (!r.ok()) {
    std::fprintf(stderr, "%s: %s\n", what, r.status().ToString().c_str());
    std::exit(1);
  }
  return std::move(r).value();
}

// The file's rows repeated `scale` times under one header.
std::string ScaledCsv(const std::string& path, int scale) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  const std::string text = ss.str();
  const size_t header_end = text.find('\n') + 1;
  std::string body = text.substr(header_end);
  if (!body.empty() && body.back() != '\n') body.push_back('\n');
  std::string out = text.substr(0, header_end);
  out.reserve(header_end + body.size() * static_cast<size_t>(scale));
  for (int i = 0; i < scale; ++i) out += body;
  return out;
}

struct Prepared {
  cairn::ml::FeatureMatrix train, valid;
  std::vector<float> train_y, valid_y;
  std::map<std::string, std::string> params;  // what XGBoost gets
};

// What (a) starts from: Cairn's own transformation of the same rows, and its parameters.
Prepared Prepare(const cairn::data::CsvTable& table, const cairn::ml::TrainOptions& options) {
  using namespace cairn::ml;
  TrainOptions probe = options;
  probe.params["num_boost_round"] = "1";
  probe.shap_rows = 0;
  const TrainResult r = OrDie(Train(table, probe), "train");
  Prepared p;
  p.params = r.params;
  p.params.erase("num_boost_round");
  p.params.erase("early_stopping_rounds");
  const auto labels = OrDie(EncodeLabels(r.preprocessing.target, table), "labels");
  const RowSplit split = OrDie(
      SplitRows(r.preprocessing.target.task, labels, options.validation_fraction, options.seed),
      "split");
  p.train = OrDie(r.preprocessing.Transform(table, split.train), "transform");
  p.valid = OrDie(r.preprocessing.Transform(table, split.valid), "transform");
  for (int64_t row : split.train) p.train_y.push_back(labels[static_cast<size_t>(row)]);
  for (int64_t row : split.valid) p.valid_y.push_back(labels[static_cast<size_t>(row)]);
  return p;
}

// (a): the C API alone, as a careful C++ user would call it.
double DirectXgboost(const Prepared& p, int rounds, int nthread) {
  const auto start = Clock::now();
  const float nan = std::numeric_limits<float>::quiet_NaN();
  DMatrixHandle dm[2];
  XGB_CHECK(XGDMatrixCreateFromMat_omp(p.train.values.data(), static_cast<bst_ulong>(p.train.rows),
                                       static_cast<bst_ulong>(p.train.cols), nan, &dm[0], nthread));
  XGB_CHECK(XGDMatrixSetFloatInfo(dm[0], "label", p.train_y.data(), p.train_y.size()));
  XGB_CHECK(XGDMatrixCreateFromMat_omp(p.valid.values.data(), static_cast<bst_ulong>(p.valid.rows),
                                       static_cast<bst_ulong>(p.valid.cols), nan, &dm[1], nthread));
  XGB_CHECK(XGDMatrixSetFloatInfo(dm[1], "label", p.valid_y.data(), p.valid_y.size()));
  BoosterHandle booster;
  XGB_CHECK(XGBoosterCreate(dm, 2, &booster));
  for (const auto& [key, value] : p.params) {
    if (key == "eval_metric") {  // "logloss,auc": one call per metric
      std::stringstream list(value);
      std::string metric;
      while (std::getline(list, metric, ',')) {
        XGB_CHECK(XGBoosterSetParam(booster, "eval_metric", metric.c_str()));
      }
    } else {
      XGB_CHECK(XGBoosterSetParam(booster, key.c_str(), value.c_str()));
    }
  }
  const char* names[2] = {"train", "valid"};
  double sink = 0;
  for (int round = 0; round < rounds; ++round) {
    XGB_CHECK(XGBoosterUpdateOneIter(booster, round, dm[0]));
    const char* eval = nullptr;
    XGB_CHECK(XGBoosterEvalOneIter(booster, round, dm, names, 2, &eval));
    sink += static_cast<double>(eval[0]);
  }
  bst_ulong length = 0;
  const char* bytes = nullptr;
  XGB_CHECK(XGBoosterSaveModelToBuffer(booster, R"({"format": "ubj"})", &length, &bytes));
  sink += static_cast<double>(length);
  XGBoosterFree(booster);
  XGDMatrixFree(dm[0]);
  XGDMatrixFree(dm[1]);
  if (sink < 0) std::printf("%f", sink);
  return Seconds(start);
}

double CairnTrain(const cairn::data::CsvTable& table, const cairn::ml::TrainOptions& options) {
  const auto start = Clock::now();
  const auto r = OrDie(cairn::ml::Train(table, options), "train");
  if (r.booster.empty()) std::exit(1);
  return Seconds(start);
}

}  // namespace

int main(int argc, char** argv) {
  std::string data_dir = CAIRN_SOURCE_DIR "/../shared/data";
  int scale = 10, rounds = 200, runs = 5;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string flag = argv[i];
    if (flag == "--data")
      data_dir = argv[i + 1];
    else if (flag == "--scale")
      scale = std::atoi(argv[i + 1]);
    else if (flag == "--rounds")
      rounds = std::atoi(argv[i + 1]);
    else if (flag == "--runs")
      runs = std::atoi(argv[i + 1]);
    else {
      std::fprintf(stderr, "usage: train_bench [--data DIR] [--scale N] [--rounds R] [--runs K]\n");
      return 2;
    }
  }
  if (std::getenv("OMP_WAIT_POLICY") == nullptr) {
    std::fprintf(stderr,
                 "note: OMP_WAIT_POLICY is unset; `cairn` runs XGBoost with passive "
                 "waiting, set OMP_WAIT_POLICY=passive to measure the same\n");
  }
  std::printf(
      "xgboost %s, nthread %d, %d rounds (early stopping off), median of %d "
      "interleaved runs\n",
      cairn::ml::XgboostVersion().c_str(), cairn::ml::kDefaultXgboostThreads, rounds, runs);
  std::printf("%-16s %8s %9s %9s %9s %9s %9s %9s %10s\n", "dataset", "rows", "csv MB/s", "load s",
              "xgb s", "cairn s", "overhead", "shap s", "no-shap ovh");

  struct Dataset {
    const char* file;
    const char* target;
  };
  for (const Dataset& d :
       {Dataset{"telco_churn.csv", "churn"}, Dataset{"lending_club.csv", "Class"}}) {
    const std::string text = ScaledCsv(data_dir + "/" + d.file, scale);
    cairn::ml::TrainOptions options;
    options.target = d.target;
    options.params["num_boost_round"] = std::to_string(rounds);
    options.params["early_stopping_rounds"] = "0";

    std::vector<double> load, direct, cairn_full, cairn_no_shap;
    cairn::data::CsvTable table;
    for (int run = 0; run < runs; ++run) {
      const auto start = Clock::now();
      table = OrDie(cairn::data::LoadCsv(text), "load");
      load.push_back(Seconds(start));
    }
    const Prepared prepared = Prepare(table, options);
    cairn::ml::TrainOptions no_shap = options;
    no_shap.shap_rows = 0;
    for (int run = 0; run < runs; ++run) {  // interleaved, so drift hits all three alike
      direct.push_back(DirectXgboost(prepared, rounds, cairn::ml::kDefaultXgboostThreads));
      cairn_full.push_back(CairnTrain(table, options));
      cairn_no_shap.push_back(CairnTrain(table, no_shap));
    }
    const double a = Median(direct), b = Median(cairn_full), b0 = Median(cairn_no_shap);
    const double mb = static_cast<double>(text.size()) / 1e6;
    std::printf("%-16s %8lld %9.0f %9.3f %9.3f %9.3f %8.1f%% %9.3f %9.1f%%\n", d.file,
                static_cast<long long>(table.rows), mb / Median(load), Median(load), a, b,
                100 * (b / a - 1), b - b0, 100 * (b0 / a - 1));
  }
  return 0;
}
