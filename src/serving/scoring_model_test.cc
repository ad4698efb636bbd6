// The scoring stack without a socket: a model directory Cairn trained, the standalone routes,
// Router::Dispatch. Predictions are checked against LoadedModel on the same CSV rows.
#include "serving/scoring_model.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>

#include "ml/model_dir.h"
#include "ml/scorer.h"
#include "ml/trainer.h"
#include "serving/scoring_routes.h"

namespace cairn::serving {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using Json = nlohmann::json;

const std::string kData = CAIRN_SOURCE_DIR "/../shared/data/";

// A Cairn model directory trained on one of the shared files (few rounds: speed, not quality).
struct TrainedModel {
  data::CsvTable table;
  fs::path dir;
};

TrainedModel TrainModel(const std::string& file, const std::string& target) {
  TrainedModel m;
  auto table = data::LoadCsvFile(kData + file);
  EXPECT_TRUE(table.ok()) << table.status().ToString();
  m.table = std::move(*table);
  ml::TrainOptions options;
  options.target = target;
  options.num_boost_round = 30;
  options.early_stopping_rounds = 0;
  options.shap_rows = 0;
  auto result = ml::Train(m.table, options);
  EXPECT_TRUE(result.ok()) << result.status().ToString();
  m.dir = fs::temp_directory_path() /
          ("cairn-serving-" + std::to_string(::getpid()) + "-" + target);
  fs::remove_all(m.dir);
  ml::ModelInfo info;
  info.run_id = "0123456789abcdef0123456789abcdef";
  info.created_millis = 1700000000000;
  auto files = ml::RenderModelDirectory(*result, info);
  EXPECT_TRUE(files.ok());
  EXPECT_TRUE(ml::WriteModelFiles(m.dir.string(), *files).ok());
  return m;
}

// The raw CSV values of `rows` (as MLflow's dataframe_split) and of one row as a record.
Json SplitOf(const data::CsvTable& table, const ml::Preprocessing& pre, std::vector<int64_t> rows) {
  return ml::InputExampleJson(pre, table, rows);
}

class Scoring : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    telco_ = new TrainedModel(TrainModel("telco_churn.csv", "churn"));
    penguins_ = new TrainedModel(TrainModel("penguins.csv", "species"));
    ames_ = new TrainedModel(TrainModel("ames_housing.csv", "Sale_Price"));
  }
  static void TearDownTestSuite() {
    for (TrainedModel* m : {telco_, penguins_, ames_}) {
      fs::remove_all(m->dir);
      delete m;
    }
  }

  void Serve(const TrainedModel& m, std::string name = "churn", std::string version = "3") {
    auto model = LoadScoringModel(m.dir.string());
    ASSERT_TRUE(model.ok()) << model.status().ToString();
    model_ = *model;
    auto loaded = ml::LoadedModel::Load(m.dir.string());
    ASSERT_TRUE(loaded.ok());
    reference_ = std::make_unique<ml::LoadedModel>(std::move(*loaded));
    ASSERT_TRUE(reference_->native()) << reference_->native_status();
    router_ = std::make_unique<http::Router>();
    ScoringRouteOptions options;
    options.names.model_name = std::move(name);
    options.names.model_version = std::move(version);
    options.max_body_bytes = 1 << 20;
    RegisterScoringRoutes(*router_, model_, options, stats_, nullptr);
  }

  http::HttpResponse Call(const std::string& method, const std::string& target,
                          const std::string& body = "",
                          const std::string& content_type = "application/json") {
    http::HttpRequest req;
    req.method = method;
    req.target = target;
    const size_t q = target.find('?');
    req.path = target.substr(0, q);
    if (q != std::string::npos) req.query = target.substr(q + 1);
    if (!content_type.empty()) req.headers.emplace_back("content-type", content_type);
    req.body = body;
    req.request_id = "rid-1";
    return router_->Dispatch(req);
  }

  Json Post(const std::string& target, const Json& body, int want_status = 200) {
    http::HttpResponse res = Call("POST", target, body.dump());
    EXPECT_EQ(res.status, want_status) << res.body;
    return Json::parse(res.body, nullptr, false);
  }

  std::vector<float> Expected(const TrainedModel& m, std::vector<int64_t> rows) {
    auto p = reference_->Predict(m.table, rows);
    EXPECT_TRUE(p.ok()) << p.status().ToString();
    return p->values;
  }

  static inline TrainedModel* telco_ = nullptr;
  static inline TrainedModel* penguins_ = nullptr;
  static inline TrainedModel* ames_ = nullptr;
  std::shared_ptr<const ScoringModel> model_;
  std::unique_ptr<ml::LoadedModel> reference_;
  std::unique_ptr<http::Router> router_;
  ScoringStats stats_;
};

