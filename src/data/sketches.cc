#include "data/sketches.h"

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdio>
#include <limits>
#include <nlohmann/json.hpp>
#include <utility>

#include "core/base64.h"
#include "core/check.h"
#include "core/utf8.h"

namespace cairn::data {
namespace {

using nlohmann::json;

constexpr uint64_t kGolden = 0x9e3779b97f4a7c15ULL;
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr double kInf = std::numeric_limits<double>::infinity();

uint64_t Load64LittleEndian(const unsigned char* p, size_t n) {
  uint64_t w = 0;
  for (size_t i = 0; i < n; ++i) w |= static_cast<uint64_t>(p[i]) << (8 * i);
  return w;
}

// JSON has no NaN or infinity: those travel as strings.
json DoubleToJson(double x) {
  if (std::isfinite(x)) return x;
  if (std::isnan(x)) return "nan";
  return x > 0 ? "inf" : "-inf";
}

double DoubleFromJson(const json& j) {
  if (j.is_number()) return j.get<double>();
  const auto& s = j.get_ref<const std::string&>();  // throws type_error otherwise
  if (s == "inf") return kInf;
  if (s == "-inf") return -kInf;
  if (s == "nan") return kNaN;
  throw std::invalid_argument("not a number: " + s);
}

std::string RngToJson(const SplitMix64& rng) {
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(rng.state()));
  return buf;
}

SplitMix64 RngFromJson(const json& j) {
  const auto& s = j.get_ref<const std::string&>();
  if (s.size() != 16 || s.find_first_not_of("0123456789abcdef") != std::string::npos) {
    throw std::invalid_argument("bad rng state");
  }
  return SplitMix64(std::stoull(s, nullptr, 16));
}

// Runs `parse`, turning nlohmann's exceptions (missing keys, wrong types) into kInvalidArgument.
template <typename T, typename F>
Result<T> ParseJson(std::string_view what, F&& parse) {
  try {
    return parse();
  } catch (const std::exception& e) {
    return InvalidArgument(std::string(what) + ": " + e.what());
  }
}

}  // namespace

json BytesToJson(std::string_view s) {
  if (IsValidUtf8(s)) return std::string(s);
  return {{"b64", Base64Encode(s)}};
}

std::string BytesFromJson(const json& j) {
  if (j.is_string()) return j.get<std::string>();
  if (!j.is_object() || j.size() != 1) throw std::invalid_argument("not a string");
  auto bytes = Base64Decode(j.at("b64").get_ref<const std::string&>());
  if (!bytes) throw std::invalid_argument("bad base64 string");
  return std::move(*bytes);
}

// ---------------------------------------------------------------------------------------------
// Hashing and randomness

uint64_t Hash64(std::string_view bytes, uint64_t seed) {
  const auto* p = reinterpret_cast<const unsigned char*>(bytes.data());
  const size_t n = bytes.size();
  // The length goes in first, so zero-padding the tail is unambiguous.
  uint64_t h = Mix64(seed ^ ((n + 1) * kGolden));
  size_t i = 0;
  for (; i + 8 <= n; i += 8) h = Mix64(h ^ Load64LittleEndian(p + i, 8)) + kGolden;
  return Mix64(h ^ Load64LittleEndian(p + i, n - i));
}

uint64_t SplitMix64::Next() {
  state_ += kGolden;
  return Mix64(state_);
}

double SplitMix64::NextDouble() { return static_cast<double>(Next() >> 11) * 0x1.0p-53; }

double SplitMix64::NextOpenDouble() {
  return (static_cast<double>(Next() >> 11) + 0.5) * 0x1.0p-53;
}

uint64_t SplitMix64::Below(uint64_t bound) {
  CAIRN_CHECK(bound > 0);
  return Next() % bound;
}

// ---------------------------------------------------------------------------------------------
// KllSketch

namespace {
constexpr uint32_t kKllMinLevelWidth = 8;

// An order-preserving map of doubles (NaN excluded) to unsigned integers: -0.0 sorts before
// +0.0, so the order is total and any two sorts of the same values agree bit for bit.
inline uint64_t SortKey(double d) {
  const uint64_t u = std::bit_cast<uint64_t>(d);
  return (u >> 63) != 0 ? ~u : (u | (uint64_t{1} << 63));
}
inline double FromSortKey(uint64_t k) {
  return std::bit_cast<double>((k >> 63) != 0 ? (k & ~(uint64_t{1} << 63)) : ~k);
}

// Sorts level 0 before a compaction: LSD radix sort on SortKey for large levels (bulk adds put
// a thousand values there; a comparison sort costs three times more), std::sort on SortKey
// order for small ones. Digits that every key shares are skipped.
void SortLevel(std::vector<double>& values) {
  const size_t n = values.size();
  if (n < 192) {
    std::sort(values.begin(), values.end(),
              [](double a, double b) { return SortKey(a) < SortKey(b); });
    return;
  }
  thread_local std::vector<uint64_t> keys, other;
  keys.resize(n);
  other.resize(n);
  uint32_t counts[8][256] = {};
  for (size_t i = 0; i < n; ++i) {
    const uint64_t k = SortKey(values[i]);
    keys[i] = k;
    for (int d = 0; d < 8; ++d) ++counts[d][(k >> (8 * d)) & 0xff];
  }
  uint64_t* src = keys.data();
  uint64_t* dst = other.data();
  for (int d = 0; d < 8; ++d) {
    if (counts[d][(src[0] >> (8 * d)) & 0xff] == n) continue;  // all keys share this digit
    uint32_t offsets[256];
    uint32_t sum = 0;
    for (int b = 0; b < 256; ++b) {
      offsets[b] = sum;
      sum += counts[d][b];
    }
    for (size_t i = 0; i < n; ++i) {
      const uint64_t k = src[i];
      dst[offsets[(k >> (8 * d)) & 0xff]++] = k;
    }
    std::swap(src, dst);
  }
  for (size_t i = 0; i < n; ++i) values[i] = FromSortKey(src[i]);
}

// Merges the sorted run `run` into the sorted `level` (stable: equal keys keep level first).
void MergeSorted(std::vector<double>& level, std::span<const double> run) {
  if (run.empty()) return;
  if (level.empty() || SortKey(level.back()) <= SortKey(run.front())) {
    level.insert(level.end(), run.begin(), run.end());
    return;
  }
  thread_local std::vector<double> merged;
  merged.resize(level.size() + run.size());
  std::merge(level.begin(), level.end(), run.begin(), run.end(), merged.begin(),
             [](double a, double b) { return SortKey(a) < SortKey(b); });
  level.swap(merged);
}

}  // namespace

