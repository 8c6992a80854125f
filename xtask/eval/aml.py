"""AML evaluation on laundering data someone else made (`cargo xtask eval aml` runs this).

The data comes from synthfin-aml (PyPI, MIT), a generator of transfer graphs with planted
laundering: chains of mules within hours, scatter-gather (one source, three mules, one sink) and
three-hop round trips, hidden among retail, payroll, merchant, broker and escrow traffic whose
amounts look like the laundering ones. Every transfer goes through `POST /api/aml/detect/` in event
time order with its own timestamp, as a bank would replay a month.

Reported per data set and in total: ROC AUC and average precision of `risk_score`, ordinary
transfers flagged, flagged per 1,000, recall per typology (an instance is caught when one of its
transfers is flagged), the rules behind the false alerts, and the same figures for an
IsolationForest on simple causal features (the naive baseline) at Redflag's alert volume.
"""

import argparse
import collections
import contextlib
import importlib.util
import io
import json
import sys
import time
import types
from pathlib import Path

import numpy as np
from sklearn.ensemble import IsolationForest
from sklearn.metrics import average_precision_score, roc_auc_score

from service import Client

# How many accounts one data set has: about 45,000 transfers over 30 days, 1% laundering.
AGENTS = 3500
DAYS = 30
# A Monday; event times are the data's own, never the wall clock.
START = "2026-01-05"
# How far apart (seconds) two laundering transfers touching one account may be to belong to one
# planted instance: the generator plants each within about two hours.
INSTANCE_GAP = 4 * 3600


def load_generator():
    """The generator module alone, under its own name (numba caches it by that name): importing
    the package itself would also import its PyTorch data set loader."""
    if "synthfin_aml_pkg" not in sys.modules:
        spec = importlib.util.find_spec("synthfin_aml_pkg")
        package = types.ModuleType("synthfin_aml_pkg")
        package.__path__ = list(spec.submodule_search_locations)
        sys.modules["synthfin_aml_pkg"] = package
    return importlib.import_module("synthfin_aml_pkg.generator").FraudGraphGenerator


def generate(seed):
    """One data set: the agents (with their profile) and the transfers, oldest first."""
    generator = load_generator()(seed=seed)
    with contextlib.redirect_stdout(io.StringIO()):
        generator.generate_transactions(agents=AGENTS, days=DAYS, start_date=START, fraud_ratio=0.02)
    agents, transfers = generator.to_dataframes()
    transfers = transfers.sort_values(["timestamp", "txn_id"], kind="stable").reset_index(drop=True)
    return agents, transfers


def instances(transfers):
    """Groups the laundering transfers into planted instances and names each one's typology.

    Transfers belong together when they share an account within INSTANCE_GAP (union-find). An
    instance whose money comes back to an account it left is a round trip; one whose source pays
    several accounts is scatter-gather; the rest are chains.
    """
    fraud = transfers[transfers.is_fraud == 1]
    rows = list(fraud.itertuples())
    parent = list(range(len(rows)))

    def find(i):
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    last_seen = {}
    for i, row in enumerate(rows):
        at = row.timestamp.timestamp()
        for account in (row.source_id, row.target_id):
            seen = last_seen.get(account)
            if seen is not None and at - seen[1] <= INSTANCE_GAP:
                parent[find(i)] = find(seen[0])
            last_seen[account] = (i, at)
    groups = collections.defaultdict(list)
    for i, row in enumerate(rows):
        groups[find(i)].append(row)
    found = []
    for members in groups.values():
        sources = collections.Counter(row.source_id for row in members)
        if any(row.target_id == members[0].source_id for row in members[1:]):
            typology = "round_trip"
        elif sources.most_common(1)[0][1] >= 2:
            typology = "scatter_gather"
        else:
            typology = "chain"
        found.append((typology, [row.Index for row in members]))
    return found


