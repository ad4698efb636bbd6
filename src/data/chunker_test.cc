#include "data/chunker.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <random>
#include <set>
#include <sstream>

#include "core/hash.h"

namespace cairn::data {
namespace {

std::string ReadSharedCsv(const std::string& name) {
  std::ifstream in(std::string(CAIRN_SOURCE_DIR) + "/../shared/data/" + name, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string RandomBytes(size_t n, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::string s(n, '\0');
  for (auto& c : s) c = static_cast<char>(rng());
  return s;
}

void ExpectWellFormed(const std::vector<ChunkBoundary>& chunks, uint64_t size,
                      const ChunkerOptions& o) {
  uint64_t offset = 0;
  for (size_t i = 0; i < chunks.size(); ++i) {
    ASSERT_EQ(chunks[i].offset, offset) << i;
    ASSERT_LE(chunks[i].size, o.max) << i;
    if (i + 1 < chunks.size()) {
      ASSERT_GT(chunks[i].size, o.min) << i;
    } else {
      ASSERT_GT(chunks[i].size, 0u);
    }
    offset += chunks[i].size;
  }
  EXPECT_EQ(offset, size);
}

TEST(ChunkerTest, GearTableIsFixed) {
  // Part of the stored format: these values must never change. (Checked against an independent
  // splitmix64 in Python, seed 0x636169726e636463.)
  const auto& gear = GearTable();
  EXPECT_EQ(gear[0], 0x6403f467f085d64bULL);
  EXPECT_EQ(gear[1], 0xf40e077fcba7fe61ULL);
  EXPECT_EQ(gear[2], 0xdea32663d1d192f3ULL);
  EXPECT_EQ(gear[255], 0x910b65dfe564fdf7ULL);
  EXPECT_EQ(std::set<uint64_t>(gear.begin(), gear.end()).size(), 256u);
}

TEST(ChunkerTest, BoundariesAreFixedForAKnownInput) {
  // Golden cut points: a change in the algorithm, the masks or the table shows here first.
  std::string data = RandomBytes(1 << 20, 42);
  auto chunks = CutChunks(data, ChunkerOptions{});
  std::vector<uint64_t> sizes;
  for (const auto& c : chunks) sizes.push_back(c.size);
  EXPECT_EQ(sizes, (std::vector<uint64_t>{58480, 80898, 119310, 19462, 95031, 70858, 69656, 74760,
                                          99602, 41085, 66737, 71009, 63093, 69356, 49239}));
}

TEST(ChunkerTest, ValidatesOptions) {
  EXPECT_TRUE(ValidateChunkerOptions({}).ok());
  EXPECT_TRUE(ValidateChunkerOptions({64, 256, 1024}).ok());
  EXPECT_FALSE(ValidateChunkerOptions({0, 256, 1024}).ok());
  EXPECT_FALSE(ValidateChunkerOptions({256, 256, 1024}).ok());
  EXPECT_FALSE(ValidateChunkerOptions({64, 300, 1024}).ok());
  EXPECT_FALSE(ValidateChunkerOptions({64, 1024, 1024}).ok());
  EXPECT_FALSE(ValidateChunkerOptions({8, 32, 128}).ok());
}

TEST(ChunkerTest, SizesRespectMinAndMax) {
  for (const ChunkerOptions& o :
       {ChunkerOptions{}, ChunkerOptions{64, 256, 1024}, ChunkerOptions{1024, 4096, 16384}}) {
    std::string data = RandomBytes(8 << 20, 7);
    auto chunks = CutChunks(data, o);
    ExpectWellFormed(chunks, data.size(), o);
    // Normalized chunking: the mean lands near avg on random data.
    double mean = static_cast<double>(data.size()) / chunks.size();
    EXPECT_GT(mean, 0.8 * o.avg);
    EXPECT_LT(mean, 1.5 * o.avg);
    // Data without cut points (a run of one byte value) is cut at max.
    std::string zeros(10 * o.max + 5, '\0');
    auto flat = CutChunks(zeros, o);
    ExpectWellFormed(flat, zeros.size(), o);
    // A short input is one chunk; nothing is none.
    EXPECT_EQ(CutChunks(data.substr(0, o.min), o).size(), 1u);
    EXPECT_TRUE(CutChunks("", o).empty());
  }
}

TEST(ChunkerTest, IsDeterministicAndContentDefined) {
  std::string data = RandomBytes(4 << 20, 9);
  ChunkerOptions o{1024, 4096, 16384};
  auto a = CutChunks(data, o);
  EXPECT_EQ(a, CutChunks(data, o));
  // Bytes inserted at the front shift the cut points but (after a few chunks) not move them
  // relative to the content.
  std::string shifted = "inserted bytes" + data;
  auto b = CutChunks(shifted, o);
  std::set<uint64_t> ends_a, ends_b;
  for (const auto& c : a) ends_a.insert(c.offset + c.size + 14);
  for (const auto& c : b) ends_b.insert(c.offset + c.size);
  size_t shared = 0;
  for (uint64_t e : ends_b) shared += ends_a.count(e);
  EXPECT_GT(shared, ends_b.size() - 5);
}

TEST(ChunkerTest, StreamingMatchesOneShotForAnySplit) {
  std::mt19937_64 rng(1234);
  for (const ChunkerOptions& o : {ChunkerOptions{64, 256, 1024}, ChunkerOptions{}}) {
    std::string data = RandomBytes(3 * 1024 * 1024 + 17, 5);
    // Runs without cut points make chunks of exactly max: the straddling cases.
    data.replace(100000, 5 * o.max, 5 * o.max, 'x');
    auto expected = CutChunks(data, o);
    for (int trial = 0; trial < 40; ++trial) {
      std::vector<ChunkBoundary> got;
      std::string rebuilt;
      Chunker chunker(o, [&](const ChunkBoundary& c, std::string_view bytes) {
        EXPECT_EQ(c.size, bytes.size());
        got.push_back(c);
        rebuilt.append(bytes);
        return Status::Ok();
      });
      // Piece sizes from 0 bytes to 2x max, biased to small ones in some trials.
      const uint64_t limit = trial % 4 == 0 ? 16 : trial % 4 == 1 ? o.max / 2 : 2 * o.max + 3;
      for (size_t pos = 0; pos < data.size();) {
        size_t n = std::min<size_t>(rng() % (limit + 1), data.size() - pos);
        ASSERT_TRUE(chunker.Feed(std::string_view(data).substr(pos, n)).ok());
        pos += n;
      }
      ASSERT_TRUE(chunker.Finish().ok());
      ASSERT_EQ(got, expected) << "trial " << trial;
      ASSERT_EQ(rebuilt, data);
      EXPECT_EQ(chunker.bytes_fed(), data.size());
    }
  }
}

TEST(ChunkerTest, StreamingStopsAtTheSinksError) {
  int calls = 0;
  Chunker chunker({64, 256, 1024}, [&](const ChunkBoundary&, std::string_view) {
    return ++calls == 3 ? Internal("disk full") : Status::Ok();
  });
  std::string data = RandomBytes(100000, 3);
  Status s = chunker.Feed(data);
  EXPECT_EQ(s.code(), StatusCode::kInternal);
  EXPECT_EQ(chunker.Feed(data).message(), "disk full");
  EXPECT_EQ(chunker.Finish().message(), "disk full");
  EXPECT_EQ(calls, 3);
}

TEST(ChunkerTest, ParallelHashingMatchesSequential) {
  std::string data = RandomBytes(6 << 20, 11);
  auto chunks = CutChunks(data, {4096, 16384, 65536});
  std::vector<std::string> sequential;
  for (const auto& c : chunks) sequential.push_back(Sha256Hex(data.substr(c.offset, c.size)));
  for (unsigned threads : {0u, 1u, 2u, 5u}) {
    EXPECT_EQ(HashChunks(data, chunks, threads), sequential) << threads;
  }
  EXPECT_TRUE(HashChunks("", {}).empty());
}

void ExpectPipelineMatches(const std::string& data, const ChunkerOptions& o, unsigned threads) {
  std::vector<ChunkRef> seen;
  uint64_t next_offset = 0;
  auto m = ChunkAndHash(data, {o, threads}, [&](const ChunkRef& c, std::string_view bytes) {
    EXPECT_EQ(c.offset, next_offset);  // file order
    EXPECT_EQ(bytes, std::string_view(data).substr(c.offset, c.size));
    next_offset += c.size;
    seen.push_back(c);
    return Status::Ok();
  });
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  EXPECT_EQ(m->size, data.size());
  EXPECT_EQ(m->file_digest, Sha256Hex(data));
  EXPECT_EQ(m->chunker, o);
  EXPECT_EQ(m->chunks, seen);
  auto chunks = CutChunks(data, o);
  auto digests = HashChunks(data, chunks, 1);
  ASSERT_EQ(m->chunks.size(), chunks.size());
  for (size_t i = 0; i < chunks.size(); ++i) {
    EXPECT_EQ(m->chunks[i], (ChunkRef{digests[i], chunks[i].offset, chunks[i].size}));
  }
}

TEST(ChunkerTest, PipelineHashesEveryChunkAndTheFileInOrder) {
  ExpectPipelineMatches("", {}, 2);
  ExpectPipelineMatches("a,b\n1,2\n", {}, 2);
  ExpectPipelineMatches(RandomBytes(3 << 20, 1), {1024, 4096, 16384}, 2);
  // Large enough for the multi-threaded pipeline (tens of batches).
  std::string big = RandomBytes(90 << 20, 2);
  ExpectPipelineMatches(big, {}, 2);
  ExpectPipelineMatches(big, {1024, 4096, 16384}, 3);
  ExpectPipelineMatches(big, {}, 1);
}

TEST(ChunkerTest, PipelineStopsAtTheConsumersError) {
  std::string data = RandomBytes(40 << 20, 4);
  for (unsigned threads : {1u, 2u}) {
    int calls = 0;
    auto m = ChunkAndHash(data, {{}, threads}, [&](const ChunkRef&, std::string_view) {
      return ++calls == 100 ? Internal("blob store down") : Status::Ok();
    });
    ASSERT_FALSE(m.ok());
    EXPECT_EQ(m.status().message(), "blob store down");
    EXPECT_EQ(calls, 100);
  }
  EXPECT_FALSE(ChunkAndHash(data, {{1, 100, 1000}, 2}, nullptr).ok());
}

TEST(ManifestTest, SerializesCanonicallyAndParsesBack) {
  FileManifest m;
  m.path = "dir/na me%\n.csv";
  m.size = 30;
  m.file_digest = Sha256Hex("file");
  m.chunker = {64, 256, 1024};
  m.chunks = {{Sha256Hex("a"), 0, 10}, {Sha256Hex("b"), 10, 20}};
  std::string text = SerializeManifest(m);
  EXPECT_EQ(text, "cairn-file-manifest 1\npath dir/na me%25%0A.csv\nsize 30\nsha256 " +
                      Sha256Hex("file") + "\nchunker 64 256 1024\nchunk " + Sha256Hex("a") +
                      " 10\nchunk " + Sha256Hex("b") + " 20\n");
  auto parsed = ParseManifest(text);
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  EXPECT_EQ(*parsed, m);
  EXPECT_EQ(ManifestDigest(m), Sha256Hex(text));

  FileManifest empty;
  empty.file_digest = Sha256Hex("");
  auto parsed_empty = ParseManifest(SerializeManifest(empty));
  ASSERT_TRUE(parsed_empty.ok()) << parsed_empty.status().ToString();
  EXPECT_EQ(*parsed_empty, empty);
}

TEST(ManifestTest, RejectsMalformedOrNonCanonicalText) {
  FileManifest m;
  m.path = "x.csv";
  m.size = 30;
  m.file_digest = Sha256Hex("file");
  m.chunks = {{Sha256Hex("a"), 0, 10}, {Sha256Hex("b"), 10, 20}};
  const std::string good = SerializeManifest(m);
  ASSERT_TRUE(ParseManifest(good).ok());
  auto replaced = [&](std::string_view from, std::string_view to) {
    std::string s = good;
    s.replace(s.find(from), from.size(), to);
    return s;
  };
  for (const std::string& bad : {
           std::string(),
           good.substr(0, good.size() - 1),  // no final newline
           replaced("cairn-file-manifest 1", "cairn-file-manifest 2"),
           replaced("size 30", "size 31"),   // chunks do not cover the file
           replaced("size 30", "size 030"),  // not canonical
           replaced(" 20\n", " 21\n"),       // past the end
           replaced(" 10\n", " 0\n"),        // an empty chunk
           replaced(" 10\n", " 5 5\n"),
           replaced("chunker 16384", "chunker 16384 "),
           replaced("chunker 16384 65536", "chunker 16384 65000"),
           replaced(Sha256Hex("a"), "zz"),
           replaced("path x.csv", "path x%2.csv"),
           replaced("path x.csv", "path x%41.csv"),  // an escape that is not needed
           good + "chunk " + Sha256Hex("c") + " 1\n",
           good + "\n",
       }) {
    EXPECT_FALSE(ParseManifest(bad).ok()) << bad;
  }
}

TEST(ChunkerOptionsTest, ScaleWithFileSizeAndStickAcrossVersions) {
  EXPECT_EQ(ChunkerOptionsForSize(0), (ChunkerOptions{16, 64, 256}));
  EXPECT_EQ(ChunkerOptionsForSize(15000), (ChunkerOptions{16, 64, 256}));
  EXPECT_EQ(ChunkerOptionsForSize(100000), (ChunkerOptions{64, 256, 1024}));
  EXPECT_EQ(ChunkerOptionsForSize(1 << 20), (ChunkerOptions{1024, 4096, 16384}));
  EXPECT_EQ(ChunkerOptionsForSize((1 << 20) - 1), (ChunkerOptions{512, 2048, 8192}));
  EXPECT_EQ(ChunkerOptionsForSize(uint64_t{1} << 30), ChunkerOptions{});
  for (uint64_t size : {uint64_t{0}, uint64_t{999}, uint64_t{1} << 24, uint64_t{1} << 40}) {
    EXPECT_TRUE(ValidateChunkerOptions(ChunkerOptionsForSize(size)).ok());
  }
  // A file that grows past a step keeps the chunking of its previous version ...
  ChunkerOptions v1 = ChunkerOptionsForSize((1 << 20) - 100);
  EXPECT_EQ(ChunkerOptionsForResnapshot(v1, (1 << 20) + 10000), v1);
  EXPECT_EQ(ChunkerOptionsForResnapshot(v1, 3 << 20), v1);
  // ... until it has grown or shrunk past 4x.
  EXPECT_EQ(ChunkerOptionsForResnapshot(v1, 16 << 20), ChunkerOptionsForSize(16 << 20));
  EXPECT_EQ(ChunkerOptionsForResnapshot(v1, 100000), ChunkerOptionsForSize(100000));
  EXPECT_EQ(ChunkerOptionsForResnapshot({0, 0, 0}, 1 << 20), ChunkerOptionsForSize(1 << 20));
}

// ---------------------------------------------------------------------------------------------
// The dedup promise: re-snapshotting a CSV with 1 % of rows appended, or one contiguous block of
// 1 % of rows edited, stores under 5 % new bytes.

std::vector<std::string> SplitRows(const std::string& csv) {
  std::vector<std::string> rows;
  std::istringstream in(csv);
  for (std::string line; std::getline(in, line);) rows.push_back(line + "\n");
  return rows;
}

// A row like `row` with some of its numbers changed (lengths change too).
std::string Vary(const std::string& row, std::mt19937_64& rng) {
  std::string out;
  for (size_t i = 0; i < row.size();) {
    if (std::isdigit(static_cast<unsigned char>(row[i]))) {
      size_t j = i;
      while (j < row.size() && std::isdigit(static_cast<unsigned char>(row[j]))) ++j;
      if (rng() % 2) {
        out += std::to_string(rng() % (uint64_t{1} << std::min<size_t>(4 * (j - i) + 2, 60)));
      } else {
        out.append(row, i, j - i);
      }
      i = j;
    } else {
      out += row[i++];
    }
  }
  return out;
}

struct Table {
  std::string header;
  std::vector<std::string> rows;
  std::string Join() const {
    std::string s = header;
    for (const auto& r : rows) s += r;
    return s;
  }
};

Table LoadTable(const std::string& csv) {
  auto lines = SplitRows(csv);
  Table t{lines.front(), {lines.begin() + 1, lines.end()}};
  return t;
}

// ~`bytes` of rows drawn from `seed_table`, each varied: a big file whose rows are all distinct.
Table Synthesize(const Table& seed_table, size_t bytes, uint64_t seed) {
  std::mt19937_64 rng(seed);
  Table t{seed_table.header, {}};
  for (size_t n = 0; n < bytes;) {
    t.rows.push_back(Vary(seed_table.rows[rng() % seed_table.rows.size()], rng));
    n += t.rows.back().size();
  }
  return t;
}

// The share of `next`'s bytes in chunks that `prev`'s snapshot does not hold, with the options
// the snapshot code will use (prev: for its size; next: the previous version's).
double NewByteShare(const std::string& prev, const std::string& next) {
  ChunkerOptions o1 = ChunkerOptionsForSize(prev.size());
  ChunkerOptions o2 = ChunkerOptionsForResnapshot(o1, next.size());
  auto c1 = CutChunks(prev, o1);
  auto d1 = HashChunks(prev, c1);
  std::set<std::string> stored(d1.begin(), d1.end());
  auto c2 = CutChunks(next, o2);
  auto d2 = HashChunks(next, c2);
  uint64_t fresh = 0;
  for (size_t i = 0; i < c2.size(); ++i) {
    if (stored.insert(d2[i]).second) fresh += c2[i].size;
  }
  return static_cast<double>(fresh) / next.size();
}

struct DedupResult {
  double append = 0;
  double worst_edit = 0;
  double mean_edit = 0;
};

DedupResult MeasureDedup(const Table& t, uint64_t seed) {
  std::mt19937_64 rng(seed);
  const std::string original = t.Join();
  const size_t block = std::max<size_t>(1, t.rows.size() / 100);
  DedupResult r;
  Table appended = t;
  for (size_t i = 0; i < block; ++i) {
    appended.rows.push_back(Vary(t.rows[rng() % t.rows.size()], rng));
  }
  r.append = NewByteShare(original, appended.Join());
  constexpr int kEdits = 8;
  for (int e = 0; e < kEdits; ++e) {
    Table edited = t;
    size_t start = rng() % (t.rows.size() - block + 1);
    for (size_t i = start; i < start + block; ++i) {
      std::string varied = Vary(t.rows[i], rng);
      while (varied == t.rows[i]) varied = Vary(t.rows[i], rng);
      edited.rows[i] = varied;
    }
    double share = NewByteShare(original, edited.Join());
    r.worst_edit = std::max(r.worst_edit, share);
    r.mean_edit += share / kEdits;
  }
  return r;
}

void ExpectDedup(const std::string& label, const Table& t) {
  DedupResult r = MeasureDedup(t, 77);
  const std::string csv = t.Join();
  auto m = ChunkAndHash(csv, {ChunkerOptionsForSize(csv.size()), 0},
                        [](const ChunkRef&, std::string_view) { return Status::Ok(); });
  ASSERT_TRUE(m.ok());
  std::printf(
      "[ dedup    ] %-18s %9zu B %7zu rows, avg chunk %5llu B, %6zu chunks, manifest "
      "%5.2f%%: append 1%% -> %.2f%% new bytes, edit 1%% -> mean %.2f%% worst %.2f%%\n",
      label.c_str(), csv.size(), t.rows.size(), static_cast<unsigned long long>(m->chunker.avg),
      m->chunks.size(), 100.0 * SerializeManifest(*m).size() / csv.size(), 100 * r.append,
      100 * r.mean_edit, 100 * r.worst_edit);
  EXPECT_LT(r.append, 0.05) << label;
  EXPECT_LT(r.worst_edit, 0.05) << label;
}

TEST(ChunkerDedupTest, OnePercentOfRowsChangedStoresUnderFivePercentNewBytes) {
  for (const char* name : {"penguins.csv", "credit_data.csv", "telco_churn.csv", "lending_club.csv",
                           "ames_housing.csv"}) {
    std::string csv = ReadSharedCsv(name);
    ASSERT_GT(csv.size(), 10000u) << name;
    ExpectDedup(name, LoadTable(csv));
  }
  Table lending = LoadTable(ReadSharedCsv("lending_club.csv"));
  ExpectDedup("synthetic 200 KB", Synthesize(lending, 200 << 10, 1));
  ExpectDedup("synthetic 5 MB", Synthesize(lending, 5 << 20, 2));
  ExpectDedup("synthetic 24 MB", Synthesize(lending, 24 << 20, 3));
}

TEST(ChunkerDedupTest, AppendingAcrossASizeStepStillDeduplicates) {
  // Just under 1 MiB: 1 % more rows crosses the step from 2 KiB to 4 KiB chunks.
  std::string csv = ReadSharedCsv("lending_club.csv");
  ASSERT_GT(csv.size(), 10000u) << "shared/data/lending_club.csv is missing";
  Table lending = LoadTable(csv);
  Table t = Synthesize(lending, (1 << 20) - 8000, 5);
  ASSERT_LT(t.Join().size(), 1u << 20);
  std::mt19937_64 rng(6);
  Table appended = t;
  for (size_t i = 0; i < t.rows.size() / 100; ++i) appended.rows.push_back(Vary(t.rows[i], rng));
  ASSERT_GT(appended.Join().size(), 1u << 20);
  EXPECT_LT(NewByteShare(t.Join(), appended.Join()), 0.05);
}

}  // namespace
}  // namespace cairn::data
