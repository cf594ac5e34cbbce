"""Prequential replay, frozen vs online, on Online Retail's last two months and the YooChoose 100k sample.

    .venv/bin/python benchmarks/replay_datasets.py [--data-dir ../shared/datasets]

Writes benchmarks/results/replay_<dataset>.json and .png (with the machine and date).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
from machine import machine  # noqa: E402

from mercato import importers  # noqa: E402
from mercato.replay import ReplayConfig, replay, write_report  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "results"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--data-dir", default=str(Path(__file__).resolve().parents[1] / ".." / "shared" / "datasets"))
    parser.add_argument("--max-predictions", type=int, default=5000)
    args = parser.parse_args()
    runs = [
        ("online_retail", "online-retail", importers.bundled_online_retail_path(), "2011-10-09", 7.0),
        ("yoochoose_100k", "session-log",
         Path(args.data_dir) / "session-samples" / "yoochoose-clicks-100k_train_full.txt", None, 1.0),
    ]
    for name, fmt, path, since, days in runs:
        if not path.exists():
            print(f"skipping {name}: {path} is absent", file=sys.stderr)
            continue
        events = importers.read(fmt, path).events
        start = pd.Timestamp(since, tz="UTC") if since else events["occurred_at"].min() + (
            events["occurred_at"].max() - events["occurred_at"].min()) * 0.75
        config = ReplayConfig(since=start, refit_every=pd.Timedelta(days=days), window=pd.Timedelta(days=days),
                              max_predictions=args.max_predictions)
        report = replay(events, config, progress=lambda m: print(m, file=sys.stderr))
        report.update(dataset=name, machine=machine())
        out = RESULTS / f"replay_{name}"
        json_path, png_path = write_report(report, out, name)
        # One flat pair of files per dataset in results/.
        json_path.rename(RESULTS / f"replay_{name}.json")
        png_path.rename(RESULTS / f"replay_{name}.png")
        out.rmdir()
        print(f"{name}: frozen {report['frozen_hit_rate@10']} online {report['online_hit_rate@10']} "
              f"(p={report['sign_test_p_value']:.2g})")


if __name__ == "__main__":
    main()
