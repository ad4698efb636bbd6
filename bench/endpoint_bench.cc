// endpoint_bench: what the prediction log costs an endpoint's hot path.
//
// A 100-tree, depth-6 model trained on telco_churn is deployed behind a workspace endpoint
// (EndpointService with the real scoring model, SQLite store and prediction log in a temporary
// directory). T threads send single-row MLflow requests (each a different customer's row of
// telco_churn, 4000 of them in turn) through the endpoint's scoring route
// (Router::Dispatch: no sockets, so the log's share is not hidden behind HTTP costs) for S
// seconds, interleaved with the endpoint's sample rate at 0 (nothing logged), 1 (every request's
// inputs and outputs captured and logged) and 0.1. Each run also takes the process's CPU time
// (scoring threads and the log's writer alike) per request: on a machine shared with other work
// that, not the wall-clock rate, is what a CPU-bound server's throughput follows. The figure is
// CPU per request without logging over CPU per request with it (target ≥ 0.90), medians of the
// runs.
//
//   endpoint_bench [--seconds S] [--runs K] [--threads T] [--rate R (only this one)]
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "api/v1/endpoint_routes.h"
#include "core/ids.h"
#include "data/csv_reader.h"
#include "endpoints/endpoint_service.h"
#include "ml/model_dir.h"
#include "ml/tabular.h"
#include "ml/trainer.h"
#include "store/sqlite/sqlite_metadata_store.h"

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

void Check(const Status& s, const char* what) {
  if (!s.ok()) {
    std::fprintf(stderr, "%s: %s\n", what, s.ToString().c_str());
    std::exit(1);
  }
}

// Serves the one model directory the bench wrote, whatever the URI.
class DirectoryProvider : public endpoints::ModelProvider {
 public:
  explicit DirectoryProvider(std::string dir) : dir_(std::move(dir)) {}
  Result<endpoints::ModelSource> Resolve(std::string_view uri) override {
    endpoints::ModelSource s;
    s.uri = std::string(uri);
    s.model_name = "telco";
    s.model_version = 1;
    s.storage_location = dir_;
    return s;
  }
  Result<std::shared_ptr<const serving::ScoringModel>> Load(
      const endpoints::ModelSource&) override {
    return serving::LoadScoringModel(dir_);
  }

 private:
  std::string dir_;
};

double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

}  // namespace

