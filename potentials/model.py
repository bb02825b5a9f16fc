"""E(3)-equivariant message-passing potential: energy, forces and stress by autograd."""
from __future__ import annotations

from typing import Dict, Optional, Tuple

import torch
from e3nn import o3
from e3nn.nn import FullyConnectedNet
from torch import Tensor, nn

from ._dtype import building_in_float64
from ._mkl_vml import warm_up_vml
from ._ops import cueq_methods, resolve_ops
from .config import PotentialConfig
from .nn import BesselBasis, InteractionLayer, PolynomialEnvelope
from .nn._cueq import CueqSphericalHarmonics, cueq_linear
from .nn._irreps import feature_irreps, spherical_irreps

__all__ = ["EquivariantPotential"]

_NUM_ELEMENTS = 119


class EquivariantPotential(nn.Module):
    """NequIP/MACE-family potential built on e3nn (or cuEquivariance, same function).

    The total energy is a sum of atomic energies; forces ``-dE/dr`` and the stress
    ``(1/V) dE/d(strain)`` come from one autograd pass inside :meth:`forward` through a
    symmetric strain applied to positions and cell, so exported modules carry them.

    Args:
        config: the validated hyper-parameters.
        dtype: parameter dtype (float64 for training and checks, float32 for fast MD).
        device: where parameters live.
        ops: the equivariant operations: ``"e3nn"`` (e3nn's tensor products) or
            ``"cueq"`` (cuEquivariance's: its CUDA kernels on a CUDA device where
            ``cuequivariance_ops_torch`` imports, else its pure-torch ``"naive"`` method,
            chosen when the model is built). None: ``"cueq"`` on CUDA with the kernels,
            ``"e3nn"`` otherwise. Weights convert between the two with
            :func:`potentials.convert_ops`; the attribute ``ops`` says which one this is.
    """

    def __init__(self, config: PotentialConfig, dtype: torch.dtype = torch.float64,
                 device: Optional[torch.device | str] = None, ops: Optional[str] = None) -> None:
        super().__init__()
        warm_up_vml()  # e3nn's constants and the first forward use threaded VML ops
        self.config = config
        self.cutoff = float(config.cutoff)
        self.num_species = len(config.species)
        self.ops = resolve_ops(ops, device)
        methods = cueq_methods(device) if self.ops == "cueq" else None
        self.cueq_methods = methods or {}
        with building_in_float64():
            self._build(config, methods)
        self.to(dtype=dtype, device=device)

    def clone(self, dtype: Optional[torch.dtype] = None,
              device: Optional[torch.device | str] = None) -> "EquivariantPotential":
        """A new model with the same config, backend and weights (default: same dtype and
        device; a cuEquivariance model picks its methods for the new device).

        Rebuilt from the config rather than deep-copied: e3nn keeps scripted functions
        that some torch versions refuse to copy.
        """
        from ._ops_convert import transfer_weights

        first = next(self.parameters())
        copied = EquivariantPotential(self.config, dtype=dtype or first.dtype,
                                      device=device or first.device, ops=self.ops)
        transfer_weights(self.state_dict(), self.ops, copied)
        return copied.train(self.training)

    def _build(self, config: PotentialConfig, methods: Optional[Dict[str, str]]) -> None:
        type_of_z = torch.full((_NUM_ELEMENTS,), -1, dtype=torch.long)
        type_of_z[list(config.species)] = torch.arange(len(config.species))
        self.register_buffer("type_of_z", type_of_z)
        self.register_buffer("energy_shifts", torch.tensor(config.atomic_energy_shifts))
        self.energy_scale = float(config.energy_scale)
        irreps_sh = spherical_irreps(config.l_max, config.parity)
        hidden = feature_irreps(config.channels, config.l_max, config.parity)
        self.spherical_harmonics = (
            o3.SphericalHarmonics(irreps_sh, True, "component") if methods is None
            else CueqSphericalHarmonics(config.l_max, methods["spherical_harmonics"]))
        self.radial_basis = BesselBasis(config.cutoff, config.num_radial)
        self.envelope = PolynomialEnvelope(config.cutoff, config.envelope_exponent)
        self.embedding = nn.Embedding(self.num_species, config.channels)
        self.layers = nn.ModuleList()
        self.readouts = nn.ModuleList()
        irreps = o3.Irreps(f"{config.channels}x0e")
        for index in range(config.num_layers):
            last = index == config.num_layers - 1
            layer = InteractionLayer(irreps, irreps_sh, hidden, self.num_species,
                                     config.correlation, config.num_radial,
                                     config.radial_hidden, config.avg_num_neighbors,
                                     first=index == 0, last=last, methods=methods)
            self.layers.append(layer)
            self.readouts.append(_readout(layer.irreps_out, config.readout_hidden, last,
                                          methods))
            irreps = layer.irreps_out

    def species_index(self, atomic_numbers: Tensor) -> Tensor:
        """Type index (N,) of each atomic number (N,); -1 marks an unknown element."""
        return self.type_of_z[atomic_numbers]

    def atomic_energies(self, positions: Tensor, species_index: Tensor, edge_index: Tensor,
                        edge_vectors: Tensor) -> Tensor:
        """Atomic energies (N,) in eV from edge vectors (E, 3) in Angstrom."""
        edge_sh, edge_radial, edge_envelope = self.edge_features(edge_index, edge_vectors)
        features = self.embedding(species_index)
        energy = torch.zeros(positions.shape[0], dtype=positions.dtype, device=positions.device)
        for layer, readout in zip(self.layers, self.readouts):
            features = layer(features, species_index, edge_sh, edge_radial, edge_envelope,
                             edge_index)
            energy = energy + readout(features).squeeze(-1)
        return self.energy_scale * energy + self.energy_shifts[species_index]

    def edge_features(self, edge_index: Tensor,
                      edge_vectors: Tensor) -> Tuple[Tensor, Tensor, Tensor]:
        """Harmonics (E, dim_sh), radial basis (E, num_radial) and envelope (E,) of the edges."""
        lengths = torch.linalg.norm(edge_vectors, dim=-1)
        return (self.spherical_harmonics(edge_vectors), self.radial_basis(lengths),
                self.envelope(lengths))

    def forward(self, positions: Tensor, atomic_numbers: Tensor, edge_index: Tensor,
                shifts: Tensor, cell: Tensor, batch: Tensor) -> Dict[str, Tensor]:
        """Energies, forces and stress of a batch of ``B`` structures with ``N`` atoms.

        Args:
            positions: (N, 3) Angstrom, wrapped or not.
            atomic_numbers: (N,) int64.
            edge_index: (2, E) int64, row 0 the centre atom i, row 1 the neighbour j.
            shifts: (E, 3) integer cell shifts S (float or int): the edge vector is
                ``positions[j] - positions[i] + S @ cell[batch[i]]``.
            cell: (B, 3, 3) lattice vectors as rows; zeros for molecules.
            batch: (N,) int64 structure index of each atom.

        Returns:
            ``energy`` (B,) eV, ``atomic_energies`` (N,) eV, ``forces`` (N, 3) eV/A,
            ``virial`` (B, 3, 3) eV (``-dE/d(strain)``), ``stress`` (B, 3, 3) eV/A^3 with
            ASE's sign (``virial / -V``; zero where the cell has no volume).
        """
        num_graphs = cell.shape[0]
        species_index = self.species_index(atomic_numbers)
        if not positions.requires_grad:
            positions = positions.detach().requires_grad_(True)
        displacement = torch.zeros_like(cell).requires_grad_(True)
        strain = 0.5 * (displacement + displacement.transpose(1, 2))
        # index_select, not fancy indexing: its backward is a parallel index_add rather
        # than a serial accumulating index_put (13% of a fast-path call at 864 atoms)
        strained_positions = positions + torch.bmm(
            positions.unsqueeze(1), strain.index_select(0, batch)).squeeze(1)
        strained_cell = cell + torch.bmm(cell, strain)
        centre, neighbour = edge_index[0], edge_index[1]
        edge_cells = strained_cell.index_select(0, batch.index_select(0, centre))
        shift_vectors = torch.bmm(shifts.to(cell.dtype).unsqueeze(1), edge_cells).squeeze(1)
        edge_vectors = (strained_positions.index_select(0, neighbour)
                        - strained_positions.index_select(0, centre) + shift_vectors)
        atomic = self.atomic_energies(positions, species_index, edge_index, edge_vectors)
        energy = torch.zeros(num_graphs, dtype=atomic.dtype, device=atomic.device)
        energy = energy.index_add(0, batch, atomic)
        grads = torch.autograd.grad([energy.sum()], [positions, displacement],
                                    create_graph=self.training, allow_unused=True)
        forces = _zeros_if_none(grads[0], positions)
        d_energy_d_strain = _zeros_if_none(grads[1], cell)
        volume = torch.linalg.det(cell).abs().view(-1, 1, 1)
        has_volume = volume > 0
        stress = torch.where(has_volume, d_energy_d_strain / torch.where(has_volume, volume, 1.0),
                             torch.zeros_like(d_energy_d_strain))
        return {"energy": energy, "atomic_energies": atomic, "forces": -forces,
                "virial": -d_energy_d_strain, "stress": stress}


def _zeros_if_none(grad: Optional[Tensor], like: Tensor) -> Tensor:
    if grad is None:
        return torch.zeros_like(like)
    return grad


def _readout(irreps: o3.Irreps, hidden: int, last: bool,
             methods: Optional[Dict[str, str]]) -> nn.Module:
    """Per-atom energy from layer features: linear for inner layers, an MLP for the last."""
    if last:
        return FullyConnectedNet([irreps.dim, hidden, 1], torch.nn.functional.silu)
    if methods is None:
        return o3.Linear(irreps, o3.Irreps("0e"))
    return cueq_linear(irreps, o3.Irreps("0e"), methods["linear"])