KllSketch::KllSketch(uint32_t k, uint64_t seed) : k_(k), rng_(seed), levels_(1) {
  CAIRN_CHECK(k >= kMinK && k <= kMaxK);
  capacity_ = TotalCapacity();
}

uint32_t KllSketch::LevelCapacity(size_t level) const {
  // ceil(k · (2/3)^depth) in integers, so capacities are the same on every machine. Past depth
  // 22, k ≤ 65535 gives less than the minimum width anyway.
  const size_t depth = levels_.size() - 1 - level;
  if (depth > 22) return kKllMinLevelWidth;
  uint64_t pow3 = 1;
  for (size_t i = 0; i < depth; ++i) pow3 *= 3;
  const uint64_t cap = ((static_cast<uint64_t>(k_) << depth) + pow3 - 1) / pow3;
  return std::max<uint32_t>(kKllMinLevelWidth, static_cast<uint32_t>(cap));
}

size_t KllSketch::TotalCapacity() const {
  size_t total = 0;
  for (size_t h = 0; h < levels_.size(); ++h) total += LevelCapacity(h);
  return total;
}

void KllSketch::AddLevel() {
  levels_.emplace_back();
  capacity_ = TotalCapacity();
}

double KllSketch::min() const { return n_ == 0 ? kNaN : min_; }
double KllSketch::max() const { return n_ == 0 ? kNaN : max_; }

void KllSketch::Add(double value) {
  if (std::isnan(value)) return;
  if (n_ == 0) {
    min_ = max_ = value;
  } else {
    min_ = std::min(min_, value);
    max_ = std::max(max_, value);
  }
  ++n_;
  levels_[0].push_back(value);
  ++retained_;
  if (retained_ > capacity_) CompressWhileOverfull();
}

void KllSketch::Add(double value, uint64_t weight) {
  if (weight == 0 || std::isnan(value)) return;
  if (n_ == 0) {
    min_ = max_ = value;
  } else {
    min_ = std::min(min_, value);
    max_ = std::max(max_, value);
  }
  n_ += weight;
  for (size_t h = 0; weight != 0; ++h, weight >>= 1) {
    if ((weight & 1) == 0) continue;
    while (levels_.size() <= h) AddLevel();
    std::vector<double>& level = levels_[h];
    if (h == 0) {
      level.push_back(value);
    } else {
      const auto at = std::upper_bound(level.begin(), level.end(), value,
                                       [](double a, double b) { return SortKey(a) < SortKey(b); });
      level.insert(at, value);
    }
    ++retained_;
  }
  if (retained_ > capacity_) CompressWhileOverfull();
}

void KllSketch::AddBlock(std::span<const double> values, uint64_t weight) {
  CAIRN_CHECK(std::has_single_bit(weight));
  const auto h = static_cast<size_t>(std::countr_zero(weight));
  while (levels_.size() <= h) AddLevel();
  std::vector<double>& level = levels_[h];
  thread_local std::vector<double> run;
  std::vector<double>& target = h == 0 ? level : run;  // level 0 is unsorted
  run.clear();
  const size_t before = target.size();
  for (double v : values) {
    if (std::isnan(v)) continue;
    if (n_ == 0) {
      min_ = max_ = v;
    } else {
      min_ = v < min_ ? v : min_;
      max_ = v > max_ ? v : max_;
    }
    n_ += weight;
    target.push_back(v);
  }
  retained_ += target.size() - before;
  if (h > 0) {
    SortLevel(run);
    MergeSorted(level, run);
  }
  if (retained_ > capacity_) CompressWhileOverfull();
}

void KllSketch::CompressWhileOverfull() {
  thread_local std::vector<double> promoted;
  while (retained_ > capacity_) {
    // Some level is at or over its capacity, since the total is: compact the lowest one.
    size_t h = 0;
    while (levels_[h].size() < LevelCapacity(h)) ++h;
    if (h + 1 == levels_.size()) AddLevel();
    std::vector<double>& level = levels_[h];
    if (h == 0) SortLevel(level);
    // An odd item out (the largest) stays at this level with its weight; the rest pair up, and
    // one of each pair (the coin picks evens or odds) moves up with double weight.
    const size_t pairs = level.size() / 2;
    const bool odd = level.size() % 2 == 1;
    const double left_over = odd ? level.back() : 0;
    const size_t offset = rng_.Next() & 1;
    promoted.clear();
    for (size_t i = offset; i < 2 * pairs; i += 2) promoted.push_back(level[i]);
    MergeSorted(levels_[h + 1], promoted);
    retained_ -= pairs;
    level.clear();
    if (odd) level.push_back(left_over);
  }
}

