"""Fine-tune the top transformer layers of the sentence encoder on the intent labels.

A linear classifier on frozen all-MiniLM-L6-v2 embeddings plateaus: on CLINC150 validation it
reaches 96.3 % in-scope accuracy before the out-of-scope threshold. Retraining the top layer on the
intents pulls paraphrases of one intent together (96.8 %, chosen on validation data only). Only
the top ``layers`` blocks are trained: the states entering them are computed once, without
gradients, so a step costs a fraction of a full fine-tune — what makes it fit in minutes on a CPU.

The result is a small safetensors file of the top blocks' weights; ``SentenceEmbedder`` loads it
over the base model (``top_layers=``), and its model id carries the file's digest, so an intent
model can only be served with the encoder it was trained with.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from mercato.errors import InvalidInput

ENCODER_FILE = "intent_encoder.safetensors"
LOGIT_SCALE = 20.0  # cosine logits times a temperature: unit vectors are what the classifier sees later


@dataclass(frozen=True)
class TunedLayers:
    weights: dict  # {"<block>.<name>": tensor} of the trained blocks, for ``save_top_layers``
    vectors: np.ndarray  # (N, D) the tuned encoder's embeddings of the training texts, in their order


def _bert(model):
    """The transformer inside a sentence-transformers model (its first module)."""
    return model[0].auto_model


def top_layer_keys(model, layers: int) -> list[int]:
    blocks = _bert(model).encoder.layer
    if not 1 <= layers <= len(blocks):
        raise InvalidInput(f"fine_tune_layers must be between 1 and {len(blocks)}, got {layers}", field="fine_tune_layers")
    return list(range(len(blocks) - layers, len(blocks)))


def _lower_states(model, texts: Sequence[str], first_trained: int, batch_size: int = 256) -> list:
    """Per text, the (tokens, D) hidden states entering block ``first_trained`` (padding dropped)."""
    import torch

    bert, tokenizer = _bert(model), model[0].tokenizer
    states = []
    with torch.inference_mode():
        for begin in range(0, len(texts), batch_size):
            batch = tokenizer(list(texts[begin:begin + batch_size]), padding=True, truncation=True,
                              max_length=model.max_seq_length, return_tensors="pt")
            hidden = bert(**batch, output_hidden_states=True).hidden_states[first_trained]  # (B, T, D)
            lengths = batch["attention_mask"].sum(dim=1)
            states += [hidden[row, : lengths[row]].clone() for row in range(len(lengths))]
    return states


def _top(blocks, states: list):
    """Mean-pooled, normalized output of ``blocks`` over a list of variable-length states: (B, D)."""
    import torch
    import torch.nn.functional as F

    lengths = torch.tensor([len(s) for s in states])
    width, dim = int(lengths.max()), states[0].shape[1]
    hidden = torch.zeros(len(states), width, dim)
    for row, state in enumerate(states):
        hidden[row, : len(state)] = state
    mask = torch.arange(width)[None, :] < lengths[:, None]  # (B, T)
    additive = (~mask)[:, None, None, :].float() * torch.finfo(torch.float32).min  # (B, 1, 1, T)
    for block in blocks:
        out = block(hidden, attention_mask=additive)
        hidden = out[0] if isinstance(out, tuple) else out
    weights = mask.unsqueeze(-1).float()
    return F.normalize((hidden * weights).sum(dim=1) / weights.sum(dim=1), dim=1)


def _embed_states(blocks, states: list, batch_size: int = 256) -> np.ndarray:
    """The tuned encoder's sentence embeddings of texts whose lower states are known: only the top
    blocks run, so the training texts need not pass through the whole encoder again. (N, D)"""
    import torch

    with torch.inference_mode():
        parts = [_top(blocks, states[begin:begin + batch_size]).numpy() for begin in range(0, len(states), batch_size)]
    return np.concatenate(parts).astype(np.float32)


def fine_tune_top_layers(
    model,
    texts: Sequence[str],
    labels: Sequence[str],
    *,
    layers: int = 1,
    epochs: float = 2.0,
    lr: float = 1e-4,
    batch_size: int = 64,
    seed: int = 0,
    progress: Callable[[str], None] = lambda _: None,
) -> TunedLayers:
    """Train the top ``layers`` blocks of ``model`` (in place) with a cosine softmax head on
    ``labels``; returns their weights and the tuned embeddings of ``texts``."""
    import torch
    import torch.nn.functional as F

    if len(texts) != len(labels) or len(set(labels)) < 2:
        raise InvalidInput("fine-tuning needs one label per text and at least two intents")
    torch.manual_seed(seed)
    trained = top_layer_keys(model, layers)
    blocks = [_bert(model).encoder.layer[i] for i in trained]
    started = time.perf_counter()
    states = _lower_states(model, texts, trained[0])
    progress(f"fine-tuning the top {layers} encoder layer(s): lower states of {len(texts):,} texts in "
             f"{time.perf_counter() - started:.0f} s")
    classes = sorted(set(labels))
    target = torch.tensor([classes.index(label) for label in labels])
    head = torch.nn.Linear(states[0].shape[1], len(classes))
    optimizer = torch.optim.AdamW([{"params": [p for b in blocks for p in b.parameters()], "lr": lr},
                                   {"params": head.parameters(), "lr": 1e-2}], weight_decay=0.01)
    steps = max(1, int(epochs * len(texts) / batch_size))
    warmup = max(1, steps // 10)
    schedule = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda s: min(1.0, (s + 1) / warmup) * max(0.0, (steps - s) / steps))
    rng = np.random.default_rng(seed)
    order = np.concatenate([rng.permutation(len(texts)) for _ in range(int(np.ceil(epochs)))])
    for block in blocks:
        block.train()
    try:
        for step in range(steps):
            rows = order[step * batch_size:(step + 1) * batch_size]
            loss = F.cross_entropy(head(_top(blocks, [states[i] for i in rows])) * LOGIT_SCALE, target[rows])
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            schedule.step()
            if step % 100 == 0 or step == steps - 1:
                progress(f"  step {step + 1}/{steps}, loss {loss.item():.3f}, {time.perf_counter() - started:.0f} s")
    finally:
        for block in blocks:
            block.eval()
    vectors = _embed_states(blocks, states)
    progress(f"  embedded the training texts with the tuned layers, {time.perf_counter() - started:.0f} s")
    weights = {f"{i}.{name}": tensor.detach().clone() for i, block in zip(trained, blocks, strict=True)
               for name, tensor in block.state_dict().items()}
    return TunedLayers(weights, vectors)


def save_top_layers(weights: dict, path: str | Path) -> Path:
    from safetensors.torch import save_file

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    save_file({name: tensor.contiguous() for name, tensor in weights.items()}, str(path))
    return path


def load_top_layers(model, path: str | Path) -> None:
    """Put the saved blocks' weights into ``model`` (a base model of the same architecture)."""
    from safetensors.torch import load_file

    weights = load_file(str(path))
    blocks = _bert(model).encoder.layer
    by_block: dict[int, dict] = {}
    for name, tensor in weights.items():
        index, _, rest = name.partition(".")
        if not index.isdigit() or int(index) >= len(blocks):
            raise InvalidInput(f"{path} does not fit this encoder (weight {name!r})")
        by_block.setdefault(int(index), {})[rest] = tensor
    for index, state in by_block.items():
        blocks[index].load_state_dict(state)  # strict: a mismatched file fails here, not in a wrong answer
