"""Checkpoints (model weights + config) and building models from config files."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Optional

import torch
import yaml

from .files import atomic_path
from ._metadata import ModelFileError
from ._ops_convert import transfer_weights
from .config import PotentialConfig
from .convert import convert_ops
from .model import EquivariantPotential

__all__ = ["save_checkpoint", "load_checkpoint", "model_from_file"]

CHECKPOINT_KIND = "equiforce-checkpoint"
CHECKPOINT_VERSION = 1


def save_checkpoint(path: str | Path, model: EquivariantPotential, **extra: Any) -> Path:
    """Write config, weights and ``extra`` (optimizer state, epoch, ...) atomically. The
    weights are stored in e3nn's form; ``ops`` records the model's backend."""
    # weights in the e3nn form whatever the model's backend: any release reads them
    state = model.state_dict() if model.ops == "e3nn" else convert_ops(model, "e3nn").state_dict()
    payload = {"kind": CHECKPOINT_KIND, "version": CHECKPOINT_VERSION,
               "config": model.config.to_dict(), "model_state": state, "ops": model.ops,
               "dtype": str(next(model.parameters()).dtype).replace("torch.", ""), **extra}
    with atomic_path(path) as tmp:
        torch.save(payload, tmp)
    return Path(path)


def load_checkpoint(path: str | Path, ops: Optional[str] = None
                    ) -> tuple[EquivariantPotential, dict[str, Any]]:
    """The model stored in a checkpoint (on the CPU, with the ``ops`` backend; default the
    one it was saved with), and the whole checkpoint dictionary."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such checkpoint")
    try:
        payload = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as error:  # torch raises several types for damaged files
        raise ModelFileError(f"{path}: unreadable checkpoint ({error})") from error
    if not isinstance(payload, dict) or payload.get("kind") != CHECKPOINT_KIND:
        raise ModelFileError(f"{path}: not an equiforce checkpoint")
    if payload.get("version", 0) > CHECKPOINT_VERSION:
        raise ModelFileError(f"{path}: checkpoint version {payload['version']} is newer than "
                             f"this equiforce reads ({CHECKPOINT_VERSION})")
    model = EquivariantPotential(PotentialConfig.from_dict(payload["config"]),
                                 dtype=getattr(torch, payload["dtype"]),
                                 ops=ops or payload.get("ops", "e3nn"))
    transfer_weights(payload["model_state"], "e3nn", model)
    return model, payload


def model_from_file(path: str | Path, seed: int = 0) -> EquivariantPotential:
    """A checkpoint's model, or a freshly initialised one (``seed``) from a JSON/YAML
    config file holding :class:`PotentialConfig` fields (top level or under ``model``)."""
    path = Path(path)
    if path.suffix.lower() in (".json", ".yaml", ".yml"):
        if not path.is_file():
            raise FileNotFoundError(f"{path}: no such config file")
        data = yaml.safe_load(path.read_text()) if path.suffix != ".json" else json.loads(path.read_text())
        if not isinstance(data, dict):
            raise ValueError(f"{path}: expected a mapping of PotentialConfig fields")
        torch.manual_seed(seed)
        return EquivariantPotential(PotentialConfig.from_dict(data.get("model", data)))
    return load_checkpoint(path)[0]
