"""Typed, validated configuration of an :class:`~potentials.EquivariantPotential`."""
from __future__ import annotations

import dataclasses
import json
import math
from dataclasses import dataclass
from typing import Any

from ase.data import chemical_symbols

__all__ = ["PotentialConfig"]

MAX_L = 3


@dataclass(frozen=True)
class PotentialConfig:
    """Hyper-parameters of an E(3)-equivariant message-passing potential.

    Attributes:
        species: atomic numbers the model knows, e.g. ``(29,)`` for Cu. Order defines
            the type index of each element.
        cutoff: radial cutoff in Angstrom; interactions vanish smoothly (C2) at it.
        l_max: highest angular momentum of edge harmonics and features (0 to 3).
        channels: number of feature channels per irrep.
        num_layers: number of message-passing layers (>= 1).
        correlation: body order of the many-body product (MACE ``nu``); 1 means plain
            two-body messages as in NequIP, 3 gives four-body atomic features.
        num_radial: number of Bessel radial basis functions.
        radial_hidden: width of the two hidden layers of the radial MLP.
        envelope_exponent: exponent ``p`` of the polynomial cutoff envelope (>= 2).
        parity: ``True`` makes the model O(3)-equivariant (energy invariant under
            reflections); ``False`` makes it only SO(3)-equivariant, able to tell mirror
            images apart.
        avg_num_neighbors: messages are divided by this number; training sets it from
            the data.
        readout_hidden: width of the hidden layer of the last-layer energy readout.
        atomic_energy_shifts: per-species reference energy in eV added to each atomic
            energy (same order as ``species``); zeros by default.
        energy_scale: scale in eV applied to the network's atomic energy output.
    """

    species: tuple[int, ...]
    cutoff: float = 5.0
    l_max: int = 1
    channels: int = 32
    num_layers: int = 2
    correlation: int = 3
    num_radial: int = 8
    radial_hidden: int = 64
    envelope_exponent: int = 6
    parity: bool = True
    avg_num_neighbors: float = 20.0
    readout_hidden: int = 16
    atomic_energy_shifts: tuple[float, ...] | None = None
    energy_scale: float = 1.0

    def __post_init__(self) -> None:
        object.__setattr__(self, "species", tuple(int(z) for z in self.species))
        if self.atomic_energy_shifts is None:
            object.__setattr__(self, "atomic_energy_shifts", (0.0,) * len(self.species))
        else:
            shifts = tuple(float(s) for s in self.atomic_energy_shifts)
            object.__setattr__(self, "atomic_energy_shifts", shifts)
        self._validate()

    def _validate(self) -> None:
        _check(len(self.species) > 0, "species must name at least one element")
        for z in self.species:
            _check(1 <= z < len(chemical_symbols), f"species: {z} is not an atomic number")
        _check(len(set(self.species)) == len(self.species),
               f"species contains duplicates: {self.species}")
        _check(_positive(self.cutoff), f"cutoff must be a positive number of Angstrom, got {self.cutoff}")
        _check(0 <= self.l_max <= MAX_L, f"l_max must be between 0 and {MAX_L}, got {self.l_max}")
        for name in ("channels", "num_layers", "correlation", "num_radial",
                     "radial_hidden", "readout_hidden"):
            value = getattr(self, name)
            _check(isinstance(value, int) and value >= 1, f"{name} must be an integer >= 1, got {value!r}")
        _check(isinstance(self.envelope_exponent, int) and self.envelope_exponent >= 2,
               f"envelope_exponent must be an integer >= 2, got {self.envelope_exponent!r}")
        _check(isinstance(self.parity, bool), f"parity must be True or False, got {self.parity!r}")
        _check(_positive(self.avg_num_neighbors),
               f"avg_num_neighbors must be positive, got {self.avg_num_neighbors}")
        _check(_positive(self.energy_scale), f"energy_scale must be positive, got {self.energy_scale}")
        _check(len(self.atomic_energy_shifts) == len(self.species),
               f"atomic_energy_shifts has {len(self.atomic_energy_shifts)} values "
               f"for {len(self.species)} species")
        _check(all(math.isfinite(s) for s in self.atomic_energy_shifts),
               "atomic_energy_shifts must be finite")

    @property
    def symbols(self) -> tuple[str, ...]:
        """Chemical symbols of ``species``, e.g. ``('Cu',)``."""
        return tuple(chemical_symbols[z] for z in self.species)

    def replace(self, **changes: Any) -> "PotentialConfig":
        """A copy with some fields changed (validated again)."""
        return dataclasses.replace(self, **changes)

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-compatible dictionary of all fields."""
        data = {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}
        data["species"] = list(self.species)
        data["atomic_energy_shifts"] = list(self.atomic_energy_shifts)
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "PotentialConfig":
        """Build from :meth:`to_dict` output; unknown keys are an error naming them."""
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ValueError(f"unknown PotentialConfig field(s): {', '.join(unknown)}; "
                             f"known fields: {', '.join(sorted(known))}")
        return cls(**data)

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2, sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> "PotentialConfig":
        return cls.from_dict(json.loads(text))


def _positive(value: Any) -> bool:
    return isinstance(value, (int, float)) and math.isfinite(value) and value > 0


def _check(condition: bool, message: str) -> None:
    if not condition:
        raise ValueError(f"PotentialConfig: {message}")
