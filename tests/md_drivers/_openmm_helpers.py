"""OpenMM evaluation helpers shared by the OpenMM driver tests (both environments)."""
import numpy as np
import openmm
from ase import Atoms
from ase import units as ase_units
from ase.build import bulk

from md_drivers.ase import EquiforceCalculator
from tests.structures import ethanol, triclinic_cu_au

# eV in kJ/mol from ASE's CODATA constants, written out here on purpose (not imported from
# potentials.units); tests/potentials/test_units.py checks it against OpenMM's
EV_KJ = ase_units.eV / (ase_units.kJ / ase_units.mol)
STRUCTURES = {"triclinic": triclinic_cu_au, "molecule": ethanol}


def ethanol_beside_copper() -> tuple[Atoms, int]:
    """Ethanol followed by three Cu atoms within the cutoff; returns (atoms, len(ethanol))."""
    mol = ethanol()
    atoms = mol.copy()
    atoms += bulk("Cu", "fcc", a=3.6).repeat((3, 1, 1))[:3]
    atoms.positions[len(mol):] = mol.positions[:3] + [2.5, 0.0, 0.0]
    return atoms, len(mol)


def nve_energies(force, atoms: Atoms, chunks: int, temperature: float = 600.0):
    """Kinetic and total energy (kJ/mol) every 5 VerletIntegrator steps of 1 fs."""
    context = context_for(openmm_system(force, atoms), atoms,
                          integrator=openmm.VerletIntegrator(0.001))
    context.setVelocitiesToTemperature(temperature, 1)
    kinetic, total = [], []
    for _ in range(chunks):
        context.getIntegrator().step(5)
        state = context.getState(getEnergy=True)
        k = state.getKineticEnergy().value_in_unit(openmm.unit.kilojoule_per_mole)
        kinetic.append(k)
        total.append(k + state.getPotentialEnergy().value_in_unit(openmm.unit.kilojoule_per_mole))
    return np.array(kinetic), np.array(total)


def openmm_system(force, atoms: Atoms) -> openmm.System:
    """A System of ``atoms`` holding ``force`` (a Force can belong to one System only)."""
    system = openmm.System()
    for mass in atoms.get_masses():
        system.addParticle(float(mass))
    if atoms.pbc.any():
        system.setDefaultPeriodicBoxVectors(*(atoms.cell.array / 10.0))
    system.addForce(force)
    return system


def context_for(system: openmm.System, atoms: Atoms, platform: str = "Reference",
                integrator=None) -> openmm.Context:
    properties = {"Precision": "double"} if platform in ("CUDA", "OpenCL") else {}
    context = openmm.Context(system, integrator or openmm.VerletIntegrator(0.001),
                             openmm.Platform.getPlatformByName(platform), properties)
    if atoms.pbc.any():
        context.setPeriodicBoxVectors(*(atoms.cell.array / 10.0))
    context.setPositions(atoms.positions / 10.0)
    return context


def openmm_energy_forces(force, atoms: Atoms, platform: str = "Reference"):
    """(energy eV, forces eV/A) of a force alone on ``atoms``."""
    context = context_for(openmm_system(force, atoms), atoms, platform)
    state = context.getState(getEnergy=True, getForces=True)
    energy = state.getPotentialEnergy().value_in_unit(openmm.unit.kilojoule_per_mole) / EV_KJ
    forces = state.getForces(asNumpy=True).value_in_unit(
        openmm.unit.kilojoule_per_mole / openmm.unit.nanometer) / (EV_KJ * 10.0)
    return energy, np.asarray(forces)


def ase_energy_forces(model, atoms: Atoms):
    atoms = atoms.copy()
    atoms.calc = EquiforceCalculator(model)
    return atoms.get_potential_energy(), atoms.get_forces()


def assert_close(openmm_result, ase_result, rtol: float = 1e-6) -> None:
    energy, forces = openmm_result
    ref_energy, ref_forces = ase_result
    assert abs(energy - ref_energy) <= rtol * max(abs(ref_energy), 1.0), (energy, ref_energy)
    scale = np.abs(ref_forces).max()
    np.testing.assert_allclose(forces, ref_forces, atol=rtol * scale, rtol=0)
