#!/usr/bin/python3
"""Reference values for src/monitoring/drift_test.cc, computed by SciPy.

Regenerate (Debian's python3, which has numpy and scipy; the python3 first on PATH may not):

    /usr/bin/python3 src/monitoring/testdata/drift_reference.py \
        > src/monitoring/testdata/drift_reference.json

The output is deterministic (seeded generator, sorted keys), so running it again must give the
committed file byte for byte; drift_test.cc checks that when /usr/bin/python3 has SciPy.

Every number comes from the SciPy call the C++ function claims to match:
  ks          scipy.stats.ks_2samp(a, b)               (method='auto': exact or asymptotic)
  wasserstein scipy.stats.wasserstein_distance(a, b)   and the normalized form / max(std0, 1e-3)
  chi2        scipy.stats.chisquare(observed, expected)
  gammaincc   scipy.special.gammaincc(a, x)
  js          scipy.spatial.distance.jensenshannon(p, q)
  z           Evidently's two-proportion z-test, p from scipy.stats.norm
  psi         the closed form Σ (q − p) ln(q / p) with shares floored at 1e-4
  evidently_* Evidently's chi-squared / Jensen–Shannon stat tests on raw samples (its keys,
              expected counts and feel_zeroes, re-stated below), with SciPy's statistics.
"""

import json
import math
import sys
import warnings

import numpy as np
from scipy import special, stats
from scipy.spatial import distance

warnings.simplefilter("ignore")  # chisquare's divide-by-zero for a new category is expected

rng = np.random.default_rng(20261126)


def r4(x):
    """Rounded to 4 decimals: keeps the fixture small, and makes ties like real data."""
    return [float(v) for v in np.round(np.asarray(x, dtype=float), 4)]


def num(x):
    """JSON has no inf / NaN: they are written as strings."""
    x = float(x)
    if math.isnan(x):
        return "nan"
    if math.isinf(x):
        return "inf" if x > 0 else "-inf"
    return x


samples = {
    "big": r4(rng.normal(0.0, 1.0, 10500)),
    "n400_shift": r4(rng.normal(0.15, 1.0, 400)),
    "n400_same": r4(rng.normal(0.0, 1.0, 400)),
    "n3000": r4(rng.normal(0.02, 1.0, 3000)),
    "n60": r4(rng.normal(0.3, 1.0, 60)),
    "n50": r4(rng.normal(0.0, 1.0, 50)),
    "n60b": r4(rng.normal(0.8, 1.0, 60)),
    "n40a": r4(rng.normal(0.0, 1.0, 40)),
    "n40b": r4(rng.normal(0.5, 1.0, 40)),
    "n8": r4(rng.normal(0.0, 1.0, 8)),
    "n10": r4(rng.normal(1.0, 1.0, 10)),
    "ties100": [float(v) for v in rng.integers(0, 6, 100)],
    "ties80": [float(v) for v in rng.integers(1, 7, 80)],
    "n1000": r4(rng.normal(0.0, 1.0, 1000)),
    "n700": r4(rng.normal(0.1, 1.2, 700)),
    "n5000a": r4(rng.normal(0.0, 1.0, 5000)),
    "n5000b": r4(rng.normal(0.0, 1.0, 5000)),
    "exp2000": r4(rng.exponential(1.0, 2000)),
    "exp1500": r4(rng.exponential(1.3, 1500)),
    "n100": r4(rng.normal(0.1, 1.0, 100)),
    "const20": [2.5] * 20,
    "one": [1.0],
    "two": [3.0, -1.0],
}

samples["big_every50"] = sorted(samples["big"])[7::50]
samples["big_skip80"] = sorted(samples["big"])[80::25]
samples["big_skip460"] = sorted(samples["big"])[460::70]

ks_pairs = [
    ("n50", "n50"),          # identical: d 0, p 1
    ("n50", "n60"),          # exact, unequal sizes
    ("n60", "n60b"),         # exact, clear shift
    ("n40a", "n40b"),        # exact, equal sizes
    ("n8", "n10"),           # small samples
    ("ties100", "ties80"),   # ties
    ("n1000", "n700"),       # exact, larger
    ("n5000a", "n5000b"),    # exact, equal sizes, same distribution
    ("exp2000", "exp1500"),
    ("one", "two"),
    ("big", "n400_shift"),   # asymptotic (max size > 10000), n_eff > 140, far tail
    ("big", "n400_same"),    # asymptotic, n_eff > 140, body
    ("big", "n3000"),        # asymptotic, large n_eff
    ("big", "n60"),          # asymptotic, n_eff ≤ 140
    ("n10", "big"),          # asymptotic, tiny n_eff
    ("big", "n100"),         # asymptotic, n_eff ≤ 140, middle
    ("big", "big_every50"),  # asymptotic, n_eff > 140, tiny statistic
    ("big", "big_skip80"),   # asymptotic, n_eff > 140, Durbin matrix
    ("big", "big_skip460"),  # asymptotic, n_eff > 140, Durbin matrix
]
ks = []
for a, b in ks_pairs:
    res = stats.ks_2samp(samples[a], samples[b])
    ks.append({"a": a, "b": b, "statistic": num(res.statistic), "p_value": num(res.pvalue)})

