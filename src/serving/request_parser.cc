#include "serving/request_parser.h"

#include <simdjson.h>

#include <algorithm>
#include <cfloat>
#include <cmath>
#include <optional>
#include <variant>

#include "data/csv_reader.h"

namespace cairn::serving {
namespace {

using simdjson::dom::array;
using simdjson::dom::element;
using simdjson::dom::element_type;
using simdjson::dom::object;

constexpr std::string_view kMlflowFields =
    "dataframe_split, dataframe_records, instances or inputs";
// A request may expand to at most this many cells: its body's size times a small factor (each
// cell takes at least a byte or two of JSON unless optional columns are left out), and never
// more than this in absolute terms.
constexpr int64_t kMaxCells = 32'000'000;
constexpr int64_t kCellsPerBodyByte = 4;

// User text in messages: at most 60 bytes (never cutting a UTF-8 sequence), then "…".
std::string Shown(std::string_view text) {
  constexpr size_t kMax = 60;
  if (text.size() <= kMax) return std::string(text);
  size_t end = kMax;
  while (end > 0 && (static_cast<unsigned char>(text[end]) & 0xC0) == 0x80) --end;
  return std::string(text.substr(0, end)) + "…";
}

std::string Quoted(std::string_view text) { return "'" + Shown(text) + "'"; }

std::string Row(int64_t row) { return "row " + std::to_string(row + 1); }

std::string At(int64_t row, const InputColumn& column) {
  return Row(row) + ", column '" + column.name + "': ";
}

const char* TypeName(element_type type) {
  switch (type) {
    case element_type::ARRAY:
      return "an array";
    case element_type::OBJECT:
      return "an object";
    case element_type::STRING:
      return "a string";
    case element_type::INT64:
    case element_type::UINT64:
    case element_type::DOUBLE:
      return "a number";
    case element_type::BOOL:
      return "a boolean";
    case element_type::NULL_VALUE:
      return "null";
  }
  return "a value";
}

std::string ColumnList(const InputSchema& schema) {
  std::string out;
  constexpr size_t kShown = 12;
  for (size_t i = 0; i < schema.size() && i < kShown; ++i) {
    out += (i ? ", " : "") + schema.columns()[i].name;
  }
  if (schema.size() > kShown) out += ", … (" + std::to_string(schema.size()) + " in all)";
  return out;
}

// Checks one cell against its column's kind and signature type: the same rules as
// ml::Preprocessing::TransformCells, with messages that name the row and column and quote at
// most a few dozen bytes of the value.
Status CheckCell(const ml::Cell& cell, const InputColumn& column, int64_t row) {
  if (const double* d = std::get_if<double>(&cell)) {
    if (!std::isfinite(*d)) {
      return InvalidArgument(At(row, column) + "got " + ml::CanonicalText(*d) +
                             "; send null for a missing value");
    }
    if (std::abs(*d) > FLT_MAX) {
      return InvalidArgument(At(row, column) + ml::CanonicalText(*d) +
                             " is beyond the range of the model's 32-bit floats");
    }
    switch (column.kind) {
      case ml::FeatureKind::kNumeric:
        if (column.integral && *d != std::trunc(*d)) {
          return InvalidArgument(At(row, column) + "got " + ml::CanonicalText(*d) +
                                 ", but the model takes integers there");
        }
        return Status();
      case ml::FeatureKind::kBoolean:
        if (*d != 0 && *d != 1) {
          return InvalidArgument(At(row, column) + "got the number " + ml::CanonicalText(*d) +
                                 ", but the model takes true or false there");
        }
        return Status();
      case ml::FeatureKind::kCategorical:
        return Status();
    }
  }
  if (const bool* b = std::get_if<bool>(&cell)) {
    if (column.kind == ml::FeatureKind::kNumeric) {
      return InvalidArgument(At(row, column) + "got the boolean " + (*b ? "true" : "false") +
                             ", but the model takes numbers there");
    }
    return Status();
  }
  if (const auto* s = std::get_if<std::string_view>(&cell)) {
    if (column.kind == ml::FeatureKind::kNumeric) {
      return InvalidArgument(At(row, column) + "got the string " + Quoted(*s) +
                             ", but the model takes numbers there");
    }
    if (column.kind == ml::FeatureKind::kBoolean && !data::ParseBoolean(*s)) {
      return InvalidArgument(At(row, column) + "got the string " + Quoted(*s) +
                             ", but the model takes true or false there");
    }
  }
  return Status();
}

// A JSON value as a cell (strings point into the parser's document), checked for its column.
Status CellFrom(element v, const InputColumn& column, int64_t row, ml::Cell* out) {
  switch (v.type()) {
    case element_type::NULL_VALUE:
      *out = std::monostate{};
      return Status();
    case element_type::BOOL:
      *out = v.get_bool().value_unsafe();
      break;
    case element_type::INT64:
    case element_type::UINT64:
    case element_type::DOUBLE:
      *out = v.get_double().value_unsafe();
      break;
    case element_type::STRING:
      *out = v.get_string().value_unsafe();
      break;
    case element_type::ARRAY:
    case element_type::OBJECT:
      return InvalidArgument(At(row, column) + "got " + TypeName(v.type()) +
                             ", but the model takes a single value there");
  }
  return CheckCell(*out, column, row);
}

Status CheckBatchSize(int64_t rows, size_t columns, size_t body_bytes) {
  const int64_t cells = rows * static_cast<int64_t>(std::max<size_t>(columns, 1));
  if (rows > kMaxRequestRows || cells > kMaxCells ||
      cells > kCellsPerBodyByte * static_cast<int64_t>(body_bytes) + 4096) {
    return InvalidArgument("the request has " + std::to_string(rows) +
                           " rows; split it into smaller batches (at most " +
                           std::to_string(kMaxRequestRows) + " rows, " +
                           std::to_string(kMaxCells) + " values)");
  }
  return Status();
}

// v2 datatypes, by what their JSON values are.
enum class V2Kind { kBool, kInteger, kFloat, kBytes };

std::optional<V2Kind> V2KindOf(std::string_view datatype) {
  if (datatype == "BOOL") return V2Kind::kBool;
  if (datatype == "BYTES") return V2Kind::kBytes;
  if (datatype == "FP16" || datatype == "FP32" || datatype == "FP64") return V2Kind::kFloat;
  for (std::string_view t :
       {"INT8", "INT16", "INT32", "INT64", "UINT8", "UINT16", "UINT32", "UINT64"}) {
    if (datatype == t) return V2Kind::kInteger;
  }
  return std::nullopt;
}

}  // namespace

InputSchema::InputSchema(std::vector<InputColumn> columns) : columns_(std::move(columns)) {
  for (size_t i = 0; i < columns_.size(); ++i) {
    index_.emplace(std::string_view(columns_[i].name), static_cast<int>(i));
  }
}

int InputSchema::Find(std::string_view name) const {
  const auto it = index_.find(name);
  return it == index_.end() ? -1 : it->second;
}

struct RequestParser::Impl {
  simdjson::dom::parser json;
  data::CsvTable csv;
  ScoringInput input;
  std::vector<int> column_of;  // a request column's index in the schema, or -1
  std::vector<int64_t> seen;   // per schema column: the last row that set it (+1)

