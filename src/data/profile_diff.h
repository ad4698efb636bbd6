// Comparing two dataset profiles: schema changes and per-column statistic changes, with large
// shifts flagged. What `cairn data diff` shows between two versions of a dataset.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "data/csv_reader.h"
#include "data/profile.h"

namespace cairn::data {

// When a change counts as a large shift. Defaults follow the drift thresholds of the design
// (a mean moved by a tenth of a standard deviation, PSI ≥ 0.2 significant).
struct ProfileDiffOptions {
  double mean_shift = 0.1;      // |Δmean| / stddev(from)
  double stddev_ratio = 1.25;   // stddev(to) / stddev(from) outside [1/r, r]
  double missing_rate = 0.02;   // |Δ| of the share of missing values (absolute)
  double distinct_ratio = 1.2;  // distinct(to) / distinct(from) outside [1/r, r]
  double top_share = 0.05;      // |Δ| of one frequent value's share of the non-missing values
  double psi = 0.2;             // population stability index on from's decile (or top-value) bins
  size_t top_values = 5;        // frequent values compared: the top N of either side
};

// One statistic of one column on both sides. NaN where it does not apply on a side (e.g. the
// mean of a column with no values).
struct StatChange {
  std::string statistic;  // "missing_rate", "mean", "stddev", "min", "max", "p01"…"p99",
                          // "distinct", "top_share" (with `value`), "psi"
  std::string value;      // top_share: the frequent value
  double from = 0;
  double to = 0;
  bool flagged = false;  // a large shift by ProfileDiffOptions

  // to != from (NaN on both sides counts as equal). For "psi" (`from` 0, `to` the index):
  // whether it is at least 1e-4, below which it is sketch noise.
  bool changed() const;
};

struct ColumnTypeChange {
  std::string name;
  ColumnType from = ColumnType::kString;
  ColumnType to = ColumnType::kString;
};

// A column present on both sides.
struct ColumnDiff {
  std::string name;
  ColumnType from_type = ColumnType::kString;
  ColumnType to_type = ColumnType::kString;
  // Every statistic compared, changed or not, in a fixed order: missing_rate, [numeric: mean,
  // stddev, min, max, quantiles], distinct, [top_share per value], psi.
  std::vector<StatChange> stats;

  bool changed() const;  // a type change or any changed statistic
  bool flagged() const;  // any flagged statistic
};

struct ProfileDiff {
  int64_t rows_from = 0;
  int64_t rows_to = 0;
  std::vector<ColumnSchema> added;          // in `to`'s column order (csv_reader.h's schema)
  std::vector<ColumnSchema> removed;        // in `from`'s column order
  std::vector<ColumnTypeChange> type_changed;
  std::vector<ColumnDiff> columns;          // the columns on both sides, in `to`'s order

  bool schema_changed() const { return !added.empty() || !removed.empty() || !type_changed.empty(); }
};

// The population stability index and its numeric bins, shared by DiffProfiles and drift
// monitoring (monitoring/drift.h), so both bin and score a column the same way.
//
// Σ (q − p) · ln(q / p) over bins, each share floored at kPsiShareFloor so an empty bin does
// not make it infinite. `p` (baseline) and `q` have the same size; each should sum to 1.
inline constexpr double kPsiShareFloor = 1e-4;
double PopulationStabilityIndex(std::span<const double> p, std::span<const double> q);
// The baseline's decile edges: its sketch's quantiles at 0.1 … 0.9, sorted, repeated values
// (and NaN) removed — a column with few distinct values gets fewer bins. The bins are
// (−inf, e1), [e1, e2), …, [ek, +inf): edges.size() + 1 of them. Empty for an empty sketch.
std::vector<double> PsiDecileEdges(const KllSketch& baseline);
// The share of each of those bins, from a sketch's rank function (fraction < edge).
std::vector<double> PsiBinShares(const KllSketch& sketch, std::span<const double> edges);
// The same shares counted exactly from values (NaN ignored; all zero when there are none).
std::vector<double> PsiBinShares(std::span<const double> values, std::span<const double> edges);

// Compares `from` (the baseline) with `to`. Numeric statistics are compared when both sides are
// numeric (integer or float), top-value shares when both are string or boolean; the PSI bins are
// from's deciles (numeric, from its quantile sketch; each side's share of a bin from its own
// sketch's rank function) or from's top values plus "other" (string, boolean). Shares are floored
// at 1e-4 in the PSI so an empty bin does not make it infinite.
ProfileDiff DiffProfiles(const DatasetProfile& from, const DatasetProfile& to,
                         const ProfileDiffOptions& options = {});

// {"rows": {"from", "to"}, "schema": {"added": [{"name", "type"}], "removed": [...],
//  "type_changed": [{"name", "from", "to"}]}, "columns": [{"name", "from_type", "to_type",
//  "changed", "flagged", "stats": [{"statistic", "value"?, "from", "to", "flagged"}]}]}
// NaN is written as null.
nlohmann::json ToJson(const ProfileDiff& diff);
// Reads what ToJson wrote (null as NaN); kInvalidArgument naming the field otherwise.
Result<ProfileDiff> ProfileDiffFromJson(const nlohmann::json& json);

}  // namespace cairn::data
