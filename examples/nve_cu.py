"""NVE molecular dynamics of fcc Cu on the shipped cu-emt potential, interrupted and resumed.

    python examples/nve_cu.py [--repeat 3] [--steps 2000] [--out runs/nve-cu] [--overwrite]

Runs half the steps, "interrupts", resumes from the checkpoint to the full length with
``resume_md``, then prints speed, the energy drift per atom per ps and where the outputs
(thermo.csv, thermo.png, trajectory.dcd + topology.pdb, trajectory.extxyz) are.
``--out`` must not hold a run already unless ``--overwrite`` is given (then that run's
files are replaced; nothing else in the folder is touched).
"""
import argparse
from pathlib import Path

from md_drivers.runner import MDConfig, resume_md, run_md


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3, help="cubic cells per side (3: 108 atoms)")
    parser.add_argument("--steps", type=int, default=2000, help="1 fs steps in total")
    parser.add_argument("--out", default="runs/nve-cu")
    parser.add_argument("--overwrite", action="store_true", help="replace a run in --out")
    args = parser.parse_args()

    out = Path(args.out)
    n = args.repeat
    config = MDConfig(structure=f"fcc-Cu:{n}x{n}x{n}", potential=("cu-emt",), ensemble="nve",
                      steps=max(1, args.steps // 2), temperature_K=300.0, output_interval=10,
                      checkpoint_interval=10)
    first = run_md(config, out, progress=False, overwrite=args.overwrite)
    print(f"first half: {first.steps} steps, {first.steps_per_second:.1f} steps/s")
    summary = resume_md(out, steps=args.steps, progress=False)
    print(f"resumed to {summary.steps} steps: {summary.num_atoms} atoms, "
          f"{summary.steps_per_second:.1f} steps/s, {summary.ns_per_day:.2f} ns/day")
    print(f"NVE energy drift {1e3 * summary.drift_eV_per_atom_per_ps:.2e} meV/atom/ps, "
          f"mean T {summary.mean_temperature_K:.0f} K")
    print(f"outputs in {out}")


if __name__ == "__main__":
    main()
