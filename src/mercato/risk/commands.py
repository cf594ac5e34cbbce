"""``mercato risk train | evaluate | backtest``: the command-line face of the risk package.

Data comes from the store's ``payment`` and ``chargeback`` events (the default, with review
verdicts from the review queue as labels too), from the synthetic simulator, or from the
creditcard-fraud benchmark under ``--data-dir``. ``cli.build_parser`` calls ``register``.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from mercato.risk.datasets import DATASETS, LabelledHistory, load_history

SOURCES = ("store", *DATASETS)


def _progress(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def _model_dir(args: argparse.Namespace, settings) -> Path:
    return Path(args.model_dir) if args.model_dir else settings.model_dir / "risk"


def load(args: argparse.Namespace, settings) -> LabelledHistory:
    started = time.perf_counter()
    if args.dataset == "store":
        from mercato.risk.training import history_from_events
        from mercato.storage import open_store
        from mercato.storage.risk_reviews import ReviewStore

        with open_store(settings.store_url) as store:
            events = store.read_events(types=["payment", "chargeback"])
        _progress(f"featurizing {int((events['type'] == 'payment').sum()):,} payments point in time "
                  f"({int((events['type'] == 'chargeback').sum()):,} chargebacks)")
        reviews_db = _model_dir(args, settings) / "reviews.db"
        verdicts = []
        if reviews_db.is_file():
            reviews = ReviewStore(reviews_db)
            verdicts = reviews.verdicts()
            reviews.close()
        history = history_from_events(events, verdicts, maturity_s=settings.risk_label_maturity_days * 86_400)
    else:
        data_dir = args.data_dir or settings.data_dir
        _progress(f"loading {args.dataset}" + (" (synthetic stream, featurized point in time)" if args.dataset == "simulator" else ""))
        history = load_history(args.dataset, Path(data_dir) if data_dir else None, seed=args.seed)
    _progress(f"{len(history.y):,} payments, {int(history.y.sum()):,} fraud, {len(history.feature_names)} features "
              f"({time.perf_counter() - started:.1f} s)")
    return history


def _write_json(path: str | None, payload) -> None:
    if path:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        Path(path).write_text(json.dumps(payload, indent=2) + "\n")
        _progress(f"wrote {path}")


def _public(report: dict) -> dict:
    return {k: v for k, v in report.items() if k not in ("model", "rows", "scores")}


def out_of_sample(history: LabelledHistory, progress=_progress) -> dict:
    """Time split for creditcard-fraud (labels without delays); prequential with delayed labels otherwise."""
    from mercato.risk.evaluation import prequential, time_split

    if history.protocol == "time_split":
        return time_split(history.X, history.y, history.times_s, history.feature_names, progress=progress)
    return prequential(history.X, history.times_s, history.labels, history.feature_names, pattern=history.pattern,
                       progress=progress)


def cmd_train(args: argparse.Namespace, settings) -> int:
    from mercato.risk.training import train_model

    history = load(args, settings)
    # The store trains on what is known now; a replayed dataset on what is known at its end.
    as_of = time.time() if args.dataset == "store" else float(history.times_s.max())
    summary = train_model(history, _model_dir(args, settings), as_of_s=as_of, progress=_progress)
    summary["dataset"] = args.dataset
    print(json.dumps(summary, indent=2))
    _write_json(args.json, summary)
    return 0


def cmd_evaluate(args: argparse.Namespace, settings) -> int:
    history = load(args, settings)
    report = {"dataset": args.dataset, **_public(out_of_sample(history))}
    if args.dataset != "creditcard-fraud" and not args.skip_ablation:
        _progress("the same without velocity features (per-transaction features only)")
        report["without_velocity"] = _public(out_of_sample(history.without_velocity()))
    print(json.dumps(report["metrics"], indent=2))
    if "without_velocity" in report:
        print(json.dumps({"without_velocity": report["without_velocity"]["metrics"]}, indent=2))
    _write_json(args.json, report)
    return 0


def cmd_backtest(args: argparse.Namespace, settings) -> int:
    from mercato.risk.rules import DEFAULT_RULES, backtest_rules, load_rules, parse_rules

    history = load(args, settings)
    if args.list_features:
        print("\n".join(["score", *history.feature_names]))
        return 0
    rules_file = args.rules or settings.risk_rules_file
    rules = load_rules(rules_file, history.feature_names) if rules_file else parse_rules(
        DEFAULT_RULES, history.feature_names, source="built-in rules")
    _progress(f"backtesting {len(rules.rules)} rules from {rules_file or 'the built-in rules'} on out-of-sample scores")
    evaluated = out_of_sample(history)
    rows = evaluated["rows"]
    report = {"dataset": args.dataset, "rules_file": str(rules_file) if rules_file else None,
              "protocol": evaluated["protocol"],
              **backtest_rules(rules, history.X[rows], evaluated["scores"], history.y[rows])}
    print(json.dumps(report, indent=2))
    _write_json(args.json, report)
    return 0


def register(sub) -> None:
    """Add ``risk`` with its actions to the CLI's sub-parsers."""
    parser = sub.add_parser("risk", help="fraud scoring of orders and payments: train, evaluate, backtest")
    actions = parser.add_subparsers(dest="risk_action", required=True, metavar="ACTION")

    def data_options(p: argparse.ArgumentParser) -> None:
        p.add_argument("--dataset", choices=SOURCES, default="store",
                       help="the store's payments/chargebacks (default), the synthetic simulator, or creditcard-fraud")
        p.add_argument("--data-dir", help="datasets folder holding creditcard-fraud/")
        p.add_argument("--seed", type=int, default=0, help="simulator seed")
        p.add_argument("--model-dir", help="model and review folder (default: <model_dir>/risk)")
        p.add_argument("--json", help="also write the report to this file")

    p = actions.add_parser("train", help="fit the calibrated fraud model on labels known now and save it")
    data_options(p)
    p.set_defaults(func=cmd_train)

    p = actions.add_parser("evaluate", help="time-ordered evaluation (prequential with delayed labels)")
    data_options(p)
    p.add_argument("--skip-ablation", action="store_true", help="do not also evaluate without velocity features")
    p.set_defaults(func=cmd_evaluate)

    p = actions.add_parser("backtest", help="what a rules file would have decided on out-of-sample scores")
    data_options(p)
    p.add_argument("--rules", help="YAML/JSON rules file (default: risk_rules_file, else the built-in rules)")
    p.add_argument("--list-features", action="store_true", help="print the names rules may use and exit")
    p.set_defaults(func=cmd_backtest)
