"""One peer-benchmark case, run inside the venv of the code it measures (see bench_peers.py).

    python benchmarks/_peer_cases.py --code {mace,nequip,equiforce} --atoms N --dtype float64 \
        [--repeats 3] [--warmup 4] [--md-steps 5] [--md-warmup 2] [--threads 2] \
        [--nequip-layers 3]

Builds the code's model with random weights (``torch.manual_seed(0)``) at the shared size
(fcc Cu, cutoff 5 A, 32 channels, l_max 1), builds fcc Cu (a = 3.61 A, cubic cells repeated
to N atoms, rattled 0.05 A with seed 0) and times

(a) ``model``: one bare model call giving energy, forces and stress, after ``warmup``
    untimed calls (MACE's e3nn 0.4.4 TorchScript modules reach steady speed only after ~4
    calls). The input graph (the code's own neighbour list and data pipeline) is built
    before the clock starts, for all three codes; its build time is reported separately
    as ``graph_seconds``.
(b) ``md``: one velocity-Verlet step (``ase.md.verlet.VelocityVerlet``, 1 fs, velocities
    drawn at 300 K with seed 0) through the code's own ASE calculator, neighbour list
    included, after ``md_warmup`` untimed steps.

Both are medians over ``repeats`` (an MD repeat is ``md_steps`` steps). Peak resident
memory comes from ``resource.getrusage(RUSAGE_SELF).ru_maxrss``, after the model calls and
again at the end. The result is printed as ONE JSON line on stdout (the last line).

This file must import nothing from equiforce at module level: the MACE and NequIP venvs
do not have it. ``_common`` only needs torch and ase.
"""
from __future__ import annotations

import argparse
import json
import logging
import resource
import statistics
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import cu_atoms  # noqa: E402

CUTOFF = 5.0
CHANNELS = 32
L_MAX = 1
AVG_NUM_NEIGHBORS = 42.0


