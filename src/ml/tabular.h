// Preprocessing for tabular models: which columns are features and how each one is encoded as a
// number, the target's task and class mapping. Learned from the training rows, saved with the
// model (MLmodel's `cairn` block, preprocessing.json) and applied identically when scoring.
#pragma once

#include <cstdint>
#include <nlohmann/json_fwd.hpp>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "core/result.h"
#include "data/csv_reader.h"
#include "ml/task.h"

namespace cairn::ml {

// ---------------------------------------------------------------------------------------------
// The encoding, exactly:
//  - Features are every column of the training table but the target and the columns the caller
//    names to ignore, in the table's order. Nothing is dropped silently: a column with no value
//    at all (or none in the training rows) is an error naming it.
//  - A column's kind follows its CSV type (csv_reader.h): integer and float columns are
//    kNumeric (the value as a float), boolean columns kBoolean (false 0, true 1), string
//    columns kCategorical.
//  - Categorical encoding: the categories are the distinct values of the column in the training
//    rows, sorted bytewise; category i is encoded as the number i (an ordinal code, which trees
//    split on like any number). A value not seen in training rows — a category that only
//    occurs in validation rows or in scoring data — is encoded as missing, so XGBoost sends it
//    down each tree's default branch, as it does for a missing value.
//  - Missing values (the CSV reader's missing markers, JSON null) are NaN: XGBoost's native
//    missing-value handling, no imputation.
//  - At scoring, columns are matched by name (order and extra columns do not matter). A scoring
//    column whose values are read as numbers or booleans (every value in a small batch may look
//    like a number) still matches a categorical feature: by the number's shortest decimal text
//    ("3", "2.5") or "true"/"false".
// ---------------------------------------------------------------------------------------------

enum class FeatureKind { kNumeric, kBoolean, kCategorical };
std::string_view FeatureKindName(FeatureKind kind);  // "numeric", "boolean", "categorical"

struct Feature {
  std::string name;
  FeatureKind kind = FeatureKind::kNumeric;
  // The column's type in the training table; with `has_missing`, what the model signature says.
  data::ColumnType type = data::ColumnType::kFloat;
  // Whether the training table has missing values in this column (an integer column with
  // missing values is a "double" in an MLflow signature, as pandas reads it).
  bool has_missing = false;
  // kCategorical only: the training rows' categories, sorted bytewise; categories[i] ↦ i.
  std::vector<std::string> categories;

  friend bool operator==(const Feature&, const Feature&) = default;
};

// The prediction target and, for classification, the mapping between its values and XGBoost's
// labels 0..K-1.
struct Target {
  std::string name;
  Task task = Task::kRegression;
  data::ColumnType type = data::ColumnType::kFloat;  // the column's type in the training table
  // Classification only: class i (XGBoost's label i) is classes[i]. Strings as in the file,
  // booleans "false"/"true", integers in decimal. Sorted (bytewise, false < true, numerically),
  // except that a chosen positive class of a binary task is moved to index 1. For binary tasks
  // classes[1] is the positive class: the one whose probability the model predicts.
  std::vector<std::string> classes;

  friend bool operator==(const Target&, const Target&) = default;
};

// Decides the task and learns the class mapping from all rows of `table` with a target value.
// (All rows, not the training rows: the split itself is stratified by class.)
struct TargetOptions {
  std::string column;
  // Unset: detected. A string or boolean target is classification; so is an integer target
  // with at most kMaxAutoClasses distinct values; anything else (a float column, or an integer
  // one with more distinct values) is regression. Classification with 2 classes is binary,
  // with more multiclass.
  std::optional<Task> task;
  // Binary only: the class whose probability the model predicts (default: the last in sorted
  // order, e.g. "Yes" of No/Yes, true of false/true, 1 of 0/1).
  std::optional<std::string> positive_class;
};
inline constexpr int kMaxAutoClasses = 10;

// kInvalidArgument naming the column for: no such column (listing the columns), no value in any
// row, a single value (a constant target: nothing to learn), a non-numeric value for regression
// (naming the 1-based data row and the value), a float value for classification, a binary task
// with more than 2 classes, an unknown positive class.
Result<Target> LearnTarget(const data::CsvTable& table, const TargetOptions& options);

// The target column of `table` as XGBoost labels, one per table row: the class index for
// classification, the value for regression; NaN where the target is missing. kInvalidArgument
// when the column is absent, a class is not one of target.classes, or a regression value is not
// a number (each naming the row and value).
Result<std::vector<float>> EncodeLabels(const Target& target, const data::CsvTable& table);

// Learns the features from the rows `train_rows` of `table`: every column except
// `target_column` and `ignore` (each of which must exist). kInvalidArgument naming the column
// for a column with no value in the table or in the training rows; naming the culprit for an
// unknown or duplicate ignored column, or when nothing is left to learn from.
Result<std::vector<Feature>> LearnFeatures(const data::CsvTable& table,
                                           std::string_view target_column,
                                           std::span<const std::string> ignore,
                                           std::span<const int64_t> train_rows);

// A dense row-major float matrix, NaN for missing: what XGBoost consumes.
struct FeatureMatrix {
  int64_t rows = 0;
  int64_t cols = 0;
  std::vector<float> values;  // rows × cols
};

// One value of a row given cell by cell (a JSON scoring request): missing, a number, a boolean
// or a string (the view need only live for the call).
using Cell = std::variant<std::monostate, double, bool, std::string_view>;

struct Preprocessing {
  Target target;
  std::vector<Feature> features;

  std::vector<std::string> FeatureNames() const;
  // The feature named `name`, or nullptr.
  const Feature* FindFeature(std::string_view name) const;

  // Encodes every row of `table`, or the rows `rows` (table row indices, in that order).
  // kInvalidArgument naming the column when a feature column is absent, or when a value cannot
  // be encoded for its feature — a non-number for a numeric feature, anything but
  // true/false/0/1 for a boolean one — naming the 1-based data row and the value.
  Result<FeatureMatrix> Transform(const data::CsvTable& table) const;
  Result<FeatureMatrix> Transform(const data::CsvTable& table, std::span<const int64_t> rows) const;
  // Encodes `rows` rows given cell by cell, each row's cells in feature order (rows ×
  // features.size() cells), with the same rules as Transform: a number for a numeric feature;
  // a boolean, 0 or 1, or "true"/"false" for a boolean one; a string (or a number or boolean,
  // matched by its text) for a categorical one; missing anywhere.
  Result<FeatureMatrix> TransformCells(std::span<const Cell> cells, int64_t rows) const;

  friend bool operator==(const Preprocessing&, const Preprocessing&) = default;
};

// The JSON form (preprocessing.json and MLmodel's `cairn.preprocessing`); non-UTF-8 names and
// values travel as {"b64": …} (data::BytesToJson). PreprocessingFromJson(ToJson(p)) == p; it
// rejects anything else with kInvalidArgument naming the field, e.g. "features[3].kind".
nlohmann::json ToJson(const Preprocessing& preprocessing);
Result<Preprocessing> PreprocessingFromJson(const nlohmann::json& json);

// MLflow's input example in its "split" orientation, {"columns": [...], "data": [[...], ...]},
// holding the raw feature values of `rows` of `table` (numbers, booleans, strings, null).
nlohmann::json InputExampleJson(const Preprocessing& preprocessing, const data::CsvTable& table,
                                std::span<const int64_t> rows);

// The text a number or boolean of a scoring column is matched to categories and classes by:
// integers in decimal ("3"), other numbers in their shortest round-trip form ("2.5"), booleans
// "true"/"false".
std::string CanonicalText(double number);

}  // namespace cairn::ml
