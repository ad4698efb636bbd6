#include "monitoring/prediction_log.h"

#include <gtest/gtest.h>
#include <zlib.h>
#include <zstd.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <thread>

#include "core/ids.h"

namespace cairn::monitoring {
namespace {

namespace fs = std::filesystem;

class PredictionLogTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("cairn_predlog_" + NewUuidHex());
    options_.dir = dir_.string();
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::unique_ptr<PredictionLog> Open() {
    auto log = PredictionLog::Open(options_, clock_);
    EXPECT_TRUE(log.ok()) << log.status().ToString();
    return log.ok() ? std::move(*log) : nullptr;
  }

  static PredictionRecord Record(const std::string& endpoint, int64_t time, int i,
                                 const std::string& deployment = "blue") {
    PredictionRecord r;
    r.time = time;
    r.request_id = "req-" + std::to_string(i);
    r.endpoint = endpoint;
    r.deployment = deployment;
    r.model_uri = "models:/churn@champion";
    r.model_version = "churn/3";
    r.latency_us = 120 + i;
    r.status = 200;
    r.inputs = R"({"columns":["a","b"],"data":[[)" + std::to_string(i) + R"(,"x"]]})";
    r.outputs = "[0." + std::to_string(i % 10) + "]";
    return r;
  }

  std::vector<PredictionRecord> ReadAll(PredictionLog& log, PredictionQuery q) {
    q.limit = 1000000;
    auto page = log.Read(q);
    EXPECT_TRUE(page.ok()) << page.status().ToString();
    return page.ok() ? page->records : std::vector<PredictionRecord>{};
  }

  std::vector<fs::path> Segments(const std::string& endpoint) {
    std::vector<fs::path> out;
    for (const auto& e : fs::directory_iterator(dir_ / endpoint)) out.push_back(e.path());
    std::sort(out.begin(), out.end());
    return out;
  }

  // What zstdcat does: every frame decompressed to its end, checksums checked. False when the
  // bytes end inside a frame or are corrupt.
  static bool ZstdCat(const fs::path& path, std::string* text, int* frames = nullptr) {
    std::ifstream in(path, std::ios::binary);
    const std::string bytes{std::istreambuf_iterator<char>(in), {}};
    std::string_view rest = bytes;
    if (frames != nullptr) *frames = 0;
    while (!rest.empty()) {
      const size_t frame = ZSTD_findFrameCompressedSize(rest.data(), rest.size());
      if (ZSTD_isError(frame)) return false;
      ZSTD_DCtx* d = ZSTD_createDCtx();
      ZSTD_inBuffer input{rest.data(), frame, 0};
      size_t rc = 1;
      char buf[4096];
      while (input.pos < input.size || rc != 0) {
        ZSTD_outBuffer output{buf, sizeof(buf), 0};
        rc = ZSTD_decompressStream(d, &output, &input);
        if (ZSTD_isError(rc) || (output.pos == 0 && input.pos == input.size && rc != 0)) break;
        text->append(buf, output.pos);
      }
      ZSTD_freeDCtx(d);
      if (ZSTD_isError(rc) || rc != 0) return false;
      rest.remove_prefix(frame);
      if (frames != nullptr) ++*frames;
    }
    return true;
  }

  static std::string Line(int64_t time, const std::string& id) {
    return R"({"time":)" + std::to_string(time) + R"(,"request_id":")" + id +
           R"(","endpoint":"churn","deployment":"blue","model_uri":"m","model_version":"",)"
           R"("latency_us":1,"status":200,"mirrored":false,"inputs":null,"outputs":[1]})"
           "\n";
  }

  static std::string Gzip(std::string lines, int flush) {
    z_stream z{};
    EXPECT_EQ(deflateInit2(&z, 1, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY), Z_OK);
    std::string out(1 << 16, '\0');
    z.next_in = reinterpret_cast<Bytef*>(lines.data());
    z.avail_in = uInt(lines.size());
    z.next_out = reinterpret_cast<Bytef*>(out.data());
    z.avail_out = uInt(out.size());
    EXPECT_EQ(deflate(&z, flush), flush == Z_FINISH ? Z_STREAM_END : Z_OK);
    out.resize(out.size() - z.avail_out);
    deflateEnd(&z);
    return out;
  }

  fs::path dir_;
  PredictionLogOptions options_;
  FakeClock clock_{1700000000000};
};

