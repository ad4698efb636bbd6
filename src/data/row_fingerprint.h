// Row identity across dataset versions: a 64-bit fingerprint of each CSV row's content, so
// `models compare` can tell which rows of one version a model trained on in another.
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

#include "core/result.h"

namespace cairn::data {

// One fingerprint per data row, in file order: a hash of the row's (column name, value) pairs
// taken in column-name order, so the same row fingerprints the same in a file whose columns are
// reordered. Values are compared as written (unescaped), so "1" and "1.0" differ. The parser's
// errors (naming line and column) are returned unchanged.
Result<std::vector<uint64_t>> FingerprintCsvRows(std::string_view csv);

}  // namespace cairn::data
