"""Active learning: committee MD explores, the most uncertain distinct frames are labelled
by a reference calculator, and the committee is retrained on the grown data, round by
round (``equiforce learn CONFIG.yaml``; docs/learn.md)."""
from .config import CommitteeSettings, LearnConfig
from .evaluate import calibration, committee_errors
from .explore import ExploreRun, explore, score_frames
from .fingerprint import fingerprint, fingerprint_distance
from .label import BUILTIN_CALCULATORS, LabelSettings, label_frame, reference_calculator
from .loop import LearnResult, learn, member_config
from .select import SelectSettings, select_frames

__all__ = ["BUILTIN_CALCULATORS", "CommitteeSettings", "ExploreRun", "LabelSettings",
           "LearnConfig", "LearnResult", "SelectSettings", "calibration", "committee_errors",
           "explore", "fingerprint", "fingerprint_distance", "label_frame", "learn",
           "member_config", "reference_calculator", "score_frames", "select_frames"]
