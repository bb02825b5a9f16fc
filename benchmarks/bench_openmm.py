"""Benchmark the OpenMM driver: PythonForce vs TorchForce vs the ASE calculator.

    python benchmarks/bench_openmm.py [--steps 20] [--skip-villin]

Two systems, CPU platform, 2 threads, wall time per MD step (after 2 warm-up steps):

- 256-atom fcc Cu with the shipped ``cu-emt`` potential: OpenMM VerletIntegrator with a
  PythonForce (and a TorchForce where openmm-torch works), against ASE VelocityVerlet
  with the same potential through ``EquiforceCalculator``;
- villin in TIP3P water (8,867 atoms, PME) with the protein (582 atoms) on the shipped
  ``villin-amber14`` through openmm-ml's ``createMixedSystem``, LangevinMiddle 1 fs, next
  to the same system all-amber14 (the peer: what the ML region costs).

The TorchForce rows need the openmm-torch environment: run this script with
``.venv-openmm-torch/bin/python`` too. Results go to benchmarks/results/openmm.json, or
openmm-torch.json when run with openmm-torch usable.
"""
from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np

from _common import RESULTS, cu_atoms, save_results


def time_steps(step, steps: int) -> float:
    """Seconds per call of ``step(1)`` over ``steps`` calls, after two warm-up calls."""
    step(2)
    start = time.perf_counter()
    step(steps)
    return (time.perf_counter() - start) / steps


def openmm_cu(backend: str, steps: int) -> float:
    import openmm

    from md_drivers.openmm import create_system

    built = create_system(cu_atoms(256), "cu-emt", backend=backend)
    context = openmm.Context(built.system, openmm.VerletIntegrator(0.001),
                             openmm.Platform.getPlatformByName("CPU"))
    context.setPositions(built.positions)
    context.setVelocitiesToTemperature(300.0, 1)
    return time_steps(context.getIntegrator().step, steps)


def ase_cu(steps: int) -> float:
    from ase import units
    from ase.md.velocitydistribution import thermalize_momenta
    from ase.md.verlet import VelocityVerlet

    from md_drivers.ase import EquiforceCalculator

    atoms = cu_atoms(256)
    atoms.calc = EquiforceCalculator("cu-emt")
    thermalize_momenta(atoms, temperature_K=300, rng=np.random.default_rng(1))
    return time_steps(VelocityVerlet(atoms, timestep=1.0 * units.fs).run, steps)


def villin(backend: str | None, steps: int) -> float:
    """Seconds per step of villin in water; ``backend=None`` is the all-amber14 system."""
    import openmm
    import openmm.app as app
    import openmm.unit as unit
    from openmmml import MLPotential

    from potentials.datasets.openmm import is_solvent, villin_pdb

    pdb = app.PDBFile(villin_pdb())
    forcefield = app.ForceField("amber14-all.xml", "amber14/tip3p.xml")
    system = forcefield.createSystem(pdb.topology, nonbondedMethod=app.PME,
                                     nonbondedCutoff=1.0 * unit.nanometer, constraints=app.HBonds)
    if backend is not None:
        protein = [a.index for a in pdb.topology.atoms() if not is_solvent(a.residue)]
        system = MLPotential("equiforce", modelPath="villin-amber14").createMixedSystem(
            pdb.topology, system, protein, removeConstraints=False, backend=backend)
    integrator = openmm.LangevinMiddleIntegrator(300 * unit.kelvin, 1 / unit.picosecond,
                                                 1 * unit.femtosecond)
    simulation = app.Simulation(pdb.topology, system, integrator,
                                openmm.Platform.getPlatformByName("CPU"))
    simulation.context.setPositions(pdb.positions)
    simulation.minimizeEnergy(maxIterations=20)
    return time_steps(simulation.step, steps)


def main() -> None:
    from md_drivers.openmm import torch_force_problem

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--skip-villin", action="store_true")
    parser.add_argument("--output", help="JSON file (default: results/openmm[-torch].json)")
    args = parser.parse_args()
    backends = ["python"] + ([] if torch_force_problem() else ["torch"])

    cu = {"ase_calculator_ms": 1e3 * ase_cu(args.steps)}
    for backend in backends:
        cu[f"openmm_{backend}_ms"] = 1e3 * openmm_cu(backend, args.steps)
    print("Cu 256 atoms, cu-emt, ms/step:", {k: round(v, 1) for k, v in cu.items()})
    sections = {"steps": args.steps, "cu_256_ms_per_step": cu}
    if not args.skip_villin:
        protein = {"amber14_only_ms": 1e3 * villin(None, args.steps)}
        for backend in backends:
            protein[f"mlmm_{backend}_ms"] = 1e3 * villin(backend, args.steps)
        print("villin ML/MM (8,867 atoms, 582 ML), ms/step:",
              {k: round(v, 1) for k, v in protein.items()})
        sections["villin_mlmm_ms_per_step"] = protein
    name = "openmm-torch.json" if "torch" in backends else "openmm.json"
    save_results("openmm", sections, Path(args.output) if args.output else RESULTS / name)


if __name__ == "__main__":
    main()