Status KllSketch::Merge(const KllSketch& other) {
  if (other.k_ != k_) {
    return InvalidArgument("cannot merge KLL sketches with k " + std::to_string(k_) + " and " +
                           std::to_string(other.k_));
  }
  if (&other == this) {
    const KllSketch copy = other;
    return Merge(copy);
  }
  if (other.n_ == 0) return Status::Ok();
  if (n_ == 0) {
    min_ = other.min_;
    max_ = other.max_;
  } else {
    min_ = std::min(min_, other.min_);
    max_ = std::max(max_, other.max_);
  }
  n_ += other.n_;
  while (levels_.size() < other.levels_.size()) levels_.emplace_back();
  for (size_t h = 0; h < other.levels_.size(); ++h) {
    if (h == 0) {
      levels_[0].insert(levels_[0].end(), other.levels_[0].begin(), other.levels_[0].end());
    } else {
      MergeSorted(levels_[h], other.levels_[h]);
    }
    retained_ += other.levels_[h].size();
  }
  capacity_ = TotalCapacity();
  CompressWhileOverfull();
  return Status::Ok();
}

std::vector<KllSketch::WeightedValue> KllSketch::SortedView() const {
  std::vector<WeightedValue> view;
  view.reserve(retained_);
  for (size_t h = 0; h < levels_.size(); ++h) {
    for (double v : levels_[h]) view.push_back({v, uint64_t{1} << h});
  }
  std::sort(view.begin(), view.end(),
            [](const WeightedValue& a, const WeightedValue& b) { return a.value < b.value; });
  uint64_t cumulative = 0;
  for (auto& item : view) {
    cumulative += item.cumulative_weight;
    item.cumulative_weight = cumulative;
  }
  return view;
}

double KllSketch::QuantileIn(const std::vector<WeightedValue>& view, double q) const {
  if (n_ == 0 || std::isnan(q)) return kNaN;
  if (q <= 0) return min_;
  if (q >= 1) return max_;
  const double target = q * static_cast<double>(n_);
  auto it =
      std::lower_bound(view.begin(), view.end(), target, [](const WeightedValue& item, double t) {
        return static_cast<double>(item.cumulative_weight) < t;
      });
  if (it == view.end()) return max_;
  return std::clamp(it->value, min_, max_);
}

double KllSketch::Quantile(double q) const { return QuantileIn(SortedView(), q); }

std::vector<double> KllSketch::Quantiles(std::span<const double> qs) const {
  const auto view = SortedView();
  std::vector<double> out;
  out.reserve(qs.size());
  for (double q : qs) out.push_back(QuantileIn(view, q));
  return out;
}

double KllSketch::Rank(double x) const {
  if (n_ == 0 || std::isnan(x)) return kNaN;
  if (x <= min_) return 0;
  if (x > max_) return 1;
  uint64_t below = 0;
  for (size_t h = 0; h < levels_.size(); ++h) {
    for (double v : levels_[h]) below += v < x ? uint64_t{1} << h : 0;
  }
  return static_cast<double>(below) / static_cast<double>(n_);
}

double KllSketch::Cdf(double x) const {
  if (n_ == 0 || std::isnan(x)) return kNaN;
  if (x < min_) return 0;
  if (x >= max_) return 1;
  uint64_t at_or_below = 0;
  for (size_t h = 0; h < levels_.size(); ++h) {
    for (double v : levels_[h]) at_or_below += v <= x ? uint64_t{1} << h : 0;
  }
  return static_cast<double>(at_or_below) / static_cast<double>(n_);
}

double KllSketch::NormalizedRankError(uint32_t k, bool double_sided) {
  return double_sided ? 2.446 / std::pow(static_cast<double>(k), 0.9433)
                      : 2.296 / std::pow(static_cast<double>(k), 0.9723);
}

nlohmann::json KllSketch::ToJson() const {
  json j = {{"k", k_}, {"n", n_}, {"rng", RngToJson(rng_)}};
  if (n_ > 0) {
    j["min"] = DoubleToJson(min_);
    j["max"] = DoubleToJson(max_);
  }
  json levels = json::array();
  for (const auto& level : levels_) {
    json items = json::array();
    for (double v : level) items.push_back(DoubleToJson(v));
    levels.push_back(std::move(items));
  }
  j["levels"] = std::move(levels);
  return j;
}

