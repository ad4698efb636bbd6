#include "data/profile.h"

#include <algorithm>
#include <array>
#include <bit>
#include <cmath>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <exception>
#include <limits>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <thread>
#include <utility>

#include "core/check.h"
#include "core/utf8.h"

namespace cairn::data {
namespace {

using nlohmann::json;

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr int kFormat = 1;

// A column keeps the exact count of each of its distinct values up to this many (and, for
// strings, this many bytes of them): distinct counts and top values are exact within it, and
// while it holds the per-value work is one hash probe.
constexpr size_t kExactDistinct = 1024;
constexpr size_t kExactStringBytes = 64 << 10;
// Numbers reach the moments, the quantile sketch and the sample in blocks of this many values
// (per column, so a column's blocks do not depend on how the file was split).
constexpr size_t kValueBlock = 1024;
// Past 2^(kSamplerShift + 1) values a column's quantile sketch is fed through a sampler: of
// each run of w consecutive values, w the largest power of two ≤ n / 2^kSamplerShift (n the
// values before the run), one drawn at random enters with weight w. For any x the count of
// values ≤ x then errs by a sum of independent, zero-mean terms, one per run, each within ±w/2
// standard deviations: at most sqrt(n·w)/2 ≤ n / 2^((kSamplerShift + 2) / 2) — 0.1 % of n —
// against the sketch's own 0.52 % (its 1.33 % bound at 99 %). It cuts the values the sketch
// must sort (its main cost) by 5× on 10^7 values.
constexpr int kSamplerShift = 18;

constexpr uint8_t Bit(FieldKind kind) { return static_cast<uint8_t>(1u << static_cast<int>(kind)); }
constexpr uint8_t kNumberBits = Bit(FieldKind::kInteger) | Bit(FieldKind::kFloat);

// The column type for a set of FieldKinds seen, by csv_reader's own rule: a one-column
// TypeInferrer is shown one representative value of each kind. This keeps the profile's types
// identical to InferTypes' without a second copy of the rule.
ColumnType TypeOfKinds(uint8_t kinds) {
  static constexpr std::pair<FieldKind, std::string_view> kRepresentatives[] = {
      {FieldKind::kInteger, "0"},
      {FieldKind::kFloat, "0.5"},
      {FieldKind::kBoolean, "true"},
      {FieldKind::kString, "x"}};
  TypeInferrer inferrer;
  const std::string name = "c";
  (void)inferrer.OnHeader(std::span<const std::string>(&name, 1));
  for (const auto& [kind, value] : kRepresentatives) {
    if (kinds & Bit(kind)) inferrer.AddRow(std::span<const std::string_view>(&value, 1));
  }
  return inferrer.type(0);
}

// JSON has no NaN or infinity: they travel as strings, as in the sketches' JSON.
json NumberToJson(double x) {
  if (std::isfinite(x)) return x;
  if (std::isnan(x)) return "nan";
  return x > 0 ? "inf" : "-inf";
}

double NumberFromJson(const json& j) {
  if (j.is_number()) return j.get<double>();
  const auto& s = j.get_ref<const std::string&>();  // throws type_error otherwise
  if (s == "inf") return std::numeric_limits<double>::infinity();
  if (s == "-inf") return -std::numeric_limits<double>::infinity();
  if (s == "nan") return kNaN;
  throw std::invalid_argument("not a number: " + s);
}

Result<ColumnType> ColumnTypeFromName(std::string_view name) {
  for (ColumnType t :
       {ColumnType::kInteger, ColumnType::kFloat, ColumnType::kBoolean, ColumnType::kString}) {
    if (ColumnTypeName(t) == name) return t;
  }
  return InvalidArgument("unknown column type \"" + std::string(name) + "\"");
}

// Equal-width edges from min to max, counts from the KLL sketch's rank function. Cumulative
// counts are rounded, then differenced, so the bins are non-negative and sum to n exactly.
ProfileHistogram HistogramFromSketch(const KllSketch& sketch, double min, double max, int bins) {
  ProfileHistogram h;
  if (sketch.empty()) return h;
  h.edges = EqualWidthEdges(min, max, bins);
  if (h.edges.empty()) return h;
  const uint64_t n = sketch.count();
  const size_t nbins = h.edges.size() - 1;
  uint64_t previous = 0;
  for (size_t i = 1; i <= nbins; ++i) {
    uint64_t below = n;  // the last bin closes at max, which every value is at or below
    if (i < nbins) {
      below = static_cast<uint64_t>(std::llround(static_cast<double>(n) * sketch.Rank(h.edges[i])));
      below = std::clamp(below, previous, n);
    }
    h.counts.push_back(below - previous);
    previous = below;
  }
  return h;
}

// ---------------------------------------------------------------------------------------------
// Field classification: ClassifyField's answers, with a fast path for plain decimals.

// csv_reader's missing markers: "", NA, N/A, NaN, null, NULL.
inline bool IsMissingSpelling(std::string_view f) {
  switch (f.size()) {
    case 0:
      return true;
    case 2:
      return f[0] == 'N' && f[1] == 'A';
    case 3:
      return f == "N/A" || f == "NaN";
    case 4:
      return f == "null" || f == "NULL";
    default:
      return false;
  }
}
// The common case (longer than any marker, or not starting like one) decided inline.
__attribute__((always_inline)) inline bool IsMissingValue(std::string_view f) {
  if (f.size() > 4) return false;
  if (f.empty()) return true;
  if (f[0] != 'N' && f[0] != 'n') return false;
  return IsMissingSpelling(f);
}

constexpr double kPowersOf10[] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,
                                  1e8,  1e9,  1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
                                  1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};
constexpr uint64_t kIntPowersOf10[] = {1,
                                       10,
                                       100,
                                       1000,
                                       10000,
                                       100000,
                                       1000000,
                                       10000000,
                                       100000000,
                                       1000000000,
                                       10000000000,
                                       100000000000,
                                       1000000000000,
                                       10000000000000,
                                       100000000000000,
                                       1000000000000000,
                                       10000000000000000};

inline uint64_t LoadWord(const char* p) {
  uint64_t v;
  std::memcpy(&v, p, 8);
  return v;
}

// Bit 7 of each byte of w that is not an ASCII digit. A borrow or carry only moves up, so the
// lowest such bit is exact (the bytes above a non-digit are not to be trusted).
inline uint64_t NonDigits(uint64_t w) {
  return ((w + 0x4646464646464646ull) | (w - 0x3030303030303030ull)) & 0x8080808080808080ull;
}

// Bytes before the first non-digit of the 16 bytes at p.
inline size_t DigitRun(const char* p) {
  if (const uint64_t m = NonDigits(LoadWord(p)); m != 0) return std::countr_zero(m) / 8;
  if (const uint64_t m = NonDigits(LoadWord(p + 8)); m != 0) return 8 + std::countr_zero(m) / 8;
  return 16;
}

// The value of the n ≤ 8 ASCII digits at p (8 bytes readable), without a loop: the classic
// SWAR reduction, pairs then quads then octets.
inline uint64_t Digits8(const char* p, size_t n) {
  if (n == 0) return 0;
  uint64_t v = LoadWord(p) << (8 * (8 - n));  // drops what follows; leading zero bytes are 0s
  v = ((v & 0x0f0f0f0f0f0f0f0full) * 2561) >> 8;
  v = ((v & 0x00ff00ff00ff00ffull) * 6553601) >> 16;
  return ((v & 0x0000ffff0000ffffull) * 42949672960001ull) >> 32;
}
inline uint64_t Digits16(const char* p, size_t n) {
  if (n <= 8) return Digits8(p, n);
  return Digits8(p, n - 8) * 100000000 + Digits8(p + n - 8, 8);
}

// Plain decimals of up to 16 characters after the sign — [+-]digits or [+-]digits.digits with
// a digit somewhere — read without loops; 40 bytes from p must be readable. False for anything
// else (the caller then asks ClassifyField). The integer value is ParseInteger's (as a double);
// a float is m / 10^k with m < 10^15 < 2^53 and k ≤ 15: one correctly rounded division of two
// exact doubles (Clinger's fast path), so bit for bit what ParseFloat's from_chars gives.
inline bool FastDecimal(const char* p, size_t n, FieldKind* kind, double* value) {
  if (n == 1 && static_cast<unsigned>(p[0] - '0') < 10) {  // flags, codes, small counts
    *value = static_cast<double>(p[0] - '0');
    *kind = FieldKind::kInteger;
    return true;
  }
  bool negative = false;
  if (n > 0 && (p[0] == '-' || p[0] == '+')) {
    negative = p[0] == '-';
    ++p;
    --n;
  }
  if (n == 0 || n > 16) return false;
  const size_t whole = DigitRun(p);
  if (whole >= n) {
    const auto v = static_cast<int64_t>(Digits16(p, n));
    *value = static_cast<double>(negative ? -v : v);
    *kind = FieldKind::kInteger;
    return true;
  }
  if (p[whole] != '.') return false;
  const char* const fraction = p + whole + 1;
  const size_t decimals = n - whole - 1;
  if (whole + decimals == 0 || DigitRun(fraction) < decimals) return false;
  const uint64_t m = Digits16(p, whole) * kIntPowersOf10[decimals] + Digits16(fraction, decimals);
  const double d = static_cast<double>(m) / kPowersOf10[decimals];
  *value = negative ? -d : d;
  *kind = FieldKind::kFloat;
  return true;
}

// ClassifyField(f), and for numbers the value the profile takes (ParseInteger's as a double,
// or ParseFloat's). `readable_end`: how far past f bytes may be read (FastDecimal reads ahead).
inline FieldKind NumberKind(std::string_view f, const char* readable_end, double* value) {
  FieldKind kind;
  if (readable_end - f.data() >= 40 && FastDecimal(f.data(), f.size(), &kind, value)) return kind;
  kind = ClassifyField(f);
  if (kind == FieldKind::kInteger) *value = static_cast<double>(*ParseInteger(f));
  if (kind == FieldKind::kFloat) *value = *ParseFloat(f);
  return kind;
}

// ---------------------------------------------------------------------------------------------
// Exact counts of a column's distinct values, while there are few.

inline uint64_t Load64(const char* p) {
  uint64_t v;
  std::memcpy(&v, p, 8);
  return v;
}
inline uint64_t Load32(const char* p) {
  uint32_t v;
  std::memcpy(&v, p, 4);
  return v;
}
inline uint64_t MulFold(uint64_t a, uint64_t b) {
  __extension__ using U128 = unsigned __int128;  // GCC and Clang on 64-bit targets
  const U128 m = static_cast<U128>(a) * b;
  return static_cast<uint64_t>(m) ^ static_cast<uint64_t>(m >> 64);
}
// Exact counts of up to kExactDistinct distinct numbers (by value: -0 and 0 are one). Small
// non-negative integers — codes, flags, counts, the usual low-cardinality numeric column — are
// counted in a plain array, without hashing.
class NumberCounts {
 public:
  NumberCounts() { Resize(64); }

