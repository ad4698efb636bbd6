// End-to-end: workspace endpoints against the real `cairn server` binary — models trained and
// registered by `cairn train`, deployments, traffic split, sticky routes, mirroring, the
// prediction log, zero failed requests while traffic moves and a model is swapped, a restart,
// /metrics checked by promtool, and bad input.
#include <gtest/gtest.h>
#include <signal.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>

#include "server_process.h"

namespace cairn::testing {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

const std::string kPenguins = std::string(CAIRN_SOURCE_DIR) + "/../shared/data/penguins.csv";

std::string ReadFile(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

class EndpointsTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new std::string(MakeTempDir("cairn_endpoints_it"));
    server_ = ServerProcess::Start(*dir_ + "/data").release();
    ASSERT_NE(server_, nullptr);
    CommandResult snap = Cairn({"data", "snapshot", "penguins", kPenguins});
    ASSERT_EQ(snap.exit_code, 0) << snap.err;
    // Two versions of one model: v1 and v2 differ (other depth), so answers tell them apart.
    std::string run_id;
    for (const char* depth : {"2", "4"}) {
      json out = CairnJson({"train", "--data", "penguins", "--target", "species", "--experiment",
                            "it-endpoints", "--register", "penguins-ep", "--param",
                            std::string("max_depth=") + depth, "--param", "num_boost_round=20"});
      ASSERT_TRUE(out.is_object()) << out;
      if (run_id.empty()) run_id = out["run_id"];
    }
    // A request body: the model's own input example, as MLflow's dataframe_split.
    const std::string to = *dir_ + "/example";
    CommandResult dl =
        Cairn({"artifacts", "download", run_id, "model/input_example.json", "--to", to});
    ASSERT_EQ(dl.exit_code, 0) << dl.err;
    json example = json::parse(ReadFile(fs::path(to) / "model/input_example.json"));
    body_ = new std::string(json{{"dataframe_split", example}}.dump());
  }
  static void TearDownTestSuite() {
    delete server_;
    fs::remove_all(*dir_);
    delete dir_;
    delete body_;
  }
  static CommandResult Cairn(std::vector<std::string> args) {
    return RunCairn(args, server_->url());
  }
  static json CairnJson(std::vector<std::string> args) {
    args.insert(args.begin(), {"--output", "json"});
    CommandResult r = Cairn(args);
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return json::parse(r.out, nullptr, false);
  }
  // A failing command: exit 1 and one line "error: …" holding `needle`.
  static void ExpectCliError(std::vector<std::string> args, const std::string& needle) {
    CommandResult r = Cairn(args);
    EXPECT_EQ(r.exit_code, 1) << r.out;
    EXPECT_EQ(r.err.rfind("error: ", 0), 0u) << r.err;
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
    EXPECT_NE(r.err.find(needle), std::string::npos) << needle << " not in " << r.err;
  }
  static Result<http::ClientResponse> Score(http::HttpClient& c, const std::string& endpoint,
                                            http::Headers headers = {}) {
    headers.emplace_back("content-type", "application/json");
    return c.Send("POST", "/endpoints/" + endpoint + "/invocations", *body_, headers);
  }
  // Creates `endpoint` with blue = v1 and green = v2.
  static void MakeEndpoint(const std::string& endpoint) {
    ASSERT_EQ(Cairn({"endpoints", "create", endpoint}).exit_code, 0);
    CommandResult blue = Cairn({"deployments", "create", "--endpoint", endpoint, "--name", "blue",
                                "--model", "models:/penguins-ep/1"});
    ASSERT_EQ(blue.exit_code, 0) << blue.err;
    CommandResult green = Cairn({"deployments", "create", "--endpoint", endpoint, "--name", "green",
                                 "--model", "models:/penguins-ep/2", "--threads", "2"});
    ASSERT_EQ(green.exit_code, 0) << green.err;
  }

  static std::string* dir_;
  static std::string* body_;
  static ServerProcess* server_;
};

std::string* EndpointsTest::dir_ = nullptr;
std::string* EndpointsTest::body_ = nullptr;
ServerProcess* EndpointsTest::server_ = nullptr;

