// The CSV reader shared by snapshots, training and batch scoring: RFC 4180 parsing (one-shot or
// fed incrementally), missing values, per-column type inference and loading into typed columns.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"
#include "core/status.h"

namespace cairn::data {

// ---------------------------------------------------------------------------------------------
// Dialect (fixed; there are no options):
//  - RFC 4180: fields separated by ','; a field may be quoted with '"', and a quoted field may
//    contain ',', '"' written as "" and line breaks (LF, CRLF or a lone CR), kept verbatim.
//  - Rows end with LF or CRLF. A lone CR outside quotes is an error, except as the very last
//    byte of the input. The last row may lack a line ending.
//  - A UTF-8 byte order mark at the start is skipped.
//  - The first row is the header: at least one name, every name non-empty and unique.
//  - Every data row has exactly as many fields as the header.
//  - Empty lines at the end of the input are ignored. An empty line elsewhere is a row with one
//    empty field: a missing value in a one-column file, a ragged-row error otherwise.
//  - Fields are not trimmed: " 12" is the string " 12", not the integer 12.
//  - A '"' inside an unquoted field, or anything but ',' or a line ending after a closing quote,
//    is an error (strict RFC 4180; no "lenient" recovery that would silently shift columns).
// Errors are kInvalidArgument and name the 1-based physical line (1 + the number of LF bytes
// before the offending byte; the header is line 1 unless it spans lines) and, where one is
// involved, the 1-based column number and its header name, e.g.
//   "line 17, column 3 (tenure): unexpected character 'x' after a closing quote"
//   "line 42: 19 fields, the header has 21"
// ---------------------------------------------------------------------------------------------

// Receives the rows of a CSV input, in order. Returning a non-OK status stops the parse, and
// the parser returns that status unchanged.
class CsvVisitor {
 public:
  virtual ~CsvVisitor() = default;
  // Called once, before any row, with the header's names (non-empty and unique).
  virtual Status OnHeader(std::span<const std::string> names) { return Status(); }
  // Called once per data row with exactly as many fields as the header has names, unescaped
  // (surrounding quotes removed, "" turned into "). `line` is the 1-based physical line on
  // which the row starts. The views are valid only during the call; they point into the input
  // where no unescaping was needed (zero-copy), else into the parser's scratch buffer.
  virtual Status OnRow(std::span<const std::string_view> fields, int64_t line) = 0;
};

// An incremental RFC 4180 parser: feed the input in pieces of any size (split anywhere, even
// inside a quoted field, a CRLF or the byte order mark) and the visitor sees the same rows, the
// same errors, as with the input in one piece. Complete rows inside a piece are handed to the
// visitor straight from the caller's bytes; only a row split across pieces is copied.
// Errors are sticky: after one, Feed and Finish return it again. Not thread-safe.
class CsvParser {
 public:
  explicit CsvParser(CsvVisitor& visitor);
  CsvParser(const CsvParser&) = delete;
  CsvParser& operator=(const CsvParser&) = delete;

  // Parses the rows that `bytes` completes; keeps an unfinished last row for the next call.
  Status Feed(std::string_view bytes);
  // Declares the end of the input: parses the last row (which needs no line ending) and reports
  // an unterminated quoted field or an input without a header row. Call exactly once.
  Status Finish();

  // The header's names once the header row has been parsed, else empty.
  const std::vector<std::string>& header() const { return header_; }
  // Data rows handed to the visitor so far.
  int64_t rows() const { return rows_; }

 private:
  enum class RowOutcome { kRow, kEmptyLine, kIncomplete, kError };

  Status FeedData(std::string_view bytes);
  // Parses complete rows from the start of `data`; returns how many bytes they took (up to the
  // start of an incomplete row; all of `data` when `final`).
  Result<size_t> ParseRows(std::string_view data, bool final);
  RowOutcome ParseRow(const char* begin, const char* end, bool final, const char** row_end,
                      int64_t* lines_in_row);
  Status DeliverRow(int64_t line);
  Status DeliverHeader(int64_t line);
  Status FlushEmptyLines();
  Status Fail(Status status);
  RowOutcome RowError(std::string message);
  std::string Where(int64_t line, size_t column) const;