  const InputSchema* schema = nullptr;
  size_t body_bytes = 0;

  void Reset(const InputSchema& s, size_t bytes) {
    schema = &s;
    body_bytes = bytes;
    input.rows = 0;
    input.cells.clear();
    input.predict = PredictKind::kDefault;
    input.id.clear();
    input.outputs.clear();
    seen.assign(s.size(), 0);
  }

  size_t C() const { return schema->size(); }

  Status StartRows(int64_t rows) {
    CAIRN_RETURN_IF_ERROR(CheckBatchSize(rows, C(), body_bytes));
    input.rows = rows;
    input.cells.assign(static_cast<size_t>(rows) * C(), ml::Cell{});
    return Status();
  }

  ml::Cell* CellAt(int64_t row, int column) {
    return &input.cells[static_cast<size_t>(row) * C() + static_cast<size_t>(column)];
  }

  Status Set(int64_t row, int column, element v) {
    return CellFrom(v, schema->columns()[static_cast<size_t>(column)], row, CellAt(row, column));
  }

  // The first required column nobody sent, for a batch where every row lacks the same ones.
  Status RequireColumns(const std::vector<char>& present) const {
    for (size_t c = 0; c < C(); ++c) {
      const InputColumn& column = schema->columns()[c];
      if (!present[c] && !column.optional) {
        return InvalidArgument(Row(0) + ": column '" + column.name +
                               "' is missing; the model takes " + ColumnList(*schema));
      }
    }
    return Status();
  }

