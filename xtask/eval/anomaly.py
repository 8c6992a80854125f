"""Anomaly model evaluation on public outlier data sets (`cargo xtask eval anomaly` runs this).

Two real data sets that scikit-learn ships, made into outlier sets as the ODDS benchmark makes
them (a common class is the population, a rare one the anomalies):
- breast cancer (Wisconsin diagnostic, 30 measurements per tumour): the 357 benign tumours and
  10 malignant ones drawn at random (2.7%);
- wine (13 chemical measurements): classes 1 and 2 (119 wines) and 10 of class 0 drawn at random
  (7.8%).

For each of ten seeds the anomalies are drawn again and the rows split 60/40, stratified; each
detector learns the training rows without their labels and scores the test rows:
`redflag model evaluate --kind isolation-forest` (Redflag's forest, as a team would run it),
scikit-learn's IsolationForest (the reference implementation) and a naive detector (the sum of
each feature's robust z-score, |x - median| / MAD, from the training rows). Reported: ROC AUC and
average precision, mean and range over the seeds.
"""

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.datasets import load_breast_cancer, load_wine
from sklearn.ensemble import IsolationForest
from sklearn.metrics import average_precision_score, roc_auc_score
from sklearn.model_selection import train_test_split

SEEDS = range(1, 11)
ANOMALIES = 10


def breast_cancer():
    data = load_breast_cancer(as_frame=True)
    # Target 0 is malignant.
    return data.data, (data.target == 0).astype(int)


def wine():
    data = load_wine(as_frame=True)
    return data.data, (data.target == 0).astype(int)


def outlier_set(frame, labels, seed):
    """Every inlier and ANOMALIES outliers drawn with `seed`."""
    rng = np.random.default_rng(seed)
    outliers = rng.choice(np.flatnonzero(labels == 1), ANOMALIES, replace=False)
    keep = np.sort(np.concatenate([np.flatnonzero(labels == 0), outliers]))
    return frame.iloc[keep].reset_index(drop=True), labels.iloc[keep].reset_index(drop=True)


def robust_z(train, test):
    median = train.median()
    mad = (train - median).abs().median().replace(0, np.nan)
    return ((test - median).abs() / mad).fillna(0).sum(axis=1).to_numpy()


def redflag_scores(redflag, train, test, seed, work):
    train_path, test_path, out = work / "train.csv", work / "test.csv", work / "scores.csv"
    train.to_csv(train_path, index=False)
    test.to_csv(test_path, index=False)
    run = subprocess.run(
        [redflag, "model", "evaluate", "--kind", "isolation-forest", "--train", str(train_path),
         "--test", str(test_path), "--label", "anomaly", "--positive", "1", "--scores", str(out),
         "--seed", str(seed)],
        capture_output=True, text=True)
    if run.returncode != 0:
        sys.exit(f"eval: redflag model evaluate failed: {run.stderr}")
    return pd.read_csv(out).score.to_numpy()


def evaluate(redflag, name, load, work):
    frame, labels = load()
    results = {"redflag": [], "scikit-learn": [], "naive": []}
    for seed in SEEDS:
        rows, y = outlier_set(frame, labels, seed)
        train, test, _, y_test = train_test_split(rows, y, test_size=0.4, random_state=seed, stratify=y)
        scores = {
            "redflag": redflag_scores(redflag, train.assign(anomaly=y.loc[train.index]),
                                      test.assign(anomaly=y_test), seed, work),
            "scikit-learn": -IsolationForest(n_estimators=200, random_state=seed).fit(train).score_samples(test),
            "naive": robust_z(train, test),
        }
        for detector, score in scores.items():
            results[detector].append({"roc_auc": float(roc_auc_score(y_test, score)),
                                      "average_precision": float(average_precision_score(y_test, score))})
    return {
        "rows": int(len(rows)),
        "anomalies": ANOMALIES,
        "features": int(frame.shape[1]),
        "detectors": {
            detector: {metric: {"mean": float(np.mean([r[metric] for r in runs])),
                                "min": float(np.min([r[metric] for r in runs])),
                                "max": float(np.max([r[metric] for r in runs]))}
                       for metric in ("roc_auc", "average_precision")}
            for detector, runs in results.items()
        },
    }


def markdown(report):
    rows = ["| data set | detector | ROC AUC: mean (range over 10 seeds) | AP: mean (range) |",
            "|---|---|---|---|"]
    for name, data in report.items():
        for detector, figures in data["detectors"].items():
            auc, ap = figures["roc_auc"], figures["average_precision"]
            rows.append(f"| {name} ({data['rows']} rows, {data['anomalies']} anomalies) | {detector} | "
                        f"{auc['mean']:.3f} ({auc['min']:.3f}-{auc['max']:.3f}) | "
                        f"{ap['mean']:.3f} ({ap['min']:.3f}-{ap['max']:.3f}) |")
    return "\n".join(rows) + "\n"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--redflag", required=True, help="the redflag binary")
    parser.add_argument("--out", required=True, help="where the JSON report goes")
    args = parser.parse_args()
    report = {}
    with tempfile.TemporaryDirectory() as work:
        for name, load in (("breast cancer", breast_cancer), ("wine", wine)):
            report[name] = evaluate(args.redflag, name, load, Path(work))
    Path(args.out).write_text(json.dumps(report, indent=2))
    Path(args.out).with_suffix(".md").write_text(markdown(report))
    print(markdown(report))


if __name__ == "__main__":
    main()