  CsvVisitor& visitor_;
  Status status_;
  bool bom_checked_ = false;
  bool finished_ = false;
  std::string head_;   // the first bytes, until we know whether they are a byte order mark
  std::string carry_;  // an unfinished row, waiting for the bytes that end it
  bool carry_in_quotes_ = false;  // quote parity at the end of carry_
  int64_t line_ = 1;              // physical line at the start of the next row
  std::vector<std::string> header_;
  int64_t rows_ = 0;
  int64_t pending_empty_lines_ = 0;  // empty lines not yet known to be trailing
  int64_t first_empty_line_ = 0;
  // The current row: views into the input, or (for fields with "") into scratch_.
  std::vector<std::string_view> fields_;
  std::string scratch_;
  struct Escaped {
    size_t field;
    size_t offset;
    size_t size;
  };
  std::vector<Escaped> escaped_;
};

// Parses a whole in-memory input (for example a memory-mapped file).
Status ParseCsv(std::string_view data, CsvVisitor& visitor);
// Memory-maps the file at `path` and parses it; errors are prefixed with the path.
Status ParseCsvFile(const std::string& path, CsvVisitor& visitor);

// ---------------------------------------------------------------------------------------------
// A fast path for passes that read every field of a large, well-formed file (the snapshot
// profile): SplitCsvRows finds the field boundaries of a block of rows 64 bytes at a time (SSE2
// compares into bit masks, quote state by prefix XOR) and checks the structure CsvParser checks
// — quotes only around whole fields ("" inside them), CR only before LF, exactly `columns`
// fields in every row. It reports no errors: on anything it does not take (malformed input, an
// empty line in a file with several columns, a block over 4 GB) it returns false and the caller
// falls back to CsvParser, which gives the same rows or the precise error. Where it succeeds,
// its fields are exactly those CsvParser hands to a visitor.
// ---------------------------------------------------------------------------------------------

// The rows of one block and where their fields end.
struct CsvRowBlock {
  size_t begin = 0;  // offset in the data of the block's first row
  size_t end = 0;    // offset just past its last row (and that row's LF)
  size_t rows = 0;
  size_t columns = 0;
  bool escapes = false;  // some quoted field holds "" (Field unescapes it)
  // rows × columns offsets, from `begin`, of the byte that ends each field: its ',' or its
  // row's LF (for the data's last row, the end of the data).
  std::vector<uint32_t> ends;

  // The field at (row, column): quotes removed, "" unescaped, a CRLF's CR dropped — exactly
  // CsvParser's field. Points into `data`, or into `scratch` when it had to be unescaped.
  std::string_view Field(std::string_view data, size_t row, size_t column,
                         std::string* scratch) const {
    const size_t i = row * columns + column;
    size_t s = begin + (i == 0 ? 0 : ends[i - 1] + 1);
    size_t e = begin + ends[i];
    const char* p = data.data();
    if (column + 1 == columns && e > s && p[e - 1] == '\r') --e;
    if (e > s && p[s] == '"') {
      // SplitCsvRows checked the quoting: the field ends with its closing quote.
      ++s;
      --e;
      if (escapes && std::memchr(p + s, '"', e - s) != nullptr)
        return Unescape(p + s, e - s, scratch);
    }
    return {p + s, e - s};
  }

