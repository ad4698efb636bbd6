// End-to-end: `cairn serve` — the real binary on port 0 — scoring MLflow-style model
// directories written by Python's XGBoost (tests/fixtures/mlflow_models.py) and a model
// registered in a workspace by `cairn train --register`: every protocol form, labels, the
// error cases, the body limit and a graceful SIGTERM.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>

#include "server_process.h"

namespace cairn::testing {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using nlohmann::json;

const std::string kData = std::string(CAIRN_SOURCE_DIR) + "/../shared/data/";
const std::string kFixtures = std::string(CAIRN_SOURCE_DIR) + "/tests/fixtures/mlflow_models.py";

std::string ReadFile(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

// `cairn serve` as a child process, found through its --port-file.
class ServeProcess {
 public:
  static std::unique_ptr<ServeProcess> Start(const std::string& work_dir,
                                             std::vector<std::string> args,
                                             const std::string& tracking_uri = "") {
    auto p = std::unique_ptr<ServeProcess>(new ServeProcess());
    static int counter = 0;
    const std::string tag = std::to_string(::getpid()) + "-" + std::to_string(counter++);
    const std::string port_file = work_dir + "/serve-" + tag + ".port";
    p->log_path_ = work_dir + "/serve-" + tag + ".log";
    std::vector<std::string> argv = {CairnBinary()};
    if (!tracking_uri.empty()) argv.insert(argv.end(), {"--tracking-uri", tracking_uri});
    argv.insert(argv.end(), {"serve", "--port", "0", "--port-file", port_file});
    argv.insert(argv.end(), args.begin(), args.end());
    p->pid_ = fork();
    if (p->pid_ == 0) {
      FILE* out = freopen("/dev/null", "w", stdout);
      FILE* err = freopen(p->log_path_.c_str(), "w", stderr);
      (void)out;
      (void)err;
      std::vector<char*> cargs;
      for (auto& a : argv) cargs.push_back(a.data());
      cargs.push_back(nullptr);
      execv(cargs[0], cargs.data());
      _exit(127);
    }
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    while (std::chrono::steady_clock::now() < deadline) {
      int status = 0;
      if (waitpid(p->pid_, &status, WNOHANG) == p->pid_) {
        p->pid_ = -1;
        ADD_FAILURE() << "cairn serve exited early: " << ReadFile(p->log_path_);
        return nullptr;
      }
      std::ifstream in(port_file);
      int port = 0;
      if (in >> port && port > 0) {
        p->port_ = static_cast<uint16_t>(port);
        auto client = p->Client();
        auto ping = client->Send("GET", "/ping");
        if (ping.ok() && ping->status == 200) return p;
      }
      usleep(2000);
    }
    ADD_FAILURE() << "cairn serve did not start: " << ReadFile(p->log_path_);
    return nullptr;
  }

  ~ServeProcess() {
    if (pid_ > 0) {
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
    }
  }

  std::unique_ptr<http::HttpClient> Client() const {
    return std::move(http::HttpClient::Create("http://127.0.0.1:" + std::to_string(port_)))
        .value();
  }

  int Stop(int signal_number) {
    kill(pid_, signal_number);
    int status = 0;
    waitpid(pid_, &status, 0);
    pid_ = -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  }

  std::string log() const { return ReadFile(log_path_); }

 private:
  pid_t pid_ = -1;
  uint16_t port_ = 0;
  std::string log_path_;
};

const http::Headers kJson = {{"content-type", "application/json"}};

json PostJson(http::HttpClient& client, const std::string& target, const std::string& body,
              int want_status = 200) {
  auto res = client.Send("POST", target, body, kJson);
  EXPECT_TRUE(res.ok()) << res.status().ToString();
  if (!res.ok()) return json();
  EXPECT_EQ(res->status, want_status) << target << ": " << res->body;
  EXPECT_EQ(res->Header("content-type"), "application/json");
  return json::parse(res->body, nullptr, false);
}

// Flattens nested number lists.
std::vector<double> Flat(const json& v) {
  std::vector<double> out;
  if (v.is_array()) {
    for (const json& x : v) {
      auto inner = Flat(x);
      out.insert(out.end(), inner.begin(), inner.end());
    }
  } else {
    out.push_back(v.get<double>());
  }
  return out;
}

void ExpectClose(const json& got, const json& want, const std::string& what) {
  const auto g = Flat(got);
  const auto w = Flat(want);
  ASSERT_EQ(g.size(), w.size()) << what;
  for (size_t i = 0; i < g.size(); ++i) {
    EXPECT_NEAR(g[i], w[i], 1e-6 * std::max(1.0, std::abs(w[i]))) << what << " value " << i;
  }
}

class ServeTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new std::string(MakeTempDir("cairn_serve_it"));
    const std::string command =
        "/usr/bin/python3 " + kFixtures + " " + *dir_ + "/models " + kData;
    const int rc = std::system(command.c_str());
    ASSERT_EQ(rc, 0) << command << " (needs python3-xgboost and python3-sklearn: scripts/setup)";
  }
  static void TearDownTestSuite() {
    fs::remove_all(*dir_);
    delete dir_;
  }
  static std::string Model(const std::string& name) { return *dir_ + "/models/" + name; }