def rss_mib() -> float:
    """Peak resident set size of this process so far (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


# --- per-code builders: each returns (settings, make_graph, call_model, calculator) ----------
# make_graph(atoms) builds the model input (neighbour list included); call_model(graph)
# returns (energy, forces, stress) tensors; calculator is the code's ASE calculator.


def build_equiforce(dtype: torch.dtype, args) -> tuple:
    from md_drivers import EquiforceCalculator
    from potentials import DeployedPotential, EquivariantPotential, PotentialConfig, atoms_to_graph

    config = PotentialConfig(species=(29,), cutoff=CUTOFF, l_max=L_MAX, channels=CHANNELS,
                             num_layers=2, correlation=3, avg_num_neighbors=AVG_NUM_NEIGHBORS)
    model = EquivariantPotential(config, dtype=dtype).eval()
    deployed = DeployedPotential.from_model(model, dtype)

    def make_graph(atoms):
        return atoms_to_graph(atoms, CUTOFF, (29,), dtype=dtype).model_inputs()

    def call_model(inputs):
        out = deployed(*inputs)
        return out["energy"], out["forces"], out["stress"]

    from importlib.metadata import version

    settings = {"version": version("equiforce"), "config": config.to_dict(),
                "model_call": "DeployedPotential.from_model(model)"
                              "(*atoms_to_graph(...).model_inputs())",
                "neighbor_list": "vesin (atoms_to_graph), excluded from the model call",
                "calculator": "md_drivers.EquiforceCalculator(model, dtype=dtype, skin=1.0)",
                "md_neighbor_list": "vesin with a 1 A Verlet skin (rebuilt only when needed)"}
    return settings, make_graph, call_model, EquiforceCalculator(model, dtype=dtype, skin=1.0)


def build_mace(dtype: torch.dtype, args) -> tuple:
    import mace
    from e3nn import o3
    from mace import modules
    from mace.calculators import MACECalculator

    torch.set_default_dtype(dtype)          # MACE builds its buffers in the default dtype
    hyper = {"r_max": CUTOFF, "num_bessel": 8, "num_polynomial_cutoff": 5,
             "max_ell": L_MAX, "num_interactions": 2,
             "hidden_irreps": f"{CHANNELS}x0e+{CHANNELS}x1o",
             "MLP_irreps": "16x0e", "correlation": 3, "radial_MLP": [64, 64, 64],
             "avg_num_neighbors": AVG_NUM_NEIGHBORS, "gate": "silu",
             "interaction": "RealAgnosticResidualInteractionBlock",
             "interaction_first": "RealAgnosticInteractionBlock", "use_reduced_cg": False}
    model = modules.ScaleShiftMACE(
        r_max=hyper["r_max"], num_bessel=hyper["num_bessel"],
        num_polynomial_cutoff=hyper["num_polynomial_cutoff"], max_ell=hyper["max_ell"],
        interaction_cls=modules.interaction_classes[hyper["interaction"]],
        interaction_cls_first=modules.interaction_classes[hyper["interaction_first"]],
        num_interactions=hyper["num_interactions"], num_elements=1,
        hidden_irreps=o3.Irreps(hyper["hidden_irreps"]), MLP_irreps=o3.Irreps(hyper["MLP_irreps"]),
        atomic_energies=np.zeros(1), avg_num_neighbors=hyper["avg_num_neighbors"],
        atomic_numbers=[29], correlation=hyper["correlation"],
        gate=modules.gate_dict[hyper["gate"]], radial_MLP=hyper["radial_MLP"],
        use_reduced_cg=hyper["use_reduced_cg"], atomic_inter_scale=1.0, atomic_inter_shift=0.0,
    ).to(dtype).eval()
    dtype_name = str(dtype).removeprefix("torch.")
    calc = MACECalculator(models=model, device="cpu", default_dtype=dtype_name)
    calc_model = calc.models[0]

    def make_graph(atoms):                     # mace's own data pipeline (matscipy list)
        return calc._atoms_to_batch(atoms).to_dict()

    def call_model(data):                      # a new dict: the model replaces its entries
        out = calc_model(dict(data), compute_stress=True, training=False)
        return out["energy"], out["forces"], out["stress"]

    settings = {"version": mace.__version__, "model": "mace.modules.ScaleShiftMACE", **hyper,
                "model_call": "model(batch.to_dict(), compute_stress=True) on the batch of "
                              "MACECalculator._atoms_to_batch",
                "neighbor_list": "matscipy via mace.data.AtomicData.from_config, excluded from "
                                 "the model call",
                "calculator": "mace.calculators.MACECalculator(models=<in-memory model>)",
                "md_neighbor_list": "matscipy, rebuilt every step"}
    return settings, make_graph, call_model, calc


def build_nequip(dtype: torch.dtype, args) -> tuple:
    import nequip
    from nequip.data import AtomicDataDict
    from nequip.data._nl import DEFAULT_NEIGHBORLIST_BACKEND
    from nequip.integrations.ase import NequIPCalculator
    from nequip.integrations.utils import basic_transforms
    from nequip.model import NequIPGNNModel
    from nequip.nn import graph_model
    from nequip.utils.global_state import set_global_state

    set_global_state(allow_tf32=False)        # nequip requires it; sets float64 default dtype
    dtype_name = str(dtype).removeprefix("torch.")
    hyper = {"r_max": CUTOFF, "l_max": L_MAX, "num_features": CHANNELS,
             "num_layers": args.nequip_layers, "avg_num_neighbors": AVG_NUM_NEIGHBORS,
             "model_dtype": dtype_name, "parity": True}
    model = NequIPGNNModel(seed=0, type_names=["Cu"], r_max=hyper["r_max"], l_max=hyper["l_max"],
                           num_features=hyper["num_features"], num_layers=hyper["num_layers"],
                           avg_num_neighbors=hyper["avg_num_neighbors"],
                           model_dtype=dtype_name, parity=hyper["parity"]).eval()
    transforms = basic_transforms(model.metadata, CUTOFF, ["Cu"], {"Cu": "Cu"},
                                  neighborlist_backend=DEFAULT_NEIGHBORLIST_BACKEND)
    calc = NequIPCalculator(model=model, device="cpu", transforms=transforms)

    def make_graph(atoms):
        return calc.atoms_to_data(atoms)        # nequip's own transforms (neighbour list)

    def call_model(data):
        out = calc.call_model(dict(data))
        return (out[AtomicDataDict.TOTAL_ENERGY_KEY], out[AtomicDataDict.FORCE_KEY],
                out[AtomicDataDict.STRESS_KEY])

    settings = {"version": nequip.__version__, "model": "nequip.model.NequIPGNNModel", **hyper,
                "seed": 0, "radial_mlp_width": 128, "radial_mlp_depth": 1,
                "model_call": "NequIPCalculator.call_model(data) on NequIPCalculator.atoms_to_data",
                "neighbor_list": f"{DEFAULT_NEIGHBORLIST_BACKEND} (nequip's "
                                 "NeighborListTransform), excluded from the model call",
                "calculator": "nequip.integrations.ase.NequIPCalculator(model=<in-memory "
                              "eager model>, transforms=basic_transforms(...))",
                "md_neighbor_list": f"{DEFAULT_NEIGHBORLIST_BACKEND}, rebuilt every step",
                "graph_model_r_max": float(model.metadata[graph_model.R_MAX_KEY])}
    return settings, make_graph, call_model, calc


BUILDERS = {"equiforce": build_equiforce, "mace": build_mace, "nequip": build_nequip}


# --- timing ---------------------------------------------------------------------------------


def time_model(atoms, make_graph, call_model, repeats: int, warmup: int) -> dict:
    """Bare model calls on a prebuilt graph; the graph build is timed on its own."""
    graph_times = []
    for _ in range(max(1, repeats)):
        start = time.perf_counter()
        graph = make_graph(atoms)
        graph_times.append(time.perf_counter() - start)
    for _ in range(max(1, warmup)):   # e3nn codegen, TorchScript profiling runs, allocator
        energy, forces, stress = call_model(graph)
    shapes_ok = tuple(forces.shape) == (len(atoms), 3) and stress.numel() in (6, 9)
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        energy, forces, stress = call_model(graph)
        float(energy.sum())
        times.append(time.perf_counter() - start)
    return {"model_seconds_median": statistics.median(times), "model_seconds_min": min(times),
            "model_seconds_all": times, "model_warmup_calls": max(1, warmup),
            "graph_seconds": statistics.median(graph_times),
            "energy": float(energy.sum()), "max_abs_force": float(forces.abs().max()),
            "outputs_ok": bool(shapes_ok and torch.isfinite(forces).all())}


def time_md(atoms, calc, repeats: int, steps: int, warmup: int) -> dict:
    """Seconds per velocity-Verlet step through the code's ASE calculator."""
    from ase import units
    from ase.md.velocitydistribution import MaxwellBoltzmannDistribution
    from ase.md.verlet import VelocityVerlet

    atoms = atoms.copy()
    atoms.calc = calc
    calculator_energy = float(atoms.get_potential_energy())   # same model as the bare call?
    MaxwellBoltzmannDistribution(atoms, temperature_K=300, rng=np.random.default_rng(0))
    dyn = VelocityVerlet(atoms, timestep=1.0 * units.fs)
    dyn.run(warmup)
    per_step = []
    for _ in range(repeats):
        start = time.perf_counter()
        dyn.run(steps)
        per_step.append((time.perf_counter() - start) / steps)
    atoms.get_stress()                                # the calculator computes stress too
    return {"md_seconds_per_step_median": statistics.median(per_step),
            "md_seconds_per_step_min": min(per_step), "md_seconds_per_step_all": per_step,
            "md_steps": steps, "md_warmup": warmup, "calculator_energy": calculator_energy,
            "md_energy_final": float(atoms.get_total_energy())}