TEST_F(EndpointsTest, DeployRouteStickMirrorAndLog) {
  MakeEndpoint("penguins");
  json shown = CairnJson({"endpoints", "traffic", "penguins", "blue=90", "green=10"});
  EXPECT_EQ(shown["traffic"], json({{"blue", 90}, {"green", 10}}));
  ASSERT_EQ(shown["deployments"].size(), 2u);
  EXPECT_EQ(shown["deployments"][0]["state"], "ready");
  EXPECT_EQ(shown["deployments"][0]["model_version"], 1);
  EXPECT_EQ(shown["deployments"][1]["threads"], 2);
  CommandResult table = Cairn({"endpoints", "show", "penguins"});
  EXPECT_NE(table.out.find("blue=90, green=10"), std::string::npos) << table.out;
  EXPECT_NE(table.out.find("penguins-ep/2"), std::string::npos) << table.out;

  auto http = server_->NewClient();
  // The split, and sticky route keys.
  std::map<std::string, int> by;
  for (int i = 0; i < 200; ++i) {
    auto r = Score(*http, "penguins");
    ASSERT_TRUE(r.ok());
    ASSERT_EQ(r->status, 200) << r->body;
    by[std::string(r->Header("x-cairn-deployment"))]++;
  }
  EXPECT_GT(by["blue"], by["green"]);
  EXPECT_EQ(by["blue"] + by["green"], 200);
  for (int k = 0; k < 20; ++k) {
    const std::string key = "customer-" + std::to_string(k);
    std::string first;
    for (int i = 0; i < 5; ++i) {
      auto r = Score(*http, "penguins", {{"x-cairn-route-key", key}});
      ASSERT_TRUE(r.ok());
      std::string d(r->Header("x-cairn-deployment"));
      if (first.empty()) first = d;
      EXPECT_EQ(d, first) << key;
    }
  }
  // A named deployment answers; the client's request id comes back.
  auto named =
      Score(*http, "penguins", {{"x-cairn-deployment", "green"}, {"x-request-id", "it-named-1"}});
  ASSERT_TRUE(named.ok());
  EXPECT_EQ(named->Header("x-cairn-deployment"), "green");
  EXPECT_EQ(named->Header("x-request-id"), "it-named-1");
  json predictions = json::parse(named->body);
  ASSERT_TRUE(predictions.contains("predictions")) << named->body;
  // v2, with the endpoint's name as the model's.
  json example = json::parse(*body_)["dataframe_split"];
  json inputs = json::array();
  for (size_t c = 0; c < example["columns"].size(); ++c) {
    json column = json::array();
    bool text = false;
    for (const json& row : example["data"]) {
      column.push_back(row[c]);
      text = text || row[c].is_string();
    }
    inputs.push_back({{"name", example["columns"][c]},
                      {"datatype", text ? "BYTES" : "FP64"},
                      {"shape", {column.size()}},
                      {"data", column}});
  }
  auto v2 = http->Send("POST", "/endpoints/penguins/v2/models/penguins/infer",
                       json{{"inputs", inputs}}.dump(), {{"content-type", "application/json"}});
  ASSERT_TRUE(v2.ok());
  EXPECT_EQ(v2->status, 200) << v2->body;
  EXPECT_EQ(json::parse(v2->body)["model_name"], "penguins") << v2->body;
  EXPECT_FALSE(v2->Header("x-cairn-deployment").empty());

  // The prediction log has it: inputs, outputs, deployment, model version.
  json logged = CairnJson({"endpoints", "predictions", "penguins", "--request-id", "it-named-1"});
  ASSERT_EQ(logged["predictions"].size(), 1u) << logged;
  json record = logged["predictions"][0];
  EXPECT_EQ(record["deployment"], "green");
  EXPECT_EQ(record["model_version"], "penguins-ep/2");
  EXPECT_EQ(record["model_uri"], "models:/penguins-ep/2");
  EXPECT_EQ(record["status"], 200);
  EXPECT_EQ(record["mirrored"], false);
  EXPECT_TRUE(record["inputs"].contains("columns")) << record;
  EXPECT_EQ(record["outputs"].size(), predictions["predictions"].size());

  // Mirror: every answer from blue; green's copies logged under the same request ids.
  CommandResult mirror =
      Cairn({"endpoints", "traffic", "penguins", "blue=100", "--mirror", "green=50"});
  ASSERT_EQ(mirror.exit_code, 0) << mirror.err;
  std::vector<std::string> ids;
  for (int i = 0; i < 40; ++i) {
    ids.push_back("it-mirror-" + std::to_string(i));
    auto r = Score(*http, "penguins", {{"x-request-id", ids.back()}});
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(r->Header("x-cairn-deployment"), "blue");
  }
  // Mirrored copies are scored after the answers: poll the log until they are all there.
  json shadows;
  for (int attempt = 0; attempt < 500; ++attempt) {
    shadows = CairnJson({"endpoints", "predictions", "penguins", "--mirrored", "--limit", "1000"});
    size_t n = 0;
    for (const json& p : shadows["predictions"]) {
      n += std::string(p["request_id"]).rfind("it-mirror-", 0) == 0;
    }
    if (n >= 10) break;  // 50 % of 40, with room for chance
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  size_t copies = 0;
  for (const json& p : shadows["predictions"]) {
    if (std::string(p["request_id"]).rfind("it-mirror-", 0) != 0) continue;
    ++copies;
    EXPECT_EQ(p["deployment"], "green");
    EXPECT_EQ(p["mirrored"], true);
  }
  EXPECT_GE(copies, 10u);
  EXPECT_LE(copies, 40u);
  // `since`: relative in the CLI, ms or RFC 3339 on the wire.
  CommandResult since = Cairn(
      {"endpoints", "predictions", "penguins", "--since", "10m", "--mirrored", "--limit", "3"});
  EXPECT_EQ(since.exit_code, 0) << since.err;
  EXPECT_EQ(std::count(since.out.begin(), since.out.end(), '\n'), 5)
      << since.out;  // + header, more
  EXPECT_NE(since.out.find("(mirror)"), std::string::npos) << since.out;
  int64_t last = 0;
  const json everything = CairnJson({"endpoints", "predictions", "penguins", "--limit", "10000"});
  for (const json& p : everything["predictions"]) last = std::max<int64_t>(last, p["time"]);
  json later =
      CairnJson({"endpoints", "predictions", "penguins", "--since", std::to_string(last + 1)});
  EXPECT_TRUE(later["predictions"].empty()) << later;
  json rfc = CairnJson(
      {"endpoints", "predictions", "penguins", "--since", "2000-01-01T00:00:00Z", "--limit", "1"});
  EXPECT_EQ(rfc["predictions"].size(), 1u);
  EXPECT_TRUE(rfc.contains("next_page_token"));
}

TEST_F(EndpointsTest, TrafficMovesAndAModelSwapsWithZeroFailedRequests) {
  MakeEndpoint("swap");
  ASSERT_EQ(Cairn({"endpoints", "traffic", "swap", "blue=100"}).exit_code, 0);
  constexpr int kClients = 4;
  std::atomic<bool> stop{false};
  std::atomic<int64_t> done{0};
  std::atomic<int64_t> failed{0};
  std::atomic<int64_t> green_answers{0};
  std::vector<std::string> failures[kClients];
  std::vector<std::thread> clients;
  for (int t = 0; t < kClients; ++t) {
    clients.emplace_back([&, t] {
      auto http = server_->NewClient();
      while (!stop.load()) {
        auto r = Score(*http, "swap");
        if (!r.ok() || r->status != 200) {
          failed++;
          failures[t].push_back(r.ok() ? std::to_string(r->status) + " " + r->body
                                       : r.status().ToString());
        } else if (r->Header("x-cairn-deployment") == "green") {
          green_answers++;
        }
        done++;
      }
    });
  }
  // Each change happens while the clients score, and the next waits for them to score more.
  auto progress = [&] {
    const int64_t target = done.load() + 100;
    while (done.load() < target && failed.load() == 0) std::this_thread::yield();
  };
  auto api = server_->NewClient();
  for (const char* traffic :
       {R"({"traffic": {"blue": 90, "green": 10}})", R"({"traffic": {"blue": 50, "green": 50}})",
        R"({"traffic": {"green": 100}})"}) {
    progress();
    auto r = api->Send("PUT", "/api/v1/endpoints/swap/traffic", traffic,
                       {{"content-type", "application/json"}});
    ASSERT_TRUE(r.ok());
    ASSERT_EQ(r->status, 200) << r->body;
  }
  progress();
  // All traffic on green now: swap its model version under load, and back.
  for (const char* model : {"models:/penguins-ep/1", "models:/penguins-ep/2"}) {
    CommandResult swapped =
        Cairn({"deployments", "update", "--endpoint", "swap", "--name", "green", "--model", model});
    ASSERT_EQ(swapped.exit_code, 0) << swapped.err;
    progress();
  }
  const int64_t green_before = green_answers.load();
  progress();
  stop = true;
  for (auto& c : clients) c.join();
  for (const auto& f : failures) {
    for (const auto& message : f) ADD_FAILURE() << message;
  }
  EXPECT_EQ(failed.load(), 0);
  EXPECT_GE(done.load(), 600);
  EXPECT_GT(green_answers.load(), green_before);  // green answers everything at the end
  json shown = CairnJson({"endpoints", "show", "swap"});
  EXPECT_EQ(shown["traffic"], json({{"green", 100}}));
  EXPECT_EQ(shown["traffic_version"], 4);
}

TEST_F(EndpointsTest, BadInputIsACleanErrorNeverACrash) {
  ExpectCliError({"endpoints", "show", "nope"}, "endpoint 'nope' does not exist");
  ExpectCliError({"endpoints", "create", "bad name"}, "name: 'bad name'");
  MakeEndpoint("errors");
  ExpectCliError({"endpoints", "create", "errors"}, "already exists");
  ExpectCliError({"endpoints", "traffic", "errors", "blue=90", "green=5"}, "sum to 95");
  ExpectCliError({"endpoints", "traffic", "errors", "blue=90", "purple=10"}, "'purple'");
  ExpectCliError({"endpoints", "traffic", "errors", "blue=90", "green=10", "--mirror", "green=10"},
                 "one or the other");
  ExpectCliError({"endpoints", "traffic", "errors", "blue=100", "--mirror", "green=60"},
                 "at most 50");
  ExpectCliError({"endpoints", "traffic", "errors", "blue"}, "expected DEPLOYMENT=PERCENT");
  ExpectCliError({"deployments", "create", "--endpoint", "errors", "--name", "red", "--model",
                  "models:/no-such-model/1"},
                 "no-such-model");
  ExpectCliError({"deployments", "create", "--endpoint", "errors", "--name", "red", "--model",
                  "models:/penguins-ep/99"},
                 "version=99");
  ExpectCliError({"deployments", "create", "--endpoint", "nope", "--name", "red", "--model",
                  "models:/penguins-ep/1"},
                 "endpoint 'nope'");
  ExpectCliError(
      {"deployments", "create", "--endpoint", "errors", "--name", "red", "--model", "/etc/passwd"},
      "not a model URI");
  ASSERT_EQ(Cairn({"endpoints", "traffic", "errors", "blue=100"}).exit_code, 0);
  ExpectCliError({"deployments", "delete", "--endpoint", "errors", "--name", "blue"},
                 "live traffic");
  ExpectCliError({"deployments", "show", "--endpoint", "errors", "--name", "red"},
                 "deployment 'red' of endpoint 'errors' does not exist");
  EXPECT_EQ(Cairn({"deployments", "create", "--endpoint", "errors", "--name", "x"}).exit_code,
            2);  // usage: --model is required

  // Scoring bad input: a 4xx naming what is wrong, and the server lives on.
  auto http = server_->NewClient();
  auto unknown = Score(*http, "nope");
  ASSERT_TRUE(unknown.ok());
  EXPECT_EQ(unknown->status, 404);
  EXPECT_EQ(json::parse(unknown->body)["error_code"], "RESOURCE_DOES_NOT_EXIST");
  auto garbage = http->Send("POST", "/endpoints/errors/invocations", "{\"dataframe_split\": 3",
                            {{"content-type", "application/json"}});
  ASSERT_TRUE(garbage.ok());
  EXPECT_EQ(garbage->status, 400) << garbage->body;
  auto traffic = http->Send("PUT", "/api/v1/endpoints/errors/traffic", "[1, 2",
                            {{"content-type", "application/json"}});
  ASSERT_TRUE(traffic.ok());
  EXPECT_EQ(traffic->status, 400);
  EXPECT_EQ(http->Send("GET", "/health")->status, 200);
}

TEST_F(EndpointsTest, MetricsPassPromtool) {
  auto http = server_->NewClient();
  ASSERT_EQ(Cairn({"endpoints", "create", "metrics"}).exit_code, 0);
  ASSERT_EQ(Cairn({"deployments", "create", "--endpoint", "metrics", "--name", "blue", "--model",
                   "models:/penguins-ep/1"})
                .exit_code,
            0);
  ASSERT_EQ(Cairn({"endpoints", "traffic", "metrics", "blue=100"}).exit_code, 0);
  for (int i = 0; i < 5; ++i) ASSERT_EQ(Score(*http, "metrics")->status, 200);
  auto metrics = http->Send("GET", "/metrics");
  ASSERT_TRUE(metrics.ok());
  ASSERT_EQ(metrics->status, 200);
  const std::string& text = metrics->body;
  EXPECT_NE(text.find("cairn_endpoint_requests_total{endpoint=\"metrics\",deployment=\"blue\","
                      "traffic=\"live\",status=\"200\"} 5"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("cairn_endpoint_request_duration_seconds_bucket{endpoint=\"metrics\""),
            std::string::npos);
  EXPECT_NE(text.find("cairn_endpoint_predictions_total{endpoint=\"metrics\""), std::string::npos);
  EXPECT_NE(text.find("cairn_prediction_log_records_total"), std::string::npos);

  if (std::system("command -v promtool > /dev/null 2>&1") != 0) {
    GTEST_SKIP() << "promtool is not installed (scripts/setup installs Debian's prometheus)";
  }
  const std::string file = *dir_ + "/metrics.txt";
  std::ofstream(file) << text;
  const std::string out = *dir_ + "/promtool.out";
  int rc = std::system(("promtool check metrics < " + file + " > " + out + " 2>&1").c_str());
  EXPECT_EQ(rc, 0) << ReadFile(out);
}

// Last: restarts the shared server.
TEST_F(EndpointsTest, EndpointsSurviveARestart) {
  MakeEndpoint("durable");
  ASSERT_EQ(Cairn({"endpoints", "traffic", "durable", "blue=60", "green=40"}).exit_code, 0);
  ASSERT_EQ(Cairn({"deployments", "update", "--endpoint", "durable", "--name", "blue", "--model",
                   "models:/penguins-ep@champion"})
                .exit_code,
            1);  // no such alias: a clean error, nothing changes
  {
    auto http = server_->NewClient();
    for (int i = 0; i < 5; ++i) {
      auto r = Score(*http, "durable");
      ASSERT_TRUE(r.ok());
      ASSERT_EQ(r->status, 200) << r->body;
    }
  }
  EXPECT_EQ(server_->Stop(SIGTERM), 0);
  delete server_;
  server_ = ServerProcess::Start(*dir_ + "/data").release();
  ASSERT_NE(server_, nullptr);
  json shown = CairnJson({"endpoints", "show", "durable"});
  EXPECT_EQ(shown["traffic"], json({{"blue", 60}, {"green", 40}}));
  for (const json& d : shown["deployments"]) EXPECT_EQ(d["state"], "ready") << d;
  EXPECT_EQ(shown["deployments"][0]["model_uri"], "models:/penguins-ep/1");
  auto http = server_->NewClient();
  auto r = Score(*http, "durable", {{"x-cairn-deployment", "green"}});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->status, 200) << r->body;
  // Every prediction answered before the restart was logged and is still readable.
  json logged = CairnJson({"endpoints", "predictions", "durable", "--limit", "100"});
  EXPECT_EQ(logged["predictions"].size(), 6u) << logged;
}

}  // namespace
}  // namespace cairn::testing