  static inline std::string* dir_ = nullptr;
};

// Every imported model answers what Python's XGBoost predicts, through both protocols; the
// dart booster (left to XGBoost's predictor) too.
TEST_F(ServeTest, MlflowModelsAnswerWhatXgboostPredicts) {
  for (const std::string name : {"telco_xgb", "penguins_json", "ames_ubj", "credit_dart"}) {
    SCOPED_TRACE(name);
    auto serve = ServeProcess::Start(*dir_, {"--model", Model(name), "--threads", "2"});
    ASSERT_NE(serve, nullptr);
    auto client = serve->Client();
    const std::string request = ReadFile(Model(name) + "/request.json");
    const json expected = json::parse(ReadFile(Model(name) + "/expected.json"));
    const json mlflow = PostJson(*client, "/invocations", request);
    ExpectClose(mlflow["predictions"], expected["predictions"], name + " /invocations");
    if (name == "penguins_json") {
      EXPECT_EQ(mlflow["predictions"][0].size(), 3u);
    }

    // Labels on request: MLflow params and the query parameter.
    json with_params = json::parse(request);
    with_params["params"] = {{"predict", "labels"}};
    if (expected.contains("labels")) {
      EXPECT_EQ(PostJson(*client, "/invocations", with_params.dump())["predictions"],
                expected["labels"]);
      EXPECT_EQ(PostJson(*client, "/invocations?predict=labels", request)["predictions"],
                expected["labels"]);
    } else {
      const json error = PostJson(*client, "/invocations", with_params.dump(), 400);
      EXPECT_THAT(error["message"].get<std::string>(), HasSubstr("predicts values, not labels"));
    }

    // v2: one tensor per column.
    const json split = json::parse(request)["dataframe_split"];
    json inputs = json::array();
    for (size_t c = 0; c < split["columns"].size(); ++c) {
      json data = json::array();
      for (const json& row : split["data"]) data.push_back(row[c]);
      inputs.push_back({{"name", split["columns"][c]},
                        {"shape", {split["data"].size()}},
                        {"datatype", "FP64"},
                        {"data", data}});
    }
    const json v2 = PostJson(*client, "/v2/models/" + name + "/infer",
                             json({{"id", "abc"}, {"inputs", inputs}}).dump());
    EXPECT_EQ(v2["model_name"], name);
    EXPECT_EQ(v2["id"], "abc");
    ExpectClose(v2["outputs"][0]["data"], expected["predictions"], name + " v2");
    EXPECT_EQ(serve->Stop(SIGTERM), 0) << serve->log();
  }
}

