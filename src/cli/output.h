// Output helpers of the CLI: aligned tables, key/value blocks, human-readable values, JSON.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <ostream>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace cairn::cli {

// Columns of a terminal a string takes (UTF-8 code points; no East Asian wide handling).
size_t DisplayWidth(std::string_view s);
// `s` cut to at most `width` columns, ending in "…" when cut. Never splits a UTF-8 sequence.
std::string Truncate(std::string_view s, size_t width);
// `s` with newlines, tabs and other control characters shown as spaces (one table row stays one
// line).
std::string OneLine(std::string_view s);

// "2024-05-01 12:34:56" in local time; "-" for 0 (unset).
std::string FormatTimestamp(int64_t millis);
// "850ms", "12.3s", "4m 05s", "2h 03m", "3d 04h"; "-" if unknown or negative.
std::string FormatDuration(std::optional<int64_t> millis);
// Up to 6 significant digits; "NaN", "Infinity", "-Infinity" as MLflow spells them.
std::string FormatDouble(double v);
// "512 B", "1.5 KiB", "3.2 MiB" …
std::string FormatBytes(int64_t bytes);

// A table whose columns are sized to their content; cells wider than the column's maximum width
// are truncated with "…". Rendered with two spaces between columns, upper-case headers as given,
// no trailing spaces.
class Table {
 public:
  static constexpr size_t kDefaultMaxWidth = 60;

  explicit Table(std::vector<std::string> headers);
  void SetMaxWidth(size_t column, size_t width);
  void SetRightAligned(size_t column);
  // Missing trailing cells render empty; extra cells are a bug and are dropped.
  void AddRow(std::vector<std::string> cells);
  size_t rows() const { return rows_.size(); }
  std::string Render() const;

 private:
  std::vector<std::string> headers_;
  std::vector<size_t> max_width_;
  std::vector<bool> right_;
  std::vector<std::vector<std::string>> rows_;
};

// "key:  value" lines with the values aligned.
std::string RenderKeyValues(const std::vector<std::pair<std::string, std::string>>& pairs);

// Pretty JSON (two-space indent) and a newline; invalid UTF-8 is replaced, never thrown.
std::string RenderJson(const nlohmann::json& j);

}  // namespace cairn::cli
