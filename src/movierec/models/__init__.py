"""Two-tower TFRS models: configs, presets, towers, the Keras model, export and the recommender."""

from movierec.models.config import ACTIVATIONS, ITEM_FEATURES, USER_FEATURES, TwoTowerConfig
from movierec.models.export import ExportModule, load_export
from movierec.models.losses import DiagonalSoftmaxLoss
from movierec.models.presets import DEFAULT_PRESET, PRESETS, get_preset
from movierec.models.recommender import TwoTowerRecommender, build_history
from movierec.models.towers import Tower, TowerInputs
from movierec.models.two_tower import TwoTowerModel

__all__ = [
    "ACTIVATIONS",
    "ITEM_FEATURES",
    "USER_FEATURES",
    "TwoTowerConfig",
    "ExportModule",
    "load_export",
    "DiagonalSoftmaxLoss",
    "DEFAULT_PRESET",
    "PRESETS",
    "get_preset",
    "TwoTowerRecommender",
    "build_history",
    "Tower",
    "TowerInputs",
    "TwoTowerModel",
]
