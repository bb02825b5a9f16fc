"""Profile one energy+forces+stress call: the top operators by self time (torch.profiler).

    python benchmarks/profile_model.py [--atoms 864] [--dtype float64] [--paths eager fast]

Same model and structure as bench_model.py (fcc Cu, 32 channels, l_max 1, 2 layers,
correlation 3, cutoff 5 A, random weights), 2 threads, after warm-up calls. For each path
(``eager``: the e3nn model, ``fast``: FastPotential), prints and saves the top operators
(self CPU time, call count, input shapes) and the total.
Results: benchmarks/results/profile.json.
"""
from __future__ import annotations

import argparse
from pathlib import Path

import torch
from torch.profiler import ProfilerActivity, profile

from _common import RESULTS, benchmark_model, cu_atoms, save_results


def top_operators(path: str, num_atoms: int, dtype: torch.dtype, top: int) -> dict:
    from potentials import atoms_to_graph

    model = benchmark_model(path, dtype)
    inputs = atoms_to_graph(cu_atoms(num_atoms), 5.0, (29,), dtype=dtype).model_inputs()
    for _ in range(3):
        model(*inputs)
    with profile(activities=[ProfilerActivity.CPU], record_shapes=True) as prof:
        model(*inputs)
    events = prof.key_averages(group_by_input_shape=True)
    total_ms = sum(e.self_cpu_time_total for e in events) / 1e3
    rows = sorted(events, key=lambda e: -e.self_cpu_time_total)[:top]
    return {"path": path, "total_self_cpu_ms": total_ms,
            "top": [{"op": e.key, "calls": e.count, "self_cpu_ms": e.self_cpu_time_total / 1e3,
                     "shapes": str(e.input_shapes)[:120]} for e in rows]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--atoms", type=int, default=864)
    parser.add_argument("--dtype", default="float64", choices=["float32", "float64"])
    parser.add_argument("--paths", nargs="+", default=["eager", "fast"])
    parser.add_argument("--top", type=int, default=12)
    parser.add_argument("--output", type=Path, default=RESULTS / "profile.json")
    args = parser.parse_args()
    torch.set_num_threads(2)
    sections = []
    for path in args.paths:
        result = top_operators(path, args.atoms, getattr(torch, args.dtype), args.top)
        sections.append(result)
        print(f"{path}: {result['total_self_cpu_ms']:.1f} ms self CPU in total")
        for row in result["top"]:
            print(f"  {row['self_cpu_ms']:8.2f} ms {row['calls']:4d}x {row['op']:40s} {row['shapes']}")
    save_results("profile_model", {"atoms": args.atoms, "dtype": args.dtype,
                                   "profiles": sections}, args.output)


if __name__ == "__main__":
    main()
