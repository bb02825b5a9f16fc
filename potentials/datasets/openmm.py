"""Protein reference data: sample a solvated protein with OpenMM, label the protein alone.

The default is the villin headpiece in TIP3P water shipped with OpenMM
(``openmm/app/data/test.pdb``) with amber14. Configurations come from Langevin MD of the
whole solvated system (PME, HBond constraints); each frame's label is the energy and
forces of the protein atoms alone under the protein-only amber14 force field (no
cutoff, no water), converted to eV and eV/A. Units are converted here and only here.
"""
from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from typing import Optional

import numpy as np
from ase import Atoms
from ase.calculators.calculator import Calculator, all_changes
from ase.calculators.singlepoint import SinglePointCalculator

from ..units import KJ_PER_MOL_IN_EV, NM_IN_ANGSTROM

__all__ = ["Amber14Calculator", "OpenMMSettings", "generate_openmm", "KJ_PER_MOL_IN_EV"]

log = logging.getLogger(__name__)
WATER = ("HOH", "WAT")


@dataclass(frozen=True)
class OpenMMSettings:
    """What to sample.

    Attributes:
        pdb: solvated structure; None for OpenMM's villin test system.
        forcefield: force-field files (amber14 protein + TIP3P water by default).
        temperatures: Langevin temperatures in K.
        frames_per_temperature: frames sampled at each temperature.
        equilibration_steps, stride: 2 fs steps before sampling and between frames.
        minimize_iterations: energy minimisation before MD (0: none).
        platform: OpenMM platform name.
        seed: Langevin random seed.
    """

    pdb: Optional[str] = None
    forcefield: tuple[str, ...] = ("amber14-all.xml", "amber14/tip3p.xml")
    temperatures: tuple[float, ...] = (300.0, 350.0, 400.0)
    frames_per_temperature: int = 20
    equilibration_steps: int = 500
    stride: int = 250
    minimize_iterations: int = 200
    platform: str = "CPU"
    seed: int = 0

    def __post_init__(self) -> None:
        if self.frames_per_temperature < 1 or self.stride < 1:
            raise ValueError("frames_per_temperature and stride must be >= 1")


def is_solvent(residue) -> bool:
    """Water or a monatomic ion (any one-atom residue, e.g. OpenMM's ``Cl``)."""
    return residue.name.upper() in WATER or len(list(residue.atoms())) == 1


def villin_pdb() -> str:
    """Path of the solvated villin headpiece that OpenMM ships (8,867 atoms)."""
    import openmm.app

    return os.path.join(os.path.dirname(openmm.app.__file__), "data", "test.pdb")


def generate_openmm(settings: OpenMMSettings = OpenMMSettings()) -> list[Atoms]:
    """Labelled protein frames (energy eV, forces eV/A, no cell) sampled in solvent."""
    import openmm
    import openmm.app as app
    import openmm.unit as unit

    pdb = app.PDBFile(settings.pdb or villin_pdb())
    forcefield = app.ForceField(*settings.forcefield)
    solvated = forcefield.createSystem(pdb.topology, nonbondedMethod=app.PME,
                                       nonbondedCutoff=1.0 * unit.nanometer,
                                       constraints=app.HBonds)
    protein = [a.index for a in pdb.topology.atoms() if not is_solvent(a.residue)]
    labeller = _protein_context(pdb, forcefield, protein, settings.platform)
    atoms = list(pdb.topology.atoms())
    numbers = [atoms[i].element.atomic_number for i in protein]
    frames: list[Atoms] = []
    for temperature in settings.temperatures:
        integrator = openmm.LangevinMiddleIntegrator(temperature * unit.kelvin, 1.0 / unit.picosecond,
                                                     2.0 * unit.femtosecond)
        integrator.setRandomNumberSeed(settings.seed + int(temperature))
        simulation = app.Simulation(pdb.topology, solvated, integrator,
                                    openmm.Platform.getPlatformByName(settings.platform))
        simulation.context.setPositions(pdb.positions)
        if settings.minimize_iterations:
            simulation.minimizeEnergy(maxIterations=settings.minimize_iterations)
        simulation.context.setVelocitiesToTemperature(temperature * unit.kelvin, settings.seed)
        simulation.step(settings.equilibration_steps)
        for _ in range(settings.frames_per_temperature):
            simulation.step(settings.stride)
            positions = simulation.context.getState(getPositions=True).getPositions(asNumpy=True)
            frames.append(_label(labeller, numbers, positions[protein], temperature))
        log.info("openmm protein at %.0f K: %d frames so far", temperature, len(frames))
    return frames


