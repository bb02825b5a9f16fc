"""Reading, validating, splitting and summarising training data."""
import numpy as np
import pytest
from ase import Atoms
from ase.build import bulk, molecule
from ase.calculators.emt import EMT
from ase.calculators.singlepoint import SinglePointCalculator
from ase.io import write

from potentials.train import (DataError, LabelKeys, fit_reference_energies,
                              frames_from_structures, read_frames, split_indices)


def labelled(atoms, energy=1.0, forces=None, stress=None):
    atoms = atoms.copy()
    results = {"energy": energy, "forces": np.zeros((len(atoms), 3)) if forces is None else forces}
    if stress is not None:
        results["stress"] = stress
    atoms.calc = SinglePointCalculator(atoms, **results)
    return atoms


def energy_only(atoms):
    atoms.info["energy"] = -1.0
    return atoms


def test_reference_energies_recover_known_shifts():
    rng = np.random.default_rng(0)
    species, shifts = (1, 8, 29), np.array([-13.6, -432.1, -1650.3])
    frames = []
    for _ in range(30):
        numbers = rng.choice(species, size=rng.integers(3, 12))
        counts = np.array([np.count_nonzero(numbers == z) for z in species])
        atoms = Atoms(numbers=numbers, positions=rng.normal(size=(len(numbers), 3)) * 3)
        frames.append(labelled(atoms, energy=counts @ shifts + rng.normal(0, 1e-3)))
    fitted = fit_reference_energies(frames_from_structures(frames), species)
    np.testing.assert_allclose(fitted, shifts, atol=2e-3)


def test_custom_label_keys_from_extxyz(tmp_path):
    atoms = molecule("H2O")
    atoms.info["REF_energy"] = -14.2
    atoms.arrays["REF_forces"] = np.arange(9.0).reshape(3, 3)
    path = tmp_path / "data.extxyz"
    write(path, [atoms, atoms])
    frames = read_frames(path, LabelKeys(energy="REF_energy", forces="REF_forces"))
    assert len(frames) == 2 and frames[1].energy == -14.2
    np.testing.assert_array_equal(frames[0].forces, np.arange(9.0).reshape(3, 3))


def test_stress_in_voigt_becomes_3x3():
    atoms = bulk("Cu", cubic=True)
    frame = frames_from_structures([labelled(atoms, stress=np.array([1, 2, 3, 4, 5, 6.0]))])[0]
    np.testing.assert_array_equal(frame.stress, [[1, 6, 5], [6, 2, 4], [5, 4, 3]])


@pytest.mark.parametrize("make_bad, message", [
    (lambda a: energy_only(a), "frame 2: no forces"),
    (lambda a: labelled(a, energy=np.nan), "frame 2: energy or forces contain NaN"),
    (lambda a: labelled(a, forces=np.zeros((2, 3))), r"frame 2: forces have shape \(2, 3\), expected \(3, 3\)"),
    (lambda a: labelled(Atoms("FeO2", positions=a.positions)), "frame 2: element.s. Fe outside the model's species H, O"),
])
def test_malformed_frames_are_reported_by_index(make_bad, message):
    good = labelled(molecule("H2O"))
    bad = make_bad(molecule("H2O"))
    with pytest.raises(DataError, match="mine.extxyz: " + message):
        frames_from_structures([good, good, bad, good], species=(1, 8), source="mine.extxyz")


def test_malformed_frame_in_a_file_names_the_file_and_index(tmp_path):
    good = labelled(molecule("H2O"))
    path = tmp_path / "data.extxyz"
    write(path, [good, good, good, energy_only(molecule("H2O"))])
    with pytest.raises(DataError, match="data.extxyz: frame 3: no forces"):
        read_frames(path, species=(1, 8))


def test_missing_energy_names_the_key():
    atoms = molecule("H2O")
    atoms.arrays["forces"] = np.zeros((3, 3))
    with pytest.raises(DataError, match="structures: frame 0: no energy .*'REF_energy'"):
        frames_from_structures([atoms], LabelKeys(energy="REF_energy"))


def test_pymatgen_structures_with_labels():
    from pymatgen.core import Lattice, Structure

    structure = Structure(Lattice.cubic(3.6), ["Cu"], [[0, 0, 0]],
                          site_properties={"forces": [[0.1, 0.2, 0.3]]},
                          properties={"energy": -3.5})
    frame = frames_from_structures([structure])[0]
    assert frame.energy == -3.5 and frame.atoms.pbc.all()
    np.testing.assert_array_equal(frame.forces, [[0.1, 0.2, 0.3]])