int main(int argc, char** argv) {
  double seconds = 2;
  int runs = 3;
  int threads = 2;
  double only_rate = -1;  // --rate R: only that sample rate (for profiling)
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string flag = argv[i];
    if (flag == "--seconds") {
      seconds = std::max(0.1, std::atof(argv[i + 1]));
    } else if (flag == "--runs") {
      runs = std::max(1, std::atoi(argv[i + 1]));
    } else if (flag == "--threads") {
      threads = std::max(1, std::atoi(argv[i + 1]));
    } else if (flag == "--rate") {
      only_rate = std::atof(argv[i + 1]);
    }
  }
  const fs::path dir = fs::temp_directory_path() / ("cairn_endpoint_bench_" + NewUuidHex());
  fs::create_directories(dir);

  // The model.
  std::ifstream in(kTelco, std::ios::binary);
  const std::string telco{std::istreambuf_iterator<char>(in), {}};
  data::CsvTable table = Check(data::LoadCsv(telco), "loading telco_churn");
  ml::TrainOptions options;
  options.target = "churn";
  options.num_boost_round = 100;
  options.early_stopping_rounds = 0;
  options.params["max_depth"] = "6";
  options.shap_rows = 0;
  ml::TrainResult trained = Check(ml::Train(table, options), "training");
  ml::ModelInfo info;
  info.run_id = NewUuidHex();
  ml::ModelFiles files = Check(ml::RenderModelDirectory(trained, info), "model directory");
  const std::string model_dir = (dir / "model").string();
  Check(ml::WriteModelFiles(model_dir, files), "writing the model");
  // Distinct single-row requests, one per customer (raw values, as the input example has them):
  // one repeated row would compress to almost nothing and hide what logging real traffic costs.
  std::vector<std::string> bodies;
  for (int64_t row = 0; row < std::min<int64_t>(table.rows, 4000); ++row) {
    const int64_t rows[] = {row};
    bodies.push_back(
        nlohmann::json{{"dataframe_split", ml::InputExampleJson(trained.preprocessing, table, rows)}}
            .dump());
  }

  {  // The endpoint (destroyed before its directory is removed).
    const Clock& clock = SystemClock::Instance();
    auto store =
        Check(store::SqliteMetadataStore::Open((dir / "metadata.db").string(), clock), "store");
    monitoring::PredictionLogOptions log_options;
    log_options.dir = (dir / "predictions").string();
    auto log = Check(monitoring::PredictionLog::Open(log_options, clock), "prediction log");
    DirectoryProvider provider(model_dir);
    endpoints::EndpointService service(*store, provider, log.get(), clock);
    Check(service.CreateEndpoint({"bench", "", 0.0}).status(), "endpoint");
    Check(service.CreateDeployment({"bench", "blue", "models:/telco/1", 0}).status(), "deployment");
    Check(
        service.SetTraffic({"bench", std::vector<store::TrafficShare>{{"blue", 100}}, {}}).status(),
        "traffic");
    http::Router router;
    api::v1::RegisterEndpointScoringRoutes(router, service);

    struct Run {
      double requests_per_s;
      double cpu_us_per_request;  // the whole process: scoring threads, log writer, everything
    };
    auto cpu_seconds = [] {
      timespec ts;
      clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
      return double(ts.tv_sec) + double(ts.tv_nsec) * 1e-9;
    };
    auto measure = [&]() {
      std::atomic<bool> stop{false};
      std::atomic<int64_t> total{0};
      std::atomic<int64_t> failed{0};
      std::vector<std::thread> workers;
      const double cpu_start = cpu_seconds();
      const auto start = std::chrono::steady_clock::now();
      for (int t = 0; t < threads; ++t) {
        workers.emplace_back([&, t] {
          int64_t n = 0;
          size_t next = size_t(t) * bodies.size() / size_t(threads);
          while (!stop.load(std::memory_order_relaxed)) {
            http::HttpRequest req;
            req.method = "POST";
            req.path = "/endpoints/bench/invocations";
            req.target = req.path;
            req.headers = {{"content-type", "application/json"}};
            req.body = bodies[next++ % bodies.size()];
            if (router.Dispatch(req).status != 200) failed++;
            ++n;
          }
          total += n;
        });
      }
      std::this_thread::sleep_for(std::chrono::duration<double>(seconds));
      stop = true;
      for (auto& w : workers) w.join();
      // Records still queued are written now, inside the measurement: their cost is counted.
      log->Flush();
      const double elapsed =
          std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
      const double cpu = cpu_seconds() - cpu_start;
      if (failed.load() > 0) {
        std::fprintf(stderr, "%lld requests failed\n", static_cast<long long>(failed.load()));
        std::exit(1);
      }
      const double n = double(total.load());
      return Run{n / elapsed, cpu / n * 1e6};
    };

    std::printf(
        "model: %d trees, depth 6 (telco_churn); %d threads, %.1f s per run, %d runs "
        "of each, interleaved\n",
        trained.rounds_run, threads, seconds, runs);
    measure();  // warm-up
    std::map<double, std::vector<Run>> by_rate;
    const std::vector<double> rates =
      only_rate >= 0 ? std::vector<double>{only_rate} : std::vector<double>{0.0, 1.0, 0.1};
    for (int r = 0; r < runs; ++r) {
      for (double rate : rates) {
        Check(service.UpdateEndpoint({"bench", std::nullopt, rate}).status(), "sample rate");
        by_rate[rate].push_back(measure());
      }
    }
    auto median = [](std::vector<Run> runs, auto field) {
      std::vector<double> v;
      for (const Run& r : runs) v.push_back(r.*field);
      return Median(v);
    };
    const double base_cpu = median(by_rate[rates[0]], &Run::cpu_us_per_request);
    for (double rate : rates) {
      const double rps = median(by_rate[rate], &Run::requests_per_s);
      const double cpu = median(by_rate[rate], &Run::cpu_us_per_request);
      std::printf(
          "sample rate %-4g %8.0f requests/s  %6.1f µs CPU per request  -> hot-path "
          "throughput ratio %.3f\n",
          rate, rps, cpu, base_cpu / cpu);
    }
    const auto stats = log->Stats("bench");
    std::printf("logged %lld records, %.1f MB compressed, %lld dropped\n",
                static_cast<long long>(stats.written), double(stats.bytes) / 1e6,
                static_cast<long long>(stats.dropped));
  }
  std::error_code ec;
  fs::remove_all(dir, ec);
  return 0;
}
