"""The halo evaluator on explicit images equals the periodic calculator (no LAMMPS needed).

The reference is the ASE calculator on the periodic structure: its neighbour list uses
cell shifts, the halo evaluator sees only explicit coordinates, as a LAMMPS rank does."""
import numpy as np
import pytest
from ase.build import bulk

from md_drivers.lammps import HaloEvaluator, ghost_cutoff
from potentials import DeployedPotential, load
from tests.md_drivers.lammps._images import ase_reference, with_images
from tests.structures import small_model, triclinic_cu_au


@pytest.fixture(scope="module")
def potential():
    return DeployedPotential.from_model(small_model(cutoff=3.0))


def split_evaluation(atoms, potential, masks):
    """Energy, forces and virial summed over 'ranks' that each own the atoms of a mask."""
    energy, forces, virial = 0.0, np.zeros((len(atoms), 3)), np.zeros((3, 3))
    for mask in masks:
        positions, numbers, nlocal = with_images(atoms, mask, ghost_cutoff(potential) + 0.5)
        result = HaloEvaluator(potential, skin=0.5)(positions, numbers, nlocal)
        energy += result.energy
        forces[np.flatnonzero(mask)] = result.forces
        virial += result.virial
        assert result.atoms_evaluated < len(positions)  # far ghosts are pruned
    return energy, forces, virial


@pytest.mark.parametrize("ranks", [1, 2, 3])
def test_two_species_triclinic_cell_split_over_ranks(potential, ranks):
    atoms = triclinic_cu_au()
    owner = np.arange(len(atoms)) % ranks
    energy, forces, virial = split_evaluation(atoms, potential,
                                              [owner == r for r in range(ranks)])
    ref_energy, ref_forces, ref_virial = ase_reference(atoms, potential)
    assert energy == pytest.approx(ref_energy, rel=1e-12)
    np.testing.assert_allclose(forces, ref_forces, rtol=0, atol=1e-10 * np.abs(ref_forces).max())
    np.testing.assert_allclose(virial, ref_virial, rtol=0, atol=1e-10 * np.abs(ref_virial).max())


def test_box_much_smaller_than_the_halo():
    """4 Cu atoms in a 3.6 A cell with cu-emt (ghost cutoff 18 A): many images of each atom."""
    potential = load("cu-emt", dtype="float64")
    atoms = bulk("Cu", "fcc", a=3.61, cubic=True)
    atoms.rattle(0.05, seed=3)
    energy, forces, virial = split_evaluation(atoms, potential, [np.array([1, 1, 0, 0], bool),
                                                                 np.array([0, 0, 1, 1], bool)])
    ref_energy, ref_forces, ref_virial = ase_reference(atoms, potential)
    assert energy == pytest.approx(ref_energy, rel=1e-12)
    np.testing.assert_allclose(forces, ref_forces, atol=1e-10 * np.abs(ref_forces).max())
    np.testing.assert_allclose(virial, ref_virial, atol=1e-10 * np.abs(ref_virial).max())


def test_a_rank_without_atoms_contributes_nothing(potential):
    atoms = triclinic_cu_au()
    positions, numbers, _ = with_images(atoms, np.ones(len(atoms), bool), 1.0)
    result = HaloEvaluator(potential)(positions, numbers, 0)
    assert result.energy == 0.0 and result.forces.shape == (0, 3) and not result.virial.any()


def test_too_small_a_halo_is_inexact(potential):
    """The check can fail: ghosts out to one cutoff only (what a pair potential needs)."""
    atoms = triclinic_cu_au()
    mask = np.arange(len(atoms)) < 4
    positions, numbers, nlocal = with_images(atoms, mask, potential.cutoff)
    result = HaloEvaluator(potential)(positions, numbers, nlocal)
    _, ref_forces, _ = ase_reference(atoms, potential)
    assert np.abs(result.forces - ref_forces[mask]).max() > 1e-6


def test_verlet_list_is_reused_and_rebuilt_on_new_ids(potential):
    atoms = triclinic_cu_au()
    positions, numbers, nlocal = with_images(atoms, np.ones(len(atoms), bool), 12.5)
    evaluator = HaloEvaluator(potential, skin=0.5)
    ids = np.arange(len(positions))
    first = evaluator(positions, numbers, nlocal, ids)
    moved = positions + 0.01
    again = evaluator(moved, numbers, nlocal, ids)
    assert evaluator.builds == 1
    fresh = HaloEvaluator(potential, skin=0.5)(moved, numbers, nlocal, ids)
    np.testing.assert_allclose(again.forces, fresh.forces, atol=1e-12)
    evaluator(moved, numbers, nlocal, ids[::-1].copy())
    assert evaluator.builds == 2 and first.atoms_evaluated > 0


def test_an_exported_module_is_refused_naming_the_fix(potential, tmp_path):
    from potentials import export

    module = load(export(small_model(cutoff=3.0), tmp_path / "m.pt"), fast=False)
    with pytest.raises(ValueError, match="fast=True"):
        HaloEvaluator(module)
