"""Two-tower TFRS models: towers (pooled or causal self-attention over history), the Keras model, its loss,
SavedModel export and the recommender."""

from movierec.models.export import ExportModule, load_export
from movierec.models.losses import DiagonalSoftmaxLoss
from movierec.models.recommender import TwoTowerRecommender, build_history, latest_rows
from movierec.models.sequence import SequenceEncoder
from movierec.models.towers import Tower, TowerInputs
from movierec.models.two_tower import TwoTowerModel

__all__ = [
    "ExportModule",
    "load_export",
    "DiagonalSoftmaxLoss",
    "TwoTowerRecommender",
    "build_history",
    "latest_rows",
    "SequenceEncoder",
    "Tower",
    "TowerInputs",
    "TwoTowerModel",
]
