"""Market evaluation on a real stock's daily series with planted multi-day pumps
(`cargo xtask eval market` runs this).

The series is Microsoft's daily open, high, low, close and volume (1990-2017), as the pmdarima
package (PyPI, MIT) ships it for its examples; it is read from the package's wheel, never
installed. Each data set cuts eight windows of 250 trading days from it, rescales each to a
micro-cap's price and volume (returns and relative volume stay real, news jumps included) and
plants two pump-and-dump episodes in each: a run-up over 3-10 trading days on two to five times
the usual volume, then a dump over 1-3 days that gives back most of it on heavy volume. The
windows are sent to a fresh server side by side, day by day, twice: as an intraday flow (four
trades a day at the open, the day's low and high, and the close) and as end-of-day bars (one
trade at the close for the day's volume).

Reported per feed, per data set and in total, at day level (a day's score is its highest
`manipulation_risk`): ROC AUC and average precision against the planted days, episodes caught by
the pump-and-dump typologies, ordinary days flagged (by anything, and by those typologies), the
rules behind the false alerts, and the same for a naive detector: the 5-day return in standard
deviations of the symbol's daily moves, plus the day's volume over its 20-day median.
"""

import argparse
import collections
import csv
import glob
import io
import json
import math
import subprocess
import sys
import tarfile
import time
import zipfile
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np
from sklearn.metrics import average_precision_score, roc_auc_score

from service import Client

PMDARIMA = "pmdarima==2.0.4"
# Before 1990 the adjusted prices move in ticks of about 11%: not a usable daily series.
FIRST_DATE = "1990-01-01"
WINDOW = 250
WINDOWS = 8
# Episodes start after this many days of a window (the detector's baseline needs a month).
WARM_UP = 45
NEW_YORK = ZoneInfo("America/New_York")
# The four intraday trades: the open, the day's first extreme, the other, the close.
TRADE_TIMES = [(9, 45), (11, 30), (13, 30), (15, 45)]
PUMP_DUMP_RULES = {"Multi-Day Pump", "Dump After Run-Up", "Pump And Dump", "Dump After Pump"}
# The market response carries no alert metadata, so the supporting signals are named here.
SUPPORTING = {"Unusual Activity", "AnomalyRule", "Run-Up Building", "Run-Up Reversing"}


def load_series(cache):
    """Microsoft's daily bars from pmdarima's wheel (downloaded once into `cache`)."""
    cache.mkdir(parents=True, exist_ok=True)
    wheels = glob.glob(str(cache / "pmdarima-2.0.4-*.whl"))
    if not wheels:
        subprocess.run(
            [sys.executable, "-m", "pip", "download", PMDARIMA, "--no-deps", "--only-binary=:all:",
             "--quiet", "-d", str(cache)],
            check=True,
        )
        wheels = glob.glob(str(cache / "pmdarima-2.0.4-*.whl"))
    with zipfile.ZipFile(wheels[0]) as wheel:
        archive = wheel.read("pmdarima/datasets/data/msft.tar.gz")
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        text = tar.extractfile("msft.csv").read().decode()
    rows = [row for row in csv.DictReader(io.StringIO(text)) if row["Date"] >= FIRST_DATE]
    return {
        key: np.array([float(row[key]) for row in rows])
        for key in ("Open", "High", "Low", "Close", "Volume")
    }


def plant(series, start, rng):
    """One window from day `start` (at least 1): real daily moves and volume, rescaled to a
    micro-cap, with two planted episodes. Returns the bars (open, high, low, close, volume per
    day), the planted days' labels and the episodes as (first day, run-up days, dump days)."""
    close = series["Close"]
    days = slice(start, start + WINDOW)
    # A micro-cap moves more than Microsoft: the real moves, news jumps included, are scaled up.
    moves = np.diff(np.log(close[start - 1:start + WINDOW])) * rng.uniform(1.5, 2.5)
    volume = series["Volume"][days] * (rng.uniform(20_000, 200_000) / np.median(series["Volume"][days]))
    shape = {key: series[key][days] / close[days] for key in ("Open", "High", "Low")}
    labels = np.zeros(WINDOW, dtype=int)
    episodes = []
    for first_at, last_at in ((WARM_UP, 110), (135, 220)):
        run_up, dump = int(rng.integers(3, 11)), int(rng.integers(1, 4))
        first = int(rng.integers(first_at, last_at))
        gain = math.log(1 + rng.uniform(0.2, 0.8))
        weights = rng.dirichlet(np.full(run_up, 2.0))
        multiple = rng.uniform(1.5, 4.0)
        for i in range(run_up):
            moves[first + i] += gain * weights[i]
            volume[first + i] *= multiple * rng.lognormal(0.0, 0.3)
        retrace = gain * rng.uniform(0.6, 1.0)
        dump_weights = rng.dirichlet(np.full(dump, 3.0))
        dump_multiple = rng.uniform(1.5, 5.0)
        for i in range(dump):
            moves[first + run_up + i] -= retrace * dump_weights[i]
            volume[first + run_up + i] *= dump_multiple * rng.lognormal(0.0, 0.3)
        labels[first:first + run_up + dump] = 1
        episodes.append((first, run_up, dump))
    closes = rng.uniform(1.5, 6.0) * np.exp(np.cumsum(moves) - moves[0])
    bars = np.column_stack([
        closes * shape["Open"], closes * shape["High"], closes * shape["Low"], closes,
        np.maximum(np.round(volume), 100),
    ])
    return bars, labels, episodes