void ExpectNear(const Json& got, const std::vector<float>& want) {
  ASSERT_TRUE(got.is_array()) << got.dump();
  std::vector<float> flat;
  for (const Json& v : got) {
    if (v.is_array()) {
      for (const Json& x : v) flat.push_back(x.get<float>());
    } else {
      flat.push_back(v.get<float>());
    }
  }
  ASSERT_EQ(flat.size(), want.size());
  for (size_t i = 0; i < want.size(); ++i) {
    EXPECT_NEAR(flat[i], want[i], 1e-6 * std::max(1.0f, std::abs(want[i]))) << i;
  }
}

TEST_F(Scoring, EveryMlflowFormatGivesTheModelsPredictions) {
  Serve(*telco_);
  const std::vector<int64_t> rows = {0, 1, 2, 3, 4, 5, 6, 7};
  const std::vector<float> want = Expected(*telco_, rows);
  const Json split = SplitOf(telco_->table, reference_->preprocessing(), rows);
  Json records = Json::array();
  for (const Json& row : split["data"]) {
    Json record;
    for (size_t c = 0; c < row.size(); ++c) record[split["columns"][c].get<std::string>()] = row[c];
    records.push_back(record);
  }
  Json columnar;
  for (size_t c = 0; c < split["columns"].size(); ++c) {
    Json column = Json::array();
    for (const Json& row : split["data"]) column.push_back(row[c]);
    columnar[split["columns"][c].get<std::string>()] = column;
  }
  ExpectNear(Post("/invocations", {{"dataframe_split", split}})["predictions"], want);
  ExpectNear(Post("/invocations", {{"dataframe_records", records}})["predictions"], want);
  ExpectNear(Post("/invocations", {{"instances", records}})["predictions"], want);
  ExpectNear(Post("/invocations", {{"instances", split["data"]}})["predictions"], want);
  ExpectNear(Post("/invocations", {{"inputs", columnar}})["predictions"], want);

  // text/csv: the file's own header and rows.
  std::string csv;
  for (size_t c = 0; c < split["columns"].size(); ++c) {
    csv += (c ? "," : "") + split["columns"][c].get<std::string>();
  }
  csv += "\n";
  for (const Json& row : split["data"]) {
    for (size_t c = 0; c < row.size(); ++c) {
      csv += c ? "," : "";
      csv += row[c].is_string() ? row[c].get<std::string>() : row[c].dump();
    }
    csv += "\n";
  }
  http::HttpResponse res = Call("POST", "/invocations", csv, "text/csv; charset=utf-8");
  ASSERT_EQ(res.status, 200) << res.body;
  ExpectNear(Json::parse(res.body)["predictions"], want);
  EXPECT_EQ(stats_.requests.load(), 6);
  EXPECT_EQ(stats_.rows.load(), 48);
}

TEST_F(Scoring, LabelsOnRequest) {
  Serve(*telco_);
  const std::vector<int64_t> rows = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9};
  const Json split = SplitOf(telco_->table, reference_->preprocessing(), rows);
  const std::vector<float> p = Expected(*telco_, rows);
  const Json by_params =
      Post("/invocations", {{"dataframe_split", split}, {"params", {{"predict", "labels"}}}});
  const Json by_query = Post("/invocations?predict=labels", {{"dataframe_split", split}});
  ASSERT_EQ(by_params["predictions"].size(), rows.size());
  for (size_t i = 0; i < rows.size(); ++i) {
    EXPECT_EQ(by_params["predictions"][i], p[i] > 0.5f ? "Yes" : "No");
  }
  EXPECT_EQ(by_params, by_query);
  EXPECT_EQ(Call("POST", "/invocations?predict=classes", Json({{"dataframe_split", split}}).dump())
                .status,
            400);
}