w_pairs = [("n50", "n50"), ("n50", "n60"), ("n8", "n10"), ("ties100", "ties80"),
           ("n1000", "n700"), ("exp2000", "exp1500"), ("const20", "n10"), ("one", "two")]
wasserstein = []
for a, b in w_pairs:
    d = stats.wasserstein_distance(samples[a], samples[b])
    # Evidently's wasserstein_distance_norm: norm = max(np.std(reference), 0.001)
    norm = max(np.std(samples[a]), 0.001)
    wasserstein.append({"a": a, "b": b, "distance": num(d), "normalized": num(d / norm)})

chi2_cases = [
    ([10, 20, 30], [20, 20, 20]),
    ([5, 15, 25, 55], [25, 25, 25, 25]),
    ([100, 102, 98, 100, 101, 99], [100] * 6),          # tiny statistic
    ([12, 0, 30, 8], [10.5, 4.5, 22.0, 13.0]),
    ([3, 7, 5], [7.5, 7.5, 0.0]),                      # a new category: inf, p 0
    ([400, 350, 250, 30, 70, 100, 300, 500, 200, 100, 50, 150],
     [300.0, 300.0, 300.0, 100.0, 100.0, 100.0, 250.0, 250.0, 250.0, 200.0, 150.0, 200.0]),
    ([60, 40], [50, 50]),
]
chi2 = []
for obs, exp in chi2_cases:
    res = stats.chisquare(obs, exp)
    chi2.append({"observed": [float(v) for v in obs], "expected": [float(v) for v in exp],
                 "statistic": num(res.statistic), "p_value": num(res.pvalue),
                 "dof": len(obs) - 1})

gamma_points = [(0.5, 0.1), (0.5, 3.0), (1.0, 1.0), (1.5, 0.2), (2.5, 10.0), (5.0, 4.0),
                (10.0, 30.0), (50.0, 45.0), (50.0, 80.0), (200.0, 190.0), (3.0, 0.0),
                (0.5, 40.0), (1000.0, 1100.0)]
gammaincc = [{"a": a, "x": x, "q": num(special.gammaincc(a, x))} for a, x in gamma_points]

js_cases = [
    ([0.5, 0.5], [0.5, 0.5]),
    ([0.1, 0.4, 0.5], [0.3, 0.3, 0.4]),
    ([1.0, 0.0], [0.0, 1.0]),                    # disjoint: sqrt(ln 2)
    ([3, 1, 0, 6], [2, 2, 2, 4]),                # unnormalized, with a zero
    ([0.2, 0.2, 0.2, 0.2, 0.2], [0.0001, 0.0001, 0.0001, 0.0001, 0.9996]),
]
js = [{"p": [float(v) for v in p], "q": [float(v) for v in q],
       "distance": num(distance.jensenshannon(p, q))} for p, q in js_cases]


def evidently_z(x_ref, n_ref, x_cur, n_cur):
    # evidently.calculations.stattests.z_stattest.proportions_diff_z_stat_ind / _z_test
    p1 = x_ref / n_ref
    p2 = x_cur / n_cur
    pooled = (p1 * n_ref + p2 * n_cur) / (n_ref + n_cur)
    z = (p1 - p2) / np.sqrt(pooled * (1 - pooled) * (1.0 / n_ref + 1.0 / n_cur))
    return z, 2 * (1 - stats.norm.cdf(np.abs(z)))


z = []
for x_ref, n_ref, x_cur, n_cur in [(50, 100, 50, 100), (300, 1000, 80, 200), (30, 200, 60, 150),
                                   (500, 900, 20, 100), (1, 40, 4, 35)]:
    zs, p = evidently_z(x_ref, n_ref, x_cur, n_cur)
    z.append({"ref_successes": x_ref, "ref_n": n_ref, "cur_successes": x_cur, "cur_n": n_cur,
              "statistic": num(zs), "p_value": num(p)})