  Status EmptyBatch() const {
    return InvalidArgument("empty batch: the request has no rows to score");
  }

  Status Params(element v, std::string_view field) {
    object params;
    if (v.get(params) != simdjson::SUCCESS) {
      return InvalidArgument(std::string(field) + " must be an object, got " + TypeName(v.type()));
    }
    for (auto [key, value] : params) {
      if (key != "predict") {
        return InvalidArgument(std::string(field) + ": unknown parameter " + Quoted(key) +
                               "; the model takes 'predict' (\"labels\" or \"probabilities\")");
      }
      std::string_view what;
      if (value.get(what) != simdjson::SUCCESS ||
          (what != "labels" && what != "probabilities" && what != "values")) {
        return InvalidArgument(std::string(field) +
                               ".predict must be \"labels\" or \"probabilities\"");
      }
      input.predict = what == "labels" ? PredictKind::kLabels : PredictKind::kDefault;
    }
    return Status();
  }

  // [{"col": value, …}, …]
  Status Records(array rows, std::string_view field) {
    CAIRN_RETURN_IF_ERROR(StartRows(static_cast<int64_t>(rows.size())));
    int64_t r = 0;
    for (element record : rows) {
      object fields;
      if (record.get(fields) != simdjson::SUCCESS) {
        return InvalidArgument(Row(r) + ": " + std::string(field) + "[" + std::to_string(r) +
                               "] is " + TypeName(record.type()) + ", not an object");
      }
      for (auto [key, value] : fields) {
        const int c = schema->Find(key);
        if (c < 0) continue;  // columns the model does not take are ignored, as MLflow does
        if (seen[static_cast<size_t>(c)] == r + 1) {
          return InvalidArgument(Row(r) + ": column " + Quoted(key) + " appears twice");
        }
        seen[static_cast<size_t>(c)] = r + 1;
        CAIRN_RETURN_IF_ERROR(Set(r, c, value));
      }
      for (size_t c = 0; c < C(); ++c) {
        const InputColumn& column = schema->columns()[c];
        if (seen[c] != r + 1 && !column.optional) {
          return InvalidArgument(Row(r) + ": column '" + column.name + "' is missing");
        }
      }
      ++r;
    }
    return Status();
  }

  // [[v, …], …] in schema order, or [v, …] for a one-column model.
  Status Positional(array rows, std::string_view field) {
    CAIRN_RETURN_IF_ERROR(StartRows(static_cast<int64_t>(rows.size())));
    int64_t r = 0;
    for (element row : rows) {
      array values;
      if (row.get(values) != simdjson::SUCCESS) {
        if (C() != 1) {
          return InvalidArgument(Row(r) + ": " + std::string(field) + "[" + std::to_string(r) +
                                 "] is " + TypeName(row.type()) +
                                 ", not a list of the model's " + std::to_string(C()) +
                                 " columns or an object naming them");
        }
        CAIRN_RETURN_IF_ERROR(Set(r, 0, row));
        ++r;
        continue;
      }
      if (values.size() != C()) {
        return InvalidArgument(Row(r) + " has " + std::to_string(values.size()) +
                               " values, but the model takes " + std::to_string(C()) +
                               " columns: " + ColumnList(*schema));
      }
      int c = 0;
      for (element v : values) CAIRN_RETURN_IF_ERROR(Set(r, c++, v));
      ++r;
    }
    return Status();
  }

