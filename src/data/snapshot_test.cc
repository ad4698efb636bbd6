#include "data/snapshot.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "core/hash.h"
#include "core/ids.h"

namespace cairn::data {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;

const std::string kDataDir = CAIRN_SOURCE_DIR "/../shared/data/";
const std::vector<std::string> kSharedFiles = {"telco_churn.csv", "penguins.csv", "credit_data.csv",
                                               "lending_club.csv", "ames_housing.csv"};

std::string ReadFile(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  EXPECT_TRUE(in) << path;
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

class SnapshotFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("cairn-snapshot-" + NewUuidHex());
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  fs::path Write(const std::string& name, const std::string& bytes) {
    const fs::path path = dir_ / name;
    std::ofstream(path, std::ios::binary) << bytes;
    return path;
  }

  // The chunks a pass hands over, with their bytes.
  struct Consumed {
    std::vector<ChunkRef> chunks;
    std::string bytes;  // concatenated
  };
  Result<FileSnapshot> Snapshot(const fs::path& path, Consumed* consumed,
                                const SnapshotFileOptions& options = {}) {
    return SnapshotFile(path, path.filename().string(), options,
                        [&](const ChunkRef& chunk, std::string_view bytes) {
                          consumed->chunks.push_back(chunk);
                          consumed->bytes.append(bytes);
                          return Status();
                        });
  }

  fs::path dir_;
};

// On every shared CSV: the chunks cover the file in order, each digest is its bytes' SHA-256,
// the file digest is the file's, and the profile is ProfileCsv's — with 1 thread or 2.
TEST_F(SnapshotFileTest, SharedCsvsAreChunkedHashedAndProfiled) {
  for (const std::string& name : kSharedFiles) {
    SCOPED_TRACE(name);
    const fs::path path = kDataDir + name;
    const std::string bytes = ReadFile(path);
    Consumed consumed;
    Result<FileSnapshot> snap = Snapshot(path, &consumed);
    ASSERT_TRUE(snap.ok()) << snap.status().ToString();
    const FileManifest& m = snap->manifest;
    EXPECT_EQ(m.path, name);
    EXPECT_EQ(m.size, bytes.size());
    EXPECT_EQ(m.file_digest, Sha256Hex(bytes));
    EXPECT_EQ(m.chunker, ChunkerOptionsForSize(bytes.size()));
    EXPECT_EQ(m.chunks, consumed.chunks);
    EXPECT_EQ(consumed.bytes, bytes);
    uint64_t offset = 0;
    for (const ChunkRef& c : m.chunks) {
      EXPECT_EQ(c.offset, offset);
      EXPECT_EQ(c.digest, Sha256Hex(std::string_view(bytes).substr(c.offset, c.size)));
      offset += c.size;
    }
    EXPECT_EQ(offset, bytes.size());
    EXPECT_TRUE(ParseManifest(SerializeManifest(m)).ok());

    ASSERT_TRUE(snap->profile.has_value());
    Result<DatasetProfile> want = ProfileCsv(bytes);
    ASSERT_TRUE(want.ok());
    const std::string json = ToJson(*snap->profile).dump();
    EXPECT_EQ(json, ToJson(*want).dump());

    SnapshotFileOptions one_thread;
    one_thread.threads = 1;
    Consumed again;
    Result<FileSnapshot> single = Snapshot(path, &again, one_thread);
    ASSERT_TRUE(single.ok());
    EXPECT_EQ(single->manifest, m);
    EXPECT_EQ(ToJson(*single->profile).dump(), json);
  }
}

// A single file outside any folder: profiled when its name ends in .csv (any case), not
// otherwise, nor when profiling is off.
TEST_F(SnapshotFileTest, OnlyCsvFilesAreProfiled) {
  const std::string csv = "x,y\n1,a\n2,b\n";
  Consumed consumed;
  Result<FileSnapshot> upper = Snapshot(Write("DATA.CSV", csv), &consumed);
  ASSERT_TRUE(upper.ok());
  ASSERT_TRUE(upper->profile.has_value());
  EXPECT_EQ(upper->profile->rows, 2);

  Result<FileSnapshot> text = Snapshot(Write("notes.txt", csv), &consumed);
  ASSERT_TRUE(text.ok());
  EXPECT_FALSE(text->profile.has_value());
  EXPECT_EQ(text->manifest.file_digest, Sha256Hex(csv));

  // Not CSV at all, and not profiled: any bytes go.
  const std::string binary("\x00\xff\"\r\x01", 5);
  Result<FileSnapshot> blob = Snapshot(Write("model.bin", binary), &consumed);
  ASSERT_TRUE(blob.ok());
  EXPECT_FALSE(blob->profile.has_value());
  EXPECT_EQ(blob->manifest.size, 5u);

  SnapshotFileOptions off;
  off.profile_csv = false;
  Result<FileSnapshot> unprofiled = Snapshot(Write("skip.csv", "not,a\ncsv"), &consumed, off);
  ASSERT_TRUE(unprofiled.ok());
  EXPECT_FALSE(unprofiled->profile.has_value());

  EXPECT_TRUE(IsCsvPath("a/b.Csv"));
  EXPECT_FALSE(IsCsvPath("a/csv"));
  EXPECT_FALSE(IsCsvPath("a.csv.gz"));
}

// A ragged CSV fails the pass with the reader's error, naming the file, line and column count.
TEST_F(SnapshotFileTest, RaggedCsvFailsNamingFileAndLine) {
  std::string csv = "a,b,c\n";
  for (int i = 0; i < 5000; ++i) csv += std::to_string(i) + ",x,1.5\n";
  csv += "1,2\n";  // line 5002
  for (int i = 0; i < 5000; ++i) csv += std::to_string(i) + ",y,2.5\n";
  const fs::path path = Write("ragged.csv", csv);
  Consumed consumed;
  Result<FileSnapshot> snap = Snapshot(path, &consumed);
  ASSERT_FALSE(snap.ok());
  EXPECT_EQ(snap.status().code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(snap.status().message(), HasSubstr(path.string()));
  EXPECT_THAT(snap.status().message(), HasSubstr("line 5002: 2 fields, the header has 3"));

  const fs::path quote = Write("quote.csv", "a,b\n1,x\"y\n");
  snap = Snapshot(quote, &consumed);
  ASSERT_FALSE(snap.ok());
  EXPECT_THAT(snap.status().message(), HasSubstr("line 2, column 2 (b)"));
}

// The consumer's error stops the pass: no chunk after it, and that error comes back.
TEST_F(SnapshotFileTest, ConsumerErrorStopsThePass) {
  const fs::path path = kDataDir + "ames_housing.csv";
  int calls = 0;
  Result<FileSnapshot> snap =
      SnapshotFile(path, "ames_housing.csv", {}, [&](const ChunkRef&, std::string_view) {
        return ++calls == 3 ? Unavailable("upload refused") : Status();
      });
  ASSERT_FALSE(snap.ok());
  EXPECT_EQ(snap.status().code(), StatusCode::kUnavailable);
  EXPECT_EQ(snap.status().message(), "upload refused");
  EXPECT_EQ(calls, 3);
}

// Progress never goes back and ends at the file's size.
TEST_F(SnapshotFileTest, ProgressReachesTheTotal) {
  std::string csv = "id,value,label\n";
  for (int i = 0; i < 600000; ++i) {
    csv += std::to_string(i) + "," + std::to_string(i % 1000 * 0.5) + ",l" + std::to_string(i % 7) +
           "\n";
  }
  const fs::path path = Write("big.csv", csv);  // ~12 MB: several progress steps
  std::vector<std::pair<uint64_t, uint64_t>> calls;
  Result<FileSnapshot> snap = SnapshotFile(
      path, "big.csv", {}, [](const ChunkRef&, std::string_view) { return Status(); },
      [&](uint64_t done, uint64_t total) { calls.emplace_back(done, total); });
  ASSERT_TRUE(snap.ok()) << snap.status().ToString();
  ASSERT_FALSE(calls.empty());
  EXPECT_EQ(calls.back(), std::make_pair(uint64_t{csv.size()}, uint64_t{csv.size()}));
  for (size_t i = 1; i < calls.size(); ++i) {
    EXPECT_LE(calls[i - 1].first, calls[i].first);
    EXPECT_EQ(calls[i].second, csv.size());
  }
  EXPECT_EQ(snap->profile->rows, 600000);
}

TEST_F(SnapshotFileTest, MissingFileIsNotFound) {
  Consumed consumed;
  Result<FileSnapshot> snap = Snapshot(dir_ / "absent.csv", &consumed);
  ASSERT_FALSE(snap.ok());
  EXPECT_EQ(snap.status().code(), StatusCode::kNotFound);
}

}  // namespace
}  // namespace cairn::data
