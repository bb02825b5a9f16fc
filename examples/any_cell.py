"""Any structure a user brings runs: a primitive (triclinic) fcc cell in both engines and
every trajectory format, and built-ins with lattice constants.

    python examples/any_cell.py [--steps 20] [--out runs/any_cell]

For each engine (ASE NVE, OpenMM Langevin) and format (dcd, xtc, h5), runs the shipped
cu-emt potential on 27 atoms in the primitive fcc cell (a, b, c at 60 degrees, which
OpenMM's writers cannot store as is) and prints the largest difference between the
minimum-image distances in the mdtraj trajectory (OpenMM's rotated, reduced frame) and in
``trajectory.extxyz`` (your frame), which must be within the file format's precision.
Then builds ``bcc-Cu:2x2x2:a=2.87`` and ``molecule-CH3CH2OH`` and prints their sizes.
"""
import argparse
from pathlib import Path

import ase.io
import mdtraj
import numpy as np
from ase.build import bulk

from md_drivers.runner import MDConfig, load_structure, run_md


def distance_mismatch(run: Path, fmt: str, atoms_count: int) -> float:
    """Largest |d_mdtraj - d_extxyz| over all pairs and frames, A."""
    top = None if fmt == "h5" else str(run / "topology.pdb")
    trajectory = mdtraj.load(str(run / f"trajectory.{fmt}"), top=top)
    frames = ase.io.read(run / "trajectory.extxyz", ":")
    pairs = np.array([(i, j) for i in range(atoms_count) for j in range(i + 1, atoms_count)])
    from_file = 10.0 * mdtraj.compute_distances(trajectory, pairs, periodic=True)
    return max(float(np.max(np.abs(from_file[k] - f.get_distances(*pairs.T, mic=True))))
               for k, f in enumerate(frames))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--out", default="runs/any_cell")
    args = parser.parse_args()

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    primitive = bulk("Cu", "fcc", a=3.61).repeat(3)
    primitive.rattle(0.02, seed=1)
    print(f"primitive fcc cell: lengths {primitive.cell.lengths().round(3)}, angles "
          f"{primitive.cell.angles().round(1)}")
    for engine, ensemble in (("ase", "nve"), ("openmm", "nvt-langevin")):
        for fmt in ("dcd", "xtc", "h5"):
            config = MDConfig(structure="primitive", potential="cu-emt", engine=engine,
                              ensemble=ensemble, steps=args.steps, output_interval=10,
                              checkpoint_interval=10, trajectory_format=fmt)
            run = out / f"{engine}-{fmt}"
            run_md(config, run, atoms=primitive, progress=False, overwrite=True)
            print(f"{engine:>6} {fmt}: {args.steps} steps; distances in trajectory.{fmt} vs "
                  f"extxyz differ by at most {distance_mismatch(run, fmt, len(primitive)):.4f} A")
    for spec in ("bcc-Cu:2x2x2:a=2.87", "molecule-CH3CH2OH"):
        atoms = load_structure(spec)
        print(f"{spec}: {len(atoms)} atoms, {atoms.get_chemical_formula()}, pbc {atoms.pbc.tolist()}")


if __name__ == "__main__":
    main()
