// The dataset client against the real API and service, through a transport that dispatches into
// the router (no socket).
#include "client/dataset_client.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "api/v1/v1_routes.h"
#include "blob/local_blob_store.h"
#include "core/hash.h"
#include "core/ids.h"
#include "store/sqlite/sqlite_metadata_store.h"

namespace cairn::client {
namespace {

namespace fs = std::filesystem;

// Answers requests with the router; `tamper` may rewrite a response body first.
class RouterTransport : public Transport {
 public:
  explicit RouterTransport(const http::Router& router) : router_(router) {}

  Result<http::ClientResponse> Send(std::string_view method, std::string_view target,
                                    std::string_view body, const http::Headers& headers) override {
    ++requests;
    if (fail_prefix && target.substr(0, fail_prefix->size()) == *fail_prefix) {
      return Unavailable("connection reset (test)");
    }
    http::HttpRequest req;
    req.method = std::string(method);
    req.target = std::string(target);
    size_t q = target.find('?');
    req.path = http::PercentDecode(target.substr(0, q));
    req.query = q == std::string_view::npos ? "" : std::string(target.substr(q + 1));
    req.body = std::string(body);
    req.headers = headers;
    http::HttpResponse resp = router_.Dispatch(req);
    http::ClientResponse out;
    out.status = resp.status;
    out.headers = resp.headers;
    if (resp.body_producer) {
      std::string chunk;
      while (resp.body_producer(chunk)) out.body += chunk;
    } else {
      out.body = resp.body;
    }
    if (tamper) tamper(req.path, out.body);
    return out;
  }
  Result<http::ClientResponse> SendFile(std::string_view, std::string_view,
                                        const std::string&) override {
    return Internal("not used");
  }
  Result<http::ClientResponse> Download(std::string_view target, const std::string& path) override {
    CAIRN_TRY(http::ClientResponse r, Send("GET", target, {}, {}));
    if (r.status / 100 == 2) {
      std::ofstream(path, std::ios::binary) << r.body;
      r.body.clear();
    }
    return r;
  }

  int requests = 0;
  std::optional<std::string> fail_prefix;
  std::function<void(const std::string& path, std::string& body)> tamper;

 private:
  const http::Router& router_;
};

std::string Csv(int n, int first = 0) {
  std::string csv = "id,amount,segment\n";
  for (int i = first; i < first + n; ++i) {
    csv += std::to_string(i) + "," + std::to_string((i * 37) % 1000) + ".5," +
           (i % 4 == 0 ? "retail" : "business") + "\n";
  }
  return csv;
}

void WriteFile(const fs::path& path, const std::string& bytes) {
  fs::create_directories(path.parent_path());
  std::ofstream(path, std::ios::binary | std::ios::trunc) << bytes;
}

std::string ReadLocal(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

class DatasetClientTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("cairn-dsclient-" + NewUuidHex());
    fs::create_directories(dir_ / "work");
    store_ = std::move(store::SqliteMetadataStore::Open((dir_ / "meta.db").string(), clock_))
                 .value();
    blobs_ = std::move(blob::LocalBlobStore::Create((dir_ / "blobs").string())).value();
    service_ = std::make_unique<datasets::DatasetService>(*store_, *blobs_, clock_);
    api::v1::RegisterDatasetRoutes(router_, *service_);
    auto transport = std::make_unique<RouterTransport>(router_);
    transport_ = transport.get();
    client_ = std::make_unique<DatasetClient>(std::move(transport));
  }
  void TearDown() override { fs::remove_all(dir_); }

  SnapshotResult Snap(const std::string& name, const fs::path& path,
                      SnapshotOptions options = {}) {
    auto r = client_->Snapshot(name, path.string(), options);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? std::move(r).value() : SnapshotResult{};
  }

  int64_t VersionCount(const std::string& name) {
    auto v = client_->Versions(name);
    return v.ok() ? int64_t(v->size()) : 0;
  }

  fs::path work() const { return dir_ / "work"; }

  fs::path dir_;
  FakeClock clock_;
  std::unique_ptr<store::SqliteMetadataStore> store_;
  std::unique_ptr<blob::LocalBlobStore> blobs_;
  std::unique_ptr<datasets::DatasetService> service_;
  http::Router router_;
  RouterTransport* transport_ = nullptr;
  std::unique_ptr<DatasetClient> client_;
};

TEST(DatasetRefTest, ParsesNamesAndVersions) {
  EXPECT_EQ(ParseDatasetRef("churn")->version, std::nullopt);
  EXPECT_EQ(ParseDatasetRef("churn@latest")->version, std::nullopt);
  EXPECT_EQ(ParseDatasetRef("churn@v3")->version, 3);
  EXPECT_EQ(ParseDatasetRef("churn@12")->version, 12);
  EXPECT_EQ(ParseDatasetRef("churn@12")->name, "churn");
  for (std::string bad : {"", "@v1", "churn@", "churn@v0", "churn@x", "churn@v1.5", "churn@-1",
                          "churn@01"}) {
    auto r = ParseDatasetRef(bad);
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument) << bad;
  }
  EXPECT_EQ(FormatDatasetRef({"a", 2}), "a@v2");
  EXPECT_EQ(FormatDatasetRef({"a", std::nullopt}), "a@latest");
}

