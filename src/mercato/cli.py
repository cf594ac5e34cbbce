"""The ``mercato`` command line: import, evaluate, train, recommend, demo.

Each command builds the settings once, does its job, prints progress to stderr and its
answer to stdout. Errors mercato raises on purpose end with exit code 2 and one line
that says what to fix; nothing prints a traceback for bad input.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import time
from pathlib import Path

from mercato import __version__
from mercato.errors import InvalidInput, MercatoError
from mercato.settings import Settings


def progress(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def parse_params(pairs: list[str]) -> dict:
    """``["l2=500", "neighbors=50"]`` -> ``{"l2": 500, "neighbors": 50}`` (JSON values, else strings)."""
    params = {}
    for pair in pairs:
        key, sep, raw = pair.partition("=")
        if not sep or not key:
            raise InvalidInput(f"--param expects KEY=VALUE, got '{pair}'")
        try:
            params[key] = json.loads(raw)
        except json.JSONDecodeError:
            params[key] = raw
    return params


# ---- commands ---------------------------------------------------------------------------
def cmd_import(args: argparse.Namespace, settings: Settings) -> int:
    from mercato.ingest import import_file

    summary = import_file(args.format, Path(args.path), settings.store_url, limit=args.limit, progress=progress)
    print(json.dumps(summary, indent=2))
    return 0


def cmd_evaluate(args: argparse.Namespace, settings: Settings) -> int:
    from mercato.evaluation.datasets import load_split
    from mercato.evaluation.runner import evaluate
    from mercato.evaluation.table import format_table
    from mercato.recommend.defaults import model_for

    data_dir = Path(args.data_dir) if args.data_dir else settings.data_dir
    progress(f"loading {args.dataset} …")
    started = time.perf_counter()
    options = {"split": args.split}
    if args.cut_at:
        options["cut_at"] = args.cut_at
    split = load_split(args.dataset, data_dir, **options)
    progress(f"loaded in {time.perf_counter() - started:.1f} s: {split.n_cases:,} test cases ({split.protocol})")
    reports = []
    for name in args.model:
        model = model_for(args.dataset, name, seed=args.seed, item_attributes=split.item_attributes, **parse_params(args.param))
        reports.append(evaluate(split, model, progress=progress, batch_size=args.batch_size))
    print(format_table(reports))
    if args.json:
        payload = reports[0] if len(reports) == 1 else reports
        Path(args.json).parent.mkdir(parents=True, exist_ok=True)
        Path(args.json).write_text(json.dumps(payload, indent=2) + "\n")
        progress(f"wrote {args.json}")
    return 0


def cmd_train(args: argparse.Namespace, settings: Settings) -> int:
    from mercato.recommend.training import train_from_store

    out = Path(args.out) if args.out else settings.model_dir / args.model
    summary = train_from_store(
        settings.store_url, args.model, out, params=parse_params(args.param), types=args.types, progress=progress
    )
    if args.publish or args.promote:
        from mercato.models.registry import ModelRegistry
        from mercato.recommend.base import Recommender

        metrics = {k: summary[k] for k in ("fit_s", "interactions", "users", "items")}
        record = ModelRegistry(settings.model_dir / "registry").publish(
            Recommender.load(out), metrics=metrics, source="cli", promote=args.promote
        )
        summary["registry_version"] = record.version
        progress(f"published as version {record.version}" + (" and made live" if args.promote else ""))
    print(json.dumps(summary, indent=2))
    return 0


def cmd_recommend(args: argparse.Namespace, settings: Settings) -> int:
    from mercato.recommend.base import Recommender

    model_dir = Path(args.model_dir) if args.model_dir else settings.model_dir / args.model
    model = Recommender.load(model_dir)
    if args.user is not None:
        result = model.recommend(args.user, k=args.k, exclude=args.exclude)
    elif args.items:
        result = model.recommend_for_items(args.items, k=args.k, exclude=args.exclude)
    elif args.similar_to is not None:
        result = model.similar_items(args.similar_to, k=args.k)
    else:
        raise InvalidInput("give one of --user ID, --items ID [ID …] or --similar-to ID")
    print(json.dumps([{"item_id": item, "score": round(score, 6)} for item, score in result], indent=2))
    return 0


def cmd_demo(args: argparse.Namespace, settings: Settings) -> int:
    from mercato.demo import run_demo

    run_demo(Path(args.workdir), progress=progress)
    return 0


def cmd_serve(args: argparse.Namespace, settings: Settings) -> int:
    import uvicorn

    from mercato.serving import create_app

    host = args.host or settings.serve_host
    port = args.port if args.port is not None else settings.serve_port
    progress(f"mercato serving on http://{host}:{port} (API docs at /docs; store {settings.store_url})")
    # Requests are answered one at a time on the event loop, and their matrix products are small
    # (one history against the catalog). A multi-threaded BLAS gains nothing there, and its
    # spinning worker threads fight the request loop for the cores: on 2 busy cores one 50 µs
    # product took 5 ms at p99. Batch work inside the server (refits, fine-tuning) runs in torch
    # or sets its own limits.
    from threadpoolctl import threadpool_limits

    threadpool_limits(1, "blas")
    uvicorn.run(create_app(settings), host=host, port=port, log_level=args.log_level, access_log=False)
    return 0


def cmd_replay(args: argparse.Namespace, settings: Settings) -> int:
    import pandas as pd

    from mercato import importers
    from mercato.replay import ReplayConfig, default_since, replay, write_report

    if args.path is None and args.dataset != "online-retail":
        raise InvalidInput(f"--path is required for {args.dataset} (only online-retail is bundled)")
    path = Path(args.path) if args.path else importers.bundled_online_retail_path()
    progress(f"reading {args.dataset} from {path} …")
    events = importers.read(args.dataset, path).events
    try:
        since = pd.Timestamp(args.since) if args.since else default_since(events)
    except ValueError:
        raise InvalidInput(f"--since must be an ISO date or time, got {args.since!r}") from None
    if since.tzinfo is None:
        since = since.tz_localize("UTC")
    config = ReplayConfig(
        since=since,
        model=args.model,
        k=args.k,
        refit_every=pd.Timedelta(days=args.refit_every_days),
        window=pd.Timedelta(days=args.window_days),
        max_predictions=args.max_predictions or None,
    )
    report = replay(events, config, progress=progress)
    report["dataset"] = args.dataset
    json_path, png_path = write_report(report, Path(args.out), args.dataset)
    print(json.dumps({k: v for k, v in report.items() if k != "windows"}, indent=2))
    progress(f"wrote {json_path} and {png_path}")
    return 0


# ---- parser -----------------------------------------------------------------------------
def build_parser() -> argparse.ArgumentParser:
    from mercato.assist import commands as assist_commands
    from mercato.evaluation.datasets import DATASETS
    from mercato.forecast import commands as forecast_commands
    from mercato.importers import FORMATS
    from mercato.recommend.registry import model_names
    from mercato.risk import commands as risk_commands

    parser = argparse.ArgumentParser(prog="mercato", description="Self-hostable AI engine for e-commerce.")
    parser.add_argument("--version", action="version", version=f"mercato {__version__}")
    parser.add_argument("--config", help="TOML settings file (see mercato.example.toml)")
    parser.add_argument("--store", help="store URL, e.g. sqlite:///var/mercato.db or postgresql://… (env MERCATO_STORE_URL)")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("import", help="import a public dataset file into the store")
    p.add_argument("format", choices=sorted(FORMATS), help="source format")
    p.add_argument("path", help="file (or folder, for movielens) to read")
    p.add_argument("--limit", type=int, help="read only the first N source records")
    p.set_defaults(func=cmd_import)

    p = sub.add_parser("evaluate", help="full-ranking offline evaluation of recommenders on a benchmark dataset")
    p.add_argument("--dataset", required=True, choices=sorted(DATASETS))
    p.add_argument("--model", required=True, action="append", choices=model_names(), help="repeat to compare models")
    p.add_argument("--data-dir", help="datasets folder holding <dataset>/<files> (online-retail also works without)")
    p.add_argument("--split", choices=["test", "valid"], default="test", help="leave-one-out: which item to hold out")
    p.add_argument("--cut-at", help="temporal protocol: ISO cut time with timezone (default: 90%% time quantile)")
    p.add_argument("--param", action="append", default=[], metavar="KEY=VALUE", help="model hyper-parameter")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--batch-size", type=int, default=1024, help="test cases scored at once")
    p.add_argument("--json", help="write the report (one model: an object; several: a list) to this file")
    p.set_defaults(func=cmd_evaluate)

    p = sub.add_parser("train", help="train a recommender on the store's events and save it")
    p.add_argument("--model", required=True, choices=model_names())
    p.add_argument("--types", nargs="+", default=["purchase"], help="event types that count as interactions")
    p.add_argument("--param", action="append", default=[], metavar="KEY=VALUE")
    p.add_argument("--out", help="artifact folder (default: <model_dir>/<model>)")
    p.add_argument("--publish", action="store_true", help="also register it as a new version in <model_dir>/registry")
    p.add_argument("--promote", action="store_true", help="publish and make it live (a running server swaps it in)")
    p.set_defaults(func=cmd_train)

    p = sub.add_parser("recommend", help="answer from a saved model")
    p.add_argument("--model", default="ease", choices=model_names(), help="model under <model_dir>/ to load")
    p.add_argument("--model-dir", help="artifact folder (overrides --model)")
    p.add_argument("--user", help="recommend for this known user")
    p.add_argument("--items", nargs="+", help="recommend for this anonymous sequence of item ids")
    p.add_argument("--similar-to", help="items similar to this item id")
    p.add_argument("-k", type=int, default=10)
    p.add_argument("--exclude", nargs="*", default=[], help="item ids never to return")
    p.set_defaults(func=cmd_recommend)

    p = sub.add_parser("serve", help="run the HTTP API with live ingestion and online learning")
    p.add_argument("--host", help="address to listen on (default: serve_host, 127.0.0.1)")
    p.add_argument("--port", type=int, help="port to listen on (default: serve_port, 8000)")
    # SUPPRESS: given after the command it overrides the global --store; absent, it leaves it be.
    p.add_argument("--store", default=argparse.SUPPRESS, help="store URL (env MERCATO_STORE_URL)")
    p.add_argument("--log-level", default="warning", choices=["debug", "info", "warning", "error"])
    p.set_defaults(func=cmd_serve)

    p = sub.add_parser("replay", help="prequential replay of a timestamped dataset: frozen vs online-updated model")
    p.add_argument("--dataset", required=True, choices=sorted(FORMATS), help="importer format of the data")
    p.add_argument("--path", help="data file (default for online-retail: the bundled file)")
    p.add_argument("--since", help="stream the events from this ISO time on (default: the last quarter of the span)")
    p.add_argument("--model", default="itemknn", choices=model_names())
    p.add_argument("-k", type=int, default=10)
    p.add_argument("--refit-every-days", type=float, default=7.0, help="stream time between online refits")
    p.add_argument("--window-days", type=float, default=7.0, help="report hit rates per window of this length")
    p.add_argument("--max-predictions", type=int, default=5000, help="score every n-th event to stay under this; 0: all")
    p.add_argument("--out", default="var/replay", help="folder for replay.json and replay.png")
    p.set_defaults(func=cmd_replay)

    p = sub.add_parser("demo", help="import the bundled Online Retail data, train, evaluate, show recommendations")
    p.add_argument("--workdir", default="var/demo", help="fresh folder for the demo's store and models")
    p.set_defaults(func=cmd_demo)
    forecast_commands.register(sub)
    assist_commands.register(sub)
    risk_commands.register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    # Training progress (epochs, losses, validation) is logged; the CLI shows it on stderr.
    logging.basicConfig(level=logging.INFO, format="%(message)s", stream=sys.stderr)
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        overrides = {"store_url": args.store}
        settings = Settings.from_file(args.config, **overrides) if args.config else Settings.build(
            **{k: v for k, v in overrides.items() if v is not None}
        )
        return args.func(args, settings)
    except MercatoError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
