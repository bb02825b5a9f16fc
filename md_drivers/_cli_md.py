"""``equiforce md`` and ``equiforce demo``: argument parsing and reporting."""
from __future__ import annotations

import argparse
import logging
import math
import sys
from dataclasses import fields

from .runner.config import ENSEMBLES, TRAJECTORY_FORMATS, MDConfig
from .runner.watchdog import WatchdogConfig

__all__ = ["add_md_commands"]

_DEFAULTS = {f.name: f.default for f in fields(MDConfig)}
_WATCHDOG = WatchdogConfig()
# option, MDConfig field, type, help (the unit); their defaults are MDConfig's
_RUN_OPTIONS = (
    ("--engine", "engine", str, "MD engine"),
    ("--ensemble", "ensemble", str,
     "; ".join(f"{e}: {', '.join(v)}" for e, v in ENSEMBLES.items())),
    ("--timestep", "timestep_fs", float, "fs"),
    ("--temperature", "temperature_K", float, "K: thermostat target and initial velocities"),
    ("--pressure", "pressure_bar", float, "bar (NPT)"),
    ("--friction", "friction_per_ps", float, "Langevin friction, 1/ps"),
    ("--output-interval", "output_interval", int, "steps between frames and thermo rows"),
    ("--checkpoint-interval", "checkpoint_interval", int, "steps between checkpoints"),
    ("--seed", "seed", int, "velocities and thermostat noise"),
    ("--device", "device", str, "torch device of the potential"),
    ("--dtype", "dtype", str, "precision of the potential (default: the file's)"),
    ("--format", "trajectory_format", str, "trajectory format (always with an extxyz copy)"),
    ("--committee-threshold", "committee_threshold", float,
     "eV/A: save committee frames above it for retraining (default: off)"),
    ("--skin", "skin", float, "Verlet skin of the neighbour list, A"),
    ("--tdamp", "tdamp_fs", float, "Nose-Hoover time constant, fs"),
    ("--pdamp", "pdamp_fs", float, "MTK barostat time constant, fs"),
    ("--barostat-interval", "barostat_interval", int, "steps between Monte Carlo volume moves"),
)
_WATCHDOG_OPTIONS = (("--max-force", "max_force", "eV/A"), ("--min-distance", "min_distance", "A"),
                     ("--max-temperature", "max_temperature", "K"))
_OPTION_OF = {name: option for option, name, _, _ in _RUN_OPTIONS} | {"steps": "--steps"}
_OUT = "runs/md"
# what a resume may be given: it continues the run as configured in RUN_DIR/config.json;
# every other md option defaults to None (False for flags), so "given" is "not None"
_RESUME_OPTIONS = ("resume", "steps", "time", "no_progress", "func", "command", "verbose")

log = logging.getLogger("equiforce.md")


class _DefaultsShown(argparse.HelpFormatter):
    """Shows every option's default in ``--help`` (except unset, off and self-described;
    ``md``'s options default to None and state MDConfig's defaults in their help)."""

    def _get_help_string(self, action: argparse.Action) -> str:
        text = action.help or ""
        if (action.default is None or action.default is False
                or action.default == argparse.SUPPRESS or "default" in text):
            return text
        return f"{text} (default: %(default)s)"