  // Counts `v`; false, counting nothing, when it is new and the table is full.
  bool Add(double v) {
    if (v >= 0 && v < kSmall) {
      const auto i = static_cast<uint32_t>(v);
      if (static_cast<double>(i) == v) {
        if (small_.empty()) small_.assign(kSmall, 0);
        if (small_[i] == 0) {
          if (size_ == kExactDistinct) return false;
          ++size_;
        }
        ++small_[i];
        return true;
      }
    }
    const uint64_t bits = std::bit_cast<uint64_t>(v);
    for (size_t i = Home(bits);; i = (i + 1) & mask_) {
      Slot& s = slots_[i];
      if (s.count == 0) {
        if (size_ == kExactDistinct) return false;
        s = {bits, 1};
        if (2 * ++size_ > slots_.size()) Resize(2 * slots_.size());
        return true;
      }
      if (s.bits == bits) {
        ++s.count;
        return true;
      }
    }
  }

  size_t size() const { return size_; }
  // (value, count) in increasing value order.
  std::vector<std::pair<double, uint64_t>> Sorted() const {
    std::vector<std::pair<double, uint64_t>> out;
    out.reserve(size_);
    for (size_t i = 0; i < small_.size(); ++i) {
      if (small_[i] > 0) out.emplace_back(static_cast<double>(i), small_[i]);
    }
    for (const Slot& s : slots_) {
      if (s.count > 0) out.emplace_back(std::bit_cast<double>(s.bits), s.count);
    }
    std::sort(out.begin(), out.end());
    return out;
  }

 private:
  struct Slot {
    uint64_t bits = 0;
    uint64_t count = 0;  // 0: empty
  };
  size_t Home(uint64_t bits) const {
    return static_cast<size_t>((bits * 0x9e3779b97f4a7c15ull) >> shift_);
  }
  void Resize(size_t slots) {
    std::vector<Slot> old = std::move(slots_);
    slots_.assign(slots, Slot{});
    mask_ = slots - 1;
    shift_ = 64 - std::countr_zero(slots);
    for (const Slot& s : old) {
      if (s.count == 0) continue;
      size_t i = Home(s.bits);
      while (slots_[i].count != 0) i = (i + 1) & mask_;
      slots_[i] = s;
    }
  }