def trading_days():
    """The calendar the windows are sent on: 250 weekdays from Monday 2025-01-06."""
    day, found = date(2025, 1, 6), []
    while len(found) < WINDOW:
        if day.weekday() < 5:
            found.append(day)
        day += timedelta(days=1)
    return found


def utc(day, hour, minute):
    local = datetime(day.year, day.month, day.day, hour, minute, tzinfo=NEW_YORK)
    return local.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.000Z")


def events(symbol, day, bar, feed, rng):
    """The day's requests for one symbol: four trades, or one end-of-day bar."""
    open_, high, low, close, volume = bar
    if feed == "daily":
        return [{"symbol": symbol, "price": round(close, 4), "volume": float(volume),
                 "trader_id": "EOD-FEED", "trade_id": f"{symbol}-{day}", "timestamp": utc(day, 16, 0)}]
    extremes = (low, high) if close >= open_ else (high, low)
    prices = [open_, *extremes, close]
    shares = rng.dirichlet(np.full(4, 4.0)) * volume
    return [
        {"symbol": symbol, "price": round(price, 4), "volume": float(max(1, round(part))),
         "trader_id": f"BROKER-{rng.integers(1, 41)}", "side": ["buy", "sell"][rng.integers(0, 2)],
         "trade_id": f"{symbol}-{day}-{i}", "timestamp": utc(day, *TRADE_TIMES[i])}
        for i, (price, part) in enumerate(zip(prices, shares))
    ]


def send(client, admin, seed, windows, feed):
    """Every window's days in calendar order; each symbol-day's highest risk, whether it was
    flagged, by which rules, and how many events carried the anomaly alert. Before each day the
    admin has the anomaly alerts calibrated on the traffic so far, as the worker's task would
    (the alert is silent while the model warms up)."""
    rng = np.random.default_rng(seed * 7 + (feed == "daily"))
    calendar = trading_days()
    risk = np.zeros((len(windows), WINDOW))
    model = np.zeros((len(windows), WINDOW))
    flagged = np.zeros((len(windows), WINDOW), dtype=bool)
    rules = [[collections.Counter() for _ in range(WINDOW)] for _ in windows]
    reasons = [[set() for _ in range(WINDOW)] for _ in windows]
    sent = anomalies = 0
    for t, day in enumerate(calendar):
        status, answer = admin.call("POST", "/api/models/calibrate/", {})
        if status != 200:
            sys.exit(f"eval: calibrating answered {status}: {answer}")
        for w, (bars, _, _) in enumerate(windows):
            symbol = f"S{seed}W{w}{feed[0].upper()}"
            for body in events(symbol, day, bars[t], feed, rng):
                status, answer = client.call("POST", "/api/market/detect/", body)
                if status not in (200, 201):
                    sys.exit(f"eval: {body['trade_id']} answered {status}: {answer}")
                sent += 1
                risk[w, t] = max(risk[w, t], answer["manipulation_risk"])
                model[w, t] = max(model[w, t], answer.get("model_score") or 0.0)
                flagged[w, t] |= bool(answer["flagged"])
                names = [alert["rule"] for alert in answer["alerts"]]
                anomalies += "AnomalyRule" in names
                rules[w][t].update(names)
                reasons[w][t].update(a["reason"] for a in answer["alerts"] if a["rule"] not in SUPPORTING)
    return risk, model, flagged, rules, reasons, sent, anomalies


def naive_scores(bars):
    """|5-day log return| over (sd of the previous 20 daily moves x sqrt 5), plus the day's volume
    over its previous 20 days' median: causal, day by day."""
    close, volume = bars[:, 3], bars[:, 4]
    moves = np.diff(np.log(close), prepend=np.log(close[0]))
    scores = np.zeros(len(close))
    for t in range(len(close)):
        if t < 25:
            continue
        sd = max(np.std(moves[t - 24:t - 4]), 0.005)
        z = abs(math.log(close[t] / close[t - 5])) / (sd * math.sqrt(5))
        scores[t] = z + volume[t] / np.median(volume[t - 20:t])
    return scores


