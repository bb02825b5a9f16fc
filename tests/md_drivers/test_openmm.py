"""OpenMM driver (PythonForce backend) against the ASE calculator and physical checks."""
import logging
import pickle

import numpy as np
import openmm
import openmm.app as app
import pytest
from ase.build import bulk

from md_drivers.openmm import create_force, torch_force_problem
from md_drivers.testing import evaluate_system
from potentials import export
from tests.md_drivers._openmm_helpers import (STRUCTURES, assert_close, ase_energy_forces,
                                              context_for, ethanol_beside_copper, nve_energies,
                                              openmm_energy_forces, openmm_system)
from tests.structures import ethanol, small_model, triclinic_cu_au


@pytest.fixture(scope="module")
def model():
    return small_model()


@pytest.mark.parametrize("platform", ["Reference", "CPU"])
@pytest.mark.parametrize("name", sorted(STRUCTURES))
def test_python_force_matches_ase_calculator(model, name, platform):
    atoms = STRUCTURES[name]()
    force = create_force(model, atoms.numbers, backend="python", periodic=bool(atoms.pbc.any()))
    assert_close(openmm_energy_forces(force, atoms, platform), ase_energy_forces(model, atoms))


def test_periodic_force_ignores_translation_by_box_vectors(model):
    atoms = triclinic_cu_au()
    forces = [create_force(model, atoms.numbers, backend="python", periodic=True) for _ in "ab"]
    moved = atoms.copy()
    moved.positions[::2] += atoms.cell[1] - 2 * atoms.cell[2]
    assert_close(openmm_energy_forces(forces[0], moved), openmm_energy_forces(forces[1], atoms),
                 rtol=1e-10)


def test_from_file_and_topology(tmp_path, model):
    """An exported file and an OpenMM Topology (periodic box -> periodic force)."""
    atoms = triclinic_cu_au()
    path = export(model, tmp_path / "model.pt")
    topology = app.Topology()
    residue = topology.addResidue("X", topology.addChain())
    for z in atoms.numbers:
        topology.addAtom(str(z), app.Element.getByAtomicNumber(int(z)), residue)
    topology.setPeriodicBoxVectors(atoms.cell.array / 10.0)
    force = create_force(path, topology, backend="python")
    assert force.usesPeriodicBoundaryConditions()
    assert_close(openmm_energy_forces(force, atoms), ase_energy_forces(model, atoms))


def test_subset_force_acts_on_its_atoms_only(model):
    """Ethanol interleaved with three Cu atoms within the cutoff; the force on ethanol only."""
    atoms, n_ethanol = ethanol_beside_copper()
    order = np.random.default_rng(0).permutation(len(atoms))
    atoms = atoms[order]
    subset = [int(np.nonzero(order == i)[0][0]) for i in range(n_ethanol)]  # ethanol's new slots
    force = create_force(model, atoms.numbers, atoms=subset, backend="python")
    energy, forces = openmm_energy_forces(force, atoms)
    ref_energy, ref_forces = ase_energy_forces(model, atoms[subset])
    others = np.setdiff1d(np.arange(len(atoms)), subset)
    assert np.all(forces[others] == 0.0)
    assert_close((energy, forces[subset]), (ref_energy, ref_forces))


def test_system_with_file_backed_force_survives_serialisation(tmp_path, model):
    atoms = ethanol()
    path = export(model, tmp_path / "model.pt")
    force = create_force(path, atoms.numbers, backend="python")
    system = openmm_system(force, atoms)
    copy = openmm.XmlSerializer.deserialize(openmm.XmlSerializer.serialize(system))
    energies = [context_for(s, atoms).getState(getEnergy=True).getPotentialEnergy()
                for s in (system, copy)]
    assert energies[0] == energies[1]


def test_in_memory_model_force_can_be_copied(model):
    """The PythonForce function pickles an in-memory model as the module itself."""
    atoms = ethanol()
    force = create_force(model, atoms.numbers, backend="python")
    copied = pickle.loads(pickle.dumps(force))
    assert_close(openmm_energy_forces(copied, atoms), ase_energy_forces(model, atoms), 1e-12)


