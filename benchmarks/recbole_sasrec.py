"""RecBole's SASRec (the peer) on the identical split as mercato's harness, for a side-by-side run.

RecBole is not a mercato dependency: this script installs it into its own virtualenv
(benchmarks/.recbole-venv, pinned as measured in RecBole's notes: torch 2.13.0, numpy<2,
pandas<2.3, setuptools<70), exports the dataset as RecBole atomic files, trains SASRec with the
cross-entropy loss and full-ranking evaluation, and writes
benchmarks/results/recbole_sasrec_<dataset>.json.

Leave-one-out datasets (amazon-beauty, movielens-1m): one file of each user's whole sequence;
RecBole's 'LS valid_and_test' split then holds out the same last and second-to-last items as
mercato's harness. Session datasets (diginetica, yoochoose-1-64): RecBole's benchmark files of
(prefix -> next item) rows, as its session-based examples use: the training sessions expanded
into every prefix, the newest tenth of them held out for validation (as mercato's model holds
them out, at most 10,000 cases), and the harness's test cases as they are.

    .venv/bin/python benchmarks/recbole_sasrec.py --dataset amazon-beauty --epochs 5
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from mercato import importers
from mercato.importers.sessions import read_session_file, read_session_test
from mercato.evaluation.runner import machine_description

HERE = Path(__file__).parent
VENV = HERE / ".recbole-venv"
RESULTS = HERE / "results"
# Installed in three steps: torch 2.13.0 declares setuptools>=77, which RecBole's Ray import
# cannot use (it needs pkg_resources), so setuptools is pinned down last, on purpose.
INSTALL_STEPS = [["torch==2.13.0"], ["recbole==1.2.1", "numpy<2", "pandas<2.3"], ["setuptools<70"]]
SOURCES = {"amazon-beauty": ("amazon", "Beauty.txt"), "movielens-1m": ("movielens", "ratings.dat")}
SESSION_DATASETS = ("diginetica", "yoochoose-1-64")
VALID_FRACTION, VALID_MAX_CASES = 0.1, 10_000  # mercato's sasrec defaults for tail validation

CHILD = r"""
import json, sys, time
from recbole.quick_start import run_recbole
config = json.loads(sys.argv[1])
started = time.perf_counter()
result = run_recbole(model="SASRec", dataset=config.pop("dataset"), config_dict=config)
result["wall_s"] = time.perf_counter() - started
print("RESULT " + json.dumps({k: (dict(v) if hasattr(v, "items") else v) for k, v in result.items()}))
"""


def ensure_venv() -> Path:
    python = VENV / "bin" / "python"
    if not python.exists():
        subprocess.run([sys.executable, "-m", "venv", str(VENV)], check=True)
        for packages in INSTALL_STEPS:
            subprocess.run([str(python), "-m", "pip", "install", "--quiet", *packages], check=True)
    return python


def export_atomic(dataset: str, data_dir: Path, out_dir: Path) -> None:
    fmt, filename = SOURCES[dataset]
    events = importers.read(fmt, data_dir / dataset / filename).events
    folder = out_dir / dataset
    folder.mkdir(parents=True)
    seconds = (events["occurred_at"].astype("int64") // 1_000_000).astype("int64")
    with open(folder / f"{dataset}.inter", "w") as fh:
        fh.write("user_id:token\titem_id:token\ttimestamp:float\n")
        # Row order breaks timestamp ties, as in mercato's harness: add the row's rank as a fraction.
        for rank, (user, item, ts) in enumerate(zip(events["user_id"], events["item_id"], seconds, strict=True)):
            fh.write(f"{user}\t{item}\t{ts + rank / (len(events) + 1):.9f}\n")


def export_sessions(dataset: str, data_dir: Path, out_dir: Path, max_len: int, seed: int = 0) -> None:
    """RecBole benchmark files: ``<dataset>.{train,valid,test}.inter`` of (prefix -> next item)."""
    train = read_session_file(data_dir / dataset / "train_sessions.txt")
    test_prefixes, test_next = read_session_test(data_dir / dataset / "test.tsv")
    n_valid = max(1, int(len(train) * VALID_FRACTION))
    valid = _next_item_cases(train[-n_valid:])
    if len(valid) > VALID_MAX_CASES:
        keep = np.sort(np.random.default_rng(seed).choice(len(valid), VALID_MAX_CASES, replace=False))
        valid = [valid[i] for i in keep]
    parts = {
        "train": _next_item_cases(train[:-n_valid]),
        "valid": valid,
        "test": list(zip(test_prefixes, test_next, strict=True)),
    }
    folder = out_dir / dataset
    folder.mkdir(parents=True)
    for part, cases in parts.items():
        with open(folder / f"{dataset}.{part}.inter", "w") as fh:
            fh.write("session_id:token\titem_id_list:token_seq\titem_id:token\n")
            for number, (prefix, target) in enumerate(cases):
                # Each case its own session id, unique across the files: RecBole's full ranking then
                # masks nothing, like the harness's session protocol; prefixes keep the newest items.
                fh.write(f"{part}{number}\t{' '.join(prefix[-max_len:])}\t{target}\n")


def _next_item_cases(sessions: list[list[str]]) -> list[tuple[list[str], str]]:
    """Every (prefix -> next item) case of each session, in session order."""
    return [(s[:end], s[end]) for s in sessions for end in range(1, len(s))]


def recbole_config(dataset: str, data_path: str, epochs: int, max_len: int) -> dict:
    config = {
        "dataset": dataset,
        "data_path": data_path,
        "checkpoint_dir": str(Path(data_path) / "saved"),
        "train_neg_sample_args": None,
        "loss_type": "CE",
        "MAX_ITEM_LIST_LENGTH": max_len,
        "epochs": epochs,
        "train_batch_size": 256,
        "eval_batch_size": 1024,
        "metrics": ["Hit", "NDCG", "MRR"],
        "topk": [10, 20],
        "device": "cpu",
        "use_gpu": False,
        "show_progress": False,
    }
    if dataset in SESSION_DATASETS:
        return {
            **config,
            "USER_ID_FIELD": "session_id",
            "load_col": {"inter": ["session_id", "item_id_list", "item_id"]},
            "benchmark_filename": ["train", "valid", "test"],
            "alias_of_item_id": ["item_id_list"],
            "eval_args": {"mode": "full", "order": "TO"},  # RecBole requires it; benchmark files keep their order
            "valid_metric": "MRR@20",  # the session protocol's metric, as mercato's early stopping on it
        }
    return {
        **config,
        "load_col": {"inter": ["user_id", "item_id", "timestamp"]},
        "eval_args": {"split": {"LS": "valid_and_test"}, "order": "TO", "mode": "full"},
        "valid_metric": "NDCG@10",
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dataset", required=True, choices=sorted([*SOURCES, *SESSION_DATASETS]))
    parser.add_argument("--data-dir", default="../shared/datasets")
    parser.add_argument("--epochs", type=int, default=5, help="training epochs (RecBole has no time budget)")
    parser.add_argument("--max-len", type=int, default=None, help="50; 20 on the session datasets, as mercato's")
    parser.add_argument("--threads", type=int, default=None, help="CPU threads for RecBole's torch (default: every core)")
    args = parser.parse_args()
    max_len = args.max_len or (20 if args.dataset in SESSION_DATASETS else 50)
    python = ensure_venv()
    with tempfile.TemporaryDirectory() as tmp:
        if args.dataset in SESSION_DATASETS:
            export_sessions(args.dataset, Path(args.data_dir), Path(tmp), max_len)
        else:
            export_atomic(args.dataset, Path(args.data_dir), Path(tmp))
        config = recbole_config(args.dataset, tmp, args.epochs, max_len)
        env = {"TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD": "1", "PATH": "/usr/bin:/bin"}  # RecBole reloads its own checkpoint
        if args.threads:  # torch reads it at start-up: RecBole itself has no thread setting
            env["OMP_NUM_THREADS"] = str(args.threads)
        started = time.perf_counter()
        # cwd: RecBole writes log/ and log_tensorboard/ where it runs; keep them out of the project.
        # RecBole's log (epochs, losses, validation) goes straight to stderr: runs take hours.
        proc = subprocess.run(
            [str(python), "-c", CHILD, json.dumps(config)], stdout=subprocess.PIPE, text=True, env=env, cwd=tmp
        )
        wall_s = time.perf_counter() - started
    if proc.returncode != 0:
        sys.exit(f"RecBole failed (exit {proc.returncode}); its log is above")
    line = next(line for line in proc.stdout.splitlines() if line.startswith("RESULT "))
    result = json.loads(line[len("RESULT ") :])
    test = result["test_result"]
    report = {
        "dataset": args.dataset,
        "system": "RecBole 1.2.1 SASRec (CE loss, full ranking)",
        "metrics": {
            "ndcg@10": test["ndcg@10"], "hr@10": test["hit@10"], "ndcg@20": test["ndcg@20"],
            "hr@20": test["hit@20"], "mrr@20": test["mrr@20"],
        },
        "best_valid": result["best_valid_result"],
        "epochs": args.epochs,
        "threads": args.threads or os.cpu_count(),
        "fit_s": round(result["wall_s"], 1),
        "process_wall_s": round(wall_s, 1),
        "config": {k: v for k, v in config.items() if k not in ("data_path", "checkpoint_dir")},
        "machine": machine_description(),
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "command": "python benchmarks/recbole_sasrec.py " + " ".join(sys.argv[1:]),
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / f"recbole_sasrec_{args.dataset}.json").write_text(json.dumps(report, indent=2) + "\n")
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