def figures(scores, flagged, pump_flagged, labels, episodes):
    """Day-level figures of one detector over windows: scores, flags and episodes per window."""
    caught = sum(
        int(pump_flagged[w][first:first + run_up + dump].any())
        for w, found in enumerate(episodes) for first, run_up, dump in found
    )
    ordinary = labels == 0
    return {
        "days": int(labels.size),
        "planted_days": int(labels.sum()),
        "roc_auc": float(roc_auc_score(labels.ravel(), scores.ravel())),
        "average_precision": float(average_precision_score(labels.ravel(), scores.ravel())),
        "flagged_days": int(flagged.sum()),
        "ordinary_days_flagged": int((flagged & ordinary).sum()),
        "ordinary_days_flagged_by_pump_dump": int((pump_flagged & ordinary).sum()),
        "episodes": sum(len(found) for found in episodes),
        "episodes_caught_by_pump_dump": caught,
    }


def write_days(path, seed, feed, windows, risk, model, flagged, rules, reasons, naive):
    """Every symbol-day of one feed: its label, highest risk and model score, flag, rules and
    typology reasons."""
    with open(path, "w", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(["seed", "feed", "window", "day", "planted", "close", "volume", "risk",
                         "model_score", "flagged", "naive", "rules", "reasons"])
        for w, (bars, labels, _) in enumerate(windows):
            for t in range(WINDOW):
                writer.writerow([seed, feed, w, t, labels[t], round(bars[t, 3], 4), int(bars[t, 4]), risk[w, t],
                                 round(model[w, t], 4), int(flagged[w, t]), round(naive[w, t], 3), " ".join(sorted(rules[w][t])),
                                 " | ".join(sorted(reasons[w][t]))])


def evaluate(client, admin, seed, series, dump=None):
    rng = np.random.default_rng(seed)
    # Windows that do not overlap: each its own stretch of the real series.
    slots = rng.choice((len(series["Close"]) - 1) // WINDOW, WINDOWS, replace=False)
    windows = [plant(series, 1 + slot * WINDOW, rng) for slot in slots]
    labels = np.array([labels for _, labels, _ in windows])
    episodes = [found for _, _, found in windows]
    naive = np.array([naive_scores(bars) for bars, _, _ in windows])
    result = {"seed": seed, "feeds": {}}
    for feed in ("intraday", "daily"):
        started = time.monotonic()
        risk, model, flagged, rules, reasons, sent, anomalies = send(client, admin, seed, windows, feed)
        if dump:
            Path(dump).mkdir(parents=True, exist_ok=True)
            write_days(Path(dump) / f"market-{seed}-{feed}.csv", seed, feed, windows, risk, model, flagged,
                       rules, reasons, naive)
        pump_flagged = np.array([
            [flagged[w, t] and bool(PUMP_DUMP_RULES & set(rules[w][t])) for t in range(WINDOW)]
            for w in range(len(windows))
        ])
        redflag = figures(risk, flagged, pump_flagged, labels, episodes)
        redflag["events"] = sent
        redflag["anomaly_alert_events_pct"] = 100 * anomalies / sent
        redflag["seconds"] = round(time.monotonic() - started, 1)
        drivers = collections.Counter()
        for w, t in zip(*np.nonzero(flagged & (labels == 0))):
            drivers.update(set(rules[w][t]))
        redflag["false_alert_rules"] = dict(drivers.most_common())
        # The naive detector flags as many days as Redflag did, its highest scores.
        volume = max(1, int(flagged.sum()))
        cut = np.sort(naive.ravel())[::-1][volume - 1]
        naive_flagged = naive >= cut
        result["feeds"][feed] = {
            "redflag": redflag,
            "naive": figures(naive, naive_flagged, naive_flagged, labels, episodes),
            "risk": risk,
            "flagged": flagged,
            "pump_flagged": pump_flagged,
        }
    result["labels"], result["episodes"], result["naive_scores"] = labels, episodes, naive
    return result


def pooled(results, feed):
    """The held-out data sets together."""
    labels = np.concatenate([r["labels"] for r in results])
    episodes = [found for r in results for found in r["episodes"]]
    take = lambda key: np.concatenate([r["feeds"][feed][key] for r in results])
    naive = np.concatenate([r["naive_scores"] for r in results])
    naive_flagged = np.concatenate([
        r["naive_scores"] >= np.sort(r["naive_scores"].ravel())[::-1][max(1, int(r["feeds"][feed]["flagged"].sum())) - 1]
        for r in results
    ])
    redflag = figures(take("risk"), take("flagged"), take("pump_flagged"), labels, episodes)
    events = sum(r["feeds"][feed]["redflag"]["events"] for r in results)
    redflag["events"] = events
    redflag["anomaly_alert_events_pct"] = sum(
        r["feeds"][feed]["redflag"]["anomaly_alert_events_pct"] * r["feeds"][feed]["redflag"]["events"]
        for r in results
    ) / events
    return {
        "redflag": redflag,
        "naive": figures(naive, naive_flagged, naive_flagged, labels, episodes),
    }


def markdown(report):
    rows = ["| feed | detector | day ROC AUC | day AP | episodes caught by pump/dump typologies "
            "| ordinary days flagged | by pump/dump typologies | events with the anomaly alert |",
            "|---|---|---|---|---|---|---|---|"]
    for feed, label in (("intraday", "4 trades a day"), ("daily", "end-of-day bars")):
        total = report["total"][feed]
        for name, detector in (("redflag", "Redflag `manipulation_risk`"),
                               ("naive", "naive (5-day z + volume ratio), same days flagged")):
            t = total[name]
            anomaly = f"{t['anomaly_alert_events_pct']:.1f}%" if name == "redflag" else ""
            rows.append(
                f"| {label} | {detector} | {t['roc_auc']:.3f} | {t['average_precision']:.3f} | "
                f"{t['episodes_caught_by_pump_dump']}/{t['episodes']} | {t['ordinary_days_flagged']} of "
                f"{t['days'] - t['planted_days']:,} | {t['ordinary_days_flagged_by_pump_dump']} | {anomaly} |"
            )
    rows += ["", "| data set (seed) | feed | day AUC | day AP | episodes caught | ordinary days flagged "
             "| naive AUC | naive AP |", "|---|---|---|---|---|---|---|---|"]
    for data in report["data_sets"]:
        for feed, figures_ in data["feeds"].items():
            r, n = figures_["redflag"], figures_["naive"]
            rows.append(
                f"| {data['seed']} | {feed} | {r['roc_auc']:.3f} | {r['average_precision']:.3f} | "
                f"{r['episodes_caught_by_pump_dump']}/{r['episodes']} | {r['ordinary_days_flagged']} | "
                f"{n['roc_auc']:.3f} | {n['average_precision']:.3f} |"
            )
    drivers = collections.Counter()
    for data in report["data_sets"]:
        for figures_ in data["feeds"].values():
            drivers.update(figures_["redflag"]["false_alert_rules"])
    rows += ["", "| rule on falsely flagged days (both feeds) | days |", "|---|---|"]
    rows += [f"| {rule} | {count} |" for rule, count in drivers.most_common()]
    return "\n".join(rows) + "\n"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", required=True)
    parser.add_argument("--username", required=True)
    parser.add_argument("--password", required=True)
    parser.add_argument("--admin", required=True, help="an admin's username (same password): it has the anomaly alerts calibrated")
    parser.add_argument("--seeds", default="404,505,606", help="held-out data sets (7 and 101 were used to tune the defaults)")
    parser.add_argument("--cache", required=True, help="where pmdarima's wheel is kept")
    parser.add_argument("--out", required=True, help="where the JSON report goes")
    parser.add_argument("--dump", help="a directory for every symbol-day's label, risk, flag and rules (CSV)")
    args = parser.parse_args()
    series = load_series(Path(args.cache))
    client = Client(args.url, args.username, args.password)
    admin = Client(args.url, args.admin, args.password)
    results = []
    for seed in [int(s) for s in args.seeds.split(",")]:
        result = evaluate(client, admin, seed, series, args.dump)
        results.append(result)
        for feed, figures_ in result["feeds"].items():
            r, n = figures_["redflag"], figures_["naive"]
            print(
                f"seed {seed} {feed}: {r['events']} events in {r['seconds']} s; redflag AUC {r['roc_auc']:.3f} "
                f"AP {r['average_precision']:.3f} caught {r['episodes_caught_by_pump_dump']}/{r['episodes']} "
                f"ordinary days flagged {r['ordinary_days_flagged']} (pump/dump {r['ordinary_days_flagged_by_pump_dump']}) "
                f"anomaly alert on {r['anomaly_alert_events_pct']:.1f}% of events; naive AUC {n['roc_auc']:.3f} "
                f"AP {n['average_precision']:.3f} caught {n['episodes_caught_by_pump_dump']}/{n['episodes']}; "
                f"false alerts by rule {r['false_alert_rules']}",
                file=sys.stderr,
            )
    report = {
        "series": f"MSFT daily bars {FIRST_DATE[:4]}-2017 from {PMDARIMA}",
        "data_sets": [
            {"seed": r["seed"], "feeds": {
                feed: {k: v for k, v in f.items() if k in ("redflag", "naive")} for feed, f in r["feeds"].items()
            }}
            for r in results
        ],
        "total": {feed: pooled(results, feed) for feed in ("intraday", "daily")},
    }
    Path(args.out).write_text(json.dumps(report, indent=2))
    Path(args.out).with_suffix(".md").write_text(markdown(report))
    print(markdown(report))


if __name__ == "__main__":
    main()
