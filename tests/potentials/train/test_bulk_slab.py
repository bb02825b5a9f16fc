"""Training on Cu-Au bulk + slab data with isolated atoms: reference energies equal EMT's
free-atom energies, and the per-configuration-kind errors are correct (checked against
labels shifted by known constants), and the run ends with the energy refit. One trained
model serves every test."""
import dataclasses
import json

import numpy as np
import pytest
import torch
from ase import Atoms
from ase.calculators.emt import EMT

from potentials import load
from potentials.checkpoint import load_checkpoint
from potentials.testing import evaluate
from potentials.train import read_frames, train
from potentials.train._batches import Batches, evaluate as evaluate_errors
from potentials.train._energy_refit import with_energy_shifts
from potentials.train.data import split_indices
from potentials.train.reference import is_isolated_atom, reference_energies

from ._bulk_slab import bulk_slab_config, write_bulk_slab


# one worker builds the module-scoped fixture, once (pytest-xdist --dist loadgroup)
pytestmark = pytest.mark.xdist_group("bulk_slab")


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    root = tmp_path_factory.mktemp("bulk_slab")
    data = write_bulk_slab(root / "train.extxyz")
    heldout = write_bulk_slab(root / "heldout.extxyz", seed=1, isolated_atoms=False)
    result = train(bulk_slab_config(data, root / "run", test_path=heldout, epochs=1),
                   progress=False)
    return result, heldout


def test_the_report_splits_errors_by_kind_in_every_output(trained):
    result, heldout = trained
    by_kind = result.test_metrics_by_kind
    assert set(by_kind) == {"strained", "surface"}        # isolated atoms are not test frames
    assert "stress_mae" in by_kind["strained"] and "stress_mae" not in by_kind["surface"]
    stored = json.loads((result.output / "metrics.json").read_text())["test_by_kind"]
    provenance = load(result.deployed_path).metadata["provenance"]
    for kind, metrics in by_kind.items():
        assert stored[kind] == pytest.approx(metrics)
        assert provenance["test_metrics_by_kind"][kind] == pytest.approx(metrics)
    assert provenance["num_frames"]["test"] == len(read_frames(heldout))
    # the overall error is the frame-weighted mean of the kinds' errors
    counts = {kind: sum(f.config_type == kind for f in read_frames(heldout)) for kind in by_kind}
    mean = sum(counts[k] * by_kind[k]["energy_me"] for k in by_kind) / sum(counts.values())
    assert result.test_metrics["energy_me"] == pytest.approx(mean)


def test_a_constant_shift_per_kind_is_reported_as_that_shift(trained):
    """Shift every reference energy by a per-kind constant per atom: the model's signed
    error per kind moves by minus that constant, its MAE equals it, forces do not move."""
    result, heldout = trained
    model = load(result.deployed_path)
    frames = read_frames(heldout)
    shift = {"strained": 0.25, "surface": -0.4}                  # eV/atom, far above the error
    moved = [dataclasses.replace(f, energy=f.energy + shift[f.config_type] * len(f.atoms))
             for f in frames]
    config = model.config

    def errors(frames):
        return evaluate_errors(model, Batches(frames, config, torch.float64), 4)[1]

    before, after = errors(frames), errors(moved)
    for kind, value in shift.items():
        assert after[kind]["energy_me"] == pytest.approx(before[kind]["energy_me"] - 1e3 * value)
        # |mean|e - s| - |s|| <= mean|e| (triangle inequality; equal when all e share a sign)
        assert abs(after[kind]["energy_mae"] - 1e3 * abs(value)) <= \
            before[kind]["energy_mae"] + 1e-6
        assert after[kind]["forces_mae"] == before[kind]["forces_mae"]
    assert np.isclose(after["strained"]["energy_me"] - after["surface"]["energy_me"],
                      before["strained"]["energy_me"] - before["surface"]["energy_me"] - 650)


def emt_free_atom(symbol):
    atoms = Atoms(symbol, positions=[[0.0, 0.0, 0.0]])
    atoms.calc = EMT()
    return atoms.get_potential_energy()