Result<KllSketch> KllSketch::FromJson(const nlohmann::json& j) {
  return ParseJson<KllSketch>("KLL sketch", [&]() -> Result<KllSketch> {
    const auto k = j.at("k").get<uint64_t>();
    if (k < kMinK || k > kMaxK) return InvalidArgument("KLL sketch: k out of range");
    KllSketch sketch(static_cast<uint32_t>(k));
    sketch.rng_ = RngFromJson(j.at("rng"));
    sketch.n_ = j.at("n").get<uint64_t>();
    const auto& levels = j.at("levels");
    if (!levels.is_array() || levels.empty() || levels.size() > 64) {
      return InvalidArgument("KLL sketch: bad levels");
    }
    sketch.levels_.assign(levels.size(), {});
    uint64_t weight = 0;
    for (size_t h = 0; h < levels.size(); ++h) {
      for (const auto& v : levels[h]) {
        const double x = DoubleFromJson(v);
        if (std::isnan(x)) return InvalidArgument("KLL sketch: NaN item");
        sketch.levels_[h].push_back(x);
      }
      if (h > 0) {  // sketches written before levels were kept sorted
        std::sort(sketch.levels_[h].begin(), sketch.levels_[h].end(),
                  [](double a, double b) { return SortKey(a) < SortKey(b); });
      }
      sketch.retained_ += sketch.levels_[h].size();
      weight += static_cast<uint64_t>(sketch.levels_[h].size()) << h;
    }
    if (weight != sketch.n_) return InvalidArgument("KLL sketch: weights do not add up to n");
    if (sketch.n_ > 0) {
      sketch.min_ = DoubleFromJson(j.at("min"));
      sketch.max_ = DoubleFromJson(j.at("max"));
      if (!(sketch.min_ <= sketch.max_)) return InvalidArgument("KLL sketch: min > max");
    }
    sketch.capacity_ = sketch.TotalCapacity();
    if (sketch.retained_ > sketch.capacity_) return InvalidArgument("KLL sketch: overfull");
    return sketch;
  });
}

// ---------------------------------------------------------------------------------------------
// HyperLogLog

namespace {

// Ertl's σ and τ series (2017, Algorithm 6), summed until the floating-point sum stops changing.
double ErtlSigma(double x) {
  if (x == 1) return kInf;
  double y = 1, z = x;
  while (true) {
    x *= x;
    const double z_old = z;
    z += x * y;
    y += y;
    if (z == z_old) return z;
  }
}

double ErtlTau(double x) {
  if (x == 0 || x == 1) return 0;
  double y = 1, z = 1 - x;
  while (true) {
    x = std::sqrt(x);
    const double z_old = z;
    y *= 0.5;
    z -= (1 - x) * (1 - x) * y;
    if (z == z_old) return z / 3;
  }
}

}  // namespace

HyperLogLog::HyperLogLog(int precision)
    : precision_(precision), registers_(size_t{1} << precision, 0) {
  CAIRN_CHECK(precision >= kMinPrecision && precision <= kMaxPrecision);
}

Status HyperLogLog::Merge(const HyperLogLog& other) {
  if (other.precision_ != precision_) {
    return InvalidArgument("cannot merge HyperLogLog sketches with precision " +
                           std::to_string(precision_) + " and " + std::to_string(other.precision_));
  }
  for (size_t i = 0; i < registers_.size(); ++i) {
    registers_[i] = std::max(registers_[i], other.registers_[i]);
  }
  return Status::Ok();
}

double HyperLogLog::Estimate() const {
  const int q = 64 - precision_;
  const double m = static_cast<double>(registers_.size());
  std::vector<double> histogram(q + 2, 0);
  for (uint8_t r : registers_) histogram[r] += 1;
  double z = m * ErtlTau(1 - histogram[q + 1] / m);
  for (int k = q; k >= 1; --k) z = 0.5 * (z + histogram[k]);
  z += m * ErtlSigma(histogram[0] / m);
  return m * m / (2 * std::log(2.0)) / z;
}

double HyperLogLog::StandardError() const {
  return 1.04 / std::sqrt(static_cast<double>(registers_.size()));
}

nlohmann::json HyperLogLog::ToJson() const {
  return {{"p", precision_},
          {"registers", Base64Encode(std::string_view(
                            reinterpret_cast<const char*>(registers_.data()), registers_.size()))}};
}

Result<HyperLogLog> HyperLogLog::FromJson(const nlohmann::json& j) {
  return ParseJson<HyperLogLog>("HyperLogLog", [&]() -> Result<HyperLogLog> {
    const int p = j.at("p").get<int>();
    if (p < kMinPrecision || p > kMaxPrecision) {
      return InvalidArgument("HyperLogLog: precision out of range");
    }
    HyperLogLog hll(p);
    auto bytes = Base64Decode(j.at("registers").get<std::string>());
    if (!bytes || bytes->size() != hll.registers_.size()) {
      return InvalidArgument("HyperLogLog: bad registers");
    }
    for (size_t i = 0; i < bytes->size(); ++i) {
      const auto r = static_cast<uint8_t>((*bytes)[i]);
      if (r > 64 - p + 1) return InvalidArgument("HyperLogLog: register out of range");
      hll.registers_[i] = r;
    }
    return hll;
  });
}

// ---------------------------------------------------------------------------------------------
// Reservoir

template <typename T>
Reservoir<T>::Reservoir(size_t capacity, uint64_t seed) : capacity_(capacity), rng_(seed) {
  CAIRN_CHECK(capacity >= 1);
}

template <typename T>
void Reservoir<T>::StartSkipping() {
  const double k = static_cast<double>(capacity_);
  if (n_ == capacity_) {
    // W is the largest of k uniform keys.
    w_ = std::exp(std::log(rng_.NextOpenDouble()) / k);
  } else {
    // After a merge: W is the k-th smallest of n uniform keys, independent of which values were
    // kept. Rényi's representation draws it from k exponentials.
    double sum = 0;
    for (size_t i = 0; i < capacity_; ++i) {
      sum += -std::log(rng_.NextOpenDouble()) / static_cast<double>(n_ - i);
    }
    w_ = -std::expm1(-sum);
  }
  DrawNext();
}

template <typename T>
void Reservoir<T>::DrawNext() {
  // Values skipped before the next key below W: geometric with success probability W.
  const double skip = std::floor(std::log(rng_.NextOpenDouble()) / std::log1p(-w_));
  constexpr double kFar = 4e18;  // beyond any stream; keeps the conversion defined
  next_ = n_ + static_cast<uint64_t>(skip < kFar ? skip : kFar);
}

