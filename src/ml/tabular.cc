#include "ml/tabular.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <limits>
#include <nlohmann/json.hpp>
#include <set>
#include <unordered_map>
#include <utility>

#include "data/sketches.h"

namespace cairn::ml {
namespace {

using data::ColumnType;
using data::CsvColumn;
using data::CsvTable;
using Json = nlohmann::json;

constexpr float kNaN = std::numeric_limits<float>::quiet_NaN();

std::string Quote(std::string_view s) { return "'" + std::string(s) + "'"; }

// A list for messages: "a, b, c" (at most `limit` items, then "…").
std::string List(std::span<const std::string> items, size_t limit = 12) {
  std::string out;
  for (size_t i = 0; i < items.size() && i < limit; ++i) out += (i ? ", " : "") + items[i];
  if (items.size() > limit) out += ", … (" + std::to_string(items.size()) + " in all)";
  return out;
}

bool IsMissingAt(const CsvColumn& c, int64_t row) {
  const auto r = static_cast<size_t>(row);
  return c.type == ColumnType::kString ? c.codes[r] < 0 : std::isnan(c.numbers[r]);
}

// A value of a table column as text, for messages and for matching categories and classes.
std::string TextAt(const CsvColumn& c, int64_t row) {
  const auto r = static_cast<size_t>(row);
  switch (c.type) {
    case ColumnType::kString:
      return c.codes[r] < 0 ? "" : c.dictionary[static_cast<size_t>(c.codes[r])];
    case ColumnType::kBoolean:
      return c.numbers[r] != 0 ? "true" : "false";
    default:
      return CanonicalText(c.numbers[r]);
  }
}

std::string RowMessage(std::string_view column, int64_t row, std::string_view value,
                       std::string_view problem) {
  return "column " + Quote(column) + ": row " + std::to_string(row + 1) + " has " + Quote(value) +
         ", " + std::string(problem);
}

// Calls fn(i, row) for the i-th selected row: all rows of the table, or `rows`.
template <typename Fn>
void ForRows(int64_t table_rows, std::span<const int64_t> rows, bool all, Fn&& fn) {
  if (all) {
    for (int64_t r = 0; r < table_rows; ++r) fn(r, r);
  } else {
    for (size_t i = 0; i < rows.size(); ++i) fn(static_cast<int64_t>(i), rows[i]);
  }
}

// The code of `text` among the sorted categories, or NaN when unseen.
float CategoryCode(const std::vector<std::string>& categories, std::string_view text) {
  const auto it = std::lower_bound(categories.begin(), categories.end(), text);
  if (it == categories.end() || *it != text) return kNaN;
  return static_cast<float>(it - categories.begin());
}

// Writes the encoded values of one feature into column `out[i * stride]` for each selected row.
Status EncodeColumn(const Feature& f, const CsvColumn& c, int64_t table_rows,
                    std::span<const int64_t> rows, bool all, float* out, int64_t stride) {
  Status status;
  auto put = [&](int64_t i, float v) { out[i * stride] = v; };
  switch (f.kind) {
    case FeatureKind::kNumeric: {
      if (c.type == ColumnType::kInteger || c.type == ColumnType::kFloat) {
        const double* numbers = c.numbers.data();
        ForRows(table_rows, rows, all,
                [&](int64_t i, int64_t r) { put(i, static_cast<float>(numbers[r])); });
        return status;
      }
      if (c.type == ColumnType::kBoolean) {
        ForRows(table_rows, rows, all, [&](int64_t i, int64_t r) {
          if (status.ok() && !IsMissingAt(c, r)) {
            status = InvalidArgument(
                RowMessage(f.name, r, TextAt(c, r), "but the model takes numbers there"));
          }
          put(i, kNaN);
        });
        return status;
      }
      // A string column: numbers written as text are fine, anything else is an error.
      std::vector<float> parsed(c.dictionary.size(), kNaN);
      std::vector<char> bad(c.dictionary.size(), 0);
      for (size_t k = 0; k < c.dictionary.size(); ++k) {
        const auto v = data::ParseFloat(c.dictionary[k]);
        if (v) parsed[k] = static_cast<float>(*v);
        bad[k] = !v;
      }
      ForRows(table_rows, rows, all, [&](int64_t i, int64_t r) {
        const int32_t code = c.codes[static_cast<size_t>(r)];
        if (code < 0) return put(i, kNaN);
        if (bad[static_cast<size_t>(code)] && status.ok()) {
          status = InvalidArgument(
              RowMessage(f.name, r, TextAt(c, r), "but the model takes numbers there"));
        }
        put(i, parsed[static_cast<size_t>(code)]);
      });
      return status;
    }
    case FeatureKind::kBoolean: {
      if (c.type == ColumnType::kString) {
        std::vector<float> parsed(c.dictionary.size(), kNaN);
        for (size_t k = 0; k < c.dictionary.size(); ++k) {
          if (const auto b = data::ParseBoolean(c.dictionary[k])) parsed[k] = *b ? 1.0f : 0.0f;
        }
        ForRows(table_rows, rows, all, [&](int64_t i, int64_t r) {
          const int32_t code = c.codes[static_cast<size_t>(r)];
          const float v = code < 0 ? kNaN : parsed[static_cast<size_t>(code)];
          if (code >= 0 && std::isnan(v) && status.ok()) {
            status = InvalidArgument(
                RowMessage(f.name, r, TextAt(c, r), "but the model takes true or false there"));
          }
          put(i, v);
        });
        return status;
      }
      const double* numbers = c.numbers.data();
      ForRows(table_rows, rows, all, [&](int64_t i, int64_t r) {
        const double v = numbers[r];
        if (!std::isnan(v) && v != 0 && v != 1 && status.ok()) {
          status = InvalidArgument(
              RowMessage(f.name, r, TextAt(c, r), "but the model takes true or false there"));
        }
        put(i, static_cast<float>(v));
      });
      return status;
    }
    case FeatureKind::kCategorical: {
      if (c.type == ColumnType::kString) {
        std::vector<float> code_of(c.dictionary.size());
        for (size_t k = 0; k < c.dictionary.size(); ++k) {
          code_of[k] = CategoryCode(f.categories, c.dictionary[k]);
        }
        const int32_t* codes = c.codes.data();
        ForRows(table_rows, rows, all, [&](int64_t i, int64_t r) {
          put(i, codes[r] < 0 ? kNaN : code_of[static_cast<size_t>(codes[r])]);
        });
        return status;
      }
      ForRows(table_rows, rows, all, [&](int64_t i, int64_t r) {
        put(i, IsMissingAt(c, r) ? kNaN : CategoryCode(f.categories, TextAt(c, r)));
      });
      return status;
    }
  }
  return Internal("unknown feature kind");
}

Result<float> EncodeCell(const Feature& f, const Cell& cell) {
  if (std::holds_alternative<std::monostate>(cell)) return kNaN;
  auto bad = [&](std::string_view what, std::string_view expected) -> Status {
    return InvalidArgument("column " + Quote(f.name) + ": got " + std::string(what) +
                           ", but the model takes " + std::string(expected) + " there");
  };
  switch (f.kind) {
    case FeatureKind::kNumeric:
      if (const double* d = std::get_if<double>(&cell)) return static_cast<float>(*d);
      if (const bool* b = std::get_if<bool>(&cell)) {
        return bad(std::string("the boolean ") + (*b ? "true" : "false"), "numbers");
      }
      return bad("the string " + Quote(std::get<std::string_view>(cell)), "numbers");
    case FeatureKind::kBoolean:
      if (const bool* b = std::get_if<bool>(&cell)) return *b ? 1.0f : 0.0f;
      if (const double* d = std::get_if<double>(&cell)) {
        if (std::isnan(*d) || *d == 0 || *d == 1) return static_cast<float>(*d);
        return bad("the number " + CanonicalText(*d), "true or false");
      }
      if (const auto b = data::ParseBoolean(std::get<std::string_view>(cell))) {
        return *b ? 1.0f : 0.0f;
      }
      return bad("the string " + Quote(std::get<std::string_view>(cell)), "true or false");
    case FeatureKind::kCategorical:
      if (const auto* s = std::get_if<std::string_view>(&cell)) {
        return CategoryCode(f.categories, *s);
      }
      if (const double* d = std::get_if<double>(&cell)) {
        return std::isnan(*d) ? kNaN : CategoryCode(f.categories, CanonicalText(*d));
      }
      return CategoryCode(f.categories, std::get<bool>(cell) ? "true" : "false");
  }
  return Internal("unknown feature kind");
}

// ---------------------------------------------------------------------------------------------
// JSON helpers: every accessor names the field it failed on.

Result<const Json*> Field(const Json& object, std::string_view path, std::string_view key,
                          bool required = true) {
  if (!object.is_object()) return InvalidArgument(std::string(path) + " must be an object");
  const auto it = object.find(key);
  if (it == object.end()) {
    if (!required) return static_cast<const Json*>(nullptr);
    return InvalidArgument("missing field " + std::string(path) + "." + std::string(key));
  }
  return &*it;
}

Result<std::string> StringField(const Json& object, std::string_view path, std::string_view key) {
  CAIRN_TRY(const Json* value, Field(object, path, key));
  try {
    return data::BytesFromJson(*value);
  } catch (const std::exception&) {
    return InvalidArgument(std::string(path) + "." + std::string(key) + " must be a string");
  }
}

Result<ColumnType> ParseColumnType(std::string_view name, std::string_view field) {
  for (ColumnType t :
       {ColumnType::kInteger, ColumnType::kFloat, ColumnType::kBoolean, ColumnType::kString}) {
    if (name == data::ColumnTypeName(t)) return t;
  }
  return InvalidArgument(std::string(field) + " must be integer, float, boolean or string, got " +
                         Quote(name));
}

Result<std::vector<std::string>> StringList(const Json& object, std::string_view path,
                                            std::string_view key) {
  CAIRN_TRY(const Json* value, Field(object, path, key));
  const std::string field = std::string(path) + "." + std::string(key);
  if (!value->is_array()) return InvalidArgument(field + " must be an array");
  std::vector<std::string> out;
  out.reserve(value->size());
  for (size_t i = 0; i < value->size(); ++i) {
    try {
      out.push_back(data::BytesFromJson((*value)[i]));
    } catch (const std::exception&) {
      return InvalidArgument(field + "[" + std::to_string(i) + "] must be a string");
    }
  }
  return out;
}

Json StringsToJson(const std::vector<std::string>& items) {
  Json out = Json::array();
  for (const auto& s : items) out.push_back(data::BytesToJson(s));
  return out;
}

}  // namespace

std::string_view FeatureKindName(FeatureKind kind) {
  switch (kind) {
    case FeatureKind::kNumeric:
      return "numeric";
    case FeatureKind::kBoolean:
      return "boolean";
    case FeatureKind::kCategorical:
      return "categorical";
  }
  return "unknown";
}

std::string CanonicalText(double number) {
  if (std::isnan(number)) return "nan";
  if (std::isinf(number)) return number > 0 ? "inf" : "-inf";
  if (number == std::trunc(number) && std::abs(number) < 9.0e18) {
    return std::to_string(static_cast<int64_t>(number));
  }
  char buffer[32];
  const auto [end, ec] = std::to_chars(buffer, buffer + sizeof buffer, number);
  return std::string(buffer, end);
}

// ---------------------------------------------------------------------------------------------
// Target

Result<Target> LearnTarget(const CsvTable& table, const TargetOptions& options) {
  const CsvColumn* c = table.Find(options.column);
  if (c == nullptr) {
    std::vector<std::string> names;
    for (const auto& col : table.columns) names.push_back(col.name);
    return InvalidArgument("target column " + Quote(options.column) +
                           " is not in the data; the columns are: " + List(names));
  }
  if (table.rows == 0 || c->missing == table.rows) {
    return InvalidArgument("target column " + Quote(c->name) + " has no values");
  }
  Target target;
  target.name = c->name;
  target.type = c->type;

  bool classification = false;
  if (options.task) {
    classification = IsClassification(*options.task);
  } else if (c->type == ColumnType::kString || c->type == ColumnType::kBoolean) {
    classification = true;
  } else if (c->type == ColumnType::kInteger) {
    std::set<double> distinct;
    for (double v : c->numbers) {
      if (!std::isnan(v)) distinct.insert(v);
      if (distinct.size() > static_cast<size_t>(kMaxAutoClasses)) break;
    }
    classification = distinct.size() <= static_cast<size_t>(kMaxAutoClasses);
  }

  if (!classification) {
    if (options.positive_class) {
      return InvalidArgument("a positive class only applies to binary classification, and " +
                             Quote(c->name) + " is a regression target");
    }
    if (c->type == ColumnType::kString || c->type == ColumnType::kBoolean) {
      for (int64_t r = 0; r < table.rows; ++r) {
        if (IsMissingAt(*c, r)) continue;
        if (c->type == ColumnType::kString && data::ParseFloat(TextAt(*c, r))) continue;
        return InvalidArgument("target column " + Quote(c->name) +
                               " must be numeric for regression, but row " + std::to_string(r + 1) +
                               " has " + Quote(TextAt(*c, r)));
      }
    }
    CAIRN_TRY(auto labels, EncodeLabels(target, table));
    float first = kNaN;
    bool constant = true;
    for (float v : labels) {
      if (std::isnan(v)) continue;
      if (std::isnan(first)) {
        first = v;
      } else if (v != first) {
        constant = false;
        break;
      }
    }
    if (constant) {
      return InvalidArgument("target column " + Quote(c->name) + " is constant (every value is " +
                             CanonicalText(first) + "): there is nothing to learn");
    }
    return target;
  }

  // Classification: the distinct values, sorted, are the classes.
  switch (c->type) {
    case ColumnType::kString: {
      std::vector<char> used(c->dictionary.size(), 0);
      for (int32_t code : c->codes) {
        if (code >= 0) used[static_cast<size_t>(code)] = 1;
      }
      for (size_t k = 0; k < used.size(); ++k) {
        if (used[k]) target.classes.push_back(c->dictionary[k]);
      }
      std::sort(target.classes.begin(), target.classes.end());
      break;
    }
    case ColumnType::kBoolean: {
      bool seen[2] = {false, false};
      for (double v : c->numbers) {
        if (!std::isnan(v)) seen[v != 0] = true;
      }
      if (seen[0]) target.classes.push_back("false");
      if (seen[1]) target.classes.push_back("true");
      break;
    }
    case ColumnType::kInteger: {
      std::set<double> distinct;
      for (double v : c->numbers) {
        if (!std::isnan(v)) distinct.insert(v);
      }
      for (double v : distinct) target.classes.push_back(CanonicalText(v));
      break;
    }
    case ColumnType::kFloat: {
      for (int64_t r = 0; r < table.rows; ++r) {
        const double v = c->numbers[static_cast<size_t>(r)];
        if (!std::isnan(v) && v != std::trunc(v)) {
          return InvalidArgument("target column " + Quote(c->name) + " has the value " +
                                 CanonicalText(v) + " (row " + std::to_string(r + 1) +
                                 "); a classification target holds strings, booleans or "
                                 "integers");
        }
      }
      return InvalidArgument("target column " + Quote(c->name) +
                             " holds floating-point numbers; a classification target holds "
                             "strings, booleans or integers");
    }
  }
  if (target.classes.size() < 2) {
    return InvalidArgument("target column " + Quote(c->name) + " is constant (every value is " +
                           Quote(target.classes.front()) + "): there is nothing to learn");
  }
  target.task = options.task ? *options.task
                             : (target.classes.size() == 2 ? Task::kBinary : Task::kMulticlass);
  if (target.task == Task::kBinary && target.classes.size() > 2) {
    return InvalidArgument("target column " + Quote(c->name) + " has " +
                           std::to_string(target.classes.size()) + " classes (" +
                           List(target.classes) + "); a binary task needs exactly 2");
  }
  if (options.positive_class) {
    if (target.task != Task::kBinary) {
      return InvalidArgument("a positive class only applies to binary classification, and " +
                             Quote(c->name) + " has " + std::to_string(target.classes.size()) +
                             " classes");
    }
    const auto it =
        std::find(target.classes.begin(), target.classes.end(), *options.positive_class);
    if (it == target.classes.end()) {
      return InvalidArgument("positive class " + Quote(*options.positive_class) +
                             " is not a class of " + Quote(c->name) + " (" + List(target.classes) +
                             ")");
    }
    if (it == target.classes.begin()) std::swap(target.classes[0], target.classes[1]);
  }
  return target;
}

Result<std::vector<float>> EncodeLabels(const Target& target, const CsvTable& table) {
  const CsvColumn* c = table.Find(target.name);
  if (c == nullptr) return InvalidArgument("the data has no target column " + Quote(target.name));
  std::vector<float> labels(static_cast<size_t>(table.rows), kNaN);
  if (target.task == Task::kRegression) {
    for (int64_t r = 0; r < table.rows; ++r) {
      if (IsMissingAt(*c, r)) continue;
      const auto i = static_cast<size_t>(r);
      if (c->type == ColumnType::kInteger || c->type == ColumnType::kFloat) {
        labels[i] = static_cast<float>(c->numbers[i]);
        continue;
      }
      const auto v = c->type == ColumnType::kString ? data::ParseFloat(TextAt(*c, r))
                                                    : std::optional<double>();
      if (!v) {
        return InvalidArgument("target column " + Quote(c->name) +
                               " must be numeric for regression, but row " + std::to_string(r + 1) +
                               " has " + Quote(TextAt(*c, r)));
      }
      labels[i] = static_cast<float>(*v);
    }
    return labels;
  }
  std::unordered_map<std::string, int> index;
  for (size_t k = 0; k < target.classes.size(); ++k) {
    index.emplace(target.classes[k], static_cast<int>(k));
  }
  auto unknown = [&](int64_t r) {
    return InvalidArgument("target column " + Quote(c->name) + ": row " + std::to_string(r + 1) +
                           " has " + Quote(TextAt(*c, r)) + ", which is not one of the classes (" +
                           List(target.classes) + ")");
  };
  if (c->type == ColumnType::kString) {
    std::vector<int> class_of(c->dictionary.size(), -1);
    for (size_t k = 0; k < c->dictionary.size(); ++k) {
      const auto it = index.find(c->dictionary[k]);
      if (it != index.end()) class_of[k] = it->second;
    }
    for (int64_t r = 0; r < table.rows; ++r) {
      const int32_t code = c->codes[static_cast<size_t>(r)];
      if (code < 0) continue;
      const int k = class_of[static_cast<size_t>(code)];
      if (k < 0) return unknown(r);
      labels[static_cast<size_t>(r)] = static_cast<float>(k);
    }
    return labels;
  }
  std::unordered_map<double, int> memo;
  for (int64_t r = 0; r < table.rows; ++r) {
    const double v = c->numbers[static_cast<size_t>(r)];
    if (std::isnan(v)) continue;
    auto it = memo.find(v);
    if (it == memo.end()) {
      const auto found = index.find(TextAt(*c, r));
      it = memo.emplace(v, found == index.end() ? -1 : found->second).first;
    }
    if (it->second < 0) return unknown(r);
    labels[static_cast<size_t>(r)] = static_cast<float>(it->second);
  }
  return labels;
}

// ---------------------------------------------------------------------------------------------
// Features

Result<std::vector<Feature>> LearnFeatures(const CsvTable& table, std::string_view target_column,
                                           std::span<const std::string> ignore,
                                           std::span<const int64_t> train_rows) {
  if (table.Find(target_column) == nullptr) {
    return InvalidArgument("target column " + Quote(target_column) + " is not in the data");
  }
  for (size_t i = 0; i < ignore.size(); ++i) {
    if (ignore[i] == target_column) {
      return InvalidArgument("column " + Quote(ignore[i]) +
                             " is the target; it cannot also be ignored");
    }
    if (table.Find(ignore[i]) == nullptr) {
      return InvalidArgument("ignored column " + Quote(ignore[i]) + " is not in the data");
    }
    if (std::find(ignore.begin(), ignore.begin() + static_cast<ptrdiff_t>(i), ignore[i]) !=
        ignore.begin() + static_cast<ptrdiff_t>(i)) {
      return InvalidArgument("column " + Quote(ignore[i]) + " is ignored twice");
    }
  }
  if (train_rows.empty()) return InvalidArgument("no training rows");
  std::vector<Feature> features;
  for (const CsvColumn& c : table.columns) {
    if (c.name == target_column ||
        std::find(ignore.begin(), ignore.end(), c.name) != ignore.end()) {
      continue;
    }
    if (c.missing == table.rows) {
      return InvalidArgument("column " + Quote(c.name) + " has no values (all " +
                             std::to_string(table.rows) +
                             " rows are missing); ignore it to train without it");
    }
    Feature f;
    f.name = c.name;
    f.type = c.type;
    f.has_missing = c.missing > 0;
    f.kind = c.type == ColumnType::kString    ? FeatureKind::kCategorical
             : c.type == ColumnType::kBoolean ? FeatureKind::kBoolean
                                              : FeatureKind::kNumeric;
    int64_t present = 0;
    if (f.kind == FeatureKind::kCategorical) {
      std::vector<char> seen(c.dictionary.size(), 0);
      for (int64_t r : train_rows) {
        const int32_t code = c.codes[static_cast<size_t>(r)];
        if (code >= 0) {
          seen[static_cast<size_t>(code)] = 1;
          ++present;
        }
      }
      for (size_t k = 0; k < seen.size(); ++k) {
        if (seen[k]) f.categories.push_back(c.dictionary[k]);
      }
      std::sort(f.categories.begin(), f.categories.end());
    } else {
      for (int64_t r : train_rows) present += std::isnan(c.numbers[static_cast<size_t>(r)]) ? 0 : 1;
    }
    if (present == 0) {
      return InvalidArgument("column " + Quote(c.name) + " has no values in the " +
                             std::to_string(train_rows.size()) +
                             " training rows; ignore it to train without it");
    }
    features.push_back(std::move(f));
  }
  if (features.empty()) {
    return InvalidArgument("no feature columns: the data has nothing but the target" +
                           std::string(ignore.empty() ? "" : " and the ignored columns"));
  }
  return features;
}

// ---------------------------------------------------------------------------------------------
// Preprocessing

std::vector<std::string> Preprocessing::FeatureNames() const {
  std::vector<std::string> names;
  names.reserve(features.size());
  for (const auto& f : features) names.push_back(f.name);
  return names;
}

const Feature* Preprocessing::FindFeature(std::string_view name) const {
  for (const auto& f : features) {
    if (f.name == name) return &f;
  }
  return nullptr;
}

namespace {

Result<FeatureMatrix> TransformImpl(const Preprocessing& p, const CsvTable& table,
                                    std::span<const int64_t> rows, bool all) {
  FeatureMatrix m;
  m.rows = all ? table.rows : static_cast<int64_t>(rows.size());
  m.cols = static_cast<int64_t>(p.features.size());
  if (!all) {
    for (int64_t r : rows) {
      if (r < 0 || r >= table.rows) {
        return InvalidArgument("row index " + std::to_string(r) + " is outside the table's " +
                               std::to_string(table.rows) + " rows");
      }
    }
  }
  std::vector<const CsvColumn*> columns;
  for (const auto& f : p.features) {
    const CsvColumn* c = table.Find(f.name);
    if (c == nullptr) {
      return InvalidArgument("the data has no column " + Quote(f.name) + ", which the model needs");
    }
    columns.push_back(c);
  }
  m.values.resize(static_cast<size_t>(m.rows * m.cols));
  for (size_t j = 0; j < p.features.size(); ++j) {
    CAIRN_RETURN_IF_ERROR(EncodeColumn(p.features[j], *columns[j], table.rows, rows, all,
                                       m.values.data() + j, m.cols));
  }
  return m;
}

}  // namespace

Result<FeatureMatrix> Preprocessing::Transform(const CsvTable& table) const {
  return TransformImpl(*this, table, {}, true);
}

Result<FeatureMatrix> Preprocessing::Transform(const CsvTable& table,
                                               std::span<const int64_t> rows) const {
  return TransformImpl(*this, table, rows, false);
}

Result<FeatureMatrix> Preprocessing::TransformCells(std::span<const Cell> cells,
                                                    int64_t rows) const {
  const size_t cols = features.size();
  if (rows < 0 || cells.size() != static_cast<size_t>(rows) * cols) {
    return InvalidArgument(std::to_string(cells.size()) + " values for " + std::to_string(rows) +
                           " rows of " + std::to_string(cols) + " features");
  }
  FeatureMatrix m;
  m.rows = rows;
  m.cols = static_cast<int64_t>(cols);
  m.values.resize(cells.size());
  for (size_t i = 0; i < cells.size(); ++i) {
    auto v = EncodeCell(features[i % cols], cells[i]);
    if (!v.ok()) {
      return InvalidArgument("row " + std::to_string(i / cols + 1) + ", " + v.status().message());
    }
    m.values[i] = *v;
  }
  return m;
}

// ---------------------------------------------------------------------------------------------
// JSON

Json ToJson(const Preprocessing& p) {
  Json target = {{"name", data::BytesToJson(p.target.name)},
                 {"task", TaskName(p.target.task)},
                 {"type", data::ColumnTypeName(p.target.type)}};
  if (IsClassification(p.target.task)) target["classes"] = StringsToJson(p.target.classes);
  Json features = Json::array();
  for (const auto& f : p.features) {
    Json j = {{"name", data::BytesToJson(f.name)},
              {"kind", FeatureKindName(f.kind)},
              {"type", data::ColumnTypeName(f.type)},
              {"has_missing", f.has_missing}};
    if (f.kind == FeatureKind::kCategorical) j["categories"] = StringsToJson(f.categories);
    features.push_back(std::move(j));
  }
  return Json{{"format_version", 1},
              {"target", std::move(target)},
              {"features", std::move(features)},
              {"missing_values", "NaN, left to XGBoost"},
              {"categorical_encoding", "ordinal: index in the sorted training categories"},
              {"unseen_categories", "missing"}};
}

Result<Preprocessing> PreprocessingFromJson(const Json& json) {
  Preprocessing p;
  CAIRN_TRY(const Json* version, Field(json, "preprocessing", "format_version"));
  if (!version->is_number_integer() || version->get<int64_t>() != 1) {
    return InvalidArgument("preprocessing.format_version must be 1");
  }
  CAIRN_TRY(const Json* target, Field(json, "preprocessing", "target"));
  CAIRN_TRY(p.target.name, StringField(*target, "target", "name"));
  CAIRN_TRY(std::string task, StringField(*target, "target", "task"));
  auto parsed_task = ParseTask(task);
  if (!parsed_task.ok()) return InvalidArgument("target.task: " + parsed_task.status().message());
  p.target.task = *parsed_task;
  CAIRN_TRY(std::string type, StringField(*target, "target", "type"));
  CAIRN_TRY(p.target.type, ParseColumnType(type, "target.type"));
  if (IsClassification(p.target.task)) {
    CAIRN_TRY(p.target.classes, StringList(*target, "target", "classes"));
    if (p.target.classes.size() < 2 ||
        (p.target.task == Task::kBinary && p.target.classes.size() != 2)) {
      return InvalidArgument("target.classes: " + std::to_string(p.target.classes.size()) +
                             " classes for a " + std::string(TaskName(p.target.task)) + " task");
    }
  }
  CAIRN_TRY(const Json* features, Field(json, "preprocessing", "features"));
  if (!features->is_array() || features->empty()) {
    return InvalidArgument("preprocessing.features must be a non-empty array");
  }
  for (size_t i = 0; i < features->size(); ++i) {
    const Json& j = (*features)[i];
    const std::string path = "features[" + std::to_string(i) + "]";
    Feature f;
    CAIRN_TRY(f.name, StringField(j, path, "name"));
    CAIRN_TRY(std::string kind, StringField(j, path, "kind"));
    bool known = false;
    for (FeatureKind k :
         {FeatureKind::kNumeric, FeatureKind::kBoolean, FeatureKind::kCategorical}) {
      if (kind == FeatureKindName(k)) {
        f.kind = k;
        known = true;
      }
    }
    if (!known) {
      return InvalidArgument(path + ".kind must be numeric, boolean or categorical, got " +
                             Quote(kind));
    }
    CAIRN_TRY(std::string ftype, StringField(j, path, "type"));
    CAIRN_TRY(f.type, ParseColumnType(ftype, path + ".type"));
    CAIRN_TRY(const Json* has_missing, Field(j, path, "has_missing"));
    if (!has_missing->is_boolean()) return InvalidArgument(path + ".has_missing must be a boolean");
    f.has_missing = has_missing->get<bool>();
    if (f.kind == FeatureKind::kCategorical) {
      CAIRN_TRY(f.categories, StringList(j, path, "categories"));
      if (!std::is_sorted(f.categories.begin(), f.categories.end()) ||
          std::adjacent_find(f.categories.begin(), f.categories.end()) != f.categories.end()) {
        return InvalidArgument(path + ".categories must be sorted and distinct");
      }
    }
    if (p.FindFeature(f.name) != nullptr) {
      return InvalidArgument(path + ".name: feature " + Quote(f.name) + " appears twice");
    }
    p.features.push_back(std::move(f));
  }
  return p;
}

Json InputExampleJson(const Preprocessing& p, const CsvTable& table,
                      std::span<const int64_t> rows) {
  Json columns = Json::array();
  std::vector<const CsvColumn*> source;
  for (const auto& f : p.features) {
    columns.push_back(data::BytesToJson(f.name));
    source.push_back(table.Find(f.name));
  }
  Json data = Json::array();
  for (int64_t r : rows) {
    if (r < 0 || r >= table.rows) continue;
    Json row = Json::array();
    for (const CsvColumn* c : source) {
      if (c == nullptr || IsMissingAt(*c, r)) {
        row.push_back(nullptr);
        continue;
      }
      const double v = c->type == ColumnType::kString ? 0 : c->numbers[static_cast<size_t>(r)];
      switch (c->type) {
        case ColumnType::kString:
          row.push_back(data::BytesToJson(TextAt(*c, r)));
          break;
        case ColumnType::kBoolean:
          row.push_back(v != 0);
          break;
        case ColumnType::kInteger:
          row.push_back(static_cast<int64_t>(v));
          break;
        case ColumnType::kFloat:
          if (std::isfinite(v)) {
            row.push_back(v);
          } else {
            row.push_back(nullptr);  // JSON has no infinity
          }
          break;
      }
    }
    data.push_back(std::move(row));
  }
  return Json{{"columns", std::move(columns)}, {"data", std::move(data)}};
}

}  // namespace cairn::ml
