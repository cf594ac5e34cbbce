"""Train and evaluate mercato's sequential transformer on a harness dataset, full ranking.

Writes benchmarks/results/sasrec_<dataset>.json (the report, machine, date, command) and
rebuilds benchmarks/results/sasrec.md: ours, RecBole's SASRec (from recbole_sasrec.py) and
the published numbers, side by side.

    .venv/bin/python benchmarks/sasrec.py --dataset amazon-beauty [--param KEY=VALUE …]
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path

from mercato.cli import parse_params
from mercato.evaluation.datasets import DATASETS, load_split
from mercato.evaluation.runner import evaluate, rank_cases

RESULTS = Path(__file__).parent / "results"

# Best published full-ranking results and this project's targets (the transformer issue).
PUBLISHED = {
    "amazon-beauty": {"source": "SASRec+SS NDCG@10 0.0531 / HR@10 0.0921; CBiT NDCG@10 0.0537", "ndcg@10": 0.0537, "hr@10": 0.0921},
    "movielens-1m": {"source": "HSTU-large NDCG@10 0.1893 / HR@10 0.3294", "ndcg@10": 0.1893, "hr@10": 0.3294},
    "diginetica": {"source": "GCE-GNN P@20 54.22 / MRR@20 19.04", "hr@20": 0.5422, "mrr@20": 0.1904},
    "yoochoose-1-64": {"source": "SR-GNN P@20 70.57 / MRR@20 30.94", "hr@20": 0.7057, "mrr@20": 0.3094},
}
TARGETS = {
    "amazon-beauty": {"ndcg@10": 0.055, "hr@10": 0.093, "train_minutes": 20},
    "movielens-1m": {"ndcg@10": 0.19, "hr@10": 0.33, "train_minutes": 60},
    "diginetica": {"hr@20": 0.55, "mrr@20": 0.19, "train_minutes": 30},
    "yoochoose-1-64": {"hr@20": 0.71, "mrr@20": 0.31},
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dataset", required=True, choices=sorted(DATASETS))
    parser.add_argument("--data-dir", default="../shared/datasets")
    parser.add_argument("--param", action="append", default=[], metavar="KEY=VALUE")
    parser.add_argument(
        "--split", choices=("test", "valid"), default="test",
        help="valid: the harness's validation split (settings are chosen there); writes sasrec_<dataset>_valid.json",
    )
    parser.add_argument("--table-only", action="store_true", help="only rebuild sasrec.md from the results files")
    args = parser.parse_args()
    if not args.table_only:
        logging.basicConfig(level=logging.INFO, format="%(message)s", stream=sys.stderr)
        from mercato.recommend.defaults import model_for

        split = load_split(args.dataset, Path(args.data_dir), split=args.split)
        model = model_for(args.dataset, "sasrec", item_attributes=split.item_attributes, **parse_params(args.param))
        progress = lambda m: print(m, file=sys.stderr, flush=True)  # noqa: E731
        report = evaluate(split, model, progress=progress)
        validated = model.validated_model()
        if validated is not None:  # a refit: what the weights validation chose score on the same cases
            report["metrics_before_refit"] = rank_cases(split, validated, progress=progress)
            report["best_epoch"] = model.best_epoch
        report["params"] = {k: v for k, v in report["params"].items() if k != "item_attributes"}
        report["item_attributes"] = bool(split.item_attributes) and bool(model.params.get("item_attributes"))
        report["best_valid_ndcg@10"] = getattr(model, "best_valid_ndcg", None)
        report["command"] = "python benchmarks/sasrec.py " + " ".join(sys.argv[1:])
        report["published"] = PUBLISHED.get(args.dataset)
        report["target"] = TARGETS.get(args.dataset)
        RESULTS.mkdir(parents=True, exist_ok=True)
        suffix = "" if args.split == "test" else "_valid"
        (RESULTS / f"sasrec_{args.dataset}{suffix}.json").write_text(json.dumps(report, indent=2) + "\n")
        print(json.dumps({k: report[k] for k in ("metrics", "metrics_before_refit") if k in report}, indent=2))
    write_table()


def write_table() -> None:
    lines = [
        "| dataset | system | NDCG@10 | HR@10 | HR@20 (P@20) | MRR@20 | train wall time | machine, date |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for dataset in DATASETS:
        rows = []
        ours = RESULTS / f"sasrec_{dataset}.json"
        peer = RESULTS / f"recbole_sasrec_{dataset}.json"
        for system, path in (("mercato sasrec", ours), ("RecBole SASRec", peer)):
            if path.exists():
                r = json.loads(path.read_text())
                m = r["metrics"]
                rows.append(
                    f"| {dataset} | {system} | {m.get('ndcg@10', 0):.4f} | {m.get('hr@10', 0):.4f} | "
                    f"{m.get('hr@20', 0):.4f} | {m.get('mrr@20', 0):.4f} | {r['fit_s'] / 60:.1f} min | {r['machine']}, {r['date'][:10]} |"
                )
        if rows:
            pub = PUBLISHED[dataset]
            rows.append(f"| {dataset} | published best | {pub['source']} | | | | | |")
            target = TARGETS.get(dataset, {})
            rows.append(f"| {dataset} | target | " + ", ".join(f"{k} ≥ {v}" if k != "train_minutes" else f"≤ {v} min" for k, v in target.items()) + " | | | | | |")
        lines += rows
    lines += ["", *side_by_side()]
    (RESULTS / "sasrec.md").write_text("\n".join(lines) + "\n")


def side_by_side() -> list[str]:
    """mercato against RecBole's SASRec on the identical split: NDCG@10, training time, ratios."""
    lines = [
        "| dataset | NDCG@10 mercato | NDCG@10 RecBole | NDCG@10 mercato ÷ RecBole | train time mercato | train time RecBole "
        "| time mercato ÷ RecBole | threads mercato / RecBole |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for dataset in DATASETS:
        ours, peer = RESULTS / f"sasrec_{dataset}.json", RESULTS / f"recbole_sasrec_{dataset}.json"
        if not (ours.exists() and peer.exists()):
            continue
        a, b = json.loads(ours.read_text()), json.loads(peer.read_text())
        ndcg_a, ndcg_b = a["metrics"]["ndcg@10"], b["metrics"]["ndcg@10"]
        lines.append(
            f"| {dataset} | {ndcg_a:.4f} | {ndcg_b:.4f} ({b['epochs']} epoch{'s' if b['epochs'] != 1 else ''}) | {ndcg_a / ndcg_b:.2f}× | "
            f"{a['fit_s'] / 60:.1f} min | {b['fit_s'] / 60:.1f} min | {a['fit_s'] / b['fit_s']:.2f} | "
            f"{a['params'].get('threads') or 'all'} / {b.get('threads', 'all')} |"
        )
    return lines


if __name__ == "__main__":
    main()
