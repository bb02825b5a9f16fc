"""The openmm-torch backend: a self-contained TorchScript module inside a TorchForce."""
from __future__ import annotations

from typing import Optional, Tuple

import numpy as np
import torch
from torch import Tensor

from potentials import DeployedPotential
from potentials.units import EV_IN_KJ_PER_MOL, NM_IN_ANGSTROM
from vesin_torch import NeighborList

from ._fixed_pairs import PAIR_COUNT_PARAMETER, all_pairs, fixed_capacity_pairs

__all__ = ["FixedCapacityOpenMMModule", "OpenMMModule", "PAIR_COUNT_PARAMETER",
           "create_torch_force", "scripted_model"]


class OpenMMModule(torch.nn.Module):
    """OpenMM's view of a potential: nm in, kJ/mol and kJ/mol/nm out.

    ``forward(positions (P, 3) nm, boxvectors (3, 3) nm or None)`` returns the energy
    (scalar, kJ/mol) and the forces on all ``P`` particles ((P, 3), kJ/mol/nm; zero
    outside the selected atoms). The neighbour list is built inside by vesin (its
    TorchScript class: on the positions' device, CUDA included), so the module needs
    nothing but positions and box, and vesin-torch's library: a process that loads a
    serialized TorchForce must have ``vesin_torch`` imported (or its library loaded).
    """

    def __init__(self, model: torch.nn.Module, atomic_numbers: Tensor, selection: Tensor,
                 n_particles: int, periodic: bool, cutoff: float, dtype: torch.dtype) -> None:
        super().__init__()
        self.model = model
        self.register_buffer("atomic_numbers", atomic_numbers.to(torch.long))
        self.register_buffer("selection", selection.to(torch.long))
        self.register_buffer("dtype_probe", torch.zeros(0, dtype=dtype))
        self.n_particles = n_particles
        self.periodic = periodic
        self.cutoff = cutoff
        self.nm_in_angstrom = NM_IN_ANGSTROM
        self.ev_in_kj_per_mol = EV_IN_KJ_PER_MOL

    def forward(self, positions: Tensor, boxvectors: Optional[Tensor] = None) -> Tuple[Tensor, Tensor]:
        dtype = self.dtype_probe.dtype
        pos = positions.index_select(0, self.selection).to(dtype) * self.nm_in_angstrom
        cell = torch.zeros((3, 3), dtype=dtype, device=pos.device)
        pbc = torch.zeros(3, dtype=torch.bool, device=pos.device)
        if self.periodic and boxvectors is not None:
            cell = boxvectors.to(dtype) * self.nm_in_angstrom
            pbc = torch.ones(3, dtype=torch.bool, device=pos.device)
        edge_index, shifts = vesin_pairs(pos, cell, pbc, self.cutoff)
        batch = torch.zeros(pos.shape[0], dtype=torch.long, device=pos.device)
        out = self.model(pos, self.atomic_numbers, edge_index, shifts.to(dtype),
                         cell.unsqueeze(0), batch)
        energy = out["energy"].sum() * self.ev_in_kj_per_mol
        forces = torch.zeros((self.n_particles, 3), dtype=positions.dtype, device=pos.device)
        selected = out["forces"] * (self.ev_in_kj_per_mol * self.nm_in_angstrom)
        forces = forces.index_copy(0, self.selection, selected.to(positions.dtype))
        return energy.to(positions.dtype), forces


def vesin_pairs(positions: Tensor, cell: Tensor, pbc: Tensor, cutoff: float) -> Tuple[Tensor, Tensor]:
    """Full mirrored list (pairs, then their reverses) from vesin's half list: edge_index
    (2, E) int64 and shifts (E, 3) int64, on the device of ``positions``."""
    calculator = NeighborList(cutoff=cutoff, full_list=False)
    quantities = calculator.compute(positions, cell, pbc, "ijS")
    pairs = torch.stack([quantities[0], quantities[1]]).to(torch.long)
    shifts = quantities[2].to(torch.long)
    return torch.cat([pairs, pairs.flip(0)], dim=1), torch.cat([shifts, -shifts])