  static constexpr uint32_t kSmall = 1024;
  std::vector<uint64_t> small_;  // counts of 0 … kSmall − 1, once one is seen
  std::vector<Slot> slots_;      // the other values
  size_t mask_ = 0;
  int shift_ = 0;
  size_t size_ = 0;  // distinct values, in both
};

// A string of up to 16 bytes as two words (with its length, it is the string: equal keys,
// equal strings); longer strings key by their first and last 8 bytes, compared in full on a
// match. Loads overlap rather than read past the string.
struct StringKey {
  uint64_t a = 0;
  uint64_t b = 0;
};
inline StringKey KeyOf(const char* p, size_t n) {
  if (n >= 8) return {Load64(p), Load64(p + n - 8)};
  if (n >= 4) return {Load32(p) | (Load32(p + n - 4) << 32), 0};
  if (n > 0) {
    return {(uint64_t{static_cast<unsigned char>(p[0])} << 16) |
                (uint64_t{static_cast<unsigned char>(p[n / 2])} << 8) |
                static_cast<unsigned char>(p[n - 1]),
            0};
  }
  return {};
}

// Exact counts of up to kExactDistinct distinct strings holding kExactStringBytes in all.
class StringCounts {
 public:
  StringCounts() { slots_.assign(64, kEmpty); }

  // Counts `value`; false, counting nothing, when it is new and does not fit.
  __attribute__((always_inline)) bool Add(std::string_view value) {
    const size_t n = value.size();
    const StringKey key = KeyOf(value.data(), n);
    constexpr uint64_t k0 = 0xa0761d6478bd642full, k1 = 0xe7037ed1a0b428dbull;
    const uint64_t hash = MulFold(key.a ^ k1, key.b ^ k0 ^ n);
    const size_t mask = slots_.size() - 1;
    for (size_t i = static_cast<size_t>(hash) & mask;; i = (i + 1) & mask) {
      const uint32_t e = slots_[i];
      if (e == kEmpty) return Insert(i, value, key, hash);
      Entry& entry = entries_[e];
      if (entry.a == key.a && entry.b == key.b && entry.size == n &&
          (n <= 16 || std::memcmp(bytes_.data() + entry.offset, value.data(), n) == 0)) {
        ++entry.count;
        return true;
      }
    }
  }

  size_t size() const { return entries_.size(); }
  // Every value with its count, in the order first seen.
  std::vector<FrequentValues::Entry> All() const {
    std::vector<FrequentValues::Entry> out;
    out.reserve(entries_.size());
    for (const Entry& e : entries_) out.push_back({bytes_.substr(e.offset, e.size), e.count, 0});
    return out;
  }

 private:
  static constexpr uint32_t kEmpty = std::numeric_limits<uint32_t>::max();
  struct Entry {
    uint64_t a;
    uint64_t b;
    uint64_t hash;
    uint32_t offset;  // of the bytes in bytes_
    uint32_t size;
    uint64_t count;
  };

  __attribute__((noinline)) bool Insert(size_t slot, std::string_view value, const StringKey& key,
                                        uint64_t hash) {
    if (entries_.size() == kExactDistinct || value.size() > kExactStringBytes - bytes_.size()) {
      return false;
    }
    slots_[slot] = static_cast<uint32_t>(entries_.size());
    entries_.push_back({key.a, key.b, hash, static_cast<uint32_t>(bytes_.size()),
                        static_cast<uint32_t>(value.size()), 1});
    bytes_.append(value);
    if (2 * entries_.size() > slots_.size()) Grow();
    return true;
  }
  void Grow() {
    slots_.assign(2 * slots_.size(), kEmpty);
    const size_t mask = slots_.size() - 1;
    for (size_t e = 0; e < entries_.size(); ++e) {
      size_t i = static_cast<size_t>(entries_[e].hash) & mask;
      while (slots_[i] != kEmpty) i = (i + 1) & mask;
      slots_[i] = static_cast<uint32_t>(e);
    }
  }

  std::vector<uint32_t> slots_;
  std::vector<Entry> entries_;
  std::string bytes_;
};

// ---------------------------------------------------------------------------------------------
// Per-type column statistics. The fast path and ProfileBuilder feed the same values, in file
// order, to the same classes, so they build the same sketches bit for bit.

// The statistics of an integer or float column.
class NumberStats {
 public:
  NumberStats(const ProfileOptions& o, uint64_t seed)
      : kll_(o.kll_k, Mix64(seed + 1)),
        sampler_(Mix64(seed + 2)),
        hll_(o.hll_precision),
        sample_(o.sample_capacity, seed) {}

  void Add(double v) {
    block_[size_++] = v;
    if (size_ == kValueBlock) Flush();
  }

  // The sketches of everything added; `this` is spent afterwards.
  void Finish(int64_t missing, ColumnProfile* p) {
    Flush();
    kll_.AddBlock(group_);  // an unfinished run of the sampler: its values as they are
    group_.clear();
    if (!overflowed_) {
      // Few distinct values: the quantile sketch gets their exact counts (held exactly while
      // they fit), the distinct sketch each value once.
      for (const auto& [value, count] : counts_.Sorted()) {
        kll_.Add(value, count);
        hll_.Add(value);
      }
      p->distinct = static_cast<double>(counts_.size());
      p->distinct_exact = true;
    } else {
      p->distinct = hll_.Estimate();
      p->distinct_exact = false;
    }
    moments_.AddMissing(static_cast<uint64_t>(missing));
    p->moments = moments_;
    p->quantile_sketch = std::move(kll_);
    p->distinct_sketch = std::move(hll_);
    p->numeric_sample = std::move(sample_);
  }

 private:
  void Flush() {
    if (size_ == 0) return;
    std::span<const double> values(block_.data(), size_);
    size_ = 0;
    moments_.Add(values);
    sample_.Add(values);
    if (!overflowed_) {
      size_t i = 0;
      while (i < values.size() && counts_.Add(values[i])) ++i;
      fed_ += i;
      if (i == values.size()) return;
      // One distinct value too many: from here on the sketches take every value.
      overflowed_ = true;
      for (const auto& [value, count] : counts_.Sorted()) {
        kll_.Add(value, count);
        hll_.Add(value);
      }
      counts_ = NumberCounts();
      values = values.subspan(i);
    }
    for (double v : values) hll_.Add(v);
    Sample(values);
  }