def add_md_commands(commands) -> None:
    """Register the ``md`` and ``demo`` sub-commands on an argparse sub-parser group."""
    md = commands.add_parser("md", help="run MD from a structure and a potential (or --resume)")
    md.add_argument("structure", nargs="?", help="structure file (extxyz, CIF, POSCAR, PDB, ...) "
                    "or a built-in: fcc-Cu:4x4x4, bcc-Fe:4x4x4:a=2.87, molecule-CH3CH2OH")
    md.add_argument("--potential", nargs="+", help="file(s) or shipped name(s); several = committee")
    md.add_argument("--resume", metavar="RUN_DIR", help="continue the run in RUN_DIR as "
                    "configured there (only --steps/--time may extend it)")
    md.add_argument("--out", help=f"new run directory (default: {_OUT})")
    md.add_argument("--overwrite", action="store_true",
                    help="replace a run already in --out (else it is an error)")
    for option, name, kind, unit in _RUN_OPTIONS:
        extra = {"choices": sorted(ENSEMBLES)} if option == "--engine" else {}
        extra = {"choices": TRAJECTORY_FORMATS} if option == "--format" else extra
        extra = {"choices": ("float32", "float64")} if option == "--dtype" else extra
        shown = "" if "default" in unit else f" (default: {_DEFAULTS[name]})"
        md.add_argument(option, type=kind, help=unit + shown, **extra)
    length = md.add_mutually_exclusive_group()
    length.add_argument("--steps", type=int, help=f"MD steps (default: {_DEFAULTS['steps']})")
    length.add_argument("--time", type=float, help="simulated time, ps (instead of --steps)")
    for option, name, unit in _WATCHDOG_OPTIONS:
        md.add_argument(option, type=float,
                        help=f"watchdog, {unit} (default: {getattr(_WATCHDOG, name)})")
    md.add_argument("--keep-velocities", action="store_true",
                    help="start from the structure's momenta (e.g. an extxyz frame) instead "
                         "of Maxwell-Boltzmann velocities at --temperature")
    md.add_argument("--config", metavar="FILE", help="YAML or JSON file of MDConfig fields "
                    "(structure, potential, ensemble, ..., watchdog: {...}); options given on "
                    "the command line override it")
    md.add_argument("--no-progress", action="store_true")
    md.set_defaults(func=_md)

    demo = commands.add_parser("demo", help="NVT then NVE of fcc Cu on the shipped cu-emt potential",
                               formatter_class=_DefaultsShown)
    demo.add_argument("--repeat", type=int, default=4, help="cubic cells per side (4: 256 atoms)")
    demo.add_argument("--nvt-steps", type=int, default=500)
    demo.add_argument("--nve-steps", type=int, default=1500)
    demo.add_argument("--engine", choices=sorted(ENSEMBLES), default="ase")
    demo.add_argument("--out", default="runs/demo")
    demo.add_argument("--no-progress", action="store_true")
    demo.set_defaults(func=_demo)


def _md(args: argparse.Namespace) -> int:
    from .runner import WatchdogTripped, resume_md, run_md

    progress = not args.no_progress
    try:
        if args.resume:
            _refuse_what_a_resume_cannot_honour(args)
            summary = resume_md(args.resume, steps=_steps(args, None, _resume_timestep(args)),
                                progress=progress)
        else:
            config, out = _config(args), args.out or _OUT
            _say(config, out, temperature_given=args.temperature is not None)
            summary = run_md(config, out, progress=progress, overwrite=args.overwrite)
    except WatchdogTripped as trip:
        print(f"equiforce md: stopped: {trip}", file=sys.stderr)
        return 3
    _report(summary)
    return 0


def _config(args: argparse.Namespace):
    """The MDConfig of MDConfig's defaults, then ``--config``'s file, then the options
    given; its errors name the option."""
    from .runner import MDConfig

    values = _config_file(args.config) if args.config else {}
    watchdog = dict(values.pop("watchdog", None) or {})
    values.update({name: value for option, name, _, _ in _RUN_OPTIONS
                   if (value := _given(args, option, None)) is not None})
    values.update({name: value for name, value in (("structure", args.structure),
                  ("potential", args.potential)) if value})
    watchdog.update({name: value for option, name, _ in _WATCHDOG_OPTIONS
                     if (value := _given(args, option, None)) is not None})
    if args.keep_velocities:
        values["maxwell_boltzmann"] = False
    if not values.get("structure") or not values.get("potential"):
        raise ValueError("give a STRUCTURE and --potential (or --resume RUN_DIR, or a --config "
                         "file naming them)")
    steps = _steps(args, values.get("steps", _DEFAULTS["steps"]),
                   values.get("timestep_fs", _DEFAULTS["timestep_fs"]))
    try:
        return MDConfig.from_dict({**values, "steps": steps, "watchdog": watchdog})
    except (ValueError, TypeError) as error:
        message = str(error)
        field_name = message.split(" ", 1)[0]
        if field_name in _OPTION_OF:  # "temperature_K must ..." -> "--temperature (...) must"
            message = message.replace(field_name, f"{_OPTION_OF[field_name]} ({field_name})", 1)
        raise ValueError(message) from None


