// Bounded-memory sketches behind a dataset profile: quantiles (KLL), distinct counts
// (HyperLogLog), uniform reservoir samples, streaming moments, histograms and frequent values.
//
// Every sketch is deterministic: randomness comes from an injected seed (SplitMix64), hashing is
// a fixed 64-bit function, so the same input and seed give the same sketch and the same JSON.
// Sketches that can be merged say so; a merged sketch has the error bound of one sketch built
// over the union, which is what per-window monitoring relies on. ToJson/FromJson give a compact
// JSON form that round-trips exactly (a restored sketch continues exactly like the original).
// In numeric sketches NaN means "missing": it is ignored (Moments counts it as missing).
// Sketches are plain values, not synchronized: build one per thread or chunk, then Merge.
#pragma once

#include <bit>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <limits>
#include <nlohmann/json_fwd.hpp>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <unordered_map>
#include <vector>

#include "core/result.h"
#include "core/status.h"

namespace cairn::data {

// Byte strings in JSON: valid UTF-8 stays a readable string; anything else travels as
// {"b64": base64 of its bytes}, so serializing never fails and never merges distinct values.
nlohmann::json BytesToJson(std::string_view bytes);
// The inverse; throws std::invalid_argument (or nlohmann's errors) on a malformed value — callers
// parse inside a try block that turns exceptions into kInvalidArgument.
std::string BytesFromJson(const nlohmann::json& json);

// ---------------------------------------------------------------------------------------------
// Hashing and randomness. Part of the serialized format: HyperLogLog registers depend on the
// hash, and the sketches' JSON carries SplitMix64 states. Changing either is a format change.

// The splitmix64 finalizer: a bijection on 64-bit words with full avalanche.
inline uint64_t Mix64(uint64_t x) {
  x ^= x >> 30;
  x *= 0xbf58476d1ce4e5b9ULL;
  x ^= x >> 27;
  x *= 0x94d049bb133111ebULL;
  x ^= x >> 31;
  return x;
}
// A 64-bit hash of bytes, identical on every machine (bytes are read little-endian).
uint64_t Hash64(std::string_view bytes, uint64_t seed = 0);
// A 64-bit hash of a number: -0.0 hashes as 0.0 and every NaN alike. An integer column hashes
// its values as doubles, so "1" and "1.0" are the same value.
inline uint64_t HashDouble(double value, uint64_t seed = 0) {
  if (value == 0) value = 0;  // -0.0 → 0.0
  if (std::isnan(value)) value = std::numeric_limits<double>::quiet_NaN();
  return Mix64(Mix64(std::bit_cast<uint64_t>(value) ^ seed) + 0x9e3779b97f4a7c15ULL);
}

// Steele, Lea and Flood's SplitMix64 generator: tiny state (one word), fast, good enough for
// sampling, and bit-exact everywhere.
class SplitMix64 {
 public:
  explicit SplitMix64(uint64_t seed = 0) : state_(seed) {}
  uint64_t Next();
  // Uniform in [0, 1) with 53 random bits.
  double NextDouble();
  // Uniform in (0, 1): safe to take the log of.
  double NextOpenDouble();
  // Uniform in [0, bound) for bound > 0 (modulo bias below bound / 2^64).
  uint64_t Below(uint64_t bound);
  uint64_t state() const { return state_; }

 private:
  uint64_t state_;
};

// ---------------------------------------------------------------------------------------------
// Quantiles of a stream of doubles: the KLL sketch (Karnin, Lang and Liberty, "Optimal Quantile
// Approximation in Streams", FOCS 2016) with the lazy compaction of Apache DataSketches: level
// capacities k·(2/3)^depth, never below 8; a full level is sorted and every other item (a coin
// flip decides which) moves up one level with twice the weight.
//
// Error bound. The error is additive in rank, the same for every rank and independent of n:
// with probability 99 % the estimated rank of any value (Rank, Cdf, and the rank of the value
// Quantile(q) returns, compared with q) is within NormalizedRankError(k) · n of the truth —
// 1.33 % for k = 200 (the default). For the mass between two values (a histogram bar) use the
// double-sided bound, 1.65 % for k = 200. These are the bounds DataSketches publishes for this
// algorithm (empirical fits 2.296 / k^0.9723 and 2.446 / k^0.9433, "KLL Sketch Accuracy and
// Size"); the tests measure them on 10^6 values. Up to k values the sketch is exact; min and
// max are always exact. Memory: about 3k doubles (≈ 5 KB for k = 200) for any n.
//
// Mergeable: Merge(other) gives a sketch of the union with the same bound.
// Deterministic: the coin flips come from a SplitMix64 seeded by `seed`; no floating point
// enters the randomness, so sketches are bit-identical across machines.
class KllSketch {
 public:
  static constexpr uint32_t kDefaultK = 200;
  static constexpr uint32_t kMinK = 8;
  static constexpr uint32_t kMaxK = 65535;

