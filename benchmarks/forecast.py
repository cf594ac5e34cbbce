"""Rolling-origin backtests of every forecaster on stallion and online-retail, plus the all-SKU timing.

Writes benchmarks/results/forecast.json (reports, machine, date, command) and
benchmarks/results/forecast.md (the README table). Settings are the issue's:

- stallion: monthly, 350 series, origins in the last 6 months, horizons 1–6, WAPE headline;
- online-retail: weekly per StockCode, origins in the last 8 weeks, horizons 1–4, MASE headline
  (naive scale: a year of weekly data holds no second season to scale by);
- timing: fit + forecast (with conformal calibration, i.e. two fits) of every online-retail SKU,
  median of ``--repeats`` runs after one warm-up run (numba JIT of statsforecast, page cache).

    .venv/bin/python benchmarks/forecast.py --data-dir ../shared/datasets [--datasets …] [--models …]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

from mercato.evaluation.runner import machine_description
from mercato.forecast.backtest import backtest
from mercato.forecast.datasets import online_retail_panel, stallion_panel
from mercato.forecast.intervals import ConformalForecaster
from mercato.forecast.models import CALIBRATE_MEDIAN, forecaster_for

RESULTS = Path(__file__).parent / "results"
SETTINGS = {
    "stallion": {"horizon": 6, "test_periods": 6, "mase_season": 12, "headline": "wape",
                 "models": ["seasonal_naive", "naive", "auto_ets", "lightgbm"]},
    "online-retail": {"horizon": 4, "test_periods": 8, "mase_season": 1, "headline": "mase",
                      "models": ["naive", "moving_average", "croston", "croston_sba", "tsb", "adida", "imapa",
                                 "lightgbm"]},
}


PLAIN_TOO = ("naive", "seasonal_naive", "moving_average")


def order(dataset: str, model: str) -> tuple[int, str]:
    return SETTINGS[dataset]["models"].index(model.split(" ")[0]), model


def progress(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def load(dataset: str, data_dir: Path):
    return stallion_panel(data_dir) if dataset == "stallion" else online_retail_panel(data_dir)


def time_all_skus(panel, model_name: str, horizon: int, repeats: int) -> dict:
    """Wall seconds to fit and forecast every series, P10/P50/P90 included."""
    runs = []
    for attempt in range(repeats + 1):
        started = time.perf_counter()
        model = ConformalForecaster(
            forecaster_for(model_name, freq=panel.freq, horizon=horizon), horizon=horizon,
            calibrate_median=CALIBRATE_MEDIAN[panel.freq],
        )
        model.fit(panel.with_carried_covariates(horizon)).predict(horizon)
        runs.append(time.perf_counter() - started)
        progress(f"  {model_name}: all {panel.n_series} series fit+forecast in {runs[-1]:.1f} s (run {attempt})")
    return {"model": model_name, "series": panel.n_series, "warmup_s": round(runs[0], 2),
            "median_s": round(statistics.median(runs[1:]), 2), "runs_s": [round(r, 2) for r in runs[1:]]}


def markdown(results: dict) -> str:
    lines = []
    for dataset, block in results["datasets"].items():
        headline = SETTINGS[dataset]["headline"]
        reports = block["reports"]
        best = {r["model"]: r["metrics"][headline] for r in reports}
        lines += [f"**{dataset}** ({block['setting']}; {headline.upper()} is the headline, lower is better)", "",
                  "| model | MASE | WAPE | bias | pinball P50 | P10–P90 coverage | lightgbm vs this |",
                  "|---|---|---|---|---|---|---|"]
        ours = best.get("lightgbm")
        for r in reports:
            m = r["metrics"]
            gain = f"{(1 - ours / m[headline]) * 100:+.1f}%" if ours and r["model"] != "lightgbm" else ""
            lines.append(f"| {r['model']} | {m['mase']:.3f} | {m['wape']:.3f} | {m['bias']:+.3f} | "
                         f"{m['pinball_p50']:.3f} | {m['coverage_p10_p90']:.3f} | {gain} |")
        lines.append("")
        lines.append("Every model's P50 is calibrated by the median conformal error unless marked plain P50.")
        lines.append("")
    for timing in results.get("timing", []):
        lines.append(f"All {timing['series']:,} online-retail SKUs, fit + P10/P50/P90 forecast with {timing['model']}: "
                     f"median {timing['median_s']} s over {len(timing['runs_s'])} runs (first run {timing['warmup_s']} s).")
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data-dir", default="../shared/datasets")
    parser.add_argument("--datasets", nargs="+", default=list(SETTINGS), choices=list(SETTINGS))
    parser.add_argument("--models", nargs="+", help="only these models (default: each dataset's list)")
    parser.add_argument("--plain", action="store_true", help="score the models with their plain P50 only")
    parser.add_argument("--repeats", type=int, default=3, help="timed runs of the all-SKU fit (after a warm-up)")
    parser.add_argument("--out", default=str(RESULTS / "forecast.json"))
    args = parser.parse_args()

    out = Path(args.out)
    results = json.loads(out.read_text()) if out.exists() else {"datasets": {}}
    for dataset in args.datasets:
        settings = SETTINGS[dataset]
        panel = load(dataset, Path(args.data_dir))
        progress(f"== {dataset}: {panel.n_series} series × {panel.n_periods} periods")
        block = results["datasets"].setdefault(dataset, {"reports": []})
        block["setting"] = (f"{panel.n_series} series, {panel.freq} periods, origins in the last "
                            f"{settings['test_periods']}, horizons 1–{settings['horizon']}")
        for name in args.models or settings["models"]:
            if name not in settings["models"]:
                continue
            # The fast baselines are also scored without median calibration: their plain forecasts.
            variants = (False,) if args.plain else (True, False) if name in PLAIN_TOO else (True,)
            for calibrate in variants:
                model = forecaster_for(name, freq=panel.freq, horizon=settings["horizon"])
                report = backtest(panel, model, horizon=settings["horizon"], test_periods=settings["test_periods"],
                                  mase_season=settings["mase_season"], calibrate_median=calibrate, progress=progress)
                report.pop("per_series")
                report["model"] = name if calibrate else f"{name} (plain P50)"
                progress(f"  {report['model']}: {report['metrics']} in {report['backtest_s']} s")
                block["reports"] = [r for r in block["reports"] if r["model"] != report["model"]] + [report]
        block["reports"].sort(key=lambda r: order(dataset, r["model"]))
        if dataset == "online-retail" and args.repeats > 0:
            results["timing"] = [time_all_skus(panel, "lightgbm", settings["horizon"], args.repeats)]
    # Partial runs refresh the file in place; every command that contributed is kept.
    command = "python benchmarks/forecast.py " + " ".join(sys.argv[1:])
    results["commands"] = [c for c in results.get("commands", []) if c != command] + [command]
    results.update({"command": "python benchmarks/forecast.py --data-dir ../shared/datasets",
                    "machine": machine_description(), "date": datetime.now(UTC).isoformat(timespec="seconds")})
    # Another run may have written other datasets meanwhile: merge with the file as it is now.
    latest = json.loads(out.read_text()) if out.exists() else {"datasets": {}}
    for dataset in args.datasets:
        mine = results["datasets"][dataset]
        theirs = latest["datasets"].get(dataset, {"reports": []})["reports"]
        fresh = {r["model"] for r in mine["reports"]}
        mine["reports"] = [r for r in theirs if r["model"] not in fresh] + mine["reports"]
        mine["reports"].sort(key=lambda r: order(dataset, r["model"]))
        latest["datasets"][dataset] = mine
    results["datasets"] = latest["datasets"]
    if "timing" not in results and "timing" in latest:
        results["timing"] = latest["timing"]
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=2) + "\n")
    out.with_suffix(".md").write_text(markdown(results))
    print(markdown(results))


if __name__ == "__main__":
    main()
