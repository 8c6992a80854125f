#!/usr/bin/env python3
"""Compares Redflag's Isolation Forest with scikit-learn's on the same data (run on demand).

Datasets (nothing is downloaded: the breast-cancer data ships inside scikit-learn):
  * breast cancer as anomaly detection: all benign rows are inliers, malignant rows subsampled to
    about 10% of the set are the anomalies (a new subsample per seed);
  * a synthetic transaction set: ordinary transfers plus 2% planted structuring, night-time
    bursts and pass-through rows.
Both forests use the same psi (256) and t (100); the table reports ROC AUC averaged over 5 seeds.

Usage: python3 crates/ml-core/compare/compare_sklearn.py   (needs numpy and scikit-learn)
"""
import os
import subprocess
import sys
import tempfile
import time

import numpy as np
from sklearn.datasets import load_breast_cancer
from sklearn.ensemble import IsolationForest
from sklearn.metrics import roc_auc_score

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", ".."))
SEEDS = range(5)
TREES, PSI = 100, 256


def breast_cancer(seed):
    data = load_breast_cancer()
    x, y = data.data, data.target  # target 1 = benign, 0 = malignant
    benign, malignant = x[y == 1], x[y == 0]
    rng = np.random.default_rng(seed)
    count = round(len(benign) * 0.10 / 0.90)
    anomalies = malignant[rng.choice(len(malignant), count, replace=False)]
    return np.vstack([benign, anomalies]), np.r_[np.zeros(len(benign)), np.ones(count)]


def transactions(seed, rows=5000, rate=0.02):
    """Features: log amount, hour of day, transfers in 24 h, distinct receivers in 24 h,
    amount over the sender's average, share of inflow sent on within 24 h."""
    rng = np.random.default_rng(1000 + seed)
    normal = rows - int(rows * rate)
    ordinary = np.column_stack([
        rng.normal(7.0, 1.5, normal),                    # amounts log-normal, median ~1,100
        np.clip(rng.normal(14, 3.5, normal), 0, 23.99),  # daytime hours
        rng.poisson(3, normal),
        rng.poisson(2, normal),
        rng.lognormal(0, 0.45, normal),
        rng.beta(2, 6, normal),
    ])
    planted = []
    per_kind = (rows - normal) // 3
    planted.append(np.column_stack([              # structuring: several transfers just under 10,000
        np.log(rng.uniform(8000, 9999, per_kind)), np.clip(rng.normal(13, 3.5, per_kind), 0, 23.99),
        rng.poisson(3, per_kind) + 2, rng.poisson(2, per_kind), rng.lognormal(0.5, 0.4, per_kind),
        rng.beta(2, 6, per_kind)]))
    planted.append(np.column_stack([              # night bursts to new receivers
        rng.normal(7.2, 1.2, per_kind), rng.uniform(0.5, 6, per_kind),
        rng.poisson(6, per_kind), rng.poisson(4, per_kind), rng.lognormal(0.3, 0.45, per_kind),
        rng.beta(2, 5, per_kind)]))
    rest = rows - normal - 2 * per_kind
    planted.append(np.column_stack([              # pass-through: in and mostly out again
        rng.normal(8.0, 1.2, rest), np.clip(rng.normal(13, 4, rest), 0, 23.99),
        rng.poisson(4, rest), rng.poisson(3, rest), rng.lognormal(0.5, 0.45, rest),
        rng.beta(9, 3, rest)]))
    anomalies = np.vstack(planted)
    return np.vstack([ordinary, anomalies]), np.r_[np.zeros(normal), np.ones(len(anomalies))]


def redflag_scores(x, seed, binary):
    with tempfile.NamedTemporaryFile("w", suffix=".csv", delete=False) as handle:
        np.savetxt(handle, x, delimiter=",", fmt="%.17g")
        path = handle.name
    try:
        out = subprocess.run([binary, path, str(TREES), str(PSI), str(seed)], check=True,
                             capture_output=True, text=True).stdout
    finally:
        os.unlink(path)
    return np.array([float(line) for line in out.split()])


def main():
    subprocess.run(["cargo", "build", "--release", "-q", "-p", "redflag-ml-core", "--example", "iforest_scores"],
                   check=True, cwd=ROOT)
    binary = os.path.join(ROOT, "target", "release", "examples", "iforest_scores")
    print(f"scikit-learn {__import__('sklearn').__version__}, t={TREES}, psi={PSI}, seeds {list(SEEDS)}")
    print("| data set | rows | anomalies | scikit-learn ROC AUC | Redflag ROC AUC | difference |")
    print("|---|---|---|---|---|---|")
    for name, make in [("breast cancer (malignant as anomalies)", breast_cancer),
                       ("synthetic transactions", transactions)]:
        ours, theirs = [], []
        for seed in SEEDS:
            x, y = make(seed)
            forest = IsolationForest(n_estimators=TREES, max_samples=PSI, random_state=seed).fit(x)
            theirs.append(roc_auc_score(y, -forest.score_samples(x)))
            ours.append(roc_auc_score(y, redflag_scores(x, seed, binary)))
        x, y = make(0)
        print(f"| {name} | {len(y)} | {int(y.sum())} | {np.mean(theirs):.4f} | {np.mean(ours):.4f} | "
              f"{np.mean(ours) - np.mean(theirs):+.4f} |")

    x, _ = transactions(0)
    forest = IsolationForest(n_estimators=TREES, max_samples=PSI, random_state=0).fit(x)
    row = x[:1]
    forest.score_samples(row)
    runs = 2000
    start = time.perf_counter()
    for _ in range(runs):
        forest.score_samples(row)
    per_row = (time.perf_counter() - start) / runs * 1e6
    print(f"\nscikit-learn score_samples, one row of {x.shape[1]} features: {per_row:.0f} us per call")
    return 0


if __name__ == "__main__":
    sys.exit(main())
