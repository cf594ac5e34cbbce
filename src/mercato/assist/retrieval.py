"""Hybrid retrieval: BM25 (bm25s) and embedding cosine, fused by reciprocal rank.

BM25 finds exact words (an order term, an item name); embeddings find paraphrases ("send it back"
vs "return"). Reciprocal rank fusion (Cormack et al., SIGIR 2009: score = Σ 1 / (k + rank)) needs
no score calibration between the two, which is why it is the usual default in RAG stacks.
``search`` reports both ranks per hit so a wrong answer can be traced to the retriever that
produced it — the diagnostics LlamaIndex and Haystack users ask for.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from mercato.assist.documents import Passage
from mercato.assist.embedder import Embedder

RRF_K = 60


@dataclass(frozen=True)
class Hit:
    passage: Passage
    score: float  # fused RRF score
    bm25_rank: int | None  # 1-based; None when BM25 did not retrieve it
    dense_rank: int | None
    cosine: float


def _tokenize(texts: list[str], *, ids: bool = True):
    import bm25s

    return bm25s.tokenize(texts, stopwords="en", return_ids=ids, show_progress=False)


class HybridRetriever:
    """``dense=False`` keeps BM25 only: for a large catalog, embedding every item title at start-up
    costs minutes on a CPU, and item names are matched by their words anyway."""

    def __init__(self, passages: list[Passage], embedder: Embedder, *, depth: int = 20, dense: bool = True) -> None:
        import bm25s

        self.passages = list(passages)
        self.embedder = embedder
        self.depth = depth
        self.dense = dense
        self._bm25 = None
        self.vectors = None
        if self.passages:
            self._bm25 = bm25s.BM25()
            self._bm25.index(_tokenize([f"{p.title} {p.text}" for p in self.passages]), show_progress=False)
            if dense:
                self.vectors = embedder.encode([f"{p.title}. {p.text}" for p in self.passages])  # (P, D)

    def _bm25_ranks(self, query: str) -> dict[int, int]:
        if self._bm25 is None:
            return {}
        # Words, not ids: a query tokenized on its own has its own vocabulary; keep the indexed words.
        words = [w for w in _tokenize([query], ids=False)[0] if w in self._bm25.vocab_dict]
        if not words:
            return {}  # only stopwords or unknown words: BM25 has nothing to say
        tokens = [words]
        k = min(self.depth, len(self.passages))
        docs, scores = self._bm25.retrieve(tokens, k=k, show_progress=False, n_threads=1)
        return {int(doc): rank + 1 for rank, (doc, score) in enumerate(zip(docs[0], scores[0], strict=True)) if score > 0}

    def search(self, query: str, *, k: int = 3, query_vector: np.ndarray | None = None, kind: str | None = None) -> list[Hit]:
        """The ``k`` best passages (of ``kind`` "doc"/"item" when given), best first."""
        if not self.passages:
            return []
        allowed = np.array([kind is None or p.kind == kind for p in self.passages])
        if self.dense:
            if query_vector is None:
                query_vector = self.embedder.encode([query])[0]
            cosine = self.vectors @ query_vector  # (P,)
            dense_order = [int(i) for i in np.argsort(-cosine) if allowed[i]][: self.depth]
            dense = {doc: rank + 1 for rank, doc in enumerate(dense_order)}
        else:
            cosine, dense = np.zeros(len(self.passages), dtype=np.float32), {}
        lexical = {doc: rank for doc, rank in self._bm25_ranks(query).items() if allowed[doc]}
        fused: dict[int, float] = {}
        for ranks in (lexical, dense):
            for doc, rank in ranks.items():
                fused[doc] = fused.get(doc, 0.0) + 1.0 / (RRF_K + rank)
        best = sorted(fused, key=lambda doc: (-fused[doc], -cosine[doc]))[:k]
        return [Hit(self.passages[d], fused[d], lexical.get(d), dense.get(d), float(cosine[d])) for d in best]
