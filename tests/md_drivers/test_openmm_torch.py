"""OpenMM driver, openmm-torch TorchForce backend (``make test-openmm-torch``).

openmm-torch 1.5 works only beside torch 2.9.1, so these tests run in the second
environment (.venv-openmm-torch); in the main one they are skipped, unless
EQUIFORCE_REQUIRE_OPENMM_TORCH=1 (set by the make target) turns a skip into a failure.
"""
import os

import numpy as np
import openmm
import pytest
import torch  # noqa: F401  (openmmtorch needs torch's libraries loaded first)
from ase.build import bulk

from md_drivers.openmm import create_force, torch_force_problem
from potentials import export
from tests.md_drivers._openmm_helpers import (EV_KJ, STRUCTURES, assert_close, ase_energy_forces,
                                              context_for, ethanol_beside_copper, nve_energies,
                                              openmm_energy_forces, openmm_system)
from tests.structures import ethanol, small_model, triclinic_cu_au

pytestmark = pytest.mark.openmm_torch

if torch_force_problem() is not None:
    if os.environ.get("EQUIFORCE_REQUIRE_OPENMM_TORCH"):
        raise RuntimeError(f"openmm-torch required but unusable: {torch_force_problem()}")
    pytest.skip(f"openmm-torch unusable here: {torch_force_problem()}", allow_module_level=True)

import openmmtorch  # noqa: E402


@pytest.fixture(scope="module")
def model():
    return small_model()


@pytest.mark.parametrize("platform", ["Reference", "CPU"])
@pytest.mark.parametrize("name", sorted(STRUCTURES))
def test_torch_force_matches_ase_calculator(model, name, platform):
    atoms = STRUCTURES[name]()
    force = create_force(model, atoms.numbers, backend="torch", periodic=bool(atoms.pbc.any()))
    assert isinstance(force, openmmtorch.TorchForce)
    assert_close(openmm_energy_forces(force, atoms, platform), ase_energy_forces(model, atoms))


def test_torch_force_from_exported_file(tmp_path, model):
    atoms = triclinic_cu_au()
    path = export(model, tmp_path / "model.pt")
    force = create_force(path, atoms.numbers, backend="torch", periodic=True)
    assert_close(openmm_energy_forces(force, atoms), ase_energy_forces(model, atoms))


def test_torch_force_ignores_translation_by_box_vectors(model):
    atoms = triclinic_cu_au()
    forces = [create_force(model, atoms.numbers, backend="torch", periodic=True) for _ in "ab"]
    moved = atoms.copy()
    moved.positions[1::2] -= 2 * atoms.cell[0] - atoms.cell[2]
    assert_close(openmm_energy_forces(forces[0], moved), openmm_energy_forces(forces[1], atoms),
                 1e-10)


def test_torch_subset_force(model):
    atoms, n_ethanol = ethanol_beside_copper()
    subset = list(range(n_ethanol))[::-1]
    force = create_force(model, atoms.numbers, atoms=subset, backend="torch")
    energy, forces = openmm_energy_forces(force, atoms)
    assert np.all(forces[n_ethanol:] == 0.0)
    assert_close((energy, forces[subset]), ase_energy_forces(model, atoms[subset]))


def test_auto_backend_picks_torch_here(model):
    assert isinstance(create_force(model, [1, 6, 8], backend="auto"), openmmtorch.TorchForce)


def test_torch_force_nve_conserves_energy():
    atoms = bulk("Cu", "fcc", a=3.61, cubic=True).repeat(2)
    atoms.rattle(0.05, seed=0)
    force = create_force("cu-emt", atoms.numbers, backend="torch", periodic=True)
    kinetic, total = nve_energies(force, atoms, chunks=40)
    assert np.std(kinetic) > 1.0
    assert np.std(total) < 1e-2 * np.std(kinetic)


def test_openmmml_plugin_with_the_torch_backend(tmp_path, model):
    """MLPotential("equiforce").createSystem(..., backend="torch") puts a TorchForce in."""
    import openmm.app as app
    from openmmml import MLPotential

    atoms = ethanol()
    topology = app.Topology()
    residue = topology.addResidue("MOL", topology.addChain())
    for z in atoms.numbers:
        topology.addAtom(str(z), app.Element.getByAtomicNumber(int(z)), residue)
    path = export(model, tmp_path / "model.pt")
    system = MLPotential("equiforce", modelPath=str(path)).createSystem(topology, backend="torch")
    assert 'type="TorchForce"' in openmm.XmlSerializer.serialize(system)
    context = context_for(system, atoms)
    state = context.getState(getEnergy=True)
    energy = state.getPotentialEnergy().value_in_unit(openmm.unit.kilojoule_per_mole) / EV_KJ
    assert energy == pytest.approx(ase_energy_forces(model, atoms)[0], rel=1e-9)


def test_graph_safe_force_matches_ase_and_its_guard_grows_the_buffer(model):
    """The fixed-buffer module (what CUDA graphs run; here on the Reference platform) gives
    the ASE calculator's energy and forces; from a too-small buffer the guard grows it and
    the trajectory equals one run with enough room from the start (no step taken with
    missing pairs)."""
    from md_drivers.openmm import PairCapacityGuard
    from tests.md_drivers.test_openmm_fixed_pairs import reduced_box_crystal

    atoms = reduced_box_crystal()

    def make(capacity):
        return create_force(model, atoms.numbers, backend="torch", periodic=True,
                            pair_capacity=capacity)

    assert_close(openmm_energy_forces(make(2000), atoms), ase_energy_forces(model, atoms))
    positions = []
    velocities = np.random.default_rng(7).normal(0.0, 0.3, (len(atoms), 3))   # nm/ps
    for capacity in (2000, 100):
        context = context_for(openmm_system(make(capacity), atoms), atoms)
        context.setVelocities(velocities)   # (setVelocitiesToTemperature would use forces)
        guard = PairCapacityGuard(context, 0, make, capacity, interval=4)
        guard.step(10)
        assert guard.pair_count() > 100 and guard.n_grown == (capacity == 100)
        positions.append(context.getState(getPositions=True).getPositions(asNumpy=True)._value)
    np.testing.assert_allclose(positions[1], positions[0], rtol=0, atol=1e-12)
