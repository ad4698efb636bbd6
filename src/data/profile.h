// The dataset profile kept with each CSV snapshot: per-column types, summary statistics and the
// sketches (quantiles, distinct counts, frequent values, reservoir samples) that drift
// monitoring compares live traffic against. Built in one streaming pass as a CsvVisitor.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <nlohmann/json_fwd.hpp>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"
#include "core/status.h"
#include "data/csv_reader.h"
#include "data/sketches.h"

namespace cairn::data {

// ---------------------------------------------------------------------------------------------
// What a profile states, and how exactly.
//  - rows, per-column type, count (non-missing values) and missing: exact. Types and missing
//    counts are those InferTypes gives (same classification, same rule), decided over all rows.
//  - min, max: exact. mean, stddev: exact up to floating-point rounding (Welford). stddev is the
//    sample standard deviation (n − 1 in the denominator, as pandas' describe); the Moments
//    sketch also gives the population one.
//  - quantiles (p01 … p99): from a KLL sketch with k = 200. Exact while a column has at most
//    ~200 values, or few distinct values (the sketch is then built from their exact counts and
//    holds them exactly while it fits); beyond that, with probability 99 % the true rank of
//    each reported value is within ±1.33 % of n of the requested rank
//    (KllSketch::NormalizedRankError(200)) — ±1.4 % for columns of more than 2^19 values,
//    whose values reach the sketch through a sampler (one value at random, with weight w, of
//    each run of w ≤ n / 2^18 consecutive values: its error has a standard deviation of at most
//    0.1 % of n, against the sketch's 0.52 %; it makes the sketch sort 5× fewer values at 10^7).
//    A quantile is always a value that occurs in the column (p50 of 1, 2 is 1, not 1.5).
//  - histogram: `bins` equal-width bins from min to max; bin i holds [edges[i], edges[i+1]), the
//    last bin also max. The counts are estimated from the same KLL sketch's rank function
//    (count of bin i = n·(Rank(edges[i+1]) − Rank(edges[i])), rounded so that they sum to n):
//    each count is within ±1.65 % of n of the truth with probability 99 % (the double-sided
//    bound; ±1.7 % past 2^19 values, as above), and exact while the sketch is exact. The KLL sketch
//    was chosen over the reservoir because its error is a deterministic-looking bound independent
//    of the sample size and it is the same sketch the quantiles come from. No histogram when min or
//    max is infinite.
//  - distinct: exact (`distinct_exact`) while the column has at most 1024 distinct values (for
//    strings, also at most 64 KiB of them): the profile counts each of them exactly while it
//    can. Otherwise a HyperLogLog estimate with p = 12: relative standard error 1.63 %, 99.7 %
//    of estimates within ±4.9 %. Numbers are distinct by value ("1" and "1.0" are one value),
//    strings by their bytes.
//  - top: the `top_k` (20) most frequent values, from a 64-counter SpaceSaving summary: exact
//    counts (error 0) while the distinct values are counted exactly (above); otherwise each
//    count overestimates by at most its `error` ≤ n / 64. `frequent_values.exact()` says
//    whether it lists every value (at most 64). Boolean columns list "true" and "false" (any
//    spelling in the file) with exact counts.
//  - sample: a uniform reservoir sample (Algorithm L) of at most 10,000 non-missing values; all
//    of them, in file order, when the column has no more. Numbers (booleans as 0/1) as doubles,
//    strings as strings.
// All randomness is seeded from ProfileOptions::seed: the same bytes give the same profile,
// and the same ToJson bytes, however the input was split into pieces or among threads, and
// whether ProfileCsv or a ProfileBuilder read it. Each column's sketches are fed its values in
// file order, in blocks of 1024 values per column (the moments add a block at a time, by two
// passes and Chan's formula: the same as Welford's one-at-a-time update up to rounding).
// ---------------------------------------------------------------------------------------------

struct ProfileOptions {
  int histogram_bins = 20;
  size_t top_k = 20;
  size_t frequent_capacity = FrequentValues::kDefaultCapacity;
  size_t sample_capacity = 10000;
  uint32_t kll_k = KllSketch::kDefaultK;
  int hll_precision = HyperLogLog::kDefaultPrecision;
  uint64_t seed = 0x6361697270726f66;  // "cairprof"
};

// The quantile levels reported, in order: p01, p05, p25, p50, p75, p95, p99.
inline constexpr std::array<double, 7> kProfileQuantiles = {0.01, 0.05, 0.25, 0.5,
                                                            0.75, 0.95, 0.99};
// Their names in JSON and tables, in the same order.
inline constexpr std::array<std::string_view, 7> kProfileQuantileNames = {
    "p01", "p05", "p25", "p50", "p75", "p95", "p99"};

// Counts in equal-width bins (see the block comment for the error). The JSON form,
// {"edges", "counts"}, is what Histogram::WithEdges needs to count live data in the same bins.
struct ProfileHistogram {
  std::vector<double> edges;     // bins + 1 values, or 2 when min == max; empty: no histogram
  std::vector<uint64_t> counts;  // edges.size() − 1 values summing to the column's count
};

// One column of a profile. Which members carry meaning depends on `type`:
//   integer, float: moments, quantiles, histogram, quantile_sketch, distinct_sketch (values
//                   hashed as doubles), numeric_sample.
//   boolean:        moments (of 0/1: mean is the fraction true), top, frequent_values ("true",
//                   "false"), numeric_sample (0/1).
//   string:         top, frequent_values, distinct_sketch (bytes hashed), string_sample.
// The rest hold default (empty) values.
struct ColumnProfile {
  std::string name;
  ColumnType type = ColumnType::kFloat;
  int64_t count = 0;    // non-missing values
  int64_t missing = 0;  // count + missing == the profile's rows
  double distinct = 0;  // exact when distinct_exact, else a HyperLogLog estimate
  bool distinct_exact = true;

