#include "ml/split.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <random>
#include <string>
#include <utility>

namespace cairn::ml {
namespace {

// A uniform draw from [0, bound) by rejection (unbiased, identical everywhere).
uint64_t UniformBelow(std::mt19937_64& rng, uint64_t bound) {
  const uint64_t threshold = (0 - bound) % bound;  // 2^64 mod bound
  while (true) {
    const uint64_t r = rng();
    if (r >= threshold) return r % bound;
  }
}

void Shuffle(std::vector<int64_t>& items, std::mt19937_64& rng) {
  for (size_t i = items.size(); i > 1; --i) {
    std::swap(items[i - 1], items[UniformBelow(rng, i)]);
  }
}

Status CheckFraction(double valid_fraction) {
  if (!(valid_fraction > 0 && valid_fraction < 1)) {
    return InvalidArgument("validation fraction must be in (0, 1), got " +
                           std::to_string(valid_fraction));
  }
  return Status();
}

// Shuffles `rows` and moves round(size × fraction) of them, clamped to [1, size - 1], to valid.
void SplitGroup(std::vector<int64_t> rows, double valid_fraction, std::mt19937_64& rng,
                Split& out) {
  const int64_t n = static_cast<int64_t>(rows.size());
  if (n < 2) {
    out.train.insert(out.train.end(), rows.begin(), rows.end());
    return;
  }
  const int64_t valid =
      std::clamp<int64_t>(std::llround(static_cast<double>(n) * valid_fraction), 1, n - 1);
  Shuffle(rows, rng);
  out.valid.insert(out.valid.end(), rows.begin(), rows.begin() + valid);
  out.train.insert(out.train.end(), rows.begin() + valid, rows.end());
}

}  // namespace

Result<Split> RandomSplit(int64_t rows, double valid_fraction, uint64_t seed) {
  CAIRN_RETURN_IF_ERROR(CheckFraction(valid_fraction));
  if (rows < 2)
    return InvalidArgument("a split needs at least 2 rows, got " + std::to_string(rows));
  std::vector<int64_t> all(static_cast<size_t>(rows));
  for (int64_t i = 0; i < rows; ++i) all[static_cast<size_t>(i)] = i;
  std::mt19937_64 rng(seed);
  Split split;
  SplitGroup(std::move(all), valid_fraction, rng, split);
  std::sort(split.train.begin(), split.train.end());
  std::sort(split.valid.begin(), split.valid.end());
  return split;
}

Result<Split> StratifiedSplit(std::span<const int32_t> classes, double valid_fraction,
                              uint64_t seed) {
  CAIRN_RETURN_IF_ERROR(CheckFraction(valid_fraction));
  std::map<int32_t, std::vector<int64_t>> by_class;  // ordered: classes are split in id order
  for (size_t i = 0; i < classes.size(); ++i) {
    if (classes[i] < 0) {
      return InvalidArgument("row " + std::to_string(i) + " has negative class " +
                             std::to_string(classes[i]));
    }
    by_class[classes[i]].push_back(static_cast<int64_t>(i));
  }
  std::mt19937_64 rng(seed);
  Split split;
  for (auto& [cls, rows] : by_class) SplitGroup(std::move(rows), valid_fraction, rng, split);
  if (split.valid.empty()) {
    return InvalidArgument("too few rows per class for a validation split (" +
                           std::to_string(classes.size()) + " rows)");
  }
  std::sort(split.train.begin(), split.train.end());
  std::sort(split.valid.begin(), split.valid.end());
  return split;
}

}  // namespace cairn::ml
