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


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="equiforce", description=__doc__)
    parser.add_argument("-v", "--verbose", action="store_true", help="log at INFO level")
    commands = parser.add_subparsers(dest="command", required=True)
    demo = commands.add_parser("demo", help="short NVE MD of fcc Cu on an embedded potential")
    demo.add_argument("--repeat", type=int, default=3, help="cubic cells per side (3: 108 atoms)")
    demo.add_argument("--steps", type=int, default=300, help="number of 1 fs steps")
    demo.add_argument("--dtype", choices=("float32", "float64"), default="float64")
    demo.set_defaults(func=_demo)
    return parser


def main(argv: Optional[Sequence[str]] = None) -> int:
    args = _parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING,
                        format="%(levelname)s %(name)s: %(message)s")
    try:
        return args.func(args)
    except ValueError as error:
        print(f"equiforce: error: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