def closed_psi(p, q):
    return sum((max(b, 1e-4) - max(a, 1e-4)) * math.log(max(b, 1e-4) / max(a, 1e-4))
               for a, b in zip(p, q))


psi_cases = [
    ([0.1] * 10, [0.1] * 10),
    ([0.5, 0.5], [0.6, 0.4]),
    ([0.25, 0.25, 0.25, 0.25], [0.1, 0.2, 0.3, 0.4]),
    ([0.5, 0.5, 0.0], [0.4, 0.4, 0.2]),          # an empty baseline bin, floored
    ([0.3, 0.7], [1.0, 0.0]),
]
psi = [{"ref": p, "cur": q, "psi": num(closed_psi(p, q))} for p, q in psi_cases]


# Evidently's categorical tests on raw samples (evidently.calculations.stattests):
# chi_stat_test: keys = the union of non-NaN values; expected = reference count × (current size /
# reference size); observed = current counts.
def evidently_chi2(ref, cur):
    keys = sorted(set(ref) | set(cur))
    k_norm = len(cur) / len(ref)
    exp = [ref.count(k) * k_norm for k in keys]
    obs = [cur.count(k) for k in keys]
    res = stats.chisquare(obs, exp)
    return res.statistic, res.pvalue


def feel_zeroes(a):
    # utils.get_binned_data(..., feel_zeroes=True)
    a = np.array(a, dtype=float)
    nonzero = a[a != 0]
    fill = nonzero.min() / 10**6 if nonzero.min() <= 0.0001 else 0.0001
    a[a == 0] = fill
    return a


def evidently_js_categorical(ref, cur):
    keys = sorted(set(ref) | set(cur))
    p = feel_zeroes([ref.count(k) / len(ref) for k in keys])
    q = feel_zeroes([cur.count(k) / len(cur) for k in keys])
    return distance.jensenshannon(p, q)


def evidently_js_numeric(ref, cur, bins=30):
    edges = np.histogram_bin_edges(np.concatenate([ref, cur]), bins=bins)
    p = feel_zeroes(np.histogram(ref, edges)[0] / len(ref))
    q = feel_zeroes(np.histogram(cur, edges)[0] / len(cur))
    return distance.jensenshannon(p, q)


cat_rng = np.random.default_rng(7)
colors = ["red", "green", "blue", "black"]
cat_samples = {
    "ref_small": [str(v) for v in cat_rng.choice(colors[:3], 500, p=[0.5, 0.3, 0.2])],
    "cur_same": [str(v) for v in cat_rng.choice(colors[:3], 300, p=[0.5, 0.3, 0.2])],
    "cur_new": [str(v) for v in cat_rng.choice(colors, 300, p=[0.45, 0.25, 0.2, 0.1])],
    "ref_large": [str(v) for v in cat_rng.choice(colors[:3], 3000, p=[0.5, 0.3, 0.2])],
    "cur_shift": [str(v) for v in cat_rng.choice(colors[:3], 800, p=[0.2, 0.3, 0.5])],
}
evidently = {
    "chi2": [],
    "js_categorical": [],
    "js_numeric": [],
}
for ref, cur in [("ref_small", "cur_same"), ("ref_small", "cur_new")]:
    s, p = evidently_chi2(cat_samples[ref], cat_samples[cur])
    evidently["chi2"].append({"ref": ref, "cur": cur, "statistic": num(s), "p_value": num(p)})
for ref, cur in [("ref_large", "cur_shift"), ("ref_large", "cur_new"), ("ref_large", "cur_same")]:
    evidently["js_categorical"].append(
        {"ref": ref, "cur": cur,
         "distance": num(evidently_js_categorical(cat_samples[ref], cat_samples[cur]))})
for ref, cur in [("big", "n400_shift"), ("big", "n3000"), ("exp2000", "exp1500")]:
    evidently["js_numeric"].append(
        {"ref": ref, "cur": cur, "bins": 30,
         "distance": num(evidently_js_numeric(np.array(samples[ref]), np.array(samples[cur])))})

out = {
    "generator": "src/monitoring/testdata/drift_reference.py",
    "scipy": __import__("scipy").__version__,
    "numpy": np.__version__,
    "samples": samples,
    "categorical_samples": cat_samples,
    "ks": ks,
    "wasserstein": wasserstein,
    "chi2": chi2,
    "gammaincc": gammaincc,
    "jensen_shannon": js,
    "z": z,
    "psi": psi,
    "evidently": evidently,
}
json.dump(out, sys.stdout, sort_keys=True, separators=(",", ":"))
sys.stdout.write("\n")
