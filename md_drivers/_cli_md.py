"""``equiforce md`` and ``equiforce demo``: argument parsing and reporting."""
from __future__ import annotations

import argparse
import math
import sys

__all__ = ["add_md_commands"]


def add_md_commands(commands) -> None:
    """Register the ``md`` and ``demo`` sub-commands on an argparse sub-parser group."""
    from .runner import ENSEMBLES, TRAJECTORY_FORMATS

    md = commands.add_parser("md", help="run MD from a structure and a potential (or --resume)")
    md.add_argument("structure", nargs="?", help="structure file (extxyz, CIF, POSCAR, PDB, ...) "
                    "or a built-in such as fcc-Cu:4x4x4")
    md.add_argument("--potential", nargs="+", help="file(s) or shipped name(s); several = committee")
    md.add_argument("--resume", metavar="RUN_DIR", help="continue the run in RUN_DIR")
    md.add_argument("--out", default="runs/md", help="new run directory")
    md.add_argument("--overwrite", action="store_true",
                    help="replace a run already in --out (else it is an error)")
    md.add_argument("--engine", choices=sorted(ENSEMBLES), default="ase")
    md.add_argument("--ensemble", default="nve",
                    help="; ".join(f"{e}: {', '.join(v)}" for e, v in ENSEMBLES.items()))
    md.add_argument("--timestep", type=float, default=1.0, help="fs")
    md.add_argument("--temperature", type=float, default=300.0, help="K")
    md.add_argument("--pressure", type=float, default=1.0, help="bar (NPT)")
    md.add_argument("--friction", type=float, default=1.0, help="Langevin friction, 1/ps")
    length = md.add_mutually_exclusive_group()
    length.add_argument("--steps", type=int, help="MD steps (default 1000)")
    length.add_argument("--time", type=float, help="simulated time, ps")
    md.add_argument("--output-interval", type=int, default=10, help="steps between frames")
    md.add_argument("--checkpoint-interval", type=int, default=100, help="steps between checkpoints")
    md.add_argument("--seed", type=int, default=0)
    md.add_argument("--device", default="cpu")
    md.add_argument("--dtype", choices=("float32", "float64"))
    md.add_argument("--format", choices=TRAJECTORY_FORMATS, default="dcd")
    md.add_argument("--committee-threshold", type=float, help="eV/A: save frames above it")
    md.add_argument("--max-force", type=float, default=20.0, help="watchdog, eV/A")
    md.add_argument("--min-distance", type=float, default=0.5, help="watchdog, A")
    md.add_argument("--max-temperature", type=float, default=5000.0, help="watchdog, K")
    md.add_argument("--no-progress", action="store_true")
    md.set_defaults(func=_md)

    demo = commands.add_parser("demo", help="NVT then NVE of fcc Cu on the shipped cu-emt potential")
    demo.add_argument("--repeat", type=int, default=4, help="cubic cells per side (4: 256 atoms)")
    demo.add_argument("--nvt-steps", type=int, default=500)
    demo.add_argument("--nve-steps", type=int, default=1500)
    demo.add_argument("--engine", choices=sorted(ENSEMBLES), default="ase")
    demo.add_argument("--out", default="runs/demo")
    demo.add_argument("--no-progress", action="store_true")
    demo.set_defaults(func=_demo)


def _md(args: argparse.Namespace) -> int:
    from .runner import MDConfig, WatchdogConfig, WatchdogTripped, resume_md, run_md

    progress = not args.no_progress
    try:
        if args.resume:
            summary = resume_md(args.resume, steps=_steps(args, None), progress=progress)
        else:
            if not args.structure or not args.potential:
                raise ValueError("give a STRUCTURE and --potential (or --resume RUN_DIR)")
            config = MDConfig(
                structure=args.structure, potential=tuple(args.potential), engine=args.engine,
                ensemble=args.ensemble, timestep_fs=args.timestep, steps=_steps(args, 1000),
                temperature_K=args.temperature, pressure_bar=args.pressure,
                friction_per_ps=args.friction, output_interval=args.output_interval,
                checkpoint_interval=args.checkpoint_interval, seed=args.seed,
                device=args.device, dtype=args.dtype, trajectory_format=args.format,
                committee_threshold=args.committee_threshold,
                watchdog=WatchdogConfig(max_force=args.max_force, min_distance=args.min_distance,
                                        max_temperature=args.max_temperature))
            summary = run_md(config, args.out, progress=progress, overwrite=args.overwrite)
    except WatchdogTripped as trip:
        print(f"equiforce md: stopped: {trip}", file=sys.stderr)
        return 3
    _report(summary)
    return 0


def _steps(args: argparse.Namespace, default):
    """Steps from ``--steps`` or ``--time`` (ps); a time that is not a positive, finite
    number of ps or is shorter than one timestep is an error, not one silent step."""
    if args.time is None:
        return args.steps if args.steps is not None else default
    if not math.isfinite(args.time) or args.time <= 0:
        raise ValueError(f"--time must be a positive number of ps, got {args.time}")
    if not math.isfinite(args.timestep) or args.timestep <= 0:
        raise ValueError(f"--timestep must be a positive number of fs, got {args.timestep}")
    steps = round(args.time * 1000.0 / args.timestep)
    if steps < 1:
        raise ValueError(f"--time {args.time} ps is shorter than one {args.timestep} fs step")
    return steps


def _report(summary) -> None:
    print(f"{summary.steps} steps ({summary.simulated_ps:g} ps) of {summary.num_atoms} atoms in "
          f"{summary.wall_seconds:.1f} s: {summary.steps_per_second:.1f} steps/s, "
          f"{summary.ns_per_day:.3f} ns/day; mean T {summary.mean_temperature_K:.1f} K")
    if summary.drift_eV_per_atom_per_ps is not None:
        print(f"NVE energy drift: {1e3 * summary.drift_eV_per_atom_per_ps:.2e} meV/atom/ps")
    if summary.max_forces_std_eV_A is not None:
        print(f"committee: max force spread {summary.max_forces_std_eV_A:.3f} eV/A, "
              f"{summary.uncertain_frames} frames saved for retraining")
    print(f"outputs in {summary.run_dir}")


def _demo(args: argparse.Namespace) -> int:
    from .demo import DemoSettings, run_demo

    settings = DemoSettings(repeat=args.repeat, nvt_steps=args.nvt_steps,
                            nve_steps=args.nve_steps, engine=args.engine, run_dir=args.out)
    print(f"equiforce demo: fcc Cu, {4 * settings.repeat ** 3} atoms, shipped potential "
          f"'{settings.potential}', engine {settings.engine}: {settings.nvt_steps} steps NVT "
          f"at {settings.temperature_K:g} K, then {settings.nve_steps} steps NVE (1 fs)")
    nvt, nve = run_demo(settings, progress=not args.no_progress)
    for name, summary in (("NVT", nvt), ("NVE", nve)):
        print(f"{name}: ", end="")
        _report(summary)
    return 0
