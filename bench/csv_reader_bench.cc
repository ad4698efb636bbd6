// CSV reader throughput on ../shared/data files scaled up by repetition, single-threaded:
// (a) parse only, (b) parse + type inference + loading typed columns, against a plain
// memchr('\n') line count over the same bytes as the ceiling of any line-oriented reader.
//
//   csv_reader_bench [--mb 256] [--runs 5] [FILE.csv ...]
// Defaults to telco_churn.csv and lending_club.csv from CAIRN_SHARED_DATA (or ../shared/data
// relative to the source tree). Prints the median MB/s (1 MB = 10^6 bytes) of each.
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <fstream>
#include <optional>
#include <string>
#include <vector>

#include "data/csv_reader.h"

namespace {

using cairn::data::CsvVisitor;

#ifndef CAIRN_BENCH_DATA_DIR
#define CAIRN_BENCH_DATA_DIR "/work/shared/data"
#endif

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    std::fprintf(stderr, "cannot read %s\n", path.c_str());
    std::exit(1);
  }
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// The header once, then the data rows repeated until the file reaches `target` bytes.
std::string Scale(const std::string& csv, size_t target) {
  const size_t header_end = csv.find('\n') + 1;
  std::string body = csv.substr(header_end);
  if (!body.empty() && body.back() != '\n') body += '\n';
  std::string out = csv.substr(0, header_end);
  out.reserve(target + body.size());
  while (out.size() < target) out += body;
  return out;
}

class CountingVisitor : public CsvVisitor {
 public:
  cairn::Status OnRow(std::span<const std::string_view> fields, int64_t line) override {
    for (std::string_view f : fields) bytes += f.size();
    ++rows;
    return cairn::Status();
  }
  size_t bytes = 0;
  int64_t rows = 0;
};

double CpuSeconds() {
  timespec ts{};
  ::clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

// Median throughput over the runs, by the wall clock and by the CPU time the process used
// (user + system, page faults included): on a machine shared with other jobs the second is what
// the code achieves on a core of its own.
struct Rate {
  double wall = 0;
  double cpu = 0;
};

double Median(std::vector<double> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

// `after` runs after each timed `body`, untimed.
template <typename F, typename G = void (*)()>
Rate MedianMBps(
    size_t size, int runs, F&& body, G&& after = [] {}) {
  std::vector<double> wall;
  std::vector<double> cpu;
  const double mb = static_cast<double>(size) / 1e6;
  for (int i = 0; i < runs; ++i) {
    const double cpu_start = CpuSeconds();
    const auto start = std::chrono::steady_clock::now();
    body();
    const std::chrono::duration<double> took = std::chrono::steady_clock::now() - start;
    const double cpu_took = CpuSeconds() - cpu_start;
    wall.push_back(mb / took.count());
    cpu.push_back(mb / cpu_took);
    after();
  }
  return {Median(wall), Median(cpu)};
}

std::string Show(Rate r) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.0f / %.0f", r.wall, r.cpu);
  return buf;
}

void Check(const cairn::Status& s) {
  if (!s.ok()) {
    std::fprintf(stderr, "error: %s\n", s.ToString().c_str());
    std::exit(1);
  }
}

}  // namespace

int main(int argc, char** argv) {
  size_t mb = 256;
  int runs = 5;
  std::string only;
  std::vector<std::string> files;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--mb" && i + 1 < argc) {
      mb = std::strtoul(argv[++i], nullptr, 10);
    } else if (arg == "--only" && i + 1 < argc) {  // memchr, parse, load or mmap (profiling)
      only = argv[++i];
    } else if (arg == "--runs" && i + 1 < argc) {
      runs = std::atoi(argv[++i]);
    } else {
      files.push_back(arg);
    }
  }
  if (files.empty()) {
    const char* dir = std::getenv("CAIRN_SHARED_DATA");
    const std::string base = dir != nullptr ? dir : CAIRN_BENCH_DATA_DIR;
    files = {base + "/telco_churn.csv", base + "/lending_club.csv"};
  }

  std::printf("MB/s, median of %d runs, as wall clock / CPU time (1 MB = 10^6 bytes)\n", runs);
  std::printf("%-18s %7s %9s %14s %14s %14s %14s\n", "file", "MB", "rows", "memchr lines", "parse",
              "parse+load", "mmap+load");
  for (const std::string& file : files) {
    const std::string scaled = Scale(ReadFile(file), mb * 1000 * 1000);
    const std::string tmp = "/tmp/cairn_csv_bench_" + std::to_string(::getpid()) + ".csv";
    {
      std::ofstream out(tmp, std::ios::binary);
      out.write(scaled.data(), static_cast<std::streamsize>(scaled.size()));
    }

    auto runs_of = [&](const char* phase) { return only.empty() || only == phase ? runs : 0; };
    size_t lines = 0;
    const Rate memchr_rate = MedianMBps(scaled.size(), runs_of("memchr"), [&] {
      lines = 0;
      const char* p = scaled.data();
      const char* end = p + scaled.size();
      while (const void* nl = std::memchr(p, '\n', static_cast<size_t>(end - p))) {
        ++lines;
        p = static_cast<const char*>(nl) + 1;
      }
    });

    int64_t rows = 0;
    const Rate parse_rate = MedianMBps(scaled.size(), runs_of("parse"), [&] {
      CountingVisitor v;
      Check(cairn::data::ParseCsv(scaled, v));
      rows = v.rows;
    });

    // The loaded table is freed outside the timed region: a consumer frees it after use.
    std::optional<cairn::data::CsvTable> keep;
    const Rate load_rate = MedianMBps(
        scaled.size(), runs_of("load"),
        [&] {
          keep.reset();  // (timed, but freeing an empty optional is instantaneous)
          auto table = cairn::data::LoadCsv(scaled);
          Check(table.status());
          if (rows != 0 && table->rows != rows) std::abort();
          keep = std::move(table).value();
        },
        [&] { keep.reset(); });

    const Rate mmap_rate = MedianMBps(
        scaled.size(), runs_of("mmap"),
        [&] {
          auto table = cairn::data::LoadCsvFile(tmp);
          Check(table.status());
          keep = std::move(table).value();
        },
        [&] { keep.reset(); });
    std::remove(tmp.c_str());

    std::string name = file.substr(file.rfind('/') + 1);
    std::printf("%-18s %7.1f %9lld %14s %14s %14s %14s\n", name.c_str(),
                static_cast<double>(scaled.size()) / 1e6, static_cast<long long>(rows),
                Show(memchr_rate).c_str(), Show(parse_rate).c_str(), Show(load_rate).c_str(),
                Show(mmap_rate).c_str());
    if (only.empty() && static_cast<int64_t>(lines) != rows + 1)
      std::fprintf(stderr, "line count mismatch\n");
  }
  return 0;
}