def run_case(args) -> dict:
    torch.set_num_threads(args.threads)
    dtype = getattr(torch, args.dtype)
    torch.manual_seed(0)
    atoms = cu_atoms(args.atoms)
    rss_start = rss_mib()
    settings, make_graph, call_model, calc = BUILDERS[args.code](dtype, args)
    row = {"code": args.code, "num_atoms": args.atoms, "dtype": args.dtype,
           "threads": torch.get_num_threads(), "repeats": args.repeats, "torch": torch.__version__,
           "python": sys.executable, "settings": settings, "rss_start_mib": rss_start}
    row.update(time_model(atoms, make_graph, call_model, args.repeats, args.warmup))
    row["peak_rss_model_mib"] = rss_mib()
    if args.md_steps > 0:
        row.update(time_md(atoms, calc, args.repeats, args.md_steps, args.md_warmup))
    row["peak_rss_mib"] = rss_mib()
    return row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--code", choices=sorted(BUILDERS), required=True)
    parser.add_argument("--atoms", type=int, required=True)
    parser.add_argument("--dtype", choices=["float32", "float64"], required=True)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--warmup", type=int, default=4, help="untimed model calls")
    parser.add_argument("--md-steps", type=int, default=5)
    parser.add_argument("--md-warmup", type=int, default=2)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--nequip-layers", type=int, default=3)
    args = parser.parse_args()
    logging.disable(logging.WARNING)       # MACE logs dtype switches; keep stdout clean
    warnings.simplefilter("ignore")
    row = run_case(args)
    sys.stdout.flush()
    print(json.dumps(row))


if __name__ == "__main__":
    main()
