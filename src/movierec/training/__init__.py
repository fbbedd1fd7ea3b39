"""Training TFRS models with Keras: seeding, optimisers, tf.data pipelines, callbacks. No models here."""

from movierec.training.callbacks import (
    AveragedWeights,
    EpochBackup,
    EpochProgress,
    EpochTimer,
    StopOnNonFiniteLoss,
    ValidationMetrics,
)
from movierec.training.distribute import STRATEGIES, make_strategy
from movierec.training.optimizers import averaging_momentum, learning_rate_callback, make_optimizer
from movierec.training.pipeline import (
    DataEpoch,
    EpochRandomState,
    epoch_generator,
    make_dataset,
    owned_generators,
    set_seed,
)

__all__ = [
    "DataEpoch",
    "AveragedWeights",
    "EpochBackup",
    "EpochRandomState",
    "EpochProgress",
    "EpochTimer",
    "StopOnNonFiniteLoss",
    "ValidationMetrics",
    "STRATEGIES",
    "make_strategy",
    "make_dataset",
    "learning_rate_callback",
    "make_optimizer",
    "averaging_momentum",
    "set_seed",
    "epoch_generator",
    "owned_generators",
]