  // Feeds the quantile sketch, through the sampler once there are many values (see
  // kSamplerShift).
  void Sample(std::span<const double> values) {
    constexpr uint64_t kStart = uint64_t{2} << kSamplerShift;
    size_t i = 0;
    while (i < values.size()) {
      if (group_.empty()) {
        if (fed_ < kStart) {  // every value enters, until the sampler starts
          const size_t take =
              static_cast<size_t>(std::min<uint64_t>(values.size() - i, kStart - fed_));
          kll_.AddBlock(values.subspan(i, take));
          i += take;
          fed_ += take;
          continue;
        }
        // A new run: its length and the one it keeps are drawn as it starts.
        weight_ = std::bit_floor(fed_ >> kSamplerShift);
        pick_ = sampler_.Next() & (weight_ - 1);
        if (values.size() - i >= weight_) {
          Keep(values[i + pick_]);
          i += weight_;
          fed_ += weight_;
          continue;
        }
      }
      group_.push_back(values[i++]);
      ++fed_;
      if (group_.size() == weight_) {
        Keep(group_[pick_]);
        group_.clear();
      }
    }
    FlushKept();
  }
  void Keep(double v) {
    if (kept_weight_ != weight_) FlushKept();
    kept_weight_ = weight_;
    kept_.push_back(v);
  }
  void FlushKept() {
    if (!kept_.empty()) kll_.AddBlock(kept_, kept_weight_);
    kept_.clear();
  }

  Moments moments_;
  KllSketch kll_;
  uint64_t fed_ = 0;  // values of the column before the sampler's current position
  SplitMix64 sampler_;
  uint64_t weight_ = 1;        // the current run's length
  uint64_t pick_ = 0;          // the index in it of the value kept
  std::vector<double> group_;  // the current run's values, when it spans blocks
  uint64_t kept_weight_ = 1;
  std::vector<double> kept_;
  HyperLogLog hll_;
  NumericReservoir sample_;
  NumberCounts counts_;
  bool overflowed_ = false;
  std::array<double, kValueBlock> block_;
  size_t size_ = 0;
};

// The statistics of a boolean column.
class BooleanStats {
 public:
  BooleanStats(const ProfileOptions& o, uint64_t seed) : sample_(o.sample_capacity, seed) {}

  void Add(bool b) {
    ++(b ? trues_ : falses_);
    block_[size_++] = b ? 1.0 : 0.0;
    if (size_ == kValueBlock) Flush();
  }

  void Finish(int64_t missing, const ProfileOptions& o, ColumnProfile* p) {
    Flush();
    moments_.AddMissing(static_cast<uint64_t>(missing));
    p->moments = moments_;
    p->numeric_sample = std::move(sample_);
    p->frequent_values = FrequentValues(o.frequent_capacity);
    p->frequent_values.Add("false", falses_);
    p->frequent_values.Add("true", trues_);
    p->top = p->frequent_values.Top(o.top_k);
    p->distinct = static_cast<double>((trues_ > 0) + (falses_ > 0));
    p->distinct_exact = true;
  }

 private:
  void Flush() {
    const std::span<const double> values(block_.data(), size_);
    moments_.Add(values);
    sample_.Add(values);
    size_ = 0;
  }

  uint64_t trues_ = 0;
  uint64_t falses_ = 0;
  Moments moments_;
  NumericReservoir sample_;
  std::array<double, kValueBlock> block_;
  size_t size_ = 0;
};

// The statistics of a string column.
class StringStats {
 public:
  StringStats(const ProfileOptions& o, uint64_t seed)
      : hll_(o.hll_precision),
        frequent_(o.frequent_capacity),
        sample_(o.sample_capacity, seed),
        capacity_(o.frequent_capacity) {}

  // The common case — a value counted in the exact table, skipped by the sample — inline.
  __attribute__((always_inline)) void Add(std::string_view v) {
    sample_.Add(v);
    if (!overflowed_ && counts_.Add(v)) return;
    AddUncounted(v);
  }

  void Finish(const ProfileOptions& o, ColumnProfile* p) {
    if (!overflowed_) {
      std::vector<FrequentValues::Entry> all = counts_.All();
      for (const FrequentValues::Entry& e : all) hll_.Add(e.value);
      p->distinct = static_cast<double>(all.size());
      p->distinct_exact = true;
      frequent_ = FrequentValues::FromExactCounts(std::move(all), capacity_);
    } else {
      p->distinct = hll_.Estimate();
      p->distinct_exact = false;
    }
    p->top = frequent_.Top(o.top_k);
    p->frequent_values = std::move(frequent_);
    p->distinct_sketch = std::move(hll_);
    p->string_sample = std::move(sample_);
  }

 private:
  __attribute__((noinline)) void AddUncounted(std::string_view v) {
    if (!overflowed_) {
      // One distinct value too many: SpaceSaving and the distinct sketch go on from the exact
      // counts so far.
      overflowed_ = true;
      std::vector<FrequentValues::Entry> all = counts_.All();
      for (const FrequentValues::Entry& e : all) hll_.Add(e.value);
      frequent_ = FrequentValues::FromExactCounts(std::move(all), capacity_);
      counts_ = StringCounts();
    }
    hll_.Add(v);
    frequent_.Add(v);
  }

