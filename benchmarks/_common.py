"""Shared pieces of the benchmark scripts: structures and result files."""
from __future__ import annotations

import platform
from pathlib import Path

import torch

from potentials.files import strict_json

RESULTS = Path(__file__).resolve().parent / "results"


def cu_atoms(num_atoms: int):
    """fcc Cu (a = 3.61 A) of ``num_atoms = 4 n^3`` atoms, rattled by 0.05 A."""
    from ase.build import bulk

    repeat = round((num_atoms / 4) ** (1 / 3))
    if 4 * repeat**3 != num_atoms:
        raise ValueError(f"{num_atoms} is not 4 n^3 (fcc cubic cells)")
    atoms = bulk("Cu", "fcc", a=3.61, cubic=True).repeat(repeat)
    atoms.rattle(0.05, seed=0)
    return atoms


def benchmark_model(path: str, dtype: torch.dtype):
    """The benchmark model (fcc Cu, 32 channels, l_max 1, 2 layers, correlation 3, cutoff
    5 A, random weights of seed 0): ``"eager"`` the e3nn model, ``"fast"`` FastPotential."""
    from potentials import EquivariantPotential, FastPotential, PotentialConfig

    torch.manual_seed(0)
    config = PotentialConfig(species=(29,), cutoff=5.0, l_max=1, channels=32, num_layers=2,
                             correlation=3, avg_num_neighbors=42.0)
    model = EquivariantPotential(config, dtype=dtype).eval()
    return FastPotential.from_model(model) if path == "fast" else model


def save_results(name: str, sections: dict, path: Path) -> None:
    """Write ``sections`` with machine/torch/thread info as JSON (atomically), and say where."""
    payload = {"benchmark": name, "machine": platform.platform(), "torch": torch.__version__,
               "threads": torch.get_num_threads(), **sections}
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(strict_json(payload))
    tmp.replace(path)
    print(f"saved {path}")