def test_trained_model_has_emts_free_atom_energies(trained):
    """The reference energies are EMT's free atoms; the model's free atom is that plus
    the closing energy refit it records (large here: one epoch has not yet learnt the
    cohesive energy, which the refit then carries)."""
    result, _ = trained
    model = load(result.deployed_path)
    expected = [emt_free_atom("Cu"), emt_free_atom("Au")]
    provenance = model.metadata["provenance"]["reference_energies"]
    assert provenance["method"] == "isolated"
    assert provenance["eV"] == pytest.approx({"Cu": expected[0], "Au": expected[1]}, abs=1e-12)
    refit = [provenance["refit_eV"][s] for s in ("Cu", "Au")]
    assert np.all(np.isfinite(refit)) and max(abs(r) for r in refit) > 0
    free_atom = np.add(expected, refit)
    np.testing.assert_allclose(model.config.atomic_energy_shifts, free_atom, atol=1e-12)
    for symbol, energy in zip(("Cu", "Au"), free_atom):            # the model's free atom
        atom = Atoms(symbol, positions=[[1.0, 2.0, 3.0]], cell=np.eye(3) * 20, pbc=True)
        assert evaluate(model, atom)["energy"] == pytest.approx(energy, abs=1e-12)


def test_without_the_refit_the_free_atom_is_emts_exactly(tmp_path):
    data = write_bulk_slab(tmp_path / "train.extxyz")
    result = train(bulk_slab_config(data, tmp_path / "run", epochs=1, energy_refit=False),
                   progress=False)
    model = load(result.deployed_path)
    provenance = model.metadata["provenance"]["reference_energies"]
    assert provenance["refit_eV"] is None
    for symbol in ("Cu", "Au"):
        atom = Atoms(symbol, positions=[[1.0, 2.0, 3.0]], cell=np.eye(3) * 20, pbc=True)
        assert evaluate(model, atom)["energy"] == pytest.approx(emt_free_atom(symbol),
                                                               abs=1e-12)


def test_without_isolated_atoms_auto_fits_and_isolated_is_refused(tmp_path):
    frames = read_frames(write_bulk_slab(tmp_path / "d.extxyz", isolated_atoms=False,
                                         structures=1))
    assert reference_energies(frames, (29, 79), 4.0).method == "fit"
    with pytest.raises(ValueError, match="no isolated-atom frame.*Cu, Au"):
        reference_energies(frames, (29, 79), 4.0, "isolated")
    one_cu = read_frames(write_bulk_slab(tmp_path / "i.extxyz", structures=1))[-2:-1]
    assert reference_energies(frames + one_cu, (29, 79), 4.0).method == "fit"  # Au has none


def test_the_run_ends_with_a_refit_that_lowers_its_training_energy_error(trained):
    """Last in this module: it resumes the shared run (which must not refit again)."""
    result, heldout = trained
    data = result.output.parent / "train.extxyz"
    best, payload = load_checkpoint(result.output / "best.pt")
    refit = np.array([payload["energy_refit_eV"][s] for s in ("Cu", "Au")])
    unrefit = with_energy_shifts(best, np.array(best.config.atomic_energy_shifts) - refit)
    config = bulk_slab_config(data, result.output, test_path=heldout, epochs=1)
    frames = [f for f in read_frames(data) if not is_isolated_atom(f.atoms, 4.0)]
    train_idx = split_indices(len(frames), config.data.split, config.training.seed)[0]
    train_data = Batches([frames[i] for i in train_idx], best.config, torch.float64)
    after = evaluate_errors(best.eval(), train_data, 4)[0]
    before = evaluate_errors(unrefit.eval(), train_data, 4)[0]
    assert after["energy_rmse"] < before["energy_rmse"]
    assert after["forces_mae"] == pytest.approx(before["forces_mae"], abs=1e-9)
    assert load(result.deployed_path).config.atomic_energy_shifts == best.config.atomic_energy_shifts
    again = train(config, resume=True, progress=False)
    _, payload_again = load_checkpoint(result.output / "best.pt")
    assert payload_again["energy_refit_eV"] == payload["energy_refit_eV"]
    assert again.valid_metrics == pytest.approx(result.valid_metrics)