TEST_F(ServeTest, EveryProtocolForm) {
  auto serve = ServeProcess::Start(*dir_, {"--model", Model("telco_xgb"), "--name", "churn"});
  ASSERT_NE(serve, nullptr);
  auto client = serve->Client();
  const json request = json::parse(ReadFile(Model("telco_xgb") + "/request.json"));
  const json expected = json::parse(ReadFile(Model("telco_xgb") + "/expected.json"));
  const json split = request["dataframe_split"];
  const size_t n = split["data"].size();

  json records = json::array();
  json columnar = json::object();
  std::string csv;
  for (size_t c = 0; c < split["columns"].size(); ++c) {
    csv += (c ? "," : "") + split["columns"][c].get<std::string>();
  }
  csv += "\n";
  for (const json& row : split["data"]) {
    json record;
    for (size_t c = 0; c < row.size(); ++c) {
      const std::string column = split["columns"][c];
      record[column] = row[c];
      columnar[column].push_back(row[c]);
      csv += (c ? "," : "") + (row[c].is_null() ? std::string() : row[c].dump());
    }
    records.push_back(record);
    csv += "\n";
  }
  for (const json& body : {json{{"dataframe_records", records}}, json{{"instances", records}},
                           json{{"instances", split["data"]}}, json{{"inputs", columnar}},
                           json{{"inputs", records}}}) {
    ExpectClose(PostJson(*client, "/invocations", body.dump())["predictions"],
                expected["predictions"], body.begin().key());
  }
  auto res = client->Send("POST", "/invocations", csv, {{"content-type", "text/csv"}});
  ASSERT_TRUE(res.ok());
  ASSERT_EQ(res->status, 200) << res->body;
  ExpectClose(json::parse(res->body)["predictions"], expected["predictions"], "csv");

  // v2: one [N, F] tensor, labels by parameter; both outputs by name.
  const json matrix = {{"inputs", {{{"name", "input-0"},
                                    {"shape", {n, split["columns"].size()}},
                                    {"datatype", "FP32"},
                                    {"data", split["data"]}}}}};
  json labelled = matrix;
  labelled["parameters"] = {{"predict", "labels"}};
  const json v2 = PostJson(*client, "/v2/models/churn/infer", labelled.dump());
  EXPECT_EQ(v2["outputs"][0]["datatype"], "INT64");
  EXPECT_EQ(v2["outputs"][0]["data"], expected["labels"]);
  json both = matrix;
  both["outputs"] = {{{"name", "predict"}}, {{"name", "label"}}};
  const json two = PostJson(*client, "/v2/models/churn/infer", both.dump());
  EXPECT_EQ(two["outputs"][0]["shape"], json({n}));
  ExpectClose(two["outputs"][0]["data"], expected["predictions"], "v2 matrix");
  EXPECT_EQ(two["outputs"][1]["data"], expected["labels"]);
  EXPECT_TRUE(two["id"].is_string());  // the x-request-id when the request has none

  // Health, metadata, versions.
  for (const char* path : {"/ping", "/health", "/version", "/v2", "/v2/health/live",
                           "/v2/health/ready", "/v2/models/churn", "/v2/models/churn/ready"}) {
    auto r = client->Send("GET", path);
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(r->status, 200) << path << ": " << r->body;
  }
  const json meta = json::parse(client->Send("GET", "/v2/models/churn")->body);
  EXPECT_EQ(meta["name"], "churn");
  EXPECT_EQ(meta["versions"], json::array());
  EXPECT_EQ(meta["inputs"].size(), split["columns"].size());
  EXPECT_EQ(meta["inputs"][4], json({{"name", "tenure"}, {"datatype", "INT64"}, {"shape", {-1}}}));
  auto missing = client->Send("GET", "/v2/models/churn/versions/1");
  EXPECT_EQ(missing->status, 404);
  EXPECT_THAT(json::parse(missing->body)["error"].get<std::string>(),
              HasSubstr("served without a version"));
  EXPECT_EQ(client->Send("GET", "/v2/models/other/ready")->status, 404);
  const std::string metrics = client->Send("GET", "/metrics")->body;
  EXPECT_THAT(metrics, HasSubstr("cairn_scoring_rows_total " + std::to_string(8 * n)));
  EXPECT_THAT(metrics, HasSubstr("route=\"/invocations\""));
  EXPECT_EQ(serve->Stop(SIGTERM), 0);
  EXPECT_THAT(serve->log(), HasSubstr("stopped after 8 scoring requests"));
}

