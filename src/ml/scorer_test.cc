#include "ml/scorer.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <thread>

#include "ml/trainer.h"

namespace cairn::ml {
namespace {

namespace fs = std::filesystem;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

const std::string kData = CAIRN_SOURCE_DIR "/../shared/data/";
const std::string kFixtureScript = CAIRN_SOURCE_DIR "/src/ml/testdata/mlflow_xgboost_models.py";
constexpr const char* kPython = "/usr/bin/python3";

data::CsvTable Load(const std::string& file) {
  auto t = data::LoadCsvFile(kData + file);
  EXPECT_TRUE(t.ok()) << t.status().ToString();
  return t.ok() ? std::move(*t) : data::CsvTable{};
}

std::string ReadText(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

fs::path TestDir(const std::string& name) {
  const fs::path dir =
      fs::temp_directory_path() / ("cairn-scorer-" + std::to_string(::getpid()) + "-" + name);
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir;
}

int RunCommand(const std::string& command) {
  const int rc = std::system(command.c_str());
  return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

// ---------------------------------------------------------------------------------------------
// Cairn's own model directories

class CairnModel : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    table_ = new data::CsvTable(Load("telco_churn.csv"));
    TrainOptions options;
    options.target = "churn";
    auto r = Train(*table_, options);
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    result_ = new TrainResult(std::move(*r));
    dir_ = new fs::path(TestDir("telco"));
    ModelInfo info;
    info.run_id = "0123456789abcdef0123456789abcdef";
    info.created_millis = 1700000000000;
    auto files = RenderModelDirectory(*result_, info);
    ASSERT_TRUE(files.ok()) << files.status().ToString();
    ASSERT_TRUE(WriteModelFiles(dir_->string(), *files).ok());
    auto labels = EncodeLabels(result_->preprocessing.target, *table_);
    ASSERT_TRUE(labels.ok());
    auto split = SplitRows(Task::kBinary, *labels, 0.2, 42);
    ASSERT_TRUE(split.ok());
    valid_ = new std::vector<int64_t>(split->valid);
  }
  static void TearDownTestSuite() {
    fs::remove_all(*dir_);
    delete table_;
    delete result_;
    delete dir_;
    delete valid_;
  }

  static inline data::CsvTable* table_ = nullptr;
  static inline TrainResult* result_ = nullptr;
  static inline fs::path* dir_ = nullptr;
  static inline std::vector<int64_t>* valid_ = nullptr;
};

TEST_F(CairnModel, PredictsExactlyWhatTheTrainersBoosterPredicts) {
  auto model = LoadedModel::Load(dir_->string());
  ASSERT_TRUE(model.ok()) << model.status().ToString();
  EXPECT_EQ(model->task(), Task::kBinary);
  EXPECT_THAT(model->classes(), ElementsAre("No", "Yes"));
  EXPECT_EQ(model->transform(), OutputTransform::kNone);

  // The trainer's booster, through a DMatrix, on the same validation rows.
  auto booster = XgboostBooster::LoadRaw(result_->booster);
  ASSERT_TRUE(booster.ok());
  auto x = result_->preprocessing.Transform(*table_, *valid_);
  ASSERT_TRUE(x.ok());
  auto matrix = XgboostMatrix::Create(x->values, x->rows, x->cols);
  ASSERT_TRUE(matrix.ok());
  auto expected = booster->Predict(*matrix);
  ASSERT_TRUE(expected.ok());

  auto got = model->Predict(*table_, *valid_);
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_EQ(got->rows, static_cast<int64_t>(valid_->size()));
  EXPECT_EQ(got->width, 1);
  EXPECT_EQ(got->values, *expected);  // bit for bit

  // Evaluating on the recomputed validation rows gives the metrics training logged.
  auto evaluation = model->Evaluate(*table_, std::nullopt, *valid_);
  ASSERT_TRUE(evaluation.ok()) << evaluation.status().ToString();
  EXPECT_EQ(evaluation->rows, static_cast<int64_t>(valid_->size()));
  ASSERT_EQ(evaluation->metrics.size(), result_->metrics.size());
  for (const auto& [name, value] : result_->metrics) {
    EXPECT_DOUBLE_EQ(evaluation->metrics.at(name), value) << name;
  }

  auto labels = model->Labels(*got);
  ASSERT_TRUE(labels.ok());
  const auto classes = got->ClassIndices();
  for (size_t i = 0; i < labels->size(); ++i) {
    EXPECT_EQ((*labels)[i], got->values[i] > 0.5f ? "Yes" : "No");
    EXPECT_EQ(classes[i], got->values[i] > 0.5f ? 1 : 0);
  }
}

TEST_F(CairnModel, ThreadsScoreAtOnce) {
  auto model = LoadedModel::Load(dir_->string());
  ASSERT_TRUE(model.ok());
  auto expected = model->Predict(*table_);
  ASSERT_TRUE(expected.ok());
  std::vector<std::thread> threads;
  std::vector<int> mismatches(4, 0);
  for (size_t t = 0; t < mismatches.size(); ++t) {
    threads.emplace_back([&, t] {
      for (int64_t r = static_cast<int64_t>(t); r < 400; r += 4) {
        auto one = model->Predict(*table_, std::vector<int64_t>{r});
        if (!one.ok() || one->values[0] != expected->values[static_cast<size_t>(r)]) {
          ++mismatches[t];
        }
      }
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_THAT(mismatches, ElementsAre(0, 0, 0, 0));
}

TEST_F(CairnModel, CellsAndTablesScoreAlike) {
  auto model = LoadedModel::Load(dir_->string());
  ASSERT_TRUE(model.ok());
  // The input example, as a JSON client would send it.
  const auto example = nlohmann::json::parse(ReadText(*dir_ / "input_example.json"));
  std::vector<std::string> strings;
  strings.reserve(1000);
  std::vector<Cell> cells;
  for (const auto& row : example["data"]) {
    for (const auto& v : row) {
      if (v.is_null()) {
        cells.emplace_back();
      } else if (v.is_string()) {
        strings.push_back(v.get<std::string>());
        cells.emplace_back(std::string_view(strings.back()));
      } else if (v.is_boolean()) {
        cells.emplace_back(v.get<bool>());
      } else {
        cells.emplace_back(v.get<double>());
      }
    }
  }
  const auto rows = static_cast<int64_t>(example["data"].size());
  auto from_cells = model->PredictCells(cells, rows);
  ASSERT_TRUE(from_cells.ok()) << from_cells.status().ToString();
  // The example holds the first training rows in table order.
  std::vector<int64_t> first;
  auto labels = EncodeLabels(result_->preprocessing.target, *table_);
  auto split = SplitRows(Task::kBinary, *labels, 0.2, 42);
  first.assign(split->train.begin(), split->train.begin() + rows);
  auto from_table = model->Predict(*table_, first);
  ASSERT_TRUE(from_table.ok());
  EXPECT_EQ(from_cells->values, from_table->values);

  // A scoring table with the target absent and columns reordered still scores.
  auto csv = data::LoadCsv(
      "contract,tenure,total_charges,monthly_charges,payment_method,paperless_billing,"
      "streaming_movies,streaming_tv,tech_support,device_protection,online_backup,"
      "online_security,internet_service,multiple_lines,phone_service,dependents,partner,"
      "senior_citizen,female\n"
      "Month-to-month,1,29.85,29.85,Electronic check,1,No,No,No,No,Yes,No,DSL,"
      "No phone service,0,0,1,0,1\n");
  ASSERT_TRUE(csv.ok()) << csv.status().ToString();
  auto one = model->Predict(*csv);
  ASSERT_TRUE(one.ok()) << one.status().ToString();
  auto row0 = model->Predict(*table_, std::vector<int64_t>{0});
  EXPECT_EQ(one->values, row0->values);

  auto missing_column = model->Predict(*data::LoadCsv("tenure\n3\n"));
  EXPECT_THAT(missing_column.status().message(), HasSubstr("no column 'female'"));
  auto unknown_class = model->Evaluate(*data::LoadCsv(
      "churn,contract,tenure,total_charges,monthly_charges,payment_method,paperless_billing,"
      "streaming_movies,streaming_tv,tech_support,device_protection,online_backup,"
      "online_security,internet_service,multiple_lines,phone_service,dependents,partner,"
      "senior_citizen,female\n"
      "Maybe,Month-to-month,1,29.85,29.85,Electronic check,1,No,No,No,No,Yes,No,DSL,"
      "No phone service,0,0,1,0,1\n"));
  EXPECT_THAT(unknown_class.status().message(), HasSubstr("row 1 has 'Maybe'"));
}

TEST_F(CairnModel, PythonXgboostReadsTheDirectoryAsMlflowWould) {
  const fs::path work = TestDir("python-score");
  auto x = result_->preprocessing.Transform(*table_, *valid_);
  ASSERT_TRUE(x.ok());
  {
    std::ofstream out(work / "matrix.csv");
    char buffer[32];
    for (int64_t r = 0; r < x->rows; ++r) {
      for (int64_t c = 0; c < x->cols; ++c) {
        const float v = x->values[static_cast<size_t>(r * x->cols + c)];
        std::snprintf(buffer, sizeof buffer, "%.9g", static_cast<double>(v));
        out << (c ? "," : "") << (std::isnan(v) ? "nan" : buffer);
      }
      out << "\n";
    }
  }
  const std::string command = std::string(kPython) + " " + kFixtureScript + " score " +
                              dir_->string() + " " + (work / "matrix.csv").string() + " " +
                              (work / "out.json").string();
  ASSERT_EQ(RunCommand(command), 0)
      << command << " (python3-xgboost and python3-yaml: scripts/setup)";
  const auto out = nlohmann::json::parse(ReadText(work / "out.json"));

  // PyYAML reads every field back with its type: "No"/"Yes" are strings, not booleans.
  EXPECT_EQ(out["python_function_loader"], "mlflow.xgboost");
  EXPECT_EQ(out["run_id"], "0123456789abcdef0123456789abcdef");
  EXPECT_EQ(out["utc_time_created"], "2023-11-14 22:13:20.000000");
  EXPECT_EQ(out["classes"], nlohmann::json({"No", "Yes"}));
  EXPECT_EQ(out["categories"]["contract"],
            nlohmann::json({"Month-to-month", "One year", "Two year"}));
  EXPECT_EQ(out["has_missing_types"], nlohmann::json({"bool"}));
  EXPECT_EQ(out["inputs"].size(), result_->preprocessing.features.size());
  EXPECT_EQ(out["booster_feature_names"], nlohmann::json(result_->preprocessing.FeatureNames()));

  // XGBClassifier.load_model + predict_proba agree with Cairn's scorer.
  auto model = LoadedModel::Load(dir_->string());
  ASSERT_TRUE(model.ok());
  auto ours = model->PredictMatrix(*x);
  ASSERT_TRUE(ours.ok());
  ASSERT_EQ(out["predictions"].size(), ours->values.size());
  for (size_t i = 0; i < ours->values.size(); ++i) {
    ASSERT_NEAR(out["predictions"][i].get<double>(), ours->values[i], 1e-6) << "row " << i;
  }
  fs::remove_all(work);
}

// ---------------------------------------------------------------------------------------------
// Directories written the way mlflow.xgboost.log_model writes them, by Python's XGBoost

class MlflowModels : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new fs::path(TestDir("mlflow"));
    const std::string command =
        std::string(kPython) + " " + kFixtureScript + " make " + dir_->string() + " " + kData;
    ASSERT_EQ(RunCommand(command), 0) << command << " (needs python3-xgboost: scripts/setup)";
  }
  static void TearDownTestSuite() {
    fs::remove_all(*dir_);
    delete dir_;
  }

  // Loads fixture `name`, scores its CSV and compares with Python's predictions.
  static void ExpectAgreement(const std::string& name, Task task, int64_t width) {
    auto model = LoadedModel::Load((*dir_ / name).string());
    ASSERT_TRUE(model.ok()) << model.status().ToString();
    EXPECT_EQ(model->task(), task);
    const auto expected = nlohmann::json::parse(ReadText(*dir_ / name / "expected.json"));
    const data::CsvTable table = Load(expected["csv"].get<std::string>());
    auto got = model->Predict(table);
    ASSERT_TRUE(got.ok()) << got.status().ToString();
    EXPECT_EQ(got->width, width);
    ASSERT_EQ(got->values.size(), expected["predictions"].size());
    double worst = 0;
    for (size_t i = 0; i < got->values.size(); ++i) {
      worst = std::max(worst, std::abs(got->values[i] - expected["predictions"][i].get<double>()));
    }
    EXPECT_LE(worst, 1e-6) << name;
    std::printf("%s: %zu predictions, largest difference from Python's XGBoost %.3g\n",
                name.c_str(), got->values.size(), worst);
  }

  static inline fs::path* dir_ = nullptr;
};

TEST_F(MlflowModels, BinaryUbjWithASignature) {
  ExpectAgreement("binary_ubj", Task::kBinary, 1);
  auto model = LoadedModel::Load((*dir_ / "binary_ubj").string());
  ASSERT_TRUE(model.ok());
  EXPECT_THAT(model->classes(), ElementsAre("0", "1"));
  EXPECT_EQ(model->preprocessing().features.front().name, "Seniority");
  // A plain MLflow model does not know its target: name it; its classes are 0 and 1.
  const data::CsvTable table = Load("credit_data.csv");
  EXPECT_THAT(model->Evaluate(table).status().message(), HasSubstr("name the column"));
  EXPECT_THAT(model->Evaluate(table, "Status").status().message(), HasSubstr("'good'"));
}

TEST_F(MlflowModels, MulticlassJsonWithAnOlderSignature) {
  ExpectAgreement("multiclass_json", Task::kMulticlass, 3);
}

TEST_F(MlflowModels, RegressionJsonWithoutASignatureUsesTheBoostersNames) {
  ExpectAgreement("regression_json_unsigned", Task::kRegression, 1);
}

TEST_F(MlflowModels, RegressionLegacyBinary) {
  ExpectAgreement("regression_xgb", Task::kRegression, 1);
  auto model = LoadedModel::Load((*dir_ / "regression_xgb").string());
  ASSERT_TRUE(model.ok());
  auto evaluation = model->Evaluate(Load("ames_housing.csv"), "Sale_Price");
  ASSERT_TRUE(evaluation.ok()) << evaluation.status().ToString();
  EXPECT_GT(evaluation->metrics.at("r2"), 0.9);  // its own training data
}

TEST_F(MlflowModels, SignaturesCairnCannotScoreAreNamed) {
  const fs::path dir = *dir_ / "string_input";
  fs::create_directories(dir);
  fs::copy_file(*dir_ / "binary_ubj" / "model.ubj", dir / "model.ubj",
                fs::copy_options::overwrite_existing);
  std::string mlmodel = ReadText(*dir_ / "binary_ubj" / "MLmodel");
  const std::string from = R"({"type": "long", "name": "Time")";
  ASSERT_NE(mlmodel.find(from), std::string::npos);
  mlmodel.replace(mlmodel.find(from), from.size(), R"({"type": "string", "name": "Time")");
  std::ofstream(dir / "MLmodel") << mlmodel;
  auto model = LoadedModel::Load(dir.string());
  EXPECT_EQ(model.status().code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(model.status().message(), HasSubstr("signature input 2 ('Time') has type string"));

  // Without a signature, a booster trained on bare arrays names no columns.
  std::string unsigned_model = ReadText(*dir_ / "binary_ubj" / "MLmodel");
  unsigned_model = unsigned_model.substr(0, unsigned_model.find("signature:")) +
                   "utc_time_created: '2024-02-01 10:11:12.123456'\n";
  std::ofstream(dir / "MLmodel") << unsigned_model;
  EXPECT_THAT(LoadedModel::Load(dir.string()).status().message(),
              HasSubstr("no signature and the booster stores no feature names"));
}

// ---------------------------------------------------------------------------------------------
// Objectives whose output needs a transformation, and mismatched parts

TEST(LoadedModel, RawObjectivesGiveTheSameProbabilities) {
  const data::CsvTable table = Load("penguins.csv");
  TrainOptions options;
  options.target = "species";
  options.params["num_boost_round"] = "15";
  options.params["early_stopping_rounds"] = "0";
  auto trained = Train(table, options);
  ASSERT_TRUE(trained.ok()) << trained.status().ToString();
  auto x = trained->preprocessing.Transform(table);
  ASSERT_TRUE(x.ok());
  auto labels = EncodeLabels(trained->preprocessing.target, table);
  ASSERT_TRUE(labels.ok());
  auto matrix = XgboostMatrix::Create(x->values, x->rows, x->cols, *labels);
  ASSERT_TRUE(matrix.ok());

  // The same trees under two objectives: softprob gives probabilities, softmax labels, whose
  // margins the scorer turns into the same probabilities.
  BoosterOptions booster_options;
  booster_options.num_rounds = 15;
  booster_options.params = {{"num_class", "3"}, {"seed", "1"}, {"max_depth", "3"}};
  booster_options.params["objective"] = "multi:softprob";
  auto softprob = XgboostBooster::Train(*matrix, nullptr, booster_options);
  booster_options.params["objective"] = "multi:softmax";
  auto softmax = XgboostBooster::Train(*matrix, nullptr, booster_options);
  ASSERT_TRUE(softprob.ok() && softmax.ok());
  auto a = LoadedModel::FromParts(trained->preprocessing, *softprob->SaveRaw());
  auto b = LoadedModel::FromParts(trained->preprocessing, *softmax->SaveRaw());
  ASSERT_TRUE(a.ok() && b.ok()) << b.status().ToString();
  EXPECT_EQ(b->transform(), OutputTransform::kSoftmax);
  auto pa = a->PredictMatrix(*x);
  auto pb = b->PredictMatrix(*x);
  ASSERT_TRUE(pa.ok() && pb.ok());
  ASSERT_EQ(pa->values.size(), pb->values.size());
  for (size_t i = 0; i < pa->values.size(); ++i) ASSERT_NEAR(pa->values[i], pb->values[i], 1e-6);

  // A preprocessing for another task, or another number of features, does not fit.
  Preprocessing regression = trained->preprocessing;
  regression.target.task = Task::kRegression;
  regression.target.classes.clear();
  EXPECT_THAT(LoadedModel::FromParts(regression, trained->booster).status().message(),
              HasSubstr("objective is multi:softprob"));
  Preprocessing fewer = trained->preprocessing;
  fewer.features.pop_back();
  EXPECT_THAT(LoadedModel::FromParts(fewer, trained->booster).status().message(),
              HasSubstr("takes 6 features"));
}

TEST(LoadedModel, LogitrawScoresAsProbabilities) {
  const data::CsvTable table = Load("credit_data.csv");
  TrainOptions options;
  options.target = "Status";
  options.params["num_boost_round"] = "10";
  auto trained = Train(table, options);
  ASSERT_TRUE(trained.ok()) << trained.status().ToString();
  auto x = trained->preprocessing.Transform(table);
  auto labels = EncodeLabels(trained->preprocessing.target, table);
  auto matrix = XgboostMatrix::Create(x->values, x->rows, x->cols, *labels);
  ASSERT_TRUE(matrix.ok());
  BoosterOptions booster_options;
  booster_options.num_rounds = 10;
  booster_options.params = {{"objective", "binary:logistic"}, {"seed", "1"}};
  auto logistic = XgboostBooster::Train(*matrix, nullptr, booster_options);
  // logitraw takes base_score as a margin, logistic as a probability: 0 ≙ 0.5.
  booster_options.params["objective"] = "binary:logitraw";
  booster_options.params["base_score"] = "0";
  auto logitraw = XgboostBooster::Train(*matrix, nullptr, booster_options);
  ASSERT_TRUE(logistic.ok() && logitraw.ok());
  auto a = LoadedModel::FromParts(trained->preprocessing, *logistic->SaveRaw());
  auto b = LoadedModel::FromParts(trained->preprocessing, *logitraw->SaveRaw());
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(b->transform(), OutputTransform::kSigmoid);
  auto pa = a->Predict(table);
  auto pb = b->Predict(table);
  ASSERT_TRUE(pa.ok() && pb.ok());
  for (size_t i = 0; i < pa->values.size(); ++i) ASSERT_NEAR(pa->values[i], pb->values[i], 1e-6);
}

}  // namespace
}  // namespace cairn::ml
