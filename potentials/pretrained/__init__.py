"""Trained potentials shipped with equiforce, loadable offline by name.

``potentials.load("cu-emt")`` finds ``cu-emt.pt`` in this folder. Each model has a card in
``docs/models/NAME.md`` (data, training command, test errors, limits) and a held-out
frame file ``NAME-heldout.extxyz`` used by the tests.
"""
from __future__ import annotations

from pathlib import Path

__all__ = ["available", "pretrained_path", "heldout_path"]

_HERE = Path(__file__).resolve().parent


def available() -> list[str]:
    """Names of the shipped potentials."""
    return sorted(p.stem for p in _HERE.glob("*.pt"))


def pretrained_path(name: str) -> Path:
    """File of a shipped potential; ``KeyError`` listing the available names."""
    path = _HERE / f"{name}.pt"
    if not path.is_file():
        raise KeyError(f"no shipped potential named {name!r}; available: {', '.join(available()) or 'none'}")
    return path


def heldout_path(name: str) -> Path:
    """Held-out labelled frames (extxyz) stored beside a shipped potential."""
    return _HERE / f"{name}-heldout.extxyz"
