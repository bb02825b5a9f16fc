"""Benchmark deployed formats: eager vs TorchScript vs AOTInductor, and the ASE MD loop.

    python benchmarks/bench_export.py [--sizes 108 864 4000] [--repeats 5] [--md-steps 20]

Same model as bench_model.py (32 channels, l_max 1, 2 layers, correlation 3, cutoff 5 A),
fcc Cu, 2 threads. Times one energy+forces+stress call (neighbour list excluded) for each
format and dtype; then the wall time per step of an ASE velocity-Verlet loop (TorchScript
float32, 864 atoms) with the Verlet-skin cache on (skin 1 A) and off (fresh list each step).
AOTInductor packages are compiled once per dtype (minutes each on 2 cores; the compile
time is reported). Results: printed and saved to benchmarks/results/export.json.
"""
from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

from _common import RESULTS, cu_atoms, save_results


def bench_model():
    from potentials import EquivariantPotential, PotentialConfig

    torch.manual_seed(0)
    config = PotentialConfig(species=(29,), cutoff=5.0, l_max=1, channels=32, num_layers=2,
                             correlation=3, avg_num_neighbors=42.0)
    return EquivariantPotential(config)


def time_call(function, inputs, repeats: int) -> float:
    function(*inputs)
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        function(*inputs)["energy"].item()
        times.append(time.perf_counter() - start)
    return float(np.median(times))


def format_rows(sizes, repeats, workdir: Path) -> list[dict]:
    from potentials import DeployedPotential, atoms_to_graph, export, load

    rows = []
    model = bench_model()
    for dtype in (torch.float32, torch.float64):
        name = str(dtype).replace("torch.", "")
        deployed = {"eager": DeployedPotential.from_model(model, dtype)}
        deployed["torchscript"] = load(export(model, workdir / f"m_{name}.pt", dtype=dtype))
        start = time.perf_counter()
        path = export(model, workdir / f"m_{name}.pt2", format="aotinductor", dtype=dtype)
        compile_seconds = time.perf_counter() - start
        deployed["aotinductor"] = load(path)
        print(f"AOTInductor compile ({name}): {compile_seconds:.0f} s")
        for n in sizes:
            graph = atoms_to_graph(cu_atoms(n), 5.0, (29,), dtype=dtype)
            for fmt, potential in deployed.items():
                seconds = time_call(potential, graph.model_inputs(), repeats)
                rows.append({"num_atoms": n, "dtype": name, "format": fmt, "seconds": seconds,
                             "aoti_compile_seconds": compile_seconds if fmt == "aotinductor" else None})
                print(f"N={n:5d} {name} {fmt:12s} {1e3 * seconds:9.1f} ms/call")
    return rows


def md_rows(num_atoms: int, steps: int, workdir: Path) -> list[dict]:
    from ase import units
    from ase.md.velocitydistribution import thermalize_momenta
    from ase.md.verlet import VelocityVerlet

    from md_drivers import EquiforceCalculator
    from potentials import export

    path = export(bench_model(), workdir / "md.pt", dtype=torch.float32)
    rows = []
    for skin in (1.0, 0.0):
        atoms = cu_atoms(num_atoms)
        atoms.calc = EquiforceCalculator(path, skin=skin)
        thermalize_momenta(atoms, temperature_K=300, rng=np.random.default_rng(0))
        dyn = VelocityVerlet(atoms, timestep=1.0 * units.fs)
        dyn.run(2)
        start = time.perf_counter()
        dyn.run(steps)
        per_step = (time.perf_counter() - start) / steps
        rows.append({"num_atoms": num_atoms, "skin": skin, "steps": steps,
                     "seconds_per_step": per_step, "neighbor_builds": atoms.calc.neighbors.n_builds})
        print(f"ASE MD N={num_atoms} skin={skin}: {1e3 * per_step:.1f} ms/step "
              f"({atoms.calc.neighbors.n_builds} builds)")
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[108, 864, 4000])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--md-atoms", type=int, default=864)
    parser.add_argument("--md-steps", type=int, default=20)
    parser.add_argument("--output", type=Path, default=RESULTS / "export.json")
    args = parser.parse_args()
    torch.set_num_threads(2)
    with tempfile.TemporaryDirectory() as tmp:
        sections = {"formats": format_rows(args.sizes, args.repeats, Path(tmp)),
                    "ase_md": md_rows(args.md_atoms, args.md_steps, Path(tmp))}
    save_results("bench_export", sections, args.output)


if __name__ == "__main__":
    main()