TEST_F(Scoring, MulticlassAnswersClassProbabilities) {
  Serve(*penguins_, "penguins", "");
  const std::vector<int64_t> rows = {0, 100, 200, 300};
  const Json split = SplitOf(penguins_->table, reference_->preprocessing(), rows);
  const Json out = Post("/invocations", {{"dataframe_split", split}});
  ASSERT_EQ(out["predictions"].size(), 4u);
  ASSERT_EQ(out["predictions"][0].size(), 3u);
  ExpectNear(out["predictions"], Expected(*penguins_, rows));

  // v2: one tensor per column, both outputs.
  Json inputs = Json::array();
  for (size_t c = 0; c < split["columns"].size(); ++c) {
    Json data = Json::array();
    bool text = false;
    for (const Json& row : split["data"]) {
      data.push_back(row[c]);
      text |= row[c].is_string();
    }
    inputs.push_back({{"name", split["columns"][c]},
                      {"shape", {rows.size()}},
                      {"datatype", text ? "BYTES" : "FP64"},
                      {"data", data}});
  }
  const Json v2 = Post("/v2/models/penguins/infer",
                       {{"id", "q1"}, {"inputs", inputs},
                        {"outputs", {{{"name", "predict"}}, {{"name", "label"}}}}});
  EXPECT_EQ(v2["model_name"], "penguins");
  EXPECT_FALSE(v2.contains("model_version"));
  EXPECT_EQ(v2["id"], "q1");
  ASSERT_EQ(v2["outputs"].size(), 2u);
  EXPECT_EQ(v2["outputs"][0]["name"], "predict");
  EXPECT_EQ(v2["outputs"][0]["datatype"], "FP32");
  EXPECT_EQ(v2["outputs"][0]["shape"], Json({4, 3}));
  ExpectNear(v2["outputs"][0]["data"], Expected(*penguins_, rows));
  EXPECT_EQ(v2["outputs"][1]["name"], "label");
  EXPECT_EQ(v2["outputs"][1]["datatype"], "BYTES");
  EXPECT_EQ(v2["outputs"][1]["shape"], Json({4}));
  auto labels = reference_->Labels(*reference_->Predict(penguins_->table, rows));
  ASSERT_TRUE(labels.ok());
  for (size_t i = 0; i < rows.size(); ++i) EXPECT_EQ(v2["outputs"][1]["data"][i], (*labels)[i]);
  // Without an id the request's x-request-id answers.
  EXPECT_EQ(Post("/v2/models/penguins/infer", {{"inputs", inputs}})["id"], "rid-1");
}

TEST_F(Scoring, RegressionHasNoLabels) {
  Serve(*ames_, "ames", "1");
  const std::vector<int64_t> rows = {5, 6};
  const Json split = SplitOf(ames_->table, reference_->preprocessing(), rows);
  ExpectNear(Post("/invocations", {{"dataframe_split", split}})["predictions"],
             Expected(*ames_, rows));
  const Json error =
      Post("/invocations", {{"dataframe_split", split}, {"params", {{"predict", "labels"}}}}, 400);
  EXPECT_EQ(error["error_code"], "BAD_REQUEST");
  EXPECT_THAT(error["message"].get<std::string>(), HasSubstr("regression model predicts values"));
  const Json v2 = Post("/v2/models/ames/versions/1/infer",
                       {{"inputs", {{{"name", "x"},
                                     {"shape", {1, 3}},
                                     {"datatype", "FP32"},
                                     {"data", {1, 2, 3}}}}},
                        {"outputs", {{{"name", "label"}}}}},
                       400);
  EXPECT_THAT(v2["error"].get<std::string>(), HasSubstr("names no column of the model"));
}

TEST_F(Scoring, ErrorsHaveEachProtocolsShape) {
  Serve(*telco_);
  Json split = SplitOf(telco_->table, reference_->preprocessing(), {0, 1});
  split["columns"].erase(split["columns"].begin() + 4);  // tenure
  for (Json& row : split["data"]) row.erase(row.begin() + 4);
  const Json mlflow = Post("/invocations", {{"dataframe_split", split}}, 400);
  EXPECT_EQ(mlflow["error_code"], "BAD_REQUEST");
  EXPECT_THAT(mlflow["message"].get<std::string>(), HasSubstr("row 1: column 'tenure' is missing"));

  const Json v2 = Post("/v2/models/churn/infer", {{"inputs", Json::array()}}, 400);
  EXPECT_EQ(v2.size(), 1u);
  EXPECT_THAT(v2["error"].get<std::string>(), HasSubstr("inputs must be a non-empty list"));

  http::HttpResponse res = Call("POST", "/invocations", "x=1", "application/x-www-form-urlencoded");
  EXPECT_EQ(res.status, 415);
  EXPECT_THAT(res.body, HasSubstr("send application/json or text/csv"));
  res = Call("POST", "/invocations", "{}", "application/json; charset=latin-1");
  EXPECT_EQ(res.status, 415);
  EXPECT_THAT(res.body, HasSubstr("must be UTF-8"));
  res = Call("POST", "/invocations", R"({"instances": [[NaN]]})");
  EXPECT_EQ(res.status, 400);
  EXPECT_THAT(res.body, HasSubstr("send null for a missing value"));
  EXPECT_EQ(stats_.rejected.load(), 5);
  EXPECT_EQ(stats_.requests.load(), 0);
}

