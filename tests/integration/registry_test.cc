// End-to-end: the model registry of the real `cairn server` over HTTP, and `cairn models …`.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <thread>

#include <nlohmann/json.hpp>

#include "golden_runner.h"
#include "server_process.h"

namespace cairn::testing {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

std::string ReadFile(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

int CountLines(const std::string& s) {
  int n = 0;
  for (char c : s) n += c == '\n';
  return n;
}

class RegistryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = MakeTempDir("cairn-registry-it");
    server_ = ServerProcess::Start(root_ + "/data");
    ASSERT_NE(server_, nullptr) << "cairn server did not start";
    client_ = server_->NewClient();
  }
  void TearDown() override {
    server_.reset();
    fs::remove_all(root_);
  }

  json Send(const std::string& method, const std::string& target, const std::string& body,
            int expect_status = 200) {
    auto response = client_->Send(method, target, body, {{"content-type", "application/json"}});
    EXPECT_TRUE(response.ok()) << response.status().ToString();
    if (!response.ok()) return json();
    EXPECT_EQ(response->status, expect_status) << method << " " << target << " " << response->body;
    return json::parse(response->body, nullptr, false);
  }

  // A run of the Default experiment with a model directory logged under "model".
  std::string RunWithModel() {
    json run = Send("POST", "/api/2.0/mlflow/runs/create", R"({"experiment_id": "0"})");
    std::string id = run["run"]["info"]["run_id"];
    std::string base = "/api/2.0/mlflow-artifacts/artifacts/0/" + id + "/artifacts/model/";
    Send("PUT", base + "MLmodel", kMlmodel);
    Send("PUT", base + "model.ubj", std::string(kBooster, sizeof kBooster));
    return id;
  }

  CommandResult Cairn(const std::vector<std::string>& args) {
    return RunCairn(args, server_->url());
  }

  // Runs the CLI and expects success; returns stdout.
  std::string Ok(const std::vector<std::string>& args) {
    CommandResult r = Cairn(args);
    EXPECT_EQ(r.exit_code, 0) << args[0] << " " << (args.size() > 1 ? args[1] : "") << ": "
                              << r.err;
    EXPECT_EQ(r.err, "");
    return r.out;
  }

  // Runs the CLI and expects one error line on stderr containing `needle`.
  void Fails(const std::vector<std::string>& args, const std::string& needle, int code = 1) {
    CommandResult r = Cairn(args);
    EXPECT_EQ(r.exit_code, code) << r.out << r.err;
    EXPECT_EQ(CountLines(r.err), 1) << r.err;
    EXPECT_EQ(r.err.rfind("error: ", 0), 0u) << r.err;
    EXPECT_NE(r.err.find(needle), std::string::npos) << "stderr: " << r.err;
  }

  static constexpr const char* kMlmodel = "flavors:\n  xgboost: {data: model.ubj}\n";
  static constexpr char kBooster[] = {'{', 'L', '\0', '\1', 'b', 'o', 'o', 's', 't', '}'};

  std::string root_;
  std::unique_ptr<ServerProcess> server_;
  std::unique_ptr<http::HttpClient> client_;
};

TEST_F(RegistryTest, GoldenRegistryConversationOverHttp) {
  std::string golden = std::string(CAIRN_SOURCE_DIR) + "/tests/golden/mlflow_registry.json";
  auto errors = RunGoldenFile(golden, [&](const std::string& method, const std::string& target,
                                          const std::string& body) {
    auto response = client_->Send(method, target, body, {{"content-type", "application/json"}});
    if (!response.ok()) return GoldenReply{0, response.status().ToString()};
    return GoldenReply{response->status, response->body};
  });
  for (const auto& e : errors) ADD_FAILURE() << e;
}

TEST_F(RegistryTest, ConcurrentRegistrationsGetConsecutiveVersions) {
  Send("POST", "/api/2.0/mlflow/registered-models/create", R"({"name": "shared"})");
  constexpr int kThreads = 4;
  constexpr int kPerThread = 10;
  std::vector<std::vector<int>> got(kThreads);
  std::vector<std::thread> threads;
  const std::string url = server_->url();
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      auto client = http::HttpClient::Create(url);
      ASSERT_TRUE(client.ok());
      for (int i = 0; i < kPerThread; ++i) {
        auto r = (*client)->Send("POST", "/api/2.0/mlflow/model-versions/create",
                                 R"({"name": "shared", "source": "s3://bucket/m"})",
                                 {{"content-type", "application/json"}});
        ASSERT_TRUE(r.ok());
        ASSERT_EQ(r->status, 200) << r->body;
        got[t].push_back(std::stoi(json::parse(r->body)["model_version"]["version"]
                                       .get<std::string>()));
      }
    });
  }
  for (auto& th : threads) th.join();
  std::set<int> all;
  for (const auto& g : got) all.insert(g.begin(), g.end());
  ASSERT_EQ(all.size(), size_t(kThreads * kPerThread));
  EXPECT_EQ(*all.begin(), 1);
  EXPECT_EQ(*all.rbegin(), kThreads * kPerThread);
}

