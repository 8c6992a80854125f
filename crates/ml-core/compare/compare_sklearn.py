#!/usr/bin/env python3
"""Compares Redflag's models with scikit-learn's on the same data (run on demand).

Datasets (nothing is downloaded: the breast-cancer data ships inside scikit-learn):
  * breast cancer as anomaly detection: all benign rows are inliers, malignant rows subsampled to
    about 10% of the set are the anomalies (a new subsample per seed);
  * a synthetic transaction set: ordinary transfers plus 2% planted structuring, night-time
    bursts and pass-through rows.
Both forests use the same psi (256) and t (100); the table reports ROC AUC averaged over 5 seeds.

The logistic models (Redflag's: standardised, one-hot, L2 alpha = 1; scikit-learn's: StandardScaler,
OneHotEncoder and LogisticRegression with its default C = 1) are compared on the same 70/30 split of
  * breast cancer as a classification task, and
  * a synthetic credit set with categorical columns (housing, purpose, employment type).

Two design questions are answered with data too (`--variants`, needs isotree and pandas):
  * is the extended Isolation Forest (random hyperplanes, Hariri et al. 2018) better than the
    standard one on these sets? (isotree, same psi and t, averaged over 5 seeds)
  * is a tree ensemble clearly better than logistic regression for the credit model?
    (scikit-learn's random forest and histogram gradient boosting on the same split)

Usage: python3 crates/ml-core/compare/compare_sklearn.py [--variants]   (needs numpy and scikit-learn)
"""
import os
import subprocess
import sys
import tempfile
import time

import numpy as np
from sklearn.datasets import load_breast_cancer
from sklearn.ensemble import IsolationForest
from sklearn.compose import ColumnTransformer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import brier_score_loss, roc_auc_score
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

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


def credit(seed=0, rows=6000):
    """Applicants with numeric and categorical columns; defaults follow a known log-odds."""
    rng = np.random.default_rng(2000 + seed)
    utilization = rng.beta(2, 3, rows)
    income = rng.lognormal(8.2, 0.5, rows)
    late = rng.poisson(0.4, rows)
    history = rng.gamma(3, 30, rows)
    housing = rng.choice(["own", "mortgage", "rent"], rows, p=[0.3, 0.4, 0.3])
    purpose = rng.choice(["car", "home", "debt", "business", "other"], rows)
    employment = rng.choice(["salaried", "self_employed", "unemployed"], rows, p=[0.7, 0.22, 0.08])
    log_odds = (-2.2 + 2.5 * utilization - 0.6 * (np.log(income) - 8.2) + 0.55 * late
                - 0.006 * history + 0.5 * (housing == "rent") - 0.2 * (housing == "own")
                + 0.4 * (purpose == "business") + 0.3 * (purpose == "debt")
                + 0.35 * (employment == "self_employed") + 1.1 * (employment == "unemployed"))
    label = rng.random(rows) < 1 / (1 + np.exp(-log_odds))
    columns = {"utilization": utilization, "income": income, "late_payments": late, "history_months": history,
               "housing": housing, "purpose": purpose, "employment": employment}
    return columns, label.astype(int)


def write_csv(path, columns, labels, index):
    names = list(columns)
    with open(path, "w") as handle:
        handle.write(",".join(names + ["label"]) + "\n")
        for i in index:
            values = [repr(float(columns[n][i])) if np.issubdtype(np.asarray(columns[n]).dtype, np.number)
                      else str(columns[n][i]) for n in names]
            handle.write(",".join(values + [str(int(labels[i]))]) + "\n")


def compare_logistic(name, columns, labels, binary):
    index = np.arange(len(labels))
    train, test = train_test_split(index, test_size=0.3, random_state=0, stratify=labels)
    numeric = [n for n in columns if np.issubdtype(np.asarray(columns[n]).dtype, np.number)]
    categorical = [n for n in columns if n not in numeric]
    table = np.empty((len(labels), len(columns)), dtype=object)
    for j, n in enumerate(columns):
        table[:, j] = columns[n]
    model = make_pipeline(
        ColumnTransformer([("num", StandardScaler(), [list(columns).index(n) for n in numeric]),
                           ("cat", OneHotEncoder(), [list(columns).index(n) for n in categorical])]),
        LogisticRegression(max_iter=5000))
    model.fit(table[train], labels[train])
    theirs = model.predict_proba(table[test])[:, 1]
    with tempfile.TemporaryDirectory() as tmp:
        write_csv(os.path.join(tmp, "train.csv"), columns, labels, train)
        write_csv(os.path.join(tmp, "test.csv"), columns, labels, test)
        out = subprocess.run([binary, os.path.join(tmp, "train.csv"), os.path.join(tmp, "test.csv")],
                             check=True, capture_output=True, text=True).stdout
    ours = np.array([float(v) for v in out.split()])
    y = labels[test]
    print(f"| {name} | {len(train)}/{len(test)} | {roc_auc_score(y, theirs):.4f} | {roc_auc_score(y, ours):.4f} | "
          f"{roc_auc_score(y, ours) - roc_auc_score(y, theirs):+.4f} | {brier_score_loss(y, theirs):.4f} | "
          f"{brier_score_loss(y, ours):.4f} |")


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


