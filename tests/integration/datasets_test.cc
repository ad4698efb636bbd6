// End-to-end: `cairn data …` against the real `cairn server` binary on a real port.
#include <gtest/gtest.h>
#include <signal.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "core/hash.h"
#include "server_process.h"

namespace cairn::testing {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

const std::string kTelco = std::string(CAIRN_SOURCE_DIR) + "/../shared/data/telco_churn.csv";

std::string ReadFile(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

void WriteFile(const fs::path& path, const std::string& bytes) {
  fs::create_directories(path.parent_path());
  std::ofstream(path, std::ios::binary | std::ios::trunc) << bytes;
}

std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

std::string Join(const std::vector<std::string>& lines) {
  std::string out;
  for (const auto& l : lines) out += l + "\n";
  return out;
}

// The fields of a CSV line without quoted commas (the telco file has none).
std::vector<std::string> Fields(const std::string& line) {
  std::vector<std::string> fields(1);
  for (char c : line) {
    if (c == ',') {
      fields.emplace_back();
    } else {
      fields.back() += c;
    }
  }
  return fields;
}

std::string WithField(const std::string& line, size_t column, const std::string& value) {
  std::vector<std::string> fields = Fields(line);
  fields.at(column) = value;
  std::string out;
  for (size_t i = 0; i < fields.size(); ++i) out += (i ? "," : "") + fields[i];
  return out;
}

// Bytes of all blobs on the server's disk.
int64_t BlobBytes(const std::string& data_dir) {
  int64_t total = 0;
  for (const auto& e : fs::recursive_directory_iterator(data_dir + "/blobs/sha256")) {
    if (e.is_regular_file()) total += int64_t(e.file_size());
  }
  return total;
}

bool OneErrorLine(const std::string& err) {
  return err.rfind("error: ", 0) == 0 && err.find('\n') == err.size() - 1;
}

class DatasetsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!fs::exists(kTelco)) GTEST_SKIP() << "shared data missing: " << kTelco;
    root_ = MakeTempDir("cairn-ds-it");
    data_ = root_ + "/data";
    server_ = ServerProcess::Start(data_);
    ASSERT_NE(server_, nullptr) << "cairn server did not start";
  }
  void TearDown() override {
    server_.reset();
    if (!root_.empty()) fs::remove_all(root_);
  }

  CommandResult Cairn(std::vector<std::string> args) { return RunCairn(args, server_->url()); }

  // `cairn data snapshot … --output json`, which must succeed.
  json Snapshot(const std::string& name, const fs::path& path) {
    CommandResult r = Cairn({"data", "snapshot", name, path.string(), "--output", "json"});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(r.err, "");  // no progress bar when stderr is not a terminal
    return json::parse(r.out, nullptr, false);
  }

  int64_t LatestVersion(const std::string& name) {
    CommandResult r = Cairn({"data", "versions", name, "--output", "json"});
    if (r.exit_code != 0) return 0;
    json j = json::parse(r.out, nullptr, false);
    return j.empty() ? 0 : j[0]["version"].get<int64_t>();
  }

  std::string root_, data_;
  std::unique_ptr<ServerProcess> server_;
};

