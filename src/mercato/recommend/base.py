"""The recommender contract every model implements (baselines and the deep models alike).

A model is configured by keyword arguments (stored as given, scikit-learn style), learns in
``fit`` (returns ``self``), and then answers three questions:

- ``recommend(user_id)``: for a user it was fitted on (their history comes from the data);
- ``recommend_for_items(item_ids)``: for any sequence of items, e.g. an anonymous session;
- ``similar_items(item_id)``.

All three rest on one batched method, ``score_histories``, which subclasses implement and
the evaluation harness calls directly. Unknown ids never crash: an unknown user gets the
cold-start answer of an empty history, unknown items in a sequence are ignored.

Artifacts are saved as ``config.json`` + ``arrays.npz`` (no pickle); the config records the
SHA-256 of the arrays file and ``load`` refuses a file whose digest does not match.
"""

from __future__ import annotations

import hashlib
import json
from abc import ABC, abstractmethod
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from mercato.errors import InvalidInput, NotReady
from mercato.recommend.interactions import Interactions

ARRAYS_FILE = "arrays.npz"
CONFIG_FILE = "config.json"
FORMAT_VERSION = 1


class Recommender(ABC):
    """Base class. Subclasses set ``name``, implement ``_fit``, ``score_histories``,
    ``_item_vectors_for_similarity`` (optional) and the ``_state``/``_set_state`` pair."""

    name: ClassVar[str]

    def __init__(self, **params: Any) -> None:
        self.params = dict(params)
        self.item_ids: np.ndarray | None = None  # (n_items,) str
        self.user_ids: np.ndarray | None = None  # (n_users,) str
        self._user_items: list[np.ndarray] | None = None  # per user: item indices in time order

    # ---- learning -------------------------------------------------------------------
    def fit(self, interactions: Interactions) -> Recommender:
        if len(interactions) == 0:
            raise InvalidInput(f"{self.name}: cannot fit on zero interactions")
        self.item_ids = interactions.item_ids
        self.user_ids = interactions.user_ids
        self._user_items = interactions.sequences()
        # A refit may change the ids: drop the id -> index lookups cached from the previous fit.
        self.__dict__.pop("_item_lookup", None)
        self.__dict__.pop("_user_lookup", None)
        try:
            self._fit(interactions)
        except BaseException:
            self.item_ids = None  # a failed fit (e.g. bad params) leaves the model unfitted, not half-fitted
            raise
        return self

    @abstractmethod
    def _fit(self, interactions: Interactions) -> None: ...

    def partial_fit(self, interactions: Interactions) -> Recommender:
        """Update a fitted model with new interactions and return ``self`` (optional).

        A model that can learn incrementally (e.g. fine-tuning a sequential model on a
        micro-batch of new events) overrides this; the online learner then calls it on a
        copy of the live model and swaps the copy in. Models that do not override it are
        refitted periodically with ``fit`` instead.
        """
        raise NotImplementedError(f"{type(self).__name__} does not learn incrementally; refit it with 'fit'")

    # ---- scoring --------------------------------------------------------------------
    @abstractmethod
    def score_histories(self, histories: Sequence[np.ndarray], users: np.ndarray | None = None) -> np.ndarray:
        """Scores of every item for each history.

        histories: B arrays of item indices in time order (may be empty).
        users: (B,) user indices or -1 for an unknown user / anonymous session; models with
            per-user parameters use them, the others ignore them.
        Returns (B, n_items) float32; higher is better.
        """

    def similar_item_scores(self, item: int) -> np.ndarray:
        """(n_items,) similarity of every item to ``item``; default: the one-item history score."""
        return self.score_histories([np.array([item], dtype=np.int32)])[0]

    # ---- public answers -------------------------------------------------------------
    @property
    def is_fitted(self) -> bool:
        return self.item_ids is not None

    def _check_fitted(self) -> None:
        if not self.is_fitted:
            raise NotReady(f"This {type(self).__name__} is not fitted yet. Call 'fit' or 'load' first.")

    def recommend(self, user_id: str, k: int = 10, exclude: Iterable[str] = (), exclude_seen: bool = True) -> list[tuple[str, float]]:
        """Top-k (item_id, score) for a user; an unknown user gets the cold-start list."""
        self._check_fitted()
        pos = self._user_position(user_id)
        history = self._user_items[pos] if pos >= 0 else np.empty(0, dtype=np.int32)
        banned = set(exclude)
        if exclude_seen:
            banned.update(self.item_ids[history])
        scores = self.score_histories([history], np.array([pos]))[0]
        return self._top_k(scores, k, banned)

    def recommend_for_items(self, item_ids: Sequence[str], k: int = 10, exclude: Iterable[str] = ()) -> list[tuple[str, float]]:
        """Top-k for an anonymous sequence of item ids (oldest first); unknown ids are ignored."""
        self._check_fitted()
        positions = self._item_positions(item_ids)
        history = positions[positions >= 0].astype(np.int32)
        scores = self.score_histories([history], np.array([-1]))[0]
        return self._top_k(scores, k, set(exclude))

    def similar_items(self, item_id: str, k: int = 10) -> list[tuple[str, float]]:
        """Top-k items most similar to ``item_id`` (never itself); empty for an unknown item."""
        self._check_fitted()
        pos = self._item_positions([item_id])[0]
        if pos < 0:
            return []
        return self._top_k(self.similar_item_scores(int(pos)), k, {item_id})

    def _top_k(self, scores: np.ndarray, k: int, banned: set[str]) -> list[tuple[str, float]]:
        if k <= 0:
            raise InvalidInput(f"k must be positive, got {k}")
        scores = scores.astype(np.float64, copy=True)
        if banned:
            idx = self._item_positions(banned)
            scores[idx[idx >= 0]] = -np.inf
        top = top_k_indices(scores[None, :], k)[0]
        return [(str(self.item_ids[i]), float(scores[i])) for i in top if np.isfinite(scores[i])]

    def _item_positions(self, item_ids: Iterable[str]) -> np.ndarray:
        if not hasattr(self, "_item_lookup"):
            self._item_lookup = {str(item): i for i, item in enumerate(self.item_ids)}
        return np.array([self._item_lookup.get(str(i), -1) for i in item_ids], dtype=np.int64)

    def _user_position(self, user_id: str) -> int:
        if not hasattr(self, "_user_lookup"):
            self._user_lookup = {str(u): i for i, u in enumerate(self.user_ids)}
        return self._user_lookup.get(str(user_id), -1)

    # ---- persistence ----------------------------------------------------------------
    def _state(self) -> dict[str, np.ndarray]:
        """Learned arrays to save, besides ids and histories (numeric or str dtypes only)."""
        return {}

    def _set_state(self, arrays: dict[str, np.ndarray]) -> None:
        """Restore what ``_state`` returned."""

    def save(self, directory: str | Path) -> Path:
        self._check_fitted()
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        lengths = np.array([len(h) for h in self._user_items], dtype=np.int64)
        arrays = {
            "item_ids": np.asarray(self.item_ids, dtype=str),
            "user_ids": np.asarray(self.user_ids, dtype=str),
            "history_lengths": lengths,
            "history_items": np.concatenate(self._user_items).astype(np.int32) if len(lengths) else np.empty(0, np.int32),
        }
        state = self._state()
        clash = set(state) & set(arrays)
        if clash:
            raise AssertionError(f"{self.name} state uses reserved array names {clash}")
        arrays.update(state)
        arrays_path = directory / ARRAYS_FILE
        with open(arrays_path, "wb") as fh:
            np.savez(fh, **arrays)
        config = {
            "format_version": FORMAT_VERSION,
            "model": self.name,
            "params": self.params,
            "arrays_sha256": _sha256(arrays_path),
        }
        (directory / CONFIG_FILE).write_text(json.dumps(config, indent=2, sort_keys=True))
        return directory

    @classmethod
    def saved_params(cls, params: dict) -> dict:
        """The constructor arguments for a saved config; a model whose defaults changed maps
        an older config's missing keys to the behaviour it was saved with."""
        return params

    @classmethod
    def load(cls, directory: str | Path) -> Recommender:
        """Load any saved model; call on the base class or on the right subclass."""
        from mercato.recommend.registry import model_class

        directory = Path(directory)
        config_path = directory / CONFIG_FILE
        if not config_path.exists():
            raise InvalidInput(f"no {CONFIG_FILE} in {directory}: not a saved mercato model")
        config = json.loads(config_path.read_text())
        if config.get("format_version") != FORMAT_VERSION:
            raise InvalidInput(f"{directory}: unsupported model format {config.get('format_version')}")
        model_cls = model_class(config["model"])
        if cls is not Recommender and model_cls is not cls:
            raise InvalidInput(f"{directory} holds a '{config['model']}' model, not '{cls.name}'")
        arrays_path = directory / ARRAYS_FILE
        digest = _sha256(arrays_path)
        if digest != config["arrays_sha256"]:
            raise InvalidInput(
                f"{arrays_path} digest {digest[:12]}… does not match the config's "
                f"{config['arrays_sha256'][:12]}…: the artifact was altered or corrupted"
            )
        with np.load(arrays_path, allow_pickle=False) as data:
            arrays = {name: data[name] for name in data.files}
        model = model_cls(**model_cls.saved_params(config["params"]))
        model.item_ids = arrays.pop("item_ids")
        model.user_ids = arrays.pop("user_ids")
        lengths = arrays.pop("history_lengths")
        model._user_items = np.split(arrays.pop("history_items"), np.cumsum(lengths)[:-1]) if len(lengths) else []
        model._set_state(arrays)
        return model


def top_k_indices(scores: np.ndarray, k: int) -> np.ndarray:
    """(B, n) scores -> (B, min(k, n)) indices of the highest scores, best first.

    Within the top k, equal scores are ordered by item index; which of several items tied at
    the k-th place makes the cut is decided by ``argpartition`` (deterministic, not by index).
    """
    n = scores.shape[1]
    k = min(k, n)
    if k == n:
        part = np.tile(np.arange(n), (scores.shape[0], 1))
    else:
        part = np.argpartition(-scores, k - 1, axis=1)[:, :k]
    part_scores = np.take_along_axis(scores, part, axis=1)
    order = np.lexsort((part, -part_scores), axis=1)
    return np.take_along_axis(part, order, axis=1)


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()
