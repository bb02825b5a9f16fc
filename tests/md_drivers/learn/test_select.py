"""Selection: highest committee spread first, never two near-identical frames."""
import numpy as np
import pytest
from ase.build import bulk, fcc111

from md_drivers.learn import (SelectSettings, fingerprint, fingerprint_distance,
                              score_frames, select_frames)
from potentials import export
from tests.structures import small_model


def _rattled(seed, amplitude=0.15):
    atoms = bulk("Cu", "fcc", a=3.61, cubic=True).repeat(2)
    atoms.rattle(amplitude, seed=seed)
    return atoms


def test_fingerprint_is_invariant_and_tells_structures_apart():
    atoms = _rattled(0)
    moved = atoms.copy()
    moved.rotate(37, "z", rotate_cell=True)
    moved.translate([0.3, -1.2, 0.7])
    moved = moved[np.random.default_rng(0).permutation(len(moved))]
    same = fingerprint_distance(fingerprint(atoms, [29], 4.5), fingerprint(moved, [29], 4.5))
    assert same < 1e-10
    slab = fcc111("Cu", (2, 2, 4), a=3.61, vacuum=6.0)
    other = fingerprint_distance(fingerprint(atoms, [29], 4.5), fingerprint(slab, [29], 4.5))
    assert other > 0.1
    assert fingerprint_distance(fingerprint(_rattled(1), [29], 4.5),
                                fingerprint(atoms, [29], 4.5)) > 0.02


def test_picks_highest_spread_first_and_skips_near_duplicates():
    frames = [_rattled(seed) for seed in range(6)]
    duplicate = frames[2].copy()
    duplicate.positions += 1e-4                                    # the same structure
    near = frames[4].copy()
    near.rattle(1e-4, seed=9)
    frames += [duplicate, near]
    spreads = [0.10, 0.30, 0.50, 0.02, 0.40, 0.20, 0.49, 0.45]
    prints = [fingerprint(f, [29], 4.5) for f in frames]
    chosen = select_frames(spreads, prints, SelectSettings(threshold=0.05, max_frames=10))
    # by spread: 6 is a copy of 2 (taken first), 4 a copy of 7 (higher spread); 3 is below
    assert chosen == [2, 7, 1, 5, 0]
    assert select_frames(spreads, prints, SelectSettings(threshold=0.05, max_frames=2)) == [2, 7]
    # near-duplicates never both: also when nothing else is left
    pairs = [(a, b) for a in chosen for b in chosen if a < b]
    assert all(fingerprint_distance(prints[a], prints[b]) > 0.02 for a, b in pairs)


def test_max_per_run_spreads_the_budget_over_runs():
    frames = [_rattled(seed) for seed in range(6)]
    prints = [fingerprint(f, [29], 4.5) for f in frames]
    runs = ["hot", "hot", "hot", "hot", "slab", "slab"]
    spreads = [0.9, 0.8, 0.7, 0.6, 0.2, 0.1]
    chosen = select_frames(spreads, prints, SelectSettings(threshold=0.0, max_frames=4,
                                                           max_per_run=2), runs)
    assert chosen == [0, 1, 4, 5]


def test_nan_spread_is_never_selected():
    frames = [_rattled(seed) for seed in range(2)]
    prints = [fingerprint(f, [29], 4.5) for f in frames]
    assert select_frames([np.nan, 0.2], prints, SelectSettings(threshold=0.0)) == [1]


def test_identical_committee_selects_nothing(tmp_path):
    member = str(export(small_model(seed=0), tmp_path / "m.pt"))
    frames = [_rattled(seed) for seed in range(3)]
    for frame in frames:
        frame.numbers[:3] = 79
    scored = score_frames(frames, [member, member])
    spreads = [f.info["max_forces_std"] for f in scored]
    assert spreads == [0.0, 0.0, 0.0]
    chosen = select_frames(spreads, [fingerprint(f, [29, 79], 4.5) for f in scored],
                           SelectSettings(threshold=0.0))
    assert chosen == []
    other = str(export(small_model(seed=1), tmp_path / "m1.pt"))
    assert min(f.info["max_forces_std"] for f in score_frames(frames, [member, other])) > 0


@pytest.mark.parametrize("bad", [{"threshold": -1.0}, {"max_frames": 0}, {"min_distance": -0.1},
                                 {"max_per_run": 0}])
def test_bad_settings_are_named(bad):
    with pytest.raises(ValueError, match=f"select.{next(iter(bad))}"):
        SelectSettings(**bad)