  // instances / inputs as a list: of records, or of rows in schema order.
  Status RowList(element v, std::string_view field) {
    array rows;
    if (v.get(rows) != simdjson::SUCCESS) {
      return InvalidArgument(std::string(field) + " must be a list of rows, got " +
                             TypeName(v.type()));
    }
    if (rows.size() == 0) return EmptyBatch();
    if ((*rows.begin()).type() == element_type::OBJECT) return Records(rows, field);
    return Positional(rows, field);
  }

  // {"col": [values…], …}
  Status Columnar(object columns, std::string_view field) {
    int64_t rows = -1;
    std::string first;
    std::vector<char> present(C(), 0);
    for (auto [key, value] : columns) {
      const int64_t n =
          value.type() == element_type::ARRAY ? static_cast<int64_t>(array(value).size()) : 1;
      if (rows >= 0 && n != rows) {
        return InvalidArgument(std::string(field) + ": column " + Quoted(key) + " has " +
                               std::to_string(n) + " values, column " + Quoted(first) + " " +
                               std::to_string(rows));
      }
      if (rows < 0) first = Shown(key);
      rows = n;
      const int c = schema->Find(key);
      if (c < 0) continue;
      if (present[static_cast<size_t>(c)]) {
        return InvalidArgument(std::string(field) + ": column " + Quoted(key) + " appears twice");
      }
      present[static_cast<size_t>(c)] = 1;
    }
    if (rows <= 0) return EmptyBatch();
    CAIRN_RETURN_IF_ERROR(RequireColumns(present));
    CAIRN_RETURN_IF_ERROR(StartRows(rows));
    for (auto [key, value] : columns) {
      const int c = schema->Find(key);
      if (c < 0) continue;
      if (value.type() != element_type::ARRAY) {
        CAIRN_RETURN_IF_ERROR(Set(0, c, value));
        continue;
      }
      int64_t r = 0;
      for (element v : array(value)) CAIRN_RETURN_IF_ERROR(Set(r++, c, v));
    }
    return Status();
  }

  // {"columns": […], "data": [[…], …], "index"?: […]}
  Status Split(element v) {
    object split;
    if (v.get(split) != simdjson::SUCCESS) {
      return InvalidArgument("dataframe_split must be an object with columns and data, got " +
                             std::string(TypeName(v.type())));
    }
    array columns;
    array data;
    bool has_columns = false;
    bool has_data = false;
    for (auto [key, value] : split) {
      if (key == "columns") {
        if (value.get(columns) != simdjson::SUCCESS) {
          return InvalidArgument("dataframe_split.columns must be a list of column names");
        }
        has_columns = true;
      } else if (key == "data") {
        if (value.get(data) != simdjson::SUCCESS) {
          return InvalidArgument("dataframe_split.data must be a list of rows");
        }
        has_data = true;
      } else if (key != "index") {
        return InvalidArgument("dataframe_split: unknown field " + Quoted(key) +
                               "; it takes columns, data and index");
      }
    }
    if (!has_data) return InvalidArgument("dataframe_split.data is missing");
    if (!has_columns) return InvalidArgument("dataframe_split.columns is missing");
    column_of.clear();
    std::vector<char> present(C(), 0);
    for (element name : columns) {
      std::string_view text;
      if (name.get(text) != simdjson::SUCCESS) {
        return InvalidArgument("dataframe_split.columns[" + std::to_string(column_of.size()) +
                               "] is " + TypeName(name.type()) + ", not a column name");
      }
      const int c = schema->Find(text);
      if (c >= 0) {
        if (present[static_cast<size_t>(c)]) {
          return InvalidArgument("dataframe_split.columns names " + Quoted(text) + " twice");
        }
        present[static_cast<size_t>(c)] = 1;
      }
      column_of.push_back(c);
    }
    if (data.size() == 0) return EmptyBatch();
    CAIRN_RETURN_IF_ERROR(RequireColumns(present));
    CAIRN_RETURN_IF_ERROR(StartRows(static_cast<int64_t>(data.size())));
    int64_t r = 0;
    for (element row : data) {
      array values;
      if (row.get(values) != simdjson::SUCCESS) {
        return InvalidArgument(Row(r) + ": dataframe_split.data[" + std::to_string(r) + "] is " +
                               TypeName(row.type()) + ", not a list of values");
      }
      if (values.size() != column_of.size()) {
        return InvalidArgument(Row(r) + " has " + std::to_string(values.size()) +
                               " values, but dataframe_split.columns names " +
                               std::to_string(column_of.size()));
      }
      size_t j = 0;
      for (element value : values) {
        const int c = column_of[j++];
        if (c >= 0) CAIRN_RETURN_IF_ERROR(Set(r, c, value));
      }
      ++r;
    }
    return Status();
  }