TEST_F(RegistryTest, CliRegistersAliasesTagsAndDownloads) {
  const std::string run = RunWithModel();
  std::string out = Ok({"models", "register", run, "--name", "churn"});
  EXPECT_NE(out.find("Created registered model 'churn'"), std::string::npos) << out;
  EXPECT_NE(out.find("Registered churn version 1 from runs:/" + run + "/model"),
            std::string::npos)
      << out;
  json v2 = json::parse(Ok({"models", "register", "runs:/" + run + "/model", "--name", "churn",
                            "--alias", "champion", "-d", "tuned", "-t", "data=telco@v3",
                            "-o", "json"}));
  EXPECT_EQ(v2["version"], "2");
  EXPECT_EQ(v2["aliases"], json::array({"champion"}));
  EXPECT_EQ(v2["description"], "tuned");
  EXPECT_EQ(v2["tags"][0]["key"], "data");

  std::string list = Ok({"models", "list"});
  EXPECT_NE(list.find("churn"), std::string::npos) << list;
  EXPECT_NE(list.find("@champion=v2"), std::string::npos) << list;
  json listed = json::parse(Ok({"models", "list", "--filter", "name LIKE 'ch%'", "-o", "json"}));
  ASSERT_EQ(listed.size(), 1u);
  EXPECT_EQ(listed[0]["name"], "churn");

  std::string show = Ok({"models", "show", "churn"});
  EXPECT_NE(show.find("models:/churn@champion"), std::string::npos) << show;
  EXPECT_NE(show.find("runs:/" + run + "/model"), std::string::npos) << show;
  json by_alias = json::parse(Ok({"models", "show", "models:/churn@champion", "-o", "json"}));
  EXPECT_EQ(by_alias["model_version"]["version"], "2");
  std::string version_details = Ok({"models", "show", "models:/churn/1"});
  EXPECT_NE(version_details.find("mlflow-artifacts:/0/" + run + "/artifacts/model"),
            std::string::npos)
      << version_details;
  json versions = json::parse(Ok({"models", "versions", "models:/churn", "-o", "json"}));
  ASSERT_EQ(versions.size(), 2u);
  EXPECT_EQ(versions[0]["version"], "2");  // newest first

  // The model directory comes back byte for byte, by alias and by version.
  fs::path dest = fs::path(root_) / "dl";
  std::string dl = Ok({"models", "download", "models:/churn@champion", "--to", dest.string()});
  EXPECT_NE(dl.find("(2 files)"), std::string::npos) << dl;
  EXPECT_EQ(ReadFile(dest / "MLmodel"), kMlmodel);
  EXPECT_EQ(ReadFile(dest / "model.ubj"), std::string(kBooster, sizeof kBooster));
  json dl_json = json::parse(
      Ok({"models", "download", "churn", "--to", (fs::path(root_) / "dl2").string(), "-o", "json"}));
  EXPECT_EQ(dl_json["model_version"]["version"], "2");  // a bare name is the latest version
  EXPECT_EQ(dl_json["files"].size(), 2u);

  // Tags on the version and on the model.
  json tagged = json::parse(Ok({"models", "tag", "churn", "2", "validated=yes", "-o", "json"}));
  EXPECT_EQ(tagged["version"], "2");
  ASSERT_EQ(tagged["tags"].size(), 2u);
  json untagged = json::parse(
      Ok({"models", "tag", "models:/churn/2", "--delete", "data", "-o", "json"}));
  EXPECT_EQ(untagged["tags"], json::parse(R"([{"key":"validated","value":"yes"}])"));
  json model_tags = json::parse(Ok({"models", "tag", "churn", "team=ml", "-o", "json"}));
  EXPECT_EQ(model_tags["tags"], json::parse(R"([{"key":"team","value":"ml"}])"));

  // Aliases move and go.
  Ok({"models", "alias", "churn", "champion", "1"});
  EXPECT_EQ(json::parse(Ok({"models", "show", "models:/churn@champion", "-o", "json"}))
                ["model_version"]["version"],
            "1");
  std::string deleted = Ok({"models", "alias", "churn", "champion", "--delete"});
  EXPECT_NE(deleted.find("was version 1"), std::string::npos) << deleted;
  Fails({"models", "alias", "churn", "champion", "--delete"}, "model 'churn' has no alias 'champion'");

  // Stages; then versions and the model are deleted.
  std::string staged = Ok({"models", "stage", "churn", "1", "--to", "production"});
  EXPECT_NE(staged.find("stage Production"), std::string::npos) << staged;
  Ok({"models", "delete", "churn", "2"});
  Ok({"models", "delete", "models:/churn/1"});
  EXPECT_EQ(json::parse(Ok({"models", "versions", "churn", "-o", "json"})).size(), 0u);
  Ok({"models", "delete", "churn"});
  Fails({"models", "show", "churn"}, "Registered Model with name=churn not found");
}