  // `k` in [kMinK, kMaxK].
  explicit KllSketch(uint32_t k = kDefaultK, uint64_t seed = 0);

  // NaN is ignored; ±infinity are values.
  void Add(double value);
  // Adds `weight` copies of `value` (nothing for weight 0 or NaN). The copies are held exactly —
  // the value at the level of each set bit of `weight` — until compaction makes room, so a
  // sketch built from exact (value, count) pairs is exact while it fits.
  void Add(double value, uint64_t weight);
  // Adds a block of values, each with weight `weight` (a power of two; NaN ignored): they join
  // the level of that weight together and are compacted with one sort, which is much cheaper
  // than many small compactions. The sketch can differ from Adding them one by one
  // (compactions happen at other moments), with the same bound: every compaction still halves
  // a level at or over its capacity, and there are fewer of them.
  void AddBlock(std::span<const double> values, uint64_t weight = 1);
  // Adds the values summarized by `other`. kInvalidArgument when k differs.
  Status Merge(const KllSketch& other);

  uint32_t k() const { return k_; }
  // Values added (NaN excluded).
  uint64_t count() const { return n_; }
  bool empty() const { return n_ == 0; }
  // Exact; NaN when empty.
  double min() const;
  double max() const;
  // Items held (the memory bound), for tests and reports.
  size_t num_retained() const { return retained_; }

  // The value whose rank is about q (q is clamped to [0, 1]): the smallest retained value
  // whose estimated Cdf reaches q. Quantile(0) is min(), Quantile(1) is max(). NaN when empty.
  double Quantile(double q) const;
  // Quantile for several q at once (one sort of the retained items).
  std::vector<double> Quantiles(std::span<const double> qs) const;
  // Estimated fraction of values < x, and ≤ x. NaN when empty.
  double Rank(double x) const;
  double Cdf(double x) const;

  // The 99 %-confidence normalized rank error for `k` (see the class comment).
  static double NormalizedRankError(uint32_t k, bool double_sided = false);

  // {"k", "n", "min", "max", "levels": [[...], ...], "rng"}.
  nlohmann::json ToJson() const;
  // kInvalidArgument when `json` is not a KLL sketch this code wrote.
  static Result<KllSketch> FromJson(const nlohmann::json& json);

 private:
  struct WeightedValue {
    double value;
    uint64_t cumulative_weight;  // weight of this and all smaller retained values
  };
  uint32_t LevelCapacity(size_t level) const;
  size_t TotalCapacity() const;
  // Appends an empty top level and recomputes capacity_.
  void AddLevel();
  void CompressWhileOverfull();
  std::vector<WeightedValue> SortedView() const;
  double QuantileIn(const std::vector<WeightedValue>& view, double q) const;

