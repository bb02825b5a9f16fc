"""EquiforceCalculator against ASE's own finite-difference references."""
import numpy as np
import pytest
from ase.calculators.calculator import PropertyNotImplementedError
from ase.calculators.fd import calculate_numerical_forces, calculate_numerical_stress

from md_drivers import EquiforceCalculator
from tests.structures import cu_slab, ethanol, small_model, triclinic_cu_au


def test_forces_match_ase_numeric_forces():
    atoms = triclinic_cu_au()
    atoms.calc = EquiforceCalculator(small_model(correlation=3))
    forces = atoms.get_forces()
    reference = calculate_numerical_forces(atoms, eps=1e-5)
    np.testing.assert_allclose(forces, reference, atol=1e-7 * np.abs(reference).max())


@pytest.mark.parametrize("make_atoms", [triclinic_cu_au, cu_slab])
def test_stress_matches_ase_numerical_stress(make_atoms):
    atoms = make_atoms()
    atoms.calc = EquiforceCalculator(small_model(correlation=3))
    stress = atoms.get_stress()
    reference = calculate_numerical_stress(atoms, eps=1e-5, force_consistent=False)
    assert np.abs(reference).max() > 1e-4
    np.testing.assert_allclose(stress, reference, atol=1e-7 * np.abs(reference).max())


def test_molecule_has_forces_but_no_stress():
    atoms = ethanol()
    atoms.calc = EquiforceCalculator(small_model())
    assert atoms.get_forces().shape == (len(atoms), 3)
    assert atoms.get_potential_energies().sum() == pytest.approx(atoms.get_potential_energy())
    with pytest.raises(PropertyNotImplementedError):
        atoms.get_stress()


def test_calculator_does_not_modify_the_users_model():
    model = small_model().train()
    EquiforceCalculator(model, dtype=None)
    assert model.training