  Result<element> ParseJson(std::string_view body) {
    element doc;
    const auto error = json.parse(body.data(), body.size()).get(doc);
    if (error != simdjson::SUCCESS) {
      std::string message = "the body is not valid JSON: ";
      message += simdjson::error_message(error);
      if (body.find("NaN") != std::string_view::npos ||
          body.find("Infinity") != std::string_view::npos) {
        message += " (NaN and Infinity are not JSON numbers; send null for a missing value)";
      }
      return InvalidArgument(message);
    }
    return doc;
  }

  Status Mlflow(std::string_view body) {
    CAIRN_TRY(element doc, ParseJson(body));
    object top;
    if (doc.get(top) != simdjson::SUCCESS) {
      return InvalidArgument("the body must be a JSON object with one of " +
                             std::string(kMlflowFields) + ", got " + TypeName(doc.type()));
    }
    std::string_view format;
    element payload;
    for (auto [key, value] : top) {
      if (key == "dataframe_split" || key == "dataframe_records" || key == "instances" ||
          key == "inputs") {
        if (!format.empty()) {
          return InvalidArgument("the body has both '" + std::string(format) + "' and '" +
                                 std::string(key) + "'; send exactly one of " +
                                 std::string(kMlflowFields));
        }
        format = key;
        payload = value;
      } else if (key == "params") {
        CAIRN_RETURN_IF_ERROR(Params(value, "params"));
      } else {
        return InvalidArgument("unknown field " + Quoted(key) + "; the body takes one of " +
                               std::string(kMlflowFields) + ", and params");
      }
    }
    if (format.empty()) {
      return InvalidArgument("the body has none of " + std::string(kMlflowFields));
    }
    if (format == "dataframe_split") {
      CAIRN_RETURN_IF_ERROR(Split(payload));
    } else if (format == "dataframe_records") {
      array rows;
      if (payload.get(rows) != simdjson::SUCCESS) {
        return InvalidArgument("dataframe_records must be a list of objects, got " +
                               std::string(TypeName(payload.type())));
      }
      if (rows.size() == 0) return EmptyBatch();
      CAIRN_RETURN_IF_ERROR(Records(rows, format));
    } else if (format == "inputs" && payload.type() == element_type::OBJECT) {
      CAIRN_RETURN_IF_ERROR(Columnar(object(payload), format));
    } else {
      CAIRN_RETURN_IF_ERROR(RowList(payload, format));
    }
    if (input.rows == 0) return EmptyBatch();
    return Status();
  }

  Status Csv(std::string_view body) {
    auto table = data::LoadCsv(body);
    if (!table.ok()) return InvalidArgument("CSV: " + table.status().message());
    csv = std::move(*table);
    if (csv.rows == 0) return EmptyBatch();
    std::vector<const data::CsvColumn*> source(C(), nullptr);
    for (size_t c = 0; c < C(); ++c) {
      const InputColumn& column = schema->columns()[c];
      source[c] = csv.Find(column.name);
      if (source[c] == nullptr && !column.optional) {
        return InvalidArgument(Row(0) + ": column '" + column.name +
                               "' is missing from the CSV header; the model takes " +
                               ColumnList(*schema));
      }
    }
    CAIRN_RETURN_IF_ERROR(StartRows(csv.rows));
    for (size_t c = 0; c < C(); ++c) {
      const data::CsvColumn* col = source[c];
      if (col == nullptr) continue;
      const InputColumn& column = schema->columns()[c];
      for (int64_t r = 0; r < csv.rows; ++r) {
        ml::Cell* cell = CellAt(r, static_cast<int>(c));
        const auto i = static_cast<size_t>(r);
        switch (col->type) {
          case data::ColumnType::kInteger:
          case data::ColumnType::kFloat:
            if (!std::isnan(col->numbers[i])) *cell = col->numbers[i];
            break;
          case data::ColumnType::kBoolean:
            if (!std::isnan(col->numbers[i])) *cell = col->numbers[i] != 0;
            break;
          case data::ColumnType::kString:
            if (col->codes[i] >= 0) {
              const std::string_view text =
                  col->dictionary[static_cast<size_t>(col->codes[i])];
              // A numeric column that also holds text reads as strings: its numbers are
              // still numbers, and the message names the first value that is not.
              const auto number = column.kind == ml::FeatureKind::kNumeric
                                      ? data::ParseFloat(text)
                                      : std::nullopt;
              if (number) {
                *cell = *number;
              } else {
                *cell = text;
              }
            }
            break;
        }
        CAIRN_RETURN_IF_ERROR(CheckCell(*cell, column, r));
      }
    }
    return Status();
  }

