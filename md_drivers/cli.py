"""The ``equiforce`` command line."""
from __future__ import annotations

import argparse
import logging
import sys
from typing import Optional, Sequence

__all__ = ["main"]


def _demo(args: argparse.Namespace) -> int:
    from .demo import NVEDemoSettings, run_nve_demo

    settings = NVEDemoSettings(repeat=args.repeat, steps=args.steps, dtype=args.dtype)
    result = run_nve_demo(settings)
    print(f"NVE fcc Cu: {result.num_atoms} atoms, {settings.steps} steps of "
          f"{settings.timestep_fs} fs, {settings.dtype}")
    print(f"  time per step            {1e3 * result.seconds_per_step:8.1f} ms "
          f"({result.neighbor_builds} neighbour-list builds)")
    print(f"  total energy drift       {1e3 * result.drift_per_atom:10.2e} meV/atom")
    print(f"  total energy std         {1e3 * result.total_energy_std:10.2e} meV")
    print(f"  kinetic energy std       {1e3 * result.kinetic_energy_std:10.4f} meV "
          f"(the scale a broken integrator would show)")
    return 0


def _export(args: argparse.Namespace) -> int:
    import torch

    from potentials import export
    from potentials.checkpoint import model_from_file

    model = model_from_file(args.source, seed=args.seed)
    dtype = getattr(torch, args.dtype) if args.dtype else None
    path = export(model, args.output, format=args.format, dtype=dtype, device=args.device)
    print(f"wrote {args.format} potential to {path}")
    return 0


def _info(args: argparse.Namespace) -> int:
    import json

    from potentials import load

    metadata = load(args.model).metadata
    summary = {key: metadata[key] for key in ("format", "format_version", "symbols", "cutoff",
                                              "dtype", "device", "units", "versions", "created")}
    print(json.dumps(summary, indent=2))
    print("config:", json.dumps(metadata["config"]))
    print("provenance:", json.dumps(metadata["provenance"]))
    return 0


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="equiforce", description=__doc__)
    parser.add_argument("-v", "--verbose", action="store_true", help="log at INFO level")
    commands = parser.add_subparsers(dest="command", required=True)
    demo = commands.add_parser("demo", help="short NVE MD of fcc Cu on an embedded potential")
    demo.add_argument("--repeat", type=int, default=3, help="cubic cells per side (3: 108 atoms)")
    demo.add_argument("--steps", type=int, default=300, help="number of 1 fs steps")
    demo.add_argument("--dtype", choices=("float32", "float64"), default="float64")
    demo.set_defaults(func=_demo)

    exp = commands.add_parser("export", help="write a deployable model file")
    exp.add_argument("source", help="checkpoint (.pt) or model config (.json/.yaml)")
    exp.add_argument("output", help="output file (.pt for torchscript, .pt2 for aotinductor)")
    exp.add_argument("--format", choices=("torchscript", "aotinductor"), default="torchscript")
    exp.add_argument("--dtype", choices=("float32", "float64"), help="default: the model's")
    exp.add_argument("--device", default="cpu")
    exp.add_argument("--seed", type=int, default=0, help="weight seed when SOURCE is a config")
    exp.set_defaults(func=_export)

    info = commands.add_parser("info", help="print a model file's metadata")
    info.add_argument("model")
    info.set_defaults(func=_info)
    return parser


def main(argv: Optional[Sequence[str]] = None) -> int:
    args = _parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING,
                        format="%(levelname)s %(name)s: %(message)s")
    try:
        return args.func(args)
    except (ValueError, FileNotFoundError) as error:
        print(f"equiforce: error: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
