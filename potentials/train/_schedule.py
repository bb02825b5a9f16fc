"""The training budget: epochs and an optional wall-clock limit, and the schedule they drive."""
from __future__ import annotations

import math
import time
from typing import Optional

__all__ = ["Budget", "cosine_lr", "energy_weight"]


def cosine_lr(progress: float, lr: float, final_lr: float) -> float:
    """Cosine decay from ``lr`` at progress 0 to ``final_lr`` at progress 1."""
    progress = min(max(progress, 0.0), 1.0)
    return final_lr + (lr - final_lr) * 0.5 * (1.0 + math.cos(math.pi * progress))


def energy_weight(settings, progress: float) -> float:
    """The energy loss weight at ``progress``: ``stage_two_energy_weight`` in the last
    ``stage_two_fraction`` of the budget, else ``energy_weight`` (``OptimSettings``)."""
    if settings.stage_two_fraction > 0 and progress >= 1.0 - settings.stage_two_fraction:
        return settings.stage_two_energy_weight
    return settings.energy_weight


class Budget:
    """How far a run is through its budget: ``epochs`` full passes over the data, or
    ``max_time`` seconds of wall clock in the training loop, whichever ends first.

    ``progress()`` is the larger of the two fractions, so the learning-rate schedule (and
    a final energy-weighted stage) ends when the budget does, whichever limit binds.
    ``spent_before`` is the loop time of an earlier, resumed part of the run (s).
    """

    def __init__(self, epochs: int, batches_per_epoch: int, max_time: Optional[float],
                 spent_before: float = 0.0) -> None:
        self.total_batches = epochs * max(batches_per_epoch, 1)
        self.max_time = max_time
        self.spent_before = spent_before
        self.started = time.perf_counter()
        self.batches_done = 0

    def seconds(self) -> float:
        """Loop time used so far, including the resumed part (s)."""
        return self.spent_before + time.perf_counter() - self.started

    def progress(self) -> float:
        """Fraction of the budget used, in [0, 1]."""
        by_batches = self.batches_done / self.total_batches
        by_time = self.seconds() / self.max_time if self.max_time else 0.0
        return min(1.0, max(by_batches, by_time))

    def out_of_time(self) -> bool:
        """True once the wall-clock limit (if any) is used up."""
        return self.max_time is not None and self.seconds() >= self.max_time
