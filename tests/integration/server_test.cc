// End-to-end: the real `cairn server` binary on a real port, driven over HTTP.
#include <gtest/gtest.h>
#include <signal.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <thread>

#include <nlohmann/json.hpp>

#include "core/hash.h"
#include "golden_runner.h"
#include "server_process.h"

namespace cairn::testing {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

class ServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = MakeTempDir("cairn-it");
    data_ = root_ + "/data";
    server_ = ServerProcess::Start(data_);
    ASSERT_NE(server_, nullptr) << "cairn server did not start";
    client_ = server_->NewClient();
  }
  void TearDown() override {
    server_.reset();
    fs::remove_all(root_);
  }

  json Post(const std::string& path, const json& body, int expect_status = 200) {
    auto response = client_->Send("POST", path, body.dump(), {{"content-type", "application/json"}});
    EXPECT_TRUE(response.ok()) << response.status().ToString();
    if (!response.ok()) return json();
    EXPECT_EQ(response->status, expect_status) << path << " " << response->body;
    return json::parse(response->body, nullptr, false);
  }

  json Get(const std::string& target, int expect_status = 200) {
    auto response = client_->Send("GET", target);
    EXPECT_TRUE(response.ok()) << response.status().ToString();
    if (!response.ok()) return json();
    EXPECT_EQ(response->status, expect_status) << target << " " << response->body;
    return json::parse(response->body, nullptr, false);
  }

  std::string root_, data_;
  std::unique_ptr<ServerProcess> server_;
  std::unique_ptr<http::HttpClient> client_;
};

TEST_F(ServerTest, GoldenTrackingConversationOverHttp) {
  std::string golden = std::string(CAIRN_SOURCE_DIR) + "/tests/golden/mlflow_tracking.json";
  auto errors = RunGoldenFile(golden, [&](const std::string& method, const std::string& target,
                                          const std::string& body) {
    auto response = client_->Send(method, target, body, {{"content-type", "application/json"}});
    if (!response.ok()) return GoldenReply{0, response.status().ToString()};
    return GoldenReply{response->status, response->body};
  });
  for (const auto& e : errors) ADD_FAILURE() << e;
}

TEST_F(ServerTest, HealthMetricsAndRequestIds) {
  auto health = client_->Send("GET", "/health");
  ASSERT_TRUE(health.ok());
  EXPECT_EQ(health->status, 200);
  EXPECT_EQ(health->Header("x-request-id").size(), 32u);

  auto mine = client_->Send("GET", "/api/2.0/mlflow/runs/get?run_id=abc", "",
                            {{"x-request-id", "my-trace-42"}});
  ASSERT_TRUE(mine.ok());
  EXPECT_EQ(mine->status, 404);
  EXPECT_EQ(mine->Header("x-request-id"), "my-trace-42");

  auto metrics = client_->Send("GET", "/metrics");
  ASSERT_TRUE(metrics.ok());
  EXPECT_NE(metrics->body.find("route=\"/api/2.0/mlflow/runs/get\""), std::string::npos);
  EXPECT_NE(metrics->body.find("cairn_http_request_duration_seconds_bucket"), std::string::npos);
  EXPECT_EQ(metrics->body.find("run_id=abc"), std::string::npos) << "raw paths must not be labels";
}

TEST_F(ServerTest, OversizedJsonBodyIs413AndServerStaysUp) {
  std::string big(2 << 20, 'x');
  auto response = client_->Send("POST", "/api/2.0/mlflow/runs/create", big);
  if (response.ok()) {  // the server may also close the connection right after answering
    EXPECT_EQ(response->status, 413);
    EXPECT_NE(response->body.find("error_code"), std::string::npos);
  }
  auto fresh = server_->NewClient();
  auto health = fresh->Send("GET", "/health");
  ASSERT_TRUE(health.ok());
  EXPECT_EQ(health->status, 200);
}

TEST_F(ServerTest, HostileRequestsGetJsonErrorsAndWriteNothingOutside) {
  const std::pair<std::string, std::string> cases[] = {
      {"PUT", "/api/2.0/mlflow-artifacts/artifacts/0/../../../escape.txt"},
      {"PUT", "/api/2.0/mlflow-artifacts/artifacts/0/%2e%2e/%2e%2e/escape.txt"},
      {"PUT", "/api/2.0/mlflow-artifacts/artifacts/%2Fabs.txt"},
      {"PUT", "/api/2.0/mlflow-artifacts/artifacts/0/nul%00byte.txt"},
      {"GET", "/api/2.0/mlflow-artifacts/artifacts/0/../../metadata.db"},
  };
  for (const auto& [method, target] : cases) {
    auto response = client_->Send(method, target, "evil");
    ASSERT_TRUE(response.ok()) << target;
    EXPECT_GE(response->status, 400) << target;
    EXPECT_LT(response->status, 500) << target;
    if (response->status == 400) {
      EXPECT_NE(response->body.find("error_code"), std::string::npos) << response->body;
    }
  }
  for (std::string body : std::vector<std::string>{"{", "null", "[]", "{\"experiment_id\": {}}", std::string("\0\1\2", 3)}) {
    auto response = client_->Send("POST", "/api/2.0/mlflow/runs/create", body);
    ASSERT_TRUE(response.ok());
    EXPECT_EQ(response->status, 400) << body;
    EXPECT_NE(response->body.find("INVALID_PARAMETER_VALUE"), std::string::npos);
  }
  EXPECT_FALSE(fs::exists(root_ + "/escape.txt"));
  EXPECT_FALSE(fs::exists("/escape.txt"));
  EXPECT_FALSE(fs::exists("/abs.txt"));
}

