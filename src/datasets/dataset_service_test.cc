#include "datasets/dataset_service.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>

#include "blob/local_blob_store.h"
#include "core/hash.h"
#include "core/ids.h"
#include "data/chunker.h"
#include "data/snapshot.h"
#include "store/sqlite/sqlite_metadata_store.h"

namespace cairn::datasets {
namespace {

namespace fs = std::filesystem;

// A CSV of n rows whose `x` column is shifted by `shift`.
std::string Csv(int n, int shift = 0) {
  std::string csv = "id,x,color\n";
  for (int i = 0; i < n; ++i) {
    csv += std::to_string(i) + "," + std::to_string(i % 50 + shift) + "," +
           (i % 3 == 0 ? "red" : "blue") + "\n";
  }
  return csv;
}

class DatasetServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("cairn-datasets-" + NewUuidHex());
    fs::create_directories(dir_);
    store_ = std::move(store::SqliteMetadataStore::Open((dir_ / "meta.db").string(), clock_))
                 .value();
    blobs_ = std::move(blob::LocalBlobStore::Create((dir_ / "blobs").string())).value();
    service_ = std::make_unique<DatasetService>(*store_, *blobs_, clock_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  // The snapshot pass in memory: chunks `bytes`, uploads every chunk, profiles CSVs.
  NewFile Snapshot(const std::string& path, const std::string& bytes, bool upload = true) {
    data::ChunkPipelineOptions options;
    options.chunker = data::ChunkerOptionsForSize(bytes.size());
    std::vector<std::string> digests;
    std::vector<std::string> copies;
    auto manifest = data::ChunkAndHash(bytes, options, [&](const data::ChunkRef& c,
                                                           std::string_view b) {
      digests.push_back(c.digest);
      copies.emplace_back(b);
      return Status::Ok();
    });
    EXPECT_TRUE(manifest.ok()) << manifest.status().ToString();
    if (upload) {
      std::vector<BlobPackEntry> pack;
      for (size_t i = 0; i < digests.size(); ++i) pack.push_back({digests[i], copies[i]});
      auto put = service_->PutBlobs(pack);
      EXPECT_TRUE(put.ok()) << put.status().ToString();
    }
    NewFile file;
    file.manifest = std::move(manifest).value();
    file.manifest.path = path;
    if (data::IsCsvPath(path)) file.profile = data::ProfileCsv(bytes).value();
    return file;
  }

  NewVersionRequest Request(std::string name, std::vector<NewFile> files) {
    NewVersionRequest r;
    r.name = std::move(name);
    r.files = std::move(files);
    r.created_by = "ada";
    return r;
  }

  CreatedVersion Create(const std::string& name, std::vector<NewFile> files) {
    auto created = service_->CreateVersion(Request(name, std::move(files)));
    EXPECT_TRUE(created.ok()) << created.status().ToString();
    return created.ok() ? std::move(created).value() : CreatedVersion{};
  }

  std::string ReadAll(const std::string& name, std::optional<int64_t> version,
                      const std::string& path) {
    auto reader = service_->OpenFile(name, version, path);
    EXPECT_TRUE(reader.ok()) << reader.status().ToString();
    if (!reader.ok()) return "";
    std::string all, piece;
    while (true) {
      Status s = (*reader)->Read(piece);
      EXPECT_TRUE(s.ok()) << s.ToString();
      if (!s.ok() || piece.empty()) break;
      all += piece;
    }
    return all;
  }

  fs::path dir_;
  FakeClock clock_;
  std::unique_ptr<store::SqliteMetadataStore> store_;
  std::unique_ptr<blob::LocalBlobStore> blobs_;
  std::unique_ptr<DatasetService> service_;
};

TEST(DatasetNamesTest, AcceptsTheDocumentedAlphabet) {
  for (std::string ok : std::vector<std::string>{"churn", "a", "Telco_2024-05.v2", std::string(128, 'x'), "0abc"}) {
    EXPECT_TRUE(ValidateDatasetName(ok).ok()) << ok;
  }
  for (std::string bad : std::vector<std::string>{"", "-churn", ".hidden", "a/b", "a b", "é", std::string(129, 'x'),
                          std::string("a\0b", 3), "_x"}) {
    Status s = ValidateDatasetName(bad);
    EXPECT_EQ(s.code(), StatusCode::kInvalidArgument) << bad;
    EXPECT_NE(s.message().find("dataset name"), std::string::npos) << s.message();
  }
}

TEST(DatasetNamesTest, PathsAreRelativeAndNormalized) {
  for (std::string ok : std::vector<std::string>{"a.csv", "dir/b.csv", "é/ü.txt", "a..b/c", "with space.csv"}) {
    EXPECT_TRUE(ValidateDatasetPath(ok).ok()) << ok;
  }
  for (std::string bad : std::vector<std::string>{"", "/abs", "a//b", "a/", "./a", "a/../b", "..", "a\nb",
                          std::string("a\0b", 3), std::string("\xff", 1)}) {
    EXPECT_EQ(ValidateDatasetPath(bad).code(), StatusCode::kInvalidArgument) << bad;
  }
}

TEST_F(DatasetServiceTest, SnapshotsNumberVersionsAndDeduplicateIdenticalContent) {
  CreatedVersion v1 = Create("churn", {Snapshot("churn.csv", Csv(500))});
  EXPECT_TRUE(v1.created);
  EXPECT_EQ(v1.version.version, 1);
  EXPECT_EQ(v1.version.row_count, 500);
  EXPECT_EQ(v1.version.size_bytes, int64_t(Csv(500).size()));
  EXPECT_EQ(v1.version.created_by, "ada");
  EXPECT_EQ(v1.version.creation_time, clock_.NowMillis());
  EXPECT_TRUE(IsSha256Hex(v1.version.version_id));
  EXPECT_EQ(v1.version.version_id, v1.version.manifest_digest);
  EXPECT_FALSE(v1.version.profile_digest.empty());
  EXPECT_GT(v1.stored_bytes, 0);  // the manifests and the profile

  // The same content again: the same version, nothing new stored.
  NewFile again = Snapshot("churn.csv", Csv(500));
  auto missing = service_->MissingBlobs({again.manifest.chunks[0].digest});
  ASSERT_TRUE(missing.ok());
  EXPECT_TRUE(missing->empty());
  CreatedVersion same = Create("churn", {again});
  EXPECT_FALSE(same.created);
  EXPECT_EQ(same.version, v1.version);
  EXPECT_EQ(same.stored_bytes, 0);

  CreatedVersion v2 = Create("churn", {Snapshot("churn.csv", Csv(510))});
  EXPECT_TRUE(v2.created);
  EXPECT_EQ(v2.version.version, 2);
  EXPECT_EQ(v2.version.row_count, 510);
  EXPECT_NE(v2.version.version_id, v1.version.version_id);

  auto listed = service_->ListDatasets();
  ASSERT_TRUE(listed.ok());
  ASSERT_EQ(listed->size(), 1u);
  EXPECT_EQ((*listed)[0].latest_version, 2);
  auto versions = service_->ListVersions("churn");
  ASSERT_TRUE(versions.ok());
  ASSERT_EQ(versions->size(), 2u);
  EXPECT_EQ((*versions)[0].version, 2);  // newest first
}

TEST_F(DatasetServiceTest, ListenersHearOfNewVersionsOnly) {
  std::vector<int64_t> heard;
  service_->AddVersionListener(
      [&heard](const store::DatasetVersion& v) { heard.push_back(v.version); });
  Create("churn", {Snapshot("churn.csv", Csv(500))});
  Create("churn", {Snapshot("churn.csv", Csv(500))});  // the same content: no new version
  Create("churn", {Snapshot("churn.csv", Csv(510))});
  EXPECT_FALSE(service_->CreateVersion(Request("churn", {})).ok());  // refused: nothing heard
  EXPECT_EQ(heard, (std::vector<int64_t>{1, 2}));
}

TEST_F(DatasetServiceTest, VersionIdIsTheContentAddress) {
  // Two names with the same bytes share the id; the profile is not part of it.
  CreatedVersion a = Create("a", {Snapshot("x.csv", Csv(100))});
  CreatedVersion b = Create("b", {Snapshot("x.csv", Csv(100))});
  EXPECT_EQ(a.version.version_id, b.version.version_id);
  auto root = blobs_->Get(a.version.version_id);
  ASSERT_TRUE(root.ok());
  EXPECT_EQ(root->substr(0, 25), "cairn-dataset-manifest 1\n");
  EXPECT_NE(root->find(" x.csv\n"), std::string::npos);
}

TEST_F(DatasetServiceTest, MissingChunkIsAnErrorAndRecordsNothing) {
  NewFile file = Snapshot("data.csv", Csv(400), /*upload=*/false);
  auto created = service_->CreateVersion(Request("churn", {file}));
  ASSERT_FALSE(created.ok());
  EXPECT_EQ(created.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(created.status().message().find("data.csv"), std::string::npos);
  EXPECT_NE(created.status().message().find(file.manifest.chunks[0].digest), std::string::npos);
  EXPECT_TRUE(service_->ListDatasets()->empty());
  EXPECT_EQ(service_->ListVersions("churn").status().code(), StatusCode::kNotFound);
}

TEST_F(DatasetServiceTest, BadRequestsNameTheCulprit) {
  NewFile good = Snapshot("a.csv", Csv(10));
  auto bad_name = service_->CreateVersion(Request("no/slash", {good}));
  EXPECT_EQ(bad_name.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(bad_name.status().message().find("'no/slash'"), std::string::npos);

  NewFile empty;
  empty.manifest.path = "empty.csv";
  empty.manifest.file_digest = Sha256Hex("");
  empty.manifest.chunker = data::ChunkerOptionsForSize(0);
  auto empty_file = service_->CreateVersion(Request("d", {good, empty}));
  EXPECT_EQ(empty_file.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(empty_file.status().message(), "empty file: empty.csv");

  auto twice = service_->CreateVersion(Request("d", {good, good}));
  EXPECT_EQ(twice.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(twice.status().message().find("'a.csv' is listed twice"), std::string::npos);

  NewFile escaping = good;
  escaping.manifest.path = "../a.csv";
  EXPECT_EQ(service_->CreateVersion(Request("d", {escaping})).status().code(),
            StatusCode::kInvalidArgument);

  NewFile inconsistent = good;
  inconsistent.manifest.size += 1;  // chunks no longer cover the size
  auto bad_manifest = service_->CreateVersion(Request("d", {inconsistent}));
  EXPECT_EQ(bad_manifest.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(bad_manifest.status().message().find("'a.csv'"), std::string::npos);

  EXPECT_EQ(service_->CreateVersion(Request("d", {})).status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_TRUE(service_->ListDatasets()->empty());
}

TEST_F(DatasetServiceTest, PacksAreVerifiedBeforeAnythingIsStored) {
  std::string a = "first chunk", b = "second chunk";
  std::vector<BlobPackEntry> pack = {{Sha256Hex(a), a}, {Sha256Hex(a), b}};  // b lies
  auto put = service_->PutBlobs(pack);
  ASSERT_FALSE(put.ok());
  EXPECT_EQ(put.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(put.status().message().find("chunk 1"), std::string::npos);
  EXPECT_FALSE(blobs_->Contains(Sha256Hex(a)));
  EXPECT_FALSE(blobs_->Contains(Sha256Hex(b)));

  auto not_hex = service_->PutBlobs({{"xyz", a}});
  EXPECT_EQ(not_hex.status().code(), StatusCode::kInvalidArgument);

  auto ok = service_->PutBlobs({{Sha256Hex(a), a}, {Sha256Hex(b), b}, {Sha256Hex(a), a}});
  ASSERT_TRUE(ok.ok()) << ok.status().ToString();
  EXPECT_EQ(ok->chunks, 3);
  EXPECT_EQ(ok->stored, 2);
  EXPECT_EQ(ok->stored_bytes, int64_t(a.size() + b.size()));
  auto again = service_->PutBlobs({{Sha256Hex(a), a}});
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->stored, 0);
  EXPECT_EQ(again->stored_bytes, 0);

  auto missing = service_->MissingBlobs({Sha256Hex("nope"), Sha256Hex(a), Sha256Hex("nope")});
  ASSERT_TRUE(missing.ok());
  EXPECT_EQ(*missing, std::vector<std::string>{Sha256Hex("nope")});
  auto bad = service_->MissingBlobs({Sha256Hex(a), "ABC"});
  EXPECT_EQ(bad.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(bad.status().message().find("digests[1]"), std::string::npos);
}

TEST_F(DatasetServiceTest, FilesStreamBackVerified) {
  std::string csv = Csv(3000);
  std::string bin(100000, '\0');
  for (size_t i = 0; i < bin.size(); ++i) bin[i] = char(i * 7 % 251);
  CreatedVersion v = Create("mixed", {Snapshot("dir/bin.dat", bin), Snapshot("t.csv", csv)});
  EXPECT_EQ(v.version.row_count, 3000);  // only the CSV has rows
  EXPECT_EQ(v.version.size_bytes, int64_t(csv.size() + bin.size()));

  auto details = service_->GetVersion("mixed", std::nullopt);
  ASSERT_TRUE(details.ok());
  ASSERT_EQ(details->files.size(), 2u);
  EXPECT_EQ(details->files[0].path, "dir/bin.dat");
  EXPECT_EQ(details->files[0].rows, -1);
  EXPECT_TRUE(details->files[0].profile_digest.empty());
  EXPECT_EQ(details->files[1].path, "t.csv");
  EXPECT_EQ(details->files[1].rows, 3000);
  EXPECT_EQ(details->files[1].sha256, Sha256Hex(csv));

  EXPECT_EQ(ReadAll("mixed", 1, "t.csv"), csv);
  EXPECT_EQ(ReadAll("mixed", std::nullopt, "dir/bin.dat"), bin);

  auto manifest = service_->GetFileManifest("mixed", 1, "t.csv");
  ASSERT_TRUE(manifest.ok());
  EXPECT_EQ(manifest->file_digest, Sha256Hex(csv));

  auto profiles = service_->GetProfiles("mixed", 1);
  ASSERT_TRUE(profiles.ok());
  ASSERT_EQ(profiles->size(), 1u);
  EXPECT_EQ((*profiles)[0].path, "t.csv");
  EXPECT_EQ((*profiles)[0].profile.rows, 3000);
  EXPECT_EQ(service_->GetProfiles("mixed", 1, "dir/bin.dat").status().code(),
            StatusCode::kFailedPrecondition);
  auto no_file = service_->OpenFile("mixed", 1, "nope.csv");
  EXPECT_EQ(no_file.status().code(), StatusCode::kNotFound);
  EXPECT_NE(no_file.status().message().find("'nope.csv'"), std::string::npos);
}

TEST_F(DatasetServiceTest, CorruptChunkIsDataLossNotWrongBytes) {
  std::string csv = Csv(2000);
  NewFile file = Snapshot("t.csv", csv);
  Create("c", {file});
  std::string victim = blobs_->PathOf(file.manifest.chunks[1].digest);
  fs::permissions(victim, fs::perms::owner_write, fs::perm_options::add);
  {
    std::fstream f(victim, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(3);
    f.put('#');
  }
  auto reader = service_->OpenFile("c", 1, "t.csv");
  ASSERT_TRUE(reader.ok());
  std::string piece;
  ASSERT_TRUE((*reader)->Read(piece).ok());  // chunk 0 is intact
  Status s = (*reader)->Read(piece);
  EXPECT_EQ(s.code(), StatusCode::kDataLoss);
  EXPECT_NE(s.message().find("'t.csv'"), std::string::npos) << s.message();
  EXPECT_TRUE(piece.empty());
}

TEST_F(DatasetServiceTest, UnknownDatasetAndVersionAreNamed) {
  Create("churn", {Snapshot("c.csv", Csv(10))});
  auto no_dataset = service_->GetVersion("nope", std::nullopt);
  EXPECT_EQ(no_dataset.status().code(), StatusCode::kNotFound);
  EXPECT_NE(no_dataset.status().message().find("'nope'"), std::string::npos);
  auto no_version = service_->GetVersion("churn", 7);
  EXPECT_EQ(no_version.status().code(), StatusCode::kNotFound);
  EXPECT_NE(no_version.status().message().find("v7"), std::string::npos);
  EXPECT_EQ(service_->GetVersion("bad name", 1).status().code(), StatusCode::kInvalidArgument);
}

TEST_F(DatasetServiceTest, DiffComparesFilesAndProfiles) {
  Create("d", {Snapshot("a.csv", Csv(600)), Snapshot("b.txt", "hello\n")});
  Create("d", {Snapshot("a.csv", Csv(600, 40)), Snapshot("c.txt", "new\n")});
  auto diff = service_->Diff("d", 1, 2);
  ASSERT_TRUE(diff.ok()) << diff.status().ToString();
  EXPECT_EQ(diff->from.version, 1);
  EXPECT_EQ(diff->to.version, 2);
  ASSERT_EQ(diff->files.size(), 3u);
  EXPECT_EQ(diff->files[0].path, "a.csv");
  EXPECT_EQ(diff->files[0].change, FileChange::kChanged);
  ASSERT_TRUE(diff->files[0].profile.has_value());
  bool x_flagged = false;
  for (const auto& c : diff->files[0].profile->columns) {
    if (c.name == "x") x_flagged = c.flagged();
    if (c.name == "color") {
      EXPECT_FALSE(c.changed());
    }
  }
  EXPECT_TRUE(x_flagged);
  EXPECT_EQ(diff->files[1].from_path, "b.txt");
  EXPECT_EQ(diff->files[1].change, FileChange::kRemoved);
  EXPECT_EQ(diff->files[2].path, "c.txt");
  EXPECT_EQ(diff->files[2].change, FileChange::kAdded);

  // One-file versions are compared whatever the file is called.
  Create("e", {Snapshot("jan.csv", Csv(100))});
  Create("e", {Snapshot("feb.csv", Csv(100, 1))});
  auto renamed = service_->Diff("e", 1, std::nullopt);
  ASSERT_TRUE(renamed.ok());
  ASSERT_EQ(renamed->files.size(), 1u);
  EXPECT_EQ(renamed->files[0].from_path, "jan.csv");
  EXPECT_EQ(renamed->files[0].path, "feb.csv");
  EXPECT_TRUE(renamed->files[0].profile.has_value());
}

}  // namespace
}  // namespace cairn::datasets
