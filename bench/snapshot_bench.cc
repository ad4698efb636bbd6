// Snapshot pass throughput against `sha256sum` on the same large CSV (target: >= 1.5x, profile
// included). Measures, interleaved, median of --runs runs each, on a warm page cache:
//   sha256sum FILE                              (the baseline, one thread)
//   the snapshot pass storing new chunks        (data::SnapshotFile into a fresh
//     into a fresh blob::LocalBlobStore           LocalBlobStore batch under a temp dir, as the
//                                                 server stores them; durable at the end)
//   the snapshot pass alone                     (chunk + SHA-256 of chunks and file + profile)
//   the profile alone                           (data::ProfileCsv on all cores)
// Prints wall-clock MB/s (what a user waits on an idle machine) and MB per CPU-second (what
// survives other work on a shared machine), and the ratios to sha256sum.
//
//   snapshot_bench [--source NAME.csv|PATH] [--file PATH] [--mb 1024] [--runs 3] [--threads 0]
//                  [--store-dir DIR]
//
// --source: a CSV of ../shared/data (or CAIRN_SHARED_DATA) or a path; default lending_club.csv.
// FILE (default /tmp/cairn_snapshot_bench_<source>_<mb>mb.csv) is made unless it already has
// the size: the source's header, then its rows drawn at random with about half of their digits
// replaced (distinct rows, so chunks do not deduplicate; numbers with many distinct values).
#include <fcntl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <string>
#include <thread>
#include <vector>

#include "blob/local_blob_store.h"
#include "core/ids.h"
#include "data/chunker.h"
#include "data/mapped_file.h"
#include "data/profile.h"
#include "data/snapshot.h"

namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

[[noreturn]] void Die(const std::string& message) {
  std::fprintf(stderr, "snapshot_bench: %s\n", message.c_str());
  std::exit(1);
}

uint64_t FileSize(const std::string& path) {
  struct stat st;
  return stat(path.c_str(), &st) == 0 ? static_cast<uint64_t>(st.st_size) : 0;
}

// ../shared/data beside the source tree (__FILE__ is absolute in CMake builds), or
// CAIRN_SHARED_DATA.
std::string SharedDataDir() {
  if (const char* dir = std::getenv("CAIRN_SHARED_DATA")) return dir;
  std::string file = __FILE__;
  return file.substr(0, file.rfind('/')) + "/../../shared/data";
}

std::vector<std::string> ReadLines(const std::string& path) {
  std::ifstream in(path);
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    lines.push_back(line + "\n");
  }
  if (lines.size() < 2) Die("cannot read rows from " + path);
  return lines;
}

// The source's header, then rows drawn at random with about half of their digits replaced.
// (The shared CSVs have no quoted line breaks, so a line is a row.)
void MakeFile(const std::string& source, const std::string& path, uint64_t size) {
  const std::vector<std::string> rows = ReadLines(source);
  std::FILE* f = std::fopen(path.c_str(), "wb");
  if (!f) Die("cannot create " + path + ": " + std::strerror(errno));
  uint64_t x = 0x9e3779b97f4a7c15ULL;
  auto next = [&] {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    return x;
  };
  std::string buf = rows[0];
  uint64_t written = 0;
  while (written + buf.size() < size) {
    std::string row = rows[1 + next() % (rows.size() - 1)];
    uint64_t bits = next();
    for (size_t i = 0; i < row.size(); ++i, bits = (bits >> 1) | (bits << 63)) {
      if (row[i] >= '0' && row[i] <= '9' && (bits & 1)) {
        row[i] = static_cast<char>('0' + (bits >> 8) % 10);
      }
    }
    buf += row;
    if (buf.size() >= (1 << 20)) {
      std::fwrite(buf.data(), 1, buf.size(), f);
      written += buf.size();
      buf.clear();
    }
  }
  std::fwrite(buf.data(), 1, buf.size(), f);
  if (std::fclose(f) != 0) Die("cannot write " + path);
}

// CPU seconds (user + system) of this process, or of its waited-for children.
double CpuSeconds(int who) {
  rusage ru;
  getrusage(who, &ru);
  auto sec = [](const timeval& tv) { return tv.tv_sec + tv.tv_usec / 1e6; };
  return sec(ru.ru_utime) + sec(ru.ru_stime);
}

struct Sample {
  double wall = 0;
  double cpu = 0;
};

// Runs `run`, timing wall clock and the CPU time of `who`.
Sample Time(int who, const std::function<void()>& run) {
  const double cpu0 = CpuSeconds(who);
  const auto start = Clock::now();
  run();
  return {std::chrono::duration<double>(Clock::now() - start).count(), CpuSeconds(who) - cpu0};
}

Sample Median(std::vector<Sample> samples) {
  std::vector<double> wall, cpu;
  for (const Sample& s : samples) {
    wall.push_back(s.wall);
    cpu.push_back(s.cpu);
  }
  std::sort(wall.begin(), wall.end());
  std::sort(cpu.begin(), cpu.end());
  return {wall[wall.size() / 2], cpu[cpu.size() / 2]};
}

