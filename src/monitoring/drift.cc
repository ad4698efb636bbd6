#include "monitoring/drift.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <limits>
#include <map>
#include <nlohmann/json.hpp>
#include <numeric>
#include <optional>
#include <set>

#include "data/profile_diff.h"

namespace cairn::monitoring {

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr double kInf = std::numeric_limits<double>::infinity();
constexpr double kPi = 3.14159265358979323846;

std::vector<double> SortedFinite(std::span<const double> values) {
  std::vector<double> out;
  out.reserve(values.size());
  for (double v : values) {
    if (!std::isnan(v)) out.push_back(v);
  }
  std::sort(out.begin(), out.end());
  return out;
}

// ---------------------------------------------------------------------------------------------
// Kolmogorov–Smirnov p-values: ports of SciPy 1.10's algorithms, so that the numbers agree (not
// only the mathematics): scipy/stats/_stats_py.py (exact two-sample) and _ksstats.py (kolmogn,
// Simard & L'Ecuyer's choice of method for the one-sample distribution SciPy's asymptotic
// two-sample p-value uses).

// Pr(D_{n,n} ≥ h/n): SciPy's _compute_prob_outside_square (Hodges' alternating sum, Horner form).
double ProbOutsideSquare(int64_t n, int64_t h) {
  double p = 0;
  for (int64_t k = n / h; k >= 0; --k) {
    double p1 = 1.0;
    for (int64_t j = 0; j < h; ++j) {
      p1 = static_cast<double>(n - k * h - j) * p1 / static_cast<double>(n + k * h + j + 1);
    }
    p = p1 * (1.0 - p);
  }
  return 2 * p;
}

// The proportion of lattice paths from (0,0) to (m,n) that leave the band |x/m − y/n| < h/lcm:
// SciPy's _compute_outer_prob_inside_method (Viehmann's recursion for 1 − p, arXiv:2102.08037),
// one sliding column of the path-count matrix.
double OuterProbInside(int64_t m, int64_t n, int64_t g, int64_t h) {
  if (m < n) std::swap(m, n);
  const int64_t mg = m / g;
  const int64_t ng = n / g;
  auto ceil_div = [](double a) { return static_cast<int64_t>(std::ceil(a)); };
  int64_t minj = 0;
  int64_t maxj = std::min(ceil_div(static_cast<double>(h) / static_cast<double>(mg)), n + 1);
  int64_t curlen = maxj - minj;
  const int64_t len_a = std::min(2 * maxj + 2, n + 1);
  std::vector<double> a(static_cast<size_t>(len_a), 1.0);
  for (int64_t j = minj; j < maxj && j < len_a; ++j) a[j] = 0.0;
  for (int64_t i = 1; i <= m; ++i) {
    const int64_t lastminj = minj;
    const int64_t lastlen = curlen;
    minj = std::max(static_cast<int64_t>(
                        std::floor(static_cast<double>(ng * i - h) / static_cast<double>(mg))) +
                        1,
                    int64_t{0});
    minj = std::min(minj, n);
    maxj = std::min(ceil_div(static_cast<double>(ng * i + h) / static_cast<double>(mg)), n + 1);
    if (maxj <= minj) return 1.0;
    double val = minj == 0 ? 0.0 : 1.0;
    for (int64_t jj = 0; jj < maxj - minj; ++jj) {
      const int64_t j = jj + minj;
      val = (a[jj + minj - lastminj] * static_cast<double>(i) + val * static_cast<double>(j)) /
            static_cast<double>(i + j);
      a[jj] = val;
    }
    curlen = maxj - minj;
    for (int64_t t = maxj - minj; t < maxj - minj + (lastlen - curlen) && t < len_a; ++t) {
      a[t] = 1;
    }
  }
  return a[maxj - minj - 1];
}

double Clip01(double p) { return std::clamp(p, 0.0, 1.0); }

// log(n! / n^n) by Stirling's series (SciPy's _log_nfactorial_div_n_pow_n).
double LogNFactorialDivNPowN(double n) {
  static constexpr double kStirling[] = {-2.955065359477124183e-2,  6.4102564102564102564e-3,
                                         -1.9175269175269175269e-3, 8.4175084175084175084e-4,
                                         -5.952380952380952381e-4,  7.9365079365079365079e-4,
                                         -2.7777777777777777778e-3, 8.3333333333333333333e-2};
  const double rn = 1.0 / n;
  double poly = 0;
  for (double c : kStirling) poly = poly * (rn / n) + c;
  return std::log(n) / 2 - n + std::log(2 * kPi) / 2 + rn * poly;
}

// Pr(D_n ≤ d), the Durbin matrix (Marsaglia, Tsang and Wang 2003): exact. SciPy uses it for
// small n·d² and Pomeranz's recursion for the band above; both are exact, so this one stands in
// for both (the matrix is at most 47 × 47 where Pomeranz would be used).
double KolmogorovCdfDurbin(int64_t n, double d) {
  if (d >= 1.0) return 1.0;
  const double nd = static_cast<double>(n) * d;
  if (nd <= 0.5) return 0.0;
  const int k = static_cast<int>(std::ceil(nd));
  const double h = k - nd;
  const int m = 2 * k - 1;
  using Matrix = std::vector<double>;  // m × m, row-major
  auto multiply = [m](const Matrix& x, const Matrix& y) {
    Matrix z(static_cast<size_t>(m) * m, 0.0);
    for (int i = 0; i < m; ++i) {
      for (int l = 0; l < m; ++l) {
        const double xil = x[i * m + l];
        if (xil == 0) continue;
        for (int j = 0; j < m; ++j) z[i * m + j] += xil * y[l * m + j];
      }
    }
    return z;
  };
  std::vector<double> v(m), w(m);
  double fac = 1.0;
  for (int j = 1; j <= m; ++j) {
    v[j - 1] = 1.0 - std::pow(h, j);
    w[j - 1] = fac;
    fac /= j;
    v[j - 1] *= fac;
  }
  const double tt = std::pow(std::max(2 * h - 1.0, 0.0), m) - 2 * std::pow(h, m);
  v[m - 1] = (1.0 + tt) * fac;
  Matrix hm(static_cast<size_t>(m) * m, 0.0);
  for (int i = 1; i < m; ++i) {
    for (int r = i - 1; r < m; ++r) hm[r * m + i] = w[r - (i - 1)];
  }
  for (int r = 0; r < m; ++r) hm[r * m + 0] = v[r];
  for (int c = 0; c < m; ++c) hm[(m - 1) * m + c] = v[m - 1 - c];

  Matrix power(static_cast<size_t>(m) * m, 0.0);
  for (int i = 0; i < m; ++i) power[i * m + i] = 1.0;
  const double kScale = std::ldexp(1.0, 128);
  int exponent = 0;
  int h_exponent = 0;
  for (int64_t nn = n; nn > 0; nn /= 2) {
    if (nn % 2) {
      power = multiply(power, hm);
      exponent += h_exponent;
    }
    hm = multiply(hm, hm);
    h_exponent *= 2;
    if (std::abs(hm[(k - 1) * m + (k - 1)]) > kScale) {
      for (double& x : hm) x /= kScale;
      h_exponent += 128;
    }
  }
  double p = power[(k - 1) * m + (k - 1)];
  const double kSmall = std::ldexp(1.0, -128);
  for (int64_t i = 1; i <= n; ++i) {
    p = static_cast<double>(i) * p / static_cast<double>(n);
    if (std::abs(p) < kSmall) {
      p *= kScale;
      exponent -= 128;
    }
  }
  if (exponent != 0) p = std::ldexp(p, exponent);
  return Clip01(p);
}

// The Pelz–Good approximation of Pr(D_n ≤ x) (SciPy's _kolmogn_PelzGood).
double KolmogorovCdfPelzGood(int64_t n_int, double x) {
  if (x <= 0.0) return 0.0;
  if (x >= 1.0) return 1.0;
  const double n = static_cast<double>(n_int);
  const double pi2 = kPi * kPi, pi4 = pi2 * pi2, pi6 = pi4 * pi2;
  const double z = std::sqrt(n) * x;
  const double z2 = z * z, z3 = z2 * z, z4 = z2 * z2, z6 = z4 * z2;
  const double qlog = -pi2 / 8 / z2;
  if (qlog < -708) return 0.0;
  double q = std::exp(qlog);
  const double k1a = -z2, k1b = pi2 / 4;
  const double k2a = 6 * z6 + 2 * z4, k2b = (2 * z4 - 5 * z2) * pi2 / 4,
               k2c = pi4 * (1 - 2 * z2) / 16;
  const double k3d = pi6 * (5 - 30 * z2) / 64, k3c = pi4 * (-60 * z2 + 212 * z4) / 16,
               k3b = pi2 * (135 * z4 - 96 * z6) / 4, k3a = -30 * z6 - 90 * std::pow(z, 8);
  double kk[4] = {0, 0, 0, 0};
  const int64_t maxk = static_cast<int64_t>(std::ceil(16 * z / kPi));
  for (int64_t k = maxk; k > 0; --k) {
    const double m = static_cast<double>(2 * k - 1);
    const double m2 = m * m, m4 = m2 * m2, m6 = m4 * m2;
    const double qpower = std::pow(q, static_cast<double>(8 * k));
    const double coeffs[4] = {1.0, k1a + k1b * m2, k2a + k2b * m2 + k2c * m4,
                              k3a + k3b * m2 + k3c * m4 + k3d * m6};
    for (int i = 0; i < 4; ++i) kk[i] = kk[i] * qpower + coeffs[i];
  }
  const double sqrt2pi = std::sqrt(2 * kPi);
  const double divisors[4] = {z, 6 * z4, 72 * std::pow(z, 7), 6480 * std::pow(z, 10)};
  for (int i = 0; i < 4; ++i) kk[i] = kk[i] * q * sqrt2pi / divisors[i];
  q = std::exp(-pi2 / 2 / z2);
  const double sqrt3z = std::sqrt(3.0) * z;
  double k2extra = 0, k3extra = 0;
  for (int64_t k = maxk; k > 0; --k) {
    const double kd = static_cast<double>(k);
    const double qp = std::pow(q, kd * kd);
    k2extra += kd * kd * qp;
    k3extra += (sqrt3z + kPi * kd) * (sqrt3z - kPi * kd) * kd * kd * qp;
  }
  kk[2] += k2extra * pi2 * sqrt2pi / (-36 * z3);
  kk[3] += k3extra * pi2 * sqrt2pi / (216 * z6);
  double sum = 0;
  for (int i = 0; i < 4; ++i) sum += kk[i] / std::pow(n, i / 2.0);
  return sum;
}

// Pr(D_n^+ ≥ x), the one-sided one-sample statistic (scipy.special.smirnov), by the exact
// Birnbaum–Tingey sum x · Σ_{j ≤ n(1−x)} C(n, j) (1 − x − j/n)^{n−j} (x + j/n)^{j−1}. Its terms
// are positive, so summing them in log space (long double) loses nothing to cancellation.
double Smirnov(int64_t n_int, double x) {
  if (x >= 1) return 0;
  if (x <= 0) return 1;
  using LD = long double;
  const LD n = static_cast<LD>(n_int);
  const LD lx = static_cast<LD>(x);
  const int64_t jmax = static_cast<int64_t>(std::floor(n * (1 - lx)));
  const LD lgn1 = std::lgamma(n + 1);
  LD sum = 0;
  for (int64_t j = 0; j <= jmax && j <= n_int; ++j) {
    const LD jd = static_cast<LD>(j);
    const LD a = 1 - lx - jd / n;
    const LD b = lx + jd / n;
    if (a <= 0 && n_int - j > 0) continue;  // a zero factor
    LD log_term = lgn1 - std::lgamma(jd + 1) - std::lgamma(n - jd + 1) + (jd - 1) * std::log(b);
    if (n_int - j > 0) log_term += (n - jd) * std::log(a);
    sum += std::exp(log_term);
  }
  return Clip01(static_cast<double>(lx * sum));
}

// Pr(D_n > x) for the two-sided one-sample statistic: SciPy's _kolmogn(n, x, cdf=False), the
// method chosen as Simard and L'Ecuyer (2011) recommend.
double KolmogorovSf(int64_t n_int, double x) {
  if (n_int <= 0) return kNaN;
  if (x >= 1.0) return 0.0;
  if (x <= 0.0) return 1.0;
  const double n = static_cast<double>(n_int);
  const double t = n * x;
  if (t <= 1.0) {  // Ruben–Gambino
    if (t <= 0.5) return 1.0;
    double prob;
    if (n_int <= 140) {
      prob = 1.0;
      for (int64_t i = 1; i <= n_int; ++i) prob *= static_cast<double>(i) * (1.0 / n) * (2 * t - 1);
    } else {
      prob = std::exp(LogNFactorialDivNPowN(n) + n * std::log(2 * t - 1));
    }
    return Clip01(1.0 - prob);
  }
  if (t >= n - 1) return Clip01(2 * std::pow(1.0 - x, n));  // Ruben–Gambino
  if (x >= 0.5) return Clip01(2 * Smirnov(n_int, x));
  const double nx2 = t * x;
  if (n_int <= 140) {
    if (nx2 <= 4) return Clip01(1.0 - KolmogorovCdfDurbin(n_int, x));
    return Clip01(2 * Smirnov(n_int, x));
  }
  if (nx2 >= 370.0) return 0.0;
  if (nx2 >= 2.2) return Clip01(2 * Smirnov(n_int, x));
  double cdf;
  if (nx2 >= 18.0) {
    cdf = 1.0;
  } else if (n_int <= 100000 && n * std::pow(x, 1.5) <= 1.4) {
    cdf = KolmogorovCdfDurbin(n_int, x);
  } else {
    cdf = KolmogorovCdfPelzGood(n_int, x);
  }
  return Clip01(1.0 - cdf);
}

// ---------------------------------------------------------------------------------------------
// Categorical distributions.

// Counts per category; `total` is their sum.
struct Counts {
  std::map<std::string, double> by_value;
  double total = 0;
  void Add(const std::string& value, double n = 1) {
    by_value[value] += n;
    total += n;
  }
};

// The union of both sides' categories, in order.
std::vector<std::string> UnionKeys(const Counts& a, const Counts& b) {
  std::set<std::string> keys;
  for (const auto& [k, _] : a.by_value) keys.insert(k);
  for (const auto& [k, _] : b.by_value) keys.insert(k);
  return {keys.begin(), keys.end()};
}

double CountOf(const Counts& c, const std::string& key) {
  auto it = c.by_value.find(key);
  return it == c.by_value.end() ? 0.0 : it->second;
}

// Evidently's feel_zeroes: a zero share becomes 1e-4, or a millionth of the smallest non-zero
// share when that is itself ≤ 1e-4, so the Jensen–Shannon distance sees a tiny mass there.
void FeelZeroes(std::vector<double>& shares) {
  double min_nonzero = kInf;
  for (double s : shares) {
    if (s != 0) min_nonzero = std::min(min_nonzero, s);
  }
  if (std::isinf(min_nonzero)) return;
  const double fill = min_nonzero <= 1e-4 ? min_nonzero / 1e6 : 1e-4;
  for (double& s : shares) {
    if (s == 0) s = fill;
  }
}

double JsOfShares(std::vector<double> p, std::vector<double> q) {
  FeelZeroes(p);
  FeelZeroes(q);
  return JensenShannonDistance(p, q);
}

// Evidently's chi_stat_test: observed = current counts over the union of categories, expected =
// reference counts × (current total / reference total).
ChiSquaredResult CategoricalChi2(const Counts& ref, const Counts& cur) {
  std::vector<std::string> keys = UnionKeys(ref, cur);
  std::vector<double> observed, expected;
  const double k_norm = cur.total / ref.total;
  for (const auto& k : keys) {
    observed.push_back(CountOf(cur, k));
    expected.push_back(CountOf(ref, k) * k_norm);
  }
  return ChiSquaredTest(observed, expected);
}

double CategoricalJs(const Counts& ref, const Counts& cur) {
  std::vector<std::string> keys = UnionKeys(ref, cur);
  std::vector<double> p, q;
  for (const auto& k : keys) {
    p.push_back(CountOf(ref, k) / ref.total);
    q.push_back(CountOf(cur, k) / cur.total);
  }
  return JsOfShares(std::move(p), std::move(q));
}

// Evidently's z_stat_test: the first category of the union is "success" (two-sided, so which
// one does not matter); a single category on both sides is p 1.
TestResult CategoricalZ(const Counts& ref, const Counts& cur) {
  std::vector<std::string> keys = UnionKeys(ref, cur);
  if (keys.size() < 2) return {0.0, 1.0};
  return TwoProportionZTest(
      static_cast<int64_t>(CountOf(ref, keys[0])), static_cast<int64_t>(ref.total),
      static_cast<int64_t>(CountOf(cur, keys[0])), static_cast<int64_t>(cur.total));
}

// PSI over the reference's categories plus "other" (the current values in no reference
// category).
double CategoricalPsi(const Counts& ref, const Counts& cur) {
  if (ref.total <= 0 || cur.total <= 0) return kNaN;
  std::vector<double> p, q;
  double p_rest = 1, q_rest = 1;
  for (const auto& [k, n] : ref.by_value) {
    p.push_back(n / ref.total);
    q.push_back(CountOf(cur, k) / cur.total);
    p_rest -= p.back();
    q_rest -= q.back();
  }
  p.push_back(std::max(0.0, p_rest));
  q.push_back(std::max(0.0, q_rest));
  return data::PopulationStabilityIndex(p, q);
}

// ---------------------------------------------------------------------------------------------
// Decisions.

ColumnDrift Start(std::string_view column, std::string kind) {
  ColumnDrift d;
  d.column = std::string(column);
  d.kind = std::move(kind);
  d.statistic = kNaN;
  d.p_value = kNaN;
  d.score = kNaN;
  d.threshold = kNaN;
  d.psi = kNaN;
  return d;
}

// Not decided: the reason in `note`, not counted.
ColumnDrift Undecided(ColumnDrift d, std::string note) {
  d.note = std::move(note);
  d.counted = false;
  d.drifted = false;
  return d;
}

void SetPsi(ColumnDrift& d, double psi) {
  d.psi = psi;
  d.psi_level = PsiLevel(psi);
}

// A p-value test: drift when p < threshold.
void DecideP(ColumnDrift& d, std::string test, TestResult r, double threshold) {
  d.test = std::move(test);
  d.statistic = r.statistic;
  d.p_value = r.p_value;
  d.score = r.p_value;
  d.threshold = threshold;
  d.drifted = r.p_value < threshold;
  d.counted = true;
}

// A distance: drift when distance ≥ threshold.
void DecideDistance(ColumnDrift& d, std::string test, double statistic, double distance,
                    double threshold) {
  d.test = std::move(test);
  d.statistic = statistic;
  d.p_value = kNaN;
  d.score = distance;
  d.threshold = threshold;
  d.drifted = distance >= threshold;
  d.counted = true;
}

std::string TooFew(int64_t n, size_t min) {
  return "too few values (" + std::to_string(n) + " < " + std::to_string(min) + ")";
}

// The categorical rules, by the reference's size and the categories of both sides.
void DecideCategorical(ColumnDrift& d, const Counts& ref, const Counts& cur,
                       const DriftThresholds& t) {
  if (static_cast<size_t>(ref.total) <= t.max_reference_for_tests) {
    if (UnionKeys(ref, cur).size() > 2) {
      ChiSquaredResult r = CategoricalChi2(ref, cur);
      DecideP(d, "chi2", {r.statistic, r.p_value}, t.p_value);
    } else {
      DecideP(d, "z", CategoricalZ(ref, cur), t.p_value);
    }
  } else {
    const double js = CategoricalJs(ref, cur);
    DecideDistance(d, "jensen_shannon", js, js, t.jensen_shannon);
  }
}

Counts CountsOfNumbers(std::span<const double> values) {
  Counts c;
  for (double v : values) {
    if (!std::isnan(v)) c.Add(FormatCategory(v));
  }
  return c;
}

// The exact quantile a KLL sketch reports on exact data: the smallest value whose share of
// values ≤ it reaches q.
std::vector<double> SampleDecileEdges(const std::vector<double>& sorted) {
  std::vector<double> edges;
  if (sorted.empty()) return edges;
  const double n = static_cast<double>(sorted.size());
  for (int i = 1; i <= 9; ++i) {
    double rank = std::ceil(i / 10.0 * n);
    size_t idx = static_cast<size_t>(std::max(rank, 1.0)) - 1;
    edges.push_back(sorted[std::min(idx, sorted.size() - 1)]);
  }
  edges.erase(std::unique(edges.begin(), edges.end()), edges.end());
  return edges;
}

size_t DistinctSorted(const std::vector<double>& sorted) {
  if (sorted.empty()) return 0;
  size_t n = 1;
  for (size_t i = 1; i < sorted.size(); ++i) n += sorted[i] != sorted[i - 1];
  return n;
}

// Evidently's JS on numbers (get_binned_data): `bins` equal-width bins over both samples' range
// (numpy.histogram_bin_edges), each value in [e_i, e_{i+1}), the last bin closed.
double BinnedJs(const std::vector<double>& ref, const std::vector<double>& cur, int bins) {
  double lo = std::min(ref.front(), cur.front());
  double hi = std::max(ref.back(), cur.back());
  if (lo == hi) {
    lo -= 0.5;
    hi += 0.5;
  }
  std::vector<double> edges(static_cast<size_t>(bins) + 1);
  const double step = (hi - lo) / bins;
  for (int i = 0; i < bins; ++i) edges[i] = static_cast<double>(i) * step + lo;
  edges[bins] = hi;
  auto shares = [&](const std::vector<double>& values) {
    std::vector<double> out(static_cast<size_t>(bins), 0.0);
    for (double v : values) {
      auto bin = std::upper_bound(edges.begin(), edges.end() - 1, v) - edges.begin() - 1;
      bin = std::clamp<ptrdiff_t>(bin, 0, bins - 1);
      out[bin] += 1;
    }
    for (double& s : out) s /= static_cast<double>(values.size());
    return out;
  };
  return JsOfShares(shares(ref), shares(cur));
}

// The reference distribution of a categorical column. Strings: the profile's string_sample (a
// uniform sample of up to 10,000 values: Evidently's reference data). Booleans: the frequent
// values, which hold the exact counts of "true" and "false" over the whole column — the
// numeric_sample only holds a sample of them as 0/1. Numbers (few distinct values): the
// numeric_sample, as FormatCategory text.
Counts ReferenceCounts(const data::ColumnProfile& reference) {
  Counts c;
  if (reference.type == data::ColumnType::kBoolean) {
    const auto all =
        reference.frequent_values.size() > 0 ? reference.frequent_values.All() : reference.top;
    for (const auto& e : all) c.Add(e.value, static_cast<double>(e.count));
  } else if (reference.numeric()) {
    c = CountsOfNumbers(reference.numeric_sample.items());
  } else {
    for (const auto& v : reference.string_sample.items()) c.Add(v);
  }
  return c;
}

nlohmann::json Number(double x) {
  if (!std::isfinite(x)) return nullptr;
  return x;
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// Raw tests.

TestResult KsTwoSample(std::span<const double> a_in, std::span<const double> b_in) {
  const std::vector<double> a = SortedFinite(a_in);
  const std::vector<double> b = SortedFinite(b_in);
  if (a.empty() || b.empty()) return {kNaN, kNaN};
  const int64_t n1 = static_cast<int64_t>(a.size());
  const int64_t n2 = static_cast<int64_t>(b.size());
  // sup of ECDF differences, at every value of either sample (ECDFs right-continuous).
  double max_diff = 0, min_diff = 0;
  size_t i = 0, j = 0;
  while (i < a.size() || j < b.size()) {
    double v = i < a.size() && (j >= b.size() || a[i] <= b[j]) ? a[i] : b[j];
    while (i < a.size() && a[i] <= v) ++i;
    while (j < b.size() && b[j] <= v) ++j;
    const double diff = static_cast<double>(i) / static_cast<double>(n1) -
                        static_cast<double>(j) / static_cast<double>(n2);
    max_diff = std::max(max_diff, diff);
    min_diff = std::min(min_diff, diff);
  }
  double d =
      std::clamp(-min_diff, 0.0, 1.0) > max_diff ? std::clamp(-min_diff, 0.0, 1.0) : max_diff;
  constexpr int64_t kMaxExactN = 10000;  // SciPy's MAX_AUTO_N
  if (std::max(n1, n2) <= kMaxExactN) {
    const int64_t g = std::gcd(n1, n2);
    const int64_t lcm = (n1 / g) * n2;
    const int64_t h = static_cast<int64_t>(std::nearbyint(d * static_cast<double>(lcm)));
    const double d_exact = static_cast<double>(h) / static_cast<double>(lcm);
    if (h == 0) return {d_exact, 1.0};
    const double p = n1 == n2 ? ProbOutsideSquare(n1, h) : OuterProbInside(n1, n2, g, h);
    // SciPy falls back to the asymptotic distribution when the exact value is not a
    // probability (floating-point trouble), keeping the rounded statistic.
    if (std::isfinite(p) && p >= 0 && p <= 1) return {d_exact, p};
    d = d_exact;
  }
  const double m = static_cast<double>(std::max(n1, n2));
  const double n = static_cast<double>(std::min(n1, n2));
  const double en = m * n / (m + n);
  return {d, Clip01(KolmogorovSf(static_cast<int64_t>(std::nearbyint(en)), d))};
}

double WassersteinDistance(std::span<const double> a_in, std::span<const double> b_in) {
  const std::vector<double> a = SortedFinite(a_in);
  const std::vector<double> b = SortedFinite(b_in);
  if (a.empty() || b.empty()) return kNaN;
  std::vector<double> all(a);
  all.insert(all.end(), b.begin(), b.end());
  std::sort(all.begin(), all.end());
  // ∫ |F_a − F_b| over the gaps between consecutive values of both samples.
  double sum = 0;
  size_t i = 0, j = 0;
  for (size_t k = 0; k + 1 < all.size(); ++k) {
    while (i < a.size() && a[i] <= all[k]) ++i;
    while (j < b.size() && b[j] <= all[k]) ++j;
    const double fa = static_cast<double>(i) / static_cast<double>(a.size());
    const double fb = static_cast<double>(j) / static_cast<double>(b.size());
    sum += std::abs(fa - fb) * (all[k + 1] - all[k]);
  }
  return sum;
}

double NormalizedWasserstein(std::span<const double> reference, std::span<const double> current) {
  const double distance = WassersteinDistance(reference, current);
  if (std::isnan(distance)) return kNaN;
  data::Moments moments;
  moments.Add(reference);
  return distance / std::max(moments.PopulationStddev(), 0.001);
}

double RegularizedUpperGamma(double a, double x) {
  if (std::isnan(a) || std::isnan(x) || a <= 0 || x < 0) return kNaN;
  if (x == 0) return 1.0;
  if (std::isinf(x)) return 0.0;
  using LD = long double;
  const LD la = a, lx = x;
  // x^a e^{-x} / Γ(a), in log space: the terms are large for large a.
  const LD log_prefactor = la * std::log(lx) - lx - std::lgamma(la);
  constexpr int kMaxIterations = 100000;
  constexpr LD kEps = 1e-17L;
  if (x < a + 1) {
    // P(a, x) = prefactor / a · Σ x^n / ((a+1)…(a+n)); Q = 1 − P.
    LD term = 1 / la, sum = term;
    for (int n = 1; n < kMaxIterations; ++n) {
      term *= lx / (la + n);
      sum += term;
      if (std::abs(term) < std::abs(sum) * kEps) break;
    }
    const LD p = sum * std::exp(log_prefactor);
    return static_cast<double>(std::clamp<LD>(1 - p, 0, 1));
  }
  // Q(a, x) = prefactor · 1 / (x + 1 − a − 1·(1 − a) / (x + 3 − a − …)), Lentz's method.
  constexpr LD kTiny = 1e-300L;
  LD b = lx + 1 - la;
  LD c = 1 / kTiny;
  LD d = 1 / b;
  LD h = d;
  for (int i = 1; i < kMaxIterations; ++i) {
    const LD an = -i * (i - la);
    b += 2;
    d = an * d + b;
    if (std::abs(d) < kTiny) d = kTiny;
    c = b + an / c;
    if (std::abs(c) < kTiny) c = kTiny;
    d = 1 / d;
    const LD delta = d * c;
    h *= delta;
    if (std::abs(delta - 1) < kEps) break;
  }
  return static_cast<double>(std::clamp<LD>(std::exp(log_prefactor) * h, 0, 1));
}

ChiSquaredResult ChiSquaredTest(std::span<const double> observed,
                                std::span<const double> expected) {
  ChiSquaredResult r;
  r.dof = static_cast<int>(observed.size()) - 1;
  if (observed.size() != expected.size() || observed.empty()) {
    r.statistic = kNaN;
    r.p_value = kNaN;
    return r;
  }
  double stat = 0;
  for (size_t i = 0; i < observed.size(); ++i) {
    const double o = observed[i], e = expected[i];
    if (e == 0) {
      if (o != 0) stat = kInf;
      continue;
    }
    stat += (o - e) * (o - e) / e;
  }
  r.statistic = stat;
  if (r.dof <= 0) {
    r.p_value = kNaN;  // one category: nothing to test
  } else if (std::isinf(stat)) {
    r.p_value = 0.0;
  } else {
    r.p_value = RegularizedUpperGamma(r.dof / 2.0, stat / 2.0);
  }
  return r;
}

double JensenShannonDistance(std::span<const double> p_in, std::span<const double> q_in) {
  if (p_in.size() != q_in.size() || p_in.empty()) return kNaN;
  const double sp = std::accumulate(p_in.begin(), p_in.end(), 0.0);
  const double sq = std::accumulate(q_in.begin(), q_in.end(), 0.0);
  if (!(sp > 0) || !(sq > 0)) return kNaN;
  // rel_entr(x, y) = x ln(x / y), 0 for x = 0.
  auto rel_entr = [](double x, double y) {
    if (x > 0 && y > 0) return x * std::log(x / y);
    if (x == 0 && y >= 0) return 0.0;
    return kInf;
  };
  double js = 0;
  for (size_t i = 0; i < p_in.size(); ++i) {
    const double p = p_in[i] / sp, q = q_in[i] / sq;
    const double m = (p + q) / 2.0;
    js += rel_entr(p, m) + rel_entr(q, m);
  }
  return std::sqrt(std::max(0.0, js) / 2.0);
}

TestResult TwoProportionZTest(int64_t ref_successes, int64_t ref_n, int64_t cur_successes,
                              int64_t cur_n) {
  if (ref_n <= 0 || cur_n <= 0) return {kNaN, kNaN};
  const double n1 = static_cast<double>(ref_n), n2 = static_cast<double>(cur_n);
  const double p1 = static_cast<double>(ref_successes) / n1;
  const double p2 = static_cast<double>(cur_successes) / n2;
  const double pooled = (p1 * n1 + p2 * n2) / (n1 + n2);
  const double var = pooled * (1 - pooled) * (1.0 / n1 + 1.0 / n2);
  if (!(var > 0)) return {0.0, 1.0};  // both all-successes or both none: the same proportion
  const double z = (p1 - p2) / std::sqrt(var);
  return {z, std::erfc(std::abs(z) / std::sqrt(2.0))};
}

double PopulationStabilityIndex(std::span<const double> ref_shares,
                                std::span<const double> cur_shares) {
  if (ref_shares.size() != cur_shares.size()) return kNaN;
  return data::PopulationStabilityIndex(ref_shares, cur_shares);
}

std::string PsiLevel(double psi) {
  if (std::isnan(psi)) return "";
  if (psi < 0.1) return "stable";
  if (psi < 0.2) return "moderate";
  return "significant";
}

std::string FormatCategory(double value) {
  if (value == 0) return "0";  // also −0
  char buf[64];
  auto [end, ec] = std::to_chars(buf, buf + sizeof(buf), value);
  if (ec != std::errc()) return std::to_string(value);
  return std::string(buf, end);
}

// ---------------------------------------------------------------------------------------------
// Thresholds as JSON.

nlohmann::json ToJson(const DriftThresholds& t) {
  return {{"p_value", t.p_value},
          {"wasserstein", t.wasserstein},
          {"jensen_shannon", t.jensen_shannon},
          {"psi", t.psi},
          {"max_reference_for_tests", t.max_reference_for_tests},
          {"min_current", t.min_current},
          {"js_numeric_bins", t.js_numeric_bins},
          {"drift_share", t.drift_share}};
}

Result<DriftThresholds> DriftThresholdsFromJson(const nlohmann::json& j) {
  if (!j.is_object()) return InvalidArgument("thresholds: expected an object");
  DriftThresholds t;
  auto bad = [](const std::string& key, const std::string& expected) {
    return InvalidArgument("thresholds." + key + ": expected " + expected);
  };
  for (auto item = j.begin(); item != j.end(); ++item) {
    // Named, not a structured binding: the lambdas below capture them (clang 14 cannot capture
    // a binding).
    const std::string& key = item.key();
    const nlohmann::json& value = item.value();
    // A probability-like number in (0, 1) (or (0, 1] when `closed`).
    auto unit = [&](double& out, bool closed) -> Status {
      const std::string range = closed ? "a number in (0, 1]" : "a number in (0, 1)";
      if (!value.is_number()) return bad(key, range);
      double v = value.get<double>();
      if (!(v > 0) || (closed ? v > 1 : v >= 1)) return bad(key, range);
      out = v;
      return Status();
    };
    auto positive = [&](double& out) -> Status {
      if (!value.is_number()) return bad(key, "a positive number");
      double v = value.get<double>();
      if (!(v > 0) || !std::isfinite(v)) return bad(key, "a positive number");
      out = v;
      return Status();
    };
    auto integer = [&](int64_t lo, int64_t hi, int64_t& out) -> Status {
      const std::string range =
          "an integer in [" + std::to_string(lo) + ", " + std::to_string(hi) + "]";
      if (!value.is_number_integer()) return bad(key, range);
      if (value.is_number_unsigned() && value.get<uint64_t>() > static_cast<uint64_t>(hi)) {
        return bad(key, range);
      }
      int64_t v = value.get<int64_t>();
      if (v < lo || v > hi) return bad(key, range);
      out = v;
      return Status();
    };
    int64_t n = 0;
    if (key == "p_value") {
      CAIRN_RETURN_IF_ERROR(unit(t.p_value, false));
    } else if (key == "wasserstein") {
      CAIRN_RETURN_IF_ERROR(positive(t.wasserstein));
    } else if (key == "jensen_shannon") {
      CAIRN_RETURN_IF_ERROR(unit(t.jensen_shannon, false));
    } else if (key == "psi") {
      CAIRN_RETURN_IF_ERROR(positive(t.psi));
    } else if (key == "drift_share") {
      CAIRN_RETURN_IF_ERROR(unit(t.drift_share, true));
    } else if (key == "max_reference_for_tests") {
      CAIRN_RETURN_IF_ERROR(integer(0, 1000000000, n));
      t.max_reference_for_tests = static_cast<size_t>(n);
    } else if (key == "min_current") {
      CAIRN_RETURN_IF_ERROR(integer(1, 1000000000, n));
      t.min_current = static_cast<size_t>(n);
    } else if (key == "js_numeric_bins") {
      CAIRN_RETURN_IF_ERROR(integer(2, 1000, n));
      t.js_numeric_bins = static_cast<int>(n);
    } else {
      return InvalidArgument("thresholds." + key +
                             ": unknown field (expected p_value, wasserstein, jensen_shannon, psi, "
                             "max_reference_for_tests, min_current, js_numeric_bins, drift_share)");
    }
  }
  return t;
}

// ---------------------------------------------------------------------------------------------
// Column decisions.

ColumnDrift CompareNumeric(std::string_view column, const data::ColumnProfile& reference,
                           std::span<const double> current, const DriftThresholds& t) {
  if (reference.type == data::ColumnType::kBoolean) {
    // Live booleans often arrive as 0/1: compare them as the categories the profile counts.
    std::vector<std::string> values;
    for (double v : current) {
      if (!std::isnan(v)) values.push_back(v != 0 ? "true" : "false");
    }
    return CompareCategorical(column, reference, values, t);
  }
  const bool few_distinct = reference.distinct <= 5;
  ColumnDrift d = Start(column, few_distinct ? "categorical" : "numeric");
  const std::vector<double> cur = SortedFinite(current);
  const std::vector<double>& ref = reference.numeric_sample.items();
  d.current_count = static_cast<int64_t>(cur.size());
  d.reference_count = static_cast<int64_t>(ref.size());
  if (!reference.numeric()) {
    return Undecided(std::move(d), "the reference column is " +
                                       std::string(data::ColumnTypeName(reference.type)) +
                                       ", not numeric");
  }
  if (!reference.quantile_sketch.empty() && !cur.empty()) {
    std::vector<double> edges = data::PsiDecileEdges(reference.quantile_sketch);
    SetPsi(d, data::PopulationStabilityIndex(data::PsiBinShares(reference.quantile_sketch, edges),
                                             data::PsiBinShares(cur, edges)));
  }
  if (ref.empty()) return Undecided(std::move(d), "no reference values");
  if (cur.size() < t.min_current)
    return Undecided(std::move(d), TooFew(d.current_count, t.min_current));
  if (few_distinct) {
    DecideCategorical(d, CountsOfNumbers(ref), CountsOfNumbers(cur), t);
  } else if (ref.size() <= t.max_reference_for_tests) {
    DecideP(d, "ks", KsTwoSample(ref, cur), t.p_value);
  } else {
    DecideDistance(d, "wasserstein", WassersteinDistance(ref, cur), NormalizedWasserstein(ref, cur),
                   t.wasserstein);
  }
  return d;
}

ColumnDrift CompareCategorical(std::string_view column, const data::ColumnProfile& reference,
                               std::span<const std::string> current, const DriftThresholds& t) {
  ColumnDrift d = Start(column, "categorical");
  const Counts ref = ReferenceCounts(reference);
  // Missing values are left out as the profile leaves them out; booleans are compared in the
  // profile's spelling ("TRUE" is "true").
  const bool boolean = reference.type == data::ColumnType::kBoolean;
  Counts cur;
  for (const auto& v : current) {
    if (data::IsMissing(v)) continue;
    std::optional<bool> b = boolean ? data::ParseBoolean(v) : std::nullopt;
    cur.Add(b ? (*b ? "true" : "false") : v);
  }
  d.reference_count = static_cast<int64_t>(ref.total);
  d.current_count = static_cast<int64_t>(cur.total);
  if (cur.total > 0) SetPsi(d, CategoricalPsi(ref, cur));
  if (ref.total <= 0) return Undecided(std::move(d), "no reference values");
  if (static_cast<size_t>(cur.total) < t.min_current) {
    return Undecided(std::move(d), TooFew(d.current_count, t.min_current));
  }
  DecideCategorical(d, ref, cur, t);
  return d;
}

ColumnDrift CompareSamples(std::string_view column, std::span<const double> reference,
                           std::span<const double> current, const DriftThresholds& t) {
  const std::vector<double> ref = SortedFinite(reference);
  const std::vector<double> cur = SortedFinite(current);
  std::vector<double> both(ref);
  both.insert(both.end(), cur.begin(), cur.end());
  std::sort(both.begin(), both.end());
  // Evidently decides "numeric" on the values of both samples together.
  const bool few_distinct = DistinctSorted(both) <= 5;
  ColumnDrift d = Start(column, few_distinct ? "categorical" : "numeric");
  d.reference_count = static_cast<int64_t>(ref.size());
  d.current_count = static_cast<int64_t>(cur.size());
  if (!ref.empty() && !cur.empty()) {
    std::vector<double> edges = SampleDecileEdges(ref);
    SetPsi(d, data::PopulationStabilityIndex(data::PsiBinShares(ref, edges),
                                             data::PsiBinShares(cur, edges)));
  }
  if (ref.empty()) return Undecided(std::move(d), "no reference values");
  if (cur.size() < t.min_current)
    return Undecided(std::move(d), TooFew(d.current_count, t.min_current));
  if (few_distinct) {
    DecideCategorical(d, CountsOfNumbers(ref), CountsOfNumbers(cur), t);
  } else if (ref.size() <= t.max_reference_for_tests) {
    DecideP(d, "ks", KsTwoSample(ref, cur), t.p_value);
  } else if (DistinctSorted(ref) > 20) {
    const double js = BinnedJs(ref, cur, t.js_numeric_bins);
    DecideDistance(d, "jensen_shannon", js, js, t.jensen_shannon);
  } else {
    // Evidently bins a reference with at most 20 distinct values by value, not by range.
    const double js = CategoricalJs(CountsOfNumbers(ref), CountsOfNumbers(cur));
    DecideDistance(d, "jensen_shannon", js, js, t.jensen_shannon);
  }
  return d;
}

DriftSummary Summarize(const std::vector<ColumnDrift>& columns, double drift_share) {
  DriftSummary s;
  for (const auto& c : columns) {
    if (!c.counted) continue;
    ++s.counted;
    if (c.drifted) ++s.drifted;
  }
  s.share = s.counted > 0 ? static_cast<double>(s.drifted) / s.counted : 0.0;
  s.dataset_drift = s.counted > 0 && s.share >= drift_share;
  return s;
}

// ---------------------------------------------------------------------------------------------
// ColumnDrift as JSON.

nlohmann::json ToJson(const ColumnDrift& d) {
  return {{"column", d.column},
          {"kind", d.kind},
          {"test", d.test},
          {"statistic", Number(d.statistic)},
          {"p_value", Number(d.p_value)},
          {"score", Number(d.score)},
          {"threshold", Number(d.threshold)},
          {"drifted", d.drifted},
          {"psi", Number(d.psi)},
          {"psi_level", d.psi_level},
          {"reference_count", d.reference_count},
          {"current_count", d.current_count},
          {"note", d.note},
          {"counted", d.counted}};
}

Result<ColumnDrift> ColumnDriftFromJson(const nlohmann::json& j) {
  if (!j.is_object()) return InvalidArgument("drift: expected an object");
  ColumnDrift d;
  auto missing = [](const char* key, const char* expected) {
    return InvalidArgument(std::string("drift.") + key + ": expected " + expected);
  };
  auto string_field = [&](const char* key, std::string& out) -> Status {
    auto it = j.find(key);
    if (it == j.end() || !it->is_string()) return missing(key, "a string");
    out = it->get<std::string>();
    return Status();
  };
  auto number_field = [&](const char* key, double& out) -> Status {
    auto it = j.find(key);
    if (it == j.end() || !(it->is_number() || it->is_null())) {
      return missing(key, "a number or null");
    }
    out = it->is_null() ? kNaN : it->get<double>();
    return Status();
  };
  auto bool_field = [&](const char* key, bool& out) -> Status {
    auto it = j.find(key);
    if (it == j.end() || !it->is_boolean()) return missing(key, "true or false");
    out = it->get<bool>();
    return Status();
  };
  auto int_field = [&](const char* key, int64_t& out) -> Status {
    auto it = j.find(key);
    if (it == j.end() || !it->is_number_integer()) return missing(key, "an integer");
    out = it->get<int64_t>();
    return Status();
  };
  CAIRN_RETURN_IF_ERROR(string_field("column", d.column));
  CAIRN_RETURN_IF_ERROR(string_field("kind", d.kind));
  if (d.kind != "numeric" && d.kind != "categorical") {
    return missing("kind", "\"numeric\" or \"categorical\"");
  }
  CAIRN_RETURN_IF_ERROR(string_field("test", d.test));
  static const std::set<std::string> kTests = {"",     "ks", "wasserstein",
                                               "chi2", "z",  "jensen_shannon"};
  if (!kTests.contains(d.test)) {
    return missing("test", "one of \"ks\", \"wasserstein\", \"chi2\", \"z\", \"jensen_shannon\"");
  }
  CAIRN_RETURN_IF_ERROR(number_field("statistic", d.statistic));
  CAIRN_RETURN_IF_ERROR(number_field("p_value", d.p_value));
  CAIRN_RETURN_IF_ERROR(number_field("score", d.score));
  CAIRN_RETURN_IF_ERROR(number_field("threshold", d.threshold));
  CAIRN_RETURN_IF_ERROR(bool_field("drifted", d.drifted));
  CAIRN_RETURN_IF_ERROR(number_field("psi", d.psi));
  CAIRN_RETURN_IF_ERROR(string_field("psi_level", d.psi_level));
  CAIRN_RETURN_IF_ERROR(int_field("reference_count", d.reference_count));
  CAIRN_RETURN_IF_ERROR(int_field("current_count", d.current_count));
  CAIRN_RETURN_IF_ERROR(string_field("note", d.note));
  CAIRN_RETURN_IF_ERROR(bool_field("counted", d.counted));
  return d;
}

nlohmann::json ToJson(const DriftSummary& s) {
  return {{"counted", s.counted},
          {"drifted", s.drifted},
          {"share", s.share},
          {"dataset_drift", s.dataset_drift}};
}

}  // namespace cairn::monitoring
