"""The equivariant-ops backends and the GPU-ready pieces, on whatever device you have.

    python examples/gpu_backends.py [--device cuda] [--steps 20]

1. Converts the shipped ``cu-emt`` potential to cuEquivariance ops and back, and prints
   how far the energies, forces and stress of the two backends are apart (float64).
2. Exports the cuEquivariance form (the file records ``ops``) and loads it both ways.
3. Runs a few MD steps through the ASE calculator with each backend on ``--device`` (the
   neighbour list and its Verlet cache stay on the device) and compares the trajectories.
4. Puts the exported cueq module inside the graph-safe OpenMM module (fixed pair buffer,
   what ``cuda_graphs=True`` runs), compares it with the vesin-list module, and shows an
   overflow being reported.

On a CPU the cueq backend runs cuEquivariance's pure-torch ``naive`` method (correct, not
fast); on a CUDA machine with ``pip install -e '.[cuda]'`` it runs the CUDA kernels.
"""
from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import numpy as np
import torch
from ase import units
from ase.build import bulk
from ase.md.verlet import VelocityVerlet

from md_drivers.ase import EquiforceCalculator
from md_drivers.openmm._torch_backend import FixedCapacityOpenMMModule, OpenMMModule, scripted_model
from potentials import DeployedPotential, convert_ops, export, load
from potentials.testing import evaluate


def e3nn_model():
    """The shipped cu-emt weights as an e3nn EquivariantPotential (float64)."""
    deployed = load("cu-emt", dtype="float64")
    return deployed.eager_model()


def compare_backends(model, atoms) -> None:
    cueq = convert_ops(model, "cueq")
    back = convert_ops(cueq, "e3nn")
    exact = all(torch.equal(value, back.state_dict()[key]) for key, value in model.state_dict().items())
    ours, theirs = evaluate(cueq, atoms), evaluate(model, atoms)
    print(f"cueq methods: {cueq.cueq_methods}")
    for key in ("energy", "forces", "stress"):
        error = np.abs(np.asarray(ours[key]) - np.asarray(theirs[key])).max()
        scale = np.abs(np.asarray(theirs[key])).max()
        print(f"cueq vs e3nn {key:7s}: max |difference| {error:.2e} (relative {error / scale:.1e})")
    print(f"e3nn -> cueq -> e3nn weights identical: {exact}")


def export_both_ways(model, atoms):
    """Export the cueq form, run it with both backends; return the file's own TorchScript
    module (a cueq DeployedPotential), which step 4 puts inside the OpenMM module."""
    with tempfile.TemporaryDirectory() as tmp:
        path = export(model, Path(tmp) / "cu-cueq.pt", ops="cueq")
        as_file = load(path, fast=False)
        for ops in ("cueq", "e3nn"):
            deployed = load(path, ops=ops)
            energy = evaluate(deployed, atoms)["energy"]
            print(f"exported cueq file run with {ops:4s} ops ({deployed.format}): "
                  f"E = {energy:.10f} eV (file metadata ops: {as_file.ops})")
    return as_file


def md_with_each_backend(model, atoms, device: str, steps: int) -> None:
    final = {}
    for ops in ("e3nn", "cueq"):
        run = atoms.copy()
        run.calc = EquiforceCalculator(DeployedPotential.from_model(model, torch.float64, device,
                                                                    ops=ops))
        run.set_momenta(np.random.default_rng(0).normal(0, 0.5, (len(run), 3)))
        VelocityVerlet(run, 2.0 * units.fs).run(steps)
        final[ops] = run.positions.copy()
        print(f"{steps} MD steps with {ops:4s} ops on {device}: E_pot = "
              f"{run.get_potential_energy():.8f} eV, neighbour-list builds "
              f"{run.calc.neighbors.n_builds}")
    print(f"largest position difference after {steps} steps: "
          f"{np.abs(final['e3nn'] - final['cueq']).max():.2e} A")


def graph_safe_openmm_module(model, atoms, scripted_file) -> None:
    scripted = scripted_model(scripted_file)        # the exported cueq TorchScript module
    arguments = (scripted, torch.as_tensor(atoms.numbers), torch.arange(len(atoms)), len(atoms),
                 True, model.cutoff, torch.float64)
    positions = torch.tensor(atoms.positions / 10.0)     # nm, as OpenMM passes them
    box = torch.tensor(atoms.cell.array / 10.0)
    reference = OpenMMModule(*arguments)(positions, box)[0].detach()
    for capacity in (4000, 100):
        probe = torch.zeros((), dtype=torch.float64, requires_grad=True)
        energy, _ = FixedCapacityOpenMMModule(*arguments, capacity=capacity)(positions, box, probe)
        energy.backward()
        print(f"fixed pair buffer of {capacity} slots: E = {float(energy.detach()):.6f} kJ/mol "
              f"(vesin list: {float(reference):.6f}), pairs reported {int(probe.grad)}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--repeat", type=int, default=3, help="fcc Cu cubic cells per side")
    args = parser.parse_args()
    atoms = bulk("Cu", "fcc", a=3.61, cubic=True).repeat(args.repeat)
    atoms.rattle(0.05, seed=1)
    model = e3nn_model()
    compare_backends(model, atoms)
    scripted_file = export_both_ways(model, atoms)
    md_with_each_backend(model, atoms, args.device, args.steps)
    graph_safe_openmm_module(model, atoms, scripted_file)


if __name__ == "__main__":
    main()