template <typename T>
void Reservoir<T>::AddSlow(ValueView value) {
  if constexpr (std::is_same_v<T, double>) {
    if (std::isnan(value)) return;
  }
  if (items_.size() < capacity_) {
    items_.emplace_back(value);
    ++n_;
    if (items_.size() == capacity_) StartSkipping();
    return;
  }
  if (n_ == next_) {
    items_[rng_.Below(capacity_)] = T(value);
    w_ *= std::exp(std::log(rng_.NextOpenDouble()) / static_cast<double>(capacity_));
    ++n_;
    DrawNext();
    return;
  }
  ++n_;
}

template <typename T>
void Reservoir<T>::Add(std::span<const ValueView> values) {
  if constexpr (std::is_same_v<T, double>) {
    // NaN is not a value: it must not count towards the skips.
    for (double v : values) {
      if (std::isnan(v)) {
        for (double x : values) Add(x);
        return;
      }
    }
  }
  size_t i = 0;
  while (i < values.size() && items_.size() < capacity_) Add(values[i++]);
  while (i < values.size()) {
    // Full: the values before index next_ are passed over.
    const uint64_t skip = next_ - n_;
    const size_t left = values.size() - i;
    if (skip >= left) {
      n_ += left;
      return;
    }
    i += static_cast<size_t>(skip);
    n_ += skip;
    Add(values[i++]);  // n_ == next_: kept
  }
}

template <typename T>
Status Reservoir<T>::Merge(const Reservoir& other) {
  if (other.capacity_ != capacity_) {
    return InvalidArgument("cannot merge reservoirs with capacity " + std::to_string(capacity_) +
                           " and " + std::to_string(other.capacity_));
  }
  if (&other == this) {
    const Reservoir copy = other;
    return Merge(copy);
  }
  if (other.n_ == 0) return Status::Ok();
  // Draw min(capacity, n_a + n_b) values without replacement from the union: each draw comes
  // from side A with probability (A's values not yet drawn) / (all not yet drawn), and is then a
  // uniformly random not-yet-drawn item of A's sample, itself a uniform subset of A.
  std::vector<T> pool_a = std::move(items_);
  std::vector<T> pool_b = other.items_;
  uint64_t left_a = n_, left_b = other.n_;
  const size_t take = static_cast<size_t>(std::min<uint64_t>(capacity_, left_a + left_b));
  items_.clear();
  items_.reserve(take);
  auto draw_from = [&](std::vector<T>& pool) {
    const size_t i = rng_.Below(pool.size());
    items_.push_back(std::move(pool[i]));
    pool[i] = std::move(pool.back());
    pool.pop_back();
  };
  while (items_.size() < take) {
    if (rng_.Below(left_a + left_b) < left_a) {
      draw_from(pool_a);
      --left_a;
    } else {
      draw_from(pool_b);
      --left_b;
    }
  }
  n_ += other.n_;
  if (items_.size() == capacity_) StartSkipping();
  return Status::Ok();
}

template <typename T>
nlohmann::json Reservoir<T>::ToJson() const {
  json items = json::array();
  for (const T& v : items_) {
    if constexpr (std::is_same_v<T, double>) {
      items.push_back(DoubleToJson(v));
    } else {
      items.push_back(BytesToJson(v));
    }
  }
  json j = {{"capacity", capacity_}, {"count", n_}, {"rng", RngToJson(rng_)}};
  if (items_.size() == capacity_) {
    j["w"] = w_;
    j["next"] = next_;
  }
  j["items"] = std::move(items);
  return j;
}

template <typename T>
Result<Reservoir<T>> Reservoir<T>::FromJson(const nlohmann::json& j) {
  return ParseJson<Reservoir<T>>("reservoir", [&]() -> Result<Reservoir<T>> {
    const auto capacity = j.at("capacity").get<uint64_t>();
    if (capacity < 1 || capacity > (uint64_t{1} << 32)) {
      return InvalidArgument("reservoir: capacity out of range");
    }
    Reservoir<T> r(static_cast<size_t>(capacity));
    r.rng_ = RngFromJson(j.at("rng"));
    r.n_ = j.at("count").get<uint64_t>();
    for (const auto& v : j.at("items")) {
      if constexpr (std::is_same_v<T, double>) {
        r.items_.push_back(DoubleFromJson(v));
      } else {
        r.items_.push_back(BytesFromJson(v));
      }
    }
    if (r.items_.size() != std::min<uint64_t>(r.n_, capacity)) {
      return InvalidArgument("reservoir: item count does not match");
    }
    if (r.items_.size() == capacity) {
      r.w_ = j.at("w").get<double>();
      r.next_ = j.at("next").get<uint64_t>();
      if (!(r.w_ > 0 && r.w_ <= 1) || r.next_ < r.n_) {
        return InvalidArgument("reservoir: bad sampling state");
      }
    }
    return r;
  });
}

template class Reservoir<double>;
template class Reservoir<std::string>;

// ---------------------------------------------------------------------------------------------
// Moments

void Moments::Add(double value) {
  if (std::isnan(value)) {
    ++missing_;
    return;
  }
  if (count_ == 0) {
    min_ = max_ = value;
  } else {
    min_ = std::min(min_, value);
    max_ = std::max(max_, value);
  }
  ++count_;
  const double delta = value - mean_;
  mean_ += delta / static_cast<double>(count_);
  m2_ += delta * (value - mean_);
}

