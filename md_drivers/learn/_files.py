"""Data files of the loop, written so that an interruption never loses or half-writes them."""
from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import ase.io
import numpy as np
from ase import Atoms

from potentials.files import atomic_path, strict_json


def append_frame(path: Path, frame: Atoms) -> None:
    """Append one frame to an extxyz file atomically: the file holds either all earlier
    frames, or all of them and this one, never a half-written frame."""
    buffer = io.StringIO()
    ase.io.write(buffer, frame, format="extxyz")
    before = path.read_bytes() if path.is_file() else b""
    with atomic_path(path) as tmp:
        tmp.write_bytes(before + buffer.getvalue().encode())


def read_frames(path: Path) -> list[Atoms]:
    if not path.is_file() or path.stat().st_size == 0:
        return []
    return ase.io.read(path, index=":")


def write_json(path: Path, data: Any) -> None:
    with atomic_path(path) as tmp:
        tmp.write_text(strict_json(data))


def read_json(path: Path, default: Any = None) -> Any:
    return json.loads(path.read_text()) if path.is_file() else default


def scalar_info(atoms: Atoms) -> dict[str, Any]:
    """``atoms.info``'s strings and numbers (Python or NumPy scalars, as read back from
    extxyz), as Python values."""
    return {key: value.item() if isinstance(value, np.generic) else value
            for key, value in atoms.info.items()
            if isinstance(value, (str, int, float, np.integer, np.floating))}
