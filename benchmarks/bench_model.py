"""Benchmark: energy+forces+stress of the e3nn model and the fast path, and neighbour lists.

    python benchmarks/bench_model.py [--sizes 108 864 4000] [--paths eager fast] [--repeats 5]

Model: 32 channels, l_max 1, 2 layers, correlation 3, cutoff 5 A (the size the guide's
MACE/NequIP anchors use), random weights; ``eager`` is the e3nn EquivariantPotential,
``fast`` the FastPotential with the same weights (what load() and the calculators run).
Each (path, N, dtype) case runs in a fresh subprocess on 2 threads so its peak resident
memory is its own. Neighbour lists are timed along a real 300 K EMT MD
trajectory: a fresh vesin build every step against the Verlet-skin cache.
Results: printed, and saved to benchmarks/results/model.json.
"""
from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import torch

from _common import RESULTS, benchmark_model, cu_atoms, save_results


def model_case(path: str, num_atoms: int, dtype_name: str, repeats: int) -> dict:
    """Time one energy+forces+stress call (neighbour list excluded) and its peak memory."""
    from potentials import atoms_to_graph

    torch.set_num_threads(2)
    dtype = getattr(torch, dtype_name)
    model = benchmark_model(path, dtype)
    graph = atoms_to_graph(cu_atoms(num_atoms), model.cutoff, model.config.species, dtype=dtype)
    inputs = graph.model_inputs()
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    model(*inputs)                                    # warm-up (e3nn codegen, allocator)
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        out = model(*inputs)
        out["energy"].item()
        times.append(time.perf_counter() - start)
    peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return {"path": path, "num_atoms": num_atoms, "num_edges": int(graph.edge_index.shape[1]),
            "dtype": dtype_name, "seconds_median": float(np.median(times)),
            "seconds_min": float(np.min(times)), "repeats": repeats,
            "peak_rss_mib": peak_kib / 1024, "peak_rss_increase_mib": (peak_kib - rss_before) / 1024}


def emt_trajectory(num_atoms: int, steps: int) -> tuple[list[np.ndarray], np.ndarray]:
    """Positions of a 300 K VelocityVerlet EMT run of fcc Cu (1 fs steps)."""
    from ase import units
    from ase.calculators.emt import EMT
    from ase.md.velocitydistribution import thermalize_momenta
    from ase.md.verlet import VelocityVerlet

    atoms = cu_atoms(num_atoms)
    atoms.calc = EMT()
    thermalize_momenta(atoms, temperature_K=600, rng=np.random.default_rng(0))
    dyn = VelocityVerlet(atoms, timestep=1.0 * units.fs)
    frames = []
    for _ in range(steps):
        dyn.run(1)
        frames.append(atoms.positions.copy())
    return frames, atoms.cell.array.copy()


def neighbor_case(num_atoms: int, steps: int, skin: float) -> dict:
    """Per-step neighbour-list time along an MD trajectory: fresh vesin vs skin cache."""
    from potentials import VerletNeighborList, neighbor_list

    torch.set_num_threads(2)
    frames, cell = emt_trajectory(num_atoms, steps)
    cell_t = torch.tensor(cell)
    pbc = torch.tensor([True, True, True])
    numbers = torch.full((num_atoms,), 29)
    tensors = [torch.tensor(f) for f in frames]
    start = time.perf_counter()
    for pos in tensors:
        neighbor_list(pos, cell_t, pbc, 5.0, backend="vesin")
    fresh = (time.perf_counter() - start) / steps
    cache = VerletNeighborList(5.0, skin=skin, backend="vesin")
    start = time.perf_counter()
    for pos in tensors:
        cache(pos, cell_t, pbc, numbers)
    cached = (time.perf_counter() - start) / steps
    return {"num_atoms": num_atoms, "md_steps": steps, "skin": skin,
            "fresh_vesin_ms_per_step": 1e3 * fresh, "skin_cache_ms_per_step": 1e3 * cached,
            "rebuilds": cache.n_builds, "speedup": fresh / cached}


def run_subprocess_case(path: str, num_atoms: int, dtype: str, repeats: int) -> dict:
    out = subprocess.run([sys.executable, __file__, "--case", path, str(num_atoms), dtype,
                          "--repeats", str(repeats)], capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[108, 864, 4000])
    parser.add_argument("--dtypes", nargs="+", default=["float32", "float64"])
    parser.add_argument("--paths", nargs="+", default=["eager", "fast"], choices=["eager", "fast"])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--md-steps", type=int, default=200)
    parser.add_argument("--skin", type=float, default=1.0)
    parser.add_argument("--case", nargs=3, metavar=("PATH", "N", "DTYPE"), help=argparse.SUPPRESS)
    parser.add_argument("--output", type=Path, default=RESULTS / "model.json")
    args = parser.parse_args()
    if args.case:
        print(json.dumps(model_case(args.case[0], int(args.case[1]), args.case[2], args.repeats)))
        return
    model_rows = []
    for n in args.sizes:
        for dtype in args.dtypes:
            for path in args.paths:
                row = run_subprocess_case(path, n, dtype, args.repeats)
                model_rows.append(row)
                print(f"{path:5s}  N={n:5d} E={row['num_edges']:7d} {dtype}: "
                      f"{1e3 * row['seconds_median']:8.1f} ms/call, "
                      f"{1e6 * row['seconds_median'] / n:6.1f} us/atom, "
                      f"peak RSS {row['peak_rss_mib']:.0f} MiB", flush=True)
    nl_rows = []
    for n in args.sizes:
        row = neighbor_case(n, args.md_steps, args.skin)
        nl_rows.append(row)
        print(f"neighbours N={n:5d}: fresh vesin {row['fresh_vesin_ms_per_step']:.2f} ms/step, "
              f"skin cache {row['skin_cache_ms_per_step']:.2f} ms/step "
              f"({row['rebuilds']} rebuilds in {row['md_steps']} steps, x{row['speedup']:.1f})")
    save_results("bench_model", {"model": model_rows, "neighbors": nl_rows}, args.output)


if __name__ == "__main__":
    main()
