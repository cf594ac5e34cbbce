"""Training checkpoints in safetensors: weights, optimizer state and config, no pickle.

``torch.save`` pickles Python objects and loading one runs code; safetensors holds tensors
only. The optimizer's state dict is flattened into named tensors (``optim.<param>.<key>``)
and its hyper-parameters go to the JSON metadata with the model config.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import torch
from safetensors.torch import load_file, save_file

from mercato.errors import InvalidInput

WEIGHTS_PREFIX = "model."
OPTIM_PREFIX = "optim."


def save_checkpoint(path: Path, model: torch.nn.Module, optimizer: torch.optim.Optimizer, meta: dict[str, Any]) -> None:
    tensors = {WEIGHTS_PREFIX + k: v.detach().cpu().contiguous() for k, v in model.state_dict().items()}
    optim_state = optimizer.state_dict()
    for param_id, state in optim_state["state"].items():
        for key, value in state.items():
            tensor = value if torch.is_tensor(value) else torch.tensor(value)
            tensors[f"{OPTIM_PREFIX}{param_id}.{key}"] = tensor.detach().cpu().contiguous()
    metadata = {"meta": json.dumps(meta), "param_groups": json.dumps(optim_state["param_groups"])}
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    save_file(tensors, str(tmp), metadata=metadata)
    tmp.replace(path)  # atomic: a crash mid-write never leaves a half checkpoint under the real name


def load_checkpoint(path: Path, model: torch.nn.Module, optimizer: torch.optim.Optimizer | None = None) -> dict[str, Any]:
    """Restore weights (and optimizer state if given); return the saved metadata."""
    if not path.exists():
        raise InvalidInput(f"checkpoint {path} not found")
    from safetensors import safe_open

    with safe_open(str(path), framework="pt") as fh:
        metadata = fh.metadata() or {}
    tensors = load_file(str(path))
    weights = {k[len(WEIGHTS_PREFIX) :]: v for k, v in tensors.items() if k.startswith(WEIGHTS_PREFIX)}
    model.load_state_dict(weights)
    if optimizer is not None:
        state: dict[int, dict[str, torch.Tensor]] = {}
        for key, value in tensors.items():
            if key.startswith(OPTIM_PREFIX):
                param_id, name = key[len(OPTIM_PREFIX) :].split(".", 1)
                state.setdefault(int(param_id), {})[name] = value
        optimizer.load_state_dict({"state": state, "param_groups": json.loads(metadata["param_groups"])})
    return json.loads(metadata.get("meta", "{}"))
