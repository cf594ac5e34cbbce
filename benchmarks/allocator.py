"""What keeping freed memory for reuse (``mercato.recommend.allocator``) does to a training epoch.

Each run is a fresh process (malloc's thresholds are per process) that trains the sequential
transformer for one epoch, full softmax over a YooChoose-sized catalog (17,376 items), on
synthetic sessions: once with the thresholds raised, as ``fit`` does, once with glibc's
defaults. The arms alternate, several runs each (the machine is shared: medians and their
ratio, not single timings). Reports wall time, the kernel's CPU time and the page faults.
Writes benchmarks/results/allocator.json.

    .venv/bin/python benchmarks/allocator.py [--runs 3] [--threads 2]
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

RESULTS = Path(__file__).parent / "results"
N_ITEMS = 17_376  # yoochoose-1-64's catalog


def one_epoch(keep: bool, threads: int) -> dict:
    """Child process: one training epoch; the arm decides whether fit may raise the thresholds."""
    import numpy as np

    import mercato.recommend.sasrec as sasrec
    from mercato.recommend.interactions import Interactions

    if not keep:
        sasrec.keep_freed_memory_for_reuse = lambda: False
    rng = np.random.default_rng(0)
    lengths = rng.integers(2, 12, 12_000)  # session lengths like YooChoose's (mean ~6)
    sequences = [[f"i{j}" for j in rng.integers(0, N_ITEMS, n)] for n in lengths]
    sequences.append([f"i{j}" for j in range(N_ITEMS)])  # every item in the catalog
    data = Interactions.from_sequences(sequences)
    model = sasrec.SASRecRecommender(
        max_len=20, dim=64, temperature=0.07, repeat_bias=True, max_epochs=1, valid_mode="none", threads=threads
    )
    before = resource.getrusage(resource.RUSAGE_SELF)
    started = time.perf_counter()
    model.fit(data)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_SELF)
    return {
        "wall_s": round(wall, 2),
        "user_s": round(after.ru_utime - before.ru_utime, 2),
        "system_s": round(after.ru_stime - before.ru_stime, 2),
        "page_faults": after.ru_minflt - before.ru_minflt,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=3, help="runs per arm, alternating")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--child", choices=["keep", "default"], help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(one_epoch(args.child == "keep", args.threads)))
        return
    from mercato.evaluation.runner import machine_description

    runs: dict[str, list[dict]] = {"keep": [], "default": []}
    for i in range(args.runs):
        for arm in ("default", "keep"):
            out = subprocess.run(
                [sys.executable, __file__, "--child", arm, "--threads", str(args.threads)],
                check=True, capture_output=True, text=True,
            )
            runs[arm].append(json.loads(out.stdout.strip().splitlines()[-1]))
            print(f"run {i + 1}/{args.runs} {arm:8s} {runs[arm][-1]}", file=sys.stderr)

    def median(arm: str, key: str) -> float:
        return statistics.median(r[key] for r in runs[arm])

    result = {
        "benchmark": "one training epoch of the sequential transformer, full softmax over 17,376 items",
        "arms": {
            arm: {key: median(arm, key) for key in ("wall_s", "user_s", "system_s", "page_faults")}
            for arm in runs
        },
        "runs": runs,
        "speedup_wall": round(median("default", "wall_s") / median("keep", "wall_s"), 2),
        "threads": args.threads,
        "machine": machine_description(),
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "command": "python benchmarks/allocator.py " + " ".join(sys.argv[1:]),
    }
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "allocator.json").write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps({k: result[k] for k in ("arms", "speedup_wall")}, indent=2))


if __name__ == "__main__":
    main()
