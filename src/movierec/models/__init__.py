"""Two-tower TFRS models: towers, the Keras model, its loss, SavedModel export and the recommender."""

from movierec.models.export import ExportModule, load_export
from movierec.models.losses import DiagonalSoftmaxLoss
from movierec.models.recommender import TwoTowerRecommender, build_history
from movierec.models.towers import Tower, TowerInputs
from movierec.models.two_tower import TwoTowerModel

__all__ = [
    "ExportModule",
    "load_export",
    "DiagonalSoftmaxLoss",
    "TwoTowerRecommender",
    "build_history",
    "Tower",
    "TowerInputs",
    "TwoTowerModel",
]