def score(client, admin, seed, agents, transfers):
    """Sends every transfer, in order; returns each one's risk, flag, alert rules and whether a
    typology (an alert that is not a supporting signal) was among them.

    Each sender and receiver is named with its customer segment (the generator's agent profile:
    retail, merchant, p2p_broker, escrow; what a bank's KYC records at onboarding, never whether
    it launders),
    prefixed with the data set, as each data set is a bank of its own. At each midnight of event
    time the admin asks the service to learn the peer groups from what it has seen so far, as the
    worker's task would: from then on a new sender is judged against its segment's peers, and an
    account that has not sent anything yet at its segment's scale. It also has the anomaly alert
    calibrated on the transfers so far, as the worker's calibrate-anomaly task would (silent
    until 1,000 are stored; then the model is retrained on them)."""
    segments = {agent: f"E{seed}-{profile}" for agent, profile in zip(agents.agent_id, agents.profile)}
    risks, flagged, rules, typology = [], [], [], []
    day = None
    for row in transfers.itertuples():
        if row.timestamp.date() != day:
            if day is not None:
                status, answer = admin.call("POST", "/api/aml/peer-groups/learn/", {})
                if status != 200:
                    sys.exit(f"eval: learning the peer groups answered {status}: {answer}")
                status, answer = admin.call("POST", "/api/models/calibrate/", {})
                if status != 200:
                    sys.exit(f"eval: calibrating the anomaly alerts answered {status}: {answer}")
            day = row.timestamp.date()
        body = {
            "transaction_id": f"E{seed}-{row.txn_id}",
            "user_id": f"E{seed}-A{row.source_id}",
            "sender_id": f"E{seed}-A{row.source_id}",
            "receiver_id": f"E{seed}-A{row.target_id}",
            "amount": max(round(float(row.amount), 2), 0.01),
            "timestamp": row.timestamp.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z",
            "sender_segment": segments[row.source_id],
            "receiver_segment": segments[row.target_id],
        }
        status, answer = client.call("POST", "/api/aml/detect/", body)
        if status not in (200, 201):
            sys.exit(f"eval: {body['transaction_id']} answered {status}: {answer}")
        risks.append(answer["risk_score"])
        flagged.append(bool(answer["flagged"]))
        rules.append([alert["rule"] for alert in answer["alerts"]])
        typology.append(any(alert["metadata"].get("supporting") is not True for alert in answer["alerts"]))
    return np.array(risks, dtype=float), np.array(flagged), rules, np.array(typology)


def causal_features(transfers):
    """The naive baseline's inputs, from each transfer and what came before it only: ln amount,
    hour of day, the sender's 24-hour count, ln sum and distinct receivers, and the receiver's
    24-hour count of inflows."""
    outflows = collections.defaultdict(collections.deque)
    inflows = collections.defaultdict(collections.deque)
    rows = []
    for row in transfers.itertuples():
        at = row.timestamp.timestamp()
        sent = outflows[row.source_id]
        while sent and sent[0][0] < at - 86400:
            sent.popleft()
        received = inflows[row.target_id]
        while received and received[0] < at - 86400:
            received.popleft()
        rows.append([
            np.log1p(row.amount),
            row.timestamp.hour + row.timestamp.minute / 60,
            len(sent),
            np.log1p(sum(amount for _, amount, _ in sent)),
            len({receiver for _, _, receiver in sent} | {row.target_id}),
            len(received),
        ])
        sent.append((at, row.amount, row.target_id))
        received.append(at)
    return np.array(rows)


def isolation_forest_scores(transfers, seed):
    forest = IsolationForest(n_estimators=200, random_state=seed)
    features = causal_features(transfers)
    forest.fit(features)
    return -forest.score_samples(features)


