"""Time `mercato import online-retail` of the bundled file (541,909 lines) into a fresh SQLite store.

Median of several runs (the machine is shared and noisy); writes benchmarks/results/import_online_retail.json.

    .venv/bin/python benchmarks/import_speed.py [--runs 3]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path

from mercato import importers
from mercato.evaluation.runner import machine_description
from mercato.ingest import import_file

RESULTS = Path(__file__).parent / "results"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    path = importers.bundled_online_retail_path()
    load_before = os.getloadavg()[0]  # other jobs on the 2 cores slow every timing: record it
    runs = []
    for run in range(args.runs):
        with tempfile.TemporaryDirectory() as tmp:
            summary = import_file("online-retail", path, f"sqlite:///{Path(tmp) / 'bench.db'}")
        print(f"run {run + 1}: read {summary['read_s']:.2f} s, total {summary['total_s']:.2f} s", file=sys.stderr)
        runs.append(summary)
    result = {
        "benchmark": "import online-retail into a fresh SQLite store",
        "command": "python benchmarks/import_speed.py " + " ".join(sys.argv[1:]),
        "machine": machine_description(),
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "source_lines": 541_909,
        "events_inserted": runs[-1]["events_inserted"],
        "runs": len(runs),
        "read_s_median": round(statistics.median(r["read_s"] for r in runs), 3),
        "total_s_median": round(statistics.median(r["total_s"] for r in runs), 3),
        "total_s_all": [r["total_s"] for r in runs],
        "target_s": 30,
        "load_avg_1m_before": round(load_before, 2),
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "import_online_retail.json").write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
