"""Growing the fixed pair buffer of a CUDA-graph TorchForce from the host, between chunks.

A :class:`~md_drivers.openmm._torch_backend.FixedCapacityOpenMMModule` cannot resize its
buffer inside a captured graph; it reports its pair count (the energy derivative of the
global parameter ``equiforce_pair_count``) and poisons energy and forces (NaN) when the
count exceeds the capacity. :class:`PairCapacityGuard` runs the integrator in chunks,
checkpointing the Context before each one; after an overflowed chunk it builds a larger
force, reinitialises the Context and runs the chunk again from the checkpoint, so no step
is ever taken with missing pairs.
"""
from __future__ import annotations

import logging
import math
from typing import Callable, Optional

from ._fixed_pairs import PAIR_COUNT_PARAMETER

__all__ = ["PairCapacityGuard"]

log = logging.getLogger("equiforce")


class PairCapacityGuard:
    """Steps a Context whose equiforce TorchForce has a fixed pair capacity.

    Example::

        def make(capacity):
            return create_force(model, topology, atoms=ml_atoms, backend="torch",
                                device="cuda", cuda_graphs=True, pair_capacity=capacity)
        system.addForce(make(4000))
        context = openmm.Context(system, integrator, openmm.Platform.getPlatformByName("CUDA"))
        guard = PairCapacityGuard(context, system.getNumForces() - 1, make, capacity=4000,
                                  n_atoms=len(ml_atoms))
        guard.step(100_000)

    A state made with an overflowed buffer is beyond repair: ``setVelocitiesToTemperature``
    uses the forces (OpenMM 8), so with too small a buffer it gives NaN velocities. Start
    with a generous capacity, or set velocities explicitly.

    Args:
        context: the ``openmm.Context``; its System holds the force.
        force_index: index of the equiforce force in the System.
        make_force: builds the force for a given pair capacity.
        capacity: the capacity of the force now in the System.
        interval: steps per chunk; each chunk costs a checkpoint and one State read.
        growth: the new capacity is ``growth`` times the larger of the count and the old
            capacity.
        n_atoms: atoms the potential acts on (the ML region; default: every particle):
            bounds the capacity, since a buffer holding all their pairs cannot overflow.

    Attributes:
        capacity: the current capacity; ``n_grown``: how many times it grew.
    """

    def __init__(self, context, force_index: int, make_force: Callable[[int], object],
                 capacity: int, interval: int = 100, growth: float = 1.5,
                 n_atoms: Optional[int] = None) -> None:
        if interval < 1 or growth <= 1.0:
            raise ValueError(f"interval must be >= 1 and growth > 1, got {interval}, {growth}")
        self.context, self.force_index, self.make_force = context, force_index, make_force
        self.capacity, self.interval, self.growth = int(capacity), int(interval), float(growth)
        self.n_grown = 0
        n = context.getSystem().getNumParticles() if n_atoms is None else int(n_atoms)
        self.max_pairs = max(1, n * (n - 1) // 2)

    def pair_count(self) -> int:
        """Pairs within the cutoff at the last force evaluation (one State read)."""
        state = self.context.getState(getParameterDerivatives=True)
        return int(round(state.getEnergyParameterDerivatives()[PAIR_COUNT_PARAMETER]))

    def step(self, n_steps: int) -> None:
        """Advance ``n_steps`` steps, growing the buffer (and repeating a chunk) on overflow.

        Raises:
            RuntimeError: the energy is NaN although the buffer holds every pair of the
                ``n_atoms`` atoms (a simulation that blew up), or the box is narrower than
                twice the cutoff (no capacity fixes that).
        """
        done = 0
        while done < n_steps:
            chunk = min(self.interval, n_steps - done)
            checkpoint = self.context.createCheckpoint()
            count, finite = self._run(chunk)
            if count < 0:
                raise RuntimeError("equiforce TorchForce: the periodic box is narrower than "
                                   "twice the cutoff, too small for its minimum-image pairs; "
                                   "use cuda_graphs=False")
            if count <= self.capacity and finite:
                done += chunk
                continue
            # An overflow earlier in the chunk leaves NaN positions, whose count is 0: the
            # count at the chunk's start is read instead, and the buffer grows at least
            # geometrically, until every pair of the n_atoms atoms fits.
            if count <= self.capacity and self.capacity >= self.max_pairs:
                raise RuntimeError("equiforce TorchForce: NaN energy without a pair-buffer "
                                   f"overflow ({self.capacity} slots hold every pair)")
            self.context.loadCheckpoint(checkpoint)
            self._grow(max(count, self.capacity, self.pair_count()))

    def _run(self, chunk: int) -> tuple[int, bool]:
        """Step ``chunk`` steps; the pair count and whether the energy is finite after."""
        try:
            self.context.getIntegrator().step(chunk)
            return self.pair_count(), self._energy_is_finite()
        except Exception as error:  # CUDA/OpenCL raise on NaN coordinates
            if "nan" not in str(error).lower():
                raise
            return 0, False

    def _energy_is_finite(self) -> bool:
        import openmm.unit as unit

        state = self.context.getState(getEnergy=True)
        return math.isfinite(state.getPotentialEnergy().value_in_unit(unit.kilojoule_per_mole))

    def _grow(self, needed: int) -> None:
        capacity = min(int(math.ceil(self.growth * needed)), max(self.max_pairs, needed))
        log.info("equiforce TorchForce: %d pairs > capacity %d; rebuilding with %d",
                 needed, self.capacity, capacity)
        system = self.context.getSystem()
        system.removeForce(self.force_index)
        system.addForce(self.make_force(capacity))
        self.force_index = system.getNumForces() - 1
        self.context.reinitialize(preserveState=True)
        self.capacity, self.n_grown = capacity, self.n_grown + 1
