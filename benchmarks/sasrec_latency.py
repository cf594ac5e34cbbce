"""Single-request inference latency of the sequential transformer on a 12k-item catalog.

One anonymous session of 20 items → scores over all 12,092 items → top 10, as
``recommend_for_items`` serves it, with the network amazon-beauty's model has (its defaults), or
with another dataset's network (``--network movielens-1m``: four blocks over 200 items).
Reports median and p99 over many requests after warm-up (the machine is shared: medians, not
single timings). Writes benchmarks/results/sasrec_latency.json (another network:
sasrec_latency_<network>_<session length>.json).

    .venv/bin/python benchmarks/sasrec_latency.py [--requests 2000] [--threads 1] [--network DATASET]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import torch

from mercato.evaluation.runner import machine_description
from mercato.recommend.defaults import DEFAULT_PARAMS
from mercato.recommend.interactions import Interactions
from mercato.recommend.sasrec import SASRecRecommender

RESULTS = Path(__file__).parent / "results"
N_ITEMS = 12_092  # the amazon-beauty catalog size
NETWORKS = sorted(dataset for dataset, model in DEFAULT_PARAMS if model == "sasrec")
SHAPE = ("max_len", "dim", "layers", "heads", "positions")  # the parameters that set inference cost


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--threads", type=int, default=1, help="torch threads for inference")
    parser.add_argument("--session-length", type=int, default=20)
    parser.add_argument(
        "--network", choices=NETWORKS, default="amazon-beauty", help="the dataset whose default network shape to time"
    )
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    # Latency does not depend on what the weights learned, only on the shapes: a one-epoch fit
    # on random sequences over the full catalog gives the production architecture.
    sequences = [[f"i{j}" for j in rng.integers(0, N_ITEMS, 30)] for _ in range(4000)]
    sequences.append([f"i{j}" for j in range(N_ITEMS)])  # every item present in the catalog
    # The network that dataset's model serves (its per-dataset defaults), not the class defaults.
    defaults = DEFAULT_PARAMS[(args.network, "sasrec")]
    shape = {k: defaults[k] for k in SHAPE if k in defaults}
    model = SASRecRecommender(**shape, max_epochs=1, valid_mode="none", loss="sampled", threads=args.threads)
    model.fit(Interactions.from_sequences(sequences))
    torch.set_num_threads(args.threads)
    sessions = [[f"i{j}" for j in rng.integers(0, N_ITEMS, args.session_length)] for _ in range(args.requests)]
    for session in sessions[:100]:  # warm-up
        model.recommend_for_items(session, k=10)
    latencies_ms = []
    for session in sessions:
        started = time.perf_counter()
        model.recommend_for_items(session, k=10, exclude=session)
        latencies_ms.append((time.perf_counter() - started) * 1000)
    latencies_ms.sort()
    result = {
        "benchmark": "sasrec single-request inference (score all items + top-10 with exclusions)",
        "catalog_items": N_ITEMS,
        "network": args.network,
        "model": {k: model.params[k] for k in SHAPE},
        "session_length": args.session_length,
        "torch_threads": args.threads,
        "requests": args.requests,
        "p50_ms": round(statistics.median(latencies_ms), 3),
        "p90_ms": round(latencies_ms[int(0.90 * len(latencies_ms))], 3),
        "p99_ms": round(latencies_ms[int(0.99 * len(latencies_ms))], 3),
        "target_ms": 2.0,
        "machine": machine_description(),
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "command": "python benchmarks/sasrec_latency.py " + " ".join(sys.argv[1:]),
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    name = (
        "sasrec_latency.json"
        if args.network == "amazon-beauty"
        else f"sasrec_latency_{args.network}_{args.session_length}.json"
    )
    (RESULTS / name).write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