 private:
  HyperLogLog hll_;
  FrequentValues frequent_;
  StringReservoir sample_;
  size_t capacity_;
  StringCounts counts_;
  bool overflowed_ = false;
};

// Column i's seed: its sketches' randomness, the same in every path.
uint64_t ColumnSeed(const ProfileOptions& o, size_t i) { return Mix64(o.seed + i); }

// The profile of one column from the statistics of its final type (null: no value of it).
ColumnProfile FinishColumn(std::string name, uint8_t kinds, int64_t rows, int64_t missing,
                           const ProfileOptions& o, uint64_t seed, NumberStats* numbers,
                           BooleanStats* booleans, StringStats* strings) {
  ColumnProfile p;
  p.name = std::move(name);
  p.type = TypeOfKinds(kinds);
  p.missing = missing;
  p.count = rows - missing;
  p.min = p.max = p.mean = p.stddev = kNaN;
  switch (p.type) {
    case ColumnType::kInteger:
    case ColumnType::kFloat: {
      std::optional<NumberStats> none;
      if (numbers == nullptr) numbers = &none.emplace(o, seed);  // nothing but missing values
      numbers->Finish(missing, &p);
      if (!p.quantile_sketch.empty()) {
        p.quantiles = p.quantile_sketch.Quantiles(kProfileQuantiles);
      }
      break;
    }
    case ColumnType::kBoolean:
      CAIRN_CHECK(booleans != nullptr);
      booleans->Finish(missing, o, &p);
      break;
    case ColumnType::kString:
      CAIRN_CHECK(strings != nullptr);
      strings->Finish(o, &p);
      break;
  }
  if (p.type != ColumnType::kString) {
    p.min = p.moments.min();
    p.max = p.moments.max();
    p.mean = p.moments.mean();
    p.stddev = p.moments.SampleStddev();
  }
  if (p.numeric()) {
    p.histogram = HistogramFromSketch(p.quantile_sketch, p.min, p.max, o.histogram_bins);
  }
  return p;
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// ProfileBuilder: the streaming path (and the reference the fast path is tested against).

// A column's running state. The string statistics see every non-missing value, since the type
// is open until the end; the numeric or boolean ones only while the column can still be one.
struct ProfileBuilder::Column {
  Column(std::string column_name, const ProfileOptions& o, uint64_t column_seed)
      : name(std::move(column_name)), seed(column_seed), strings(o, column_seed) {}

  std::string name;
  uint64_t seed;
  uint8_t kinds = 0;  // FieldKinds seen, as TypeInferrer keeps them
  int64_t missing = 0;
  bool numeric_live = true;
  std::unique_ptr<NumberStats> numbers;
  std::unique_ptr<BooleanStats> booleans;
  StringStats strings;
};

ProfileBuilder::ProfileBuilder(const ProfileOptions& options) : options_(options) {
  CAIRN_CHECK(options.histogram_bins >= 1);
}

ProfileBuilder::~ProfileBuilder() = default;

Status ProfileBuilder::OnHeader(std::span<const std::string> names) {
  columns_.clear();
  columns_.reserve(names.size());
  for (size_t i = 0; i < names.size(); ++i) {
    columns_.emplace_back(names[i], options_, ColumnSeed(options_, i));
  }
  rows_ = 0;
  return Status();
}

Status ProfileBuilder::OnRow(std::span<const std::string_view> fields, int64_t /*line*/) {
  for (size_t i = 0; i < fields.size(); ++i) {
    const std::string_view f = fields[i];
    Column& c = columns_[i];
    const FieldKind kind = ClassifyField(f);
    if (kind == FieldKind::kMissing) {
      ++c.missing;
      continue;
    }
    c.kinds |= Bit(kind);
    c.strings.Add(f);
    if (!c.numeric_live) continue;
    const bool numbers = c.kinds & kNumberBits;
    const bool booleans = c.kinds & Bit(FieldKind::kBoolean);
    if ((c.kinds & Bit(FieldKind::kString)) || (numbers && booleans)) {
      c.numeric_live = false;
      c.numbers.reset();
      c.booleans.reset();
      continue;
    }
    if (numbers) {
      if (!c.numbers) c.numbers = std::make_unique<NumberStats>(options_, c.seed);
      c.numbers->Add(kind == FieldKind::kInteger ? static_cast<double>(*ParseInteger(f))
                                                 : *ParseFloat(f));
    } else {
      if (!c.booleans) c.booleans = std::make_unique<BooleanStats>(options_, c.seed);
      c.booleans->Add(*ParseBoolean(f));
    }
  }
  ++rows_;
  return Status();
}

DatasetProfile ProfileBuilder::Build() const {
  DatasetProfile profile;
  profile.rows = rows_;
  for (const Column& c : columns_) {
    // Finishing spends the statistics: finish copies, so the builder can go on.
    std::optional<NumberStats> numbers;
    std::optional<BooleanStats> booleans;
    std::optional<StringStats> strings;
    const ColumnType type = TypeOfKinds(c.kinds);
    if (type == ColumnType::kString) strings.emplace(c.strings);
    if (type == ColumnType::kBoolean) booleans.emplace(*c.booleans);
    if ((type == ColumnType::kInteger || type == ColumnType::kFloat) && c.numbers) {
      numbers.emplace(*c.numbers);
    }
    profile.columns.push_back(FinishColumn(
        c.name, c.kinds, rows_, c.missing, options_, c.seed, numbers ? &*numbers : nullptr,
        booleans ? &*booleans : nullptr, strings ? &*strings : nullptr));
  }
  return profile;
}

const ColumnProfile* DatasetProfile::Find(std::string_view name) const {
  for (const ColumnProfile& c : columns) {
    if (c.name == name) return &c;
  }
  return nullptr;
}

// ---------------------------------------------------------------------------------------------
// The fast path: SplitCsvRows cuts blocks of rows, and the columns are profiled block by block,
// each column's blocks in file order, columns in parallel.

namespace {

class FastProfiler {
 public:
  FastProfiler(std::string_view data, size_t rows_begin, std::vector<std::string> names,
               const ProfileOptions& options, const ProfileRun& run)
      : data_(data),
        rows_begin_(rows_begin),
        names_(std::move(names)),
        options_(options),
        run_(run),
        block_bytes_(run.block_bytes > 0 ? run.block_bytes : size_t{256} << 10),
        next_begin_(rows_begin) {
    const size_t n = names_.size();
    columns_.resize(n);
    unsigned threads = run.threads > 0 ? run.threads : std::thread::hardware_concurrency();
    threads_ = std::max(1u, threads);
    // A few groups per thread keep every thread busy while each group goes through the blocks
    // in order; a group is a run of adjacent columns.
    const size_t groups = threads_ == 1 ? 1 : std::min(n, size_t{4} * threads_);
    for (size_t g = 0; g < groups; ++g) group_begin_.push_back(g * n / groups);
    group_begin_.push_back(n);
    group_next_.assign(groups, 0);
    group_busy_.assign(groups, false);
  }

  enum class Outcome { kDone, kRefused, kCancelled };

  Outcome Run() {
    std::vector<std::thread> helpers;
    for (unsigned t = 1; t < threads_; ++t) helpers.emplace_back([this] { Work(); });
    Work();
    for (std::thread& t : helpers) t.join();
    if (refused_) return Outcome::kRefused;
    if (Cancelled()) return Outcome::kCancelled;
    return Outcome::kDone;
  }

  DatasetProfile Build() {
    DatasetProfile profile;
    profile.rows = rows_;
    for (size_t i = 0; i < columns_.size(); ++i) {
      Column& c = columns_[i];
      profile.columns.push_back(FinishColumn(names_[i], c.kinds, rows_, c.missing, options_,
                                             ColumnSeed(options_, i), c.numbers.get(),
                                             c.booleans.get(), c.strings.get()));
    }
    return profile;
  }

 private:
  enum class Mode { kUnknown, kNumber, kBoolean, kString };
  struct Column {
    Mode mode = Mode::kUnknown;
    uint8_t kinds = 0;
    int64_t missing = 0;
    std::unique_ptr<NumberStats> numbers;
    std::unique_ptr<BooleanStats> booleans;
    std::unique_ptr<StringStats> strings;
  };

  // How many blocks the splitter may run ahead of the slowest group.
  static constexpr size_t kBlocksAhead = 8;

  bool Cancelled() const {
    return run_.cancel != nullptr && run_.cancel->load(std::memory_order_relaxed);
  }

  void Work() {
    std::unique_lock lock(mu_);
    while (true) {
      if (refused_ || Cancelled()) {
        cv_.notify_all();
        return;
      }
      const size_t slowest = *std::min_element(group_next_.begin(), group_next_.end());
      if (!splitting_ && !split_done_ && blocks_made_ - slowest < kBlocksAhead) {
        Split(lock);
        continue;
      }
      size_t group = group_next_.size();
      for (size_t g = 0; g < group_next_.size(); ++g) {
        if (!group_busy_[g] && group_next_[g] < blocks_made_ &&
            (group == group_next_.size() || group_next_[g] < group_next_[group])) {
          group = g;
        }
      }
      if (group < group_next_.size()) {
        Profile(lock, group);
        continue;
      }
      if (split_done_ && slowest == blocks_made_) {
        cv_.notify_all();
        return;
      }
      cv_.wait(lock);
    }
  }

  // Cuts the next block of rows (the lock is released meanwhile).
  void Split(std::unique_lock<std::mutex>& lock) {
    splitting_ = true;
    const size_t begin = next_begin_;
    std::unique_ptr<CsvRowBlock> block;
    if (!spare_.empty()) {
      block = std::move(spare_.back());
      spare_.pop_back();
    } else {
      block = std::make_unique<CsvRowBlock>();
    }
    lock.unlock();
    const bool ok = SplitCsvRows(data_, begin, names_.size(), block_bytes_, block.get());
    lock.lock();
    splitting_ = false;
    if (!ok) {
      refused_ = true;
    } else if (block->rows == 0) {
      split_done_ = true;
    } else {
      rows_ += static_cast<int64_t>(block->rows);
      next_begin_ = block->end;
      block_begins_.push_back(begin);
      blocks_.push_back(std::move(block));
      ++blocks_made_;
      if (next_begin_ >= data_.size()) split_done_ = true;
    }
    cv_.notify_all();
  }

  // Profiles the next block of `group`'s columns (the lock is released meanwhile).
  void Profile(std::unique_lock<std::mutex>& lock, size_t group) {
    group_busy_[group] = true;
    const size_t index = group_next_[group];
    const CsvRowBlock& block = *blocks_[index - first_block_];
    lock.unlock();
    for (size_t c = group_begin_[group]; c < group_begin_[group + 1]; ++c) {
      ProfileColumn(c, block, index);
    }
    lock.lock();
    group_busy_[group] = false;
    ++group_next_[group];
    // Blocks every group is done with go back to the splitter.
    const size_t slowest = *std::min_element(group_next_.begin(), group_next_.end());
    while (first_block_ < slowest) {
      if (run_.bytes_done != nullptr) {
        run_.bytes_done->store(blocks_.front()->end, std::memory_order_relaxed);
      }
      spare_.push_back(std::move(blocks_.front()));
      blocks_.pop_front();
      ++first_block_;
    }
    cv_.notify_all();
  }

  // Feeds column `c` of `block` (the `index`-th block) to the column's statistics.
  void ProfileColumn(size_t c, const CsvRowBlock& block, size_t index) {
    Column& col = columns_[c];
    thread_local std::string scratch;
    int64_t missing = 0;
    size_t r = 0;
    const size_t rows = block.rows;
    while (r < rows) {
      switch (col.mode) {
        case Mode::kUnknown: {
          for (; r < rows; ++r) {
            const std::string_view f = block.Field(data_, r, c, &scratch);
            if (!IsMissingValue(f)) break;
            ++missing;
          }
          if (r == rows) break;
          // The first value decides how the column is read (until a value contradicts it).
          const FieldKind kind = ClassifyField(block.Field(data_, r, c, &scratch));
          col.kinds |= Bit(kind);
          if (kind == FieldKind::kInteger || kind == FieldKind::kFloat) {
            col.mode = Mode::kNumber;
            col.numbers = std::make_unique<NumberStats>(options_, ColumnSeed(options_, c));
          } else if (kind == FieldKind::kBoolean) {
            col.mode = Mode::kBoolean;
            col.booleans = std::make_unique<BooleanStats>(options_, ColumnSeed(options_, c));
          } else {
            col.mode = Mode::kString;
            col.strings = std::make_unique<StringStats>(options_, ColumnSeed(options_, c));
          }
          break;
        }
        case Mode::kNumber: {
          // In batches: read a run of fields first, then hand the numbers over, so the parses
          // (independent of each other) overlap in the CPU.
          NumberStats& numbers = *col.numbers;
          constexpr size_t kBatch = 64;
          FieldKind kinds[kBatch];
          double values[kBatch];
          size_t stop = rows;  // the row of a value that makes this a string column
          while (r < rows && stop == rows) {
            const size_t batch = std::min(kBatch, rows - r);
            for (size_t k = 0; k < batch; ++k) {
              const std::string_view f = block.Field(data_, r + k, c, &scratch);
              // Unescaped fields live in `scratch`: nothing may be read past them.
              const char* readable = f.data() >= data_.data() && f.data() <= data_end_
                                         ? data_end_
                                         : f.data() + f.size();
              kinds[k] = NumberKind(f, readable, &values[k]);
            }
            for (size_t k = 0; k < batch; ++k) {
              const FieldKind kind = kinds[k];
              if (kind == FieldKind::kInteger) {
                numbers.Add(values[k]);
              } else if (kind == FieldKind::kFloat) {
                col.kinds |= Bit(FieldKind::kFloat);
                numbers.Add(values[k]);
              } else if (kind == FieldKind::kMissing) {
                ++missing;
              } else {
                col.kinds |= Bit(kind);  // a boolean or a string: a string column after all
                stop = r + k;
                break;
              }
            }
            r += batch;
          }
          if (stop == rows) {
            r = rows;
            break;
          }
          BecomeString(c, index);
          r = 0;
          missing = 0;
          break;
        }
        case Mode::kBoolean: {
          BooleanStats& booleans = *col.booleans;
          FieldKind kind = FieldKind::kBoolean;
          for (; r < rows; ++r) {
            const std::string_view f = block.Field(data_, r, c, &scratch);
            if (f.size() == 4 || f.size() == 5) {
              if (const std::optional<bool> b = ParseBoolean(f)) {
                booleans.Add(*b);
                continue;
              }
            }
            kind = ClassifyField(f);
            if (kind != FieldKind::kMissing) break;
            ++missing;
          }
          if (r == rows) break;
          col.kinds |= Bit(kind);  // a number or a string: a string column after all
          BecomeString(c, index);
          r = 0;
          missing = 0;
          break;
        }
        case Mode::kString: {
          StringStats& strings = *col.strings;
          for (; r < rows; ++r) {
            const std::string_view f = block.Field(data_, r, c, &scratch);
            if (IsMissingValue(f)) {
              ++missing;
            } else {
              strings.Add(f);
            }
          }
          break;
        }
      }
    }
    col.missing += missing;
  }

  // Column `c`, read as numbers or booleans so far, met a value that makes it a string column
  // in block `index`: its string statistics are built from the rows of the blocks before (cut
  // again: rare, and cheaper than keeping string statistics for every column), and the block
  // is read again from its first row.
  void BecomeString(size_t c, size_t index) {
    Column& col = columns_[c];
    col.mode = Mode::kString;
    col.kinds |= Bit(FieldKind::kString);
    col.numbers.reset();
    col.booleans.reset();
    col.strings = std::make_unique<StringStats>(options_, ColumnSeed(options_, c));
    size_t end = 0;
    {
      std::lock_guard lock(mu_);
      end = block_begins_[index];
    }
    CsvRowBlock block;
    std::string scratch;
    for (size_t begin = rows_begin_; begin < end; begin = block.end) {
      const bool ok = SplitCsvRows(data_, begin, names_.size(), block_bytes_, &block);
      CAIRN_CHECK(ok && block.rows > 0 && block.end <= end);  // these rows were cut before
      for (size_t r = 0; r < block.rows; ++r) {
        const std::string_view f = block.Field(data_, r, c, &scratch);
        if (!IsMissingValue(f)) col.strings->Add(f);
      }
    }
  }

  const std::string_view data_;
  const char* const data_end_ = data_.data() + data_.size();
  const size_t rows_begin_;
  const std::vector<std::string> names_;
  const ProfileOptions options_;
  const ProfileRun run_;
  const size_t block_bytes_;
  unsigned threads_ = 1;
  std::vector<Column> columns_;      // column c is touched by one thread at a time (its group's)
  std::vector<size_t> group_begin_;  // group g is columns [group_begin_[g], group_begin_[g+1])

  std::mutex mu_;
  std::condition_variable cv_;
  bool refused_ = false;
  bool splitting_ = false;
  bool split_done_ = false;
  size_t next_begin_;
  int64_t rows_ = 0;
  size_t blocks_made_ = 0;
  std::vector<size_t> block_begins_;                 // of every block made
  std::deque<std::unique_ptr<CsvRowBlock>> blocks_;  // blocks first_block_ … blocks_made_ − 1
  size_t first_block_ = 0;
  std::vector<std::unique_ptr<CsvRowBlock>> spare_;
  std::vector<size_t> group_next_;  // the next block of each group
  std::vector<bool> group_busy_;
};

// Passes rows on to `next` (if any), and stops the parse once `cancel` is set.
class CancellableVisitor : public CsvVisitor {
 public:
  CancellableVisitor(CsvVisitor* next, const std::atomic<bool>* cancel)
      : next_(next), cancel_(cancel) {}
  Status OnHeader(std::span<const std::string> names) override {
    return next_ != nullptr ? next_->OnHeader(names) : Status();
  }
  Status OnRow(std::span<const std::string_view> fields, int64_t line) override {
    if (cancel_ != nullptr && ++rows_ % 4096 == 0 && cancel_->load(std::memory_order_relaxed)) {
      return Unavailable("profile cancelled");
    }
    return next_ != nullptr ? next_->OnRow(fields, line) : Status();
  }

 private:
  CsvVisitor* next_;
  const std::atomic<bool>* cancel_;
  uint64_t rows_ = 0;
};

// The header's names, when CsvParser reads them without complaint.
class HeaderReader : public CsvVisitor {
 public:
  Status OnHeader(std::span<const std::string> names) override {
    names_.assign(names.begin(), names.end());
    return Status();
  }
  Status OnRow(std::span<const std::string_view>, int64_t) override { return Status(); }
  std::vector<std::string> names_;
};

// The fast path, or nullopt when the bytes are not ones it takes.
std::optional<Result<DatasetProfile>> FastProfile(std::string_view data,
                                                  const ProfileOptions& options,
                                                  const ProfileRun& run) {
  size_t begin = data.starts_with("\xEF\xBB\xBF") ? 3 : 0;
  const std::string_view rows = data.substr(0, std::max(begin, TrimCsvEnd(data)));
  // The header row: up to the first LF outside quotes, read by CsvParser itself.
  bool quoted = false;
  size_t header_end = begin;
  while (header_end < rows.size() && (quoted || rows[header_end] != '\n')) {
    quoted ^= rows[header_end] == '"';
    ++header_end;
  }
  if (header_end == begin || quoted) return std::nullopt;
  HeaderReader header;
  if (!ParseCsv(rows.substr(begin, header_end - begin), header).ok() || header.names_.empty()) {
    return std::nullopt;
  }
  begin = std::min(rows.size(), header_end + 1);
  FastProfiler profiler(rows, begin, std::move(header.names_), options, run);
  switch (profiler.Run()) {
    case FastProfiler::Outcome::kDone:
      if (run.bytes_done != nullptr) run.bytes_done->store(data.size());
      return profiler.Build();
    case FastProfiler::Outcome::kCancelled:
      return Result<DatasetProfile>(Unavailable("profile cancelled"));
    case FastProfiler::Outcome::kRefused:
      return std::nullopt;
  }
  return std::nullopt;
}

}  // namespace

Result<DatasetProfile> ProfileCsv(std::string_view data, const ProfileOptions& options,
                                  const ProfileRun& run) {
  CAIRN_CHECK(options.histogram_bins >= 1);
  if (std::optional<Result<DatasetProfile>> fast = FastProfile(data, options, run)) {
    return std::move(*fast);
  }
  if (run.no_fallback) return FailedPrecondition("the fast path does not take this file");
  // Not a file the fast path takes: malformed (a quick parse finds the error and its line), or
  // well-formed in a way it leaves to CsvParser (an empty line in a one-column file, …).
  CancellableVisitor counter(nullptr, run.cancel);
  CAIRN_RETURN_IF_ERROR(ParseCsv(data, counter));
  ProfileBuilder builder(options);
  CancellableVisitor profiling(&builder, run.cancel);
  CAIRN_RETURN_IF_ERROR(ParseCsv(data, profiling));
  if (run.bytes_done != nullptr) run.bytes_done->store(data.size());
  return builder.Build();
}

// ---------------------------------------------------------------------------------------------
// JSON

nlohmann::json ToJson(const DatasetProfile& profile) {
  json columns = json::array();
  for (const ColumnProfile& c : profile.columns) {
    json j = {{"name", BytesToJson(c.name)},
              {"type", std::string(ColumnTypeName(c.type))},
              {"count", c.count},
              {"missing", c.missing},
              {"distinct", NumberToJson(c.distinct)},
              {"distinct_exact", c.distinct_exact}};
    json sketches = json::object();
    if (c.type != ColumnType::kString) {
      j["min"] = NumberToJson(c.min);
      j["max"] = NumberToJson(c.max);
      j["mean"] = NumberToJson(c.mean);
      j["stddev"] = NumberToJson(c.stddev);
      sketches["moments"] = c.moments.ToJson();
      sketches["sample"] = c.numeric_sample.ToJson();
    } else {
      sketches["sample"] = c.string_sample.ToJson();
    }
    if (c.numeric()) {
      if (!c.quantiles.empty()) {
        json q = json::object();
        for (size_t i = 0; i < kProfileQuantileNames.size(); ++i) {
          q[std::string(kProfileQuantileNames[i])] = NumberToJson(c.quantiles[i]);
        }
        j["quantiles"] = std::move(q);
      }
      if (!c.histogram.edges.empty()) {
        json edges = json::array();
        for (double e : c.histogram.edges) edges.push_back(NumberToJson(e));
        j["histogram"] = {{"edges", std::move(edges)}, {"counts", c.histogram.counts}};
      }
      sketches["kll"] = c.quantile_sketch.ToJson();
      sketches["hll"] = c.distinct_sketch.ToJson();
    } else {
      json top = json::array();
      for (const FrequentValues::Entry& e : c.top) {
        top.push_back({{"value", BytesToJson(e.value)}, {"count", e.count}, {"error", e.error}});
      }
      j["top"] = std::move(top);
      sketches["frequent"] = c.frequent_values.ToJson();
      if (c.type == ColumnType::kString) sketches["hll"] = c.distinct_sketch.ToJson();
    }
    j["sketches"] = std::move(sketches);
    columns.push_back(std::move(j));
  }
  return {{"format", kFormat}, {"rows", profile.rows}, {"columns", std::move(columns)}};
}

namespace {

template <typename T>
T Take(Result<T> result, std::string_view what) {
  if (!result.ok())
    throw std::invalid_argument(std::string(what) + ": " + result.status().message());
  return std::move(result).value();
}

ColumnProfile ColumnFromJson(const json& j, int64_t rows) {
  ColumnProfile c;
  c.name = BytesFromJson(j.at("name"));
  c.type = Take(ColumnTypeFromName(j.at("type").get<std::string>()), "type");
  c.count = j.at("count").get<int64_t>();
  c.missing = j.at("missing").get<int64_t>();
  if (c.count < 0 || c.missing < 0 || c.count + c.missing != rows) {
    throw std::invalid_argument("count + missing is not the number of rows");
  }
  c.distinct = NumberFromJson(j.at("distinct"));
  c.distinct_exact = j.at("distinct_exact").get<bool>();
  const json& sketches = j.at("sketches");
  c.min = c.max = c.mean = c.stddev = kNaN;
  if (c.type != ColumnType::kString) {
    c.min = NumberFromJson(j.at("min"));
    c.max = NumberFromJson(j.at("max"));
    c.mean = NumberFromJson(j.at("mean"));
    c.stddev = NumberFromJson(j.at("stddev"));
    c.moments = Take(Moments::FromJson(sketches.at("moments")), "moments");
    c.numeric_sample = Take(NumericReservoir::FromJson(sketches.at("sample")), "sample");
  } else {
    c.string_sample = Take(StringReservoir::FromJson(sketches.at("sample")), "sample");
  }
  if (c.numeric()) {
    if (j.contains("quantiles")) {
      const json& q = j.at("quantiles");
      for (std::string_view name : kProfileQuantileNames) {
        c.quantiles.push_back(NumberFromJson(q.at(std::string(name))));
      }
    }
    if (j.contains("histogram")) {
      const json& h = j.at("histogram");
      for (const json& e : h.at("edges")) c.histogram.edges.push_back(NumberFromJson(e));
      c.histogram.counts = h.at("counts").get<std::vector<uint64_t>>();
      if (c.histogram.edges.size() < 2 ||
          c.histogram.counts.size() + 1 != c.histogram.edges.size()) {
        throw std::invalid_argument("histogram: edges and counts do not match");
      }
    }
    c.quantile_sketch = Take(KllSketch::FromJson(sketches.at("kll")), "kll");
    c.distinct_sketch = Take(HyperLogLog::FromJson(sketches.at("hll")), "hll");
  } else {
    for (const json& e : j.at("top")) {
      c.top.push_back({BytesFromJson(e.at("value")), e.at("count").get<uint64_t>(),
                       e.at("error").get<uint64_t>()});
    }
    c.frequent_values = Take(FrequentValues::FromJson(sketches.at("frequent")), "frequent");
    if (c.type == ColumnType::kString) {
      c.distinct_sketch = Take(HyperLogLog::FromJson(sketches.at("hll")), "hll");
    }
  }
  return c;
}

}  // namespace

Result<DatasetProfile> ProfileFromJson(const nlohmann::json& j) {
  DatasetProfile profile;
  size_t column = 0;
  try {
    if (j.at("format").get<int>() != kFormat) {
      return InvalidArgument("profile: unsupported format " + j.at("format").dump());
    }
    profile.rows = j.at("rows").get<int64_t>();
    if (profile.rows < 0) return InvalidArgument("profile: negative row count");
    for (const json& c : j.at("columns")) {
      ++column;
      profile.columns.push_back(ColumnFromJson(c, profile.rows));
    }
  } catch (const std::exception& e) {
    std::string where = "profile";
    if (column > 0) {
      where += ": column " + std::to_string(column);
      const json& c = j.at("columns").at(column - 1);
      if (c.is_object() && c.contains("name") && c.at("name").is_string()) {
        where += " (" + c.at("name").get<std::string>() + ")";
      }
    }
    return InvalidArgument(where + ": " + e.what());
  }
  return profile;
}

}  // namespace cairn::data