  // Appends the scalars of `data` (nested lists flattened, at most `depth` levels deep) to
  // `out`, stopping with an error past `limit` values.
  Status Flatten(element data, int depth, size_t limit, std::vector<element>* out,
                 const std::string& where) {
    if (data.type() != element_type::ARRAY) {
      if (out->size() >= limit) return InvalidArgument(where + ": data has more values than its shape");
      out->push_back(data);
      return Status();
    }
    if (depth == 0) return InvalidArgument(where + ": data is nested deeper than its shape");
    for (element v : array(data)) {
      CAIRN_RETURN_IF_ERROR(Flatten(v, depth - 1, limit, out, where));
    }
    return Status();
  }

  // A tensor's value as a cell: checked against its datatype, then its column.
  Status TensorCell(element v, V2Kind kind, std::string_view datatype, int64_t row, int c,
                    const std::string& where) {
    const element_type t = v.type();
    bool ok = t == element_type::NULL_VALUE;
    switch (kind) {
      case V2Kind::kBool:
        ok = ok || t == element_type::BOOL;
        break;
      case V2Kind::kBytes:
        ok = ok || t == element_type::STRING;
        break;
      case V2Kind::kFloat:
        ok = ok || t == element_type::INT64 || t == element_type::UINT64 ||
             t == element_type::DOUBLE;
        break;
      case V2Kind::kInteger:
        ok = ok || t == element_type::INT64 || t == element_type::UINT64 ||
             (t == element_type::DOUBLE &&
              v.get_double().value_unsafe() == std::trunc(v.get_double().value_unsafe()));
        break;
    }
    if (!ok) {
      return InvalidArgument(Row(row) + ", " + where + ": got " + TypeName(t) +
                             ", which a " + std::string(datatype) + " tensor does not hold");
    }
    return Set(row, c, v);
  }

