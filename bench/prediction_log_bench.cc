// prediction_log_bench: what logging one scored request costs, and what its compression costs.
//
// Records as an endpoint logs them (a uuid request id, one telco_churn customer's raw row as
// dataframe_split inputs, a probability as output) are appended to a PredictionLog in a temporary
// directory at about 15,000 records/s (bursts of 150 every 10 ms, so the writer compresses
// batches of the size it sees under load). Reported: the request thread's CPU per Append, the
// writer thread's CPU per record (compression and file writes: the process's CPU less the
// appending thread's), and compressed bytes per record. Then the segments' JSON lines, read back,
// are compressed again by each codec the log could use, in the writer's batches with a flush
// every 200 ms (gzip: a sync flush; zstd: one frame per flush): CPU per record and bytes per
// record, best of K passes.
//
//   prediction_log_bench [--records N] [--passes K]
#include <zlib.h>
#include <zstd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "core/ids.h"
#include "data/csv_reader.h"
#include "monitoring/prediction_log.h"

namespace {

namespace fs = std::filesystem;
using namespace cairn;

const std::string kTelco = CAIRN_SOURCE_DIR "/../shared/data/telco_churn.csv";
constexpr int kBurst = 150;
constexpr auto kBurstGap = std::chrono::milliseconds(10);
constexpr int kRecordsPerFlush = 3000;  // 200 ms at 15,000 records/s
constexpr int kRecordsPerBatch = 300;   // the writer's 20 ms batches

template <typename T>
T Check(Result<T> r, const char* what) {
  if (!r.ok()) {
    std::fprintf(stderr, "%s: %s\n", what, r.status().ToString().c_str());
    std::exit(1);
  }
  return std::move(*r);
}

double CpuSeconds(clockid_t clock) {
  timespec ts;
  clock_gettime(clock, &ts);
  return double(ts.tv_sec) + double(ts.tv_nsec) * 1e-9;
}

// One customer's row in the scorer's dataframe_split form (the target left out).
std::string InputsOf(const data::CsvTable& table, int64_t row) {
  nlohmann::json columns = nlohmann::json::array();
  nlohmann::json values = nlohmann::json::array();
  for (const data::CsvColumn& c : table.columns) {
    if (c.name == "churn") continue;
    columns.push_back(c.name);
    if (c.type == data::ColumnType::kString) {
      const int32_t code = c.codes[size_t(row)];
      values.push_back(code < 0 ? nlohmann::json(nullptr) : nlohmann::json(c.dictionary[code]));
    } else {
      const double v = c.numbers[size_t(row)];
      if (std::isnan(v)) {
        values.push_back(nullptr);
      } else if (c.type == data::ColumnType::kFloat) {
        values.push_back(v);
      } else {
        values.push_back(int64_t(v));
      }
    }
  }
  return nlohmann::json{{"columns", columns}, {"data", {values}}}.dump();
}

// The JSON lines of every segment under `dir`, in order (gzip or zstd by the file's suffix).
std::vector<std::string> ReadSegmentLines(const fs::path& dir) {
  std::vector<fs::path> files;
  for (const auto& e : fs::directory_iterator(dir)) files.push_back(e.path());
  std::sort(files.begin(), files.end());
  std::string text;
  for (const fs::path& f : files) {
    std::ifstream in(f, std::ios::binary);
    const std::string bytes{std::istreambuf_iterator<char>(in), {}};
    if (f.string().ends_with(".gz")) {
      gzFile gz = gzopen(f.c_str(), "rb");
      char buf[1 << 16];
      int n = 0;
      while ((n = gzread(gz, buf, sizeof(buf))) > 0) text.append(buf, size_t(n));
      gzclose(gz);
    } else {
      ZSTD_DCtx* d = ZSTD_createDCtx();
      std::string out(ZSTD_DStreamOutSize(), '\0');
      ZSTD_inBuffer input{bytes.data(), bytes.size(), 0};
      while (input.pos < input.size) {
        ZSTD_outBuffer output{out.data(), out.size(), 0};
        if (ZSTD_isError(ZSTD_decompressStream(d, &output, &input))) break;
        text.append(out.data(), output.pos);
      }
      ZSTD_freeDCtx(d);
    }
  }
  std::vector<std::string> lines;
  size_t at = 0;
  for (size_t nl; (nl = text.find('\n', at)) != std::string::npos; at = nl + 1) {
    lines.push_back(text.substr(at, nl + 1 - at));
  }
  return lines;
}

struct CodecFigures {
  double cpu_us_per_record;
  double bytes_per_record;
};

// Compresses `lines` as the writer would: batches, and a flush (gzip) or a frame end (zstd)
// every kRecordsPerFlush records. `zstd_level` is ignored for gzip.
CodecFigures Compress(const std::vector<std::string>& lines, bool gzip, int zstd_level,
                      int passes) {
  std::vector<std::string> batches;
  for (size_t i = 0; i < lines.size(); i += kRecordsPerBatch) {
    std::string b;
    for (size_t j = i; j < std::min(lines.size(), i + kRecordsPerBatch); ++j) b += lines[j];
    batches.push_back(std::move(b));
  }
  const size_t batches_per_flush = kRecordsPerFlush / kRecordsPerBatch;
  std::string out(1 << 17, '\0');
  double best = 1e30;
  size_t bytes = 0;
  for (int pass = 0; pass < passes; ++pass) {
    bytes = 0;
    const double start = CpuSeconds(CLOCK_THREAD_CPUTIME_ID);
    if (gzip) {
      z_stream z{};
      deflateInit2(&z, 1, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY);
      for (size_t b = 0; b < batches.size(); ++b) {
        const bool last = b + 1 == batches.size();
        const int flush = last                               ? Z_FINISH
                          : (b + 1) % batches_per_flush == 0 ? Z_SYNC_FLUSH
                                                             : Z_NO_FLUSH;
        z.next_in = reinterpret_cast<Bytef*>(batches[b].data());
        z.avail_in = uInt(batches[b].size());
        do {
          z.next_out = reinterpret_cast<Bytef*>(out.data());
          z.avail_out = uInt(out.size());
          deflate(&z, flush);
          bytes += out.size() - z.avail_out;
        } while (z.avail_out == 0 || z.avail_in > 0);
      }
      deflateEnd(&z);
    } else {
      ZSTD_CCtx* c = ZSTD_createCCtx();
      ZSTD_CCtx_setParameter(c, ZSTD_c_compressionLevel, zstd_level);
      ZSTD_CCtx_setParameter(c, ZSTD_c_checksumFlag, 1);
      for (size_t b = 0; b < batches.size(); ++b) {
        const bool end = b + 1 == batches.size() || (b + 1) % batches_per_flush == 0;
        ZSTD_inBuffer input{batches[b].data(), batches[b].size(), 0};
        size_t remaining = 0;
        do {
          ZSTD_outBuffer output{out.data(), out.size(), 0};
          remaining = ZSTD_compressStream2(c, &output, &input, end ? ZSTD_e_end : ZSTD_e_continue);
          bytes += output.pos;
        } while (end ? remaining != 0 : input.pos < input.size);
      }
      ZSTD_freeCCtx(c);
    }
    best = std::min(best, CpuSeconds(CLOCK_THREAD_CPUTIME_ID) - start);
  }
  return {best / double(lines.size()) * 1e6, double(bytes) / double(lines.size())};
}

}  // namespace

