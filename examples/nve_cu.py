"""NVE molecular dynamics of fcc Cu with an equiforce potential through ASE (the demo job).

    python examples/nve_cu.py [--repeat 3] [--steps 300] [--dtype float64]

Reports the time per step and energy conservation: the drift and standard deviation of the
total energy next to the kinetic-energy fluctuation it must be far below.
"""
import argparse

from md_drivers.demo import NVEDemoSettings, run_nve_demo


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--steps", type=int, default=300)
    parser.add_argument("--dtype", choices=("float32", "float64"), default="float64")
    args = parser.parse_args()
    result = run_nve_demo(NVEDemoSettings(repeat=args.repeat, steps=args.steps, dtype=args.dtype))
    print(f"{result.num_atoms} atoms, {1e3 * result.seconds_per_step:.1f} ms/step, "
          f"{result.neighbor_builds} neighbour-list builds")
    print(f"total-energy drift {1e3 * result.drift_per_atom:.2e} meV/atom; "
          f"std total {1e3 * result.total_energy_std:.2e} meV vs kinetic "
          f"{1e3 * result.kinetic_energy_std:.3f} meV")


if __name__ == "__main__":
    main()
