"""ML/MM molecular dynamics of the villin headpiece in water with OpenMM and openmm-ml.

    python examples/villin_mlmm.py [--steps 1000] [--model villin-amber14] [--out runs/villin-mlmm]

The solvated villin headpiece shipped with OpenMM (``openmm/app/data/test.pdb``, 8,867
atoms) is set up with amber14 + TIP3P (PME, 1 nm cutoff). openmm-ml's
``createMixedSystem`` (mechanical embedding) then hands the 582 protein atoms to the
equiforce potential (the shipped ``villin-amber14`` surrogate of amber14); water and
protein-water interactions stay with amber14/TIP3P. Bonds to protein hydrogens keep their
constraints (``removeConstraints=False``): without them the surrogate's soft O-H bonds let
a serine hydroxyl hydrogen fall onto a water oxygen (amber14 gives it no Lennard-Jones
radius) and the run blew up within 25 steps. The step is 1 fs. The script minimises the energy, runs Langevin MD on the
CPU platform, writes a DCD trajectory and a CSV log, and prints ns/day.
"""
import argparse
import time
from pathlib import Path

import openmm
import openmm.app as app
import openmm.unit as unit
from openmmml import MLPotential

from potentials.datasets.openmm import is_solvent, villin_pdb


def build_simulation(model: str, platform: str, timestep_fs: float, seed: int) -> app.Simulation:
    """The ML/MM Simulation, positioned at the PDB coordinates."""
    pdb = app.PDBFile(villin_pdb())
    forcefield = app.ForceField("amber14-all.xml", "amber14/tip3p.xml")
    mm_system = forcefield.createSystem(pdb.topology, nonbondedMethod=app.PME,
                                        nonbondedCutoff=1.0 * unit.nanometer,
                                        constraints=app.HBonds)
    protein = [atom.index for atom in pdb.topology.atoms() if not is_solvent(atom.residue)]
    system = MLPotential("equiforce", modelPath=model).createMixedSystem(
        pdb.topology, mm_system, protein, removeConstraints=False)
    integrator = openmm.LangevinMiddleIntegrator(300 * unit.kelvin, 1 / unit.picosecond,
                                                 timestep_fs * unit.femtosecond)
    integrator.setRandomNumberSeed(seed)
    simulation = app.Simulation(pdb.topology, system, integrator,
                                openmm.Platform.getPlatformByName(platform))
    simulation.context.setPositions(pdb.positions)
    print(f"{system.getNumParticles()} atoms, {len(protein)} of them in the ML region "
          f"({model}); platform {platform}")
    return simulation


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="villin-amber14", help="file or shipped name")
    parser.add_argument("--steps", type=int, default=1000, help="1 fs MD steps")
    parser.add_argument("--minimize-iterations", type=int, default=100)
    parser.add_argument("--report-interval", type=int, default=100)
    parser.add_argument("--platform", default="CPU")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--out", default="runs/villin-mlmm")
    args = parser.parse_args()

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    simulation = build_simulation(args.model, args.platform, 1.0, args.seed)
    energy = lambda: simulation.context.getState(getEnergy=True).getPotentialEnergy()  # noqa: E731
    print(f"initial potential energy {energy().value_in_unit(unit.kilojoule_per_mole):.1f} kJ/mol")
    simulation.minimizeEnergy(maxIterations=args.minimize_iterations)
    print(f"after minimisation      {energy().value_in_unit(unit.kilojoule_per_mole):.1f} kJ/mol")
    simulation.context.setVelocitiesToTemperature(300 * unit.kelvin, args.seed)

    interval = max(1, min(args.report_interval, args.steps))
    simulation.reporters.append(app.DCDReporter(str(out / "trajectory.dcd"), interval))
    simulation.reporters.append(app.StateDataReporter(
        str(out / "thermo.csv"), interval, step=True, time=True, potentialEnergy=True,
        kineticEnergy=True, temperature=True, speed=True))
    start = time.perf_counter()
    simulation.step(args.steps)
    seconds = time.perf_counter() - start
    ns_per_day = args.steps * 1e-6 / seconds * 86400.0
    print(f"{args.steps} steps of 1 fs in {seconds:.1f} s: {1e3 * seconds / args.steps:.0f} ms/step, "
          f"{ns_per_day:.3f} ns/day")
    print(f"trajectory: {out / 'trajectory.dcd'}  log: {out / 'thermo.csv'}")


if __name__ == "__main__":
    main()
