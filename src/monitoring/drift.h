// Drift statistics: the two-sample tests and distances that decide whether a column of live
// data has drifted from its baseline, and the per-column decision rules (Evidently's defaults,
// chosen by the size of the reference sample) that the monitor service applies.
//
// Conventions shared by everything here:
//  - NaN values in a sample are missing: they are dropped before any statistic is computed.
//  - A p-value is NaN where a statistic has none (distances); a statistic is NaN when it cannot
//    be computed (an empty sample).
//  - Every statistic agrees with SciPy (the fixture src/monitoring/testdata/drift_reference.json
//    is produced by SciPy and checked in drift_test.cc); the functions say which SciPy call.
#pragma once

#include <cstdint>
#include <nlohmann/json_fwd.hpp>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"
#include "data/profile.h"

namespace cairn::monitoring {

// ---------------------------------------------------------------------------------------------
// Raw tests and distances.

struct TestResult {
  double statistic = 0;
  double p_value = 0;  // NaN where the statistic has no p-value
};

struct ChiSquaredResult {
  double statistic = 0;
  double p_value = 0;
  int dof = 0;  // categories − 1
};

// Two-sample Kolmogorov–Smirnov, two-sided: the statistic is sup |F_a − F_b| and the p-value is
// scipy.stats.ks_2samp(a, b)'s with method='auto' (SciPy 1.10's algorithms, ported): exact
// (counting lattice paths) when neither sample has more than 10,000 values — the statistic is
// then the rounded multiple of 1/lcm(n_a, n_b) SciPy reports; else the distribution of the
// one-sample statistic D_n with n = round(n_a·n_b / (n_a + n_b)) (scipy.stats.kstwo, by
// Simard and L'Ecuyer's choice of method). Ties are fine (the ECDFs are compared at every
// value). Either sample empty: statistic and p-value NaN. Cost: O(n_a·n_b / lcm · window), about
// 60 ms for 10,000 against 9,999 values.
TestResult KsTwoSample(std::span<const double> a, std::span<const double> b);

// The first Wasserstein (earth mover's) distance between the empirical distributions of `a` and
// `b`, as scipy.stats.wasserstein_distance(a, b): ∫ |F_a − F_b| dx. NaN when either is empty.
double WassersteinDistance(std::span<const double> a, std::span<const double> b);

// The normalized form the monitor compares with its threshold (Evidently's
// wasserstein_distance_norm): WassersteinDistance(reference, current) divided by the reference's
// population standard deviation (ddof 0), that standard deviation floored at 0.001.
double NormalizedWasserstein(std::span<const double> reference, std::span<const double> current);

// Pearson's chi-squared goodness-of-fit test, as scipy.stats.chisquare(observed, expected)
// (the caller scales `expected` to the observed total). dof = categories − 1; the p-value is
// the regularized upper incomplete gamma Q(dof/2, statistic/2), accurate to 1e-9 relative.
// A category expected 0 and observed > 0 makes the statistic +inf and the p-value 0; expected 0
// and observed 0 adds nothing. Sizes must match (otherwise statistic and p-value NaN).
ChiSquaredResult ChiSquaredTest(std::span<const double> observed, std::span<const double> expected);

// The regularized upper incomplete gamma function Q(a, x) = Γ(a, x) / Γ(a), a > 0, x ≥ 0
// (scipy.special.gammaincc). Series for x < a + 1, Lentz's continued fraction beyond.
double RegularizedUpperGamma(double a, double x);

// Jensen–Shannon distance with the natural logarithm, as scipy.spatial.distance.jensenshannon(p,
// q): the square root of the divergence, after normalizing each of p and q to sum 1. In [0,
// sqrt(ln 2)]. NaN when the sizes differ or either sums to 0.
double JensenShannonDistance(std::span<const double> p, std::span<const double> q);

// Evidently's z-test for two proportions (binary categorical columns): the pooled proportion
// p = (x_ref + x_cur) / (n_ref + n_cur), z = (x_ref/n_ref − x_cur/n_cur) /
// sqrt(p(1 − p)(1/n_ref + 1/n_cur)), two-sided p-value 2·(1 − Φ(|z|)). Both proportions 0 or
// both 1 (no variance): z 0, p-value 1. `statistic` is z. NaN when either n is 0.
TestResult TwoProportionZTest(int64_t ref_successes, int64_t ref_n, int64_t cur_successes,
                              int64_t cur_n);

// Σ (cur − ref) · ln(cur / ref) over bins, each share floored at 1e-4 so an empty bin does not
// make it infinite. The shares of each side should sum to 1. (data::PopulationStabilityIndex,
// shared with `cairn data diff`.)
double PopulationStabilityIndex(std::span<const double> ref_shares,
                                std::span<const double> cur_shares);

// "stable" below 0.1, "moderate" below 0.2, "significant" from 0.2; "" for NaN.
std::string PsiLevel(double psi);

// A number as a category value: the shortest text that reads back to it ("1", "2.5", "-0.1"),
// so the numeric columns with few distinct values (treated as categorical) name their
// categories the way a CSV usually spells them.
std::string FormatCategory(double value);

// ---------------------------------------------------------------------------------------------
// Column decisions.

struct DriftThresholds {
  double p_value = 0.05;                  // ks, chi2, z: drift when p < p_value
  double wasserstein = 0.1;               // normalized Wasserstein: drift when ≥
  double jensen_shannon = 0.1;            // Jensen–Shannon distance: drift when ≥
  double psi = 0.2;                       // reported beside the test (psi_level), does not decide
  size_t max_reference_for_tests = 1000;  // reference values up to which ks/chi2/z are used
  size_t min_current = 30;                // fewer current values: not decided, not counted
  int js_numeric_bins = 30;               // equal-width bins for JS on raw numeric samples
  double drift_share = 0.5;               // dataset drift when drifted / counted ≥ this
};

// {"p_value", "wasserstein", "jensen_shannon", "psi", "max_reference_for_tests", "min_current",
//  "js_numeric_bins", "drift_share"}.
nlohmann::json ToJson(const DriftThresholds& thresholds);
// Reads an object with any subset of those fields (the rest keep their defaults). Unknown
// fields and bad values are kInvalidArgument naming the field, e.g. "thresholds.p_value:
// expected a number in (0, 1)". Ranges: p_value and jensen_shannon in (0, 1), drift_share in
// (0, 1], wasserstein and psi > 0, max_reference_for_tests ≥ 0, min_current ≥ 1,
// js_numeric_bins in [2, 1000].
Result<DriftThresholds> DriftThresholdsFromJson(const nlohmann::json& json);

struct ColumnDrift {
  std::string column;
  std::string kind;  // "numeric" | "categorical" (a numeric column with ≤ 5 distinct values is
                     // "categorical")
  std::string test;  // "ks" | "wasserstein" | "chi2" | "z" | "jensen_shannon"; "" when not decided
  double statistic = 0;  // ks: D; chi2: χ²; z: z; jensen_shannon: the distance; wasserstein:
                         // the raw distance (score is the normalized one)
  double p_value = 0;    // NaN for the distances
  double score = 0;      // compared with the threshold: p_value for ks/chi2/z, else the distance
  double threshold = 0;
  bool drifted = false;         // ks/chi2/z: score < threshold; distances: score ≥ threshold
  double psi = 0;               // NaN when it cannot be computed
  std::string psi_level;        // PsiLevel(psi)
  int64_t reference_count = 0;  // reference values the test used
  int64_t current_count = 0;    // non-missing current values
  std::string note;             // why the column was not decided, e.g. "too few values (12 < 30)"
  bool counted = false;         // whether it counts in the summary (decided)