  uint32_t k_;
  SplitMix64 rng_;
  uint64_t n_ = 0;
  double min_ = 0;
  double max_ = 0;
  size_t retained_ = 0;
  size_t capacity_ = 0;
  // levels_[h] holds items of weight 2^h; level 0 is unsorted, the others are kept sorted (a
  // compaction then needs no sort above level 0, only a merge of the promoted run).
  std::vector<std::vector<double>> levels_;
};

// ---------------------------------------------------------------------------------------------
// Distinct counts: HyperLogLog (Flajolet, Fusy, Gandouet and Meunier, 2007) with 2^p one-byte
// registers fed by 64-bit hashes, read with Ertl's improved estimator ("New cardinality
// estimation algorithms for HyperLogLog sketches", 2017).
//
// Error bound: relative standard error 1.04 / sqrt(2^p) — 1.63 % at p = 12 (4 KiB, the
// default), 0.81 % at p = 14 (16 KiB); 99.7 % of estimates fall within 3 standard errors.
// Small range: the estimator's empty-register term plays the part of linear counting — for
// small sets it agrees with m·ln(m/V) (V empty registers) to a fraction of a percent, and tiny
// sets come out exact — without the bias bump where classic HyperLogLog switches from linear
// counting to its raw estimate. Large range: 64-bit hashes need no correction below ~10^18.
//
// Mergeable exactly: Merge gives the very registers of a sketch of the union.
class HyperLogLog {
 public:
  static constexpr int kDefaultPrecision = 12;
  static constexpr int kMinPrecision = 4;
  static constexpr int kMaxPrecision = 18;

  // `precision` (p) in [kMinPrecision, kMaxPrecision].
  explicit HyperLogLog(int precision = kDefaultPrecision);

  void Add(std::string_view value) { AddHash(Hash64(value)); }
  // NaN is missing, not a value: ignored.
  void Add(double value) {
    if (!std::isnan(value)) AddHash(HashDouble(value));
  }
  void AddHash(uint64_t hash) {
    const size_t index = hash >> (64 - precision_);
    const uint64_t rest = hash << precision_;
    // Position of the first 1 bit in the remaining 64 − p bits; 64 − p + 1 when they are all 0.
    const int rank = rest == 0 ? 64 - precision_ + 1 : std::countl_zero(rest) + 1;
    if (registers_[index] < rank) registers_[index] = static_cast<uint8_t>(rank);
  }
  // kInvalidArgument when the precisions differ.
  Status Merge(const HyperLogLog& other);

  // Estimated number of distinct values added.
  double Estimate() const;
  int precision() const { return precision_; }
  // 1.04 / sqrt(2^p).
  double StandardError() const;

  // {"p", "registers": base64 of the 2^p register bytes}.
  nlohmann::json ToJson() const;
  static Result<HyperLogLog> FromJson(const nlohmann::json& json);

 private:
  int precision_;
  std::vector<uint8_t> registers_;
};

// ---------------------------------------------------------------------------------------------
// A uniform random sample of at most `capacity` values of a stream: Li's Algorithm L ("Reservoir-
// sampling algorithms of time complexity O(n(1 + log(N/n)))", 1994), which draws random numbers
// only for the ~capacity·ln(n/capacity) values it keeps, not for every value.
//
// Guarantee: after n values, items() is a uniformly random subset of min(n, capacity) of them
// (every subset equally likely); with n ≤ capacity it is all of them (in arrival order unless
// merged).
// Mergeable: Merge draws from both samples by hypergeometric selection, so the result is a
// uniform sample of the union (both reservoirs must have the same capacity), and adding after a
// merge keeps it uniform. Deterministic given the seed; the skips use std::log/std::exp, so
// bit-exact reproduction across machines assumes the same libm.
//
// Instantiated for double (NaN ignored) and std::string (Add takes a string_view and copies only
// the values it keeps).
template <typename T>
class Reservoir {
 public:
  using ValueView = std::conditional_t<std::is_same_v<T, std::string>, std::string_view, T>;
  static constexpr size_t kDefaultCapacity = 10000;

  // `capacity` ≥ 1.
  explicit Reservoir(size_t capacity = kDefaultCapacity, uint64_t seed = 0);

  void Add(ValueView value) {
    // Most values of a long stream are skipped: that test stays inline.
    if (items_.size() == capacity_ && n_ != next_) {
      if constexpr (std::is_same_v<T, double>) {
        if (std::isnan(value)) return;
      }
      ++n_;
      return;
    }
    AddSlow(value);
  }
  // The same as Adding each value in order (same sample, same state), without per-value work
  // for the values the sampler skips.
  void Add(std::span<const ValueView> values);
  // kInvalidArgument when the capacities differ.
  Status Merge(const Reservoir& other);

  // The sample, in no meaningful order once n > capacity.
  const std::vector<T>& items() const { return items_; }
  // Values seen.
  uint64_t count() const { return n_; }
  size_t capacity() const { return capacity_; }

