"""Training: Keras fit loop, callbacks, TensorBoard writers, the compare job, tuning, final fits."""

from movierec.training.callbacks import EpochProgress, EpochTimer, ValidationMetrics
from movierec.training.experiment import (
    PreparedData,
    build_recommender,
    fit_and_evaluate,
    prepare_data,
    run_experiment,
    write_report,
)
from movierec.training.final import fit_final
from movierec.training.loop import make_dataset, make_optimizer, resolve_train_config, set_seed
from movierec.training.tuning import grid_points, parse_grid, tune

__all__ = [
    "EpochProgress",
    "EpochTimer",
    "ValidationMetrics",
    "PreparedData",
    "build_recommender",
    "fit_and_evaluate",
    "prepare_data",
    "run_experiment",
    "write_report",
    "fit_final",
    "make_dataset",
    "make_optimizer",
    "resolve_train_config",
    "set_seed",
    "grid_points",
    "parse_grid",
    "tune",
]
