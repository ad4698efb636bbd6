// Appending JSON text for scoring responses without a JSON library on the hot path: numbers with
// std::to_chars (the shortest text that reads back as the same float or double), strings
// escaped (invalid UTF-8 replaced by U+FFFD, so the output is always valid JSON).
#pragma once

#include <string>
#include <string_view>

#include "ml/tabular.h"

namespace cairn::serving {

// A float as the shortest decimal that reads back as the same float; NaN and ±inf as null.
void AppendFloat(std::string& out, float value);
// A double likewise.
void AppendDouble(std::string& out, double value);
// A JSON string literal, quotes included.
void AppendJsonString(std::string& out, std::string_view text);
// A cell as JSON: null, a number, true/false or a string.
void AppendCell(std::string& out, const ml::Cell& cell);

}  // namespace cairn::serving
