"""The closing energy refit: per-species constants that remove the trained model's mean
energy offset on the training frames.

A network trained mostly on forces can end with a constant energy error per atom (on
single-phase copper, a cohesive energy it has not finished learning: every frame
10.8 meV/atom too high). The per-species constants that minimise the training loss's
energy term, ``sum_f ((E_f - Ê_f - n_f . d) / N_f)^2``, have a closed form (linear least
squares), so training ends by adding them to the reference energies: the model's energy
error on its own training frames can only fall, and its forces and stress are untouched.
"""
from __future__ import annotations

import numpy as np
import torch

from ..config import PotentialConfig
from ..model import EquivariantPotential
from ._batches import Batches

__all__ = ["energy_refit", "with_energy_shifts"]


def energy_refit(model: torch.nn.Module, data: Batches, species: tuple[int, ...],
                 batch_size: int) -> np.ndarray:
    """Per-species corrections ``d`` (eV, in ``species`` order) minimising the squared
    per-atom energy error of ``model`` on ``data`` after ``E -> E + n . d``.

    Least squares on compositions ``n`` (F, S) divided by the atom counts; minimum-norm
    where the compositions do not determine every species (e.g. all frames one ratio).
    """
    predicted = []
    for start in range(0, len(data), batch_size):
        graph, _ = data.batch(range(start, min(start + batch_size, len(data))))
        predicted.append(model(*graph.model_inputs())["energy"].detach().cpu().numpy())
    residual = np.array([f.energy for f in data.frames]) - np.concatenate(predicted)
    counts = np.array([[np.count_nonzero(f.atoms.numbers == z) for z in species]
                       for f in data.frames], dtype=float)
    atoms = counts.sum(axis=1, keepdims=True)
    correction, *_ = np.linalg.lstsq(counts / atoms, residual / atoms[:, 0], rcond=None)
    return correction


def with_energy_shifts(model: EquivariantPotential, shifts) -> EquivariantPotential:
    """A copy of ``model`` whose per-species reference energies are ``shifts`` (eV)."""
    config: PotentialConfig = model.config.replace(
        atomic_energy_shifts=tuple(float(s) for s in shifts))
    first = next(model.parameters())
    shifted = EquivariantPotential(config, dtype=first.dtype, device=first.device,
                                   ops=model.ops)
    state = dict(model.state_dict())
    state["energy_shifts"] = torch.tensor(config.atomic_energy_shifts, dtype=state[
        "energy_shifts"].dtype, device=state["energy_shifts"].device)
    shifted.load_state_dict(state)
    return shifted.train(model.training)
