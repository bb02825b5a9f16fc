"""Training frames as batches of graphs with their labels, and their evaluation."""
from __future__ import annotations

from typing import Dict, Optional, Sequence

import numpy as np
import torch

from ..config import PotentialConfig
from ..graph import AtomicGraph, atoms_to_graph, batch_graphs
from .data import Frame
from .metrics import ErrorAccumulator, Targets

__all__ = ["Batches", "evaluate"]

UNLABELLED = "unlabelled"


class Batches:
    """Graphs (neighbour lists built once), labels and configuration kinds of frames.

    ``kinds`` is None when no frame names its kind; otherwise frames without one are
    ``"unlabelled"``."""

    def __init__(self, frames: Sequence[Frame], config: PotentialConfig, dtype: torch.dtype):
        self.graphs = [atoms_to_graph(f.atoms, config.cutoff, config.species, dtype=dtype)
                       for f in frames]
        self.frames = list(frames)
        self.dtype = dtype
        named = any(f.config_type is not None for f in frames)
        self.kinds: Optional[list[str]] = (
            [f.config_type or UNLABELLED for f in frames] if named else None)

    def __len__(self) -> int:
        return len(self.graphs)

    def batch(self, indices: Sequence[int]) -> tuple[AtomicGraph, Targets]:
        frames = [self.frames[i] for i in indices]
        zeros = np.zeros((3, 3))
        targets = Targets(
            energy=torch.tensor([f.energy for f in frames], dtype=self.dtype),
            forces=torch.tensor(np.concatenate([f.forces for f in frames]), dtype=self.dtype),
            stress=torch.tensor(np.stack([zeros if f.stress is None else f.stress for f in frames]),
                                dtype=self.dtype),
            has_stress=torch.tensor([f.stress is not None and f.atoms.pbc.all() for f in frames]))
        return batch_graphs([self.graphs[i] for i in indices]), targets

    def kinds_of(self, indices: Sequence[int]) -> Optional[list[str]]:
        return None if self.kinds is None else [self.kinds[i] for i in indices]


def evaluate(model: torch.nn.Module, data: Batches,
             batch_size: int) -> tuple[Dict[str, float], Dict[str, Dict[str, float]]]:
    """Errors over all frames and per configuration kind (see ``ErrorAccumulator``)."""
    errors = ErrorAccumulator()
    for start in range(0, len(data), batch_size):
        indices = range(start, min(start + batch_size, len(data)))
        graph, targets = data.batch(indices)
        errors.add(model(*graph.model_inputs()), targets, graph, data.kinds_of(indices))
    return errors.result(), errors.result_by_kind()
