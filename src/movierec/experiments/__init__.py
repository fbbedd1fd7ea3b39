"""Experiments: where presets, data, models and baselines meet (compare, epoch search, tuning)."""

from movierec.experiments.compare import fit_and_evaluate, run_experiment
from movierec.experiments.data import PreparedData, prepare_data
from movierec.experiments.final_fit import fit_final
from movierec.experiments.presets import DEFAULT_PRESET, PRESETS, get_preset
from movierec.experiments.tuning import grid_points, parse_grid, tune, what_mattered

__all__ = [
    "fit_and_evaluate",
    "run_experiment",
    "PreparedData",
    "prepare_data",
    "fit_final",
    "DEFAULT_PRESET",
    "PRESETS",
    "get_preset",
    "grid_points",
    "parse_grid",
    "tune",
    "what_mattered",
]