def _config_file(path: str) -> dict:
    """MDConfig fields from a YAML (or JSON, a subset of YAML) file."""
    from pathlib import Path

    import yaml

    try:
        values = yaml.safe_load(Path(path).read_text())
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        raise ValueError(f"{path}: not valid YAML: {where}{getattr(error, 'problem', error)}") \
            from None
    if not isinstance(values, dict):
        raise ValueError(f"{path}: expected a mapping of MDConfig fields, got {values!r}")
    return values


def _say(config, out: str, temperature_given: bool) -> None:
    """Print the resolved configuration; warn about options that will not act."""
    parts = [f"{config.structure} with {', '.join(config.potential)}",
             f"engine {config.engine}, {config.ensemble}, {config.steps} steps of "
             f"{config.timestep_fs:g} fs, T {config.temperature_K:g} K"
             + (f", P {config.pressure_bar:g} bar" if config.is_npt else "")
             + (f", friction {config.friction_per_ps:g}/ps" if "langevin" in config.ensemble
                else ""),
             f"frames every {config.output_interval}, checkpoints every "
             f"{config.checkpoint_interval}, {config.trajectory_format}; seed {config.seed}",
             f"{config.device}, {config.dtype or 'dtype of the file'} -> {out}"]
    print("equiforce md: " + "; ".join(parts), flush=True)
    if config.is_nve and temperature_given:
        log.warning("--ensemble nve has no thermostat: --temperature %g K only draws the "
                    "initial velocities (the run then finds its own temperature, about half "
                    "of it for a crystal); use --ensemble nvt-langevin to hold %g K",
                    config.temperature_K, config.temperature_K)


def _given(args: argparse.Namespace, option: str, default):
    value = getattr(args, option[2:].replace("-", "_"))
    return default if value is None else value


def _refuse_what_a_resume_cannot_honour(args: argparse.Namespace) -> None:
    given = sorted(f"--{name.replace('_', '-')}" for name, value in vars(args).items()
                   if name not in _RESUME_OPTIONS and value is not None and value is not False)
    if given:
        shown = ", ".join("STRUCTURE" if name == "--structure" else name for name in given)
        raise ValueError(f"--resume continues the run in {args.resume} as configured in its "
                         f"config.json; it cannot change {shown}. Only --steps or --time (the "
                         "new total) may extend it; start a new run (--out) to change the rest")


def _resume_timestep(args: argparse.Namespace) -> float:
    import json
    from pathlib import Path

    config = Path(args.resume) / "config.json"
    if args.time is None or not config.is_file():
        return _DEFAULTS["timestep_fs"]
    return float(json.loads(config.read_text()).get("timestep_fs", _DEFAULTS["timestep_fs"]))


def _steps(args: argparse.Namespace, default, timestep_fs: float):
    """Steps from ``--steps`` or ``--time`` (ps); a time that is not a positive, finite
    number of ps or is shorter than one timestep is an error, not one silent step."""
    if args.time is None:
        return args.steps if args.steps is not None else default
    if not math.isfinite(args.time) or args.time <= 0:
        raise ValueError(f"--time must be a positive number of ps, got {args.time}")
    if not math.isfinite(timestep_fs) or timestep_fs <= 0:
        raise ValueError(f"--timestep must be a positive number of fs, got {timestep_fs}")
    steps = round(args.time * 1000.0 / timestep_fs)
    if steps < 1:
        raise ValueError(f"--time {args.time} ps is shorter than one {timestep_fs} fs step")
    return steps


def _report(summary) -> None:
    speed = ("" if summary.steps_per_second is None else
             f": {summary.steps_per_second:.1f} steps/s, {summary.ns_per_day:.3f} ns/day")
    print(f"{summary.steps_run} steps of {summary.num_atoms} atoms in "
          f"{summary.wall_seconds:.1f} s{speed}; mean T {summary.mean_temperature_K:.1f} K")
    if summary.steps_run != summary.steps:
        print(f"run total: {summary.steps} steps ({summary.simulated_ps:g} ps) in "
              f"{summary.total_wall_seconds:.1f} s")
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