def figures(scores, flagged, labels, found, days, first_days=7):
    """Every reported figure for one detector's scores and flags."""
    ordinary = labels == 0
    recall = {}
    for typology in ("chain", "scatter_gather", "round_trip"):
        members = [rows for kind, rows in found if kind == typology]
        caught = sum(1 for rows in members if flagged[rows].any())
        recall[typology] = (caught, len(members))
    caught_all = sum(c for c, _ in recall.values())
    total_all = sum(n for _, n in recall.values())
    early = [rows for _, rows in found if days[rows].min() < first_days]
    late = [rows for _, rows in found if days[rows].min() >= first_days]
    return {
        "transfers": int(len(labels)),
        "laundering_transfers": int(labels.sum()),
        "roc_auc": float(roc_auc_score(labels, scores)),
        "average_precision": float(average_precision_score(labels, scores)),
        "flagged": int(flagged.sum()),
        "flagged_per_1000": float(1000 * flagged.mean()),
        "ordinary_flagged_pct": float(100 * flagged[ordinary].mean()),
        "precision": float(labels[flagged].mean()) if flagged.any() else 0.0,
        "laundering_transfers_flagged_pct": float(100 * flagged[labels == 1].mean()),
        "recall": {k: {"caught": c, "instances": n} for k, (c, n) in recall.items()},
        "instances_caught_pct": 100 * caught_all / max(1, total_all),
        "instances_caught_first_week_pct": 100 * sum(1 for r in early if flagged[r].any()) / max(1, len(early)),
        "instances_caught_later_pct": 100 * sum(1 for r in late if flagged[r].any()) / max(1, len(late)),
    }


