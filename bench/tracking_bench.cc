// Tracking benchmark driver: starts `cairn server` on a temporary data directory and measures,
// over loopback HTTP, the three figures:
//   1. log-batch ingestion: 4 clients, each on its own run, 1000 metrics per request
//      (10 keys x 100 steps, new steps every request) → metrics/s;
//   2. single log-metric requests from 4 clients → requests/s;
//   3. runs/search over 100,000 runs (10 metrics, 10 params each) with
//      `metrics.m1 > 0.5 and params.p1 = 'x'`, ordered by a metric, 100 results → median ms.
// Usage: tracking_bench [--cairn PATH] [--rounds 5] [--search-runs 100000] [--quick]
#include <signal.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "server_process.h"

namespace {

using cairn::testing::ServerProcess;
using nlohmann::json;
using Clock = std::chrono::steady_clock;

double Seconds(Clock::time_point a, Clock::time_point b) {
  return std::chrono::duration<double>(b - a).count();
}

double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.empty() ? 0 : v[v.size() / 2];
}

std::string CreateRun(cairn::http::HttpClient& client, const std::string& experiment_id) {
  auto response = client.Send("POST", "/api/2.0/mlflow/runs/create",
                              json{{"experiment_id", experiment_id}}.dump());
  if (!response.ok() || response->status != 200) {
    std::fprintf(stderr, "runs/create failed\n");
    std::exit(1);
  }
  return json::parse(response->body)["run"]["info"]["run_id"];
}

std::string LogBatchBody(const std::string& run_id, int request_index) {
  std::string body = "{\"run_id\":\"" + run_id + "\",\"metrics\":[";
  char buf[160];
  for (int k = 0; k < 10; ++k) {
    for (int s = 0; s < 100; ++s) {
      int64_t step = int64_t(request_index) * 100 + s;
      std::snprintf(buf, sizeof buf, "%s{\"key\":\"metric_%d\",\"value\":%.6f,\"timestamp\":%lld,\"step\":%lld}",
                    (k || s) ? "," : "", k, 0.001 * double(step % 1000) + k,
                    (long long)(1700000000000 + step), (long long)step);
      body += buf;
    }
  }
  return body + "]}";
}

// Runs `per_client` requests from each of `clients` threads; returns the wall time.
template <typename MakeBody>
double Drive(const ServerProcess& server, int clients, int per_client, const std::string& path,
             MakeBody make_body) {
  std::vector<std::vector<std::string>> bodies(clients);
  for (int c = 0; c < clients; ++c) {
    for (int i = 0; i < per_client; ++i) bodies[c].push_back(make_body(c, i));
  }
  std::atomic<int> failures{0};
  std::atomic<int> ready{0};
  std::atomic<bool> go{false};
  std::vector<std::thread> threads;
  for (int c = 0; c < clients; ++c) {
    threads.emplace_back([&, c] {
      auto client = server.NewClient();
      (void)client->Send("GET", "/health");  // connect before the clock starts
      ready++;
      while (!go.load()) std::this_thread::yield();
      for (const auto& body : bodies[c]) {
        auto response = client->Send("POST", path, body);
        if (!response.ok() || response->status != 200) failures++;
      }
    });
  }
  while (ready.load() < clients) std::this_thread::yield();
  auto start = Clock::now();
  go = true;
  for (auto& t : threads) t.join();
  double elapsed = Seconds(start, Clock::now());
  if (failures.load() > 0) {
    std::fprintf(stderr, "%d requests failed\n", failures.load());
    std::exit(1);
  }
  return elapsed;
}

}  // namespace

