"""Small models and hard test structures (triclinic, slab, molecule) shared by tests."""
import numpy as np
import torch
from ase import Atoms
from ase.build import bulk, molecule

from potentials import EquivariantPotential, PotentialConfig


def small_config(**changes) -> PotentialConfig:
    base = dict(species=(1, 6, 8, 29, 79), cutoff=4.0, l_max=2, channels=8, num_layers=2,
                correlation=2, num_radial=6, radial_hidden=16, readout_hidden=8,
                avg_num_neighbors=10.0)
    base.update(changes)
    return PotentialConfig(**base)


def small_model(seed: int = 0, dtype=torch.float64, **changes) -> EquivariantPotential:
    torch.manual_seed(seed)
    return EquivariantPotential(small_config(**changes), dtype=dtype)


def triclinic_cu_au(seed: int = 0) -> Atoms:
    """8 atoms of Cu/Au in a skewed periodic cell, rattled."""
    rng = np.random.default_rng(seed)
    cell = np.array([[5.2, 0.0, 0.0], [1.3, 4.9, 0.0], [0.8, -0.9, 5.6]])
    atoms = Atoms(numbers=rng.choice([29, 79], size=8), cell=cell, pbc=True,
                  scaled_positions=rng.uniform(size=(8, 3)))
    _push_apart(atoms, 1.6)
    return atoms


def ethanol() -> Atoms:
    atoms = molecule("CH3CH2OH")
    atoms.rattle(0.05, seed=1)
    return atoms


def cu_slab() -> Atoms:
    atoms = bulk("Cu", "fcc", a=3.61, cubic=True).repeat((2, 2, 1))
    atoms.pbc = [True, True, False]
    atoms.center(vacuum=4.0, axis=2)
    atoms.rattle(0.05, seed=2)
    return atoms


def _push_apart(atoms: Atoms, min_distance: float) -> None:
    """Crude relaxation of random positions so no pair is closer than min_distance."""
    for _ in range(200):
        d = atoms.get_all_distances(mic=True)
        np.fill_diagonal(d, np.inf)
        i, j = np.unravel_index(np.argmin(d), d.shape)
        if d[i, j] >= min_distance:
            return
        vec = atoms.get_distance(i, j, mic=True, vector=True)
        atoms.positions[j] += 0.5 * vec / max(np.linalg.norm(vec), 1e-3)



def relaxing_cu_model() -> EquivariantPotential:
    """A random-weight Cu model whose fcc crystal has a bonded minimum (checked: BFGS with
    a cell filter converges at a = 3.5 A with neighbours well inside the cutoff)."""
    torch.manual_seed(0)
    config = PotentialConfig(species=(29,), cutoff=4.5, l_max=1, channels=8, correlation=2,
                             avg_num_neighbors=30.0, energy_scale=3.0)
    return EquivariantPotential(config)