TEST_F(DatasetClientTest, SnapshotDeduplicatesAndUploadsOnlyWhatChanged) {
  const int kRows = 20000;
  WriteFile(work() / "sales.csv", Csv(kRows));
  SnapshotOptions options;
  options.description = "first";
  options.batch_bytes = 64 * 1024;  // many batches: exercises the queue
  SnapshotResult v1 = Snap("sales", work() / "sales.csv", options);
  EXPECT_TRUE(v1.created);
  EXPECT_EQ(v1.version.version, 1);
  EXPECT_EQ(v1.version.row_count, kRows);
  EXPECT_EQ(v1.version.description, "first");
  EXPECT_EQ(v1.total_bytes, int64_t(Csv(kRows).size()));
  EXPECT_EQ(v1.stored_chunk_bytes, v1.total_bytes);  // every byte new, each stored once
  EXPECT_EQ(v1.uploaded_bytes, v1.total_bytes);

  SnapshotResult same = Snap("sales", work() / "sales.csv");
  EXPECT_FALSE(same.created);
  EXPECT_EQ(same.version.version, 1);
  EXPECT_EQ(same.uploaded_bytes, 0);
  EXPECT_EQ(same.stored_chunk_bytes, 0);
  EXPECT_EQ(same.stored_metadata_bytes, 0);

  // 1 % more rows: a small share of new bytes.
  WriteFile(work() / "sales.csv", Csv(kRows + kRows / 100));
  SnapshotResult v2 = Snap("sales", work() / "sales.csv");
  EXPECT_TRUE(v2.created);
  EXPECT_EQ(v2.version.version, 2);
  EXPECT_EQ(v2.version.row_count, kRows + kRows / 100);
  EXPECT_LT(double(v2.stored_chunk_bytes), 0.05 * double(v2.total_bytes));
  EXPECT_GT(v2.stored_chunk_bytes, 0);
}

TEST_F(DatasetClientTest, FolderRestoresByteIdentical) {
  WriteFile(work() / "in" / "train.csv", Csv(3000));
  WriteFile(work() / "in" / "nested" / "notes.txt", "some notes\n");
  SnapshotResult v1 = Snap("bundle", work() / "in");
  EXPECT_EQ(v1.files, 2);
  EXPECT_EQ(v1.version.row_count, 3000);

  auto info = client_->Get({"bundle", 1});
  ASSERT_TRUE(info.ok());
  ASSERT_EQ(info->files.size(), 2u);
  EXPECT_EQ(info->files[0].path, "nested/notes.txt");
  EXPECT_EQ(info->files[1].path, "train.csv");
  EXPECT_EQ(info->files[1].rows, 3000);
  ASSERT_EQ(info->profiles.size(), 1u);
  EXPECT_EQ(info->profiles[0].profile.columns.size(), 3u);

  auto restored = client_->Restore({"bundle", std::nullopt}, (work() / "out").string());
  ASSERT_TRUE(restored.ok()) << restored.status().ToString();
  EXPECT_EQ(restored->written.size(), 2u);
  EXPECT_EQ(ReadLocal(work() / "out" / "train.csv"), Csv(3000));
  EXPECT_EQ(ReadLocal(work() / "out" / "nested" / "notes.txt"), "some notes\n");

  // A second restore finds everything in place.
  auto again = client_->Restore({"bundle", 1}, (work() / "out").string());
  ASSERT_TRUE(again.ok());
  EXPECT_TRUE(again->written.empty());
  EXPECT_EQ(again->unchanged.size(), 2u);

  auto bytes = client_->ReadFile({"bundle", 1}, "nested/notes.txt");
  ASSERT_TRUE(bytes.ok());
  EXPECT_EQ(*bytes, "some notes\n");
}

TEST_F(DatasetClientTest, TamperedDownloadIsRefusedAndLeavesNothing) {
  WriteFile(work() / "a.csv", Csv(2000));
  Snap("t", work() / "a.csv");
  transport_->tamper = [](const std::string& path, std::string& body) {
    if (path.find("/files/") != std::string::npos && body.size() > 100) body[100] ^= 1;
  };
  auto restored = client_->Restore({"t", 1}, (work() / "out").string());
  ASSERT_FALSE(restored.ok());
  EXPECT_EQ(restored.status().code(), StatusCode::kDataLoss);
  EXPECT_NE(restored.status().message().find("'a.csv'"), std::string::npos);
  EXPECT_TRUE(fs::is_empty(work() / "out"));  // no target, no temporary file
  EXPECT_EQ(client_->ReadFile({"t", 1}, "a.csv").status().code(), StatusCode::kDataLoss);
}

