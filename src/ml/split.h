// Seeded train/validation splits of a dataset's rows, stratified by class for classification.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "core/result.h"

namespace cairn::ml {

struct Split {
  std::vector<int64_t> train;  // row indices, ascending
  std::vector<int64_t> valid;  // row indices, ascending
};

// Both splits below are functions of their arguments alone: the same inputs and seed give the
// same rows on every platform (std::mt19937_64 with our own Fisher–Yates shuffle and bounded
// draw; no std::shuffle or std::uniform_int_distribution, whose algorithms are unspecified).
// `valid_fraction` must lie in (0, 1).

// Puts round(rows × valid_fraction) random rows in `valid` (at least 1, at most rows - 1) and
// the rest in `train`. kInvalidArgument for fewer than 2 rows.
Result<Split> RandomSplit(int64_t rows, double valid_fraction, uint64_t seed);

// Splits each class in proportion: of a class with n rows, round(n × valid_fraction) go to
// `valid`, clamped so a class with at least 2 rows has at least one row on each side (a class
// with a single row stays in `train`). `classes[i]` is row i's class, any non-negative int.
// kInvalidArgument for a negative class or when `valid` would be empty.
Result<Split> StratifiedSplit(std::span<const int32_t> classes, double valid_fraction,
                              uint64_t seed);

}  // namespace cairn::ml