TEST_F(DatasetsTest, SnapshotDeduplicatesAppendsAndEditsAndRestoresByteIdentical) {
  const std::string original = ReadFile(kTelco);
  const fs::path csv = root_ + "/work/telco.csv";
  WriteFile(csv, original);

  json v1 = Snapshot("churn", csv);
  EXPECT_EQ(v1["created"], true);
  EXPECT_EQ(v1["version"]["version"], 1);
  EXPECT_EQ(v1["version"]["row_count"], 7043);
  EXPECT_EQ(v1["version"]["size_bytes"], int64_t(original.size()));
  EXPECT_EQ(v1["stored_chunk_bytes"], int64_t(original.size()));
  EXPECT_EQ(BlobBytes(data_), v1["stored_chunk_bytes"].get<int64_t>() +
                                  v1["stored_metadata_bytes"].get<int64_t>());

  // Identical content: still v1, not one new byte on the server's disk.
  const int64_t before_same = BlobBytes(data_);
  json same = Snapshot("churn", csv);
  EXPECT_EQ(same["created"], false);
  EXPECT_EQ(same["version"]["version"], 1);
  EXPECT_EQ(same["uploaded_bytes"], 0);
  EXPECT_EQ(same["stored_chunk_bytes"], 0);
  EXPECT_EQ(same["stored_metadata_bytes"], 0);
  EXPECT_EQ(BlobBytes(data_), before_same);
  CommandResult table = Cairn({"data", "snapshot", "churn", csv.string()});
  EXPECT_EQ(table.exit_code, 0) << table.err;
  EXPECT_NE(table.out.find("unchanged, still v1"), std::string::npos) << table.out;

  // 1 % of the rows appended (70 copies of existing rows): v2, under 5 % new data bytes.
  std::vector<std::string> lines = Lines(original);
  std::vector<std::string> appended = lines;
  for (size_t i = 1; i <= 70; ++i) appended.push_back(lines[i]);
  WriteFile(csv, Join(appended));
  const int64_t before_append = BlobBytes(data_);
  json v2 = Snapshot("churn", csv);
  EXPECT_EQ(v2["created"], true);
  EXPECT_EQ(v2["version"]["version"], 2);
  EXPECT_EQ(v2["version"]["row_count"], 7043 + 70);
  const int64_t append_bytes = v2["stored_chunk_bytes"].get<int64_t>();
  EXPECT_GT(append_bytes, 0);
  EXPECT_LT(double(append_bytes), 0.05 * double(v2["total_bytes"].get<int64_t>()));
  // The server's report is what landed on its disk.
  EXPECT_EQ(BlobBytes(data_) - before_append,
            append_bytes + v2["stored_metadata_bytes"].get<int64_t>());

  // One contiguous block of 1 % of the rows edited: v3, under 5 % new data bytes.
  std::vector<std::string> edited = appended;
  for (size_t i = 3000; i < 3070; ++i) edited[i] = WithField(edited[i], 18, "999.99");
  WriteFile(csv, Join(edited));
  json v3 = Snapshot("churn", csv);
  EXPECT_EQ(v3["version"]["version"], 3);
  const int64_t edit_bytes = v3["stored_chunk_bytes"].get<int64_t>();
  EXPECT_GT(edit_bytes, 0);
  EXPECT_LT(double(edit_bytes), 0.05 * double(v3["total_bytes"].get<int64_t>()));

  // Every version restores byte for byte.
  struct Expect {
    std::string ref;
    std::string bytes;
  };
  for (const Expect& e : {Expect{"churn@v1", original}, Expect{"churn@2", Join(appended)},
                          Expect{"churn", Join(edited)}}) {
    const fs::path out = root_ + "/restore/" + e.ref;
    CommandResult got = Cairn({"data", "get", e.ref, "--to", out.string()});
    ASSERT_EQ(got.exit_code, 0) << e.ref << ": " << got.err;
    EXPECT_NE(got.out.find("SHA-256 verified"), std::string::npos) << got.out;
    EXPECT_EQ(Sha256Hex(ReadFile(out / "telco.csv")), Sha256Hex(e.bytes)) << e.ref;
    std::vector<std::string> left;
    for (const auto& f : fs::directory_iterator(out)) left.push_back(f.path().filename());
    EXPECT_EQ(left, std::vector<std::string>{"telco.csv"}) << "no temporary files left";
  }

  CommandResult list = Cairn({"data", "list"});
  ASSERT_EQ(list.exit_code, 0) << list.err;
  EXPECT_NE(list.out.find("churn"), std::string::npos);
  EXPECT_NE(list.out.find("v3"), std::string::npos);

  CommandResult show = Cairn({"data", "show", "churn@v1"});
  ASSERT_EQ(show.exit_code, 0) << show.err;
  for (std::string want : {"churn v1", "7043 rows, 20 columns", "COLUMN", "P50", "TOP VALUES",
                           "monthly_charges", "float", "contract", "Month-to-month"}) {
    EXPECT_NE(show.out.find(want), std::string::npos) << want << "\n" << show.out;
  }
  CommandResult show_json = Cairn({"data", "show", "churn", "--output", "json"});
  ASSERT_EQ(show_json.exit_code, 0) << show_json.err;
  json shown = json::parse(show_json.out, nullptr, false);
  EXPECT_EQ(shown["version"]["version"], 3);
  EXPECT_EQ(shown["profiles"][0]["profile"]["rows"], 7043 + 70);
}

TEST_F(DatasetsTest, DiffShowsTheChangedColumn) {
  const std::string original = ReadFile(kTelco);
  const fs::path csv = root_ + "/work/telco.csv";
  WriteFile(csv, original);
  Snapshot("churn", csv);
  // Every monthly charge up by 50: a large shift in one column, none elsewhere.
  std::vector<std::string> lines = Lines(original);
  for (size_t i = 1; i < lines.size(); ++i) {
    const double charge = std::stod(Fields(lines[i]).at(18));
    lines[i] = WithField(lines[i], 18, std::to_string(charge + 50));
  }
  WriteFile(csv, Join(lines));
  Snapshot("churn", csv);

  CommandResult diff = Cairn({"data", "diff", "churn@v1", "churn@v2"});
  ASSERT_EQ(diff.exit_code, 0) << diff.err;
  EXPECT_NE(diff.out.find("telco.csv: changed"), std::string::npos) << diff.out;
  EXPECT_NE(diff.out.find("monthly_charges"), std::string::npos) << diff.out;
  EXPECT_NE(diff.out.find("large"), std::string::npos) << diff.out;
  EXPECT_EQ(diff.out.find("tenure"), std::string::npos) << "unchanged columns are not listed";
  EXPECT_NE(diff.out.find("1 of 20 common columns changed, 1 with a large shift"),
            std::string::npos)
      << diff.out;

  CommandResult j = Cairn({"data", "diff", "churn@1", "churn@latest", "--output", "json"});
  ASSERT_EQ(j.exit_code, 0) << j.err;
  json d = json::parse(j.out, nullptr, false);
  std::vector<std::string> flagged;
  for (const auto& c : d["files"][0]["profile_diff"]["columns"]) {
    if (c["flagged"].get<bool>()) flagged.push_back(c["name"]);
  }
  EXPECT_EQ(flagged, std::vector<std::string>{"monthly_charges"});
}