void Moments::Add(std::span<const double> values) {
  const size_t n = values.size();
  if (n == 0) return;
  const double* x = values.data();
  // Four partial sums: lane j takes the values at indices ≡ j (mod 4), then they are added as
  // (s0 + s1) + (s2 + s3) — a fixed order, so the result is the same on every machine.
  double sum[4] = {0, 0, 0, 0};
  double m2[4] = {0, 0, 0, 0};
  double lo = x[0], hi = x[0];
  bool nan = false;
  size_t i = 0;
#if defined(__SSE2__)
  __m128d s01 = _mm_setzero_pd(), s23 = _mm_setzero_pd();
  __m128d lo2 = _mm_set1_pd(x[0]), hi2 = lo2, unordered = _mm_setzero_pd();
  for (; i + 4 <= n; i += 4) {
    const __m128d a = _mm_loadu_pd(x + i), b = _mm_loadu_pd(x + i + 2);
    s01 = _mm_add_pd(s01, a);
    s23 = _mm_add_pd(s23, b);
    lo2 = _mm_min_pd(lo2, _mm_min_pd(a, b));
    hi2 = _mm_max_pd(hi2, _mm_max_pd(a, b));
    unordered = _mm_or_pd(unordered, _mm_cmpunord_pd(a, b));
  }
  _mm_storeu_pd(sum, s01);
  _mm_storeu_pd(sum + 2, s23);
  double l[2], h[2];
  _mm_storeu_pd(l, lo2);
  _mm_storeu_pd(h, hi2);
  lo = l[0] < l[1] ? l[0] : l[1];
  hi = h[0] > h[1] ? h[0] : h[1];
  nan = _mm_movemask_pd(unordered) != 0;
#endif
  for (; i < n; ++i) {
    sum[i % 4] += x[i];
    lo = x[i] < lo ? x[i] : lo;
    hi = x[i] > hi ? x[i] : hi;
    nan |= x[i] != x[i];
  }
  if (nan) {  // missing values inside: the per-value path counts them
    for (double v : values) Add(v);
    return;
  }
  Moments block;
  block.count_ = n;
  block.min_ = lo;
  block.max_ = hi;
  block.mean_ = ((sum[0] + sum[1]) + (sum[2] + sum[3])) / static_cast<double>(n);
  i = 0;
#if defined(__SSE2__)
  const __m128d mean = _mm_set1_pd(block.mean_);
  __m128d q01 = _mm_setzero_pd(), q23 = _mm_setzero_pd();
  for (; i + 4 <= n; i += 4) {
    const __m128d a = _mm_sub_pd(_mm_loadu_pd(x + i), mean);
    const __m128d b = _mm_sub_pd(_mm_loadu_pd(x + i + 2), mean);
    q01 = _mm_add_pd(q01, _mm_mul_pd(a, a));
    q23 = _mm_add_pd(q23, _mm_mul_pd(b, b));
  }
  _mm_storeu_pd(m2, q01);
  _mm_storeu_pd(m2 + 2, q23);
#endif
  for (; i < n; ++i) {
    const double d = x[i] - block.mean_;
    m2[i % 4] += d * d;
  }
  block.m2_ = (m2[0] + m2[1]) + (m2[2] + m2[3]);
  Merge(block);
}

void Moments::Merge(const Moments& other) {
  missing_ += other.missing_;
  if (other.count_ == 0) return;
  if (count_ == 0) {
    const uint64_t missing = missing_;
    *this = other;
    missing_ = missing;
    return;
  }
  const double na = static_cast<double>(count_), nb = static_cast<double>(other.count_);
  const double n = na + nb;
  const double delta = other.mean_ - mean_;
  mean_ += delta * (nb / n);
  m2_ += other.m2_ + delta * delta * (na * nb / n);
  count_ += other.count_;
  min_ = std::min(min_, other.min_);
  max_ = std::max(max_, other.max_);
}

double Moments::min() const { return count_ == 0 ? kNaN : min_; }
double Moments::max() const { return count_ == 0 ? kNaN : max_; }
double Moments::mean() const { return count_ == 0 ? kNaN : mean_; }

double Moments::PopulationVariance() const {
  return count_ == 0 ? kNaN : m2_ / static_cast<double>(count_);
}
double Moments::PopulationStddev() const { return std::sqrt(PopulationVariance()); }
double Moments::SampleVariance() const {
  return count_ < 2 ? kNaN : m2_ / static_cast<double>(count_ - 1);
}
double Moments::SampleStddev() const { return std::sqrt(SampleVariance()); }

nlohmann::json Moments::ToJson() const {
  json j = {{"count", count_}, {"missing", missing_}};
  if (count_ > 0) {
    j["min"] = DoubleToJson(min_);
    j["max"] = DoubleToJson(max_);
    j["mean"] = DoubleToJson(mean_);
    j["m2"] = DoubleToJson(m2_);
  }
  return j;
}

Result<Moments> Moments::FromJson(const nlohmann::json& j) {
  return ParseJson<Moments>("moments", [&]() -> Result<Moments> {
    Moments m;
    m.count_ = j.at("count").get<uint64_t>();
    m.missing_ = j.at("missing").get<uint64_t>();
    if (m.count_ > 0) {
      m.min_ = DoubleFromJson(j.at("min"));
      m.max_ = DoubleFromJson(j.at("max"));
      m.mean_ = DoubleFromJson(j.at("mean"));
      m.m2_ = DoubleFromJson(j.at("m2"));
    }
    return m;
  });
}

// ---------------------------------------------------------------------------------------------
// Histogram

