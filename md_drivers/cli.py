"""The ``equiforce`` command line."""
from __future__ import annotations

import argparse
import logging
import sys
from typing import Optional, Sequence

from potentials.files import strict_json

from ._cli_lammps import add_lammps_command
from ._cli_learn import add_learn_command
from ._cli_md import add_md_commands

__all__ = ["main"]


def _export(args: argparse.Namespace) -> int:
    import torch

    from potentials import export
    from potentials.checkpoint import model_from_file

    model = model_from_file(args.source, seed=args.seed)
    dtype = getattr(torch, args.dtype) if args.dtype else None
    path = export(model, args.output, format=args.format, dtype=dtype, device=args.device,
                  ops=args.ops)
    print(f"wrote {args.format} potential ({args.ops or model.ops} ops) to {path}")
    return 0


# units of the error metrics a training run stores in a model's provenance
METRIC_UNITS = {"energy": "meV/atom", "forces": "meV/Angstrom", "stress": "meV/Angstrom^3"}


def _info(args: argparse.Namespace) -> int:
    import json

    from potentials import load

    metadata = load(args.model, fast=False).metadata   # the file's own, as written
    summary = {key: metadata[key] for key in ("format", "format_version", "ops", "symbols", "cutoff",
                                              "dtype", "device", "units", "versions", "created")}
    if args.json:
        provenance = dict(metadata["provenance"])
        for key in ("test_metrics", "valid_metrics"):
            provenance[key] = _with_units(provenance.get(key))
        print(strict_json({**summary, "config": metadata["config"], "provenance": provenance}))
        return 0
    print(json.dumps(summary, indent=2))
    print("config:", json.dumps(metadata["config"]))
    print("provenance:", json.dumps(metadata["provenance"]))
    return 0


def _with_units(metrics: Optional[dict]) -> Optional[dict]:
    """``{"forces_mae": 7.5}`` -> ``{"forces_mae": {"value": 7.5, "unit": "meV/Angstrom"}}``."""
    if not metrics:
        return metrics
    return {name: {"value": value, "unit": METRIC_UNITS.get(name.split("_")[0], "")}
            for name, value in metrics.items()}


def _train(args: argparse.Namespace) -> int:
    from potentials.train import TrainConfig, train

    result = train(TrainConfig.from_yaml(args.config), resume=args.resume,
                   overwrite=args.overwrite)
    metrics, label = ((result.test_metrics, "test") if result.test_metrics else
                      (result.valid_metrics, "validation (no test split)"))
    print(f"trained {result.epochs} epochs in {result.wall_seconds:.0f} s; outputs in {result.output}")
    print(f"{label} MAE: energy {metrics['energy_mae']:.2f} meV/atom, forces "
          f"{metrics['forces_mae']:.1f} meV/A"
          + (f", stress {metrics['stress_mae']:.2f} meV/A^3" if "stress_mae" in metrics else ""))
    by_kind = result.test_metrics_by_kind if result.test_metrics else result.valid_metrics_by_kind
    for kind, m in by_kind.items():
        print(f"  {kind}: energy MAE {m['energy_mae']:.2f} meV/atom (mean signed "
              f"{m['energy_me']:+.2f}), forces {m['forces_mae']:.1f} meV/A"
              + (f", stress {m['stress_mae']:.2f} meV/A^3" if "stress_mae" in m else ""))
    print(f"deployed potential: {result.deployed_path}")
    return 0


def _write_data(args: argparse.Namespace, generate, settings, label: str) -> int:
    from potentials.datasets import write_frames

    frames = generate(settings)
    print(f"wrote {len(frames)} {label} frames to {write_frames(args.output, frames)}")
    return 0


def _data_emt(args: argparse.Namespace) -> int:
    from potentials.datasets import EMTSettings, generate_emt

    return _write_data(args, generate_emt, EMTSettings(
        elements=tuple(args.elements), seed=args.seed, repeat=args.repeat,
        frames_per_kind_and_temperature=args.frames, temperatures=tuple(args.temperatures),
        kinds=tuple(args.kinds), structures_per_kind_and_temperature=args.structures,
        alloy_fraction=None if args.alloy_fraction is None else tuple(args.alloy_fraction),
        isolated_atoms=args.isolated_atoms), "EMT")


def _data_xtb(args: argparse.Namespace) -> int:
    from potentials.datasets import XTBSettings, generate_xtb

    return _write_data(args, generate_xtb, XTBSettings(
        molecule=args.molecule, temperatures=tuple(args.temperatures),
        frames_per_temperature=args.frames, seed=args.seed), "GFN2-xTB")


