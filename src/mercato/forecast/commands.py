"""``mercato forecast train | backtest | forecast``: the command-line face of the forecast package.

Demand comes from the store's purchase and return events (the default) or, with
``--dataset``, from a benchmark dataset under ``--data-dir``. ``cli.build_parser`` calls
``register`` to add the command.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from mercato.errors import InvalidInput
from mercato.forecast.datasets import DATASETS
from mercato.forecast.models import CALIBRATE_MEDIAN, MODEL_NAMES, forecaster_for
from mercato.forecast.series import FREQUENCIES, DemandPanel, demand_from_events


def _progress(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def load_panel(args: argparse.Namespace, settings) -> DemandPanel:
    """The demand panel the arguments name: a dataset, else the store's events."""
    if args.dataset:
        data_dir = args.data_dir or settings.data_dir
        if args.dataset == "stallion":
            if data_dir is None:
                raise InvalidInput("--dataset stallion needs --data-dir (the folder holding stallion/)")
            return DATASETS["stallion"](Path(data_dir))
        return DATASETS["online-retail"](Path(data_dir) if data_dir else None, freq=args.freq)
    from mercato.storage import open_store

    store = open_store(settings.store_url)
    try:
        events = store.read_events(types=["purchase", "return"])
    finally:
        store.close()
    _progress(f"building {args.freq} demand from {len(events):,} purchase/return events")
    return demand_from_events(events, freq=args.freq, timezone=args.timezone)


def _model_dir(args: argparse.Namespace, settings) -> Path:
    return Path(args.model_dir) if args.model_dir else settings.model_dir / "forecast"


def _write_json(path: str | None, payload) -> None:
    if path:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        Path(path).write_text(json.dumps(payload, indent=2) + "\n")
        _progress(f"wrote {path}")


def cmd_train(args: argparse.Namespace, settings) -> int:
    from mercato.forecast.service import train_forecasts

    panel = load_panel(args, settings)
    _progress(f"fitting {args.model} on {panel.n_series:,} series × {panel.n_periods} periods")
    model = forecaster_for(args.model, freq=panel.freq, horizon=args.horizon)
    summary = train_forecasts(
        panel, model, args.horizon, _model_dir(args, settings), calibrate_median=CALIBRATE_MEDIAN[panel.freq]
    )
    print(json.dumps(summary, indent=2))
    _write_json(args.json, summary)
    return 0


def cmd_backtest(args: argparse.Namespace, settings) -> int:
    from mercato.forecast.backtest import backtest

    panel = load_panel(args, settings)
    reports = []
    for name in args.model:
        model = forecaster_for(name, freq=panel.freq, horizon=args.horizon)
        report = backtest(
            panel, model, horizon=args.horizon, test_periods=args.test_periods, mase_season=args.mase_season,
            calibrate_median=CALIBRATE_MEDIAN[panel.freq], progress=_progress,
        )
        reports.append({key: value for key, value in report.items() if key != "per_series" or args.per_series})
    print(format_reports(reports))
    _write_json(args.json, reports)
    return 0


def cmd_forecast(args: argparse.Namespace, settings) -> int:
    from mercato.forecast.plot import plot_forecast
    from mercato.forecast.service import artifact_panel_and_forecast, forecast_for_sku, load_forecasts

    forecasts = load_forecasts(_model_dir(args, settings))
    answer = forecast_for_sku(
        forecasts, args.sku, horizon=args.horizon, lead_time=args.lead_time, service_level=args.service_level,
        inventory_position=args.stock,
    )
    if args.plot:
        panel, forecast = artifact_panel_and_forecast(forecasts, args.sku)
        answer["plot"] = str(plot_forecast(panel, forecast, args.sku, args.plot))
    print(json.dumps(answer, indent=2))
    _write_json(args.json, answer)
    return 0


def format_reports(reports: list[dict]) -> str:
    """A plain table: one row per model, the headline metrics as columns."""
    columns = ["mase", "wape", "bias", "pinball_p50", "coverage_p10_p90", "n_forecasts"]
    lines = [f"{'model':<16}" + "".join(f"{c:>18}" for c in columns)]
    for report in reports:
        lines.append(f"{report['model']:<16}" + "".join(f"{report['metrics'][c]:>18}" for c in columns))
    return "\n".join(lines)


def register(sub) -> None:
    """Add ``forecast`` with its actions to the CLI's sub-parsers."""
    parser = sub.add_parser("forecast", help="per-SKU demand forecasts: train, backtest, forecast")
    actions = parser.add_subparsers(dest="forecast_action", required=True, metavar="ACTION")

    def data_options(p: argparse.ArgumentParser) -> None:
        p.add_argument("--dataset", choices=sorted(DATASETS), help="a benchmark dataset instead of the store")
        p.add_argument("--data-dir", help="datasets folder holding <dataset>/ (online-retail works without)")
        p.add_argument("--freq", choices=sorted(FREQUENCIES), default="W", help="period of the demand series")
        p.add_argument("--timezone", default="UTC", help="shop time zone that periods follow (store data)")
        p.add_argument("--horizon", type=int, default=4, help="periods to forecast")
        p.add_argument("--json", help="also write the answer to this file")

    p = actions.add_parser("train", help="fit a forecaster on all SKUs and save their forecasts")
    data_options(p)
    p.add_argument("--model", choices=MODEL_NAMES, default="lightgbm")
    p.add_argument("--model-dir", help="artifact folder (default: <model_dir>/forecast)")
    p.set_defaults(func=cmd_train)

    p = actions.add_parser("backtest", help="rolling-origin backtest of one or more forecasters")
    data_options(p)
    p.add_argument("--model", action="append", choices=MODEL_NAMES, required=True, help="repeat to compare")
    p.add_argument("--test-periods", type=int, default=8, help="the last N periods are forecast origins")
    p.add_argument("--mase-season", type=int, help="season of the MASE scale (default: the frequency's)")
    p.add_argument("--per-series", action="store_true", help="include per-SKU metrics in --json")
    p.set_defaults(func=cmd_backtest)

    p = actions.add_parser("forecast", help="one SKU's P10/P50/P90 and reorder advice from the trained artifact")
    p.add_argument("--sku", required=True)
    p.add_argument("--horizon", type=int, help="periods to show (default: all trained)")
    p.add_argument("--lead-time", type=int, default=1, help="replenishment lead time in periods")
    p.add_argument("--service-level", type=float, default=0.95, help="probability of no stock-out per cycle")
    p.add_argument("--stock", type=float, help="current inventory position, to say whether to reorder now")
    p.add_argument("--model-dir", help="artifact folder (default: <model_dir>/forecast)")
    p.add_argument("--plot", help="write a PNG of history and forecast band here")
    p.add_argument("--json", help="also write the answer to this file")
    p.set_defaults(func=cmd_forecast)
