"""Fraud-model quality: creditcard-fraud time split, and the synthetic stream's patterns.

    .venv/bin/python benchmarks/risk.py --data-dir ../shared/datasets [--seeds 0,1]

- creditcard-fraud (ULB): the first 70 % of the time span trains, the last 30 % tests
  (issue 6: ROC-AUC >= 0.98, recall >= 0.85 at 1 % FPR, PR-AUC reported).
- simulator (synthetic, ``mercato.risk.simulator``): prequential evaluation with delayed
  labels (chargebacks 7–60 days late, 60-day maturity), per-pattern recall at 1 % FPR, and the
  same with the velocity features removed (PR-AUC with vs without); plus a backtest of the
  built-in rules on the out-of-sample scores of seed 0.

Writes benchmarks/results/risk.json (everything, machine, date, command) and risk.md (tables).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from machine import machine  # noqa: E402

from mercato.risk.commands import _public, out_of_sample  # noqa: E402
from mercato.risk.datasets import creditcard_fraud, simulated  # noqa: E402
from mercato.risk.rules import DEFAULT_RULES, backtest_rules, parse_rules  # noqa: E402
from mercato.risk.simulator import PATTERNS  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "results"


def progress(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def timed(fn, *args):
    started = time.perf_counter()
    result = fn(*args)
    return result, round(time.perf_counter() - started, 1)


def markdown(report: dict) -> str:
    cc = report["creditcard_fraud"]["metrics"]
    lines = ["| creditcard-fraud, time-ordered 70/30 | ROC-AUC | PR-AUC | recall at 1% FPR | test frauds |",
             "|---|---|---|---|---|",
             f"| mercato LightGBM (calibrated) | {cc['roc_auc']:.4f} | {cc['pr_auc']:.4f} | {cc['recall_at_1pct_fpr']:.4f} | "
             f"{cc['fraud']} of {cc['n']:,} |",
             "| target (issue 6) | ≥ 0.98 | reported | ≥ 0.85 | |", "",
             "| synthetic stream, prequential (seed) | features | ROC-AUC | PR-AUC | recall at 1% FPR | "
             + " | ".join(f"{p} recall" for p in PATTERNS) + " |",
             "|---|---|---|---|---|" + "---|" * len(PATTERNS)]
    for run in report["simulator"]:
        for label, key in (("with velocity", "with_velocity"), ("no velocity", "without_velocity")):
            m = run[key]["metrics"]
            per = m["per_pattern_recall_at_1pct_fpr"]
            lines.append(f"| {run['seed']} | {label} | {m['roc_auc']:.4f} | {m['pr_auc']:.4f} | {m['recall_at_1pct_fpr']:.4f} | "
                         + " | ".join(f"{per[p]['recall']:.3f} ({per[p]['fraud']})" if p in per else "–" for p in PATTERNS) + " |")
    backtest = report.get("rules_backtest_seed0")
    if backtest is None:
        return "\n".join(lines) + "\n"
    lines += ["", "| built-in rule / decision (seed 0, out-of-sample) | fired | fraud caught | precision | recall | FPR |",
              "|---|---|---|---|---|---|"]
    for name, stats in [*backtest["rules"].items(), *backtest["decisions"].items()]:
        lines.append(f"| {name} | {stats['fired']} | {stats['fraud_caught']} | {stats['precision']} | {stats['recall']} | "
                     f"{stats['false_positive_rate']} |")
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data-dir", required=True, help="folder holding creditcard-fraud/")
    parser.add_argument("--seeds", default="0,1", help="simulator seeds")
    args = parser.parse_args()
    report: dict = {"load_avg_before": [round(v, 2) for v in os.getloadavg()]}

    progress("creditcard-fraud: time-ordered split")
    history, load_s = timed(creditcard_fraud, Path(args.data_dir))
    evaluated, fit_s = timed(lambda h: out_of_sample(h, progress), history)
    report["creditcard_fraud"] = {**_public(evaluated), "load_s": load_s, "fit_and_score_s": fit_s,
                                  "features": history.feature_names}
    progress(json.dumps(evaluated["metrics"]))

    report["simulator"] = []
    for seed in (int(s) for s in args.seeds.split(",")):
        progress(f"simulator seed {seed}: featurizing point in time")
        history, featurize_s = timed(simulated, seed)
        with_velocity, s1 = timed(lambda h: out_of_sample(h, progress), history)
        without, s2 = timed(lambda h: out_of_sample(h, progress), history.without_velocity())
        run = {"seed": seed, "transactions": len(history.y), "fraud": int(history.y.sum()), "featurize_s": featurize_s,
               "with_velocity": {**_public(with_velocity), "evaluate_s": s1, "features": len(history.feature_names)},
               "without_velocity": {**_public(without), "evaluate_s": s2,
                                    "features": history.without_velocity().feature_names}}
        report["simulator"].append(run)
        progress(f"seed {seed}: PR-AUC {with_velocity['metrics']['pr_auc']} with velocity, "
                 f"{without['metrics']['pr_auc']} without")
        if seed == 0:
            rules = parse_rules(DEFAULT_RULES, history.feature_names, source="built-in rules")
            rows = with_velocity["rows"]
            report["rules_backtest_seed0"] = backtest_rules(rules, history.X[rows], with_velocity["scores"], history.y[rows])
    report["note"] = ("simulator results are on synthetic data generated by mercato.risk.simulator; they show the "
                      "velocity features at work, not real-world fraud rates. The machine was shared with other work "
                      "(see load averages); quality numbers do not depend on it, the timings do.")
    report["load_avg_after"] = [round(v, 2) for v in os.getloadavg()]
    report["machine"] = machine()
    report["command"] = "python benchmarks/risk.py " + " ".join(sys.argv[1:])
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "risk.json").write_text(json.dumps(report, indent=2) + "\n")
    (RESULTS / "risk.md").write_text(markdown(report))
    print(markdown(report))


if __name__ == "__main__":
    main()
