// /api/v1/datasets and /api/v1/blobs through the router, without a socket.
#include <gtest/gtest.h>

#include <filesystem>

#include <nlohmann/json.hpp>

#include "api/v1/dataset_json.h"
#include "api/v1/v1_routes.h"
#include "blob/local_blob_store.h"
#include "core/hash.h"
#include "core/ids.h"
#include "data/chunker.h"
#include "data/snapshot.h"
#include "store/sqlite/sqlite_metadata_store.h"

namespace cairn::api::v1 {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

std::string Csv(int n, int shift = 0) {
  std::string csv = "id,x,color\n";
  for (int i = 0; i < n; ++i) {
    csv += std::to_string(i) + "," + std::to_string(i % 50 + shift) + "," +
           (i % 3 == 0 ? "red" : "blue") + "\n";
  }
  return csv;
}

class V1ApiTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("cairn-v1-" + NewUuidHex());
    fs::create_directories(dir_);
    store_ = std::move(store::SqliteMetadataStore::Open((dir_ / "meta.db").string(), clock_))
                 .value();
    blobs_ = std::move(blob::LocalBlobStore::Create((dir_ / "blobs").string())).value();
    service_ = std::make_unique<datasets::DatasetService>(*store_, *blobs_, clock_);
    RegisterDatasetRoutes(router_, *service_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  http::HttpResponse Call(const std::string& method, const std::string& target,
                          const std::string& body = "") {
    http::HttpRequest req;
    req.method = method;
    req.target = target;
    size_t q = target.find('?');
    req.path = http::PercentDecode(target.substr(0, q));
    req.query = q == std::string::npos ? "" : target.substr(q + 1);
    req.body = body;
    return router_.Dispatch(req);
  }

  json CallJson(const std::string& method, const std::string& target, const std::string& body,
                int expect_status) {
    http::HttpResponse r = Call(method, target, body);
    EXPECT_EQ(r.status, expect_status) << method << " " << target << ": " << r.body;
    return json::parse(r.body, nullptr, false);
  }

  static std::string Drain(http::HttpResponse& response) {
    if (!response.body_producer) return response.body;
    std::string all, chunk;
    while (response.body_producer(chunk)) all += chunk;
    return all;
  }

  // What the client does: chunk, ask which chunks are missing, upload them, commit.
  json Snapshot(const std::string& name, const std::string& path, const std::string& bytes,
                int expect_status = 200) {
    data::ChunkPipelineOptions options;
    options.chunker = data::ChunkerOptionsForSize(bytes.size());
    std::vector<std::pair<std::string, std::string>> chunks;
    auto manifest = data::ChunkAndHash(bytes, options, [&](const data::ChunkRef& c,
                                                           std::string_view b) {
      chunks.emplace_back(c.digest, std::string(b));
      return Status::Ok();
    });
    EXPECT_TRUE(manifest.ok());
    manifest->path = path;
    json digests = json::array();
    for (const auto& c : chunks) digests.push_back(c.first);
    json missing = CallJson("POST", "/api/v1/blobs/missing", json{{"digests", digests}}.dump(),
                            200)["missing"];
    std::string pack = "cairn-pack 1\n";
    for (const auto& c : chunks) {
      if (std::find(missing.begin(), missing.end(), c.first) == missing.end()) continue;
      pack += c.first + " " + std::to_string(c.second.size()) + "\n" + c.second;
    }
    if (!missing.empty()) CallJson("POST", "/api/v1/blobs", pack, 200);
    json file = {{"manifest", data::SerializeManifest(*manifest)}};
    if (data::IsCsvPath(path)) file["profile"] = data::ToJson(data::ProfileCsv(bytes).value());
    json body = {{"description", "from " + path}, {"files", json::array({file})}};
    return CallJson("POST", "/api/v1/datasets/" + name + "/versions", body.dump(), expect_status);
  }

  fs::path dir_;
  FakeClock clock_;
  std::unique_ptr<store::SqliteMetadataStore> store_;
  std::unique_ptr<blob::LocalBlobStore> blobs_;
  std::unique_ptr<datasets::DatasetService> service_;
  http::Router router_;
};

TEST_F(V1ApiTest, SnapshotListShowAndDownload) {
  std::string csv = Csv(800);
  json v1 = Snapshot("churn", "churn.csv", csv);
  EXPECT_EQ(v1["created"], true);
  EXPECT_EQ(v1["version"]["version"], 1);
  EXPECT_EQ(v1["version"]["row_count"], 800);
  EXPECT_EQ(v1["version"]["description"], "from churn.csv");
  EXPECT_EQ(v1["version"]["version_id"].get<std::string>().size(), 64u);

  json again = Snapshot("churn", "churn.csv", csv);
  EXPECT_EQ(again["created"], false);
  EXPECT_EQ(again["version"], v1["version"]);
  EXPECT_EQ(again["stored_bytes"], 0);

  json list = CallJson("GET", "/api/v1/datasets", "", 200);
  ASSERT_EQ(list["datasets"].size(), 1u);
  EXPECT_EQ(list["datasets"][0]["name"], "churn");
  EXPECT_EQ(list["datasets"][0]["latest_version"], 1);

  json versions = CallJson("GET", "/api/v1/datasets/churn", "", 200);
  ASSERT_EQ(versions["versions"].size(), 1u);

  for (std::string v : {"1", "v1", "latest"}) {
    json details = CallJson("GET", "/api/v1/datasets/churn/versions/" + v, "", 200);
    EXPECT_EQ(details["version"]["version"], 1) << v;
    ASSERT_EQ(details["files"].size(), 1u);
    EXPECT_EQ(details["files"][0]["path"], "churn.csv");
    EXPECT_EQ(details["files"][0]["sha256"], Sha256Hex(csv));
    EXPECT_EQ(details["files"][0]["rows"], 800);
    ASSERT_EQ(details["profiles"].size(), 1u);
    EXPECT_EQ(details["profiles"][0]["profile"]["rows"], 800);
  }
  json lean = CallJson("GET", "/api/v1/datasets/churn/versions/1?include_profile=false", "", 200);
  EXPECT_FALSE(lean.contains("profiles"));

  http::HttpResponse file = Call("GET", "/api/v1/datasets/churn/versions/1/files/churn.csv");
  EXPECT_EQ(file.status, 200);
  EXPECT_EQ(file.Header("x-cairn-sha256"), Sha256Hex(csv));
  EXPECT_EQ(file.Header("x-cairn-size"), std::to_string(csv.size()));
  EXPECT_EQ(Drain(file), csv);

  http::HttpResponse manifest =
      Call("GET", "/api/v1/datasets/churn/versions/latest/manifests/churn.csv");
  EXPECT_EQ(manifest.status, 200);
  auto parsed = data::ParseManifest(manifest.body);
  ASSERT_TRUE(parsed.ok());
  EXPECT_EQ(parsed->file_digest, Sha256Hex(csv));

  json profile = CallJson("GET", "/api/v1/datasets/churn/versions/1/profile?path=churn.csv", "",
                          200);
  ASSERT_EQ(profile["files"].size(), 1u);
  EXPECT_EQ(profile["files"][0]["profile"]["columns"][1]["name"], "x");
}

TEST_F(V1ApiTest, DiffNamesTheChangedColumn) {
  Snapshot("d", "d.csv", Csv(500));
  Snapshot("d", "d.csv", Csv(500, 30));
  json diff = CallJson("GET", "/api/v1/datasets/d/diff?from=1&to=v2", "", 200);
  EXPECT_EQ(diff["from"]["version"], 1);
  EXPECT_EQ(diff["to"]["version"], 2);
  ASSERT_EQ(diff["files"].size(), 1u);
  EXPECT_EQ(diff["files"][0]["change"], "changed");
  bool x_flagged = false;
  for (const auto& c : diff["files"][0]["profile_diff"]["columns"]) {
    if (c["name"] == "x") x_flagged = c["flagged"].get<bool>();
  }
  EXPECT_TRUE(x_flagged);
  json missing = CallJson("GET", "/api/v1/datasets/d/diff?to=2", "", 400);
  EXPECT_NE(missing["message"].get<std::string>().find("from"), std::string::npos);
}

TEST_F(V1ApiTest, UnknownThingsAre404NamingThem) {
  Snapshot("churn", "churn.csv", Csv(10));
  json no_dataset = CallJson("GET", "/api/v1/datasets/nope", "", 404);
  EXPECT_EQ(no_dataset["error_code"], "RESOURCE_DOES_NOT_EXIST");
  EXPECT_NE(no_dataset["message"].get<std::string>().find("'nope'"), std::string::npos);
  json no_version = CallJson("GET", "/api/v1/datasets/churn/versions/9", "", 404);
  EXPECT_EQ(no_version["error_code"], "RESOURCE_DOES_NOT_EXIST");
  EXPECT_NE(no_version["message"].get<std::string>().find("v9"), std::string::npos);
  json no_file = CallJson("GET", "/api/v1/datasets/churn/versions/1/files/other.csv", "", 404);
  EXPECT_NE(no_file["message"].get<std::string>().find("'other.csv'"), std::string::npos);
  json bad_version = CallJson("GET", "/api/v1/datasets/churn/versions/x1", "", 400);
  EXPECT_EQ(bad_version["error_code"], "INVALID_PARAMETER_VALUE");
  EXPECT_NE(bad_version["message"].get<std::string>().find("version 'x1'"), std::string::npos);
  json zero = CallJson("GET", "/api/v1/datasets/churn/versions/0", "", 400);
  EXPECT_EQ(zero["error_code"], "INVALID_PARAMETER_VALUE");
}

TEST_F(V1ApiTest, BadBodiesAre400NamingTheField) {
  json not_json = CallJson("POST", "/api/v1/datasets/x/versions", "{nope", 400);
  EXPECT_EQ(not_json["error_code"], "INVALID_PARAMETER_VALUE");
  json no_files = CallJson("POST", "/api/v1/datasets/x/versions", R"({"description": "d"})", 400);
  EXPECT_NE(no_files["message"].get<std::string>().find("files"), std::string::npos);
  json bad_manifest =
      CallJson("POST", "/api/v1/datasets/x/versions", R"({"files": [{"manifest": "junk"}]})", 400);
  EXPECT_NE(bad_manifest["message"].get<std::string>().find("files[0].manifest"),
            std::string::npos);
  json bad_name = CallJson("POST", "/api/v1/datasets/-x/versions",
                           R"({"files": []})", 400);
  EXPECT_NE(bad_name["message"].get<std::string>().find("'-x'"), std::string::npos);
  json bad_digest = CallJson("POST", "/api/v1/blobs/missing", R"({"digests": [1]})", 400);
  EXPECT_NE(bad_digest["message"].get<std::string>().find("digests[0]"), std::string::npos);

  // A chunk whose bytes do not hash to its digest: rejected, nothing stored.
  std::string bytes = "hello";
  std::string lie = Sha256Hex("other");
  json mismatch = CallJson("POST", "/api/v1/blobs", "cairn-pack 1\n" + lie + " 5\nhello", 400);
  EXPECT_NE(mismatch["message"].get<std::string>().find("chunk 0"), std::string::npos);
  EXPECT_FALSE(blobs_->Contains(lie));
  EXPECT_FALSE(blobs_->Contains(Sha256Hex(bytes)));
  json short_pack =
      CallJson("POST", "/api/v1/blobs", "cairn-pack 1\n" + Sha256Hex(bytes) + " 9\nhello", 400);
  EXPECT_NE(short_pack["message"].get<std::string>().find("entry 0"), std::string::npos);
  json stored =
      CallJson("POST", "/api/v1/blobs", "cairn-pack 1\n" + Sha256Hex(bytes) + " 5\nhello", 200);
  EXPECT_EQ(stored["stored"], 1);
  EXPECT_EQ(stored["stored_bytes"], 5);
  EXPECT_TRUE(blobs_->Contains(Sha256Hex(bytes)));

  // A manifest whose chunks were never uploaded: no version.
  std::string csv = Csv(50);
  data::ChunkPipelineOptions options;
  options.chunker = data::ChunkerOptionsForSize(csv.size());
  auto manifest = data::ChunkAndHash(csv, options, [](const data::ChunkRef&, std::string_view) {
    return Status::Ok();
  });
  manifest->path = "never.csv";
  json body = {{"files", json::array({{{"manifest", data::SerializeManifest(*manifest)}}})}};
  json missing_chunk = CallJson("POST", "/api/v1/datasets/x/versions", body.dump(), 400);
  EXPECT_EQ(missing_chunk["error_code"], "INVALID_STATE");
  EXPECT_NE(missing_chunk["message"].get<std::string>().find("'never.csv'"), std::string::npos);
  CallJson("GET", "/api/v1/datasets/x", "", 404);
}

// Seeded mutations of valid bodies (a deterministic stand-in for the fuzzers): never a crash,
// never a 5xx, never a version from a broken commit.
TEST_F(V1ApiTest, MutatedBodiesAreAnsweredWith4xx) {
  std::string csv = Csv(40);
  data::ChunkPipelineOptions options;
  options.chunker = data::ChunkerOptionsForSize(csv.size());
  std::string pack = "cairn-pack 1\n";
  auto manifest = data::ChunkAndHash(csv, options, [&](const data::ChunkRef& c,
                                                       std::string_view b) {
    pack += c.digest + " " + std::to_string(b.size()) + "\n" + std::string(b);
    return Status::Ok();
  });
  manifest->path = "m.csv";
  json commit = {{"files", json::array({{{"manifest", data::SerializeManifest(*manifest)},
                                          {"profile", data::ToJson(data::ProfileCsv(csv).value())}}})}};
  const std::string commit_body = commit.dump();
  uint64_t state = 42;
  auto next = [&] {
    state = state * 6364136223846793005ull + 1442695040888963407ull;
    return state >> 33;
  };
  auto mutate = [&](std::string body) {
    int edits = 1 + int(next() % 4);
    for (int e = 0; e < edits && !body.empty(); ++e) {
      size_t at = next() % body.size();
      switch (next() % 3) {
        case 0: body[at] = char(next() & 0xff); break;
        case 1: body.erase(at, 1 + next() % 8); break;
        default: body.insert(at, 1, char(next() & 0xff)); break;
      }
    }
    return body;
  };
  int created = 0;
  for (int i = 0; i < 300; ++i) {
    http::HttpResponse p = Call("POST", "/api/v1/blobs", mutate(pack));
    EXPECT_LT(p.status, 500) << p.body;
    http::HttpResponse c = Call("POST", "/api/v1/datasets/m/versions", mutate(commit_body));
    EXPECT_LT(c.status, 500) << c.body;
    created += c.status == 200;
  }
  // Whatever was accepted is a consistent version whose files read back whole.
  json versions = CallJson("GET", "/api/v1/datasets/m", "", created > 0 ? 200 : 404);
  if (created > 0) {
    for (const auto& v : versions["versions"]) {
      json details = CallJson("GET", "/api/v1/datasets/m/versions/" +
                                         std::to_string(v["version"].get<int>()), "", 200);
      for (const auto& f : details["files"]) {
        http::HttpResponse file =
            Call("GET", "/api/v1/datasets/m/versions/" + std::to_string(v["version"].get<int>()) +
                            "/files/" + http::PercentEncode(f["path"].get<std::string>(), true));
        EXPECT_EQ(Sha256Hex(Drain(file)), f["sha256"]);
      }
    }
  }
}

TEST(DatasetJsonTest, ParsesVersionsStrictly) {
  EXPECT_EQ(*ParseVersion("latest", "version"), std::nullopt);
  EXPECT_EQ(*ParseVersion("7", "version"), 7);
  EXPECT_EQ(*ParseVersion("v12", "version"), 12);
  for (std::string bad : {"", "0", "v", "-1", "07", "1.5", "v1x", "99999999999999999999"}) {
    EXPECT_EQ(ParseVersion(bad, "version").status().code(), StatusCode::kInvalidArgument) << bad;
  }
}

TEST(DatasetJsonTest, PackFramingIsExact) {
  std::string d = Sha256Hex("ab");
  const std::string pack = "cairn-pack 1\n" + d + " 2\nab" + d + " 1\nx";  // the blobs view it
  auto two = ParseBlobPack(pack);
  ASSERT_TRUE(two.ok());
  ASSERT_EQ(two->size(), 2u);
  EXPECT_EQ((*two)[0].bytes, "ab");
  EXPECT_EQ((*two)[1].bytes, "x");
  EXPECT_TRUE(ParseBlobPack("cairn-pack 1\n")->empty());
  for (std::string bad : {std::string("cairn-pack 2\n"), "cairn-pack 1\n" + d + " 0\n",
                          "cairn-pack 1\n" + d + "  2\nab", "cairn-pack 1\n" + d + " 2",
                          std::string("cairn-pack 1\nabc 2\nab")}) {
    EXPECT_EQ(ParseBlobPack(bad).status().code(), StatusCode::kInvalidArgument) << bad;
  }
}

}  // namespace
}  // namespace cairn::api::v1
