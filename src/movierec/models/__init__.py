"""TFRS model kinds: the two-tower model (towers, Keras model, recommender), the sequential kind
(`movierec.models.sequential`), their retrieval losses, the shared Keras recommender base and the
SavedModel export."""

from movierec.models.export import ExportModule, load_export
from movierec.models.keras_recommender import KerasRecommender, build_history, latest_rows
from movierec.models.losses import DiagonalSoftmaxLoss, RetrievalTask
from movierec.models.sequential import SequentialRecommender
from movierec.models.towers import Tower, TowerInputs
from movierec.models.two_tower import TwoTowerModel
from movierec.models.two_tower_recommender import TwoTowerRecommender

__all__ = [
    "ExportModule",
    "load_export",
    "KerasRecommender",
    "build_history",
    "latest_rows",
    "DiagonalSoftmaxLoss",
    "RetrievalTask",
    "TwoTowerRecommender",
    "SequentialRecommender",
    "Tower",
    "TowerInputs",
    "TwoTowerModel",
]