int main(int argc, char** argv) {
  int rounds = 5;
  int search_runs = 100000;
  bool quick = false;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--cairn" && i + 1 < argc) setenv("CAIRN_BINARY", argv[++i], 1);
    else if (a == "--rounds" && i + 1 < argc) rounds = std::atoi(argv[++i]);
    else if (a == "--search-runs" && i + 1 < argc) search_runs = std::atoi(argv[++i]);
    else if (a == "--quick") quick = true;
    else {
      std::fprintf(stderr, "usage: tracking_bench [--cairn PATH] [--rounds N] [--search-runs N] [--quick]\n");
      return 2;
    }
  }
  if (quick) {
    rounds = 1;
    search_runs = std::min(search_runs, 5000);
  }
  std::string dir = cairn::testing::MakeTempDir("cairn-bench");
  // Defaults, access log included (it goes to a file beside the data directory).
  auto server = ServerProcess::Start(dir + "/data");
  if (!server) {
    std::fprintf(stderr, "could not start %s\n", cairn::testing::CairnBinary().c_str());
    return 1;
  }
  auto client = server->NewClient();
  constexpr int kClients = 4;

  // 1. log-batch ingestion.
  std::vector<double> ingest;
  const int batches = quick ? 50 : 250;
  for (int r = 0; r < rounds; ++r) {
    std::vector<std::string> runs;
    for (int c = 0; c < kClients; ++c) runs.push_back(CreateRun(*client, "0"));
    double t = Drive(*server, kClients, batches, "/api/2.0/mlflow/runs/log-batch",
                     [&](int c, int i) { return LogBatchBody(runs[c], i); });
    ingest.push_back(double(kClients) * batches * 1000 / t);
  }
  std::printf("log-batch ingest   : %9.0f metrics/s  (median of %d rounds; 4 clients x %d requests x 1000 metrics)\n",
              Median(ingest), rounds, batches);

  // 2. single log-metric requests.
  std::vector<double> single;
  const int per_client = quick ? 500 : 5000;
  for (int r = 0; r < rounds; ++r) {
    std::vector<std::string> runs;
    for (int c = 0; c < kClients; ++c) runs.push_back(CreateRun(*client, "0"));
    double t = Drive(*server, kClients, per_client, "/api/2.0/mlflow/runs/log-metric",
                     [&](int c, int i) {
                       return json{{"run_id", runs[c]}, {"key", "loss"}, {"value", 1.0 / (i + 1)},
                                   {"timestamp", 1700000000000 + i}, {"step", i}}
                           .dump();
                     });
    single.push_back(double(kClients) * per_client / t);
  }
  std::printf("log-metric         : %9.0f requests/s (median of %d rounds; 4 clients x %d requests)\n",
              Median(single), rounds, per_client);

  // 3. search over many runs.
  auto exp = client->Send("POST", "/api/2.0/mlflow/experiments/create",
                          json{{"name", "search-bench"}}.dump());
  std::string exp_id = json::parse(exp->body)["experiment_id"];
  auto populate_start = Clock::now();
  std::vector<std::thread> writers;
  std::atomic<int> next{0};
  for (int c = 0; c < kClients; ++c) {
    writers.emplace_back([&, c] {
      auto w = server->NewClient();
      std::mt19937 rng(c);
      std::uniform_real_distribution<double> uniform(0, 1);
      while (true) {
        int i = next++;
        if (i >= search_runs) break;
        std::string run_id = CreateRun(*w, exp_id);
        json metrics = json::array(), params = json::array();
        for (int k = 0; k < 10; ++k) {
          metrics.push_back({{"key", "m" + std::to_string(k)}, {"value", uniform(rng)},
                             {"timestamp", 1700000000000}, {"step", 0}});
          std::string value = k == 1 ? (uniform(rng) < 0.5 ? "x" : "y") : std::to_string(i % 97);
          params.push_back({{"key", "p" + std::to_string(k)}, {"value", value}});
        }
        auto r = w->Send("POST", "/api/2.0/mlflow/runs/log-batch",
                         json{{"run_id", run_id}, {"metrics", metrics}, {"params", params}}.dump());
        if (!r.ok() || r->status != 200) std::exit(1);
      }
    });
  }
  for (auto& t : writers) t.join();
  std::fprintf(stderr, "populated %d runs in %.1f s\n", search_runs,
               Seconds(populate_start, Clock::now()));
  std::string query = json{{"experiment_ids", {exp_id}},
                           {"filter", "metrics.m1 > 0.5 and params.p1 = 'x'"},
                           {"order_by", {"metrics.m2 DESC"}},
                           {"max_results", 100}}
                          .dump();
  std::vector<double> search_ms;
  size_t returned = 0;
  for (int i = 0; i < (quick ? 5 : 21); ++i) {
    auto start = Clock::now();
    auto response = client->Send("POST", "/api/2.0/mlflow/runs/search", query);
    search_ms.push_back(Seconds(start, Clock::now()) * 1000);
    if (!response.ok() || response->status != 200) return 1;
    returned = json::parse(response->body)["runs"].size();
  }
  std::printf("runs/search        : %9.1f ms median   (%d runs, metrics.m1 > 0.5 and params.p1 = 'x', order by metrics.m2, %zu results)\n",
              Median(search_ms), search_runs, returned);
  server->Stop(SIGTERM);
  std::filesystem::remove_all(dir);
  return 0;
}
