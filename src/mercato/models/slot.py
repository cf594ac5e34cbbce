"""The model a server answers with, swapped atomically.

A request reads ``slot.current`` once and uses that snapshot to the end, so a swap in the
middle of a request changes nothing for it, and no request ever sees a half-loaded model:
the new model is loaded and checked completely before one reference assignment (atomic in
CPython) publishes it. The previous snapshot lives until the last request holding it ends.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

from mercato.models.registry import ModelRegistry, ModelVersion
from mercato.recommend.base import Recommender


@dataclass(frozen=True)
class LiveModel:
    version: ModelVersion
    model: Recommender


class ModelSlot:
    def __init__(self) -> None:
        self.current: LiveModel | None = None
        self._swap_lock = threading.Lock()  # serializes swappers, never readers
        self.swaps = 0

    def swap(self, version: ModelVersion, model: Recommender) -> LiveModel:
        live = LiveModel(version=version, model=model)
        with self._swap_lock:
            self.current = live
            self.swaps += 1
        return live

    def sync(self, registry: ModelRegistry) -> LiveModel | None:
        """Load the registry's live version if it differs from the one served (loads outside any lock)."""
        wanted = registry.live_version()
        current = self.current
        if wanted is None or (current is not None and current.version.version == wanted):
            return current
        model = registry.load(wanted)
        return self.swap(registry.get(wanted), model)