class FixedCapacityOpenMMModule(OpenMMModule):
    """:class:`OpenMMModule` for CUDA graphs: no host synchronisation and fixed sizes.

    The neighbour list is :func:`~md_drivers.openmm._fixed_pairs.fixed_capacity_pairs`
    (brute force over the selected atoms, ``capacity`` pair slots, padding edges that add
    nothing). ``forward(positions, box or probe, probe)`` takes openmm-torch's inputs:
    positions, the box when periodic, then the global parameter ``PAIR_COUNT_PARAMETER``
    (0). The energy is ``E + probe * count`` with ``E`` cut from the graph, so the parameter's
    energy derivative is the pair count; when it exceeds ``capacity`` (or is -1: a box too
    small for the minimum image) energy and forces are NaN, so a run cannot go on with
    missing pairs. :class:`~md_drivers.openmm.PairCapacityGuard` reads the count and grows
    the buffer.
    """

    def __init__(self, model: torch.nn.Module, atomic_numbers: Tensor, selection: Tensor,
                 n_particles: int, periodic: bool, cutoff: float, dtype: torch.dtype,
                 capacity: int) -> None:
        super().__init__(model, atomic_numbers, selection, n_particles, periodic, cutoff, dtype)
        self.capacity = int(capacity)
        self.register_buffer("pairs", all_pairs(int(selection.shape[0]), selection.device))

    def forward(self, positions: Tensor, second: Optional[Tensor] = None,
                third: Optional[Tensor] = None) -> Tuple[Tensor, Tensor]:
        probe = third if self.periodic else second
        dtype = self.dtype_probe.dtype
        pos = positions.index_select(0, self.selection).to(dtype) * self.nm_in_angstrom
        box = torch.zeros((3, 3), dtype=dtype, device=pos.device)
        if self.periodic and second is not None:
            box = second.to(dtype) * self.nm_in_angstrom
        edge_index, shifts, cell, count = fixed_capacity_pairs(
            pos, box, self.periodic, self.cutoff, self.capacity, self.pairs)
        batch = torch.zeros(pos.shape[0], dtype=torch.long, device=pos.device)
        out = self.model(pos, self.atomic_numbers, edge_index, shifts, cell.unsqueeze(0), batch)
        broken = (count > self.capacity) | (count < 0)
        poison = torch.where(broken, float("nan"), 0.0).to(positions.dtype)
        energy = (out["energy"].sum() * self.ev_in_kj_per_mol).to(positions.dtype) + poison
        if probe is not None:
            with torch.no_grad():   # not detach(): torch.jit.freeze (openmm-torch) drops it
                energy = energy + 0.0
            # the probe stays where openmm-torch made it (a 0-dim CPU tensor acts as a
            # scalar on any device): no host-to-device copy inside a captured graph
            energy = energy + count.to(energy.dtype) * probe.to(energy.dtype)
        forces = torch.zeros((self.n_particles, 3), dtype=positions.dtype, device=pos.device)
        selected = out["forces"] * (self.ev_in_kj_per_mol * self.nm_in_angstrom)
        forces = forces.index_copy(0, self.selection, selected.to(positions.dtype)) + poison
        return energy, forces


def scripted_model(potential: DeployedPotential) -> torch.jit.ScriptModule:
    """The potential as a TorchScript module (in-memory and fast models are scripted as
    their e3nn model with e3nn's ``script``: the fast kernel is Python); AOTInductor
    packages cannot go inside TorchScript."""
    if potential.format == "torchscript":
        return potential.module
    if potential.format in ("eager", "fast"):
        from e3nn.util import jit

        return jit.script(potential.eager_model())
    raise ValueError(f"{potential.path}: the torch backend needs a TorchScript (.pt) file or "
                     f"an in-memory model, not {potential.format}; use backend='python' for "
                     "AOTInductor packages")


def create_torch_force(potential: DeployedPotential, numbers: np.ndarray,
                       selection: Optional[np.ndarray], periodic: bool, cuda_graphs: bool,
                       pair_capacity: Optional[int] = None):
    """An ``openmmtorch.TorchForce`` returning energy and forces (``setOutputsForces``).

    With ``pair_capacity`` (set by default with ``cuda_graphs``) the module is a
    :class:`FixedCapacityOpenMMModule` and the force has the global parameter
    ``PAIR_COUNT_PARAMETER`` with its energy derivative.
    """
    import openmmtorch

    _ensure_torch_plugin()
    n_particles = len(numbers)
    if selection is None:
        selection = np.arange(n_particles)
    if cuda_graphs and pair_capacity is None:
        pair_capacity = default_pair_capacity(len(selection))
    device = potential.device
    arguments = (scripted_model(potential), torch.as_tensor(numbers[selection], device=device),
                 torch.as_tensor(selection, device=device), n_particles, periodic,
                 potential.cutoff, potential.dtype)
    module = (OpenMMModule(*arguments) if pair_capacity is None
              else FixedCapacityOpenMMModule(*arguments, capacity=pair_capacity))
    force = openmmtorch.TorchForce(torch.jit.script(module))
    force.setOutputsForces(True)
    force.setUsesPeriodicBoundaryConditions(periodic)
    force.setName("equiforce")
    if pair_capacity is not None:
        force.addGlobalParameter(PAIR_COUNT_PARAMETER, 0.0)
        force.addEnergyParameterDerivative(PAIR_COUNT_PARAMETER)
    if cuda_graphs:
        force.setProperty("useCUDAGraphs", "true")
    return force


def default_pair_capacity(n_atoms: int) -> int:
    """Pair slots for ``n_atoms`` atoms: 40 pairs (80 neighbours) per atom, enough for
    dense matter at a 5-6 A cutoff; :class:`~md_drivers.openmm.PairCapacityGuard` grows it."""
    return max(64, 40 * n_atoms)


def _ensure_torch_plugin() -> None:
    """Register openmm-torch's Reference/CPU kernels if OpenMM could not load them.

    OpenMM loads plugins when ``openmm`` is first imported; if torch's libraries were not
    loaded by then, ``libOpenMMTorchReference.so`` fails (libnvrtc not found) and every
    Context with a TorchForce would fail with "does not support all required kernels".
    """
    import os

    import openmm

    if openmm.Platform.getPlatformByName("Reference").supportsKernels(["CalcTorchForce"]):
        return
    library = os.path.join(openmm.version.openmm_library_path, "plugins",
                           "libOpenMMTorchReference.so")
    if os.path.exists(library):
        openmm.Platform.loadPluginLibrary(library)
    if not openmm.Platform.getPlatformByName("Reference").supportsKernels(["CalcTorchForce"]):
        raise RuntimeError(f"openmm-torch's Reference kernels are not available ({library}); "
                           "use backend='python'")
