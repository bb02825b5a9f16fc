"""Reference-data generators writing labelled extxyz: EMT (metals), GFN2-xTB (molecules),
OpenMM amber14 (proteins)."""
from .emt import EMTSettings, generate_emt
from .io import write_frames
from .openmm import Amber14Calculator, OpenMMSettings, generate_openmm
from .xtb import XTBSettings, generate_xtb

__all__ = ["Amber14Calculator", "EMTSettings", "OpenMMSettings", "XTBSettings", "generate_emt",
           "generate_openmm", "generate_xtb", "write_frames"]