std::string RunSha256sum(const std::string& path) {
  const std::string cmd = "sha256sum '" + path + "'";
  std::FILE* p = popen(cmd.c_str(), "r");
  char out[65] = {};
  if (!p || std::fread(out, 1, 64, p) != 64) Die("sha256sum failed");
  char rest[4096];
  while (std::fread(rest, 1, sizeof rest, p) > 0) {
  }
  pclose(p);
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  std::string source = "lending_club.csv";
  std::string path;
  uint64_t mb = 1024;
  int runs = 3;
  unsigned threads = 0;
  std::string store_parent = fs::temp_directory_path().string();
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) Die(arg + " needs a value");
      return argv[++i];
    };
    if (arg == "--source") {
      source = value();
    } else if (arg == "--file") {
      path = value();
    } else if (arg == "--mb") {
      mb = std::strtoull(value().c_str(), nullptr, 10);
    } else if (arg == "--runs") {
      runs = std::max(1, std::atoi(value().c_str()));
    } else if (arg == "--threads") {
      threads = static_cast<unsigned>(std::atoi(value().c_str()));
    } else if (arg == "--store-dir") {
      store_parent = value();
    } else {
      Die("unknown argument " + arg + " (--source, --file, --mb, --runs, --threads, --store-dir)");
    }
  }
  const std::string source_path =
      source.find('/') == std::string::npos ? SharedDataDir() + "/" + source : source;
  if (path.empty()) {
    path = "/tmp/cairn_snapshot_bench_" + fs::path(source_path).stem().string() + "_" +
           std::to_string(mb) + "mb.csv";
  }
  const uint64_t size = mb << 20;
  if (FileSize(path) < size - (1 << 20)) {
    std::printf("making %s (%llu MB) from %s ...\n", path.c_str(),
                static_cast<unsigned long long>(mb), source_path.c_str());
    MakeFile(source_path, path, size);
  }
  const uint64_t bytes = FileSize(path);
  const double megabytes = bytes / 1e6;

  const std::string expected_digest = RunSha256sum(path);  // also warms the page cache
  cairn::data::SnapshotFileOptions options;
  options.threads = threads;

  // One of each measurement per round, so that drifts in the machine's load hit all alike.
  std::vector<Sample> sum, stored, commit, pass, profile;
  cairn::data::FileSnapshot last;
  for (int round = 0; round < runs; ++round) {
    sum.push_back(Time(RUSAGE_CHILDREN, [&] {
      if (RunSha256sum(path) != expected_digest) Die("sha256sum changed its mind");
    }));

    const fs::path dir = fs::path(store_parent) / ("cairn-snapshot-bench-" + cairn::NewUuidHex());
    Sample flush;
    stored.push_back(Time(RUSAGE_SELF, [&] {
      auto store = cairn::blob::LocalBlobStore::Create(dir.string());
      if (!store.ok()) Die(store.status().ToString());
      auto batch = std::move((*store)->NewBatch()).value();
      auto snap = cairn::data::SnapshotFile(
          path, fs::path(path).filename().string(), options,
          [&](const cairn::data::ChunkRef& chunk, std::string_view chunk_bytes) {
            return batch->PutHashed(chunk.digest, chunk_bytes);
          });
      if (!snap.ok()) Die(snap.status().ToString());
      flush = Time(RUSAGE_SELF, [&] {
        if (cairn::Status s = batch->Commit(); !s.ok()) Die(s.ToString());
      });
      last = std::move(*snap);
    }));
    commit.push_back(flush);
    std::error_code ec;
    fs::remove_all(dir, ec);

    pass.push_back(Time(RUSAGE_SELF, [&] {
      auto snap = cairn::data::SnapshotFile(
          path, fs::path(path).filename().string(), options,
          [](const cairn::data::ChunkRef&, std::string_view) { return cairn::Status(); });
      if (!snap.ok()) Die(snap.status().ToString());
      if (snap->manifest.file_digest != expected_digest) Die("file digest != sha256sum");
    }));

    profile.push_back(Time(RUSAGE_SELF, [&] {
      auto mapped = cairn::data::MappedFile::Open(path);
      if (!mapped.ok()) Die(mapped.status().ToString());
      cairn::data::ProfileRun run;
      run.threads = threads;
      auto p = cairn::data::ProfileCsv((*mapped)->bytes(), {}, run);
      if (!p.ok()) Die(p.status().ToString());
    }));
  }

  if (last.manifest.file_digest != expected_digest) Die("file digest != sha256sum");
  if (!last.profile) Die("no profile");
  const unsigned cores = std::max(1u, std::thread::hardware_concurrency());
  std::printf("file %s: %.1f MB, %lld rows x %zu columns, %zu chunks; %u cores, %d runs\n",
              path.c_str(), megabytes, static_cast<long long>(last.profile->rows),
              last.profile->columns.size(), last.manifest.chunks.size(), cores, runs);
  std::printf("%-46s %8s %8s %8s %9s\n", "median", "wall s", "MB/s", "CPU s", "MB/CPU-s");
  auto row = [&](const char* name, const Sample& s) {
    std::printf("%-46s %8.3f %8.0f %8.3f %9.0f\n", name, s.wall, megabytes / s.wall, s.cpu,
                megabytes / s.cpu);
  };
  const Sample m_sum = Median(sum), m_stored = Median(stored), m_commit = Median(commit),
               m_pass = Median(pass), m_profile = Median(profile);
  row("sha256sum (1 thread)", m_sum);
  row("snapshot pass, chunks stored, durable", m_stored);
  row("  of which the final flush (batch Commit)", m_commit);
  row("snapshot pass (chunk + hash + profile)", m_pass);
  row("profile alone", m_profile);
  std::printf("vs sha256sum, wall:                 stored %.2fx, pass %.2fx (target >= 1.5x)\n",
              m_sum.wall / m_stored.wall, m_sum.wall / m_pass.wall);
  // On an idle machine a pass's wall time is its CPU time spread over the cores; sha256sum
  // uses one.
  std::printf("vs sha256sum, CPU on %u idle cores:  stored %.2fx, pass %.2fx\n", cores,
              m_sum.cpu / (m_stored.cpu / cores), m_sum.cpu / (m_pass.cpu / cores));
  return 0;
}