TEST_F(ServeTest, BadInputGetsClean4xxAnswers) {
  auto serve = ServeProcess::Start(*dir_, {"--model", Model("telco_xgb"), "--no-access-log"});
  ASSERT_NE(serve, nullptr);
  auto client = serve->Client();
  auto error = [&](const std::string& body, int status = 400) {
    const json answer = PostJson(*client, "/invocations", body, status);
    EXPECT_EQ(answer["error_code"], "BAD_REQUEST") << body;
    return answer["message"].get<std::string>();
  };
  const std::string columns =
      R"("columns": ["female", "senior_citizen", "partner", "dependents", "tenure",
                     "phone_service", "paperless_billing", "monthly_charges", "total_charges"])";
  EXPECT_THAT(error(R"({"dataframe_split": {"columns": ["female"], "data": [[1]]}})"),
              HasSubstr("row 1: column 'senior_citizen' is missing"));
  EXPECT_THAT(error(R"({"dataframe_records": [{"female": 1}]})"),
              HasSubstr("row 1: column 'senior_citizen' is missing"));
  EXPECT_THAT(error(R"({"dataframe_split": {)" + columns +
                    R"(, "data": [[1, 0, 1, 0, 1, 0, 1, 29.85, 29.85],
                                  [1, 0, 1, 0, "two", 0, 1, 29.85, 29.85]]}})"),
              HasSubstr("row 2, column 'tenure': got the string 'two', but the model takes "
                        "numbers there"));
  EXPECT_THAT(error(R"({"dataframe_split": {)" + columns +
                    R"(, "data": [[1, 0, 1, 0, 1.5, 0, 1, 29.85, 29.85]]}})"),
              HasSubstr("row 1, column 'tenure': got 1.5, but the model takes integers"));
  EXPECT_THAT(error(R"({"dataframe_split": {)" + columns +
                    R"(, "data": [[1, 0, 1, 0, 1, 0, 1, NaN, 29.85]]}})"),
              HasSubstr("send null for a missing value"));
  EXPECT_THAT(error(R"({"dataframe_split": {)" + columns + R"(, "data": []}})"),
              HasSubstr("empty batch"));
  EXPECT_THAT(error(R"({"dataframe_split": )"), HasSubstr("not valid JSON"));
  EXPECT_THAT(error(R"([[1, 2]])"), HasSubstr("must be a JSON object"));
  EXPECT_THAT(error(R"({"instances": [[1, 2]]})"),
              HasSubstr("row 1 has 2 values, but the model takes 9 columns"));
  auto wrong_type = client->Send("POST", "/invocations", "a=1",
                                 {{"content-type", "application/x-www-form-urlencoded"}});
  EXPECT_EQ(wrong_type->status, 415);
  const json v2 = PostJson(*client, "/v2/models/telco_xgb/infer", R"({"inputs": 3})", 400);
  EXPECT_THAT(v2["error"].get<std::string>(), HasSubstr("inputs must be a list of tensors"));

  // A 100 MB body: refused from its Content-Length (413), and the server carries on.
  const std::string huge(100u << 20, ' ');
  auto too_large = client->Send("POST", "/invocations", huge, kJson);
  ASSERT_TRUE(too_large.ok()) << too_large.status().ToString();
  EXPECT_EQ(too_large->status, 413);
  auto fresh = serve->Client();
  EXPECT_EQ(fresh->Send("GET", "/ping")->status, 200);
  EXPECT_EQ(PostJson(*fresh, "/invocations", ReadFile(Model("telco_xgb") + "/request.json"))
                ["predictions"]
                    .size(),
            64u);
}