TEST_F(PredictionLogTest, RecordsRoundTripWithEveryField) {
  auto log = Open();
  ASSERT_NE(log, nullptr);
  PredictionRecord r = Record("churn", clock_.NowMillis(), 7);
  r.mirrored = true;
  r.request_id = "quote\" and \\ and \n newline";
  ASSERT_TRUE(log->Append(r));
  PredictionRecord error = Record("churn", clock_.NowMillis(), 8);
  error.status = 400;
  error.inputs.clear();
  error.outputs.clear();
  ASSERT_TRUE(log->Append(error));
  log->Flush();

  PredictionQuery q;
  q.endpoint = "churn";
  auto records = ReadAll(*log, q);
  ASSERT_EQ(records.size(), 2u);
  const PredictionRecord& got = records[0];
  EXPECT_EQ(got.time, r.time);
  EXPECT_EQ(got.request_id, r.request_id);
  EXPECT_EQ(got.endpoint, "churn");
  EXPECT_EQ(got.deployment, "blue");
  EXPECT_EQ(got.model_uri, "models:/churn@champion");
  EXPECT_EQ(got.model_version, "churn/3");
  EXPECT_EQ(got.latency_us, 127);
  EXPECT_EQ(got.status, 200);
  EXPECT_TRUE(got.mirrored);
  EXPECT_EQ(nlohmann::json::parse(got.inputs), nlohmann::json::parse(r.inputs));
  EXPECT_EQ(nlohmann::json::parse(got.outputs), nlohmann::json::parse(r.outputs));
  EXPECT_EQ(records[1].status, 400);
  EXPECT_TRUE(records[1].inputs.empty());
  EXPECT_FALSE(records[1].mirrored);
  EXPECT_EQ(log->Stats("churn").written, 2);
}

TEST_F(PredictionLogTest, EndpointsAreSeparateAndFiltersApply) {
  auto log = Open();
  ASSERT_NE(log, nullptr);
  const int64_t t0 = clock_.NowMillis();
  for (int i = 0; i < 30; ++i) {
    PredictionRecord r =
        Record(i % 3 == 0 ? "fraud" : "churn", t0 + i, i, i % 2 ? "green" : "blue");
    r.mirrored = i % 5 == 0;
    ASSERT_TRUE(log->Append(r));
  }
  log->Flush();
  PredictionQuery q;
  q.endpoint = "churn";
  EXPECT_EQ(ReadAll(*log, q).size(), 20u);
  q.endpoint = "fraud";
  EXPECT_EQ(ReadAll(*log, q).size(), 10u);
  q.endpoint = "nothing-logged";
  EXPECT_TRUE(ReadAll(*log, q).empty());

  q.endpoint = "churn";
  q.since = t0 + 20;  // 20 22 23 25 26 28 29
  auto late = ReadAll(*log, q);
  ASSERT_EQ(late.size(), 7u);
  EXPECT_EQ(late.front().request_id, "req-20");
  EXPECT_EQ(late.back().request_id, "req-29");
  q.until = t0 + 26;  // 20 22 23 25
  EXPECT_EQ(ReadAll(*log, q).size(), 4u);
  q.deployment = "green";  // odd: 23 25
  EXPECT_EQ(ReadAll(*log, q).size(), 2u);
  q = PredictionQuery{};
  q.endpoint = "churn";
  q.request_id = "req-14";
  auto one = ReadAll(*log, q);
  ASSERT_EQ(one.size(), 1u);
  EXPECT_EQ(one[0].time, t0 + 14);
  q.request_id.clear();
  q.mirrored = 1;  // multiples of 5 not of 3: 5 10 20 25
  EXPECT_EQ(ReadAll(*log, q).size(), 4u);
  q.mirrored = 0;
  EXPECT_EQ(ReadAll(*log, q).size(), 16u);
}

