// Scoring benchmark driver — the issue's figures for single-row JSON scoring:
//   1. per-row prediction cost of the 100-tree depth-6 telco model: XGBoost's in-place dense
//      predict versus the native tree evaluator (timing loops, one row at a time);
//   2. `cairn serve` under `wrk -t1 -c32` (sharing the machine with the server), POSTing one
//      single-row dataframe_split body to /invocations: requests/s, p99 latency, and the
//      server's CPU time per request (utime + stime from /proc/PID/stat, before and after).
// Usage: serve_bench [--cairn PATH] [--duration 10] [--threads 2] [--connections 32]
//                    [--access-log] [--predict-only]
// Needs `wrk` (Debian: wrk) on the PATH.
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <ctime>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include "data/csv_reader.h"
#include "ml/model_dir.h"
#include "ml/scorer.h"
#include "ml/trainer.h"

namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;
using namespace cairn;

std::string ReadFile(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

double CpuSeconds(pid_t pid) {
  // Fields 14 and 15 of /proc/PID/stat (after the parenthesised command name).
  const std::string stat = ReadFile("/proc/" + std::to_string(pid) + "/stat");
  std::istringstream in(stat.substr(stat.rfind(')') + 2));
  std::string field;
  unsigned long long utime = 0, stime = 0;
  for (int i = 3; i <= 15 && in >> field; ++i) {
    if (i == 14) utime = std::stoull(field);
    if (i == 15) stime = std::stoull(field);
  }
  return static_cast<double>(utime + stime) / static_cast<double>(sysconf(_SC_CLK_TCK));
}

// CPU time of the children waited for so far.
double ChildrenCpuSeconds() {
  rusage usage{};
  getrusage(RUSAGE_CHILDREN, &usage);
  auto seconds = [](const timeval& t) {
    return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_usec) * 1e-6;
  };
  return seconds(usage.ru_utime) + seconds(usage.ru_stime);
}

double ProcessCpuSeconds() {
  timespec t{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
  return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_nsec) * 1e-9;
}

struct Cost {
  double wall_us = 0;  // per call
  double cpu_us = 0;   // per call, every thread of the process (XGBoost's OpenMP ones too)
};

// Mean cost per call of `fn` over about `seconds` of calls. CPU time is the steadier figure on a
// shared machine: it does not count the time other processes hold the cores.
template <typename Fn>
Cost CostPerCall(Fn&& fn, double seconds = 1.0) {
  for (int i = 0; i < 20; ++i) fn();  // warm up
  int64_t calls = 0;
  const auto start = Clock::now();
  const double cpu_start = ProcessCpuSeconds();
  auto elapsed = [&] { return std::chrono::duration<double>(Clock::now() - start).count(); };
  while (elapsed() < seconds) {
    for (int i = 0; i < 10; ++i) fn();
    calls += 10;
  }
  return {elapsed() * 1e6 / static_cast<double>(calls),
          (ProcessCpuSeconds() - cpu_start) * 1e6 / static_cast<double>(calls)};
}

}  // namespace