TEST_F(DatasetsTest, FolderWithTwoFiles) {
  const fs::path dir = root_ + "/work/bundle";
  WriteFile(dir / "train.csv", ReadFile(kTelco));
  WriteFile(dir / "docs" / "README.txt", "churn data, 2024 export\n");
  json v1 = Snapshot("bundle", dir);
  EXPECT_EQ(v1["files"], 2);
  EXPECT_EQ(v1["version"]["row_count"], 7043);

  CommandResult show = Cairn({"data", "show", "bundle"});
  ASSERT_EQ(show.exit_code, 0) << show.err;
  EXPECT_NE(show.out.find("docs/README.txt"), std::string::npos) << show.out;
  EXPECT_NE(show.out.find("train.csv"), std::string::npos) << show.out;

  // What the server acknowledged survives kill -9 and a restart.
  server_->Stop(SIGKILL);
  server_ = ServerProcess::Start(data_);
  ASSERT_NE(server_, nullptr) << "cairn server did not restart";

  const fs::path out = root_ + "/restored";
  CommandResult got = Cairn({"data", "get", "bundle@v1", "--to", out.string()});
  ASSERT_EQ(got.exit_code, 0) << got.err;
  EXPECT_EQ(Sha256Hex(ReadFile(out / "train.csv")), Sha256Hex(ReadFile(kTelco)));
  EXPECT_EQ(ReadFile(out / "docs" / "README.txt"), "churn data, 2024 export\n");
}

TEST_F(DatasetsTest, BadInputFailsWithOneLineNamingTheCulpritAndNoVersion) {
  const fs::path good = root_ + "/work/good.csv";
  WriteFile(good, "a,b\n1,2\n3,4\n");
  Snapshot("d", good);

  const fs::path ragged = root_ + "/work/ragged.csv";
  WriteFile(ragged, "a,b\n1,2\n3,4,5\n6,7\n");
  CommandResult r = Cairn({"data", "snapshot", "d", ragged.string()});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_TRUE(OneErrorLine(r.err)) << r.err;
  EXPECT_NE(r.err.find(ragged.string()), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("line 3"), std::string::npos) << r.err;
  EXPECT_EQ(LatestVersion("d"), 1);

  const fs::path empty = root_ + "/work/empty.csv";
  WriteFile(empty, "");
  r = Cairn({"data", "snapshot", "d", empty.string()});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.err, "error: empty file: " + empty.string() + "\n");
  EXPECT_EQ(LatestVersion("d"), 1);

  r = Cairn({"data", "snapshot", "d", (root_ + "/work/missing.csv")});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_TRUE(OneErrorLine(r.err)) << r.err;
  EXPECT_NE(r.err.find("missing.csv"), std::string::npos) << r.err;

  r = Cairn({"data", "snapshot", "bad name", good.string()});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_TRUE(OneErrorLine(r.err)) << r.err;
  EXPECT_NE(r.err.find("'bad name'"), std::string::npos) << r.err;

  r = Cairn({"data", "show", "nope"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_TRUE(OneErrorLine(r.err)) << r.err;
  EXPECT_NE(r.err.find("'nope'"), std::string::npos) << r.err;

  const fs::path out = root_ + "/never";
  r = Cairn({"data", "get", "d@v9", "--to", out.string()});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_TRUE(OneErrorLine(r.err)) << r.err;
  EXPECT_NE(r.err.find("v9"), std::string::npos) << r.err;
  EXPECT_FALSE(fs::exists(out));

  r = Cairn({"data", "show", "d@vx"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_TRUE(OneErrorLine(r.err)) << r.err;
  EXPECT_NE(r.err.find("'d@vx'"), std::string::npos) << r.err;

  r = Cairn({"data", "snapshot", "d"});  // PATH missing: usage
  EXPECT_EQ(r.exit_code, 2);

  // The API answers MLflow's error JSON.
  auto client = server_->NewClient();
  auto api = client->Send("GET", "/api/v1/datasets/d/versions/9");
  ASSERT_TRUE(api.ok());
  EXPECT_EQ(api->status, 404);
  json body = json::parse(api->body, nullptr, false);
  EXPECT_EQ(body["error_code"], "RESOURCE_DOES_NOT_EXIST");
  EXPECT_NE(body["message"].get<std::string>().find("v9"), std::string::npos);
  EXPECT_EQ(LatestVersion("d"), 1);
}

}  // namespace
}  // namespace cairn::testing