  bool operator==(const ColumnDrift&) const = default;  // NaN ≠ NaN: compare JSON instead
};

// A numeric column of live data against its baseline profile (integer or float). The reference
// values are the profile's numeric_sample reservoir. A reference with ≤ 5 distinct values
// (profile `distinct`) is treated as categorical (values as FormatCategory), else KS when the
// reservoir holds ≤ max_reference_for_tests values, else normalized Wasserstein. PSI on the
// baseline's decile bins (its KLL quantile sketch; the current values counted exactly in them).
// NaN current values are missing.
ColumnDrift CompareNumeric(std::string_view column, const data::ColumnProfile& reference,
                           std::span<const double> current, const DriftThresholds& thresholds);

// A categorical column (string or boolean) of live data against its baseline profile.
// chi2 when the reference has ≤ max_reference_for_tests values and > 2 categories (over the
// union of categories; expected = reference shares × current count), z with exactly 2 (and
// ≤ max_reference_for_tests), Jensen–Shannon distance beyond (shares of the union, zeros
// floored at 1e-4 as Evidently's feel_zeroes). PSI on the reference's categories plus "other".
// Missing current values (data::IsMissing: empty, "NA"…) are left out, as the profile leaves
// them out. Booleans: current values in any spelling ParseBoolean takes ("TRUE" is "true").
ColumnDrift CompareCategorical(std::string_view column, const data::ColumnProfile& reference,
                               std::span<const std::string> current,
                               const DriftThresholds& thresholds);

// Two raw samples, for prediction drift (the reference is another window's values). ≤ 5
// distinct values in both samples together: categorical rules on the values. Else KS up to
// max_reference_for_tests reference values, beyond that Jensen–Shannon distance over
// js_numeric_bins equal-width bins spanning both samples (Evidently's binning). PSI on the
// reference sample's deciles.
ColumnDrift CompareSamples(std::string_view column, std::span<const double> reference,
                           std::span<const double> current, const DriftThresholds& thresholds);

struct DriftSummary {
  int counted = 0;
  int drifted = 0;
  double share = 0;            // drifted / counted; 0 when nothing is counted
  bool dataset_drift = false;  // counted > 0 && share ≥ drift_share
};

DriftSummary Summarize(const std::vector<ColumnDrift>& columns, double drift_share = 0.5);

// {"column", "kind", "test", "statistic", "p_value", "score", "threshold", "drifted", "psi",
//  "psi_level", "reference_count", "current_count", "note", "counted"}; NaN and ±inf as null
// (a null reads back as NaN; the only infinite statistic, chi2 with a new category, then reads
// back as NaN with its p-value 0).
nlohmann::json ToJson(const ColumnDrift& drift);
// kInvalidArgument naming the field ("drift.<field>: …") otherwise.
Result<ColumnDrift> ColumnDriftFromJson(const nlohmann::json& json);

nlohmann::json ToJson(const DriftSummary& summary);

}  // namespace cairn::monitoring
