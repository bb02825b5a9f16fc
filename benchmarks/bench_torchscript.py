"""TorchScript with and without the optimising executor, against eager, as in MD.

    python benchmarks/bench_torchscript.py [--sizes 108 864 4000] [--calls 12]

Same model as bench_export.py (32 channels, l_max 1, 2 layers, correlation 3, cutoff
5 A), fcc Cu rattled differently at every call so that the edge count changes as in MD,
2 threads, neighbour list excluded. For each variant: the first call on a freshly loaded
module and the median of the following calls. ``torchscript`` is equiforce's default on
CPU (``jit_optimize=False``); ``torchscript-optimised`` lets TorchScript's profiling
executor specialise (``jit_optimize=True``, TorchScript's own default).
Results: printed and saved to benchmarks/results/torchscript.json.
"""
from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

from _common import RESULTS, cu_atoms, save_results
from bench_export import bench_model


def rattled_inputs(num_atoms: int, calls: int, dtype: torch.dtype) -> list[tuple]:
    from potentials import atoms_to_graph

    inputs = []
    for seed in range(calls):
        atoms = cu_atoms(num_atoms)
        atoms.rattle(0.1, seed=seed + 1)
        inputs.append(atoms_to_graph(atoms, 5.0, (29,), dtype=dtype).model_inputs())
    return inputs


def time_calls(potential, inputs: list[tuple]) -> tuple[float, float]:
    """(first call, median of the others), seconds."""
    times = []
    for args in inputs:
        start = time.perf_counter()
        potential(*args)["energy"].item()
        times.append(time.perf_counter() - start)
    return times[0], float(np.median(times[1:]))


def variants(model, path: Path, dtype: torch.dtype) -> dict:
    from potentials import DeployedPotential, load

    return {"eager": lambda: DeployedPotential.from_model(model, dtype),
            "torchscript": lambda: load(path),
            "torchscript-optimised": lambda: load(path, jit_optimize=True)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[108, 864, 4000])
    parser.add_argument("--calls", type=int, default=12)
    parser.add_argument("--output", type=Path, default=RESULTS / "torchscript.json")
    args = parser.parse_args()
    torch.set_num_threads(2)
    from potentials import export

    model, rows = bench_model(), []
    with tempfile.TemporaryDirectory() as workdir:
        for dtype in (torch.float32, torch.float64):
            path = export(model, Path(workdir) / f"model_{dtype}.pt", dtype=dtype)
            for num_atoms in args.sizes:
                inputs = rattled_inputs(num_atoms, args.calls, dtype)
                for name, make in variants(model, path, dtype).items():
                    first, median = time_calls(make(), inputs)
                    rows.append({"variant": name, "dtype": str(dtype).replace("torch.", ""),
                                 "num_atoms": num_atoms, "first_call_ms": 1e3 * first,
                                 "median_ms": 1e3 * median})
                    print(f"{rows[-1]['dtype']:8s} {num_atoms:5d} atoms  {name:22s} "
                          f"first {1e3 * first:8.1f} ms  median {1e3 * median:8.1f} ms",
                          flush=True)
    save_results("torchscript", {"calls": args.calls, "rows": rows}, args.output)


if __name__ == "__main__":
    main()