  Status V2(std::string_view body) {
    CAIRN_TRY(element doc, ParseJson(body));
    object top;
    if (doc.get(top) != simdjson::SUCCESS) {
      return InvalidArgument("the body must be a JSON object with inputs, got " +
                             std::string(TypeName(doc.type())));
    }
    array inputs;
    bool has_inputs = false;
    for (auto [key, value] : top) {
      if (key == "id") {
        std::string_view id;
        if (value.get(id) != simdjson::SUCCESS) return InvalidArgument("id must be a string");
        input.id = std::string(id);
      } else if (key == "parameters") {
        object params;
        if (value.get(params) != simdjson::SUCCESS) {
          return InvalidArgument("parameters must be an object");
        }
        for (auto [name, p] : params) {
          // Other parameters belong to the protocol's extensions; only "predict" means
          // something here.
          if (name == "predict") {
            std::string_view what;
            if (p.get(what) != simdjson::SUCCESS ||
                (what != "labels" && what != "probabilities" && what != "values")) {
              return InvalidArgument("parameters.predict must be \"labels\" or \"probabilities\"");
            }
            input.predict = what == "labels" ? PredictKind::kLabels : PredictKind::kDefault;
          }
        }
      } else if (key == "inputs") {
        if (value.get(inputs) != simdjson::SUCCESS) {
          return InvalidArgument("inputs must be a list of tensors");
        }
        has_inputs = true;
      } else if (key == "outputs") {
        array outputs;
        if (value.get(outputs) != simdjson::SUCCESS) {
          return InvalidArgument("outputs must be a list of {\"name\": …} objects");
        }
        size_t i = 0;
        for (element o : outputs) {
          std::string_view name;
          if (o.type() != element_type::OBJECT ||
              object(o)["name"].get(name) != simdjson::SUCCESS) {
            return InvalidArgument("outputs[" + std::to_string(i) + "] must have a name");
          }
          input.outputs.emplace_back(Shown(name));
          ++i;
        }
      } else {
        return InvalidArgument("unknown field " + Quoted(key) +
                               "; an infer request takes id, parameters, inputs and outputs");
      }
    }
    if (!has_inputs || inputs.size() == 0) {
      return InvalidArgument("inputs must be a non-empty list of tensors");
    }

    struct Tensor {
      std::string_view name;
      std::string_view datatype;
      V2Kind kind;
      std::vector<int64_t> shape;
      element data;
      std::string where;  // "input 'tenure'"
    };
    std::vector<Tensor> tensors;
    bool all_columns = true;
    size_t i = 0;
    for (element t : inputs) {
      const std::string path = "inputs[" + std::to_string(i++) + "]";
      object fields;
      if (t.get(fields) != simdjson::SUCCESS) {
        return InvalidArgument(path + " must be a tensor object (name, shape, datatype, data)");
      }
      Tensor tensor;
      bool has_shape = false;
      bool has_data = false;
      for (auto [key, value] : fields) {
        if (key == "name") {
          if (value.get(tensor.name) != simdjson::SUCCESS) {
            return InvalidArgument(path + ".name must be a string");
          }
        } else if (key == "datatype") {
          if (value.get(tensor.datatype) != simdjson::SUCCESS) {
            return InvalidArgument(path + ".datatype must be a string");
          }
        } else if (key == "shape") {
          array dims;
          if (value.get(dims) != simdjson::SUCCESS) {
            return InvalidArgument(path + ".shape must be a list of sizes");
          }
          for (element d : dims) {
            int64_t n = 0;
            if (d.get(n) != simdjson::SUCCESS || n < 0 || n > (int64_t{1} << 40)) {
              return InvalidArgument(path + ".shape must be a list of sizes");
            }
            tensor.shape.push_back(n);
          }
          has_shape = true;
        } else if (key == "data") {
          tensor.data = value;
          has_data = true;
        } else if (key != "parameters") {
          return InvalidArgument(path + ": unknown field " + Quoted(key) +
                                 "; a tensor takes name, shape, datatype, data and parameters");
        }
      }
      if (tensor.name.empty()) return InvalidArgument(path + ".name is missing");
      if (tensor.datatype.empty()) return InvalidArgument(path + ".datatype is missing");
      if (!has_shape) return InvalidArgument(path + ".shape is missing");
      if (!has_data) return InvalidArgument(path + ".data is missing");
      const auto kind = V2KindOf(tensor.datatype);
      if (!kind) {
        return InvalidArgument(path + ".datatype " + Quoted(tensor.datatype) +
                               " is not a v2 datatype (BOOL, INT8…INT64, UINT8…UINT64, "
                               "FP16, FP32, FP64, BYTES)");
      }
      tensor.kind = *kind;
      tensor.where = "input " + Quoted(tensor.name);
      if (schema->Find(tensor.name) < 0) all_columns = false;
      tensors.push_back(std::move(tensor));
    }

    if (!all_columns) {
      // One [N, F] tensor holding every column in schema order.
      const Tensor& t = tensors.front();
      if (tensors.size() != 1 || t.shape.size() != 2 ||
          t.shape[1] != static_cast<int64_t>(C())) {
        const auto unknown = std::find_if(tensors.begin(), tensors.end(), [&](const Tensor& x) {
          return schema->Find(x.name) < 0;
        });
        return InvalidArgument(unknown->where + " names no column of the model (" +
                               ColumnList(*schema) + "), and a single input holding every "
                               "column needs the shape [N, " + std::to_string(C()) + "]");
      }
      const int64_t rows = t.shape[0];
      if (rows == 0) return EmptyBatch();
      CAIRN_RETURN_IF_ERROR(CheckBatchSize(rows, C(), body_bytes));
      std::vector<element> values;
      CAIRN_RETURN_IF_ERROR(
          Flatten(t.data, 2, static_cast<size_t>(rows) * C(), &values, t.where));
      if (values.size() != static_cast<size_t>(rows) * C()) {
        return InvalidArgument(t.where + ": the shape [" + std::to_string(rows) + ", " +
                               std::to_string(C()) + "] holds " +
                               std::to_string(static_cast<size_t>(rows) * C()) +
                               " values, data has " + std::to_string(values.size()));
      }
      CAIRN_RETURN_IF_ERROR(StartRows(rows));
      for (int64_t r = 0; r < rows; ++r) {
        for (size_t c = 0; c < C(); ++c) {
          CAIRN_RETURN_IF_ERROR(TensorCell(values[static_cast<size_t>(r) * C() + c], t.kind,
                                           t.datatype, r, static_cast<int>(c), t.where));
        }
      }
      return Status();
    }

    // One tensor per column, each [N] or [N, 1].
    int64_t rows = -1;
    std::vector<char> present(C(), 0);
    for (const Tensor& t : tensors) {
      if (t.shape.empty() || t.shape.size() > 2 || (t.shape.size() == 2 && t.shape[1] != 1)) {
        std::string shape;
        for (int64_t d : t.shape) shape += (shape.empty() ? "" : ", ") + std::to_string(d);
        return InvalidArgument(t.where + " has the shape [" + shape +
                               "]; a column's tensor is [N] or [N, 1]");
      }
      if (rows >= 0 && t.shape[0] != rows) {
        return InvalidArgument(t.where + " has " + std::to_string(t.shape[0]) + " rows, " +
                               tensors.front().where + " " + std::to_string(rows));
      }
      rows = t.shape[0];
      const int c = schema->Find(t.name);
      if (present[static_cast<size_t>(c)]) {
        return InvalidArgument(t.where + " appears twice");
      }
      present[static_cast<size_t>(c)] = 1;
    }
    if (rows == 0) return EmptyBatch();
    CAIRN_RETURN_IF_ERROR(RequireColumns(present));
    CAIRN_RETURN_IF_ERROR(StartRows(rows));
    std::vector<element> values;
    for (const Tensor& t : tensors) {
      values.clear();
      CAIRN_RETURN_IF_ERROR(Flatten(t.data, static_cast<int>(t.shape.size()),
                                    static_cast<size_t>(rows), &values, t.where));
      if (values.size() != static_cast<size_t>(rows)) {
        return InvalidArgument(t.where + ": the shape holds " + std::to_string(rows) +
                               " values, data has " + std::to_string(values.size()));
      }
      const int c = schema->Find(t.name);
      for (int64_t r = 0; r < rows; ++r) {
        CAIRN_RETURN_IF_ERROR(
            TensorCell(values[static_cast<size_t>(r)], t.kind, t.datatype, r, c, t.where));
      }
    }
    return Status();
  }
};

RequestParser::RequestParser() : impl_(std::make_unique<Impl>()) {}
RequestParser::~RequestParser() = default;

Result<const ScoringInput*> RequestParser::ParseMlflowJson(const InputSchema& schema,
                                                           std::string_view body) {
  impl_->Reset(schema, body.size());
  CAIRN_RETURN_IF_ERROR(impl_->Mlflow(body));
  return &impl_->input;
}

Result<const ScoringInput*> RequestParser::ParseCsv(const InputSchema& schema,
                                                    std::string_view body) {
  impl_->Reset(schema, body.size());
  CAIRN_RETURN_IF_ERROR(impl_->Csv(body));
  return &impl_->input;
}

Result<const ScoringInput*> RequestParser::ParseV2Json(const InputSchema& schema,
                                                       std::string_view body) {
  impl_->Reset(schema, body.size());
  CAIRN_RETURN_IF_ERROR(impl_->V2(body));
  return &impl_->input;
}

}  // namespace cairn::serving
