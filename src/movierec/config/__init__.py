"""Typed configuration: frozen dataclasses for experiments and every model kind, and their codec.

Every component takes a frozen dataclass with a comment on each field. Model configs
live here rather than beside their models so that presets, saved runs and the CLI can
read them without importing TensorFlow.
"""

from movierec.config.auto import AutoConfig
from movierec.config.baselines import AlsConfig, EaseConfig, MarkovConfig, PopularityConfig
from movierec.config.blend import BlendConfig
from movierec.config.choice import DEFAULT_PRESET, ChoiceConfig
from movierec.config.codec import from_dict, read_toml, save_json, to_dict
from movierec.config.experiment import (
    DataConfig,
    ExperimentConfig,
    SplitConfig,
    TrainConfig,
    load_experiment,
    packaged_experiments,
    resolve_train_config,
)
from movierec.config.loss import LOSSES, LossConfig
from movierec.config.sequential import SequentialConfig
from movierec.config.two_tower import ACTIVATIONS, ITEM_FEATURES, USER_FEATURES, TwoTowerConfig

__all__ = [
    "DEFAULT_PRESET",
    "AutoConfig",
    "ChoiceConfig",
    "BlendConfig",
    "AlsConfig",
    "EaseConfig",
    "PopularityConfig",
    "MarkovConfig",
    "from_dict",
    "read_toml",
    "save_json",
    "to_dict",
    "DataConfig",
    "ExperimentConfig",
    "SplitConfig",
    "TrainConfig",
    "load_experiment",
    "packaged_experiments",
    "resolve_train_config",
    "ACTIVATIONS",
    "ITEM_FEATURES",
    "USER_FEATURES",
    "TwoTowerConfig",
    "LOSSES",
    "LossConfig",
    "SequentialConfig",
]