  // Summary statistics, NaN when they do not apply (string columns, or no values).
  double min = 0;
  double max = 0;
  double mean = 0;
  double stddev = 0;              // sample standard deviation; NaN with fewer than 2 values
  std::vector<double> quantiles;  // at kProfileQuantiles; empty unless numeric with values
  ProfileHistogram histogram;
  std::vector<FrequentValues::Entry> top;  // most frequent first

  // The sketches, for merging and comparing (drift monitoring).
  Moments moments;
  KllSketch quantile_sketch;
  HyperLogLog distinct_sketch;
  FrequentValues frequent_values;
  NumericReservoir numeric_sample;
  StringReservoir string_sample;

  bool numeric() const { return type == ColumnType::kInteger || type == ColumnType::kFloat; }
};

struct DatasetProfile {
  int64_t rows = 0;
  std::vector<ColumnProfile> columns;

  // The column named `name`, or nullptr.
  const ColumnProfile* Find(std::string_view name) const;
};

// Builds a DatasetProfile from the rows a CsvParser hands over, in one pass and bounded memory
// per column: about 100 KB of sketches and exact counts plus up to two reservoirs of
// sample_capacity values (a numeric and a string one while the type is open). A column's type
// is known only at the end, so every column keeps its string statistics throughout, and
// numeric ones for as long as its values could still make it a number or boolean column;
// Build finalizes each column by its final type. This is the streaming path (and the reference
// the fast path is tested against): it gives exactly ProfileCsv's profile, at a fraction of its
// speed (~60 MB/s on one thread). Not thread-safe.
class ProfileBuilder : public CsvVisitor {
 public:
  explicit ProfileBuilder(const ProfileOptions& options = {});
  ~ProfileBuilder() override;
  ProfileBuilder(const ProfileBuilder&) = delete;
  ProfileBuilder& operator=(const ProfileBuilder&) = delete;

  Status OnHeader(std::span<const std::string> names) override;
  Status OnRow(std::span<const std::string_view> fields, int64_t line) override;

  // The profile of the rows seen so far. Call after the parser's Finish succeeded (earlier, it
  // describes the rows parsed so far). Does not change the builder.
  DatasetProfile Build() const;

 private:
  struct Column;
  ProfileOptions options_;
  std::vector<Column> columns_;
  int64_t rows_ = 0;
};

// How ProfileCsv runs; none of it changes the profile.
struct ProfileRun {
  unsigned threads = 1;  // 0: one per core
  // Rows are cut into blocks of about this many bytes (0: 256 KiB); tests make them small.
  size_t block_bytes = 0;
  // When set: ProfileCsv stops soon after it becomes true and returns kUnavailable.
  const std::atomic<bool>* cancel = nullptr;
  // When set: bytes of `data` profiled so far, updated as blocks complete (for progress).
  std::atomic<uint64_t>* bytes_done = nullptr;
  // For tests: a file the fast path does not take is kFailedPrecondition instead of going
  // through CsvParser, so a test can tell which path gave the profile.
  bool no_fallback = false;
};

// Profiles `data` (a whole CSV file), the same profile a ProfileBuilder fed by a CsvParser
// gives. The parser's errors (kInvalidArgument naming the line and column) are returned
// unchanged. Fast path: SplitCsvRows cuts blocks of rows, and each column reads its fields block
// by block, with type-specialized statistics (numbers are parsed once and counted in a small
// exact table while they have few distinct values; a column that turns out to be a string
// column after numbers or booleans is read again from the start, which is rare), columns
// spread over `threads`. A file the fast path does not take — malformed, or well-formed in a
// way it leaves to CsvParser — goes through CsvParser and a ProfileBuilder.
Result<DatasetProfile> ProfileCsv(std::string_view data, const ProfileOptions& options = {},
                                  const ProfileRun& run = {});

// The profile as JSON, deterministic (same profile, same bytes when dumped):
//   {"format": 1, "rows": N, "columns": [{
//      "name", "type", "count", "missing", "distinct", "distinct_exact",
//      "min", "max", "mean", "stddev"                  (numeric and boolean columns)
//      "quantiles": {"p01": …, …, "p99": …}            (numeric columns with values)
//      "histogram": {"edges": […], "counts": […]}      (numeric columns with a histogram)
//      "top": [{"value", "count", "error"}, …]         (string and boolean columns)
//      "sketches": {"moments", "kll", "hll", "frequent", "sample"}  (those of the type, each
//                                                                    the sketch's own ToJson)
//   }, …]}
// Non-finite numbers are written as the strings "inf", "-inf" and "nan", as the sketches do.
// The summary fields are for reading (`cairn data show`); the sketches are what restores.
nlohmann::json ToJson(const DatasetProfile& profile);
// Reads what ToJson wrote; ToJson(*ProfileFromJson(j)) == j. kInvalidArgument naming the
// column and field otherwise.
Result<DatasetProfile> ProfileFromJson(const nlohmann::json& json);

}  // namespace cairn::data
