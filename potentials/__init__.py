"""equiforce potentials: E(3)-equivariant models, neighbour lists and model inputs.

Units: Angstrom, eV, eV/A, stress in eV/A^3 with ASE's sign and Voigt order.
"""
from .config import PotentialConfig
from .graph import AtomicGraph, atoms_to_graph, batch_graphs, structure_to_graph, validate_structure
from .model import EquivariantPotential
from .neighbors import VerletNeighborList, neighbor_list

__all__ = [
    "AtomicGraph",
    "EquivariantPotential",
    "PotentialConfig",
    "VerletNeighborList",
    "atoms_to_graph",
    "batch_graphs",
    "neighbor_list",
    "structure_to_graph",
    "validate_structure",
]
