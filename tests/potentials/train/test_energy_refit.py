"""The closing energy refit: it recovers known per-species offsets and moves energies
only (the refit of a training run: tests/potentials/train/test_bulk_slab.py)."""
import dataclasses

import numpy as np
import pytest
import torch

from potentials import EquivariantPotential
from potentials.train import read_frames
from potentials.train._batches import Batches
from potentials.train._energy_refit import energy_refit, with_energy_shifts
from potentials.train.reference import is_isolated_atom

from ._bulk_slab import bulk_slab_config, write_bulk_slab

OFFSETS = np.array([0.013, -0.021])   # eV per Cu, per Au atom


@pytest.fixture(scope="module")
def frames(tmp_path_factory):
    path = write_bulk_slab(tmp_path_factory.mktemp("refit") / "d.extxyz")
    return [f for f in read_frames(path) if not is_isolated_atom(f.atoms, 4.0)]


def _model():
    config = bulk_slab_config("unused", "unused").model
    torch.manual_seed(3)
    return EquivariantPotential(config.replace(atomic_energy_shifts=(-1.0, 2.0))).eval()


def test_refit_recovers_known_offsets_per_species(frames):
    """Labels = the model's own energies + known per-species offsets: the refit is them."""
    model = _model()
    data = Batches(frames, model.config, torch.float64)
    own = [float(model(*data.batch([i])[0].model_inputs())["energy"].detach())
           for i in range(len(data))]
    counts = [np.array([np.sum(f.atoms.numbers == z) for z in (29, 79)]) for f in frames]
    labelled = [dataclasses.replace(f, energy=e + float(c @ OFFSETS))
                for f, e, c in zip(frames, own, counts)]
    assert len({tuple(c / c.sum()) for c in counts}) > 1     # compositions determine both
    correction = energy_refit(model, Batches(labelled, model.config, torch.float64),
                              (29, 79), batch_size=3)
    np.testing.assert_allclose(correction, OFFSETS, atol=1e-9)


def test_shifted_model_moves_energies_only(frames):
    model = _model()
    shifted = with_energy_shifts(model, np.array([-1.0, 2.0]) + OFFSETS).eval()
    graph, _ = Batches(frames[:2], model.config, torch.float64).batch([0, 1])
    before, after = model(*graph.model_inputs()), shifted(*graph.model_inputs())
    counts = np.array([[np.sum(f.atoms.numbers == z) for z in (29, 79)] for f in frames[:2]])
    np.testing.assert_allclose(after["energy"].detach() - before["energy"].detach(),
                               counts @ OFFSETS, atol=1e-12)
    assert torch.equal(after["forces"], before["forces"])
    assert torch.equal(after["stress"], before["stress"])
