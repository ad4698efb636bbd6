#include "ml/model_dir.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <regex>
#include <string>

namespace cairn::ml {
namespace {

namespace fs = std::filesystem;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

const std::string kData = CAIRN_SOURCE_DIR "/../shared/data/";

// A small trained model shared by the tests: telco churn, a few rounds.
const TrainResult& Trained() {
  static const TrainResult result = [] {
    auto table = data::LoadCsvFile(kData + "telco_churn.csv");
    EXPECT_TRUE(table.ok()) << table.status().ToString();
    TrainOptions options;
    options.target = "churn";
    options.params["num_boost_round"] = "20";
    auto r = Train(*table, options);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? std::move(*r) : TrainResult{};
  }();
  return result;
}

ModelInfo Info() {
  ModelInfo info;
  info.run_id = "5e8a4a2f0b1c4d6e8f9a0b1c2d3e4f50";
  info.model_uuid = "0123456789abcdef0123456789abcdef";
  info.created_millis = 1700000000123;  // 2023-11-14 22:13:20.123 UTC
  info.dataset = DatasetRef{"churn", "3", std::string(64, 'a')};
  return info;
}

class TempDir {
 public:
  TempDir() {
    path_ = fs::temp_directory_path() /
            ("cairn-model-dir-" + std::to_string(::getpid()) + "-" + std::to_string(counter_++));
    fs::remove_all(path_);
  }
  ~TempDir() { fs::remove_all(path_); }
  std::string str() const { return path_.string(); }
  fs::path path() const { return path_; }