def variants():
    import isotree
    from sklearn.ensemble import HistGradientBoostingClassifier, RandomForestClassifier

    print("\n| data set | standard IF (isotree ndim=1) | extended, 2 dims | extended, all dims |")
    print("|---|---|---|---|")
    for name, make in [("breast cancer (malignant as anomalies)", breast_cancer),
                       ("synthetic transactions", transactions)]:
        aucs = {1: [], 2: [], "all": []}
        for seed in SEEDS:
            x, y = make(seed)
            for ndim in aucs:
                dims = x.shape[1] if ndim == "all" else ndim
                forest = isotree.IsolationForest(ndim=dims, sample_size=PSI, ntrees=TREES, random_seed=seed,
                                                 missing_action="fail", nthreads=1).fit(x)
                aucs[ndim].append(roc_auc_score(y, forest.predict(x)))
        print(f"| {name} | {np.mean(aucs[1]):.4f} | {np.mean(aucs[2]):.4f} | {np.mean(aucs['all']):.4f} |")

    print("\n| data set | logistic regression | random forest (300 trees) | gradient boosting |")
    print("|---|---|---|---|")
    cancer = load_breast_cancer()
    sets = [("breast cancer (malignant = positive)", cancer.data, (cancer.target == 0).astype(int))]
    columns, labels = credit()
    table = np.column_stack([columns[n] for n in ["utilization", "income", "late_payments", "history_months"]]
                            + [(np.asarray(columns[n])[:, None] == np.unique(columns[n])[None, :]).astype(float)
                               for n in ["housing", "purpose", "employment"]])
    sets.append(("synthetic credit", table, labels))
    for name, x, y in sets:
        train, test = train_test_split(np.arange(len(y)), test_size=0.3, random_state=0, stratify=y)
        models = [make_pipeline(StandardScaler(), LogisticRegression(max_iter=5000)),
                  RandomForestClassifier(n_estimators=300, random_state=0, n_jobs=1),
                  HistGradientBoostingClassifier(random_state=0)]
        aucs = [roc_auc_score(y[test], m.fit(x[train], y[train]).predict_proba(x[test])[:, 1]) for m in models]
        print(f"| {name} | {aucs[0]:.4f} | {aucs[1]:.4f} | {aucs[2]:.4f} |")


def main():
    for example in ["iforest_scores", "logistic_scores"]:
        subprocess.run(["cargo", "build", "--release", "-q", "-p", "redflag-ml-core", "--example", example],
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

    logistic = os.path.join(ROOT, "target", "release", "examples", "logistic_scores")
    print("\n| data set | train/test rows | scikit-learn ROC AUC | Redflag ROC AUC | difference "
          "| scikit-learn Brier | Redflag Brier |")
    print("|---|---|---|---|---|---|---|")
    cancer = load_breast_cancer()
    malignant = (cancer.target == 0).astype(int)
    compare_logistic("breast cancer (malignant = positive)",
                     {name.replace(" ", "_"): cancer.data[:, j] for j, name in enumerate(cancer.feature_names)},
                     malignant, logistic)
    compare_logistic("synthetic credit with categorical columns", *credit(), logistic)

    x, _ = transactions(0)
    forest = IsolationForest(n_estimators=TREES, max_samples=PSI, random_state=0).fit(x)
    row = x[:1]
    forest.score_samples(row)
    runs = 2000
    start = time.perf_counter()
    for _ in range(runs):
        forest.score_samples(row)
    per_row = (time.perf_counter() - start) / runs * 1e6
    print(f"\nscikit-learn IsolationForest.score_samples, one row of {x.shape[1]} features: {per_row:.0f} us per call")
    columns, labels = credit()
    table = np.empty((len(labels), len(columns)), dtype=object)
    for j, n in enumerate(columns):
        table[:, j] = columns[n]
    numeric = [0, 1, 2, 3]
    model = make_pipeline(ColumnTransformer([("num", StandardScaler(), numeric), ("cat", OneHotEncoder(), [4, 5, 6])]),
                          LogisticRegression(max_iter=5000)).fit(table, labels)
    row = table[:1]
    start = time.perf_counter()
    for _ in range(runs):
        model.predict_proba(row)
    per_row = (time.perf_counter() - start) / runs * 1e6
    print(f"scikit-learn pipeline predict_proba, one credit row: {per_row:.0f} us per call")
    if "--variants" in sys.argv:
        variants()
    return 0


if __name__ == "__main__":
    sys.exit(main())