Result<Histogram> Histogram::WithEdges(std::vector<double> edges) {
  if (edges.size() < 2) return InvalidArgument("histogram: need at least two edges");
  for (size_t i = 0; i < edges.size(); ++i) {
    if (!std::isfinite(edges[i])) return InvalidArgument("histogram: edges must be finite");
    if (i > 0 && edges[i] < edges[i - 1]) {
      return InvalidArgument("histogram: edges must be non-decreasing");
    }
  }
  Histogram h;
  h.counts_.assign(edges.size() - 1, 0);
  h.edges_ = std::move(edges);
  return h;
}

Result<Histogram> Histogram::Count(std::vector<double> edges, std::span<const double> values) {
  CAIRN_TRY(Histogram h, WithEdges(std::move(edges)));
  for (double v : values) h.Add(v);
  return h;
}

void Histogram::Add(double value) {
  if (std::isnan(value)) return;
  if (value < edges_.front()) {
    ++underflow_;
  } else if (value > edges_.back()) {
    ++overflow_;
  } else if (value == edges_.back()) {
    ++counts_.back();
  } else {
    const auto it = std::upper_bound(edges_.begin(), edges_.end(), value);
    ++counts_[static_cast<size_t>(it - edges_.begin()) - 1];
  }
}

Status Histogram::Merge(const Histogram& other) {
  if (other.edges_ != edges_) return InvalidArgument("cannot merge histograms with other edges");
  for (size_t i = 0; i < counts_.size(); ++i) counts_[i] += other.counts_[i];
  underflow_ += other.underflow_;
  overflow_ += other.overflow_;
  return Status::Ok();
}

uint64_t Histogram::total() const {
  uint64_t sum = underflow_ + overflow_;
  for (uint64_t c : counts_) sum += c;
  return sum;
}

nlohmann::json Histogram::ToJson() const {
  return {
      {"edges", edges_}, {"counts", counts_}, {"underflow", underflow_}, {"overflow", overflow_}};
}

Result<Histogram> Histogram::FromJson(const nlohmann::json& j) {
  return ParseJson<Histogram>("histogram", [&]() -> Result<Histogram> {
    CAIRN_TRY(Histogram h, WithEdges(j.at("edges").get<std::vector<double>>()));
    auto counts = j.at("counts").get<std::vector<uint64_t>>();
    if (counts.size() != h.counts_.size()) return InvalidArgument("histogram: bad counts");
    h.counts_ = std::move(counts);
    h.underflow_ = j.at("underflow").get<uint64_t>();
    h.overflow_ = j.at("overflow").get<uint64_t>();
    return h;
  });
}

std::vector<double> EqualWidthEdges(double min, double max, int bins) {
  CAIRN_CHECK(bins >= 1);
  if (!std::isfinite(min) || !std::isfinite(max) || min > max) return {};
  if (min == max) return {min, max};
  // std::lerp is monotonic, exact at both ends, and does not overflow on huge ranges.
  std::vector<double> edges(static_cast<size_t>(bins) + 1);
  for (int i = 0; i <= bins; ++i) edges[i] = std::lerp(min, max, static_cast<double>(i) / bins);
  return edges;
}

std::vector<double> QuantileEdges(const KllSketch& sketch, int bins) {
  CAIRN_CHECK(bins >= 1);
  if (sketch.empty()) return {};
  std::vector<double> qs(static_cast<size_t>(bins) + 1);
  for (int i = 0; i <= bins; ++i) qs[i] = static_cast<double>(i) / bins;
  std::vector<double> edges = sketch.Quantiles(qs);
  std::erase_if(edges, [](double e) { return !std::isfinite(e); });
  edges.erase(std::unique(edges.begin(), edges.end()), edges.end());
  if (edges.size() == 1) edges.push_back(edges[0]);  // one distinct value: one bin
  return edges;
}

// ---------------------------------------------------------------------------------------------
// FrequentValues

namespace {
// Top's order: count descending, then value ascending.
bool RanksBefore(const FrequentValues::Entry& a, const FrequentValues::Entry& b) {
  if (a.count != b.count) return a.count > b.count;
  return a.value < b.value;
}
}  // namespace

FrequentValues::FrequentValues(size_t capacity) : capacity_(capacity) {
  CAIRN_CHECK(capacity >= 1);
}

bool FrequentValues::EvictsBefore(uint32_t a, uint32_t b) const {
  return RanksBefore(entries_[b], entries_[a]);
}

void FrequentValues::BuildHeap() {
  const size_t n = entries_.size();
  heap_.resize(n);
  heap_pos_.resize(n);
  for (size_t i = 0; i < n; ++i) heap_[i] = heap_pos_[i] = static_cast<uint32_t>(i);
  for (size_t pos = n / 2; pos-- > 0;) SiftDown(pos);
}

void FrequentValues::SiftDown(size_t pos) {
  const size_t n = heap_.size();
  const uint32_t entry = heap_[pos];
  while (true) {
    size_t child = 2 * pos + 1;
    if (child >= n) break;
    if (child + 1 < n && EvictsBefore(heap_[child + 1], heap_[child])) ++child;
    if (!EvictsBefore(heap_[child], entry)) break;
    heap_[pos] = heap_[child];
    heap_pos_[heap_[pos]] = static_cast<uint32_t>(pos);
    pos = child;
  }
  heap_[pos] = entry;
  heap_pos_[entry] = static_cast<uint32_t>(pos);
}

