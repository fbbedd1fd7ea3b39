"""Non-neural baselines behind the same `Recommender` contract as the TFRS models."""

from movierec.baselines.als import AlsConfig, AlsRecommender, als_loss, als_solve
from movierec.baselines.ease import EaseConfig, EaseRecommender, ease_weights
from movierec.baselines.popularity import PopularityConfig, PopularityRecommender
from movierec.baselines.tuning import DEFAULT_GRIDS, tune_baseline

__all__ = [
    "AlsConfig",
    "AlsRecommender",
    "als_loss",
    "als_solve",
    "EaseConfig",
    "EaseRecommender",
    "ease_weights",
    "PopularityConfig",
    "PopularityRecommender",
    "DEFAULT_GRIDS",
    "tune_baseline",
]