TEST_F(PredictionLogTest, SegmentsRotateBySizeAndPagesStitchAcrossThem) {
  options_.segment_bytes = 2000;  // a handful of records each
  auto log = Open();
  ASSERT_NE(log, nullptr);
  const int64_t t0 = clock_.NowMillis();
  constexpr int kRecords = 200;
  for (int i = 0; i < kRecords; ++i) {
    ASSERT_TRUE(log->Append(Record("churn", t0 + i, i)));
    if (i % 10 == 9) log->Flush();  // rotation is checked per batch written
  }
  log->Flush();
  auto files = Segments("churn");
  EXPECT_GE(files.size(), 10u);

  PredictionQuery q;
  q.endpoint = "churn";
  q.limit = 7;
  std::vector<std::string> ids;
  int pages = 0;
  while (true) {
    auto page = log->Read(q);
    ASSERT_TRUE(page.ok()) << page.status().ToString();
    for (const auto& r : page->records) ids.push_back(r.request_id);
    ++pages;
    if (page->next_page_token.empty()) break;
    EXPECT_EQ(page->records.size(), 7u);
    q.page_token = page->next_page_token;
    ASSERT_LT(pages, 100);
  }
  ASSERT_EQ(ids.size(), size_t(kRecords));
  for (int i = 0; i < kRecords; ++i) EXPECT_EQ(ids[i], "req-" + std::to_string(i));

  // `since` starts in the middle; the records before are skipped (whole segments unread).
  q = PredictionQuery{};
  q.endpoint = "churn";
  q.since = t0 + 150;
  auto tail = ReadAll(*log, q);
  ASSERT_EQ(tail.size(), 50u);
  EXPECT_EQ(tail.front().request_id, "req-150");

  q.page_token = "garbage";
  EXPECT_EQ(log->Read(q).status().code(), StatusCode::kInvalidArgument);
}

TEST_F(PredictionLogTest, ClosedSegmentsAreCompleteZstdNamedByTheirTimes) {
  auto log = Open();
  ASSERT_NE(log, nullptr);
  const int64_t t0 = clock_.NowMillis();
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(log->Append(Record("churn", t0 + 10 * i, i)));
  log->Flush();
  log.reset();  // closes the open segment: renamed with its last record's time
  auto files = Segments("churn");
  ASSERT_EQ(files.size(), 1u);
  const std::string name = files[0].filename().string();
  EXPECT_EQ(name, std::to_string(t0) + "-0000-" + std::to_string(t0 + 20) + ".jsonl.zst");
  std::string text;
  ASSERT_TRUE(ZstdCat(files[0], &text));
  EXPECT_EQ(std::count(text.begin(), text.end(), '\n'), 3);
  auto first = nlohmann::json::parse(text.substr(0, text.find('\n')));
  EXPECT_EQ(first["request_id"], "req-0");
  EXPECT_EQ(first["outputs"], nlohmann::json::parse("[0.0]"));
}

TEST_F(PredictionLogTest, EachFlushEndsAFrameSoTheOpenSegmentHoldsWholeFrames) {
  auto log = Open();
  ASSERT_NE(log, nullptr);
  const int64_t t0 = clock_.NowMillis();
  ASSERT_TRUE(log->Append(Record("churn", t0, 0)));
  log->Flush();
  ASSERT_TRUE(log->Append(Record("churn", t0 + 1, 1)));
  ASSERT_TRUE(log->Append(Record("churn", t0 + 2, 2)));
  log->Flush();
  log->Flush();  // nothing new: no empty frame
  auto files = Segments("churn");
  ASSERT_EQ(files.size(), 1u);
  EXPECT_NE(files[0].string().find(".open.jsonl.zst"), std::string::npos);
  std::string text;
  int frames = 0;
  ASSERT_TRUE(ZstdCat(files[0], &text, &frames));  // complete while still open
  EXPECT_EQ(frames, 2);
  EXPECT_EQ(std::count(text.begin(), text.end(), '\n'), 3);
  log.reset();  // closing adds no frame: the last flush ended it
  files = Segments("churn");
  ASSERT_EQ(files.size(), 1u);
  text.clear();
  ASSERT_TRUE(ZstdCat(files[0], &text, &frames));
  EXPECT_EQ(frames, 2);
}

