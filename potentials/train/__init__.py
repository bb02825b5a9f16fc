"""Training: labelled data, configuration, the training loop and reports."""
from .config import DataSettings, OptimSettings, TrainConfig
from .data import (DataError, Frame, LabelKeys, data_hash, fit_reference_energies,
                   frames_from_structures, read_frames, split_indices)
from .loop import TrainResult, fitted_model_config, train

__all__ = ["DataError", "DataSettings", "Frame", "LabelKeys", "OptimSettings", "TrainConfig",
           "TrainResult", "data_hash", "fit_reference_energies", "fitted_model_config",
           "frames_from_structures", "read_frames", "split_indices", "train"]
