"""Choosing which explored frames to label: high committee spread, no near-duplicates."""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Optional, Sequence

import numpy as np

from .fingerprint import fingerprint_distance

__all__ = ["SelectSettings", "select_frames"]


@dataclass(frozen=True)
class SelectSettings:
    """Attributes:
        threshold: a frame is a candidate when its largest per-atom committee force
            spread exceeds this, eV/A.
        max_frames: at most this many frames are labelled per round.
        min_distance: frames whose fingerprints are nearer than this (relative distance,
            :func:`fingerprint_distance`) to an already selected frame are duplicates and
            skipped: consecutive MD frames of one burst do not fill the budget.
        max_per_run: at most this many frames from one exploration run (None: no limit).
    """

    threshold: float = 0.05
    max_frames: int = 16
    min_distance: float = 0.02
    max_per_run: Optional[int] = None

    def __post_init__(self) -> None:
        if not 0 <= self.threshold < math.inf:
            raise ValueError(f"select.threshold must be a finite number of eV/A >= 0, got "
                             f"{self.threshold}")
        if not isinstance(self.max_frames, int) or self.max_frames < 1:
            raise ValueError(f"select.max_frames must be an integer >= 1, got {self.max_frames!r}")
        if not 0 <= self.min_distance < math.inf:
            raise ValueError(f"select.min_distance must be >= 0, got {self.min_distance}")
        if self.max_per_run is not None and (not isinstance(self.max_per_run, int)
                                             or self.max_per_run < 1):
            raise ValueError(f"select.max_per_run must be an integer >= 1 or null, got "
                             f"{self.max_per_run!r}")


def select_frames(spreads: Sequence[float], fingerprints: Sequence[np.ndarray],
                  settings: SelectSettings, runs: Optional[Sequence[str]] = None) -> list[int]:
    """Indices of the frames to label, highest spread first.

    Frames are taken in order of decreasing spread (eV/A; ties by index); a frame is
    skipped when its spread is not above ``settings.threshold``, when it is within
    ``settings.min_distance`` of a frame already taken, or when its run (``runs[k]``,
    any label) already gave ``settings.max_per_run`` frames. At most
    ``settings.max_frames`` are returned.
    """
    spreads = np.nan_to_num(np.asarray(spreads, dtype=float), nan=-np.inf)  # NaN: never
    if len(fingerprints) != len(spreads) or (runs is not None and len(runs) != len(spreads)):
        raise ValueError("spreads, fingerprints and runs must have one entry per frame")
    order = sorted(range(len(spreads)), key=lambda k: (-spreads[k], k))
    chosen: list[int] = []
    per_run: dict[str, int] = {}
    for k in order:
        if len(chosen) == settings.max_frames or not spreads[k] > settings.threshold:
            break
        run = runs[k] if runs is not None else ""
        if settings.max_per_run is not None and per_run.get(run, 0) >= settings.max_per_run:
            continue
        if any(fingerprint_distance(fingerprints[k], fingerprints[j]) < settings.min_distance
               for j in chosen):
            continue
        chosen.append(k)
        per_run[run] = per_run.get(run, 0) + 1
    return chosen
