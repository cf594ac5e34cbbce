"""``mercato assist train | evaluate | chat``: the command-line face of the assistant.

``train`` fits the shop's intent model (bundled or ``assist_intents_path`` utterances) into
``<model_dir>/assist``; ``train --dataset`` / ``evaluate --dataset`` fit on a benchmark dataset
(bitext-support, clinc150) and report validation and test scores. ``cli.build_parser`` calls
``register``.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from mercato.assist.datasets import DATASETS


def _progress(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def _write_json(path: str | None, payload) -> None:
    if path:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        Path(path).write_text(json.dumps(payload, indent=2) + "\n")
        _progress(f"wrote {path}")


def _embedder(args: argparse.Namespace, settings):
    from mercato.assist.embedder import CachedEmbedder, embedder_for

    model = args.embedding_model or settings.assist_embedding_model
    inner = embedder_for(model, threads=args.threads)
    return inner if args.no_cache else CachedEmbedder(inner, settings.assist_cache_dir)


def _params(args: argparse.Namespace) -> dict:
    return {"C": args.C, "C_text": args.C_text, "text_features": not args.no_text_features,
            "max_in_scope_drop": args.max_in_scope_drop}


def cmd_train(args: argparse.Namespace, settings) -> int:
    from mercato.assist.runtime import model_dir
    from mercato.assist.training import evaluate_dataset, train_shop_model

    embedder = _embedder(args, settings)
    if args.dataset:
        report = evaluate_dataset(args.dataset, args.data_dir or settings.data_dir, embedder, seed=args.seed,
                                  fine_tune_layers=args.fine_tune_layers, progress=_progress, **_params(args))
    else:
        out = Path(args.out) if args.out else model_dir(settings)
        report = train_shop_model(embedder, settings.assist_intents_path, out, fine_tune_layers=args.fine_tune_layers,
                                  progress=_progress)
        _progress(f"saved the intent model to {out}")
    print(json.dumps(report, indent=2))
    _write_json(args.json, report)
    return 0


def cmd_evaluate(args: argparse.Namespace, settings) -> int:
    from mercato.assist.training import evaluate_dataset

    report = evaluate_dataset(args.dataset, args.data_dir or settings.data_dir, _embedder(args, settings), seed=args.seed,
                              fine_tune_layers=args.fine_tune_layers, progress=_progress, **_params(args))
    test = report["test"]
    line = f"{args.dataset}: test accuracy {test['accuracy']:.4f}, macro-F1 {test['macro_f1']:.4f}"
    if "oos_recall" in test:
        line += f", in-scope accuracy {test['in_scope_accuracy']:.4f}, out-of-scope recall {test['oos_recall']:.4f}"
    print(line)
    if args.verbose:
        print(json.dumps(report, indent=2))
    _write_json(args.json, report)
    return 0


def cmd_chat(args: argparse.Namespace, settings) -> int:
    from mercato.assist.runtime import open_assistant

    assistant = open_assistant(settings)
    try:
        answer = assistant.chat(args.session, args.message, args.user)
    finally:
        assistant.close()
    print(json.dumps(answer.to_dict(), indent=2, ensure_ascii=False))
    return 0


def register(sub) -> None:
    """Add ``assist`` with its actions to the CLI's sub-parsers."""
    parser = sub.add_parser("assist", help="customer-service assistant: train, evaluate, chat")
    actions = parser.add_subparsers(dest="assist_action", required=True, metavar="ACTION")

    def model_options(p: argparse.ArgumentParser) -> None:
        p.add_argument("--data-dir", help="datasets folder holding <dataset>/ (default: data_dir setting)")
        p.add_argument("--embedding-model", help="embedder (default: assist_embedding_model setting)")
        p.add_argument("--C", type=float, default=0.1, help="inverse regularization of the embedding regression")
        p.add_argument("--C-text", type=float, default=10.0, help="inverse regularization of the n-gram TF-IDF regression")
        p.add_argument("--no-text-features", action="store_true", help="embeddings only, without the n-gram TF-IDF regression")
        p.add_argument("--max-in-scope-drop", type=float, default=0.01,
                       help="in-scope accuracy (on validation) the out-of-scope threshold may cost; the threshold is "
                            "the lowest that reaches the highest out-of-scope recall within it")
        p.add_argument("--fine-tune-layers", type=int, default=0,
                       help="first fine-tune this many top layers of the sentence encoder on the intents (0: frozen encoder)")
        p.add_argument("--seed", type=int, default=0, help="seed of the bitext-support split and the classifier")
        p.add_argument("--threads", type=int, help="torch threads for embedding (default: torch's choice)")
        p.add_argument("--no-cache", action="store_true", help="embed again even when the embedding cache has the texts")
        p.add_argument("--json", help="write the report to this file")

    p = actions.add_parser("train", help="fit the shop's intent model into <model_dir>/assist (or, with --dataset, a benchmark model)")
    p.add_argument("--dataset", choices=sorted(DATASETS), help="fit on a benchmark dataset and report its scores instead")
    p.add_argument("--out", help="model folder (default: <model_dir>/assist)")
    model_options(p)
    p.set_defaults(func=cmd_train)

    p = actions.add_parser("evaluate", help="fit on a benchmark dataset's train split, calibrate on val, score on test")
    p.add_argument("--dataset", required=True, choices=sorted(DATASETS))
    p.add_argument("--verbose", action="store_true", help="also print the full report")
    model_options(p)
    p.set_defaults(func=cmd_evaluate)

    p = actions.add_parser("chat", help="one chat turn against the trained assistant and the store")
    p.add_argument("message")
    p.add_argument("--session", default="cli", help="session id")
    p.add_argument("--user", help="signed-in user id (needed for order questions)")
    p.set_defaults(func=cmd_chat)
