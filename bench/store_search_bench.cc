// Store benchmark: SearchRuns over 100k runs (10 metrics, 10 params each) with a metric and a
// param filter ordered by a metric, plus LogBatch costs. Prints median milliseconds.
//   store_search_bench [--runs N] [--iterations N] [--keep DIR]
// With --keep, the database stays in DIR, and a later run with the same DIR reuses it.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <random>
#include <string>
#include <vector>

#include "core/clock.h"
#include "core/ids.h"
#include "store/sqlite/sqlite_metadata_store.h"

namespace {

using namespace cairn;
using namespace cairn::store;
using Ms = std::chrono::duration<double, std::milli>;

double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

void Check(const Status& s, const char* what) {
  if (!s.ok()) {
    std::fprintf(stderr, "%s: %s\n", what, s.ToString().c_str());
    std::exit(1);
  }
}

}  // namespace

int main(int argc, char** argv) {
  int num_runs = 100000;
  int iterations = 20;
  std::string keep;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string flag = argv[i];
    if (flag == "--runs") num_runs = std::atoi(argv[i + 1]);
    if (flag == "--iterations") iterations = std::atoi(argv[i + 1]);
    if (flag == "--keep") keep = argv[i + 1];
  }
  namespace fs = std::filesystem;
  fs::path dir = keep.empty() ? fs::temp_directory_path() / ("cairn-bench-" + NewUuidHex())
                              : fs::path(keep);
  fs::create_directories(dir);
  const bool reuse = fs::exists(dir / "meta.db");
  const SystemClock& clock = SystemClock::Instance();
  auto opened = SqliteMetadataStore::Open((dir / "meta.db").string(), clock);
  Check(opened.status(), "open");
  SqliteMetadataStore& store = **opened;

  std::mt19937_64 rng(42);
  std::uniform_real_distribution<double> uniform(0, 1);
  const char* kValues[] = {"x", "y", "z", "w"};
  auto setup_start = std::chrono::steady_clock::now();
  for (int i = 0; i < (reuse ? 0 : num_runs); ++i) {
    std::string id = NewUuidHex();
    auto run = store.CreateRun({id, "0", "run-" + std::to_string(i), "bench", RunStatus::kFinished,
                                1700000000000 + i, {}});
    Check(run.status(), "create run");
    std::vector<Metric> metrics;
    std::vector<Param> params;
    for (int k = 0; k < 10; ++k) {
      metrics.push_back({"m" + std::to_string(k), uniform(rng), 1700000000000 + i, 0});
      params.push_back({"p" + std::to_string(k), kValues[rng() % 4]});
    }
    Check(store.LogBatch(id, metrics, params, {}), "log batch");
  }
  double setup_s = Ms(std::chrono::steady_clock::now() - setup_start).count() / 1000;
  if (!reuse) std::printf("setup: %d runs (10 metrics, 10 params each) in %.1f s\n", num_runs, setup_s);

  RunQuery q;
  q.experiment_ids = {"0"};
  q.filter = {{EntityKind::kMetric, "m1", CompareOp::kGt, 0.5},
              {EntityKind::kParam, "p1", CompareOp::kEq, std::string("x")}};
  q.order_by = {{EntityKind::kMetric, "m2", false}};
  q.max_results = 100;
  std::vector<double> times;
  size_t found = 0;
  for (int i = 0; i < iterations; ++i) {
    auto t0 = std::chrono::steady_clock::now();
    auto page = store.SearchRuns(q);
    times.push_back(Ms(std::chrono::steady_clock::now() - t0).count());
    Check(page.status(), "search");
    found = page->runs.size();
  }
  std::printf("search `metrics.m1 > 0.5 AND params.p1 = 'x'` order by metrics.m2 DESC, "
              "100 results (%zu returned): median %.2f ms over %d iterations\n",
              found, Median(times), iterations);

  // A selective filter: the plan that walks the order index gives up and filters first.
  q.filter = {{EntityKind::kMetric, "m1", CompareOp::kGt, 0.999},
              {EntityKind::kParam, "p1", CompareOp::kEq, std::string("x")}};
  times.clear();
  for (int i = 0; i < iterations; ++i) {
    auto t0 = std::chrono::steady_clock::now();
    auto page = store.SearchRuns(q);
    times.push_back(Ms(std::chrono::steady_clock::now() - t0).count());
    Check(page.status(), "search");
    found = page->runs.size();
  }
  std::printf("search `metrics.m1 > 0.999 AND params.p1 = 'x'` order by metrics.m2 DESC "
              "(%zu returned): median %.2f ms\n", found, Median(times));

  q.filter.clear();
  q.order_by.clear();
  times.clear();
  for (int i = 0; i < iterations; ++i) {
    auto t0 = std::chrono::steady_clock::now();
    Check(store.SearchRuns(q).status(), "search");
    times.push_back(Ms(std::chrono::steady_clock::now() - t0).count());
  }
  std::printf("search default order, 100 results: median %.2f ms\n", Median(times));

  // LogBatch: 1000 metrics (10 keys x 100 steps) and a single metric, into a fresh run.
  std::string id = NewUuidHex();
  Check(store.CreateRun({id, "0", "ingest", "bench", RunStatus::kRunning, 1, {}}).status(), "run");
  std::vector<double> big, single;
  for (int b = 0; b < 200; ++b) {
    std::vector<Metric> metrics;
    for (int step = 0; step < 100; ++step) {
      for (int k = 0; k < 10; ++k) {
        metrics.push_back({"k" + std::to_string(k), uniform(rng), 1700000000000 + b, b * 100 + step});
      }
    }
    auto t0 = std::chrono::steady_clock::now();
    Check(store.LogBatch(id, metrics, {}, {}), "log batch");
    big.push_back(Ms(std::chrono::steady_clock::now() - t0).count());
  }
  for (int b = 0; b < 2000; ++b) {
    std::vector<Metric> one = {{"single", uniform(rng), 1700000000000 + b, b}};
    auto t0 = std::chrono::steady_clock::now();
    Check(store.LogBatch(id, one, {}, {}), "log batch");
    single.push_back(Ms(std::chrono::steady_clock::now() - t0).count());
  }
  std::printf("LogBatch 1000 metrics: median %.3f ms (%.0f metrics/s)\n", Median(big),
              1000 / (Median(big) / 1000));
  std::printf("LogBatch 1 metric: median %.1f us\n", Median(single) * 1000);

  if (keep.empty()) {
    opened->reset();
    std::error_code ec;
    fs::remove_all(dir, ec);
  }
  return 0;
}