def _protein_context(pdb, forcefield, protein: list[int], platform: str):
    """A context of the protein alone (amber14, no cutoff), for labelling."""
    import openmm
    import openmm.app as app

    modeller = app.Modeller(pdb.topology, pdb.positions)
    modeller.delete([r for r in modeller.topology.residues() if is_solvent(r)])
    if modeller.topology.getNumAtoms() != len(protein):
        raise ValueError("protein atoms after removing water do not match the selection")
    system = forcefield.createSystem(modeller.topology, nonbondedMethod=app.NoCutoff,
                                     constraints=None)
    return openmm.Context(system, openmm.VerletIntegrator(0.001),
                          openmm.Platform.getPlatformByName(platform))


def _label(context, numbers: list[int], positions_nm, temperature: float) -> Atoms:
    import openmm.unit as unit

    context.setPositions(positions_nm)
    state = context.getState(getEnergy=True, getForces=True)
    energy = state.getPotentialEnergy().value_in_unit(unit.kilojoule_per_mole) * KJ_PER_MOL_IN_EV
    forces = np.asarray(state.getForces(asNumpy=True).value_in_unit(
        unit.kilojoule_per_mole / unit.nanometer)) * KJ_PER_MOL_IN_EV / NM_IN_ANGSTROM
    positions = np.asarray(positions_nm.value_in_unit(unit.nanometer)) * NM_IN_ANGSTROM
    frame = Atoms(numbers=numbers, positions=positions)
    frame.calc = SinglePointCalculator(frame, energy=energy, forces=forces)
    frame.info["temperature_K"] = temperature
    return frame


class Amber14Calculator(Calculator):
    """The labels of :func:`generate_openmm` as an ASE calculator: energy (eV) and forces
    (eV/A) of the protein atoms of ``pdb`` (water and ions removed) under the
    protein-only force field, no cutoff. The atoms must be those protein atoms in the
    file's order (as in the frames :func:`generate_openmm` writes).

    Args:
        pdb: the solvated (or dry) structure; None for OpenMM's villin test system.
        forcefield: force-field files.
        platform: OpenMM platform name.
    """

    implemented_properties = ["energy", "free_energy", "forces"]

    def __init__(self, pdb: Optional[str] = None,
                 forcefield: tuple[str, ...] = ("amber14-all.xml", "amber14/tip3p.xml"),
                 platform: str = "CPU", **kwargs) -> None:
        import openmm.app as app

        super().__init__(**kwargs)
        structure = app.PDBFile(pdb or villin_pdb())
        protein = [a.index for a in structure.topology.atoms() if not is_solvent(a.residue)]
        atoms = list(structure.topology.atoms())
        self.numbers = np.array([atoms[i].element.atomic_number for i in protein])
        self.context = _protein_context(structure, app.ForceField(*forcefield), protein,
                                        platform)

    def calculate(self, atoms=None, properties=("energy",), system_changes=all_changes) -> None:
        import openmm.unit as unit

        super().calculate(atoms, properties, system_changes)
        if not np.array_equal(self.atoms.numbers, self.numbers):
            raise ValueError(f"the atoms ({len(self.atoms)}) are not the force field's "
                             f"{len(self.numbers)} protein atoms in the PDB file's order")
        positions = self.atoms.positions / NM_IN_ANGSTROM
        frame = _label(self.context, list(self.numbers), positions * unit.nanometer, 0.0)
        energy = frame.get_potential_energy()
        self.results = {"energy": energy, "free_energy": energy, "forces": frame.get_forces()}
