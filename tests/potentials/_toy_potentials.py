"""Small pair potentials with one deliberate flaw each, to show the test kit can fail.

Each is a :class:`DeployedPotential` around a torch function with the deployed call
signature; energy by a pair sum, forces and stress by autograd (the same recipe as the
real model), then one property broken on purpose.
"""
import torch

from potentials import DeployedPotential

SPECIES = (29, 79)
CUTOFF = 4.0


class PairPotential(torch.nn.Module):
    """E = sum over directed pairs of 0.5 A (1 - r/rc)^power (1 + anisotropy dx^2/r^2).

    Flaws: ``power`` 0 (hard cutoff) or 1 (forces jump at rc), ``anisotropy`` (not
    rotation invariant), ``force_scale``/``stress_scale`` (gradients wrong),
    ``ignore_shifts`` (periodic images wrong), ``batch_leak`` (graphs see each other).
    """

    def __init__(self, power=3, anisotropy=0.0, force_scale=1.0, stress_scale=1.0,
                 ignore_shifts=False, batch_leak=0.0):
        super().__init__()
        self.power, self.anisotropy = power, anisotropy
        self.force_scale, self.stress_scale = force_scale, stress_scale
        self.ignore_shifts, self.batch_leak = ignore_shifts, batch_leak

    def forward(self, positions, numbers, edge_index, shifts, cell, batch):
        num_graphs = cell.shape[0]
        strain = torch.zeros_like(cell, requires_grad=True)
        positions = positions.detach().requires_grad_(True)
        deformed = positions + torch.einsum("ni,nij->nj", positions, strain[batch])
        deformed_cell = cell + cell @ strain
        i, j = edge_index
        vectors = deformed[j] - deformed[i]
        if not self.ignore_shifts:
            vectors = vectors + torch.einsum("ei,eij->ej", shifts, deformed_cell[batch[i]])
        r = torch.linalg.norm(vectors, dim=1)
        pair = 0.5 * (1 - r / CUTOFF).clamp(min=0) ** self.power * (r < CUTOFF)
        pair = pair * (1 + self.anisotropy * vectors[:, 0] ** 2 / r ** 2)
        atomic = torch.zeros(len(positions), dtype=r.dtype).index_add(0, i, pair)
        energy = torch.zeros(num_graphs, dtype=r.dtype).index_add(0, batch, atomic)
        energy = energy + self.batch_leak * len(positions)
        d_pos, d_strain = torch.autograd.grad(energy.sum(), (positions, strain))
        volume = torch.linalg.det(cell).abs()
        safe = torch.where(volume > 0, volume, torch.ones_like(volume))
        stress = torch.where(volume[:, None, None] > 0, d_strain / safe[:, None, None], 0.0)
        return {"energy": energy.detach(), "atomic_energies": atomic.detach(),
                "forces": -d_pos * self.force_scale, "virial": -d_strain,
                "stress": stress * self.stress_scale}


def toy_potential(**flaws) -> DeployedPotential:
    metadata = {"dtype": "float64", "cutoff": CUTOFF, "species": list(SPECIES),
                "symbols": ["Cu", "Au"], "config": {}}
    return DeployedPotential(PairPotential(**flaws), metadata, "eager", torch.device("cpu"))