def test_splits_are_deterministic_disjoint_and_complete():
    a = split_indices(50, (0.7, 0.2, 0.1), seed=3)
    b = split_indices(50, (0.7, 0.2, 0.1), seed=3)
    c = split_indices(50, (0.7, 0.2, 0.1), seed=4)
    assert all(np.array_equal(x, y) for x, y in zip(a, b))
    assert not np.array_equal(a[0], c[0])
    assert sorted(np.concatenate(a).tolist()) == list(range(50))
    assert [len(x) for x in a] == [35, 10, 5]
    with pytest.raises(ValueError, match="sum"):
        split_indices(10, (0.5, 0.2, 0.1))


def _labelled_cu(seed=0):
    atoms = bulk("Cu", "fcc", a=3.6).repeat((2, 2, 2))
    atoms.rattle(0.05, seed=seed)
    atoms.calc = EMT()
    return atoms, atoms.get_potential_energy(), atoms.get_forces(), atoms.get_stress(voigt=False)


def _mace_style_extxyz(path, frames, stress_key="REF_stress", virial=False):
    """Write frames the way MACE's data files hold them (written out by hand, not by ASE):
    REF_energy and a 9-number REF_stress (or REF_virials) in the comment line, REF_forces
    as a per-atom column."""
    lines = []
    for atoms, energy, forces, stress in frames:
        cell = " ".join(f"{x:.10f}" for x in atoms.cell.array.reshape(-1))
        label = -stress * atoms.cell.volume if virial else stress
        values = " ".join(f"{x:.12e}" for x in label.reshape(-1))
        key = "REF_virials" if virial else stress_key
        lines += [str(len(atoms)), f'Lattice="{cell}" Properties=species:S:1:pos:R:3:'
                  f'REF_forces:R:3 REF_energy={energy:.12f} {key}="{values}" pbc="T T T"']
        for symbol, position, force in zip(atoms.get_chemical_symbols(), atoms.positions, forces):
            lines.append(f"{symbol} " + " ".join(f"{x:.10f}" for x in (*position, *force)))
    path.write_text("\n".join(lines) + "\n")


@pytest.mark.parametrize("virial", [False, True], ids=["REF_stress (9 numbers)", "REF_virials"])
def test_mace_style_labels_load_without_conversion(tmp_path, virial):
    frames = [_labelled_cu(seed) for seed in range(2)]
    path = tmp_path / "mace.extxyz"
    _mace_style_extxyz(path, frames, virial=virial)
    loaded = read_frames(path)
    for frame, (atoms, energy, forces, stress) in zip(loaded, frames):
        assert frame.energy == pytest.approx(energy, abs=1e-10)
        np.testing.assert_allclose(frame.forces, forces, atol=1e-9)
        np.testing.assert_allclose(frame.stress, stress, atol=1e-9)


def test_a_wrong_stress_shape_still_names_the_frame(tmp_path):
    atoms, energy, forces, stress = _labelled_cu()
    path = tmp_path / "mace.extxyz"
    _mace_style_extxyz(path, [(atoms, energy, forces, stress[:2, :2])])
    with pytest.raises(DataError, match=r"mace.extxyz: frame 0: stress has shape \(4,\)"):
        read_frames(path)


def test_a_mace_style_file_trains_without_conversion(tmp_path):
    from potentials import PotentialConfig
    from potentials.train import OptimSettings, TrainConfig, train
    from potentials.train.config import DataSettings

    path = tmp_path / "mace.extxyz"
    _mace_style_extxyz(path, [_labelled_cu(seed) for seed in range(6)])
    config = TrainConfig(data=DataSettings(str(path), split=(0.5, 0.5, 0.0)),
                         model=PotentialConfig(species=(29,), cutoff=4.0, l_max=1, channels=4,
                                               correlation=2, num_radial=4, radial_hidden=8,
                                               readout_hidden=4),
                         training=OptimSettings(epochs=1, batch_size=2), output=str(tmp_path / "run"))
    result = train(config, progress=False)
    assert result.valid_metrics["stress_mae"] > 0  # stress was read and used
