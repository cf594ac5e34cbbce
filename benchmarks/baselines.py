"""Full-ranking evaluation of every baseline recommender on every harness dataset.

Writes benchmarks/results/baselines.json (one report per dataset × model, with machine and
date) and benchmarks/results/baselines.md (the README table).

    .venv/bin/python benchmarks/baselines.py --data-dir ../shared/datasets [--datasets …] [--models …]
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import UTC, datetime
from pathlib import Path

from mercato.evaluation.datasets import DATASETS, load_split
from mercato.evaluation.runner import evaluate, machine_description
from mercato.evaluation.table import format_table
from mercato.recommend.defaults import model_for
from mercato.recommend.registry import model_names

RESULTS = Path(__file__).parent / "results"
DEFAULT_DATASETS = ["online-retail", "amazon-beauty", "movielens-1m", "diginetica"]
BASELINES = ["popularity", "itemknn", "ease", "als"]  # the sequential model has its own script, sasrec.py


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data-dir", default="../shared/datasets", help="datasets folder (<dir>/<dataset>/…)")
    parser.add_argument("--datasets", nargs="+", default=DEFAULT_DATASETS, choices=sorted(DATASETS))
    parser.add_argument("--models", nargs="+", default=BASELINES, choices=model_names())
    parser.add_argument("--out", default=str(RESULTS / "baselines.json"))
    args = parser.parse_args()

    def progress(msg: str) -> None:
        print(msg, file=sys.stderr, flush=True)

    out = Path(args.out)
    previous = json.loads(out.read_text())["reports"] if out.exists() else []
    reports = []
    for dataset in args.datasets:
        progress(f"== {dataset}")
        split = load_split(dataset, Path(args.data_dir))
        for name in args.models:
            report = evaluate(split, model_for(dataset, name), progress=progress)
            progress(format_table([report]))
            reports.append(report)
    # Keep rows of datasets/models not re-run this time, so partial runs refresh the file in place.
    fresh = {(r["dataset"], r["model"]) for r in reports}
    merged = [r for r in previous if (r["dataset"], r["model"]) not in fresh] + reports
    order = {d: i for i, d in enumerate(DATASETS)}
    merged.sort(key=lambda r: (order.get(r["dataset"], 99), r["model"]))
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(
        json.dumps(
            {
                "command": "python benchmarks/baselines.py " + " ".join(sys.argv[1:]),
                "machine": machine_description(),
                "date": datetime.now(UTC).isoformat(timespec="seconds"),
                "reports": merged,
            },
            indent=2,
        )
        + "\n"
    )
    out.with_suffix(".md").write_text(format_table(merged, markdown=True) + "\n")
    print(format_table(merged))


if __name__ == "__main__":
    main()
