"""MD checkpoints: one pickle per run directory, replaced atomically."""
from __future__ import annotations

import pickle
from pathlib import Path
from typing import Any

from potentials.files import atomic_path

__all__ = ["CHECKPOINT_NAME", "CHECKPOINT_VERSION", "CheckpointError", "save_md_checkpoint",
           "load_md_checkpoint"]

CHECKPOINT_NAME = "checkpoint.pkl"
CHECKPOINT_VERSION = 1


class CheckpointError(ValueError):
    """A checkpoint that cannot be used (missing, corrupted, other version)."""


def save_md_checkpoint(run_dir: Path, state: dict[str, Any]) -> Path:
    """Write ``state`` (engine state, step, frame counts) to ``run_dir/checkpoint.pkl``.

    The file is written to a temporary name, fsynced and renamed: a run killed at any
    moment leaves the previous checkpoint or the new one, never a partial file.
    """
    path = Path(run_dir) / CHECKPOINT_NAME
    with atomic_path(path) as tmp:
        with open(tmp, "wb") as handle:
            pickle.dump({"version": CHECKPOINT_VERSION, **state}, handle,
                        protocol=pickle.HIGHEST_PROTOCOL)
    return path


def load_md_checkpoint(run_dir: Path) -> dict[str, Any]:
    path = Path(run_dir) / CHECKPOINT_NAME
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no checkpoint (is {run_dir} an equiforce md run "
                                "directory?)")
    try:
        with open(path, "rb") as handle:
            state = pickle.load(handle)
    except (pickle.UnpicklingError, EOFError, AttributeError, ValueError) as error:
        raise CheckpointError(f"{path}: corrupted checkpoint ({error})") from error
    if not isinstance(state, dict) or state.get("version") != CHECKPOINT_VERSION:
        raise CheckpointError(f"{path}: unsupported checkpoint version "
                              f"{state.get('version') if isinstance(state, dict) else '?'} "
                              f"(this equiforce reads version {CHECKPOINT_VERSION})")
    return state