int main(int argc, char** argv) {
  int records = 60000;
  int passes = 5;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string flag = argv[i];
    if (flag == "--records") records = std::max(kBurst, std::atoi(argv[i + 1]));
    if (flag == "--passes") passes = std::max(1, std::atoi(argv[i + 1]));
  }
  std::ifstream in(kTelco, std::ios::binary);
  const std::string telco{std::istreambuf_iterator<char>(in), {}};
  const data::CsvTable table = Check(data::LoadCsv(telco), "loading telco_churn");
  std::vector<std::string> inputs;
  for (int64_t row = 0; row < table.rows; ++row) inputs.push_back(InputsOf(table, row));
  std::vector<std::string> ids;
  std::vector<std::string> outputs;
  for (int i = 0; i < records; ++i) {
    ids.push_back(NewUuidHex());
    char buf[32];
    std::snprintf(buf, sizeof(buf), "[%.9g]", double((i * 2654435761u) % 1000003u) / 1000003.0);
    outputs.push_back(buf);
  }

  const fs::path dir = fs::temp_directory_path() / ("cairn_prediction_log_bench_" + NewUuidHex());
  monitoring::PredictionLogOptions options;
  options.dir = dir.string();
  const Clock& clock = SystemClock::Instance();
  double append_cpu = 0;
  double writer_cpu = 0;
  monitoring::PredictionLogStats stats;
  {
    auto log = Check(monitoring::PredictionLog::Open(options, clock), "prediction log");
    const int64_t t0 = clock.NowMillis();
    const double process_start = CpuSeconds(CLOCK_PROCESS_CPUTIME_ID);
    const double main_start = CpuSeconds(CLOCK_THREAD_CPUTIME_ID);
    for (int i = 0; i < records;) {
      const double start = CpuSeconds(CLOCK_THREAD_CPUTIME_ID);
      for (int end = std::min(records, i + kBurst); i < end; ++i) {
        monitoring::PredictionEntry e;
        e.time = t0 + i / 15;
        e.request_id = ids[size_t(i)];
        e.endpoint = "churn";
        e.deployment = "blue";
        e.model_uri = "models:/churn@champion";
        e.model_version = "churn/3";
        e.latency_us = 40 + i % 37;
        e.status = 200;
        e.inputs = inputs[size_t(i) % inputs.size()];
        e.outputs = outputs[size_t(i)];
        if (!log->Append(e)) {
          std::fprintf(stderr, "record %d dropped\n", i);
          return 1;
        }
      }
      append_cpu += CpuSeconds(CLOCK_THREAD_CPUTIME_ID) - start;
      std::this_thread::sleep_for(kBurstGap);
    }
    log->Flush();
    // Everything but this thread's own: the writer's.
    writer_cpu = (CpuSeconds(CLOCK_PROCESS_CPUTIME_ID) - process_start) -
                 (CpuSeconds(CLOCK_THREAD_CPUTIME_ID) - main_start);
    stats = log->Stats("churn");
  }
  const std::vector<std::string> lines = ReadSegmentLines(dir / "churn");
  size_t raw = 0;
  for (const std::string& l : lines) raw += l.size();
  std::printf("%d records (%zu read back), %.0f bytes of JSON each\n", records, lines.size(),
              double(raw) / double(lines.size()));
  std::printf(
      "PredictionLog: Append %.2f µs CPU per record (request thread), writer %.2f µs CPU "
      "per record, %.1f compressed bytes per record\n",
      append_cpu / records * 1e6, writer_cpu / records * 1e6,
      double(stats.bytes) / double(stats.written));
  std::printf("codecs on these lines (batches of %d, flushed every %d), best of %d:\n",
              kRecordsPerBatch, kRecordsPerFlush, passes);
  auto report = [&](const char* name, CodecFigures f) {
    std::printf("  %-14s %6.2f µs CPU per record  %6.1f bytes per record  (%.1fx)\n", name,
                f.cpu_us_per_record, f.bytes_per_record,
                double(raw) / lines.size() / f.bytes_per_record);
  };
  report("gzip level 1", Compress(lines, true, 0, passes));
  for (int level : {3, 1, -1, -3, -5}) {
    const std::string name = "zstd level " + std::to_string(level);
    report(name.c_str(), Compress(lines, false, level, passes));
  }
  std::error_code ec;
  fs::remove_all(dir, ec);
  return 0;
}
