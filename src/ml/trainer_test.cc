#include "ml/trainer.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "core/hash.h"

namespace cairn::ml {
namespace {

using ::testing::Contains;
using ::testing::HasSubstr;
using ::testing::Key;

const std::string kData = CAIRN_SOURCE_DIR "/../shared/data/";

const data::CsvTable& Table(const std::string& file) {
  static std::map<std::string, data::CsvTable> cache;
  auto it = cache.find(file);
  if (it == cache.end()) {
    auto t = data::LoadCsvFile(kData + file);
    EXPECT_TRUE(t.ok()) << t.status().ToString();
    it = cache.emplace(file, t.ok() ? std::move(*t) : data::CsvTable{}).first;
  }
  return it->second;
}

data::CsvTable Csv(std::string_view text) {
  auto t = data::LoadCsv(text);
  EXPECT_TRUE(t.ok()) << t.status().ToString();
  return t.ok() ? std::move(*t) : data::CsvTable{};
}

TrainOptions Options(const std::string& target) {
  TrainOptions options;
  options.target = target;
  return options;
}

const MetricHistory* History(const TrainResult& r, std::string_view key) {
  for (const auto& h : r.history) {
    if (h.key == key) return &h;
  }
  return nullptr;
}

TEST(Train, TelcoChurnWithTheDefaults) {
  TrainOptions options = Options("churn");
  int callbacks = 0;
  options.on_round = [&](int round, std::span<const EvalEntry> entries) {
    EXPECT_EQ(round, callbacks++);
    EXPECT_EQ(entries.size(), 4u);  // train and valid × logloss and auc
  };
  auto result = Train(Table("telco_churn.csv"), options);
  ASSERT_TRUE(result.ok()) << result.status().ToString();
  const TrainResult& r = *result;
  std::printf("telco: %d rounds, best %d, auc %.4f log loss %.4f f1 %.4f, top feature %s\n",
              r.rounds_run, r.best_iteration, r.metrics.at("auc"), r.metrics.at("log_loss"),
              r.metrics.at("f1"), r.importance.front().feature.c_str());

  // Held-out quality: XGBoost's library defaults without early stopping reach about 0.82.
  EXPECT_GE(r.metrics.at("auc"), 0.84);
  for (const char* name : {"auc", "log_loss", "accuracy", "precision", "recall", "f1"}) {
    EXPECT_THAT(r.metrics, Contains(Key(name)));
  }
  EXPECT_EQ(r.metrics.size(), 6u);

  // Early stopping on the validation AUC, keeping the best round's trees.
  EXPECT_TRUE(r.stopped_early);
  EXPECT_EQ(r.stopping_metric, "auc");
  EXPECT_EQ(r.rounds_run - 1 - r.best_iteration, kDefaultEarlyStoppingRounds);
  EXPECT_EQ(callbacks, r.rounds_run);
  for (const char* key : {"train-logloss", "train-auc", "valid-logloss", "valid-auc"}) {
    const MetricHistory* h = History(r, key);
    ASSERT_NE(h, nullptr) << key;
    EXPECT_EQ(static_cast<int>(h->values.size()), r.rounds_run) << key;
  }
  const MetricHistory* valid_auc = History(r, "valid-auc");
  EXPECT_NEAR(valid_auc->values[static_cast<size_t>(r.best_iteration)], r.metrics.at("auc"), 1e-4);

  // The split: stratified, seeded, every labelled row on one side.
  EXPECT_TRUE(r.split.stratified);
  EXPECT_EQ(r.split.seed, 42u);
  EXPECT_EQ(r.split.total_rows, 7043);
  EXPECT_EQ(r.split.missing_target_rows, 0);
  EXPECT_EQ(r.split.train_rows + r.split.valid_rows, 7043);
  EXPECT_NEAR(static_cast<double>(r.split.valid_rows) / 7043, 0.2, 0.001);

  // Effective parameters: the defaults, the task's, Cairn's.
  EXPECT_EQ(r.params.at("objective"), "binary:logistic");
  EXPECT_EQ(r.params.at("eta"), "0.05");
  EXPECT_EQ(r.params.at("nthread"), "2");
  EXPECT_EQ(r.params.at("seed"), "42");
  EXPECT_EQ(r.params.at("num_boost_round"), "1000");
  EXPECT_EQ(r.params.at("early_stopping_rounds"), "50");

  // SHAP importance: one entry per feature, most important first; contract or tenure leads.
  ASSERT_EQ(r.importance.size(), r.preprocessing.features.size());
  for (size_t i = 1; i < r.importance.size(); ++i) {
    EXPECT_GE(r.importance[i - 1].mean_abs_shap, r.importance[i].mean_abs_shap);
  }
  EXPECT_TRUE(r.importance.front().feature == "contract" ||
              r.importance.front().feature == "tenure")
      << r.importance.front().feature;
  EXPECT_EQ(r.shap_rows, std::min<int64_t>(500, r.split.valid_rows));

  EXPECT_EQ(r.preprocessing.target.task, Task::kBinary);
  EXPECT_GT(r.booster.size(), 1000u);
  EXPECT_EQ(r.xgboost_version, XgboostVersion());
  const auto example = nlohmann::json::parse(r.input_example);
  EXPECT_EQ(example["data"].size(), 5u);
  EXPECT_TRUE(r.warnings.empty());
}

TEST(Train, SameDataParamsAndSeedGiveTheSameBoosterDigest) {
  TrainOptions options = Options("churn");
  options.params["num_boost_round"] = "120";
  options.shap_rows = 0;
  auto a = Train(Table("telco_churn.csv"), options);
  auto b = Train(Table("telco_churn.csv"), options);
  ASSERT_TRUE(a.ok() && b.ok());
  const std::string digest = Sha256Hex(a->booster);
  EXPECT_EQ(Sha256Hex(b->booster), digest);
  options.seed = 7;  // another split and other row/column samples
  auto c = Train(Table("telco_churn.csv"), options);
  ASSERT_TRUE(c.ok());
  EXPECT_NE(Sha256Hex(c->booster), digest);
}

TEST(Train, MulticlassPenguins) {
  auto result = Train(Table("penguins.csv"), Options("species"));
  ASSERT_TRUE(result.ok()) << result.status().ToString();
  EXPECT_EQ(result->preprocessing.target.task, Task::kMulticlass);
  EXPECT_EQ(result->params.at("objective"), "multi:softprob");
  EXPECT_EQ(result->params.at("num_class"), "3");
  EXPECT_EQ(result->stopping_metric, "mlogloss");
  EXPECT_EQ(result->metrics.size(), 3u);
  EXPECT_GE(result->metrics.at("accuracy"), 0.95);
  EXPECT_GE(result->metrics.at("macro_f1"), 0.95);
  EXPECT_LT(result->metrics.at("log_loss"), 0.3);
}

TEST(Train, RegressionAmesHousing) {
  auto result = Train(Table("ames_housing.csv"), Options("Sale_Price"));
  ASSERT_TRUE(result.ok()) << result.status().ToString();
  EXPECT_EQ(result->preprocessing.target.task, Task::kRegression);
  EXPECT_FALSE(result->split.stratified);
  EXPECT_EQ(result->stopping_metric, "rmse");
  EXPECT_GE(result->metrics.at("r2"), 0.85);
  EXPECT_GT(result->metrics.at("rmse"), result->metrics.at("mae"));
  std::printf("ames: r2 %.4f rmse %.0f after %d rounds\n", result->metrics.at("r2"),
              result->metrics.at("rmse"), result->rounds_run);
}

TEST(Train, RowsWithoutATargetAreSetAsideAndCounted) {
  std::string csv = "y,x,id\n";
  for (int i = 0; i < 200; ++i) {
    csv += (i % 10 == 0 ? std::string() : std::to_string((i * 7) % 3 == 0 ? 1 : 0)) + "," +
           std::to_string(i % 17) + ",id" + std::to_string(i) + "\n";
  }
  TrainOptions options = Options("y");
  options.params["num_boost_round"] = "5";
  auto result = Train(Csv(csv), options);
  ASSERT_TRUE(result.ok()) << result.status().ToString();
  EXPECT_EQ(result->split.missing_target_rows, 20);
  EXPECT_EQ(result->split.train_rows + result->split.valid_rows, 180);
  // A column unique in every row is reported as a likely identifier, not dropped.
  ASSERT_EQ(result->warnings.size(), 1u);
  EXPECT_THAT(result->warnings[0], HasSubstr("'id'"));
  EXPECT_EQ(result->preprocessing.features.size(), 2u);

  options.ignore_columns = {"id"};
  auto ignored = Train(Csv(csv), options);
  ASSERT_TRUE(ignored.ok());
  EXPECT_TRUE(ignored->warnings.empty());
  EXPECT_EQ(ignored->preprocessing.features.size(), 1u);
}

TEST(Train, SplitRowsRecomputesTheSplit) {
  const auto& t = Table("credit_data.csv");
  auto target = LearnTarget(t, {"Status", std::nullopt, std::nullopt});
  ASSERT_TRUE(target.ok());
  auto labels = EncodeLabels(*target, t);
  ASSERT_TRUE(labels.ok());
  auto a = SplitRows(Task::kBinary, *labels, 0.25, 9);
  auto b = SplitRows(Task::kBinary, *labels, 0.25, 9);
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(a->train, b->train);
  EXPECT_EQ(a->valid, b->valid);
  EXPECT_EQ(
      a->description.train_rows + a->description.valid_rows + a->description.missing_target_rows,
      t.rows);
  // Stratified: both sides keep the class balance.
  auto share = [&](const std::vector<int64_t>& rows) {
    double bad = 0;
    for (int64_t r : rows) bad += (*labels)[static_cast<size_t>(r)];
    return bad / static_cast<double>(rows.size());
  };
  EXPECT_NEAR(share(a->train), share(a->valid), 0.005);
  TrainOptions options = Options("Status");
  options.validation_fraction = 0.25;
  options.seed = 9;
  options.params["num_boost_round"] = "3";
  auto trained = Train(t, options);
  ASSERT_TRUE(trained.ok());
  EXPECT_EQ(trained->split.train_rows, a->description.train_rows);
  EXPECT_EQ(trained->split.valid_rows, a->description.valid_rows);
}

TEST(Train, BadParametersNameTheParameter) {
  const auto& t = Table("penguins.csv");
  auto check = [&](std::map<std::string, std::string> params, const std::string& expected) {
    TrainOptions options = Options("species");
    options.params = std::move(params);
    auto result = Train(t, options);
    EXPECT_EQ(result.status().code(), StatusCode::kInvalidArgument) << expected;
    EXPECT_THAT(result.status().message(), HasSubstr(expected));
  };
  check({{"max_dept", "3"}}, "unknown XGBoost parameter max_dept");
  check({{"max_depth", "deep"}}, "max_depth=deep: Invalid Parameter format for max_depth");
  check({{"eval_metric", "auc,bogus"}}, "eval_metric=auc,bogus: Unknown metric function bogus");
  check({{"tree_method", "fast"}}, "tree_method=fast: Invalid Input: 'fast'");
  check({{"objective", "binary:logistic"}}, "objective=binary:logistic does not fit a multiclass");
  check({{"num_class", "4"}}, "num_class=4 contradicts the target");
  check({{"num_boost_round", "0"}}, "num_boost_round must be an integer ≥ 1");
  check({{"early_stopping_rounds", "-1"}}, "early_stopping_rounds must be an integer ≥ 0");

  TrainOptions good = Options("species");  // aliases and overrides are fine
  good.params = {{"learning_rate", "0.3"},
                 {"n_estimators", "7"},
                 {"early_stopping_rounds", "0"},
                 {"eval_metric", "merror,mlogloss"},
                 {"reg_lambda", "2"}};
  auto result = Train(t, good);
  ASSERT_TRUE(result.ok()) << result.status().ToString();
  EXPECT_EQ(result->rounds_run, 7);
  EXPECT_EQ(result->best_iteration, 6);
  EXPECT_FALSE(result->stopped_early);
  EXPECT_NE(History(*result, "valid-merror"), nullptr);
  EXPECT_EQ(result->params.at("learning_rate"), "0.3");
}

TEST(Train, BadInputNamesTheCulprit) {
  auto missing = Train(Table("telco_churn.csv"), Options("Churn"));
  EXPECT_EQ(missing.status().code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(missing.status().message(), HasSubstr("target column 'Churn' is not in the data"));

  TrainOptions regression = Options("species");
  regression.task = Task::kRegression;
  auto text = Train(Table("penguins.csv"), regression);
  EXPECT_THAT(text.status().message(), HasSubstr("'species' must be numeric for regression"));

  std::string constant = "y,x\n";
  std::string all_missing = "y,x,gone\n";
  for (int i = 0; i < 50; ++i) {
    constant += "same," + std::to_string(i) + "\n";
    all_missing += std::to_string(i % 2) + "," + std::to_string(i) + ",\n";
  }
  EXPECT_THAT(Train(Csv(constant), Options("y")).status().message(),
              HasSubstr("target column 'y' is constant"));
  EXPECT_THAT(Train(Csv(all_missing), Options("y")).status().message(),
              HasSubstr("column 'gone' has no values"));

  TrainOptions fraction = Options("churn");
  fraction.validation_fraction = 1.0;
  EXPECT_THAT(Train(Table("telco_churn.csv"), fraction).status().message(),
              HasSubstr("validation fraction"));
}

}  // namespace
}  // namespace cairn::ml