TEST_F(PredictionLogTest, SegmentsRotateByAge) {
  options_.segment_age_ms = 1000;
  auto log = Open();
  ASSERT_NE(log, nullptr);
  ASSERT_TRUE(log->Append(Record("churn", clock_.NowMillis(), 0)));
  log->Flush();
  EXPECT_EQ(Segments("churn").size(), 1u);
  clock_.Advance(2000);
  ASSERT_TRUE(log->Append(Record("churn", clock_.NowMillis(), 1)));
  log->Flush();  // this batch finds the segment too old and closes it
  ASSERT_TRUE(log->Append(Record("churn", clock_.NowMillis(), 2)));
  log->Flush();
  auto files = Segments("churn");
  ASSERT_EQ(files.size(), 2u);
  EXPECT_EQ(files[0].string().find(".open."), std::string::npos);
  EXPECT_NE(files[1].string().find(".open."), std::string::npos);
  PredictionQuery q;
  q.endpoint = "churn";
  EXPECT_EQ(ReadAll(*log, q).size(), 3u);
}

TEST_F(PredictionLogTest, RetentionDeletesTheOldestSegments) {
  options_.segment_bytes = 1;
  options_.retention_bytes = 1;  // keeps only what the newest segments need
  auto log = Open();
  ASSERT_NE(log, nullptr);
  for (int i = 0; i < 5; ++i) {
    ASSERT_TRUE(log->Append(Record("churn", clock_.NowMillis() + i, i)));
    log->Flush();
  }
  log.reset();
  EXPECT_LE(Segments("churn").size(), 1u);
}

TEST_F(PredictionLogTest, AFullQueueDropsAndCountsWithoutBlocking) {
  options_.max_queue_bytes = 100;  // smaller than any record
  auto log = Open();
  ASSERT_NE(log, nullptr);
  EXPECT_FALSE(log->Append(Record("churn", clock_.NowMillis(), 0)));
  EXPECT_EQ(log->Stats("churn").dropped, 1);
  EXPECT_NE(log->RenderMetrics().find("cairn_prediction_log_dropped_total{endpoint=\"churn\"} 1"),
            std::string::npos);
}

TEST_F(PredictionLogTest, ConcurrentAppendersLoseNothing) {
  auto log = Open();
  ASSERT_NE(log, nullptr);
  constexpr int kThreads = 4;
  constexpr int kPerThread = 2000;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        EXPECT_TRUE(log->Append(Record("churn", clock_.NowMillis(), t * kPerThread + i)));
      }
    });
  }
  for (auto& th : threads) th.join();
  log->Flush();
  PredictionQuery q;
  q.endpoint = "churn";
  auto all = ReadAll(*log, q);
  EXPECT_EQ(all.size(), size_t(kThreads * kPerThread));
  std::set<std::string> ids;
  for (const auto& r : all) ids.insert(r.request_id);
  EXPECT_EQ(ids.size(), size_t(kThreads * kPerThread));
  EXPECT_EQ(log->Stats("churn").written, kThreads * kPerThread);
}