def evaluate(client, admin, seed, dump=None):
    started = time.monotonic()
    agents, transfers = generate(seed)
    found = instances(transfers)
    labels = transfers.is_fraud.to_numpy().astype(int)
    days = ((transfers.timestamp - transfers.timestamp.min()).dt.total_seconds() / 86400).to_numpy()
    risks, flagged, rules, typology = score(client, admin, seed, agents, transfers)
    elapsed = time.monotonic() - started
    status, learned = client.call("GET", "/api/aml/peer-groups/", None)
    if status != 200:
        sys.exit(f"eval: the peer groups answered {status}: {learned}")
    peer_groups = [group for group in learned["groups"] if group["segment"].startswith(f"E{seed}-")]
    if dump:
        Path(dump).mkdir(parents=True, exist_ok=True)
        scored = transfers.assign(risk=risks, flagged=flagged, rules=[" ".join(r) for r in rules])
        scored.to_csv(Path(dump) / f"aml-{seed}.csv", index=False)
    redflag = figures(risks, flagged, labels, found, days)
    # The baseline flags as many transfers as Redflag did: the same alert volume.
    baseline_scores = isolation_forest_scores(transfers, seed)
    volume = max(1, int(flagged.sum()))
    cut = np.sort(baseline_scores)[::-1][volume - 1]
    baseline = figures(baseline_scores, baseline_scores >= cut, labels, found, days)
    # What raised the false alerts: each rule's share of flagged ordinary transfers, and the
    # profile of the accounts that sent them.
    profiles = dict(zip(agents.agent_id, agents.profile))
    salary_roots = set(transfers.source_id.value_counts().head(max(1, AGENTS // 1000)).index)
    drivers, senders = collections.Counter(), collections.Counter()
    for i in np.flatnonzero(flagged & (labels == 0)):
        drivers.update(set(rules[i]))
        source = transfers.source_id.iat[i]
        senders["payroll" if source in salary_roots else profiles[source]] += 1
    redflag["false_positive_rules"] = dict(drivers.most_common())
    redflag["false_positive_senders"] = dict(senders.most_common())
    # The queue's top: how many of the 200 highest risks are laundering.
    top = np.argsort(-risks, kind="stable")[:200]
    redflag["laundering_in_top_200"] = int(labels[top].sum())
    return {
        "seed": seed,
        "seconds": round(elapsed, 1),
        "peer_groups": peer_groups,
        "redflag": redflag,
        "isolation_forest": baseline,
        "risks": risks,
        "flagged": flagged,
        "labels": labels,
        "baseline_scores": baseline_scores,
        "found": found,
        "days": days,
        "rules": rules,
        "typology": typology,
    }


def pooled(results):
    """The held-out data sets together, each keeping its own baseline cut."""
    offset, found, flagged_b = 0, [], []
    for result in results:
        found += [(kind, [i + offset for i in rows]) for kind, rows in result["found"]]
        offset += len(result["labels"])
    risks = np.concatenate([r["risks"] for r in results])
    flagged = np.concatenate([r["flagged"] for r in results])
    labels = np.concatenate([r["labels"] for r in results])
    days = np.concatenate([r["days"] for r in results])
    for result in results:
        volume = max(1, int(result["flagged"].sum()))
        scores = result["baseline_scores"]
        flagged_b.append(scores >= np.sort(scores)[::-1][volume - 1])
    # Baseline scores are not comparable across data sets: rank them within each first.
    ranks = np.concatenate([
        np.argsort(np.argsort(r["baseline_scores"])) / len(r["baseline_scores"]) for r in results
    ])
    return {
        "redflag": figures(risks, flagged, labels, found, days),
        "isolation_forest": figures(ranks, np.concatenate(flagged_b), labels, found, days),
    }


def flag_rates(results, levels):
    """Ordinary transfers flagged and instances caught if the flag level were each of `levels`:
    what `aml.flag_risk_score` trades. Supporting signals never flag at any level, so a transfer
    is flagged at a level when a typology fired and its risk reaches the level."""
    table = []
    for level in levels:
        ordinary = caught = total = n_ordinary = 0
        for result in results:
            flagged = result["typology"] & (result["risks"] >= level)
            labels = result["labels"]
            ordinary += int((flagged & (labels == 0)).sum())
            n_ordinary += int((labels == 0).sum())
            caught += sum(1 for _, rows in result["found"] if flagged[rows].any())
            total += len(result["found"])
        table.append({
            "flag_risk_score": level,
            "ordinary_flagged_pct": 100 * ordinary / n_ordinary,
            "instances_caught_pct": 100 * caught / max(1, total),
        })
    return table


def markdown(report):
    """The report's tables as EVALUATION.md shows them."""
    rows = ["| detector | ROC AUC | AP | ordinary flagged | flagged per 1,000 | precision | instances caught "
            "| chains | scatter-gather | round trips | caught in week 1 | caught later |",
            "|---|---|---|---|---|---|---|---|---|---|---|---|"]
    total = report["total"]
    for name, label in (("redflag", "Redflag `risk_score`"),
                        ("isolation_forest", "IsolationForest, same alert volume")):
        t = total[name]
        recall = [f"{t['recall'][k]['caught']}/{t['recall'][k]['instances']}"
                  for k in ("chain", "scatter_gather", "round_trip")]
        rows.append(
            f"| {label} | {t['roc_auc']:.3f} | {t['average_precision']:.3f} | "
            f"{t['ordinary_flagged_pct']:.2f}% | {t['flagged_per_1000']:.1f} | {t['precision']:.3f} | "
            f"{t['instances_caught_pct']:.1f}% | {' | '.join(recall)} | "
            f"{t['instances_caught_first_week_pct']:.1f}% | {t['instances_caught_later_pct']:.1f}% |"
        )
    rows += ["", "| data set (seed) | transfers | laundering | AUC | AP | ordinary flagged | instances caught "
             "| IsolationForest AUC | IsolationForest AP | laundering in the top 200 risks |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    for data in report["data_sets"]:
        r, b = data["redflag"], data["isolation_forest"]
        rows.append(
            f"| {data['seed']} | {r['transfers']:,} | {r['laundering_transfers']} | {r['roc_auc']:.3f} | "
            f"{r['average_precision']:.3f} | {r['ordinary_flagged_pct']:.2f}% | {r['instances_caught_pct']:.1f}% | "
            f"{b['roc_auc']:.3f} | {b['average_precision']:.3f} | {r['laundering_in_top_200']} |"
        )
    rows += ["", "| data set | segment (peer group) | established senders | transfers | at most per hour | per day "
             "| quieter-day transfer |", "|---|---|---|---|---|---|---|"]
    for data in report["data_sets"]:
        for group in data["peer_groups"]:
            limits = group["limits"]
            rows.append(
                f"| {data['seed']} | {group['segment'].split('-', 1)[1]} | {group['members']:,} | {group['transfers']:,} "
                f"| {limits['transactions_1h']} or ${limits['amount_1h']:,.2f} | {limits['transactions_24h']} or "
                f"${limits['amount_24h']:,.2f} | ${group['quiet_transfer']:,.2f} |"
            )
    rows += ["", "| `aml.flag_risk_score` | ordinary flagged | instances caught |", "|---|---|---|"]
    for level in report["flag_levels"]:
        rows.append(f"| {level['flag_risk_score']} | {level['ordinary_flagged_pct']:.2f}% | "
                    f"{level['instances_caught_pct']:.1f}% |")
    drivers = collections.Counter()
    senders = collections.Counter()
    for data in report["data_sets"]:
        drivers.update(data["redflag"]["false_positive_rules"])
        senders.update(data["redflag"]["false_positive_senders"])
    rows += ["", "| rule on falsely flagged transfers | transfers |", "|---|---|"]
    rows += [f"| {rule} | {count} |" for rule, count in drivers.most_common()]
    rows += ["", "| sender of falsely flagged transfers | transfers |", "|---|---|"]
    rows += [f"| {sender} | {count} |" for sender, count in senders.most_common()]
    return "\n".join(rows) + "\n"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", required=True)
    parser.add_argument("--username", required=True)
    parser.add_argument("--password", required=True)
    parser.add_argument("--admin", required=True, help="an admin's username (same password): it asks for the peer groups to be learned")
    parser.add_argument("--seeds", default="404,505,606", help="held-out data sets (7 and 101 were used to tune the defaults)")
    parser.add_argument("--out", required=True, help="where the JSON report goes")
    parser.add_argument("--dump", help="a directory for each transfer's risk, flag and rules (CSV)")
    args = parser.parse_args()
    client = Client(args.url, args.username, args.password)
    admin = Client(args.url, args.admin, args.password)
    results = []
    for seed in [int(s) for s in args.seeds.split(",")]:
        result = evaluate(client, admin, seed, args.dump)
        results.append(result)
        r, b = result["redflag"], result["isolation_forest"]
        print(
            f"seed {seed}: {r['transfers']} transfers ({r['laundering_transfers']} laundering) in "
            f"{result['seconds']} s; redflag AUC {r['roc_auc']:.3f} AP {r['average_precision']:.3f} "
            f"ordinary flagged {r['ordinary_flagged_pct']:.2f}% caught {r['instances_caught_pct']:.1f}%; "
            f"isolation forest AUC {b['roc_auc']:.3f} AP {b['average_precision']:.3f} "
            f"ordinary flagged {b['ordinary_flagged_pct']:.2f}% caught {b['instances_caught_pct']:.1f}%",
            file=sys.stderr,
        )
    report = {
        "generator": "synthfin-aml 9.2.0",
        "agents": AGENTS,
        "days": DAYS,
        "data_sets": [
            {k: v for k, v in r.items() if k in ("seed", "seconds", "peer_groups", "redflag", "isolation_forest")}
            for r in results
        ],
        "total": pooled(results),
        "flag_levels": flag_rates(results, [30, 40, 50, 60, 70, 80]),
    }
    Path(args.out).write_text(json.dumps(report, indent=2))
    Path(args.out).with_suffix(".md").write_text(markdown(report))
    total = report["total"]
    for name in ("redflag", "isolation_forest"):
        t = total[name]
        recall = ", ".join(f"{k} {v['caught']}/{v['instances']}" for k, v in t["recall"].items())
        print(
            f"{name:17} AUC {t['roc_auc']:.3f}  AP {t['average_precision']:.3f}  "
            f"ordinary flagged {t['ordinary_flagged_pct']:.2f}%  per 1,000 {t['flagged_per_1000']:.1f}  "
            f"precision {t['precision']:.3f}  instances caught {t['instances_caught_pct']:.1f}% ({recall}); "
            f"first week {t['instances_caught_first_week_pct']:.1f}%, later {t['instances_caught_later_pct']:.1f}%"
        )
    for r in results:
        print(f"seed {r['seed']} false alerts by rule: {r['redflag']['false_positive_rules']}")
        print(f"seed {r['seed']} false alerts by sender: {r['redflag']['false_positive_senders']}; "
              f"laundering in the top 200 risks: {r['redflag']['laundering_in_top_200']}")


if __name__ == "__main__":
    main()