TEST_F(Scoring, V2MetadataHealthAndVersions) {
  Serve(*telco_, "churn", "3");
  EXPECT_EQ(Json::parse(Call("GET", "/v2").body)["name"], "cairn");
  EXPECT_EQ(Json::parse(Call("GET", "/v2/health/live").body)["live"], true);
  EXPECT_EQ(Json::parse(Call("GET", "/v2/health/ready").body)["ready"], true);
  EXPECT_EQ(Call("GET", "/ping").status, 200);
  EXPECT_EQ(Call("GET", "/health").status, 200);
  EXPECT_EQ(Call("GET", "/version").body, CAIRN_VERSION);

  const Json meta = Json::parse(Call("GET", "/v2/models/churn").body);
  EXPECT_EQ(meta["name"], "churn");
  EXPECT_EQ(meta["versions"], Json({"3"}));
  EXPECT_EQ(meta["platform"], "xgboost");
  EXPECT_EQ(meta["inputs"].size(), reference_->preprocessing().features.size());
  EXPECT_EQ(meta["inputs"][0]["shape"], Json({-1}));
  EXPECT_EQ(meta["outputs"][0]["name"], "predict");
  EXPECT_EQ(meta["outputs"][1]["name"], "label");
  EXPECT_EQ(meta["outputs"][1]["datatype"], "BYTES");
  for (const Json& input : meta["inputs"]) {
    if (input["name"] == "contract") {
      EXPECT_EQ(input["datatype"], "BYTES");
    }
    if (input["name"] == "tenure") {
      EXPECT_EQ(input["datatype"], "INT64");
    }
    if (input["name"] == "monthly_charges") {
      EXPECT_EQ(input["datatype"], "FP64");
    }
  }
  EXPECT_EQ(Json::parse(Call("GET", "/v2/models/churn/versions/3").body), meta);
  EXPECT_EQ(Json::parse(Call("GET", "/v2/models/churn/ready").body)["ready"], true);
  EXPECT_EQ(Call("GET", "/v2/models/churn/versions/3/ready").status, 200);

  http::HttpResponse res = Call("GET", "/v2/models/other");
  EXPECT_EQ(res.status, 404);
  EXPECT_THAT(Json::parse(res.body)["error"].get<std::string>(),
              HasSubstr("this server serves 'churn'"));
  res = Call("POST", "/v2/models/churn/versions/4/infer", "{}");
  EXPECT_EQ(res.status, 404);
  EXPECT_THAT(res.body, HasSubstr("this server serves version 3"));

  // The version form infers too, and answers its version.
  const Json split = SplitOf(telco_->table, reference_->preprocessing(), {3});
  Json inputs = Json::array();
  inputs.push_back({{"name", "rows"},
                    {"shape", {1, split["columns"].size()}},
                    {"datatype", "BYTES"},
                    {"data", split["data"]}});
  // A single [N, F] tensor must hold values its datatype allows: BYTES holds strings only.
  const Json bad = Post("/v2/models/churn/versions/3/infer", {{"inputs", inputs}}, 400);
  EXPECT_THAT(bad["error"].get<std::string>(), HasSubstr("which a BYTES tensor does not hold"));
}

TEST_F(Scoring, CaptureGivesTheRowsAndPredictionsForThePredictionLog) {
  Serve(*telco_);
  const Json split = SplitOf(telco_->table, reference_->preprocessing(), {0, 1});
  http::HttpRequest req;
  req.method = "POST";
  req.path = "/invocations";
  req.headers.emplace_back("content-type", "application/json");
  req.body = Json({{"dataframe_split", split}}).dump();
  ScoringOptions options;
  options.capture = true;
  const ScoringOutcome outcome = model_->Score(Protocol::kMlflow, req, options);
  ASSERT_EQ(outcome.response.status, 200) << outcome.response.body;
  EXPECT_EQ(outcome.rows, 2);
  const Json inputs = Json::parse(outcome.inputs_json);
  EXPECT_EQ(inputs["columns"], split["columns"]);
  EXPECT_EQ(inputs["data"], split["data"]);
  EXPECT_EQ(Json::parse(outcome.outputs_json), Json::parse(outcome.response.body)["predictions"]);

  options.capture = false;
  const ScoringOutcome plain = model_->Score(Protocol::kMlflow, req, options);
  EXPECT_TRUE(plain.inputs_json.empty());
  EXPECT_TRUE(plain.outputs_json.empty());
  EXPECT_THAT(model_->Description(), HasSubstr("native tree evaluator"));
}

TEST(LoadScoringModel, NamesWhatIsMissing) {
  auto model = LoadScoringModel("/nonexistent/model");
  EXPECT_EQ(model.status().code(), StatusCode::kNotFound);
  EXPECT_THAT(model.status().message(), HasSubstr("/nonexistent/model"));
}

}  // namespace
}  // namespace cairn::serving