uint64_t FrequentValues::UntrackedBound() const {
  if (exact_) return 0;
  if (!heap_.empty()) return entries_[heap_[0]].count;
  uint64_t least = entries_.empty() ? 0 : entries_[0].count;
  for (const Entry& e : entries_) least = std::min(least, e.count);
  return least;
}

void FrequentValues::Add(std::string_view value, uint64_t weight) {
  if (weight == 0) return;
  total_ += weight;
  if (auto it = index_.find(value); it != index_.end()) {
    entries_[it->second].count += weight;
    if (!heap_.empty()) SiftDown(heap_pos_[it->second]);
    return;
  }
  if (entries_.size() < capacity_) {
    index_.emplace(std::string(value), entries_.size());
    entries_.push_back({std::string(value), weight, 0});
    return;
  }
  // SpaceSaving: the new value takes over the smallest counter, whose count bounds how often
  // the new value may have been seen before. The victim is the entry Top would list last, so
  // the choice does not depend on insertion order. The index node and the entry's string are
  // reused, so a replacement allocates nothing once the strings have grown.
  exact_ = false;
  if (heap_.empty()) BuildHeap();
  const uint32_t victim = heap_[0];
  Entry& e = entries_[victim];
  auto node = index_.extract(e.value);
  node.key().assign(value);
  index_.insert(std::move(node));
  e.value.assign(value);
  e.error = e.count;
  e.count += weight;
  SiftDown(0);
}

Status FrequentValues::Merge(const FrequentValues& other) {
  if (other.capacity_ != capacity_) {
    return InvalidArgument("cannot merge frequent values with capacity " +
                           std::to_string(capacity_) + " and " + std::to_string(other.capacity_));
  }
  if (&other == this) {
    const FrequentValues copy = other;
    return Merge(copy);
  }
  // A value missing from one side gets that side's bound for untracked values, as count and as
  // error; then the `capacity` largest survive. The smallest survivor is at least both bounds
  // summed, and the survivors' counts add up to at most the total weight, so the guarantees
  // carry over (Agarwal et al. 2012).
  const uint64_t bound_a = UntrackedBound(), bound_b = other.UntrackedBound();
  std::vector<Entry> merged;
  merged.reserve(entries_.size() + other.entries_.size());
  for (const Entry& e : entries_) {
    auto it = other.index_.find(e.value);
    const Entry* o = it == other.index_.end() ? nullptr : &other.entries_[it->second];
    merged.push_back(
        {e.value, e.count + (o ? o->count : bound_b), e.error + (o ? o->error : bound_b)});
  }
  for (const Entry& o : other.entries_) {
    if (!index_.contains(o.value))
      merged.push_back({o.value, o.count + bound_a, o.error + bound_a});
  }
  std::sort(merged.begin(), merged.end(), RanksBefore);
  exact_ = exact_ && other.exact_ && merged.size() <= capacity_;
  if (merged.size() > capacity_) merged.resize(capacity_);
  total_ += other.total_;
  entries_ = std::move(merged);
  heap_.clear();
  heap_pos_.clear();
  index_.clear();
  for (size_t i = 0; i < entries_.size(); ++i) index_.emplace(entries_[i].value, i);
  return Status::Ok();
}

FrequentValues FrequentValues::FromExactCounts(std::vector<Entry> counts, size_t capacity) {
  FrequentValues fv(capacity);
  std::erase_if(counts, [](const Entry& e) { return e.count == 0; });
  std::sort(counts.begin(), counts.end(), RanksBefore);
  for (const Entry& e : counts) fv.total_ += e.count;
  fv.exact_ = counts.size() <= capacity;
  if (counts.size() > capacity) counts.resize(capacity);
  fv.entries_ = std::move(counts);
  for (size_t i = 0; i < fv.entries_.size(); ++i) {
    fv.entries_[i].error = 0;
    fv.index_.emplace(fv.entries_[i].value, i);
  }
  return fv;
}

std::vector<FrequentValues::Entry> FrequentValues::Top(size_t k) const {
  std::vector<Entry> sorted = entries_;
  std::sort(sorted.begin(), sorted.end(), RanksBefore);
  if (sorted.size() > k) sorted.resize(k);
  return sorted;
}

nlohmann::json FrequentValues::ToJson() const {
  json items = json::array();
  for (const Entry& e : All()) items.push_back({BytesToJson(e.value), e.count, e.error});
  return {{"capacity", capacity_}, {"total", total_}, {"exact", exact_}, {"items", items}};
}

Result<FrequentValues> FrequentValues::FromJson(const nlohmann::json& j) {
  return ParseJson<FrequentValues>("frequent values", [&]() -> Result<FrequentValues> {
    const auto capacity = j.at("capacity").get<uint64_t>();
    if (capacity < 1 || capacity > (uint64_t{1} << 32)) {
      return InvalidArgument("frequent values: capacity out of range");
    }
    FrequentValues fv(static_cast<size_t>(capacity));
    fv.total_ = j.at("total").get<uint64_t>();
    fv.exact_ = j.at("exact").get<bool>();
    for (const auto& item : j.at("items")) {
      if (!item.is_array() || item.size() != 3) {
        return InvalidArgument("frequent values: bad items");
      }
      Entry e{BytesFromJson(item.at(0)), item.at(1).get<uint64_t>(), item.at(2).get<uint64_t>()};
      if (e.error > e.count || fv.index_.contains(e.value) || fv.entries_.size() >= capacity) {
        return InvalidArgument("frequent values: bad items");
      }
      fv.index_.emplace(e.value, fv.entries_.size());
      fv.entries_.push_back(std::move(e));
    }
    return fv;
  });
}

}  // namespace cairn::data
