"""equiforce potentials: E(3)-equivariant models, neighbour lists, export and loading.

Units: Angstrom, eV, eV/A, stress in eV/A^3 with ASE's sign and Voigt order.
"""
from ._metadata import FORMAT_VERSION, ModelFileError
from ._ops import OPS
from .config import PotentialConfig
from .convert import convert_ops
from .deployed import DeployedPotential, load
from .export import export
from .fast import EdgeChunking, FastPotential
from .graph import AtomicGraph, atoms_to_graph, batch_graphs, structure_to_graph, validate_structure
from .model import EquivariantPotential
from .neighbors import VerletNeighborList, neighbor_list

__all__ = [
    "FORMAT_VERSION",
    "AtomicGraph",
    "DeployedPotential",
    "EdgeChunking",
    "EquivariantPotential",
    "FastPotential",
    "ModelFileError",
    "OPS",
    "PotentialConfig",
    "VerletNeighborList",
    "atoms_to_graph",
    "batch_graphs",
    "convert_ops",
    "export",
    "load",
    "neighbor_list",
    "structure_to_graph",
    "validate_structure",
]