TEST_F(PredictionLogTest, ASegmentLeftOpenByACrashIsClosedOnOpen) {
  // What a crash leaves: whole frames up to the last flush, then part of a frame (blocks the
  // compressor had written out, ending in half a record).
  fs::create_directories(dir_ / "churn");
  const int64_t t0 = clock_.NowMillis();
  std::string out(1 << 16, '\0');
  ZSTD_CCtx* c = ZSTD_createCCtx();
  auto compress = [&](std::string lines, ZSTD_EndDirective mode) {
    ZSTD_inBuffer in{lines.data(), lines.size(), 0};
    ZSTD_outBuffer o{out.data(), out.size(), 0};
    EXPECT_EQ(ZSTD_compressStream2(c, &o, &in, mode), 0u);
    return std::string(out.data(), o.pos);
  };
  std::string file = compress(Line(t0, "r0") + Line(t0 + 1, "r1"), ZSTD_e_end);
  file += compress(
      Line(t0 + 2, "r2") + R"({"time":)" + std::to_string(t0 + 3) + R"(,"request_id":"torn)",
      ZSTD_e_flush);
  ZSTD_freeCCtx(c);
  const std::string open_name = std::to_string(t0) + "-0000.open.jsonl.zst";
  std::ofstream(dir_ / "churn" / open_name, std::ios::binary) << file;

  auto log = Open();
  ASSERT_NE(log, nullptr);
  auto files = Segments("churn");
  ASSERT_EQ(files.size(), 1u);
  EXPECT_EQ(files[0].filename().string(),
            std::to_string(t0) + "-0000-" + std::to_string(t0 + 2) + ".jsonl.zst");
  std::string text;
  ASSERT_TRUE(ZstdCat(files[0], &text));  // now a complete file
  EXPECT_EQ(std::count(text.begin(), text.end(), '\n'), 3);
  PredictionQuery q;
  q.endpoint = "churn";
  auto records = ReadAll(*log, q);
  ASSERT_EQ(records.size(), 3u);
  EXPECT_EQ(records[2].request_id, "r2");

  // New records go to a new segment that sorts after it.
  ASSERT_TRUE(log->Append(Record("churn", t0 - 5, 9)));  // even with an older time
  log->Flush();
  records = ReadAll(*log, q);
  ASSERT_EQ(records.size(), 4u);
  EXPECT_EQ(records[3].request_id, "req-9");
}

TEST_F(PredictionLogTest, GzipSegmentsOfEarlierVersionsStayReadableAndRecoverable) {
  // A workspace written before zstd: a closed gzip segment, and one a crash left open (flushed
  // up to a record, no trailer, half a record after it).
  fs::create_directories(dir_ / "churn");
  const int64_t t0 = clock_.NowMillis();
  std::ofstream(
      dir_ / "churn" / (std::to_string(t0) + "-0000-" + std::to_string(t0 + 1) + ".jsonl.gz"),
      std::ios::binary)
      << Gzip(Line(t0, "old0") + Line(t0 + 1, "old1"), Z_FINISH);
  std::ofstream(dir_ / "churn" / (std::to_string(t0 + 5) + "-0000.open.jsonl.gz"), std::ios::binary)
      << Gzip(Line(t0 + 5, "crashed0") + R"({"time":)" + std::to_string(t0 + 6) + R"(,"req)",
              Z_SYNC_FLUSH);

  auto log = Open();
  ASSERT_NE(log, nullptr);
  auto files = Segments("churn");
  ASSERT_EQ(files.size(), 2u);
  EXPECT_EQ(files[0].filename().string(),
            std::to_string(t0) + "-0000-" + std::to_string(t0 + 1) + ".jsonl.gz");
  EXPECT_EQ(files[1].filename().string(),
            std::to_string(t0 + 5) + "-0000-" + std::to_string(t0 + 5) + ".jsonl.zst");
  ASSERT_TRUE(log->Append(Record("churn", t0 + 10, 1)));
  log->Flush();

  PredictionQuery q;
  q.endpoint = "churn";
  auto records = ReadAll(*log, q);
  ASSERT_EQ(records.size(), 4u);
  EXPECT_EQ(records[0].request_id, "old0");
  EXPECT_EQ(records[1].request_id, "old1");
  EXPECT_EQ(records[2].request_id, "crashed0");
  EXPECT_EQ(records[3].request_id, "req-1");
  // `since` skips the old gzip segment by its name; pages stitch across both formats.
  q.since = t0 + 5;
  EXPECT_EQ(ReadAll(*log, q).size(), 2u);
  q = PredictionQuery{};
  q.endpoint = "churn";
  q.limit = 1;
  std::vector<std::string> ids;
  for (int i = 0; i < 10; ++i) {
    auto page = log->Read(q);
    ASSERT_TRUE(page.ok()) << page.status().ToString();
    for (const auto& r : page->records) ids.push_back(r.request_id);
    if (page->next_page_token.empty()) break;
    q.page_token = page->next_page_token;
  }
  EXPECT_EQ(ids, (std::vector<std::string>{"old0", "old1", "crashed0", "req-1"}));
}

}  // namespace
}  // namespace cairn::monitoring
