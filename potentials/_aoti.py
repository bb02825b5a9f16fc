"""AOTInductor export: trace forward + autograd backward, export with dynamic sizes, compile.

``torch.export`` cannot trace ``torch.autograd.grad`` through e3nn modules directly, so
the whole computation (energy and its gradients) is first traced into one graph with
``make_fx`` (symbolic shapes), then exported with dynamic atom, edge and structure
counts, then compiled by AOTInductor. Neighbour lists stay outside the compiled graph.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from torch import Tensor, nn
from torch.export import Dim
from torch.fx.experimental.proxy_tensor import make_fx

from ._metadata import METADATA_KEY, OUTPUT_NAMES
from .model import EquivariantPotential


class _TupleOutputs(nn.Module):
    """The model with its outputs as a tuple in ``OUTPUT_NAMES`` order."""

    def __init__(self, model: EquivariantPotential) -> None:
        super().__init__()
        self.model = model

    def forward(self, positions: Tensor, atomic_numbers: Tensor, edge_index: Tensor,
                shifts: Tensor, cell: Tensor, batch: Tensor) -> tuple[Tensor, ...]:
        out = self.model(positions, atomic_numbers, edge_index, shifts, cell, batch)
        return tuple(out[name] for name in OUTPUT_NAMES)


def example_inputs(model: EquivariantPotential) -> tuple[Tensor, ...]:
    """A batch of two structures (a periodic cell and a cluster) with every species.

    Sizes are > 1 everywhere so that tracing does not specialise them.
    """
    from ase import Atoms

    from .graph import atoms_to_graph, batch_graphs

    species = list(model.config.species)
    rng = np.random.default_rng(0)
    numbers = [species[k % len(species)] for k in range(6)]
    spacing = 0.45 * model.cutoff
    grid = np.array([[i, j, k] for i in range(2) for j in range(2) for k in range(2)][:6])
    crystal = Atoms(numbers=numbers, positions=grid * spacing + rng.normal(0, 0.05, (6, 3)),
                    cell=np.eye(3) * 2 * spacing, pbc=True)
    cluster = Atoms(numbers=numbers[:4], positions=grid[:4] * spacing)
    param = next(model.parameters())
    graphs = [atoms_to_graph(a, model.cutoff, species, dtype=param.dtype, device=param.device)
              for a in (crystal, cluster)]
    return batch_graphs(graphs).model_inputs()


def write_aotinductor(model: EquivariantPotential, path: Path, metadata: str) -> None:
    """Compile ``model`` to an AOTInductor package at ``path`` with ``metadata`` inside."""
    inputs = example_inputs(model)
    traced = make_fx(_TupleOutputs(model), tracing_mode="symbolic",
                     _allow_non_fake_inputs=True)(*inputs)
    atoms, edges, graphs = Dim("num_atoms", min=1), Dim("num_edges", min=0), Dim("num_graphs", min=1)
    dynamic = ({0: atoms}, {0: atoms}, {1: edges}, {0: edges}, {0: graphs}, {0: atoms})
    program = torch.export.export(traced, inputs, dynamic_shapes=dynamic, strict=False)
    torch._inductor.aoti_compile_and_package(
        program, package_path=str(path),
        inductor_configs={"aot_inductor.metadata": {METADATA_KEY: metadata}})
