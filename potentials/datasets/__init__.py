"""Reference-data generators writing labelled extxyz: EMT (metals), GFN2-xTB (molecules)."""
from .emt import EMTSettings, generate_emt
from .io import write_frames
from .xtb import XTBSettings, generate_xtb

__all__ = ["EMTSettings", "XTBSettings", "generate_emt", "generate_xtb", "write_frames"]
