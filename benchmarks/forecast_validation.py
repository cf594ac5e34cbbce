"""Validation backtests for choosing the global model's design: every choice is made here, not on the test window.

The test window of ``benchmarks/forecast.py`` is the last 8 weeks (online-retail) or 6 months
(stallion). This script cuts those periods off the panel entirely — no demand, price or
covariate value from the test window is read — and runs the same rolling-origin backtest
on what is left: origins in the 8 weeks (6 months) just before the test window, horizons
1–4 (1–6). The weekly lightgbm defaults in ``mercato.forecast.models`` (loss, example
weighting, feature set, blend with IMAPA, median calibration, origins, trees, leaves) were
chosen by comparing the variants below on these validation numbers; the test window was
scored once afterwards. Stallion's monthly model was not changed, so only its naive floor
is scored here.

Rows marked "before: price read at the target period" were measured when training examples
read the realized price of their target period, which forecasts cannot know (they see the
price carried from the origin); since the fix every example reads it at the origin.

    .venv/bin/python benchmarks/forecast_validation.py --data-dir ../shared/datasets [--variants name …]

Writes benchmarks/results/forecast_validation.json and .md (merged per dataset and variant).
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import UTC, datetime
from pathlib import Path

from mercato.evaluation.runner import machine_description
from mercato.forecast.backtest import backtest
from mercato.forecast.datasets import online_retail_panel, stallion_panel
from mercato.forecast.models import forecaster_for

RESULTS = Path(__file__).parent / "results"
SETTINGS = {
    "stallion": {"horizon": 6, "test_periods": 6, "mase_season": 12, "headline": "wape"},
    "online-retail": {"horizon": 4, "test_periods": 8, "mase_season": 1, "headline": "mase"},
}

# name -> (model, parameters overriding the frequency defaults, calibrate the P50 by the median error)
# Overrides on top of the weekly defaults; each variant changes one thing from BASE.
BASE = {"loss": "l1", "weighting": "mase", "features": "basic", "ensemble": 0.0}
VARIANTS: dict[str, tuple[str, dict, bool]] = {
    "naive": ("naive", {}, True),
    "imapa": ("imapa", {}, True),
    "imapa_plain": ("imapa", {}, False),
    # The global model before this round of changes: Tweedie mean, MASE weights, P50 moved by calibration.
    "gbm_tweedie_mase_cal": ("lightgbm", {**BASE, "loss": "tweedie"}, True),
    # Chosen (the weekly default): L1 loss, MASE weights, basic features, no blend.
    "gbm_l1_mase_plain": ("lightgbm", BASE, False),
    "gbm_l1_mase_cal": ("lightgbm", BASE, True),
    "gbm_l1_equal_plain": ("lightgbm", {**BASE, "weighting": "equal"}, False),
    "gbm_l1_mase_intermittent_plain": ("lightgbm", {**BASE, "features": "intermittent"}, False),
    "gbm_l1_mase_intermittent_cal": ("lightgbm", {**BASE, "features": "intermittent"}, True),
    "gbm_l1_mase_imapa30_cal": ("lightgbm", {**BASE, "ensemble": 0.3}, True),
    "gbm_l1_mase_imapa50_cal": ("lightgbm", {**BASE, "ensemble": 0.5}, True),
    "gbm_l1_mase_32origins_plain": ("lightgbm", {**BASE, "max_origins": 32}, False),
    "gbm_l1_mase_300trees_plain": ("lightgbm", {**BASE, "n_estimators": 300, "learning_rate": 0.05}, False),
    "gbm_l1_mase_leaves15_child200_plain": ("lightgbm", {**BASE, "num_leaves": 15, "min_child_samples": 200}, False),
    "gbm_l1_mase_imapa10_cal": ("lightgbm", {**BASE, "ensemble": 0.1}, True),
}
BEFORE_FIX = " (before: price read at the target period)"


def report_order(name: str) -> int:
    """Rows in the order of VARIANTS; the rows measured before the price fix after them, in the same order."""
    base = name.removesuffix(BEFORE_FIX)
    position = list(VARIANTS).index(base) if base in VARIANTS else len(VARIANTS)
    return position + (len(VARIANTS) + 1 if name.endswith(BEFORE_FIX) else 0)


def progress(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def validation_panel(dataset: str, data_dir: Path):
    """The panel without its test window: the last ``test_periods`` are cut off, covariates included."""
    panel = stallion_panel(data_dir) if dataset == "stallion" else online_retail_panel(data_dir)
    return panel.truncate(panel.n_periods - SETTINGS[dataset]["test_periods"], 0)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data-dir", default="../shared/datasets")
    parser.add_argument("--datasets", nargs="+", default=["online-retail"], choices=list(SETTINGS))
    parser.add_argument("--variants", nargs="+", default=list(VARIANTS), choices=list(VARIANTS))
    parser.add_argument("--out", default=str(RESULTS / "forecast_validation.json"))
    args = parser.parse_args()

    out = Path(args.out)
    for dataset in args.datasets:
        settings = SETTINGS[dataset]
        panel = validation_panel(dataset, Path(args.data_dir))
        progress(f"== {dataset} (validation): {panel.n_series} series × {panel.n_periods} periods")
        for variant in args.variants:
            name, params, calibrate = VARIANTS[variant]
            if dataset == "stallion" and name != "naive":
                continue  # the weekly variants; stallion's monthly model was not changed
            model = forecaster_for(name, freq=panel.freq, horizon=settings["horizon"], **params)
            report = backtest(panel, model, horizon=settings["horizon"], test_periods=settings["test_periods"],
                              mase_season=settings["mase_season"], calibrate_median=calibrate)
            report.pop("per_series")
            report["model"] = variant
            report["calibrate_median"] = calibrate
            progress(f"  {variant}: {report['metrics']} in {report['backtest_s']} s")
            # Re-read and merge each time: several variant runs may share the file.
            results = json.loads(out.read_text()) if out.exists() else {"datasets": {}}
            block = results["datasets"].setdefault(dataset, {"reports": []})
            block["setting"] = (f"validation: {panel.n_series} series, {panel.freq} periods, test window cut off, "
                                f"origins in the last {settings['test_periods']} of the rest, "
                                f"horizons 1–{settings['horizon']}")
            block["reports"] = [r for r in block["reports"] if r["model"] != variant] + [report]
            block["reports"].sort(key=lambda r: report_order(r["model"]))
            results.update({"command": "python benchmarks/forecast_validation.py --data-dir ../shared/datasets",
                            "machine": machine_description(), "date": datetime.now(UTC).isoformat(timespec="seconds")})
            out.parent.mkdir(parents=True, exist_ok=True)
            out.write_text(json.dumps(results, indent=2) + "\n")
            out.with_suffix(".md").write_text(markdown(results))
    print(out.with_suffix(".md").read_text())


def markdown(results: dict) -> str:
    lines = []
    for dataset, block in results["datasets"].items():
        headline = SETTINGS[dataset]["headline"]
        lines += [f"**{dataset}** ({block['setting']}; {headline.upper()} is the headline)", "",
                  "| variant | P50 calibrated | MASE | WAPE | bias | pinball P50 | P10–P90 coverage |",
                  "|---|---|---|---|---|---|---|"]
        for r in block["reports"]:
            m = r["metrics"]
            lines.append(f"| {r['model']} | {'yes' if r['calibrate_median'] else 'no'} | {m['mase']:.3f} | "
                         f"{m['wape']:.3f} | {m['bias']:+.3f} | {m['pinball_p50']:.3f} | "
                         f"{m['coverage_p10_p90']:.3f} |")
        lines.append("")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
