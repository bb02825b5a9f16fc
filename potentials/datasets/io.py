"""Writing labelled frames (atomically) as extxyz."""
from __future__ import annotations

from pathlib import Path
from typing import Sequence

from ase import Atoms

from ..files import atomic_path


def write_frames(path: str | Path, frames: Sequence[Atoms]) -> Path:
    """extxyz with each frame's calculator results (energy, forces, stress) as labels."""
    from ase.io import write

    with atomic_path(path) as tmp:
        write(str(tmp), list(frames), format="extxyz")
    return Path(path)
