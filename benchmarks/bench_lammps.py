"""Benchmark the LAMMPS driver: strong scaling on 1 and 2 MPI ranks against the ASE calculator.

    python benchmarks/bench_lammps.py [--sizes 4000 32000] [--steps 3] [--ranks 1 2]

fcc Cu (a = 3.61 A) on the shipped ``cu-emt`` potential (float32, its default), in one run:

- ASE: ``EquiforceCalculator`` on one process, seconds per force call (after one warm-up);
- LAMMPS: ``mpiexec -n K`` of this script as a worker (the structure made by
  ``create_atoms``, NVE at 300 K, ``neighbor 1.0 bin``): seconds per step over ``--steps``
  steps after the setup call, the halo overhead (atoms evaluated per rank / local atoms)
  and the peak memory (max RSS) of each rank.

All processes use one torch thread, so K ranks use K cores. Results go to
benchmarks/results/lammps.json.
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _common import RESULTS, cu_atoms, save_results

INPUT = """units metal
atom_style atomic
boundary p p p
lattice fcc 3.61
region box block 0 {n} 0 {n} 0 {n}
create_box 1 box
create_atoms 1 box
mass 1 63.546
neighbor 1.0 bin
velocity all create 300.0 4928459 loop geom
timestep 0.002
thermo 1000
fix integrate all nve
"""


def ase_seconds_per_call(num_atoms: int, calls: int) -> dict:
    from md_drivers import EquiforceCalculator

    atoms = cu_atoms(num_atoms)
    atoms.calc = EquiforceCalculator("cu-emt", skin=1.0)
    atoms.get_forces()
    start = time.perf_counter()
    for _ in range(calls):
        atoms.positions += 1e-4
        atoms.get_forces()
    seconds = (time.perf_counter() - start) / calls
    return {"seconds_per_call": seconds, "peak_rss_MB": _peak_rss_mb()}


def lammps_worker(num_atoms: int, steps: int, out: str) -> None:
    """Runs under mpiexec: set up, one setup call, then time ``steps`` steps."""
    from md_drivers.lammps import attach
    from md_drivers.lammps._mpi import import_lammps

    lammps, mpi = import_lammps()
    comm = mpi.COMM_WORLD
    lmp = lammps.lammps(cmdargs=["-log", "none", "-screen", "none", "-nocite"], comm=comm)
    n = round((num_atoms / 4) ** (1 / 3))
    lmp.commands_string(INPUT.format(n=n))
    fix = attach(lmp, "cu-emt", ["Cu"], lammps_skin=1.0)
    lmp.command("run 0")
    calls_before, evaluated_before, local_before = fix.calls, fix.atoms_evaluated, fix.local_atoms
    comm.Barrier()
    start = time.perf_counter()
    lmp.command(f"run {steps} pre no post no")
    comm.Barrier()
    elapsed = time.perf_counter() - start
    evaluated = comm.allreduce(fix.atoms_evaluated - evaluated_before)
    local = comm.allreduce(fix.local_atoms - local_before)
    peaks = comm.gather(_peak_rss_mb())
    if comm.Get_rank() == 0:
        Path(out).write_text(json.dumps({
            "ranks": comm.Get_size(), "seconds_per_step": elapsed / steps,
            "seconds_per_call": elapsed / (fix.calls - calls_before),
            "calls": fix.calls - calls_before, "halo_overhead": evaluated / local,
            "peak_rss_MB_per_rank": peaks}))
    lmp.close()


def lammps_run(num_atoms: int, ranks: int, steps: int) -> dict:
    with tempfile.TemporaryDirectory() as folder:
        out = Path(folder) / "result.json"
        env = {**os.environ, "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
        command = [str(Path(sys.executable).parent / "mpiexec"), "-n", str(ranks),
                   sys.executable, __file__, "--worker", str(num_atoms), "--steps", str(steps),
                   "--output", str(out)]
        subprocess.run(command, check=True, env=env, cwd=Path(__file__).parent)
        return json.loads(out.read_text())


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[4000, 32000])
    parser.add_argument("--ranks", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--steps", type=int, default=3)
    parser.add_argument("--worker", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--output", type=Path, default=RESULTS / "lammps.json")
    args = parser.parse_args()
    if args.worker:
        lammps_worker(args.worker, args.steps, str(args.output))
        return
    import torch

    torch.set_num_threads(1)
    rows = []
    for size in args.sizes:
        row = {"num_atoms": size, "ase_one_process": ase_seconds_per_call(size, args.steps)}
        for ranks in args.ranks:
            row[f"lammps_{ranks}_ranks"] = lammps_run(size, ranks, args.steps)
            ratio = row[f"lammps_{ranks}_ranks"]["seconds_per_call"] / \
                row["ase_one_process"]["seconds_per_call"]
            row[f"lammps_{ranks}_ranks"]["time_vs_ase"] = ratio
        print(json.dumps(row))
        rows.append(row)
    save_results("lammps", {"potential": "cu-emt", "rows": rows}, args.output)


if __name__ == "__main__":
    main()