int main(int argc, char** argv) {
  // As `cairn` itself does: XGBoost's OpenMP threads wait passively (read when libgomp loads,
  // so re-execute once with the variable set).
  if (std::getenv("OMP_WAIT_POLICY") == nullptr && setenv("OMP_WAIT_POLICY", "passive", 1) == 0) {
    execv("/proc/self/exe", argv);
  }
  std::string cairn = CAIRN_DEFAULT_BINARY;
  bool predict_only = false;
  int duration = 10;
  int threads = 2;
  int connections = 32;
  bool access_log = false;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto next = [&]() -> std::string { return i + 1 < argc ? argv[++i] : ""; };
    if (a == "--cairn") {
      cairn = next();
    } else if (a == "--duration") {
      duration = std::stoi(next());
    } else if (a == "--threads") {
      threads = std::stoi(next());
    } else if (a == "--connections") {
      connections = std::stoi(next());
    } else if (a == "--access-log") {
      access_log = true;
    } else if (a == "--predict-only") {
      predict_only = true;
    } else {
      std::fprintf(stderr, "usage: serve_bench [--cairn PATH] [--duration S] [--threads N] "
                           "[--connections N] [--access-log] [--predict-only]\n");
      return 2;
    }
  }

  // The model: 100 trees of depth 6 on telco_churn.csv.
  const std::string csv = std::string(CAIRN_SOURCE_DIR) + "/../shared/data/telco_churn.csv";
  auto table = data::LoadCsvFile(csv);
  if (!table.ok()) {
    std::fprintf(stderr, "%s\n", table.status().ToString().c_str());
    return 1;
  }
  ml::TrainOptions options;
  options.target = "churn";
  options.num_boost_round = 100;
  options.early_stopping_rounds = 0;
  options.params = {{"max_depth", "6"}};
  options.shap_rows = 0;
  auto trained = ml::Train(*table, options);
  if (!trained.ok()) {
    std::fprintf(stderr, "%s\n", trained.status().ToString().c_str());
    return 1;
  }
  const fs::path dir = fs::temp_directory_path() / ("cairn-serve-bench-" + std::to_string(getpid()));
  fs::remove_all(dir);
  auto files = ml::RenderModelDirectory(*trained, {});
  if (!files.ok() || !ml::WriteModelFiles((dir / "model").string(), *files).ok()) return 1;
  auto model = ml::LoadedModel::Load((dir / "model").string());
  if (!model.ok() || !model->native()) {
    std::fprintf(stderr, "model: %s\n",
                 model.ok() ? model->native_status().c_str() : model.status().ToString().c_str());
    return 1;
  }

  // 1. Per-row cost, one row at a time (1000 different rows, cycled).
  auto matrix = model->preprocessing().Transform(*table);
  if (!matrix.ok()) return 1;
  const int64_t cols = matrix->cols;
  std::vector<ml::FeatureMatrix> rows;
  for (int64_t r = 0; r < 1000; ++r) {
    rows.push_back({1, cols,
                    std::vector<float>(matrix->values.begin() + r * cols,
                                       matrix->values.begin() + (r + 1) * cols)});
  }
  size_t k = 0;
  const Cost xgb_row = CostPerCall([&] {
    auto p = model->PredictMatrixWithXgboost(rows[k++ % rows.size()]);
    if (!p.ok()) std::abort();
  });
  const Cost native_row = CostPerCall([&] {
    auto p = model->PredictMatrix(rows[k++ % rows.size()]);
    if (!p.ok()) std::abort();
  });
  const Cost xgb_batch = CostPerCall([&] {
    if (!model->PredictMatrixWithXgboost(*matrix).ok()) std::abort();
  }, 2.0);
  const Cost native_batch = CostPerCall([&] {
    if (!model->PredictMatrix(*matrix).ok()) std::abort();
  }, 2.0);
  const double n = static_cast<double>(matrix->rows);
  std::printf("model: 100 trees, depth 6, %lld features (telco_churn.csv)\n",
              static_cast<long long>(cols));
  std::printf("one row per call:   XGBoost %8.2f us wall %8.2f us CPU | native %6.2f us wall "
              "%6.2f us CPU\n",
              xgb_row.wall_us, xgb_row.cpu_us, native_row.wall_us, native_row.cpu_us);
  std::printf("%lld rows per call: XGBoost %8.3f us wall %8.3f us CPU | native %6.3f us wall "
              "%6.3f us CPU (per row)\n",
              static_cast<long long>(matrix->rows), xgb_batch.wall_us / n, xgb_batch.cpu_us / n,
              native_batch.wall_us / n, native_batch.cpu_us / n);

  if (predict_only) {
    fs::remove_all(dir);
    return 0;
  }

  // 2. cairn serve under wrk.
  const std::string port_file = (dir / "port").string();
  std::vector<std::string> args = {cairn,           "serve",     "--model",
                                   (dir / "model").string(),    "--port",
                                   "0",             "--port-file", port_file,
                                   "--threads",     std::to_string(threads)};
  if (!access_log) args.push_back("--no-access-log");
  const pid_t server = fork();
  if (server == 0) {
    if (!freopen((dir / "serve.log").c_str(), "w", stderr)) _exit(127);
    std::vector<char*> cargs;
    for (auto& a : args) cargs.push_back(a.data());
    cargs.push_back(nullptr);
    execv(cargs[0], cargs.data());
    _exit(127);
  }
  int port = 0;
  for (int i = 0; i < 30000 && port == 0; ++i) {
    std::ifstream in(port_file);
    if (!(in >> port)) {
      port = 0;
      usleep(1000);
    }
  }
  if (port == 0) {
    std::fprintf(stderr, "cairn serve did not start: %s\n", ReadFile(dir / "serve.log").c_str());
    kill(server, SIGKILL);
    return 1;
  }

  // One row of the file, as a client would send it.
  const nlohmann::json example =
      ml::InputExampleJson(model->preprocessing(), *table, std::vector<int64_t>{42});
  const std::string body = nlohmann::json({{"dataframe_split", example}}).dump();
  std::string escaped;
  for (char c : body) {
    if (c == '\\' || c == '"') escaped += '\\';
    escaped += c;
  }
  const fs::path lua = dir / "single_row.lua";
  std::ofstream(lua) << "wrk.method = \"POST\"\n"
                     << "wrk.headers[\"Content-Type\"] = \"application/json\"\n"
                     << "wrk.body = \"" << escaped << "\"\n";
  const std::string url = "http://127.0.0.1:" + std::to_string(port) + "/invocations";
  const std::string check = "curl -s -X POST -H 'Content-Type: application/json' --data @- " +
                            url + " <<'EOF'\n" + body + "\nEOF\n";
  std::printf("request: %zu bytes; answer: ", body.size());
  std::fflush(stdout);
  if (std::system(check.c_str()) != 0) std::printf("(curl failed)");
  std::printf("\n");

  // A short warm-up, then the measured run.
  std::system(("wrk -t1 -c" + std::to_string(connections) + " -d2s -s " + lua.string() + " " +
               url + " >/dev/null")
                  .c_str());
  const double cpu_before = CpuSeconds(server);
  const double wrk_cpu_before = ChildrenCpuSeconds();
  const std::string command = "wrk -t1 -c" + std::to_string(connections) + " -d" +
                              std::to_string(duration) + "s --latency -s " + lua.string() + " " +
                              url + " 2>&1";
  std::string output;
  if (FILE* pipe = popen(command.c_str(), "r")) {
    char buffer[4096];
    size_t n = 0;
    while ((n = fread(buffer, 1, sizeof buffer, pipe)) > 0) output.append(buffer, n);
    pclose(pipe);
  }
  const double cpu_after = CpuSeconds(server);
  const double wrk_cpu = ChildrenCpuSeconds() - wrk_cpu_before;  // wrk, waited for by pclose
  kill(server, SIGTERM);
  waitpid(server, nullptr, 0);

  std::smatch m;
  double rps = 0;
  long long requests = 0;
  std::string p99 = "?";
  int non_2xx = 0;
  if (std::regex_search(output, m, std::regex(R"(Requests/sec:\s+([0-9.]+))"))) {
    rps = std::stod(m[1]);
  }
  if (std::regex_search(output, m, std::regex(R"((\d+) requests in)"))) {
    requests = std::stoll(m[1]);
  }
  if (std::regex_search(output, m, std::regex(R"(99%\s+([0-9.]+\w+))"))) p99 = m[1];
  if (std::regex_search(output, m, std::regex(R"(Non-2xx or 3xx responses:\s+(\d+))"))) {
    non_2xx = std::stoi(m[1]);
  }
  std::printf("%s", output.c_str());
  std::printf(
      "\ncairn serve (%d threads%s), wrk -t1 -c%d -d%ds, single-row JSON /invocations:\n"
      "  %.0f requests/s, p99 %s, %.1f us server CPU per request (wrk: %.1f us)%s\n",
      threads, access_log ? ", access log" : "", connections, duration, rps, p99.c_str(),
      requests > 0 ? (cpu_after - cpu_before) * 1e6 / static_cast<double>(requests) : 0.0,
      requests > 0 ? wrk_cpu * 1e6 / static_cast<double>(requests) : 0.0,
      non_2xx ? " (NON-2xx ANSWERS!)" : "");
  fs::remove_all(dir);
  return non_2xx == 0 && requests > 0 ? 0 : 1;
}