def test_nve_conserves_energy_on_a_periodic_crystal():
    """300 VerletIntegrator steps of 1 fs, 32 Cu atoms at 600 K, shipped cu-emt potential:
    total-energy fluctuations stay far below the kinetic-energy fluctuations."""
    atoms = bulk("Cu", "fcc", a=3.61, cubic=True).repeat(2)
    atoms.rattle(0.05, seed=0)
    force = create_force("cu-emt", atoms.numbers, backend="python", periodic=True)
    kinetic, total = nve_energies(force, atoms, chunks=60)
    assert kinetic.std() > 1.0  # the system really moves (kJ/mol)
    assert total.std() < 1e-2 * kinetic.std()
    assert abs(total[-1] - total[0]) < 1e-2 * kinetic.std()


def test_unknown_element_is_named(model):
    with pytest.raises(ValueError, match="Fe"):
        create_force(model, [1, 6, 26], backend="python")


def test_bad_atom_selection(model):
    with pytest.raises(ValueError, match="outside"):
        create_force(model, [1, 6, 8], atoms=[0, 3], backend="python")
    with pytest.raises(ValueError, match="repeated"):
        create_force(model, [1, 6, 8], atoms=[0, 0], backend="python")


def test_unknown_backend(model):
    with pytest.raises(ValueError, match="backend"):
        create_force(model, [1, 6, 8], backend="cuda")


@pytest.mark.skipif(torch_force_problem() is None, reason="openmm-torch is usable here")
def test_torch_backend_explains_why_it_is_unusable(model):
    with pytest.raises(RuntimeError, match="openmm-torch") as error:
        create_force(model, [1, 6, 8], backend="torch")
    assert "backend='python'" in str(error.value)


@pytest.mark.skipif(torch_force_problem() is None, reason="openmm-torch is usable here")
def test_auto_backend_falls_back_to_python_and_says_so(model, caplog):
    with caplog.at_level(logging.INFO, logger="md_drivers.openmm"):
        force = create_force(model, [1, 6, 8], backend="auto")
    assert isinstance(force, openmm.PythonForce)
    assert "python backend" in caplog.text


def test_create_system_without_wrapping_equals_the_ase_calculator():
    """A general triclinic cell (primitive fcc, left-handed too), positions kept unwrapped:
    OpenMM's energy and forces (rotated back to the user's frame) equal the ASE calculator's.
    The wrapped default is checked through md_drivers.testing (tests/md_drivers/test_testing.py)."""
    from md_drivers.openmm import create_system

    for cell_order in ([0, 1, 2], [1, 0, 2]):
        atoms = bulk("Cu", "fcc", a=3.61).repeat((3, 3, 3))
        atoms.set_cell(atoms.cell.array[cell_order], scale_atoms=False)
        atoms.rattle(0.05, seed=3)
        atoms.positions += [7.0, -3.0, 2.0]               # outside the cell
        built = create_system(atoms, "cu-emt", wrap=False, backend="python")
        assert_close(evaluate_system(built), ase_energy_forces("cu-emt", atoms))


def test_create_system_from_a_topology_equals_the_ase_calculator():
    from md_drivers.openmm import create_system
    from md_drivers.runner.outputs import mdtraj_topology

    atoms = ethanol()
    topology = mdtraj_topology(atoms).to_openmm()
    built = create_system(topology, "ethanol-xtb", positions=atoms.positions / 10.0,
                          backend="python")
    assert built.box is None and built.system.getNumParticles() == len(atoms)
    assert built.system.getParticleMass(0).value_in_unit(openmm.unit.dalton) == \
        pytest.approx(atoms.get_masses()[0], rel=1e-3)
    assert_close(evaluate_system(built), ase_energy_forces("ethanol-xtb", atoms))


def test_create_system_refuses_a_partly_periodic_cell():
    from ase.build import fcc111

    from md_drivers.openmm import create_system

    with pytest.raises(ValueError, match=r"all directions or none; pbc is \[True, True, False\]"):
        create_system(fcc111("Cu", (2, 2, 3), vacuum=5.0), "cu-emt", backend="python")
