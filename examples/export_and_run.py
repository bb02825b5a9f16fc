"""Export a potential to a deployable file, inspect it, and drive ASE MD from the file.

    python examples/export_and_run.py [--format torchscript|aotinductor] [--steps 50] [--out DIR]

The same file runs anywhere torch runs: TorchScript files need only ``torch.jit.load``;
AOTInductor packages (``--format aotinductor``) are compiled C++ (minutes to build on CPU).
"""
import argparse
import tempfile
from pathlib import Path

import numpy as np
import torch
from ase import units
from ase.build import bulk
from ase.md.langevin import Langevin

from md_drivers import EquiforceCalculator
from potentials import EquivariantPotential, PotentialConfig, export, load


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--format", choices=("torchscript", "aotinductor"), default="torchscript")
    parser.add_argument("--steps", type=int, default=50)
    parser.add_argument("--out", type=Path, help="output folder (default: a new temporary one)")
    args = parser.parse_args()

    torch.manual_seed(0)
    model = EquivariantPotential(PotentialConfig(species=(29,), cutoff=4.5, l_max=1, channels=8,
                                                 correlation=2, avg_num_neighbors=30.0))
    out = args.out or Path(tempfile.mkdtemp(prefix="equiforce-"))
    suffix = ".pt" if args.format == "torchscript" else ".pt2"
    path = export(model, out / f"cu{suffix}", format=args.format, dtype=torch.float32)
    deployed = load(path)
    print(f"exported {deployed}")

    atoms = bulk("Cu", "fcc", a=3.61, cubic=True).repeat(2)
    atoms.calc = EquiforceCalculator(path, skin=1.0)
    dyn = Langevin(atoms, 2 * units.fs, temperature_K=300, friction=0.02 / units.fs,
                   fixcm=False, rng=np.random.default_rng(0))
    dyn.run(args.steps)
    print(f"after {args.steps} Langevin steps: T = {atoms.get_temperature():.0f} K, "
          f"E_pot = {atoms.get_potential_energy():.4f} eV, "
          f"{atoms.calc.neighbors.n_builds} neighbour-list builds")


if __name__ == "__main__":
    main()