TEST_F(ServerTest, LargeArtifactStreamsInAndOutByteIdentical) {
  json run = Post("/api/2.0/mlflow/runs/create", {{"experiment_id", "0"}});
  std::string run_id = run["run"]["info"]["run_id"];
  std::string local = root_ + "/big.bin";
  {
    std::ofstream out(local, std::ios::binary);
    std::string block(1 << 20, '\0');
    for (int i = 0; i < 24; ++i) {
      for (size_t j = 0; j < block.size(); ++j) block[j] = char((i * 131 + j * 7) & 0xff);
      out.write(block.data(), std::streamsize(block.size()));
    }
  }
  std::string target = "/api/2.0/mlflow-artifacts/artifacts/0/" + run_id + "/artifacts/data/big.bin";
  auto put = client_->SendFile("PUT", target, local);
  ASSERT_TRUE(put.ok()) << put.status().ToString();
  EXPECT_EQ(put->status, 200) << put->body;

  std::string copy = root_ + "/copy.bin";
  auto got = client_->Download(target, copy);
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_EQ(got->status, 200);
  std::ifstream a(local, std::ios::binary), b(copy, std::ios::binary);
  std::string sa((std::istreambuf_iterator<char>(a)), {}), sb((std::istreambuf_iterator<char>(b)), {});
  EXPECT_EQ(sa.size(), size_t(24) << 20);
  EXPECT_TRUE(sa == sb);

  json listing = Get("/api/2.0/mlflow/artifacts/list?run_id=" + run_id + "&path=data");
  ASSERT_EQ(listing["files"].size(), 1u);
  EXPECT_EQ(listing["files"][0]["path"], "data/big.bin");
  EXPECT_EQ(listing["files"][0]["file_size"], 24 << 20);
  // The bytes are stored once, under their digest, inside the data directory.
  EXPECT_TRUE(fs::exists(data_ + "/blobs/sha256/" + Sha256Hex(sa).substr(0, 2) + "/" + Sha256Hex(sa)));
}

TEST_F(ServerTest, SigtermDrainsAndExitsCleanly) {
  EXPECT_EQ(server_->Stop(SIGTERM), 0);
}

// kill -9 in the middle of concurrent log-batch traffic loses no acknowledged metric.
TEST_F(ServerTest, KillNineLosesNothingAcknowledged) {
  constexpr int kClients = 4;
  std::vector<std::string> runs;
  for (int i = 0; i < kClients; ++i) {
    runs.push_back(Post("/api/2.0/mlflow/runs/create", {{"experiment_id", "0"}})["run"]["info"]
                       ["run_id"]);
  }
  std::atomic<int> acknowledged_batches{0};
  std::vector<int> acked_batches_per_client(kClients, 0);
  std::vector<std::thread> threads;
  for (int c = 0; c < kClients; ++c) {
    threads.emplace_back([&, c] {
      auto client = server_->NewClient();
      for (int batch = 0; batch < 100000; ++batch) {
        json metrics = json::array();
        for (int k = 0; k < 10; ++k) {
          for (int s = 0; s < 10; ++s) {
            metrics.push_back({{"key", "m" + std::to_string(k)},
                               {"value", batch * 10 + s},
                               {"timestamp", 1700000000000 + batch},
                               {"step", batch * 10 + s}});
          }
        }
        auto response = client->Send("POST", "/api/2.0/mlflow/runs/log-batch",
                                     json{{"run_id", runs[c]}, {"metrics", metrics}}.dump());
        if (!response.ok() || response->status != 200) return;  // the server is gone
        acked_batches_per_client[c] = batch + 1;
        acknowledged_batches++;
      }
    });
  }
  // Kill once plenty of batches were acknowledged (polling, not sleeping for a guess).
  while (acknowledged_batches.load() < 200) std::this_thread::yield();
  server_->Stop(SIGKILL);
  for (auto& t : threads) t.join();

  server_ = ServerProcess::Start(data_);
  ASSERT_NE(server_, nullptr) << "restart failed";
  client_ = server_->NewClient();
  for (int c = 0; c < kClients; ++c) {
    int acked = acked_batches_per_client[c];
    ASSERT_GT(acked, 0);
    for (int k = 0; k < 10; ++k) {
      json history = Get("/api/2.0/mlflow/metrics/get-history?run_id=" + runs[c] +
                         "&metric_key=m" + std::to_string(k));
      // Every acknowledged point is there (an unacknowledged last batch may be too).
      ASSERT_GE(history["metrics"].size(), size_t(acked) * 10) << "client " << c << " key " << k;
      for (int i = 0; i < acked * 10; ++i) {
        ASSERT_EQ(history["metrics"][i]["step"], i);
      }
    }
  }
}