TEST_F(DatasetClientTest, BadInputNamesTheCulpritAndMakesNoVersion) {
  auto missing = client_->Snapshot("d", (work() / "nope.csv").string());
  EXPECT_EQ(missing.status().code(), StatusCode::kNotFound);
  EXPECT_NE(missing.status().message().find("nope.csv"), std::string::npos);

  WriteFile(work() / "empty.csv", "");
  auto empty = client_->Snapshot("d", (work() / "empty.csv").string());
  EXPECT_EQ(empty.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(empty.status().message(), "empty file: " + (work() / "empty.csv").string());

  WriteFile(work() / "ragged.csv", "a,b,c\n1,2,3\n4,5\n");
  auto ragged = client_->Snapshot("d", (work() / "ragged.csv").string());
  EXPECT_EQ(ragged.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(ragged.status().message().find("ragged.csv"), std::string::npos)
      << ragged.status().message();
  EXPECT_NE(ragged.status().message().find("line 3"), std::string::npos)
      << ragged.status().message();

  fs::create_directories(work() / "hollow");
  EXPECT_EQ(client_->Snapshot("d", (work() / "hollow").string()).status().code(),
            StatusCode::kInvalidArgument);

  WriteFile(work() / "ok.csv", Csv(10));
  auto bad_name = client_->Snapshot("bad/name", (work() / "ok.csv").string());
  EXPECT_EQ(bad_name.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(bad_name.status().message().find("'bad/name'"), std::string::npos);
  auto bad_name2 = client_->Snapshot("-x", (work() / "ok.csv").string());
  EXPECT_EQ(bad_name2.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(bad_name2.status().message().find("'-x'"), std::string::npos);

  EXPECT_TRUE(client_->List()->empty());
  auto unknown = client_->Resolve({"d", std::nullopt});
  EXPECT_EQ(unknown.status().code(), StatusCode::kNotFound);
}

TEST_F(DatasetClientTest, SymlinksAreFollowedAndCyclesRefused) {
  WriteFile(work() / "real" / "data.csv", Csv(100));
  fs::create_directories(work() / "linked");
  fs::create_symlink(work() / "real" / "data.csv", work() / "linked" / "alias.csv");
  SnapshotResult v = Snap("links", work() / "linked");
  auto info = client_->Get({"links", v.version.version}, false);
  ASSERT_TRUE(info.ok());
  ASSERT_EQ(info->files.size(), 1u);
  EXPECT_EQ(info->files[0].path, "alias.csv");
  EXPECT_EQ(info->files[0].sha256, Sha256Hex(Csv(100)));

  fs::create_directory_symlink(work() / "linked", work() / "linked" / "loop");
  auto cycle = client_->Snapshot("links", (work() / "linked").string());
  EXPECT_EQ(cycle.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(cycle.status().message().find("cycle"), std::string::npos);
  EXPECT_EQ(VersionCount("links"), 1);
}

TEST_F(DatasetClientTest, UploadFailureStopsThePassAndMakesNoVersion) {
  WriteFile(work() / "a.csv", Csv(5000));
  transport_->fail_prefix = "/api/v1/blobs";
  SnapshotOptions options;
  options.batch_bytes = 16 * 1024;
  auto r = client_->Snapshot("f", (work() / "a.csv").string(), options);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kUnavailable);
  transport_->fail_prefix.reset();
  EXPECT_EQ(client_->Resolve({"f", std::nullopt}).status().code(), StatusCode::kNotFound);
}

TEST_F(DatasetClientTest, DiffReportsProfileChanges) {
  WriteFile(work() / "jan.csv", Csv(2000));
  Snap("m", work() / "jan.csv");
  std::string shifted = "id,amount,segment\n";
  for (int i = 0; i < 2000; ++i) {
    shifted += std::to_string(i) + "," + std::to_string((i * 37) % 1000 + 700) + ".5,retail\n";
  }
  WriteFile(work() / "feb.csv", shifted);
  Snap("m", work() / "feb.csv");
  auto diff = client_->Diff("m", 1, 2);
  ASSERT_TRUE(diff.ok()) << diff.status().ToString();
  ASSERT_EQ(diff->files.size(), 1u);
  EXPECT_EQ(diff->files[0].change, "changed");
  EXPECT_EQ(diff->files[0].from_path, "jan.csv");
  ASSERT_TRUE(diff->files[0].profile.has_value());
  int flagged = 0;
  for (const auto& c : diff->files[0].profile->columns) flagged += c.flagged();
  EXPECT_EQ(flagged, 2);  // amount and segment
}

}  // namespace
}  // namespace cairn::client