  // {"capacity", "count", "items", "rng", and once full "w", "next"}. A string item that is
  // valid UTF-8 is a JSON string; any other is {"b64": base64 of its bytes}, so every byte
  // round-trips.
  nlohmann::json ToJson() const;
  static Result<Reservoir> FromJson(const nlohmann::json& json);

 private:
  void AddSlow(ValueView value);
  void StartSkipping();  // sets w_ and next_ for a full reservoir that has seen n_ values
  void DrawNext();       // next_ = index of the next value to keep

  size_t capacity_;
  SplitMix64 rng_;
  uint64_t n_ = 0;
  std::vector<T> items_;
  double w_ = 0;       // Algorithm L's W: the largest of the kept values' random keys
  uint64_t next_ = 0;  // 0-based index of the next value that enters the reservoir
};

extern template class Reservoir<double>;
extern template class Reservoir<std::string>;
using NumericReservoir = Reservoir<double>;
using StringReservoir = Reservoir<std::string>;

// ---------------------------------------------------------------------------------------------
// Count, missing count, min, max, mean and variance in one pass: Welford's update (numerically
// stable: no catastrophic cancellation of sum-of-squares) and Chan, Golub and LeVeque's pairwise
// combination for Merge. Exact up to floating-point rounding; min and max are exact. An infinite
// value makes the mean and variance non-finite.
class Moments {
 public:
  // NaN counts as missing.
  void Add(double value);
  // Adds a block: its mean and Σ(x − mean)² by two passes over the block (four interleaved
  // partial sums, a fixed order), combined with the running values by Chan's formula. Equal to
  // Adding each value up to rounding, and several times faster (no division per value).
  void Add(std::span<const double> values);
  void AddMissing(uint64_t n = 1) { missing_ += n; }
  void Merge(const Moments& other);

  // Non-missing values.
  uint64_t count() const { return count_; }
  uint64_t missing() const { return missing_; }
  // NaN when count() is 0.
  double min() const;
  double max() const;
  double mean() const;
  // Σ(x − mean)² / n (NumPy's default, which Evidently's normalized Wasserstein uses); NaN when
  // count() is 0.
  double PopulationVariance() const;
  double PopulationStddev() const;
  // Σ(x − mean)² / (n − 1); NaN when count() < 2.
  double SampleVariance() const;
  double SampleStddev() const;

  // {"count", "missing", and when count > 0 "min", "max", "mean", "m2"}.
  nlohmann::json ToJson() const;
  static Result<Moments> FromJson(const nlohmann::json& json);

 private:
  uint64_t count_ = 0;
  uint64_t missing_ = 0;
  double min_ = 0;
  double max_ = 0;
  double mean_ = 0;
  double m2_ = 0;  // Σ(x − mean)²
};

// ---------------------------------------------------------------------------------------------
// Counts of values in fixed bins. Bin i holds [edges[i], edges[i+1]); the last bin also holds
// its right edge. Values below the first edge or above the last are counted in underflow() and
// overflow(), so a reference histogram can count live data that falls outside its range.
// Exact; mergeable when the edges are identical.
class Histogram {
 public:
  // `edges`: at least two finite values, non-decreasing (repeated edges make empty bins).
  static Result<Histogram> WithEdges(std::vector<double> edges);
  // WithEdges, then Add each value.
  static Result<Histogram> Count(std::vector<double> edges, std::span<const double> values);

  // NaN is ignored.
  void Add(double value);
  // kInvalidArgument when the edges differ.
  Status Merge(const Histogram& other);

  const std::vector<double>& edges() const { return edges_; }
  const std::vector<uint64_t>& counts() const { return counts_; }
  uint64_t underflow() const { return underflow_; }
  uint64_t overflow() const { return overflow_; }
  // All values counted, in bins or outside.
  uint64_t total() const;

  // {"edges", "counts", "underflow", "overflow"}.
  nlohmann::json ToJson() const;
  static Result<Histogram> FromJson(const nlohmann::json& json);

