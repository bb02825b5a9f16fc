"""Exact energies, forces and virial of one MPI rank's atoms from its local + ghost atoms.

A message-passing potential with ``L`` layers and cutoff ``r_c`` gives atom ``i`` an
energy ``e_i`` that depends on the atoms within ``L`` hops (``L r_c``) of ``i``. The force on
a local atom ``j`` is ``-sum_i de_i/dx_j`` over every ``i`` within ``L`` hops of ``j``, and each
of those ``e_i`` needs its own ``L`` hops: so a rank holding all atoms (ghost images
included) within ``2 L r_c`` of its local atoms can compute the exact force on each local
atom by itself, with no reverse communication of ghost forces. The rank's share of the
energy and virial is that of its local atoms' energies, so the sums over ranks are the
totals. See docs/lammps.md.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Optional, Sequence, Tuple

import numpy as np
import torch
from torch import Tensor

from potentials import DeployedPotential, neighbor_list

__all__ = ["HaloEvaluator", "HaloResult", "ghost_cutoff"]


def ghost_cutoff(potential: DeployedPotential) -> float:
    """``2 x num_layers x cutoff`` (Angstrom): how far beyond its own atoms a rank must see."""
    return 2.0 * potential.config.num_layers * potential.cutoff


@dataclass(frozen=True)
class HaloResult:
    """One rank's share, in eV-based units.

    Attributes:
        energy: sum of the local atoms' energies, eV.
        forces: (nlocal, 3) exact forces on the local atoms, eV/A.
        virial: (3, 3) ``-d(energy)/d(strain)`` of the local atoms' energies, eV (None when
            not asked for).
        atoms_evaluated: atoms in the graph (local + the ghosts within ``2 L`` hops).
    """

    energy: float
    forces: np.ndarray
    virial: Optional[np.ndarray]
    atoms_evaluated: int


class HaloEvaluator:
    """Evaluate a rank's local atoms from explicit local + ghost coordinates.

    Keeps a Verlet list: the graph (atoms within ``2 L`` hops of the local atoms, in the
    ``cutoff + skin`` graph) is rebuilt when the atoms' identities change (LAMMPS
    re-neighboured) or an atom moved more than ``skin / 2`` since the last build.

    Args:
        potential: a ``"fast"`` or ``"eager"`` :class:`~potentials.DeployedPotential` (the
            gradient with respect to a subset of the energies needs the model itself, not
            an exported module's fixed outputs).
        skin: Angstrom.
    """

    def __init__(self, potential: DeployedPotential, skin: float = 1.0) -> None:
        if potential.format not in ("fast", "eager"):
            raise ValueError(f"the LAMMPS driver runs fast or eager potentials, not "
                             f"{potential.format} (load the TorchScript file with fast=True)")
        self.model = potential.module
        self.dtype, self.device = potential.dtype, potential.device
        self.cutoff = potential.cutoff
        self.hops = 2 * potential.config.num_layers
        self.skin = float(skin)
        self.builds = 0
        self._key: Optional[tuple] = None

    def __call__(self, positions: np.ndarray, numbers: np.ndarray, nlocal: int,
                 identity: Optional[np.ndarray] = None, virial: bool = True,
                 cell: Optional[np.ndarray] = None,
                 pbc: Sequence[bool] = (False, False, False)) -> HaloResult:
        """Args:
            positions: (nall, 3) Angstrom, the ``nlocal`` local atoms first, then ghosts.
            numbers: (nall,) atomic numbers.
            nlocal: local atoms.
            identity: (nall,) anything that changes when the atoms are re-sorted (LAMMPS
                ids); None compares positions only.
            virial: also compute the virial (a second backward pass).
            cell, pbc: (3, 3) lattice vectors as rows (A) and the directions in which this
                rank holds the whole periodic box (one rank along that direction of the
                processor grid): there the graph uses cell shifts, and ``positions`` must
                hold one image of each atom; elsewhere explicit ghost images.
        """
        if nlocal == 0:   # a rank whose subdomain holds no atom now
            return HaloResult(0.0, np.zeros((0, 3)), np.zeros((3, 3)) if virial else None, 0)
        cell = np.zeros((3, 3)) if cell is None else np.asarray(cell, dtype=float)
        pbc = tuple(bool(p) for p in pbc)
        if self._needs_build(positions, nlocal, identity, cell, pbc):
            self._build(positions, nlocal, identity, cell, pbc)
        kept, edges, shifts = self._kept, self._edges, self._shifts
        pos = torch.as_tensor(positions[kept], dtype=self.dtype, device=self.device)
        pos = (pos - pos[:nlocal].mean(dim=0)).requires_grad_(True)  # origin: rounding only
        cell_t = torch.as_tensor(cell, dtype=self.dtype, device=self.device)
        displacement = torch.zeros((3, 3), dtype=self.dtype, device=self.device,
                                   requires_grad=virial)
        strain = 0.5 * (displacement + displacement.T)
        strained, strained_cell = pos + pos @ strain, cell_t + cell_t @ strain
        vectors = (strained.index_select(0, edges[1]) - strained.index_select(0, edges[0])
                   + shifts @ strained_cell)
        inside = torch.linalg.norm(vectors.detach(), dim=1) < self.cutoff
        edge_index, vectors = edges[:, inside], vectors[inside]
        species = self.model.species_index(
            torch.as_tensor(numbers[kept], dtype=torch.long, device=self.device))
        atomic = _pruned_atomic_energies(self.model, self._hops, species, edge_index, vectors)
        own = atomic[:nlocal].sum()
        needed = atomic[self._moving].sum()  # the energies that depend on local atoms
        (grad_all,) = torch.autograd.grad(needed, pos, retain_graph=virial)
        forces = -grad_all[:nlocal].detach().to("cpu", torch.float64).numpy()
        w = None
        if virial:
            (d_own,) = torch.autograd.grad(own, displacement)
            w = -d_own.detach().to("cpu", torch.float64).numpy()
        return HaloResult(float(own.detach()), forces, w, len(kept))

    def _needs_build(self, positions: np.ndarray, nlocal: int, identity: Optional[np.ndarray],
                     cell: np.ndarray, pbc: tuple) -> bool:
        if self._key != self._key_of(positions, nlocal, identity, pbc):
            return True
        if not np.array_equal(cell, self._cell):   # a changing box (NPT): a fresh list
            return True
        moved = np.linalg.norm(positions - self._reference, axis=1).max(initial=0.0)
        return bool(moved > 0.5 * self.skin)

    @staticmethod
    def _key_of(positions, nlocal, identity, pbc) -> tuple:
        return (len(positions), nlocal, pbc, None if identity is None else identity.tobytes())

    def _build(self, positions: np.ndarray, nlocal: int, identity: Optional[np.ndarray],
               cell: np.ndarray, pbc: tuple) -> None:
        pos = torch.as_tensor(positions, dtype=torch.float64)
        edge_index, shifts = neighbor_list(pos, torch.as_tensor(cell), list(pbc),
                                           self.cutoff + self.skin)
        kept, hops = _within_hops(edge_index, len(positions), nlocal, self.hops)
        self._hops = hops.to(self.device)
        self._moving = self._hops <= self.hops // 2   # within L hops of the local atoms
        renumber = torch.full((len(positions),), -1, dtype=torch.long)
        renumber[kept] = torch.arange(len(kept))
        both = (renumber[edge_index[0]] >= 0) & (renumber[edge_index[1]] >= 0)
        self._edges = renumber[edge_index[:, both]].to(self.device)  # mirrored order kept
        self._shifts = shifts[both].to(self.device, self.dtype)
        self._kept = kept.numpy()
        self._reference, self._cell = positions.copy(), cell.copy()
        self._key = self._key_of(positions, nlocal, identity, pbc)
        self.builds += 1


def _within_hops(edge_index: Tensor, num_atoms: int, nlocal: int,
                 hops: int) -> Tuple[Tensor, Tensor]:
    """Indices of the atoms within ``hops`` edges of atoms ``0..nlocal-1`` (locals first,
    then the others in their original order), and each one's hop count (0 for locals)."""
    distance = torch.full((num_atoms,), hops + 1, dtype=torch.long)
    distance[:nlocal] = 0
    for hop in range(1, hops + 1):
        reached = distance[edge_index[0]] == hop - 1
        targets = edge_index[1][reached]
        distance[targets] = torch.minimum(distance[targets], torch.full_like(targets, hop))
    kept = torch.nonzero(distance <= hops).squeeze(1)
    return kept, distance[kept]


def _pruned_atomic_energies(model, hops: Tensor, species: Tensor, edge_index: Tensor,
                            vectors: Tensor) -> Tensor:
    """``model.atomic_energies``, with layer ``l`` (of ``L``) computed only on the pairs that
    touch an atom within ``2L - l`` hops of the local atoms (the features anything exact
    needs; see the module docstring): the same exact energies within ``L`` hops, about
    half the edge work of evaluating every layer everywhere."""
    edge_sh, radial, envelope = model.edge_features(edge_index, vectors)
    num_edges, num_layers = edge_index.shape[1], len(model.layers)
    half = num_edges // 2 if radial.shape[0] != num_edges else 0
    features = model.embedding(species)
    energy = torch.zeros(species.shape[0], dtype=vectors.dtype, device=vectors.device)
    for index, (layer, readout) in enumerate(zip(model.layers, model.readouts), start=1):
        needed = hops <= 2 * num_layers - index
        touches = needed[edge_index[0]] | needed[edge_index[1]]
        if half:   # keep whole pairs, so the list stays mirrored (one radial row per pair)
            pairs = torch.nonzero(touches[:half]).squeeze(1)
            edges, rows = torch.cat([pairs, pairs + half]), pairs
        else:
            edges = rows = torch.nonzero(touches).squeeze(1)
        features = layer(features, species, edge_sh[edges], radial[rows], envelope[rows],
                         edge_index[:, edges])
        energy = energy + readout(features).squeeze(-1)
    return model.energy_scale * energy + model.energy_shifts[species]
