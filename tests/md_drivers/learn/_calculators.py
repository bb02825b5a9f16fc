"""Reference calculators for the loop tests, named by import path in their configs."""
import numpy as np
from ase.calculators.emt import EMT

INTERRUPT = {"after": None, "calls": 0}   # set "after" to raise KeyboardInterrupt (a kill)


class FlakyEMT(EMT):
    """EMT that returns NaN forces for the selected frame ``nan_index`` and raises for
    ``raise_index`` (found through ``atoms.info["selected_index"]``); with
    ``INTERRUPT["after"]`` set, the process is "killed" at that labelling call."""

    def __init__(self, nan_index=1, raise_index=2, **kwargs):
        super().__init__(**kwargs)
        self.nan_index, self.raise_index = nan_index, raise_index

    def calculate(self, atoms=None, properties=("energy",), system_changes=("positions",)):
        INTERRUPT["calls"] += 1
        if INTERRUPT["after"] is not None and INTERRUPT["calls"] > INTERRUPT["after"]:
            raise KeyboardInterrupt("killed while labelling")
        index = atoms.info.get("selected_index")
        if index == self.raise_index:
            raise RuntimeError("SCF did not converge")
        super().calculate(atoms, properties, system_changes)
        if index == self.nan_index:
            self.results["forces"] = np.full_like(self.results["forces"], np.nan)