TEST_F(ServeTest, RegisteredModelsAreResolvedThroughTheWorkspace) {
  const std::string data = *dir_ + "/workspace";
  auto server = ServerProcess::Start(data);
  ASSERT_NE(server, nullptr);
  ASSERT_EQ(RunCairn({"data", "snapshot", "churn", kData + "telco_churn.csv"}, server->url())
                .exit_code,
            0);
  CommandResult trained =
      RunCairn({"train", "--data", "churn", "--target", "churn", "--register", "churn-serve",
                "--alias", "champion", "--param", "num_boost_round=40", "--param",
                "early_stopping_rounds=0"},
               server->url());
  ASSERT_EQ(trained.exit_code, 0) << trained.err;

  // Raw rows, as the CSV has them (categorical strings, booleans as 0/1).
  json records = json::array();
  {
    std::istringstream csv(ReadFile(kData + "telco_churn.csv"));
    std::string header_line;
    std::getline(csv, header_line);
    std::vector<std::string> header;
    std::stringstream hs(header_line);
    for (std::string h; std::getline(hs, h, ',');) header.push_back(h.substr(1, h.size() - 2));
    for (int r = 0; r < 5; ++r) {
      std::string line;
      std::getline(csv, line);
      std::stringstream ls(line);
      json record;
      size_t c = 0;
      for (std::string v; std::getline(ls, v, ','); ++c) {
        if (header[c] == "churn") continue;
        if (!v.empty() && v.front() == '"') {
          record[header[c]] = v.substr(1, v.size() - 2);
        } else {
          record[header[c]] = json::parse(v);
        }
      }
      records.push_back(record);
    }
  }
  const std::string body = json({{"dataframe_records", records}}).dump();

  json by_alias;
  for (const std::string uri : {"models:/churn-serve@champion", "models:/churn-serve/1"}) {
    SCOPED_TRACE(uri);
    auto serve = ServeProcess::Start(*dir_, {"--model", uri}, server->url());
    ASSERT_NE(serve, nullptr);
    auto client = serve->Client();
    const json meta = json::parse(client->Send("GET", "/v2/models/churn-serve")->body);
    EXPECT_EQ(meta["versions"], json({"1"}));
    EXPECT_EQ(meta["parameters"]["native_evaluator"], true);
    EXPECT_EQ(client->Send("GET", "/v2/models/churn-serve/versions/1/ready")->status, 200);
    const json p = PostJson(*client, "/invocations", body);
    ASSERT_EQ(p["predictions"].size(), 5u);
    for (const json& v : p["predictions"]) EXPECT_TRUE(v.get<double>() > 0 && v < 1);
    if (by_alias.is_null()) {
      by_alias = p;
    } else {
      EXPECT_EQ(p, by_alias);
    }
    const json labels = PostJson(*client, "/invocations?predict=labels", body);
    for (size_t i = 0; i < 5; ++i) {
      EXPECT_EQ(labels["predictions"][i], p["predictions"][i].get<double>() > 0.5 ? "Yes" : "No");
    }
    EXPECT_THAT(serve->log(), HasSubstr("serving 'churn-serve' version 1"));
  }

  CommandResult missing = RunCairn({"serve", "--model", "models:/churn-serve@nobody"}, server->url());
  EXPECT_EQ(missing.exit_code, 1);
  EXPECT_THAT(missing.err, HasSubstr("error: models:/churn-serve@nobody"));
  EXPECT_EQ(std::count(missing.err.begin(), missing.err.end(), '\n'), 1) << missing.err;
}

TEST_F(ServeTest, UsageErrors) {
  CommandResult no_model = RunCairn({"serve"}, "http://127.0.0.1:1");
  EXPECT_EQ(no_model.exit_code, 2);
  EXPECT_THAT(no_model.err, HasSubstr("--model"));
  CommandResult no_dir = RunCairn({"serve", "--model", *dir_ + "/nothing"}, "http://127.0.0.1:1");
  EXPECT_EQ(no_dir.exit_code, 1);
  EXPECT_THAT(no_dir.err, HasSubstr("error: no model directory at"));
  CommandResult not_a_model = RunCairn({"serve", "--model", *dir_}, "http://127.0.0.1:1");
  EXPECT_EQ(not_a_model.exit_code, 1);
  EXPECT_THAT(not_a_model.err, HasSubstr("MLmodel"));
}

}  // namespace
}  // namespace cairn::testing
