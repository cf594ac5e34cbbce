"""Turning item sequences into the padded token tensors the sequential model trains on.

Tokens are catalog indices + 1 (0 = padding); sequences are left-padded so the newest item
is always in the last position, where inference reads the state.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def left_pad(histories: Sequence[np.ndarray], max_len: int, *, full_width: bool = False) -> np.ndarray:
    """B histories of catalog indices -> (B, T) int64 tokens holding the newest ``max_len`` items.

    T is the longest kept history (at least 1), so short batches stay cheap at inference;
    ``full_width`` makes it ``max_len`` (for a graph traced at that shape).
    """
    longest = max((len(h) for h in histories), default=1)
    width = max_len if full_width else max(1, min(max_len, longest))
    out = np.zeros((len(histories), width), dtype=np.int64)
    for row, hist in enumerate(histories):
        tail = np.asarray(hist[-width:], dtype=np.int64)
        if len(tail):
            out[row, width - len(tail) :] = tail + 1
    return out


def training_windows(sequences: Sequence[np.ndarray], max_len: int) -> tuple[np.ndarray, np.ndarray]:
    """Next-item training pairs: inputs s[:-1], targets s[1:], in windows of ``max_len``.

    A sequence longer than max_len + 1 is cut into windows from its end backwards (stride
    max_len), so every transition is trained on once and the newest ones keep full context.
    Returns two (N, max_len) int64 arrays of tokens; target 0 means "no loss here".
    """
    windows: list[np.ndarray] = []
    for seq in sequences:
        end = len(seq)
        while end >= 2:
            start = max(0, end - max_len - 1)
            windows.append(np.asarray(seq[start:end], dtype=np.int64))
            end = start + 1 if start > 0 else 0
    inputs = np.zeros((len(windows), max_len), dtype=np.int64)
    targets = np.zeros((len(windows), max_len), dtype=np.int64)
    for row, window in enumerate(windows):
        n = len(window) - 1
        inputs[row, max_len - n :] = window[:-1] + 1
        targets[row, max_len - n :] = window[1:] + 1
    return inputs, targets


def split_validation(
    sequences: list[np.ndarray], mode: str, fraction: float, max_cases: int, rng: np.random.Generator
) -> tuple[list[np.ndarray], list[np.ndarray], np.ndarray]:
    """Hold out validation cases from the training sequences for early stopping.

    last_item: each sequence of 3+ items gives its last item as a target (SASRec protocol);
    tail: the last ``fraction`` of sequences (the newest sessions) is held out whole and
    expanded into prefix → next item cases; none: no validation.
    Returns (training sequences, validation histories, validation targets), at most
    ``max_cases`` cases, subsampled with ``rng``.
    """
    histories: list[np.ndarray] = []
    targets: list[int] = []
    if mode == "none":
        return sequences, histories, np.empty(0, dtype=np.int64)
    if mode == "last_item":
        train = []
        for seq in sequences:
            if len(seq) >= 3:
                train.append(seq[:-1])
                histories.append(seq[:-1])
                targets.append(int(seq[-1]))
            else:
                train.append(seq)
    else:  # tail
        n_valid = max(1, int(len(sequences) * fraction))
        train, held_out = sequences[:-n_valid], sequences[-n_valid:]
        for seq in held_out:
            for end in range(1, len(seq)):
                histories.append(seq[:end])
                targets.append(int(seq[end]))
    if len(targets) > max_cases:
        keep = np.sort(rng.choice(len(targets), size=max_cases, replace=False))
        histories = [histories[i] for i in keep]
        targets = [targets[i] for i in keep]
    return train, histories, np.asarray(targets, dtype=np.int64)


def attribute_csr(item_ids: np.ndarray, attributes: dict[str, list]) -> tuple[np.ndarray, np.ndarray, int]:
    """Item → attribute lists as EmbeddingBag inputs over the n_items + 1 tokens.

    Returns (indices, offsets, n_attributes); token 0 (padding) and items without attributes
    get an empty bag (EmbeddingBag gives zeros for it).
    """
    vocabulary: dict[str, int] = {}
    indices: list[int] = []
    offsets = [0, 0]  # padding token: empty bag
    for item in item_ids:
        for attribute in attributes.get(str(item), ()):
            indices.append(vocabulary.setdefault(str(attribute), len(vocabulary)))
        offsets.append(len(indices))
    return np.asarray(indices, dtype=np.int64), np.asarray(offsets[:-1], dtype=np.int64), len(vocabulary)


def length_bucketed_batches(lengths: np.ndarray, batch_size: int, rng: np.random.Generator) -> list[np.ndarray]:
    """Shuffled batches of row indices whose rows have similar lengths.

    Rows are shuffled, grouped in pools of 50 batches, sorted by length inside a pool and cut
    into batches; the batch order is shuffled again. A batch can then be cropped to its
    longest row, which for short-sequence data (Amazon: ~9 items, max_len 50) removes most
    of the padding the transformer would otherwise process.
    """
    order = rng.permutation(len(lengths))
    pool = batch_size * 50
    batches = []
    for begin in range(0, len(order), pool):
        chunk = order[begin : begin + pool]
        chunk = chunk[np.argsort(lengths[chunk], kind="stable")]
        batches.extend(chunk[i : i + batch_size] for i in range(0, len(chunk), batch_size))
    return [batches[i] for i in rng.permutation(len(batches))]
