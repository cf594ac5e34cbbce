"""Choose each baseline's hyper-parameters on the validation split (never on test).

For every dataset × model, evaluates a small grid on ``split="valid"`` (leave-one-out: the
second-to-last item; temporal: a cut before the test cut; session: the last 10% of training
sessions) and records NDCG@10 of each point and the best one in
benchmarks/results/tuning.json. ``mercato.recommend.defaults`` holds the chosen values.

    .venv/bin/python benchmarks/tune_baselines.py --data-dir ../shared/datasets [--datasets …] [--models …]
"""

from __future__ import annotations

import argparse
import itertools
import json
import sys
from datetime import UTC, datetime
from pathlib import Path

from mercato.evaluation.datasets import DATASETS, load_split
from mercato.evaluation.runner import evaluate, machine_description
from mercato.recommend.registry import create_model

RESULTS = Path(__file__).parent / "results"

GRIDS: dict[str, dict[str, list]] = {
    "popularity": {"half_life_days": [None, 7.0, 30.0, 90.0]},
    "itemknn": {"neighbors": [50, 200], "shrink": [0.0, 10.0], "recency_decay": [0.0, 0.5, 1.5]},
    "ease": {"l2": [100.0, 250.0, 500.0, 1000.0]},
    "als": {"factors": [64, 128], "regularization": [0.05, 1.0], "alpha": [1.0, 10.0]},
}
# Fixed settings per dataset that the grid does not vary (dense EASE over 43k items would not fit the time budget).
FIXED: dict[tuple[str, str], dict] = {("diginetica", "ease"): {"max_items": 15000}, ("yoochoose-1-64", "ease"): {"max_items": 15000}}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data-dir", default="../shared/datasets")
    parser.add_argument("--datasets", nargs="+", default=["online-retail", "amazon-beauty", "movielens-1m", "diginetica"], choices=sorted(DATASETS))
    parser.add_argument("--models", nargs="+", default=list(GRIDS), choices=list(GRIDS))
    args = parser.parse_args()
    out = RESULTS / "tuning.json"
    results = json.loads(out.read_text())["results"] if out.exists() else {}
    for dataset in args.datasets:
        split = load_split(dataset, Path(args.data_dir), split="valid")
        for name in args.models:
            grid = GRIDS[name]
            points = []
            for values in itertools.product(*grid.values()):
                params = {**FIXED.get((dataset, name), {}), **dict(zip(grid, values))}
                report = evaluate(split, create_model(name, **params))
                points.append({"params": params, "ndcg@10": report["metrics"]["ndcg@10"], "hr@10": report["metrics"]["hr@10"], "fit_s": report["fit_s"]})
                print(f"{dataset:<15} {name:<10} {params} ndcg@10={points[-1]['ndcg@10']:.4f}", file=sys.stderr, flush=True)
            best = max(points, key=lambda p: p["ndcg@10"])
            results[f"{dataset}/{name}"] = {"best": best, "grid": points}
            out.parent.mkdir(parents=True, exist_ok=True)
            out.write_text(
                json.dumps(
                    {
                        "command": "python benchmarks/tune_baselines.py " + " ".join(sys.argv[1:]),
                        "machine": machine_description(),
                        "date": datetime.now(UTC).isoformat(timespec="seconds"),
                        "metric": "ndcg@10 on the validation split",
                        "results": results,
                    },
                    indent=2,
                )
                + "\n"
            )


if __name__ == "__main__":
    main()