TEST_F(RegistryTest, CliRegistersALocalModelDirectory) {
  fs::path local = fs::path(root_) / "my-model";
  fs::create_directories(local / "extra");
  std::ofstream(local / "MLmodel") << kMlmodel;
  std::ofstream(local / "extra" / "notes.txt") << "hello";
  json v = json::parse(
      Ok({"models", "register", local.string(), "--name", "local-model", "-o", "json"}));
  EXPECT_EQ(v["version"], "1");
  const std::string run_id = v["run_id"];
  ASSERT_FALSE(run_id.empty());
  EXPECT_EQ(v["source"], "runs:/" + run_id + "/model");

  // The run that holds the upload says where it came from.
  json run = Send("GET", "/api/2.0/mlflow/runs/get?run_id=" + run_id, "");
  EXPECT_EQ(run["run"]["info"]["experiment_id"], "0");
  EXPECT_EQ(run["run"]["info"]["status"], "FINISHED");
  bool tagged = false;
  for (const auto& tag : run["run"]["data"]["tags"]) {
    if (tag["key"] == "cairn.registration.model") tagged = tag["value"] == "local-model";
  }
  EXPECT_TRUE(tagged) << run.dump();

  fs::path dest = fs::path(root_) / "back";
  Ok({"models", "download", "models:/local-model/1", "--to", dest.string()});
  EXPECT_EQ(ReadFile(dest / "MLmodel"), kMlmodel);
  EXPECT_EQ(ReadFile(dest / "extra" / "notes.txt"), "hello");
}

TEST_F(RegistryTest, CliBadInputGetsOneClearErrorLine) {
  const std::string run = RunWithModel();
  Fails({"models", "show", "nope"}, "Registered Model with name=nope not found");
  Fails({"models", "show", "models:/nope/1"}, "Model Version (name=nope, version=1) not found");
  Fails({"models", "show", "models:/a/1/2"}, "Not a proper models:/ URI");
  Fails({"models", "register", "no-such-run-or-path", "--name", "m"},
        "'no-such-run-or-path' is neither a run id nor a local file or directory");
  Fails({"models", "register", run, "--name", "m", "--artifact-path", "missing"},
        "has no artifact 'missing' (found: model)");
  Fails({"models", "register", run, "--name", "m", "--tag", "novalue"},
        "expected KEY=VALUE, got 'novalue'");
  Fails({"models", "register", run, "--name", "bad/name"}, "Invalid registered model name");
  Ok({"models", "register", run, "--name", "m"});
  Fails({"models", "alias", "m", "latest", "1"},
        "'latest' alias name (case insensitive) is reserved.");
  Fails({"models", "alias", "m", "v7", "1"}, "Version alias name 'v7' is reserved.");
  Fails({"models", "alias", "m", "champion", "9"}, "Model Version (name=m, version=9) not found");
  Fails({"models", "alias", "m", "champion"}, "give the VERSION the alias points at");
  Fails({"models", "tag", "m", "1"}, "give KEY=VALUE to set, or --delete KEY");
  Fails({"models", "stage", "m", "1", "--to", "Live"}, "Invalid Model Version stage: Live");
  Fails({"models", "delete", "m", "7"}, "Model Version (name=m, version=7) not found");
  Fails({"models", "download", "models:/m@nope", "--to", root_ + "/x"},
        "Registered model alias nope not found.");
  Fails({"models", "list", "--filter", "metrics.auc > 1"}, "Invalid entity type");
  Fails({"models", "register", run}, "--name", 2);  // a usage error
}

}  // namespace
}  // namespace cairn::testing