 private:
  static inline int counter_ = 0;
  fs::path path_;
};

void WriteText(const fs::path& path, const std::string& text) {
  fs::create_directories(path.parent_path());
  std::ofstream(path, std::ios::binary) << text;
}

TEST(RenderModelDirectory, WritesTheMlflowFilesAndReadsThemBack) {
  const TrainResult& r = Trained();
  ASSERT_FALSE(r.booster.empty());
  auto files = RenderModelDirectory(r, Info());
  ASSERT_TRUE(files.ok()) << files.status().ToString();
  std::vector<std::string> names;
  for (const auto& [name, bytes] : *files) names.push_back(name);
  EXPECT_THAT(
      names, ElementsAre("MLmodel", "conda.yaml", "feature_importance.json", "input_example.json",
                         "model.ubj", "preprocessing.json", "python_env.yaml", "requirements.txt"));
  EXPECT_EQ(files->at("model.ubj"), r.booster);
  const std::string& text = files->at("MLmodel");
  EXPECT_THAT(text, HasSubstr("loader_module: mlflow.xgboost"));
  EXPECT_THAT(text, HasSubstr("model_class: xgboost.sklearn.XGBClassifier"));
  EXPECT_THAT(text, HasSubstr("utc_time_created: '2023-11-14 22:13:20.123000'"));
  EXPECT_THAT(text,
              HasSubstr(R"(inputs: '[{"type": "long", "name": "female", "required": true}, )"));

  auto m = ParseMlModel(text);
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  EXPECT_EQ(m->artifact_path, "model");
  EXPECT_EQ(m->run_id, Info().run_id);
  EXPECT_EQ(m->model_uuid, Info().model_uuid);
  EXPECT_EQ(m->mlflow_version, kMlflowFormatVersion);
  EXPECT_EQ(m->xgb_data, "model.ubj");
  EXPECT_EQ(m->model_format, "ubj");
  EXPECT_EQ(m->xgb_version, r.xgboost_version);
  ASSERT_TRUE(m->inputs.has_value());
  ASSERT_EQ(m->inputs->size(), r.preprocessing.features.size());
  auto input = [&](std::string_view name) {
    for (const auto& spec : *m->inputs) {
      if (spec.name == name) return spec.type;
    }
    return std::string("absent");
  };
  EXPECT_EQ(input("tenure"), "long");
  EXPECT_EQ(input("total_charges"), "double");  // has missing values
  EXPECT_EQ(input("contract"), "string");
  ASSERT_TRUE(m->outputs.has_value());
  EXPECT_THAT(*m->outputs, ElementsAre(ColumnSpec{"", "double", true}));
  ASSERT_TRUE(m->preprocessing.has_value());
  EXPECT_TRUE(*m->preprocessing == r.preprocessing);  // "No"/"Yes" stay strings through YAML
  ASSERT_TRUE(m->dataset.has_value());
  EXPECT_EQ(*m->dataset, *Info().dataset);

  // The side files.
  const auto example = nlohmann::json::parse(files->at("input_example.json"));
  EXPECT_EQ(example["columns"].size(), r.preprocessing.features.size());
  const auto importance = nlohmann::json::parse(files->at("feature_importance.json"));
  EXPECT_EQ(importance["features"].size(), r.importance.size());
  EXPECT_EQ(importance["features"][0]["feature"], r.importance[0].feature);
  auto pre = PreprocessingFromJson(nlohmann::json::parse(files->at("preprocessing.json")));
  ASSERT_TRUE(pre.ok());
  EXPECT_TRUE(*pre == r.preprocessing);
  EXPECT_THAT(files->at("requirements.txt"), HasSubstr("xgboost==" + r.xgboost_version));

  // Deterministic; a missing uuid becomes a fresh one.
  EXPECT_EQ(RenderModelDirectory(r, Info())->at("MLmodel"), text);
  ModelInfo fresh = Info();
  fresh.model_uuid.clear();
  auto other = ParseMlModel(RenderModelDirectory(r, fresh)->at("MLmodel"));
  ASSERT_TRUE(other.ok());
  EXPECT_TRUE(std::regex_match(other->model_uuid, std::regex("[0-9a-f]{32}")));
  EXPECT_NE(other->model_uuid, Info().model_uuid);
}

TEST(RenderModelDirectory, MulticlassOutputsNameTheClasses) {
  auto table = data::LoadCsvFile(kData + "penguins.csv");
  ASSERT_TRUE(table.ok());
  TrainOptions options;
  options.target = "species";
  options.params["num_boost_round"] = "5";
  auto r = Train(*table, options);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  auto files = RenderModelDirectory(*r, Info());
  ASSERT_TRUE(files.ok());
  auto m = ParseMlModel(files->at("MLmodel"));
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  EXPECT_THAT(*m->outputs, ElementsAre(ColumnSpec{"Adelie", "double", true},
                                       ColumnSpec{"Chinstrap", "double", true},
                                       ColumnSpec{"Gentoo", "double", true}));
  EXPECT_EQ(m->preprocessing->target.task, Task::kMulticlass);
}

TEST(ModelDirectory, WriteThenLoad) {
  TempDir dir;
  auto files = RenderModelDirectory(Trained(), Info());
  ASSERT_TRUE(files.ok());
  ASSERT_TRUE(WriteModelFiles(dir.str(), *files).ok());
  auto loaded = LoadModelDirectory(dir.str());
  ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();
  EXPECT_EQ(loaded->booster, Trained().booster);
  EXPECT_EQ(loaded->mlmodel.run_id, Info().run_id);
  EXPECT_TRUE(*loaded->mlmodel.preprocessing == Trained().preprocessing);

  EXPECT_EQ(WriteModelFiles(dir.str(), {{"../escape", "x"}}).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(WriteModelFiles(dir.str(), {{"/abs", "x"}}).code(), StatusCode::kInvalidArgument);
}

TEST(ModelDirectory, LoadErrorsNameTheFile) {
  TempDir dir;
  auto absent = LoadModelDirectory(dir.str());
  EXPECT_EQ(absent.status().code(), StatusCode::kNotFound);
  fs::create_directories(dir.path());
  auto no_mlmodel = LoadModelDirectory(dir.str());
  EXPECT_EQ(no_mlmodel.status().code(), StatusCode::kNotFound);
  EXPECT_THAT(no_mlmodel.status().message(), HasSubstr("no MLmodel file"));

  WriteText(dir.path() / "MLmodel", "flavors:\n  xgboost:\n    data: model.xgb\n");
  auto no_booster = LoadModelDirectory(dir.str());
  EXPECT_EQ(no_booster.status().code(), StatusCode::kNotFound);
  EXPECT_THAT(no_booster.status().message(), HasSubstr("model.xgb"));
  EXPECT_THAT(no_booster.status().message(), HasSubstr("flavors.xgboost.data"));

  WriteText(dir.path() / "MLmodel", "flavors:\n  xgboost:\n    data: ../../etc/passwd\n");
  auto escape = LoadModelDirectory(dir.str());
  EXPECT_EQ(escape.status().code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(escape.status().message(), HasSubstr("inside the model directory"));

  WriteText(dir.path() / "MLmodel", "flavors: [\n");
  auto syntax = LoadModelDirectory(dir.str());
  EXPECT_EQ(syntax.status().code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(syntax.status().message(), HasSubstr("MLmodel: line"));
}

TEST(ParseMlModel, ToleratesUnknownKeysAndNamesBadFields) {
  auto minimal = ParseMlModel(
      "flavors:\n  xgboost:\n    data: model.json\n    future: {a: 1}\nfuture_key: [1, 2]\n");
  ASSERT_TRUE(minimal.ok()) << minimal.status().ToString();
  EXPECT_EQ(minimal->model_format, "json");  // from the extension
  EXPECT_FALSE(minimal->inputs.has_value());
  EXPECT_FALSE(minimal->preprocessing.has_value());

  auto sklearn = ParseMlModel("flavors:\n  python_function: {}\n  sklearn: {}\n");
  EXPECT_THAT(sklearn.status().message(), HasSubstr("no xgboost flavor"));
  EXPECT_THAT(sklearn.status().message(), HasSubstr("python_function, sklearn"));
  EXPECT_THAT(ParseMlModel("run_id: x\n").status().message(), HasSubstr("MLmodel: flavors"));
  EXPECT_THAT(ParseMlModel("flavors:\n  xgboost:\n    model_format: ubj\n").status().message(),
              HasSubstr("flavors.xgboost.data is missing"));
  const std::string flavor = "flavors:\n  xgboost:\n    data: model.ubj\n";
  EXPECT_THAT(
      ParseMlModel(flavor + "signature:\n  inputs: '[{\"name\": \"a\"}]'\n").status().message(),
      HasSubstr("signature.inputs[0].type"));
  EXPECT_THAT(ParseMlModel(flavor + "signature:\n  inputs: 'not json'\n").status().message(),
              HasSubstr("signature.inputs is not valid JSON"));
  EXPECT_THAT(
      ParseMlModel(flavor + "cairn:\n  preprocessing: {format_version: 1}\n").status().message(),
      HasSubstr("cairn.preprocessing: missing field preprocessing.target"));

  // Older MLflow signatures say "optional" instead of "required"; tensors are kept as such.
  auto old = ParseMlModel(flavor +
                          "signature:\n  inputs: '[{\"type\": \"double\", \"name\": \"a\", "
                          "\"optional\": true}, {\"type\": \"tensor\", \"tensor-spec\": {}}]'\n");
  ASSERT_TRUE(old.ok()) << old.status().ToString();
  EXPECT_THAT(*old->inputs,
              ElementsAre(ColumnSpec{"a", "double", false}, ColumnSpec{"", "tensor", true}));
}

}  // namespace
}  // namespace cairn::ml
