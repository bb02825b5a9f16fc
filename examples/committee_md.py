"""Committee uncertainty during MD: three cu-emt potentials trained with different seeds.

    python examples/committee_md.py [--steps 200] [--temperature 1200] [--out runs/committee]

Runs Langevin MD of fcc Cu (108 atoms) with ``CommitteeCalculator`` over the shipped
``cu-emt``, ``cu-emt-seed1`` and ``cu-emt-seed2`` through the MD runner. thermo.csv logs
the largest per-atom force spread of each frame; frames above ``--threshold`` (eV/A) go to
uncertain_frames.extxyz for retraining. Prints the spread at the start and the end of
the run and how many frames were saved.
"""
import argparse
import shutil
from pathlib import Path

import numpy as np

from md_drivers.runner import MDConfig, run_md

MEMBERS = ("cu-emt", "cu-emt-seed1", "cu-emt-seed2")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=200)
    parser.add_argument("--temperature", type=float, default=1200.0)
    parser.add_argument("--threshold", type=float, default=0.02, help="eV/A")
    parser.add_argument("--out", default="runs/committee")
    args = parser.parse_args()

    out = Path(args.out)
    shutil.rmtree(out, ignore_errors=True)
    config = MDConfig(structure="fcc-Cu:3x3x3", potential=MEMBERS, ensemble="nvt-langevin",
                      steps=args.steps, temperature_K=args.temperature, friction_per_ps=5.0,
                      output_interval=10, checkpoint_interval=100,
                      committee_threshold=args.threshold)
    summary = run_md(config, out, progress=False)
    rows = np.genfromtxt(out / "thermo.csv", delimiter=",", names=True)
    spread = rows["max_forces_std_eV_A"]
    print(f"committee of {len(MEMBERS)}: max per-atom force spread {1e3 * spread[0]:.1f} meV/A "
          f"at step 0, {1e3 * spread[-1]:.1f} meV/A at step {int(rows['step'][-1])}, "
          f"largest {1e3 * spread.max():.1f} meV/A")
    print(f"{summary.uncertain_frames} frames above {1e3 * args.threshold:.0f} meV/A saved to "
          f"{out / 'uncertain_frames.extxyz'}")


if __name__ == "__main__":
    main()
