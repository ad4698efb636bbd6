#include "monitoring/drift.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <limits>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "data/profile.h"

namespace cairn::monitoring {
namespace {

using nlohmann::json;

constexpr double kInf = std::numeric_limits<double>::infinity();
const char* const kFixture = CAIRN_SOURCE_DIR "/src/monitoring/testdata/drift_reference.json";
const char* const kScript = CAIRN_SOURCE_DIR "/src/monitoring/testdata/drift_reference.py";

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

// The SciPy values (see testdata/drift_reference.py).
const json& Fixture() {
  static const json fixture = [] {
    std::string text = ReadFile(kFixture);
    EXPECT_FALSE(text.empty()) << kFixture;
    return json::parse(text);
  }();
  return fixture;
}

double Num(const json& j) {
  if (j.is_string()) {
    if (j == "inf") return kInf;
    if (j == "-inf") return -kInf;
    return std::numeric_limits<double>::quiet_NaN();
  }
  return j.get<double>();
}

std::vector<double> Sample(const std::string& name) {
  return Fixture().at("samples").at(name).get<std::vector<double>>();
}

std::vector<std::string> CategoricalSample(const std::string& name) {
  return Fixture().at("categorical_samples").at(name).get<std::vector<std::string>>();
}

void ExpectRelative(double expected, double actual, double rel, const std::string& what) {
  if (std::isinf(expected)) {
    EXPECT_EQ(actual, expected) << what;
    return;
  }
  EXPECT_NEAR(actual, expected, rel * std::max(std::abs(expected), 1e-300)) << what;
}

// A profile of one column from CSV text, as the dataset service stores it.
data::ColumnProfile ProfileOf(const std::vector<std::string>& values) {
  std::string csv = "x\n";
  for (const auto& v : values) csv += v + "\n";
  Result<data::DatasetProfile> profile = data::ProfileCsv(csv);
  EXPECT_TRUE(profile.ok());
  return profile.value().columns.at(0);
}

data::ColumnProfile NumericProfile(const std::vector<double>& values) {
  std::vector<std::string> text;
  for (double v : values) text.push_back(FormatCategory(v));
  data::ColumnProfile p = ProfileOf(text);
  EXPECT_TRUE(p.numeric());
  return p;
}

// ---------------------------------------------------------------------------------------------
// Raw statistics against SciPy.

TEST(DriftStatsTest, KolmogorovSmirnovMatchesScipy) {
  const json& cases = Fixture().at("ks");
  ASSERT_GE(cases.size(), 15u);
  for (const auto& c : cases) {
    const std::string what = c.at("a").get<std::string>() + " vs " + c.at("b").get<std::string>();
    std::vector<double> a = Sample(c.at("a")), b = Sample(c.at("b"));
    TestResult r = KsTwoSample(a, b);
    EXPECT_NEAR(r.statistic, Num(c.at("statistic")), 1e-12) << what;
    EXPECT_NEAR(r.p_value, Num(c.at("p_value")), 1e-6) << what;
    // Two-sided: the order of the samples does not matter.
    TestResult swapped = KsTwoSample(b, a);
    EXPECT_NEAR(swapped.p_value, r.p_value, 1e-12) << what;
  }
}

TEST(DriftStatsTest, KolmogorovSmirnovIdenticalAndEmpty) {
  std::vector<double> a = Sample("n50");
  TestResult same = KsTwoSample(a, a);
  EXPECT_EQ(same.statistic, 0.0);
  EXPECT_EQ(same.p_value, 1.0);
  TestResult empty = KsTwoSample(a, {});
  EXPECT_TRUE(std::isnan(empty.statistic));
  EXPECT_TRUE(std::isnan(empty.p_value));
  // NaN is missing: it is dropped, not compared.
  std::vector<double> with_nan = a;
  with_nan.push_back(std::numeric_limits<double>::quiet_NaN());
  EXPECT_EQ(KsTwoSample(with_nan, a).p_value, 1.0);
}

TEST(DriftStatsTest, WassersteinMatchesScipy) {
  for (const auto& c : Fixture().at("wasserstein")) {
    const std::string what = c.at("a").get<std::string>() + " vs " + c.at("b").get<std::string>();
    std::vector<double> a = Sample(c.at("a")), b = Sample(c.at("b"));
    ExpectRelative(Num(c.at("distance")), WassersteinDistance(a, b), 1e-9, what);
    ExpectRelative(Num(c.at("normalized")), NormalizedWasserstein(a, b), 1e-9, what);
  }
  EXPECT_TRUE(std::isnan(WassersteinDistance({}, std::vector<double>{1.0})));
}

TEST(DriftStatsTest, ChiSquaredMatchesScipy) {
  for (const auto& c : Fixture().at("chi2")) {
    std::vector<double> observed = c.at("observed").get<std::vector<double>>();
    std::vector<double> expected = c.at("expected").get<std::vector<double>>();
    ChiSquaredResult r = ChiSquaredTest(observed, expected);
    const std::string what = c.at("observed").dump();
    ExpectRelative(Num(c.at("statistic")), r.statistic, 1e-12, what);
    ExpectRelative(Num(c.at("p_value")), r.p_value, 1e-9, what);
    EXPECT_EQ(r.dof, c.at("dof").get<int>()) << what;
  }
}

TEST(DriftStatsTest, NewCategoryIsInfiniteChiSquared) {
  const std::vector<double> observed = {3, 7, 5}, expected = {7.5, 7.5, 0};
  ChiSquaredResult r = ChiSquaredTest(observed, expected);
  EXPECT_EQ(r.statistic, kInf);
  EXPECT_EQ(r.p_value, 0.0);
}

TEST(DriftStatsTest, UpperIncompleteGammaMatchesScipy) {
  for (const auto& c : Fixture().at("gammaincc")) {
    const double a = c.at("a").get<double>(), x = c.at("x").get<double>();
    ExpectRelative(Num(c.at("q")), RegularizedUpperGamma(a, x), 1e-9,
                   "Q(" + std::to_string(a) + ", " + std::to_string(x) + ")");
  }
}

TEST(DriftStatsTest, JensenShannonMatchesScipy) {
  for (const auto& c : Fixture().at("jensen_shannon")) {
    std::vector<double> p = c.at("p").get<std::vector<double>>();
    std::vector<double> q = c.at("q").get<std::vector<double>>();
    EXPECT_NEAR(JensenShannonDistance(p, q), Num(c.at("distance")), 1e-12) << c.dump();
  }
  // Disjoint distributions are as far apart as it gets: sqrt(ln 2).
  const std::vector<double> p = {1, 0}, q = {0, 1};
  EXPECT_NEAR(JensenShannonDistance(p, q), std::sqrt(std::log(2.0)), 1e-15);
  const std::vector<double> three = {1, 1, 1};
  EXPECT_TRUE(std::isnan(JensenShannonDistance(p, three)));
}

TEST(DriftStatsTest, TwoProportionZTestMatchesEvidently) {
  for (const auto& c : Fixture().at("z")) {
    TestResult r = TwoProportionZTest(c.at("ref_successes"), c.at("ref_n"), c.at("cur_successes"),
                                      c.at("cur_n"));
    EXPECT_NEAR(r.statistic, Num(c.at("statistic")), 1e-9) << c.dump();
    EXPECT_NEAR(r.p_value, Num(c.at("p_value")), 1e-9) << c.dump();
  }
  // No variance (all successes on both sides): the same proportion, p 1.
  EXPECT_EQ(TwoProportionZTest(10, 10, 30, 30).p_value, 1.0);
}

TEST(DriftStatsTest, PopulationStabilityIndexClosedForm) {
  for (const auto& c : Fixture().at("psi")) {
    std::vector<double> ref = c.at("ref").get<std::vector<double>>();
    std::vector<double> cur = c.at("cur").get<std::vector<double>>();
    EXPECT_NEAR(PopulationStabilityIndex(ref, cur), Num(c.at("psi")), 1e-12) << c.dump();
  }
  // (0.6 − 0.5) ln(0.6/0.5) + (0.4 − 0.5) ln(0.4/0.5), by hand.
  const std::vector<double> p = {0.5, 0.5}, q = {0.6, 0.4};
  EXPECT_NEAR(PopulationStabilityIndex(p, q), 0.1 * std::log(1.2) - 0.1 * std::log(0.8), 1e-15);
  EXPECT_EQ(PsiLevel(0.05), "stable");
  EXPECT_EQ(PsiLevel(0.1), "moderate");
  EXPECT_EQ(PsiLevel(0.19), "moderate");
  EXPECT_EQ(PsiLevel(0.2), "significant");
}

TEST(DriftStatsTest, FormatCategorySpellsNumbersAsCsvDoes) {
  EXPECT_EQ(FormatCategory(1.0), "1");
  EXPECT_EQ(FormatCategory(-0.0), "0");
  EXPECT_EQ(FormatCategory(2.5), "2.5");
  EXPECT_EQ(FormatCategory(0.1), "0.1");
}

// ---------------------------------------------------------------------------------------------
// Evidently's tests on raw samples, through the column comparisons.

data::ColumnProfile StringProfile(const std::vector<std::string>& values) {
  data::ColumnProfile p = ProfileOf(values);
  EXPECT_EQ(p.type, data::ColumnType::kString);
  return p;
}

TEST(DriftDecisionTest, ChiSquaredOnCategoriesMatchesEvidently) {
  for (const auto& c : Fixture().at("evidently").at("chi2")) {
    data::ColumnProfile ref = StringProfile(CategoricalSample(c.at("ref")));
    std::vector<std::string> cur = CategoricalSample(c.at("cur"));
    ColumnDrift d = CompareCategorical("color", ref, cur, {});
    EXPECT_EQ(d.test, "chi2");
    EXPECT_EQ(d.kind, "categorical");
    ExpectRelative(Num(c.at("statistic")), d.statistic, 1e-12, c.dump());
    ExpectRelative(Num(c.at("p_value")), d.p_value, 1e-9, c.dump());
    EXPECT_EQ(d.score, d.p_value);
    EXPECT_EQ(d.drifted, d.p_value < 0.05);
    EXPECT_TRUE(d.counted);
  }
}

TEST(DriftDecisionTest, JensenShannonOnCategoriesMatchesEvidently) {
  for (const auto& c : Fixture().at("evidently").at("js_categorical")) {
    data::ColumnProfile ref = StringProfile(CategoricalSample(c.at("ref")));
    std::vector<std::string> cur = CategoricalSample(c.at("cur"));
    ColumnDrift d = CompareCategorical("color", ref, cur, {});
    EXPECT_EQ(d.test, "jensen_shannon");  // 3000 reference values > 1000
    EXPECT_EQ(d.reference_count, 3000);
    EXPECT_NEAR(d.score, Num(c.at("distance")), 1e-12) << c.dump();
    EXPECT_TRUE(std::isnan(d.p_value));
    EXPECT_EQ(d.drifted, d.score >= 0.1);
  }
}

TEST(DriftDecisionTest, JensenShannonOnBinnedNumbersMatchesEvidently) {
  for (const auto& c : Fixture().at("evidently").at("js_numeric")) {
    std::vector<double> ref = Sample(c.at("ref")), cur = Sample(c.at("cur"));
    DriftThresholds t;
    t.js_numeric_bins = c.at("bins");
    ColumnDrift d = CompareSamples("prediction", ref, cur, t);
    EXPECT_EQ(d.test, "jensen_shannon");
    EXPECT_EQ(d.kind, "numeric");
    EXPECT_NEAR(d.score, Num(c.at("distance")), 1e-12) << c.dump();
  }
}

// ---------------------------------------------------------------------------------------------
// Which test decides, and how.

TEST(DriftDecisionTest, NumericTestChosenByReferenceSize) {
  std::vector<double> small = Sample("n1000");  // exactly 1000: still KS
  ColumnDrift ks = CompareNumeric("x", NumericProfile(small), Sample("n700"), {});
  EXPECT_EQ(ks.test, "ks");
  EXPECT_EQ(ks.kind, "numeric");
  EXPECT_EQ(ks.reference_count, 1000);
  EXPECT_EQ(ks.current_count, 700);
  EXPECT_NEAR(ks.p_value, KsTwoSample(small, Sample("n700")).p_value, 1e-15);
  EXPECT_EQ(ks.score, ks.p_value);
  EXPECT_EQ(ks.threshold, 0.05);
  EXPECT_EQ(ks.drifted, ks.p_value < 0.05);
  EXPECT_TRUE(ks.counted);

  std::vector<double> large = Sample("exp2000");
  ColumnDrift w = CompareNumeric("x", NumericProfile(large), Sample("exp1500"), {});
  EXPECT_EQ(w.test, "wasserstein");
  EXPECT_TRUE(std::isnan(w.p_value));
  EXPECT_NEAR(w.statistic, WassersteinDistance(large, Sample("exp1500")), 1e-12);
  EXPECT_NEAR(w.score, NormalizedWasserstein(large, Sample("exp1500")), 1e-12);
  EXPECT_EQ(w.threshold, 0.1);
  EXPECT_EQ(w.drifted, w.score >= 0.1);

  DriftThresholds more;
  more.max_reference_for_tests = 5000;
  EXPECT_EQ(CompareNumeric("x", NumericProfile(large), Sample("exp1500"), more).test, "ks");
}

TEST(DriftDecisionTest, ThresholdsDecide) {
  std::vector<double> ref = Sample("n1000"), cur = Sample("n700");
  data::ColumnProfile profile = NumericProfile(ref);
  const double p = KsTwoSample(ref, cur).p_value;  // ≈ 0.011
  DriftThresholds strict;
  strict.p_value = p / 2;
  EXPECT_FALSE(CompareNumeric("x", profile, cur, strict).drifted);
  DriftThresholds loose;
  loose.p_value = std::min(0.5, p * 2);
  EXPECT_TRUE(CompareNumeric("x", profile, cur, loose).drifted);

  std::vector<double> big = Sample("exp2000");
  data::ColumnProfile big_profile = NumericProfile(big);
  const double score = NormalizedWasserstein(big, Sample("exp1500"));
  DriftThresholds at;
  at.wasserstein = score;  // ≥: drifted at exactly the threshold
  EXPECT_TRUE(CompareNumeric("x", big_profile, Sample("exp1500"), at).drifted);
  at.wasserstein = score * 1.01;
  EXPECT_FALSE(CompareNumeric("x", big_profile, Sample("exp1500"), at).drifted);
}

TEST(DriftDecisionTest, FewDistinctNumbersAreCategorical) {
  // Three distinct values: chi-squared on them as categories.
  std::vector<double> ref, cur;
  for (int i = 0; i < 300; ++i) ref.push_back(i % 3);
  for (int i = 0; i < 200; ++i) cur.push_back(i % 4 == 0 ? 2 : i % 2);
  ColumnDrift d = CompareNumeric("rooms", NumericProfile(ref), cur, {});
  EXPECT_EQ(d.kind, "categorical");
  EXPECT_EQ(d.test, "chi2");
  // By hand: expected 200/3 each of "0", "1", "2"; observed 50, 100, 50.
  const double e = 200.0 / 3;
  const std::vector<double> observed = {50, 100, 50}, expected = {e, e, e};
  EXPECT_NEAR(d.statistic, ChiSquaredTest(observed, expected).statistic, 1e-12);

  // Two values: the z-test.
  std::vector<double> ref2, cur2;
  for (int i = 0; i < 400; ++i) ref2.push_back(i % 4 == 0 ? 1 : 0);  // 100 of 400
  for (int i = 0; i < 100; ++i) cur2.push_back(i % 2);               // 50 of 100
  ColumnDrift z = CompareNumeric("flag", NumericProfile(ref2), cur2, {});
  EXPECT_EQ(z.test, "z");
  TestResult expected_z = TwoProportionZTest(300, 400, 50, 100);  // "0" is the first category
  EXPECT_NEAR(z.statistic, expected_z.statistic, 1e-12);
  EXPECT_NEAR(z.p_value, expected_z.p_value, 1e-12);
  EXPECT_TRUE(z.drifted);
}

TEST(DriftDecisionTest, CategoricalTestChosenByReferenceSizeAndCategories) {
  std::vector<std::string> ref, cur;
  for (int i = 0; i < 1000; ++i) ref.push_back(i % 2 ? "yes" : "no");
  for (int i = 0; i < 100; ++i) cur.push_back(i % 2 ? "yes" : "no");
  data::ColumnProfile profile = StringProfile(ref);
  ColumnDrift z = CompareCategorical("c", profile, cur, {});
  EXPECT_EQ(z.test, "z");
  EXPECT_FALSE(z.drifted);
  EXPECT_NEAR(z.p_value, 1.0, 1e-12);
  EXPECT_NEAR(z.psi, 0.0, 1e-12);
  EXPECT_EQ(z.psi_level, "stable");

  // A new category in the current window: three categories, chi-squared, infinite.
  cur.push_back("maybe");
  ColumnDrift chi = CompareCategorical("c", profile, cur, {});
  EXPECT_EQ(chi.test, "chi2");
  EXPECT_EQ(chi.statistic, kInf);
  EXPECT_EQ(chi.p_value, 0.0);
  EXPECT_TRUE(chi.drifted);
  // PSI: the new value lands in "other".
  const std::vector<double> p = {0.5, 0.5, 0.0}, q = {50 / 101.0, 50 / 101.0, 1 / 101.0};
  EXPECT_NEAR(chi.psi, PopulationStabilityIndex(p, q), 1e-12);

  ref.push_back("no");  // 1001 reference values: Jensen–Shannon
  ColumnDrift js = CompareCategorical("c", StringProfile(ref), cur, {});
  EXPECT_EQ(js.test, "jensen_shannon");
  EXPECT_EQ(js.threshold, 0.1);
}

TEST(DriftDecisionTest, BooleansUseTheExactCounts) {
  std::vector<std::string> ref;
  for (int i = 0; i < 5000; ++i) ref.push_back(i % 5 == 0 ? "true" : "false");
  data::ColumnProfile profile = ProfileOf(ref);
  ASSERT_EQ(profile.type, data::ColumnType::kBoolean);
  std::vector<double> cur(100, 0.0);
  for (int i = 0; i < 20; ++i) cur[i] = 1;
  // 5000 reference values (the whole column's counts): Jensen–Shannon, identical shares.
  ColumnDrift d = CompareNumeric("b", profile, cur, {});
  EXPECT_EQ(d.kind, "categorical");
  EXPECT_EQ(d.test, "jensen_shannon");
  EXPECT_EQ(d.reference_count, 5000);
  EXPECT_NEAR(d.score, 0.0, 1e-12);
  EXPECT_FALSE(d.drifted);

  // As text, in any spelling; missing values are left out.
  std::vector<std::string> text(100, "False");
  for (int i = 0; i < 20; ++i) text[i] = "TRUE";
  text.push_back("");
  ColumnDrift t = CompareCategorical("b", profile, text, {});
  EXPECT_EQ(t.current_count, 100);
  EXPECT_NEAR(t.score, 0.0, 1e-12);
  EXPECT_NEAR(t.psi, 0.0, 1e-12);
}

TEST(DriftDecisionTest, TooFewCurrentValuesAreNotCounted) {
  std::vector<double> cur(12, 1.5);
  cur.push_back(std::numeric_limits<double>::quiet_NaN());  // missing: not a value
  ColumnDrift d = CompareNumeric("x", NumericProfile(Sample("n1000")), cur, {});
  EXPECT_EQ(d.note, "too few values (12 < 30)");
  EXPECT_EQ(d.current_count, 12);
  EXPECT_FALSE(d.counted);
  EXPECT_FALSE(d.drifted);
  EXPECT_EQ(d.test, "");

  std::vector<std::string> few(29, "a");
  ColumnDrift c = CompareCategorical("c", StringProfile({"a", "b", "c"}), few, {});
  EXPECT_EQ(c.note, "too few values (29 < 30)");
  EXPECT_FALSE(c.counted);

  DriftThresholds t;
  t.min_current = 10;
  EXPECT_TRUE(CompareNumeric("x", NumericProfile(Sample("n1000")), cur, t).counted);
}

TEST(DriftDecisionTest, NumericPsiOnTheBaselineDeciles) {
  std::vector<double> ref = Sample("n5000a");
  data::ColumnProfile profile = NumericProfile(ref);
  // The same distribution: about a tenth in each decile bin.
  ColumnDrift same = CompareNumeric("x", profile, Sample("n5000b"), {});
  EXPECT_LT(same.psi, 0.02);
  EXPECT_EQ(same.psi_level, "stable");
  // Shifted by one standard deviation: significant.
  std::vector<double> shifted = Sample("n5000b");
  for (double& v : shifted) v += 1.0;
  ColumnDrift moved = CompareNumeric("x", profile, shifted, {});
  EXPECT_GE(moved.psi, 0.2);
  EXPECT_EQ(moved.psi_level, "significant");
  EXPECT_TRUE(moved.drifted);
}

TEST(DriftDecisionTest, PredictionSamples) {
  std::vector<double> a = Sample("n1000"), b = Sample("n700");
  ColumnDrift ks = CompareSamples("prediction", a, b, {});
  EXPECT_EQ(ks.test, "ks");
  EXPECT_NEAR(ks.p_value, KsTwoSample(a, b).p_value, 1e-15);
  EXPECT_FALSE(std::isnan(ks.psi));

  // Class predictions: few distinct values in both windows together.
  std::vector<double> ref_classes, cur_classes;
  for (int i = 0; i < 200; ++i) ref_classes.push_back(i % 2);
  for (int i = 0; i < 200; ++i) cur_classes.push_back(i % 3);  // a new class 2
  ColumnDrift classes = CompareSamples("prediction", ref_classes, cur_classes, {});
  EXPECT_EQ(classes.kind, "categorical");
  EXPECT_EQ(classes.test, "chi2");
  EXPECT_TRUE(classes.drifted);
}

TEST(DriftDecisionTest, SummaryShare) {
  auto column = [](bool counted, bool drifted) {
    ColumnDrift d;
    d.counted = counted;
    d.drifted = drifted;
    return d;
  };
  std::vector<ColumnDrift> columns = {column(true, true), column(true, false), column(true, true),
                                      column(true, false), column(false, false)};
  DriftSummary s = Summarize(columns);
  EXPECT_EQ(s.counted, 4);
  EXPECT_EQ(s.drifted, 2);
  EXPECT_DOUBLE_EQ(s.share, 0.5);
  EXPECT_TRUE(s.dataset_drift);  // share ≥ 0.5
  EXPECT_FALSE(Summarize(columns, 0.6).dataset_drift);
  DriftSummary none = Summarize({column(false, false)});
  EXPECT_EQ(none.counted, 0);
  EXPECT_EQ(none.share, 0.0);
  EXPECT_FALSE(none.dataset_drift);
}

// ---------------------------------------------------------------------------------------------
// JSON.

TEST(DriftJsonTest, ColumnDriftRoundTrips) {
  ColumnDrift d = CompareNumeric("x", NumericProfile(Sample("n1000")), Sample("n700"), {});
  json j = ToJson(d);
  EXPECT_EQ(j.at("test"), "ks");
  Result<ColumnDrift> back = ColumnDriftFromJson(j);
  ASSERT_TRUE(back.ok()) << back.status().message();
  EXPECT_EQ(ToJson(back.value()), j);
  EXPECT_EQ(back.value().p_value, d.p_value);

  // Non-finite numbers are null: chi-squared's infinite statistic, the distances' p-value.
  std::vector<std::string> cur(40, "new");
  ColumnDrift chi = CompareCategorical("c", StringProfile({"a", "b", "c"}), cur, {});
  json cj = ToJson(chi);
  EXPECT_TRUE(cj.at("statistic").is_null());
  EXPECT_EQ(cj.at("p_value"), 0.0);
  Result<ColumnDrift> chi_back = ColumnDriftFromJson(cj);
  ASSERT_TRUE(chi_back.ok());
  EXPECT_TRUE(std::isnan(chi_back.value().statistic));

  json broken = j;
  broken["current_count"] = "many";
  Result<ColumnDrift> bad = ColumnDriftFromJson(broken);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().message(), "drift.current_count: expected an integer");
  broken = j;
  broken["test"] = "t-test";
  EXPECT_FALSE(ColumnDriftFromJson(broken).ok());
}

TEST(DriftJsonTest, ThresholdsRoundTripAndValidate) {
  DriftThresholds t;
  t.p_value = 0.01;
  t.min_current = 100;
  Result<DriftThresholds> back = DriftThresholdsFromJson(ToJson(t));
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(ToJson(back.value()), ToJson(t));

  // A subset: the rest keep their defaults.
  Result<DriftThresholds> partial = DriftThresholdsFromJson(json{{"psi", 0.25}});
  ASSERT_TRUE(partial.ok());
  EXPECT_EQ(partial.value().psi, 0.25);
  EXPECT_EQ(partial.value().p_value, 0.05);

  auto error = [](const json& j) {
    Result<DriftThresholds> r = DriftThresholdsFromJson(j);
    return r.ok() ? std::string("ok") : r.status().message();
  };
  EXPECT_EQ(error(json{{"p_value", 1.5}}), "thresholds.p_value: expected a number in (0, 1)");
  EXPECT_EQ(error(json{{"p_value", "0.05"}}), "thresholds.p_value: expected a number in (0, 1)");
  EXPECT_EQ(error(json{{"wasserstein", -1}}), "thresholds.wasserstein: expected a positive number");
  EXPECT_EQ(error(json{{"min_current", 0}}),
            "thresholds.min_current: expected an integer in [1, 1000000000]");
  EXPECT_EQ(error(json{{"js_numeric_bins", 2.5}}),
            "thresholds.js_numeric_bins: expected an integer in [2, 1000]");
  EXPECT_EQ(error(json{{"drift_share", 1.0}}), "ok");
  EXPECT_EQ(error(json::array()), "thresholds: expected an object");
  EXPECT_NE(error(json{{"pvalue", 0.05}}).find("thresholds.pvalue: unknown field"),
            std::string::npos);
}

// The committed fixture is what the script prints (skipped where /usr/bin/python3 lacks SciPy).
TEST(DriftFixtureTest, ScriptReproducesTheCommittedFixture) {
  if (std::system("/usr/bin/python3 -c 'import scipy, numpy' >/dev/null 2>&1") != 0) {
    GTEST_SKIP() << "/usr/bin/python3 has no SciPy";
  }
  std::string command = std::string("/usr/bin/python3 ") + kScript;
  FILE* pipe = popen(command.c_str(), "r");
  ASSERT_NE(pipe, nullptr);
  std::string output;
  char buf[65536];
  size_t n;
  while ((n = fread(buf, 1, sizeof(buf), pipe)) > 0) output.append(buf, n);
  ASSERT_EQ(pclose(pipe), 0);
  // Another NumPy may draw other samples, another SciPy compute in the last digits otherwise.
  json produced = json::parse(output);
  for (const char* library : {"numpy", "scipy"}) {
    if (produced.at(library) != Fixture().at(library)) {
      GTEST_SKIP() << library << " " << produced.at(library) << " here, " << Fixture().at(library)
                   << " in the fixture";
    }
  }
  EXPECT_TRUE(output == ReadFile(kFixture))
      << "regenerate: /usr/bin/python3 " << kScript << " > " << kFixture;
}

}  // namespace
}  // namespace cairn::monitoring