 private:
  static std::string_view Unescape(const char* p, size_t n, std::string* scratch);
};

// The length of `data` once the line endings that end it are dropped: the last row's LF, CRLF
// or final lone CR, and trailing empty lines — what CsvParser ignores or reads as a row end.
// SplitCsvRows takes the end of its data as the end of the last row.
size_t TrimCsvEnd(std::string_view data);

// Splits the rows from `begin` (the start of a row, outside quotes) into `block`: the rows that
// end in the first ~`target_bytes` (at least one), or all remaining rows when they end before
// that. `data` ends where the last row ends (see TrimCsvEnd); begin == data.size() gives an
// empty block. False when the rows are not ones this fast path takes (see above).
bool SplitCsvRows(std::string_view data, size_t begin, size_t columns, size_t target_bytes,
                  CsvRowBlock* block);

// ---------------------------------------------------------------------------------------------
// Values and types.
//  - Missing: the empty field, "NA", "N/A", "NaN", "null" and "NULL" (exactly these spellings;
//    quoting does not matter, so "NA" quoted is missing too). Missing values never decide a type.
//  - Integer: an optional sign ('+' or '-') and decimal digits, within int64 ("007" is 7).
//    Digits beyond int64 make the value a float.
//  - Float: what std::from_chars accepts in general format (decimal with optional fraction and
//    exponent: "1.5", ".5", "1.", "-2e-3"), an optional leading '+', and "inf"/"infinity" in any
//    case with an optional sign. NaN spellings other than the missing markers ("nan") are strings.
//  - Boolean: "true" or "false" in any case. "0"/"1" are integers, "yes"/"no" strings.
//  - Anything else is a string (a categorical value).
// A column's type is decided by all its non-missing values: integer if all are integers; float
// if all are numbers and one is not an integer; boolean if all are booleans; else string (so
// booleans mixed with numbers make a string column). A column with no non-missing value is a
// float column (all NaN), as in pandas; check `missing == rows` to catch it.
// ---------------------------------------------------------------------------------------------

enum class ColumnType { kInteger, kFloat, kBoolean, kString };
std::string_view ColumnTypeName(ColumnType type);  // "integer", "float", "boolean", "string"

enum class FieldKind { kMissing, kInteger, kFloat, kBoolean, kString };

bool IsMissing(std::string_view field);
std::optional<int64_t> ParseInteger(std::string_view field);
// Accepts integers too (as doubles).
std::optional<double> ParseFloat(std::string_view field);
std::optional<bool> ParseBoolean(std::string_view field);
FieldKind ClassifyField(std::string_view field);

// Per-column type inference, as a visitor (compose it with other visitors on a single pass).
class TypeInferrer : public CsvVisitor {
 public:
  Status OnHeader(std::span<const std::string> names) override;
  Status OnRow(std::span<const std::string_view> fields, int64_t line) override;
  // Also usable without a parser: fields.size() must equal the number of names.
  void AddRow(std::span<const std::string_view> fields);

  const std::vector<std::string>& names() const { return names_; }
  int64_t rows() const { return rows_; }
  ColumnType type(size_t column) const;
  int64_t missing(size_t column) const { return missing_[column]; }

 private:
  std::vector<std::string> names_;
  std::vector<uint8_t> kinds_;  // per column: bit set of the FieldKinds seen
  std::vector<int64_t> missing_;
  int64_t rows_ = 0;
};

struct ColumnSchema {
  std::string name;
  ColumnType type = ColumnType::kFloat;
  int64_t missing = 0;
};

// One parse of `data`: the header's names, each column's inferred type and missing count.
Result<std::vector<ColumnSchema>> InferTypes(std::string_view data);

// ---------------------------------------------------------------------------------------------
// Typed columns: what training and scoring consume.
// ---------------------------------------------------------------------------------------------

struct CsvColumn {
  std::string name;
  ColumnType type = ColumnType::kFloat;
  int64_t missing = 0;
  // kInteger, kFloat, kBoolean (0 or 1): one value per row, NaN where missing.
  std::vector<double> numbers;
  // kInteger with LoadOptions::exact_integers only: the exact values (doubles are exact only up
  // to 2^53), 0 where missing.
  std::vector<int64_t> integers;
  // kString only: one code per row, an index into `dictionary`, -1 where missing.
  std::vector<int32_t> codes;
  // kString only: the distinct values, in order of first appearance.
  std::vector<std::string> dictionary;
};

struct CsvTable {
  int64_t rows = 0;
  std::vector<CsvColumn> columns;

  // The column named `name`, or nullptr.
  const CsvColumn* Find(std::string_view name) const;
};

struct LoadOptions {
  // Also keep integer columns as exact int64 (CsvColumn::integers). Off by default: it writes a
  // second 8-byte value per cell (about a tenth of the load time on integer-heavy files) for
  // integers beyond 2^53, which business data rarely has.
  bool exact_integers = false;
};

// Parses `data`, infers the column types and loads every value into typed columns. The types
// are exactly those InferTypes gives. Usually a single pass: a column that turns out to be a
// string after numbers or booleans were seen in it is re-read in a second pass.
Result<CsvTable> LoadCsv(std::string_view data, const LoadOptions& options = {});
// Memory-maps the file at `path` and loads it; errors are prefixed with the path.
Result<CsvTable> LoadCsvFile(const std::string& path, const LoadOptions& options = {});

}  // namespace cairn::data
