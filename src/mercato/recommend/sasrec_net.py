"""The causal transformer of the sequential recommender (SASRec, Kang & McAuley 2018), in PyTorch.

Differences from the original that the recent literature shows matter:
- pre-norm blocks with GELU feed-forward (as in GPT-2 / nanoGPT), a final LayerNorm;
- the output layer is the item embedding table itself (shared input/output embeddings),
  so a next-item logit is the dot product of the sequence state with an item vector;
- trained with full softmax cross-entropy over the catalog (Klenitskiy & Vasilev 2023,
  "Turning Dross Into Gold Loss") or sampled softmax with many negatives, not BCE with one;
- optionally scored by cosine similarity over a temperature instead of a dot product
  (NISER, Gupta et al. 2019; CORE, Hou et al. 2022): with item-vector norms out of the
  score, popular items cannot win by norm alone, which helps long-tail session data;
- optionally a representation-consistent readout (CORE, Hou et al. 2022): the sequence state
  is a weighted mean of the sequence's own item vectors, the weights read from the
  transformer's states, so a session and the items it may go to live in one space;
- optionally a repeat-aware term (``RepeatScores``) for items already in the sequence, as
  RepeatNet (Ren et al. 2019) argues for session data, where many next clicks go back to an
  item viewed minutes ago: a learned weight per recency of each earlier occurrence, plus a
  per-sequence gate read from the state (does this session go back, or explore?).

Item index 0 is padding; catalog item ``i`` is token ``i + 1``.
"""

from __future__ import annotations

import math
import warnings

import torch
import torch.nn.functional as F
from torch import nn