 private:
  std::vector<double> edges_;
  std::vector<uint64_t> counts_;
  uint64_t underflow_ = 0;
  uint64_t overflow_ = 0;
};

// `bins` (≥ 1) equal-width bins from min to max. When min == max there is one bin, [min, max];
// empty (no histogram) when min or max is not finite or min > max.
std::vector<double> EqualWidthEdges(double min, double max, int bins);
// Edges at the sketch's quantiles 0, 1/bins, …, 1 (min and max exact, the rest within the
// sketch's rank error), with repeated values removed — a column with few distinct values gets
// fewer bins. PSI bins its reference this way. Infinite quantiles are left out (those values
// count as underflow/overflow); empty when the sketch holds no finite value.
std::vector<double> QuantileEdges(const KllSketch& sketch, int bins);

// ---------------------------------------------------------------------------------------------
// Frequent values of a categorical column: SpaceSaving (Metwally, Agrawal and El Abbadi, 2005)
// with `capacity` counters.
//
// Guarantees, with n the total weight added: each reported count overestimates the value's true
// count by at most its `error`, and error ≤ n / capacity (true count in [count − error, count]);
// every value whose true count exceeds n / capacity is reported. While no more than `capacity`
// distinct values have been seen the counts are exact and complete (exact() is true) — the
// usual case for a categorical column.
// Mergeable (Agarwal et al., "Mergeable Summaries", 2012): the same guarantees hold for the union.
class FrequentValues {
 public:
  struct Entry {
    std::string value;
    uint64_t count = 0;
    uint64_t error = 0;  // count − error ≤ true count ≤ count
    bool operator==(const Entry&) const = default;
  };
  static constexpr size_t kDefaultCapacity = 64;

  // `capacity` ≥ 1.
  explicit FrequentValues(size_t capacity = kDefaultCapacity);

  void Add(std::string_view value, uint64_t weight = 1);
  // kInvalidArgument when the capacities differ.
  Status Merge(const FrequentValues& other);
  // The summary of a stream whose exact count of every distinct value is known (`counts`:
  // distinct values, counts > 0): the `capacity` largest counts with error 0, exact() when
  // they are all of them. It meets SpaceSaving's guarantees (tighter: no overestimate), so Add
  // and Merge can go on from it.
  static FrequentValues FromExactCounts(std::vector<Entry> counts, size_t capacity);

  // The `k` largest counts, by count descending then value ascending.
  std::vector<Entry> Top(size_t k) const;
  // Every value tracked, in Top's order.
  std::vector<Entry> All() const { return Top(entries_.size()); }
  // True while every value ever added is tracked with its exact count.
  bool exact() const { return exact_; }
  // Total weight added.
  uint64_t total() const { return total_; }
  size_t capacity() const { return capacity_; }
  // Distinct values tracked.
  size_t size() const { return entries_.size(); }

  // {"capacity", "total", "exact", "items": [[value, count, error], ...]} in Top's order. A
  // value that is valid UTF-8 is a JSON string; any other is {"b64": base64 of its bytes}, so
  // every byte round-trips.
  nlohmann::json ToJson() const;
  static Result<FrequentValues> FromJson(const nlohmann::json& json);

 private:
  struct StringHash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return Hash64(s); }
  };
  // True when entries_[a] should be evicted before entries_[b]: it is the one Top lists later.
  bool EvictsBefore(uint32_t a, uint32_t b) const;
  // Builds heap_ over all entries (once the counters are full and the first eviction comes).
  void BuildHeap();
  // Restores the heap below heap_[pos] after that entry's count grew.
  void SiftDown(size_t pos);
  // Upper bound on the true count of a value not tracked.
  uint64_t UntrackedBound() const;

  size_t capacity_;
  uint64_t total_ = 0;
  bool exact_ = true;
  std::vector<Entry> entries_;
  std::unordered_map<std::string, size_t, StringHash, std::equal_to<>> index_;
  // A binary min-heap of entry indices ordered by EvictsBefore, so the next victim (the entry
  // Top lists last) is heap_[0]; heap_pos_[i] is entry i's position in heap_. Empty until the
  // counters are full and a value must be evicted; Merge empties it again.
  std::vector<uint32_t> heap_;
  std::vector<uint32_t> heap_pos_;
};

}  // namespace cairn::data
