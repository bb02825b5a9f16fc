"""Benchmark of the GPU path: model calls and MD steps, e3nn against cuEquivariance ops.

    python benchmarks/bench_gpu.py                       # on a CUDA machine (make bench-gpu)
    python benchmarks/bench_gpu.py --device cpu --sizes 108 864 4000

Model: the benchmark model of ``_common`` (fcc Cu, 32 channels, l_max 1, 2 layers,
correlation 3, cutoff 5 A, random weights). For every (ops, dtype, N):

* ``model_call``: one energy+forces+stress call of the deployed potential (``load``'s
  defaults: e3nn runs the fast path, cueq its own model; neighbour list excluded), median
  of ``--repeats`` after a warm-up, the device synchronised before the clock stops; peak
  device memory on CUDA;
* ``ase_md``: seconds per VelocityVerlet step through the ASE calculator (neighbour list,
  Verlet skin, results to the host), sizes up to ``--md-max-atoms``;
* ``openmm_md``: seconds per LangevinMiddle step through an OpenMM Context: the CUDA
  platform with the openmm-torch TorchForce where openmm-torch works, else the
  PythonForce on the CPU platform (what ran is recorded).

The ratio ``cueq / e3nn`` is reported per case. Results: printed, and saved to
``benchmarks/results/gpu-<device>.json``. No number here was measured on a GPU by the
project (no GPU was available); the CPU table is in docs/gpu.md.
"""
from __future__ import annotations

import argparse
from pathlib import Path
import time
import traceback

import numpy as np
import torch

from _common import RESULTS, benchmark_model, cu_atoms, save_results


def synchronize(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def deployed(ops: str, dtype: torch.dtype, device: torch.device):
    from potentials import DeployedPotential

    return DeployedPotential.from_model(benchmark_model("eager", torch.float64), dtype, device,
                                        ops=ops)


def model_call(ops: str, dtype: torch.dtype, device: torch.device, num_atoms: int,
               repeats: int) -> dict:
    from potentials import atoms_to_graph

    potential = deployed(ops, dtype, device)
    graph = atoms_to_graph(cu_atoms(num_atoms), potential.cutoff, potential.species,
                           dtype=dtype, device=device)
    inputs = graph.model_inputs()
    potential(*inputs)
    synchronize(device)
    if device.type == "cuda":
        torch.cuda.reset_peak_memory_stats(device)
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        potential(*inputs)
        synchronize(device)
        times.append(time.perf_counter() - start)
    result = {"seconds_median": float(np.median(times)), "num_edges": int(inputs[2].shape[1]),
              "format": potential.format}
    if device.type == "cuda":
        result["peak_memory_mib"] = torch.cuda.max_memory_allocated(device) / 2**20
    return result


def ase_md(ops: str, dtype: torch.dtype, device: torch.device, num_atoms: int,
           steps: int) -> dict:
    from ase import units
    from ase.md.verlet import VelocityVerlet
    from ase.md.velocitydistribution import MaxwellBoltzmannDistribution

    from md_drivers.ase import EquiforceCalculator

    atoms = cu_atoms(num_atoms)
    atoms.calc = EquiforceCalculator(deployed(ops, dtype, device))
    MaxwellBoltzmannDistribution(atoms, temperature_K=300, rng=np.random.default_rng(0))
    dynamics = VelocityVerlet(atoms, 1.0 * units.fs)
    dynamics.run(2)
    start = time.perf_counter()
    dynamics.run(steps)
    return {"seconds_per_step": (time.perf_counter() - start) / steps}


def openmm_md(ops: str, dtype: torch.dtype, device: torch.device, num_atoms: int,
              steps: int) -> dict:
    import openmm

    from md_drivers.openmm import create_system, torch_force_problem

    use_torch_force = device.type == "cuda" and torch_force_problem() is None
    backend = "torch" if use_torch_force else "python"
    platform = "CUDA" if use_torch_force else "CPU"
    atoms = cu_atoms(num_atoms)
    built = create_system(atoms, deployed(ops, dtype, device), backend=backend,
                          device=str(device))
    integrator = openmm.LangevinMiddleIntegrator(300, 1.0, 0.001)
    context = openmm.Context(built.system, integrator, openmm.Platform.getPlatformByName(platform))
    if built.box is not None:
        context.setPeriodicBoxVectors(*built.box)
    context.setPositions(built.positions)
    integrator.step(2)
    start = time.perf_counter()
    integrator.step(steps)
    context.getState(getEnergy=True)
    return {"seconds_per_step": (time.perf_counter() - start) / steps,
            "backend": backend, "platform": platform}


def run_case(function, *arguments) -> dict:
    try:
        return function(*arguments)
    except Exception as error:  # an out-of-memory size or a missing kernel is a result too
        traceback.print_exc()
        return {"error": f"{type(error).__name__}: {error}"[:500]}


def ratios(rows: list[dict], key: str) -> list[dict]:
    """cueq / e3nn of ``key`` for every (dtype, num_atoms) measured with both."""
    by_case = {(row["ops"], row["dtype"], row["num_atoms"]): row for row in rows}
    out = []
    for (ops, dtype, n), row in by_case.items():
        other = by_case.get(("e3nn", dtype, n))
        if ops == "cueq" and other and key in row and key in other:
            out.append({"dtype": dtype, "num_atoms": n, "cueq_over_e3nn": row[key] / other[key]})
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--device", default="cuda")
    parser.add_argument("--sizes", type=int, nargs="+", default=[864, 4000, 32000, 108000])
    parser.add_argument("--ops", nargs="+", default=["e3nn", "cueq"])
    parser.add_argument("--dtypes", nargs="+", default=["float32", "float64"])
    parser.add_argument("--repeats", type=int, default=10)
    parser.add_argument("--md-steps", type=int, default=20)
    parser.add_argument("--md-max-atoms", type=int, default=32000)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--output", default=None)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    from potentials._device import checked_device
    from potentials._ops import cueq_kernels_available

    device = checked_device(args.device)
    sections = {"device": str(device), "cueq_kernels": cueq_kernels_available(),
                "gpu": torch.cuda.get_device_name(device) if device.type == "cuda" else None,
                "model_call": [], "ase_md": [], "openmm_md": []}
    for n in args.sizes:
        for dtype_name in args.dtypes:
            for ops in args.ops:
                dtype = getattr(torch, dtype_name)
                case = {"ops": ops, "dtype": dtype_name, "num_atoms": n}
                row = {**case, **run_case(model_call, ops, dtype, device, n, args.repeats)}
                sections["model_call"].append(row)
                print("model call", row, flush=True)
                if n <= args.md_max_atoms and args.md_steps > 0:
                    for name, function in (("ase_md", ase_md), ("openmm_md", openmm_md)):
                        row = {**case, **run_case(function, ops, dtype, device, n, args.md_steps)}
                        sections[name].append(row)
                        print(name, row, flush=True)
    sections["model_call_ratio"] = ratios(sections["model_call"], "seconds_median")
    sections["ase_md_ratio"] = ratios(sections["ase_md"], "seconds_per_step")
    sections["openmm_md_ratio"] = ratios(sections["openmm_md"], "seconds_per_step")
    for row in sections["model_call_ratio"]:
        print("cueq / e3nn model call", row)
    output = args.output or RESULTS / f"gpu-{device.type}.json"
    save_results("gpu", sections, Path(output))


if __name__ == "__main__":
    main()