TEST_F(ServerTest, CliDrivesTheWorkspace) {
  std::string uri = server_->url();
  auto created = RunCairn({"experiments", "create", "cli-exp"}, uri);
  ASSERT_EQ(created.exit_code, 0) << created.err;
  auto duplicate = RunCairn({"experiments", "create", "cli-exp"}, uri);
  EXPECT_EQ(duplicate.exit_code, 1);
  EXPECT_NE(duplicate.err.find("error:"), std::string::npos);
  EXPECT_EQ(std::count(duplicate.err.begin(), duplicate.err.end(), '\n'), 1) << duplicate.err;

  json exp = Get("/api/2.0/mlflow/experiments/get-by-name?experiment_name=cli-exp");
  std::string exp_id = exp["experiment"]["experiment_id"];
  std::vector<std::string> run_ids;
  for (int i = 0; i < 3; ++i) {
    json run = Post("/api/2.0/mlflow/runs/create", {{"experiment_id", exp_id}, {"run_name", "r" + std::to_string(i)}});
    std::string id = run["run"]["info"]["run_id"];
    run_ids.push_back(id);
    Post("/api/2.0/mlflow/runs/log-batch",
         {{"run_id", id},
          {"metrics", {{{"key", "auc"}, {"value", 0.7 + 0.1 * i}, {"timestamp", 1}, {"step", 0}}}},
          {"params", {{{"key", "depth"}, {"value", std::to_string(3 + i)}}}}});
  }
  auto search = RunCairn({"--output", "json", "runs", "search", "--experiment", "cli-exp",
                          "--filter", "metrics.auc > 0.75", "--order-by", "metrics.auc DESC"},
                         uri);
  ASSERT_EQ(search.exit_code, 0) << search.err;
  json found = json::parse(search.out, nullptr, false);
  ASSERT_FALSE(found.is_discarded()) << search.out;
  std::string text = found.dump();
  EXPECT_NE(text.find(run_ids[2]), std::string::npos);
  EXPECT_NE(text.find(run_ids[1]), std::string::npos);
  EXPECT_EQ(text.find(run_ids[0]), std::string::npos);
  EXPECT_LT(text.find(run_ids[2]), text.find(run_ids[1]));

  auto table = RunCairn({"runs", "compare", run_ids[0], run_ids[2]}, uri);
  ASSERT_EQ(table.exit_code, 0) << table.err;
  EXPECT_NE(table.out.find("depth"), std::string::npos);
  EXPECT_NE(table.out.find("auc"), std::string::npos);

  std::string file = root_ + "/notes.txt";
  std::ofstream(file) << "hello artifacts\n";
  auto upload = RunCairn({"artifacts", "upload", run_ids[0], file, "--artifact-path", "docs"}, uri);
  ASSERT_EQ(upload.exit_code, 0) << upload.err;
  auto list = RunCairn({"artifacts", "list", run_ids[0], "docs"}, uri);
  ASSERT_EQ(list.exit_code, 0) << list.err;
  EXPECT_NE(list.out.find("notes.txt"), std::string::npos);
  std::string to = root_ + "/download";
  auto download = RunCairn({"artifacts", "download", run_ids[0], "docs", "--to", to}, uri);
  ASSERT_EQ(download.exit_code, 0) << download.err;
  bool found_file = false;
  for (const auto& entry : fs::recursive_directory_iterator(to)) {
    if (entry.path().filename() == "notes.txt") {
      std::ifstream in(entry.path());
      std::string content((std::istreambuf_iterator<char>(in)), {});
      EXPECT_EQ(content, "hello artifacts\n");
      found_file = true;
    }
  }
  EXPECT_TRUE(found_file);

  auto missing = RunCairn({"runs", "get", "ffffffffffffffffffffffffffffffff"}, uri);
  EXPECT_EQ(missing.exit_code, 1);
  auto usage = RunCairn({"runs", "frobnicate"}, uri);
  EXPECT_EQ(usage.exit_code, 2);
  auto unreachable = RunCairn({"experiments", "list"}, "http://127.0.0.1:1");
  EXPECT_EQ(unreachable.exit_code, 1);
}

}  // namespace
}  // namespace cairn::testing
