"""Shipped potentials load by name and reproduce held-out reference data as their cards state."""
import numpy as np
import pytest

from md_drivers import EquiforceCalculator
from potentials import load
from potentials.pretrained import available, heldout_path
from potentials.train import read_frames

# Accuracy on the held-out frames as stated in docs/models/NAME.md (meV/atom, meV/A).
STATED = {"cu-emt": {"energy_mae": 2.0, "forces_mae": 15.0},
          "ethanol-xtb": {"energy_mae": 2.0, "forces_mae": 50.0},
          "cu-emt-seed1": {"energy_mae": 2.0, "forces_mae": 15.0},
          "cu-emt-seed2": {"energy_mae": 2.0, "forces_mae": 15.0},
          "cu-emt-learn": {"energy_mae": 5.0, "forces_mae": 15.0},
          "villin-amber14": {"energy_mae": 2.0, "forces_mae": 160.0}}


def test_every_shipped_potential_has_a_card_and_stated_accuracy():
    from pathlib import Path

    docs = Path(__file__).resolve().parents[2] / "docs" / "models"
    assert set(available()) == set(STATED)
    for name in available():
        assert (docs / f"{name}.md").is_file()


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("name", sorted(STATED))
def test_shipped_potential_reproduces_heldout_frames(name, dtype):
    """Both precisions of the default (fast) path meet the card's stated accuracy."""
    potential = load(name, dtype=dtype)
    assert potential.path.name == f"{name}.pt" and potential.format == "fast"
    assert potential.metadata["dtype"] == dtype
    frames = read_frames(heldout_path(name), species=potential.species)
    calc = EquiforceCalculator(potential)
    energy_errors, force_errors = [], []
    for frame in frames:
        atoms = frame.atoms.copy()
        atoms.calc = calc
        energy_errors.append((atoms.get_potential_energy() - frame.energy) / len(atoms))
        force_errors.append((atoms.get_forces() - frame.forces).ravel())
    energy_mae = 1e3 * np.mean(np.abs(energy_errors))
    forces_mae = 1e3 * np.mean(np.abs(np.concatenate(force_errors)))
    assert energy_mae < STATED[name]["energy_mae"], energy_mae
    assert forces_mae < STATED[name]["forces_mae"], forces_mae


def test_unknown_name_lists_the_shipped_ones():
    with pytest.raises(FileNotFoundError, match="shipped potentials: .*cu-emt"):
        load("no-such-potential")