def _data_openmm(args: argparse.Namespace) -> int:
    from potentials.datasets import OpenMMSettings, generate_openmm

    return _write_data(args, generate_openmm, OpenMMSettings(
        pdb=args.pdb, temperatures=tuple(args.temperatures),
        frames_per_temperature=args.frames, stride=args.stride,
        equilibration_steps=args.equilibration, seed=args.seed), "protein")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="equiforce", description=__doc__)
    parser.add_argument("-v", "--verbose", action="store_true", help="log at INFO level")
    parser.add_argument("--version", action="version", version=f"equiforce {_version()}")
    commands = parser.add_subparsers(dest="command", required=True)
    add_md_commands(commands)
    add_lammps_command(commands)
    add_learn_command(commands)

    exp = commands.add_parser("export", help="write a deployable model file")
    exp.add_argument("source", help="checkpoint (.pt) or model config (.json/.yaml)")
    exp.add_argument("output", help="output file (.pt for torchscript, .pt2 for aotinductor)")
    exp.add_argument("--format", choices=("torchscript", "aotinductor"), default="torchscript")
    exp.add_argument("--dtype", choices=("float32", "float64"), help="default: the model's")
    exp.add_argument("--device", default="cpu")
    exp.add_argument("--ops", choices=("e3nn", "cueq"), default=None,
                     help="equivariant-ops backend of the file (default: the model's, e3nn)")
    exp.add_argument("--seed", type=int, default=0, help="weight seed when SOURCE is a config")
    exp.set_defaults(func=_export)

    trainer = commands.add_parser("train", help="train a potential from a YAML config")
    trainer.add_argument("config", help="YAML file with data, model, training, output")
    again = trainer.add_mutually_exclusive_group()
    again.add_argument("--resume", action="store_true", help="continue from OUTPUT/last.pt")
    again.add_argument("--overwrite", action="store_true",
                       help="replace a training run already in OUTPUT (else it is an error)")
    trainer.set_defaults(func=_train)

    data = commands.add_parser("data", help="generate labelled reference data (extxyz)")
    sources = data.add_subparsers(dest="source", required=True)
    emt = sources.add_parser("emt", help="fcc metals and alloys with ASE's EMT")
    emt.add_argument("output", help="extxyz file to write")
    emt.add_argument("--elements", nargs="+", default=["Cu"])
    emt.add_argument("--frames", type=int, default=5, help="frames per structure kind and temperature")
    emt.add_argument("--temperatures", type=float, nargs="+",
                     default=[300.0, 600.0, 900.0, 1200.0, 1500.0])
    emt.add_argument("--repeat", type=int, default=2, help="cubic cells per side of bulk cells")
    emt.add_argument("--kinds", nargs="+", default=["bulk", "vacancy", "surface", "strained"],
                     help="structure kinds: bulk vacancy surface strained")
    emt.add_argument("--structures", type=int, default=1,
                     help="independent starting structures per kind and temperature")
    emt.add_argument("--alloy-fraction", type=float, nargs=2, metavar=("LOW", "HIGH"),
                     help="fraction of atoms not of the first element, drawn per structure")
    emt.add_argument("--no-isolated-atoms", dest="isolated_atoms", action="store_false",
                     help="leave out the one-atom frames that give training its reference "
                          "energies")
    emt.add_argument("--seed", type=int, default=0)
    emt.set_defaults(func=_data_emt)
    xtb = sources.add_parser("xtb", help="a molecule with GFN2-xTB (tblite)")
    xtb.add_argument("output", help="extxyz file to write")
    xtb.add_argument("--molecule", default="CH3CH2OH", help="a name ase.build.molecule knows")
    xtb.add_argument("--frames", type=int, default=50, help="frames per temperature")
    xtb.add_argument("--temperatures", type=float, nargs="+", default=[300.0, 500.0, 800.0])
    xtb.add_argument("--seed", type=int, default=0)
    xtb.set_defaults(func=_data_xtb)
    omm = sources.add_parser("openmm", help="protein frames labelled with protein-only amber14")
    omm.add_argument("output", help="extxyz file to write")
    omm.add_argument("--pdb", help="solvated protein PDB (default: OpenMM's villin test.pdb)")
    omm.add_argument("--frames", type=int, default=20, help="frames per temperature")
    omm.add_argument("--temperatures", type=float, nargs="+", default=[300.0, 350.0, 400.0])
    omm.add_argument("--stride", type=int, default=250, help="2 fs steps between frames")
    omm.add_argument("--equilibration", type=int, default=500, help="2 fs steps before sampling")
    omm.add_argument("--seed", type=int, default=0)
    omm.set_defaults(func=_data_openmm)

    info = commands.add_parser("info", help="print a model file's metadata")
    info.add_argument("model", help="model file or shipped name")
    info.add_argument("--json", action="store_true",
                      help="one JSON document (metrics as value + unit) for scripts")
    info.set_defaults(func=_info)
    return parser


def _version() -> str:
    from importlib import metadata

    try:
        return metadata.version("equiforce")
    except metadata.PackageNotFoundError:
        return "unknown (not installed)"


def main(argv: Optional[Sequence[str]] = None) -> int:
    args = _parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING,
                        format="%(levelname)s %(name)s: %(message)s")
    try:
        return args.func(args)
    except (ValueError, FileNotFoundError, FileExistsError) as error:
        print(f"equiforce: error: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
