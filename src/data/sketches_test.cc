#include "data/sketches.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <nlohmann/json.hpp>
#include <numeric>
#include <random>
#include <string>
#include <vector>

#include "core/base64.h"

namespace cairn::data {
namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// ----- Hashing and randomness --------------------------------------------------------------

TEST(SplitMix64Test, MatchesTheReferenceSequence) {
  // The first outputs of Vigna's reference splitmix64.c seeded with 0.
  SplitMix64 rng(0);
  EXPECT_EQ(rng.Next(), 0xe220a8397b1dcdafULL);
  EXPECT_EQ(rng.Next(), 0x6e789e6aa1b965f4ULL);
  EXPECT_EQ(rng.Next(), 0x06c45d188009454fULL);
}

TEST(SplitMix64Test, UniformsStayInRange) {
  SplitMix64 rng(7);
  for (int i = 0; i < 10000; ++i) {
    const double u = rng.NextDouble(), open = rng.NextOpenDouble();
    EXPECT_GE(u, 0.0);
    EXPECT_LT(u, 1.0);
    EXPECT_GT(open, 0.0);
    EXPECT_LT(open, 1.0);
    EXPECT_LT(rng.Below(3), 3u);
  }
}

TEST(HashTest, IsPinnedAcrossMachinesAndReleases) {
  // HyperLogLog registers in stored profiles depend on these values: a change is a format change.
  EXPECT_EQ(Hash64(""), 0x48218226ff3cd4bfULL);
  EXPECT_EQ(Hash64("abc"), 0x9093faa279ea4c14ULL);
  EXPECT_EQ(Hash64("a longer string, past one word"), 0x875ed91a29eb8265ULL);
  EXPECT_EQ(HashDouble(1.0), 0xd44129e9964a3666ULL);
}

TEST(HashTest, SeparatesNearbyInputsAndNormalizesNumbers) {
  EXPECT_NE(Hash64("a"), Hash64("b"));
  EXPECT_NE(Hash64("a"), Hash64(std::string("a\0", 2)));  // zero padding is not ambiguous
  EXPECT_NE(Hash64("abcdefgh"), Hash64("abcdefgh", 1));
  EXPECT_EQ(HashDouble(0.0), HashDouble(-0.0));
  EXPECT_EQ(HashDouble(kNaN), HashDouble(-kNaN));
  EXPECT_NE(HashDouble(1.0), HashDouble(2.0));
}

// ----- KLL quantiles -------------------------------------------------------------------------

struct RankErrors {
  double quantile = 0;  // worst distance from q to the true rank range of Quantile(q)
  double cdf = 0;       // worst |Cdf(x) − true fraction ≤ x|
};

// `sorted` holds every value added to `sketch`, ascending.
RankErrors MeasureRankErrors(const KllSketch& sketch, const std::vector<double>& sorted) {
  const double n = static_cast<double>(sorted.size());
  std::vector<double> qs;
  for (int i = 1; i < 1000; ++i) qs.push_back(i / 1000.0);
  const std::vector<double> values = sketch.Quantiles(qs);
  RankErrors errors;
  for (size_t i = 0; i < qs.size(); ++i) {
    const double lo =
        static_cast<double>(std::lower_bound(sorted.begin(), sorted.end(), values[i]) -
                            sorted.begin()) /
        n;
    const double hi =
        static_cast<double>(std::upper_bound(sorted.begin(), sorted.end(), values[i]) -
                            sorted.begin()) /
        n;
    const double err = qs[i] < lo ? lo - qs[i] : (qs[i] > hi ? qs[i] - hi : 0);
    errors.quantile = std::max(errors.quantile, err);
  }
  for (size_t i = 0; i < sorted.size(); i += sorted.size() / 500 + 1) {
    const double truth =
        static_cast<double>(std::upper_bound(sorted.begin(), sorted.end(), sorted[i]) -
                            sorted.begin()) /
        n;
    errors.cdf = std::max(errors.cdf, std::abs(sketch.Cdf(sorted[i]) - truth));
  }
  return errors;
}

void ExpectWithinBound(std::vector<double> values, uint64_t seed) {
  KllSketch sketch(KllSketch::kDefaultK, seed);
  for (double v : values) sketch.Add(v);
  std::sort(values.begin(), values.end());
  EXPECT_EQ(sketch.count(), values.size());
  EXPECT_EQ(sketch.min(), values.front());
  EXPECT_EQ(sketch.max(), values.back());
  EXPECT_LT(sketch.num_retained(), 3 * KllSketch::kDefaultK + 100);  // bounded memory
  const double bound = KllSketch::NormalizedRankError(KllSketch::kDefaultK);
  const RankErrors errors = MeasureRankErrors(sketch, values);
  EXPECT_LE(errors.quantile, bound);
  EXPECT_LE(errors.cdf, bound);
}

constexpr size_t kMillion = 1000000;

TEST(KllSketchTest, PublishedBoundForDefaultK) {
  EXPECT_NEAR(KllSketch::NormalizedRankError(200), 0.0133, 0.0001);
  EXPECT_NEAR(KllSketch::NormalizedRankError(200, /*double_sided=*/true), 0.0165, 0.0001);
}

TEST(KllSketchTest, UniformWithinBound) {
  std::mt19937_64 gen(1);
  std::uniform_real_distribution<double> dist(0, 1);
  std::vector<double> values(kMillion);
  for (double& v : values) v = dist(gen);
  ExpectWithinBound(std::move(values), 1);
}

TEST(KllSketchTest, NormalWithinBound) {
  std::mt19937_64 gen(2);
  std::normal_distribution<double> dist(50, 10);
  std::vector<double> values(kMillion);
  for (double& v : values) v = dist(gen);
  ExpectWithinBound(std::move(values), 2);
}

TEST(KllSketchTest, HeavyTailedWithinBound) {
  // Pareto with α = 0.5: no finite mean, values spanning ~12 orders of magnitude.
  std::mt19937_64 gen(3);
  std::uniform_real_distribution<double> dist(0, 1);
  std::vector<double> values(kMillion);
  for (double& v : values) v = std::pow(1 - dist(gen), -2.0);
  ExpectWithinBound(std::move(values), 3);
}

TEST(KllSketchTest, SortedAndReverseSortedWithinBound) {
  std::vector<double> values(kMillion);
  std::iota(values.begin(), values.end(), 0.0);
  ExpectWithinBound(values, 4);
  std::reverse(values.begin(), values.end());
  ExpectWithinBound(values, 5);
}

TEST(KllSketchTest, FewDistinctValuesWithinBound) {
  std::mt19937_64 gen(6);
  std::uniform_int_distribution<int> dist(0, 9);
  std::vector<double> values(200000);
  for (double& v : values) v = dist(gen);
  ExpectWithinBound(std::move(values), 6);
}

TEST(KllSketchTest, ExactBelowCapacity) {
  KllSketch sketch;
  std::vector<double> values;
  for (int i = 0; i < 150; ++i) values.push_back((i * 37) % 150);
  for (double v : values) sketch.Add(v);
  std::sort(values.begin(), values.end());
  EXPECT_EQ(sketch.num_retained(), 150u);
  const RankErrors errors = MeasureRankErrors(sketch, values);
  EXPECT_EQ(errors.quantile, 0);
  EXPECT_EQ(errors.cdf, 0);
  EXPECT_EQ(sketch.Quantile(0.5), 74);
  EXPECT_EQ(sketch.Quantile(0), 0);
  EXPECT_EQ(sketch.Quantile(1), 149);
  EXPECT_DOUBLE_EQ(sketch.Rank(10), 10.0 / 150);
  EXPECT_DOUBLE_EQ(sketch.Cdf(10), 11.0 / 150);
}

TEST(KllSketchTest, EmptyAndNaN) {
  KllSketch sketch;
  EXPECT_TRUE(std::isnan(sketch.Quantile(0.5)));
  EXPECT_TRUE(std::isnan(sketch.Cdf(1)));
  EXPECT_TRUE(std::isnan(sketch.min()));
  sketch.Add(kNaN);
  EXPECT_TRUE(sketch.empty());
  sketch.Add(-kInf);
  sketch.Add(3);
  EXPECT_EQ(sketch.count(), 2u);
  EXPECT_EQ(sketch.Quantile(0), -kInf);
  EXPECT_EQ(sketch.Quantile(1), 3);
}

TEST(KllSketchTest, MergedPartsWithinBoundOfTheUnion) {
  std::mt19937_64 gen(7);
  std::lognormal_distribution<double> dist(0, 1);
  std::vector<double> values(kMillion);
  for (double& v : values) v = dist(gen);
  // Ten windows of unequal sizes, each with its own seed, as monitoring would produce.
  std::vector<KllSketch> parts;
  size_t begin = 0;
  for (int w = 0; w < 10; ++w) {
    const size_t end = w == 9 ? values.size() : begin + (w + 1) * 18000;
    parts.emplace_back(KllSketch::kDefaultK, 100 + w);
    for (size_t i = begin; i < end; ++i) parts.back().Add(values[i]);
    begin = end;
  }
  KllSketch merged(KllSketch::kDefaultK, 99);
  for (const auto& part : parts) ASSERT_TRUE(merged.Merge(part).ok());
  std::sort(values.begin(), values.end());
  EXPECT_EQ(merged.count(), values.size());
  EXPECT_EQ(merged.min(), values.front());
  EXPECT_EQ(merged.max(), values.back());
  EXPECT_LT(merged.num_retained(), 3 * KllSketch::kDefaultK + 100);
  const double bound = KllSketch::NormalizedRankError(KllSketch::kDefaultK);
  const RankErrors errors = MeasureRankErrors(merged, values);
  EXPECT_LE(errors.quantile, bound);
  EXPECT_LE(errors.cdf, bound);
}

TEST(KllSketchTest, MergeRejectsOtherKAndHandlesSelf) {
  KllSketch a(200), b(100);
  EXPECT_EQ(a.Merge(b).code(), StatusCode::kInvalidArgument);
  for (int i = 0; i < 1000; ++i) a.Add(i);
  ASSERT_TRUE(a.Merge(a).ok());
  EXPECT_EQ(a.count(), 2000u);
  EXPECT_NEAR(a.Cdf(499.5), 0.5, KllSketch::NormalizedRankError(200));
}

TEST(KllSketchTest, SameSeedSameSketch) {
  KllSketch a(200, 42), b(200, 42), c(200, 43);
  for (int i = 0; i < 100000; ++i) {
    const double v = (i * 7919) % 100003;
    a.Add(v);
    b.Add(v);
    c.Add(v);
  }
  EXPECT_EQ(a.ToJson(), b.ToJson());
  EXPECT_NE(a.ToJson(), c.ToJson());
}

TEST(KllSketchTest, JsonRoundTripContinuesIdentically) {
  KllSketch original(200, 5);
  for (int i = 0; i < 50000; ++i) original.Add(std::sin(i) * 1000);
  original.Add(kInf);
  const std::string text = original.ToJson().dump();
  auto restored = KllSketch::FromJson(nlohmann::json::parse(text));
  ASSERT_TRUE(restored.ok()) << restored.status().ToString();
  EXPECT_EQ(restored->ToJson(), original.ToJson());
  EXPECT_EQ(restored->max(), kInf);
  for (int i = 0; i < 50000; ++i) {
    original.Add(i);
    restored->Add(i);
  }
  EXPECT_EQ(restored->ToJson(), original.ToJson());
  EXPECT_LT(text.size(), 16000u);  // compact: a few hundred numbers
}

TEST(KllSketchTest, FromJsonRejectsInconsistentSketches) {
  KllSketch sketch;
  for (int i = 0; i < 1000; ++i) sketch.Add(i);
  nlohmann::json j = sketch.ToJson();
  j["n"] = 999;
  EXPECT_EQ(KllSketch::FromJson(j).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(KllSketch::FromJson(nlohmann::json{{"k", "x"}}).status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_FALSE(KllSketch::FromJson(nlohmann::json::array()).ok());
}

// Blocks: what the profile feeds. Same bound, one sort per block.
TEST(KllSketchTest, BlockAddsWithinBound) {
  std::mt19937_64 gen(11);
  std::uniform_real_distribution<double> dist(-5, 5);
  for (bool sorted_input : {false, true}) {
    std::vector<double> values(kMillion);
    for (double& v : values) v = dist(gen);
    if (sorted_input) std::sort(values.begin(), values.end());
    KllSketch sketch(KllSketch::kDefaultK, 3);
    for (size_t i = 0; i < values.size(); i += 1024) {
      sketch.AddBlock(
          std::span<const double>(values).subspan(i, std::min<size_t>(1024, values.size() - i)));
    }
    std::sort(values.begin(), values.end());
    EXPECT_EQ(sketch.count(), values.size());
    EXPECT_EQ(sketch.min(), values.front());
    EXPECT_EQ(sketch.max(), values.back());
    EXPECT_LT(sketch.num_retained(), 3 * KllSketch::kDefaultK + 1100);  // + one block
    const RankErrors errors = MeasureRankErrors(sketch, values);
    EXPECT_LE(errors.quantile, KllSketch::NormalizedRankError(KllSketch::kDefaultK));
    EXPECT_LE(errors.cdf, KllSketch::NormalizedRankError(KllSketch::kDefaultK));
    // The JSON form keeps the levels above 0 sorted, and restores to the same answers.
    const nlohmann::json j = sketch.ToJson();
    for (size_t h = 1; h < j["levels"].size(); ++h) {
      const auto level = j["levels"][h].get<std::vector<double>>();
      EXPECT_TRUE(std::is_sorted(level.begin(), level.end())) << h;
    }
    Result<KllSketch> back = KllSketch::FromJson(j);
    ASSERT_TRUE(back.ok());
    EXPECT_EQ(back->Quantile(0.5), sketch.Quantile(0.5));
  }
}

// Weighted values: held exactly (at the levels of the weight's bits) while they fit, within the
// bound after that.
TEST(KllSketchTest, WeightedAddsAreExactWhileTheyFitAndWithinBoundAfter) {
  KllSketch small;
  small.Add(3.0, 5);
  small.Add(1.0, 2);
  small.Add(2.0, 1);
  EXPECT_EQ(small.count(), 8u);
  EXPECT_EQ(small.Quantile(0.25), 1.0);  // ranks: 1 → 2/8, 2 → 3/8, 3 → 8/8
  EXPECT_EQ(small.Quantile(0.3), 2.0);
  EXPECT_EQ(small.Quantile(0.5), 3.0);
  EXPECT_EQ(small.Rank(3.0), 3.0 / 8);
  small.AddBlock(std::vector<double>{4.0, 5.0}, 4);  // a block of weight 4 each
  EXPECT_EQ(small.count(), 16u);
  EXPECT_EQ(small.Rank(5.0), 12.0 / 16);
  EXPECT_EQ(small.max(), 5.0);

  // 2000 distinct values with counts up to 10^5 (n ≈ 10^8): a sketch from exact counts.
  std::mt19937_64 gen(5);
  KllSketch big(KllSketch::kDefaultK, 9);
  std::vector<std::pair<double, uint64_t>> counts;
  uint64_t n = 0;
  for (int v = 0; v < 2000; ++v) {
    const uint64_t c = 1 + gen() % 100000;
    counts.emplace_back(v, c);
    n += c;
    big.Add(static_cast<double>(v), c);
  }
  EXPECT_EQ(big.count(), n);
  EXPECT_LT(big.num_retained(), 3 * KllSketch::kDefaultK + 100);
  uint64_t below = 0;
  double worst = 0;
  for (const auto& [v, c] : counts) {
    below += c;  // true Cdf(v)
    worst = std::max(worst, std::abs(big.Cdf(v) - static_cast<double>(below) / n));
  }
  EXPECT_LE(worst, KllSketch::NormalizedRankError(KllSketch::kDefaultK));
}

// ----- HyperLogLog ---------------------------------------------------------------------------

TEST(HyperLogLogTest, TinySetsAreCountedExactly) {
  HyperLogLog hll;
  EXPECT_EQ(hll.Estimate(), 0);
  for (int n = 1; n <= 30; ++n) {
    hll.Add("value-" + std::to_string(n));
    EXPECT_EQ(std::round(hll.Estimate()), n);
  }
  for (int n = 1; n <= 30; ++n) hll.Add("value-" + std::to_string(n));  // duplicates
  EXPECT_EQ(std::round(hll.Estimate()), 30);
}

TEST(HyperLogLogTest, WithinThreeStandardErrorsFromHundredToMillion) {
  HyperLogLog strings12(12), strings14(14), numbers12(12), numbers14(14), random14(14);
  std::mt19937_64 gen(11);
  std::normal_distribution<double> dist(0, 1e6);
  const std::vector<uint64_t> checkpoints = {100,   300,   1000,   3000,   10000,
                                             20000, 40000, 100000, 300000, 1000000};
  uint64_t added = 0;
  for (uint64_t target : checkpoints) {
    for (; added < target; ++added) {
      const std::string s = "customer-" + std::to_string(added);
      strings12.Add(s);
      strings14.Add(s);
      numbers12.Add(static_cast<double>(added));
      numbers14.Add(static_cast<double>(added));
      random14.Add(dist(gen));
    }
    for (const HyperLogLog* hll : {&strings12, &strings14, &numbers12, &numbers14, &random14}) {
      const double relative = hll->Estimate() / static_cast<double>(target) - 1;
      EXPECT_LE(std::abs(relative), 3 * hll->StandardError())
          << "n=" << target << " p=" << hll->precision();
    }
  }
  EXPECT_NEAR(strings12.StandardError(), 0.01625, 1e-5);
  EXPECT_NEAR(strings14.StandardError(), 0.008125, 1e-6);
}

TEST(HyperLogLogTest, SmallRangeAgreesWithLinearCounting) {
  HyperLogLog hll(12);
  const double m = 4096;
  int added = 0;
  for (int target : {100, 500, 1000, 2000, 3000}) {
    for (; added < target; ++added) hll.Add("k" + std::to_string(added));
    const auto registers = Base64Decode(hll.ToJson()["registers"].get<std::string>());
    ASSERT_TRUE(registers.has_value());
    const double empty = static_cast<double>(std::count(registers->begin(), registers->end(), 0));
    const double linear_counting = m * std::log(m / empty);
    EXPECT_NEAR(hll.Estimate(), linear_counting, 0.003 * target) << "n=" << target;
  }
  hll.Add(kNaN);  // missing, not a value
  EXPECT_NEAR(hll.Estimate(), 3000, 3 * hll.StandardError() * 3000);
}

TEST(HyperLogLogTest, MergeIsTheSketchOfTheUnion) {
  HyperLogLog a, b, both;
  for (int i = 0; i < 30000; ++i) {
    a.Add(static_cast<double>(i));
    both.Add(static_cast<double>(i));
  }
  for (int i = 20000; i < 60000; ++i) {
    b.Add(static_cast<double>(i));
    both.Add(static_cast<double>(i));
  }
  ASSERT_TRUE(a.Merge(b).ok());
  EXPECT_EQ(a.ToJson(), both.ToJson());
  EXPECT_NEAR(a.Estimate(), 60000, 3 * a.StandardError() * 60000);
  HyperLogLog other(14);
  EXPECT_EQ(a.Merge(other).code(), StatusCode::kInvalidArgument);
}

TEST(HyperLogLogTest, JsonRoundTrip) {
  HyperLogLog hll(10);
  for (int i = 0; i < 5000; ++i) hll.Add("v" + std::to_string(i));
  auto restored = HyperLogLog::FromJson(nlohmann::json::parse(hll.ToJson().dump()));
  ASSERT_TRUE(restored.ok()) << restored.status().ToString();
  EXPECT_EQ(restored->Estimate(), hll.Estimate());
  EXPECT_EQ(restored->ToJson(), hll.ToJson());
  nlohmann::json bad = hll.ToJson();
  bad["p"] = 11;  // registers no longer match
  EXPECT_EQ(HyperLogLog::FromJson(bad).status().code(), StatusCode::kInvalidArgument);
}

// ----- Reservoir -----------------------------------------------------------------------------

TEST(ReservoirTest, KeepsEverythingUpToCapacity) {
  NumericReservoir r(100, 1);
  for (int i = 0; i < 100; ++i) r.Add(i);
  r.Add(kNaN);  // missing: not a value
  ASSERT_EQ(r.items().size(), 100u);
  EXPECT_EQ(r.count(), 100u);
  for (int i = 0; i < 100; ++i) EXPECT_EQ(r.items()[i], i);
  r.Add(100);
  EXPECT_EQ(r.items().size(), 100u);
  EXPECT_EQ(r.count(), 101u);
}

// Inclusion counts of each of `n` stream positions over `runs` seeds.
template <typename Fill>
std::vector<int> InclusionCounts(int n, int runs, Fill fill) {
  std::vector<int> counts(n, 0);
  for (int seed = 0; seed < runs; ++seed) {
    const auto reservoir = fill(seed);
    for (double v : reservoir.items()) ++counts[static_cast<int>(v)];
  }
  return counts;
}

// Pearson's statistic against equal expected counts. Each cell is Binomial(runs, p) with p the
// inclusion probability; the statistic's mean is about cells · (1 − p), its spread about
// sqrt(2 · cells) · (1 − p).
double ChiSquared(const std::vector<int>& counts, size_t begin, size_t end, double expected) {
  double chi2 = 0;
  for (size_t i = begin; i < end; ++i) chi2 += std::pow(counts[i] - expected, 2) / expected;
  return chi2;
}

double MeanInclusion(const std::vector<int>& counts, size_t begin, size_t end, int runs) {
  double sum = 0;
  for (size_t i = begin; i < end; ++i) sum += counts[i];
  return sum / static_cast<double>((end - begin) * runs);
}

TEST(ReservoirTest, EveryValueEquallyLikely) {
  constexpr int kN = 1000, kRuns = 2000;
  const auto counts = InclusionCounts(kN, kRuns, [](int seed) {
    NumericReservoir r(100, seed);
    for (int i = 0; i < kN; ++i) r.Add(i);
    return r;
  });
  // p = 0.1: mean 900, spread ~40.
  const double chi2 = ChiSquared(counts, 0, kN, kRuns * 0.1);
  EXPECT_GT(chi2, 700);
  EXPECT_LT(chi2, 1100);
  EXPECT_NEAR(MeanInclusion(counts, 0, 100, kRuns), 0.1, 0.004);     // the first values
  EXPECT_NEAR(MeanInclusion(counts, 900, 1000, kRuns), 0.1, 0.004);  // the last values
}

TEST(ReservoirTest, LongStreamsStayUniform) {
  // Algorithm L skips most values: check that the skips land uniformly over a long stream.
  constexpr int kN = 1000000, kCapacity = 1000;
  std::vector<int> deciles(10, 0);
  for (int seed = 0; seed < 20; ++seed) {
    NumericReservoir r(kCapacity, seed);
    for (int i = 0; i < kN; ++i) r.Add(i);
    ASSERT_EQ(r.items().size(), static_cast<size_t>(kCapacity));
    for (double v : r.items()) ++deciles[static_cast<int>(v) / (kN / 10)];
  }
  // 9 degrees of freedom (slightly fewer effective): 30 is beyond p = 0.0005.
  EXPECT_LT(ChiSquared(deciles, 0, 10, 2000), 30);
}

TEST(ReservoirTest, MergedSampleIsUniformOverTheUnionAndStaysSoWhenExtended) {
  constexpr int kRuns = 2000;
  auto merged = [](int seed, bool extend) {
    NumericReservoir a(100, seed), b(100, seed + 100000);
    for (int i = 0; i < 300; ++i) a.Add(i);
    for (int i = 300; i < 1000; ++i) b.Add(i);
    EXPECT_TRUE(a.Merge(b).ok());
    EXPECT_EQ(a.count(), 1000u);
    EXPECT_EQ(a.items().size(), 100u);
    if (extend) {
      for (int i = 1000; i < 2000; ++i) a.Add(i);
    }
    return a;
  };
  const auto counts = InclusionCounts(1000, kRuns, [&](int seed) { return merged(seed, false); });
  const double chi2 = ChiSquared(counts, 0, 1000, kRuns * 0.1);
  EXPECT_GT(chi2, 700);
  EXPECT_LT(chi2, 1100);
  EXPECT_NEAR(MeanInclusion(counts, 0, 300, kRuns), 0.1, 0.003);
  EXPECT_NEAR(MeanInclusion(counts, 300, 1000, kRuns), 0.1, 0.003);

  const auto extended = InclusionCounts(2000, kRuns, [&](int seed) { return merged(seed, true); });
  EXPECT_NEAR(MeanInclusion(extended, 0, 300, kRuns), 0.05, 0.003);
  EXPECT_NEAR(MeanInclusion(extended, 300, 1000, kRuns), 0.05, 0.002);
  EXPECT_NEAR(MeanInclusion(extended, 1000, 2000, kRuns), 0.05, 0.002);
}

TEST(ReservoirTest, MergeOfSmallSamplesKeepsEverything) {
  StringReservoir a(10, 1), b(10, 2);
  for (std::string s : {"a", "b", "c"}) a.Add(s);
  for (std::string s : {"d", "e"}) b.Add(s);
  ASSERT_TRUE(a.Merge(b).ok());
  std::vector<std::string> items = a.items();
  std::sort(items.begin(), items.end());
  EXPECT_EQ(items, (std::vector<std::string>{"a", "b", "c", "d", "e"}));
  EXPECT_EQ(a.count(), 5u);
  StringReservoir other(11);
  EXPECT_EQ(a.Merge(other).code(), StatusCode::kInvalidArgument);
}

// Adding a block is adding its values one by one: same sample, same state.
TEST(ReservoirTest, BlockAddIsExactlyOneAtATime) {
  std::vector<double> numbers(50000);
  std::vector<std::string> strings(numbers.size());
  for (size_t i = 0; i < numbers.size(); ++i) {
    numbers[i] = static_cast<double>(i) * 0.5;
    strings[i] = "s" + std::to_string(i);
  }
  NumericReservoir one(1000, 4), blocks(1000, 4);
  StringReservoir one_s(1000, 4), blocks_s(1000, 4);
  for (size_t i = 0; i < numbers.size(); ++i) {
    one.Add(numbers[i]);
    one_s.Add(strings[i]);
  }
  std::mt19937_64 gen(3);
  for (size_t i = 0; i < numbers.size();) {
    const size_t n = std::min<size_t>(1 + gen() % 3000, numbers.size() - i);
    blocks.Add(std::span<const double>(numbers).subspan(i, n));
    std::vector<std::string_view> views(strings.begin() + i, strings.begin() + i + n);
    blocks_s.Add(std::span<const std::string_view>(views));
    i += n;
  }
  EXPECT_EQ(blocks.ToJson(), one.ToJson());
  EXPECT_EQ(blocks_s.ToJson(), one_s.ToJson());
  // NaN is not a value, in blocks too.
  NumericReservoir with_nan(10, 1);
  with_nan.Add(std::vector<double>{1, kNaN, 2});
  EXPECT_EQ(with_nan.count(), 2u);
}

TEST(ReservoirTest, JsonRoundTripContinuesIdentically) {
  StringReservoir original(50, 9);
  for (int i = 0; i < 10000; ++i) original.Add("row-" + std::to_string(i));
  auto restored = StringReservoir::FromJson(nlohmann::json::parse(original.ToJson().dump()));
  ASSERT_TRUE(restored.ok()) << restored.status().ToString();
  EXPECT_EQ(restored->items(), original.items());
  for (int i = 10000; i < 20000; ++i) {
    original.Add("row-" + std::to_string(i));
    restored->Add("row-" + std::to_string(i));
  }
  EXPECT_EQ(restored->ToJson(), original.ToJson());

  NumericReservoir numbers(3, 1);
  for (double v : {1.5, -kInf, 2.5}) numbers.Add(v);
  auto numbers_back = NumericReservoir::FromJson(nlohmann::json::parse(numbers.ToJson().dump()));
  ASSERT_TRUE(numbers_back.ok());
  EXPECT_EQ(numbers_back->items(), numbers.items());
}

TEST(ReservoirTest, NonUtf8ValuesRoundTripByteForByte) {
  StringReservoir r(5);
  r.Add("caf\xe9");  // Latin-1
  r.Add("\xff");
  r.Add("\xfe");
  r.Add("caf\xc3\xa9");
  const nlohmann::json j = r.ToJson();
  EXPECT_EQ(j["items"][3], "caf\xc3\xa9");  // valid UTF-8 stays a readable string
  EXPECT_EQ(j["items"][1], (nlohmann::json{{"b64", "/w=="}}));
  const std::string text = j.dump();  // would throw on invalid UTF-8
  auto back = StringReservoir::FromJson(nlohmann::json::parse(text));
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(back->items(), r.items());
  EXPECT_EQ(back->ToJson(), j);

  nlohmann::json bad = j;
  bad["items"][0] = {{"b64", "!!"}};
  EXPECT_FALSE(StringReservoir::FromJson(bad).ok());
}

// ----- Moments -------------------------------------------------------------------------------

std::vector<double> OffsetNoise(size_t n, uint64_t seed) {
  // A large offset with small spread: naive Σx² − n·mean² would lose every digit here.
  std::mt19937_64 gen(seed);
  std::normal_distribution<double> dist(1e9, 0.5);
  std::vector<double> values(n);
  for (double& v : values) v = dist(gen);
  return values;
}

TEST(MomentsTest, MatchesTwoPassComputation) {
  const auto values = OffsetNoise(200000, 1);
  Moments m;
  for (double v : values) m.Add(v);
  long double sum = 0;
  for (double v : values) sum += v;
  const long double mean = sum / values.size();
  long double squares = 0;
  for (double v : values) squares += (v - mean) * (v - mean);
  EXPECT_EQ(m.count(), values.size());
  // Rounding of the running mean: a few ulps of 1e9 (1e-14 relative); the variance keeps ~7
  // digits where the naive formula would keep none.
  const double variance = static_cast<double>(squares / values.size());
  EXPECT_NEAR(m.mean(), static_cast<double>(mean), 1e-5);
  EXPECT_NEAR(m.PopulationVariance(), variance, 1e-6 * variance);
  EXPECT_NEAR(m.SampleVariance(), static_cast<double>(squares / (values.size() - 1)),
              1e-6 * variance);
  EXPECT_NEAR(m.SampleStddev(), 0.5, 0.01);
  EXPECT_EQ(m.min(), *std::min_element(values.begin(), values.end()));
  EXPECT_EQ(m.max(), *std::max_element(values.begin(), values.end()));
}

TEST(MomentsTest, MergeEqualsOnePass) {
  const auto values = OffsetNoise(100000, 2);
  Moments whole, merged;
  for (double v : values) whole.Add(v);
  size_t begin = 0;
  for (size_t size : {1, 17, 5000, 0, 30000, 64982}) {
    Moments part;
    for (size_t i = begin; i < begin + size; ++i) part.Add(values[i]);
    part.AddMissing(2);
    merged.Merge(part);
    begin += size;
  }
  ASSERT_EQ(begin, values.size());
  EXPECT_EQ(merged.count(), whole.count());
  EXPECT_EQ(merged.missing(), 12u);
  EXPECT_EQ(merged.min(), whole.min());
  EXPECT_EQ(merged.max(), whole.max());
  EXPECT_NEAR(merged.mean(), whole.mean(), 1e-5);
  EXPECT_NEAR(merged.PopulationVariance(), whole.PopulationVariance(),
              1e-6 * whole.PopulationVariance());
}

TEST(MomentsTest, BlockAddEqualsOneAtATimeUpToRounding) {
  std::mt19937_64 gen(8);
  std::normal_distribution<double> dist(1e6, 3);  // a large mean: where naive sums fail
  std::vector<double> values(100003);
  for (double& v : values) v = dist(gen);
  Moments one, blocks;
  for (double v : values) one.Add(v);
  for (size_t i = 0; i < values.size(); i += 4096) {
    blocks.Add(
        std::span<const double>(values).subspan(i, std::min<size_t>(4096, values.size() - i)));
  }
  EXPECT_EQ(blocks.count(), one.count());
  EXPECT_EQ(blocks.min(), one.min());
  EXPECT_EQ(blocks.max(), one.max());
  EXPECT_NEAR(blocks.mean(), one.mean(), 1e-12 * std::abs(one.mean()));
  EXPECT_NEAR(blocks.SampleVariance(), one.SampleVariance(), 1e-9 * one.SampleVariance());
  // A block with missing values counts them, as Add does.
  Moments with_nan;
  with_nan.Add(std::vector<double>{1, kNaN, 3, 5, 7});
  EXPECT_EQ(with_nan.count(), 4u);
  EXPECT_EQ(with_nan.missing(), 1u);
  EXPECT_EQ(with_nan.mean(), 4);
}

TEST(MomentsTest, MissingAndEmpty) {
  Moments m;
  EXPECT_TRUE(std::isnan(m.mean()));
  EXPECT_TRUE(std::isnan(m.min()));
  m.Add(kNaN);
  m.AddMissing();
  EXPECT_EQ(m.missing(), 2u);
  EXPECT_EQ(m.count(), 0u);
  m.Add(4);
  EXPECT_EQ(m.mean(), 4);
  EXPECT_EQ(m.PopulationVariance(), 0);
  EXPECT_TRUE(std::isnan(m.SampleVariance()));
}

TEST(MomentsTest, JsonRoundTripIsExact) {
  Moments m;
  for (double v : OffsetNoise(1000, 3)) m.Add(v);
  m.AddMissing(7);
  auto back = Moments::FromJson(nlohmann::json::parse(m.ToJson().dump()));
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(back->count(), m.count());
  EXPECT_EQ(back->missing(), 7u);
  EXPECT_EQ(back->mean(), m.mean());
  EXPECT_EQ(back->SampleVariance(), m.SampleVariance());
  EXPECT_EQ(back->min(), m.min());
  auto empty = Moments::FromJson(Moments().ToJson());
  ASSERT_TRUE(empty.ok());
  EXPECT_EQ(empty->count(), 0u);
}

// ----- Histogram -----------------------------------------------------------------------------

TEST(HistogramTest, CountsIntoHalfOpenBinsWithAClosedLastBin) {
  const std::vector<double> values = {-1, 0, 0.5, 1, 1.5, 2, 3, 3.5, kNaN};
  auto h = Histogram::Count({0, 1, 2, 3}, values);
  ASSERT_TRUE(h.ok());
  EXPECT_EQ(h->counts(), (std::vector<uint64_t>{2, 2, 2}));
  EXPECT_EQ(h->underflow(), 1u);
  EXPECT_EQ(h->overflow(), 1u);
  EXPECT_EQ(h->total(), 8u);
}

TEST(HistogramTest, EqualWidthEdges) {
  EXPECT_EQ(EqualWidthEdges(0, 10, 5), (std::vector<double>{0, 2, 4, 6, 8, 10}));
  EXPECT_EQ(EqualWidthEdges(0.1, 0.7, 3).back(), 0.7);
  const auto huge = EqualWidthEdges(-1e308, 1e308, 4);  // max − min overflows
  EXPECT_EQ(huge, (std::vector<double>{-1e308, -5e307, 0, 5e307, 1e308}));
  EXPECT_TRUE(EqualWidthEdges(0, kInf, 4).empty());
  const auto single = EqualWidthEdges(5, 5, 20);
  EXPECT_EQ(single, (std::vector<double>{5, 5}));
  auto h = Histogram::Count(single, std::vector<double>{5, 5, 6});
  ASSERT_TRUE(h.ok());
  EXPECT_EQ(h->counts(), (std::vector<uint64_t>{2}));
  EXPECT_EQ(h->overflow(), 1u);
}

TEST(HistogramTest, QuantileEdgesGiveNearlyEqualBins) {
  std::mt19937_64 gen(4);
  std::normal_distribution<double> dist(0, 1);
  std::vector<double> values(200000);
  for (double& v : values) v = dist(gen);
  KllSketch sketch;
  for (double v : values) sketch.Add(v);
  const auto edges = QuantileEdges(sketch, 10);
  ASSERT_EQ(edges.size(), 11u);
  EXPECT_EQ(edges.front(), sketch.min());
  EXPECT_EQ(edges.back(), sketch.max());
  auto h = Histogram::Count(edges, values);
  ASSERT_TRUE(h.ok());
  const double bar_error = KllSketch::NormalizedRankError(200, /*double_sided=*/true);
  for (uint64_t c : h->counts()) EXPECT_NEAR(c / 200000.0, 0.1, bar_error);
  EXPECT_EQ(h->total(), 200000u);
  EXPECT_EQ(h->underflow() + h->overflow(), 0u);
}

TEST(HistogramTest, QuantileEdgesCollapseOnFewDistinctValues) {
  KllSketch sketch;
  for (int i = 0; i < 1000; ++i) sketch.Add(i % 3);
  EXPECT_EQ(QuantileEdges(sketch, 10), (std::vector<double>{0, 1, 2}));
  KllSketch constant;
  constant.Add(7);
  EXPECT_EQ(QuantileEdges(constant, 10), (std::vector<double>{7, 7}));
  EXPECT_TRUE(QuantileEdges(KllSketch(), 10).empty());
  KllSketch with_infinity;
  for (double v : {1.0, 2.0, 3.0, kInf}) with_infinity.Add(v);
  EXPECT_EQ(QuantileEdges(with_infinity, 4), (std::vector<double>{1, 2, 3}));
}

TEST(HistogramTest, RejectsBadEdgesMergesAndRoundTrips) {
  EXPECT_FALSE(Histogram::WithEdges({1}).ok());
  EXPECT_FALSE(Histogram::WithEdges({2, 1}).ok());
  EXPECT_FALSE(Histogram::WithEdges({0, kInf}).ok());
  auto a = Histogram::Count({0, 1, 2}, std::vector<double>{0.5, 1.5});
  auto b = Histogram::Count({0, 1, 2}, std::vector<double>{1.5, 9});
  auto c = Histogram::WithEdges({0, 1, 3});
  ASSERT_TRUE(a.ok() && b.ok() && c.ok());
  ASSERT_TRUE(a->Merge(*b).ok());
  EXPECT_EQ(a->counts(), (std::vector<uint64_t>{1, 2}));
  EXPECT_EQ(a->overflow(), 1u);
  EXPECT_EQ(a->Merge(*c).code(), StatusCode::kInvalidArgument);
  auto back = Histogram::FromJson(nlohmann::json::parse(a->ToJson().dump()));
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(back->ToJson(), a->ToJson());
}

// ----- FrequentValues ------------------------------------------------------------------------

TEST(FrequentValuesTest, ExactWhenFewDistinctValues) {
  FrequentValues fv(64);
  for (int i = 0; i < 1000; ++i) fv.Add(i % 10 < 6 ? "yes" : (i % 10 < 9 ? "no" : "maybe"));
  EXPECT_TRUE(fv.exact());
  EXPECT_EQ(fv.total(), 1000u);
  const std::vector<FrequentValues::Entry> expected = {
      {"yes", 600, 0}, {"no", 300, 0}, {"maybe", 100, 0}};
  EXPECT_EQ(fv.All(), expected);
  EXPECT_EQ(fv.Top(1), std::vector<FrequentValues::Entry>{expected[0]});
}

// A Zipf-like stream over `distinct` values, with its true counts.
std::vector<int> ZipfStream(size_t n, int distinct, uint64_t seed, std::vector<uint64_t>& truth) {
  std::vector<double> weights(distinct);
  for (int i = 0; i < distinct; ++i) weights[i] = 1 / std::pow(i + 1, 1.1);
  std::mt19937_64 gen(seed);
  std::discrete_distribution<int> dist(weights.begin(), weights.end());
  std::vector<int> stream(n);
  truth.assign(distinct, 0);
  for (int& v : stream) ++truth[v = dist(gen)];
  return stream;
}

// The SpaceSaving guarantees for a summary of values 0..truth.size()-1 ("v<i>").
void ExpectGuarantees(const FrequentValues& fv, const std::vector<uint64_t>& truth) {
  const uint64_t n = std::accumulate(truth.begin(), truth.end(), uint64_t{0});
  ASSERT_EQ(fv.total(), n);
  const double max_error = static_cast<double>(n) / static_cast<double>(fv.capacity());
  std::vector<bool> tracked(truth.size(), false);
  for (const auto& e : fv.All()) {
    const int i = std::stoi(e.value.substr(1));
    tracked[i] = true;
    EXPECT_LE(truth[i], e.count) << e.value;
    EXPECT_GE(truth[i], e.count - e.error) << e.value;
    EXPECT_LE(static_cast<double>(e.error), max_error) << e.value;
  }
  for (size_t i = 0; i < truth.size(); ++i) {
    if (static_cast<double>(truth[i]) > max_error) {
      EXPECT_TRUE(tracked[i]) << "v" << i;
    }
  }
}

TEST(FrequentValuesTest, SpaceSavingGuaranteesOnASkewedStream) {
  std::vector<uint64_t> truth;
  const auto stream = ZipfStream(200000, 5000, 1, truth);
  FrequentValues fv(64);
  for (int v : stream) fv.Add("v" + std::to_string(v));
  EXPECT_FALSE(fv.exact());
  EXPECT_EQ(fv.size(), 64u);
  ExpectGuarantees(fv, truth);
  EXPECT_EQ(fv.Top(3)[0].value, "v0");  // the most frequent value leads
}

TEST(FrequentValuesTest, MergedSummariesKeepTheGuarantees) {
  std::vector<uint64_t> truth_a, truth_b, truth(3000, 0);
  const auto a_stream = ZipfStream(100000, 3000, 2, truth_a);
  auto b_stream = ZipfStream(60000, 3000, 3, truth_b);
  for (int& v : b_stream) v = 2999 - v;  // b's frequent values are a's rare ones
  FrequentValues a(64), b(64);
  for (int v : a_stream) {
    a.Add("v" + std::to_string(v));
    ++truth[v];
  }
  for (int v : b_stream) {
    b.Add("v" + std::to_string(v));
    ++truth[v];
  }
  ASSERT_TRUE(a.Merge(b).ok());
  ExpectGuarantees(a, truth);

  FrequentValues small_a(8), small_b(8);
  small_a.Add("x", 5);
  small_b.Add("x", 2);
  small_b.Add("y");
  ASSERT_TRUE(small_a.Merge(small_b).ok());
  EXPECT_TRUE(small_a.exact());
  EXPECT_EQ(small_a.All(), (std::vector<FrequentValues::Entry>{{"x", 7, 0}, {"y", 1, 0}}));
  EXPECT_EQ(small_a.Merge(FrequentValues(9)).code(), StatusCode::kInvalidArgument);
}

TEST(FrequentValuesTest, JsonRoundTripContinuesIdentically) {
  std::vector<uint64_t> truth;
  const auto stream = ZipfStream(20000, 500, 4, truth);
  FrequentValues original(16);
  for (size_t i = 0; i < 10000; ++i) original.Add("v" + std::to_string(stream[i]));
  auto restored = FrequentValues::FromJson(nlohmann::json::parse(original.ToJson().dump()));
  ASSERT_TRUE(restored.ok()) << restored.status().ToString();
  EXPECT_EQ(restored->All(), original.All());
  for (size_t i = 10000; i < stream.size(); ++i) {
    original.Add("v" + std::to_string(stream[i]));
    restored->Add("v" + std::to_string(stream[i]));
  }
  EXPECT_EQ(restored->ToJson(), original.ToJson());
  ExpectGuarantees(original, truth);
}

TEST(FrequentValuesTest, NonUtf8ValuesRoundTripByteForByte) {
  FrequentValues fv(4);
  fv.Add("\xff", 3);
  fv.Add("\xfe", 2);
  fv.Add("caf\xc3\xa9");
  const nlohmann::json j = fv.ToJson();
  EXPECT_EQ(j["items"][2][0], "caf\xc3\xa9");  // valid UTF-8 stays a readable string
  auto back = FrequentValues::FromJson(nlohmann::json::parse(j.dump()));
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  const std::vector<FrequentValues::Entry> expected = {
      {"\xff", 3, 0}, {"\xfe", 2, 0}, {"caf\xc3\xa9", 1, 0}};
  EXPECT_EQ(back->All(), expected);
  EXPECT_EQ(back->ToJson(), j);
}

TEST(FrequentValuesTest, FromExactCountsKeepsTheLargestWithoutError) {
  const FrequentValues few = FrequentValues::FromExactCounts({{"b", 2, 0}, {"a", 5, 0}}, 4);
  EXPECT_TRUE(few.exact());
  EXPECT_EQ(few.total(), 7u);
  EXPECT_EQ(few.All(), (std::vector<FrequentValues::Entry>{{"a", 5, 0}, {"b", 2, 0}}));

  std::vector<FrequentValues::Entry> counts;
  uint64_t total = 0;
  for (int i = 0; i < 100; ++i) {
    counts.push_back({"v" + std::to_string(i), static_cast<uint64_t>(100 + i), 0});
    total += 100 + i;
  }
  FrequentValues many = FrequentValues::FromExactCounts(counts, 8);
  EXPECT_FALSE(many.exact());
  EXPECT_EQ(many.total(), total);
  ASSERT_EQ(many.size(), 8u);
  EXPECT_EQ(many.Top(1)[0], (FrequentValues::Entry{"v99", 199, 0}));
  EXPECT_EQ(many.All().back(), (FrequentValues::Entry{"v92", 192, 0}));
  // SpaceSaving goes on from it: a new value takes the smallest counter, with its bound.
  many.Add("new");
  EXPECT_EQ(many.All().back().value, "v93");
  const auto top = many.Top(8);
  const auto it =
      std::find_if(top.begin(), top.end(), [](const auto& e) { return e.value == "new"; });
  ASSERT_NE(it, top.end());
  EXPECT_EQ(it->count, 193u);
  EXPECT_EQ(it->error, 192u);
}

// The eviction rule the heap implements, by brute force: the counter Top lists last.
TEST(FrequentValuesTest, EvictsExactlyLikeALinearScan) {
  std::mt19937_64 gen(7);
  for (size_t capacity : {1, 2, 3, 8, 64}) {
    FrequentValues fv(capacity);
    std::vector<FrequentValues::Entry> model;
    for (int i = 0; i < 20000; ++i) {
      const std::string value = "v" + std::to_string(gen() % 200);
      const uint64_t weight = gen() % 3 + 1;
      fv.Add(value, weight);
      auto it =
          std::find_if(model.begin(), model.end(), [&](const auto& e) { return e.value == value; });
      if (it != model.end()) {
        it->count += weight;
      } else if (model.size() < capacity) {
        model.push_back({value, weight, 0});
      } else {
        auto victim =
            std::min_element(model.begin(), model.end(), [](const auto& a, const auto& b) {
              return a.count != b.count ? a.count < b.count : a.value > b.value;
            });
        *victim = {value, victim->count + weight, victim->count};
      }
      if (i == 10000) {  // a round trip through JSON continues identically
        auto back = FrequentValues::FromJson(fv.ToJson());
        ASSERT_TRUE(back.ok());
        fv = *std::move(back);
      }
    }
    std::sort(model.begin(), model.end(), [](const auto& a, const auto& b) {
      return a.count != b.count ? a.count > b.count : a.value < b.value;
    });
    EXPECT_EQ(fv.All(), model) << capacity;
  }
}

}  // namespace
}  // namespace cairn::data
