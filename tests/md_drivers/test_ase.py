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


def test_unknown_element_and_nan_positions_are_clear_errors():
    from ase import Atoms

    calc = EquiforceCalculator(small_model())
    atoms = Atoms("CuFe", positions=[[0, 0, 0], [2, 0, 0]])
    atoms.calc = calc
    with pytest.raises(ValueError, match="Fe not supported"):
        atoms.get_potential_energy()
    atoms = triclinic_cu_au()
    atoms.positions[0, 0] = np.nan
    atoms.calc = calc
    with pytest.raises(ValueError, match="NaN"):
        atoms.get_forces()


def test_file_runs_in_either_dtype_and_a_fixed_module_explains_a_mismatch(tmp_path):
    import torch

    from potentials import ModelFileError, export, load

    path = export(small_model(), tmp_path / "m.pt", dtype=torch.float32)
    atoms = triclinic_cu_au()
    forces = {}
    for dtype in (torch.float32, torch.float64):
        atoms.calc = EquiforceCalculator(path, dtype=dtype)
        assert atoms.calc.potential.dtype == dtype
        forces[dtype] = atoms.get_forces()
    np.testing.assert_allclose(forces[torch.float32], forces[torch.float64], atol=1e-5)
    with pytest.raises(ModelFileError, match="holds a float32 model; load it with fast=True"):
        load(path, dtype=torch.float64, fast=False)


def test_nve_conserves_energy():
    """Velocity Verlet, 1 fs, 32 Cu atoms at 600 K on a smooth random-weight model.

    A sign error or a missing term in the forces makes the total energy fluctuate as much
    as the kinetic energy; correct forces leave only the O(dt^2) integrator error, orders
    of magnitude below it. Bound: std and drift of E_total < 1e-3 x std of E_kinetic.
    """
    from ase import units
    from ase.md.velocitydistribution import thermalize_momenta, Stationary
    from ase.md.verlet import VelocityVerlet

    from tests.structures import relaxing_cu_model

    atoms = cu_fcc_32()
    atoms.calc = EquiforceCalculator(relaxing_cu_model(), skin=1.0)
    thermalize_momenta(atoms, temperature_K=600, rng=np.random.default_rng(0))
    Stationary(atoms)
    dyn = VelocityVerlet(atoms, timestep=1.0 * units.fs)
    total, kinetic = [], []
    for _ in range(150):
        dyn.run(1)
        total.append(atoms.get_total_energy())
        kinetic.append(atoms.get_kinetic_energy())
    kinetic_std = np.std(kinetic)
    assert kinetic_std > 0.05, "the system must actually move"
    assert np.std(total) < 1e-3 * kinetic_std
    assert abs(total[-1] - total[0]) < 1e-3 * kinetic_std
    assert atoms.calc.neighbors.n_builds < 150, "the skin cache should avoid most rebuilds"


def test_bfgs_with_cell_filter_relaxes_forces_and_stress():
    import warnings

    from ase.filters import FrechetCellFilter
    from ase.optimize import BFGS

    from tests.structures import relaxing_cu_model

    atoms = cu_fcc_32()
    atoms.rattle(0.05, seed=3)
    atoms.set_cell(atoms.cell.array @ np.diag([1.02, 0.99, 1.01]), scale_atoms=True)
    atoms.calc = EquiforceCalculator(relaxing_cu_model())
    fmax = 0.005
    assert np.abs(atoms.get_forces()).max() > 10 * fmax
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # scipy logm accuracy notes
        converged = BFGS(FrechetCellFilter(atoms), logfile=None).run(fmax=fmax, steps=300)
    assert converged
    assert np.linalg.norm(atoms.get_forces(), axis=1).max() < fmax
    assert np.abs(atoms.get_stress()).max() * atoms.get_volume() < fmax * 3 * len(atoms)
    distances = atoms.get_all_distances(mic=True)[np.triu_indices(len(atoms), 1)]
    assert distances.min() < 0.8 * atoms.calc.potential.cutoff, "relaxed apart: trivial minimum"


def cu_fcc_32():
    from ase.build import bulk

    return bulk("Cu", "fcc", a=3.61, cubic=True).repeat(2)