class CausalSelfAttention(nn.Module):
    def __init__(self, dim: int, heads: int, dropout: float) -> None:
        super().__init__()
        if dim % heads:
            raise ValueError(f"hidden size {dim} is not divisible by {heads} heads")
        self.heads = heads
        self.qkv = nn.Linear(dim, 3 * dim)
        self.proj = nn.Linear(dim, dim)
        self.dropout = dropout
        self.resid_dropout = nn.Dropout(dropout)

    def forward(self, x: torch.Tensor, attn_mask: torch.Tensor) -> torch.Tensor:
        b, t, d = x.shape  # (B, T, D)
        q, k, v = self.qkv(x).split(d, dim=2)
        q, k, v = (z.view(b, t, self.heads, d // self.heads).transpose(1, 2) for z in (q, k, v))  # (B, H, T, Dh)
        y = F.scaled_dot_product_attention(
            q, k, v, attn_mask=attn_mask, dropout_p=self.dropout if self.training else 0.0
        )  # (B, H, T, Dh)
        y = y.transpose(1, 2).contiguous().view(b, t, d)
        return self.resid_dropout(self.proj(y))


class Block(nn.Module):
    def __init__(self, dim: int, heads: int, dropout: float) -> None:
        super().__init__()
        self.ln1 = nn.LayerNorm(dim)
        self.attn = CausalSelfAttention(dim, heads, dropout)
        self.ln2 = nn.LayerNorm(dim)
        self.ffn = nn.Sequential(nn.Linear(dim, 4 * dim), nn.GELU(), nn.Linear(4 * dim, dim), nn.Dropout(dropout))

    def forward(self, x: torch.Tensor, attn_mask: torch.Tensor) -> torch.Tensor:
        x = x + self.attn(self.ln1(x), attn_mask)
        return x + self.ffn(self.ln2(x))


class SASRecNet(nn.Module):
    def __init__(
        self,
        n_items: int,
        *,
        max_len: int,
        dim: int,
        layers: int,
        heads: int,
        dropout: float,
        n_attributes: int = 0,
        temperature: float | None = None,
        repeat_bias: bool = False,
        positions: str = "from_start",
        readout: str = "state",
    ) -> None:
        super().__init__()
        self.max_len = max_len
        self.positions = positions
        # item_mix: each step's state is a convex combination of the item vectors seen so far,
        # weighted by a score each step's transformer state gives its own item.
        self.mix_weight = nn.Linear(dim, 1) if readout == "item_mix" else None
        self.temperature = temperature  # None: dot-product scores; else cosine / temperature
        self.repeat = RepeatScores(max_len, dim) if repeat_bias else None
        self.item_emb = nn.Embedding(n_items + 1, dim, padding_idx=0)  # token 0 = padding
        self.pos_emb = nn.Embedding(max_len, dim)
        # Optional side features: each item's embedding is enriched by the mean of its attributes'.
        self.attr_emb = nn.EmbeddingBag(n_attributes, dim, mode="mean") if n_attributes else None
        self.emb_dropout = nn.Dropout(dropout)
        self.blocks = nn.ModuleList(Block(dim, heads, dropout) for _ in range(layers))
        self.ln_f = nn.LayerNorm(dim)
        self.apply(_init_weights)
        # Item -> attribute ids (CSR), set by set_item_attributes; derived data, not weights.
        self.register_buffer("item_attr_index", None, persistent=False)
        self.register_buffer("item_attr_offsets", None, persistent=False)

    def set_item_attributes(self, indices: torch.Tensor, offsets: torch.Tensor) -> None:
        """CSR layout of item → attribute ids for the n_items + 1 tokens (padding has none)."""
        self.item_attr_index = indices
        self.item_attr_offsets = offsets

    def item_table(self) -> torch.Tensor:
        """(n_items + 1, D) item vectors used both as input embeddings and as output weights."""
        table = self.item_emb.weight
        if self.attr_emb is not None and self.item_attr_index is not None:
            table = table + self.attr_emb(self.item_attr_index, self.item_attr_offsets)
        return table

    def forward(self, tokens: torch.Tensor, table: torch.Tensor | None = None) -> torch.Tensor:
        """tokens: (B, T) item tokens, left-padded with 0. Returns (B, T, D) sequence states."""
        b, t = tokens.shape
        table = self.item_table() if table is None else table
        keep = tokens != 0  # (B, T)
        if self.positions == "from_start":
            # Position 0 is the oldest item kept. A training window's state at step t then sees
            # exactly what a request with those t items sees, and nothing of what comes later.
            positions = (keep.cumsum(1) - 1).clamp(min=0)  # (B, T)
        else:
            # from_end (the original SASRec layout): positions count back from the last column.
            # In training that column holds the window's last item, so a state at an earlier
            # step knows how many items the sequence still has to go: a look at the future.
            positions = torch.arange(self.max_len - t, self.max_len, device=tokens.device)  # (T,), broadcast over B
        items = table[tokens]  # (B, T, D)
        x = items * math.sqrt(table.shape[1]) + self.pos_emb(positions)  # (B, T, D)
        x = self.emb_dropout(x)
        causal = torch.ones(t, t, dtype=torch.bool, device=tokens.device).tril()  # (T, T)
        # A query may look at earlier non-padding keys; padding queries look at themselves only,
        # so no attention row is empty (an all-masked row gives NaN in softmax).
        mask = causal[None] & keep[:, None, :]  # (B, T, T)
        mask = mask | torch.eye(t, dtype=torch.bool, device=tokens.device)[None]
        for block in self.blocks:
            x = block(x, mask[:, None])  # mask broadcast over heads: (B, 1, T, T)
        x = self.ln_f(x)
        if self.mix_weight is None:
            return x
        # Step t's state: softmax over the steps j <= t of their scores, times their item vectors.
        scores = self.mix_weight(x).squeeze(-1)  # (B, T)
        weights = scores[:, None, :].masked_fill(~mask, float("-inf")).softmax(-1)  # (B, T, T)
        return weights @ self.emb_dropout(items)  # (B, T, D)

    def output_states(self, states: torch.Tensor) -> torch.Tensor:
        """Sequence states as the left side of the score product."""
        if self.temperature is None:
            return states
        return F.normalize(states, dim=-1) / self.temperature

    def output_table(self, table: torch.Tensor) -> torch.Tensor:
        """Item vectors (all n_items + 1 tokens) as the right side of the score product."""
        return table if self.temperature is None else F.normalize(table, dim=-1)

    def logits(self, states: torch.Tensor, table: torch.Tensor | None = None) -> torch.Tensor:
        """(N, D) states -> (N, n_items) scores of every catalog item (padding token dropped)."""
        table = self.item_table() if table is None else table
        return self.output_states(states) @ self.output_table(table)[1:].T


class RepeatScores(nn.Module):
    """The score an item gets for having occurred earlier in the sequence.

    For a candidate item c and a sequence state h: the sum over c's earlier occurrences of a
    learned weight for how recent each was (0 = the newest item), plus a gate ``h · v`` added
    once if c occurred at all. Both start at zero, so a fresh model scores as without them.
    """

    def __init__(self, max_len: int, dim: int) -> None:
        super().__init__()
        self.recency_weight = nn.Parameter(torch.zeros(max_len))
        self.gate = nn.Linear(dim, 1)
        nn.init.zeros_(self.gate.weight)
        nn.init.zeros_(self.gate.bias)

    def dense(self, session: torch.Tensor, recency: torch.Tensor, states: torch.Tensor, n_tokens: int) -> torch.Tensor:
        """(M, T) tokens of each row's earlier items (0 = none), their (M, T) recencies and the
        (M, D) states -> (M, n_tokens) repeat scores of every token (column 0, padding, is junk)."""
        scores = torch.zeros(session.shape[0], n_tokens, dtype=states.dtype, device=states.device)
        scores.scatter_add_(1, session, self.recency_weight[recency].to(states.dtype))
        seen = torch.zeros_like(scores).scatter_(1, session, 1.0)
        return scores + seen * self.gate(states)

    def at(self, session: torch.Tensor, recency: torch.Tensor, states: torch.Tensor, candidates: torch.Tensor) -> torch.Tensor:
        """The same for given (M, C) candidate tokens only -> (M, C); cheap for sampled losses."""
        same = (session[:, :, None] == candidates[:, None, :]) & (session[:, :, None] != 0)  # (M, T, C)
        weights = self.recency_weight[recency].to(states.dtype)[:, :, None]  # (M, T, 1)
        return (same * weights).sum(1) + same.any(1) * self.gate(states)


def sequence_recency(tokens: torch.Tensor) -> torch.Tensor:
    """(B, T) left-padded tokens, newest last -> (B, T) how many steps back each one is."""
    t = tokens.shape[1]
    return torch.arange(t - 1, -1, -1, device=tokens.device).expand_as(tokens)


def _init_weights(module: nn.Module) -> None:
    if isinstance(module, nn.Linear):
        nn.init.normal_(module.weight, std=0.02)
        nn.init.zeros_(module.bias)
    elif isinstance(module, (nn.Embedding, nn.EmbeddingBag)):
        nn.init.normal_(module.weight, std=0.02)
        if getattr(module, "padding_idx", None) is not None:
            with torch.no_grad():
                module.weight[module.padding_idx].zero_()


class NextItemScorer(nn.Module):
    """(B, T) tokens -> (B, n_items) next-item scores: the serving path as one module, so that
    it can be traced and frozen (``trace_single_sequence_scorer``)."""

    def __init__(self, net: SASRecNet, table: torch.Tensor) -> None:
        super().__init__()
        self.net = net
        self.register_buffer("table", table)
        # Normalized once here, not per request, when scores are cosines.
        self.register_buffer("out_table", net.output_table(table)[1:].contiguous())

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        states = self.net(tokens, self.table)[:, -1]  # (B, D): the state after the newest item
        scores = self.net.output_states(states) @ self.out_table.T
        if self.net.repeat is not None:
            repeat = self.net.repeat.dense(tokens, sequence_recency(tokens), states, self.table.shape[0])
            scores = scores + repeat[:, 1:]
        return scores


def trace_single_sequence_scorer(net: SASRecNet, table: torch.Tensor, *, width: int | None = None) -> torch.jit.ScriptModule:
    """A frozen TorchScript graph of ``NextItemScorer`` for one max_len-wide sequence.

    Eager PyTorch spends most of a one-sequence request on per-operator Python dispatch;
    the frozen graph (constants folded, linear layers fused for inference) answers the same
    scores three to four times faster on a CPU. Shapes are fixed by the trace, so callers
    pad to ``width`` (default ``net.max_len``) and send one sequence at a time.
    """
    example = torch.zeros(1, width or net.max_len, dtype=torch.long, device=table.device)
    example[0, -1] = 1
    with warnings.catch_warnings():
        # The tracer warns that Python values (shapes, the sqrt of the width) become constants:
        # that is the point here, the shape is fixed. TorchScript is deprecated in favour of
        # torch.compile, which needs a C++ toolchain at run time and tens of seconds per
        # compile (the learner publishes a fine-tuned model every few seconds); with torch
        # pinned, the frozen TorchScript graph is the fast path that works everywhere.
        warnings.simplefilter("ignore", torch.jit.TracerWarning)
        warnings.simplefilter("ignore", DeprecationWarning)
        with torch.no_grad():  # ``table`` may be an inference-mode tensor: record no autograd graph
            traced = torch.jit.trace(NextItemScorer(net, table.clone()).eval(), example)
        return torch.jit.optimize_for_inference(torch.jit.freeze(traced))
