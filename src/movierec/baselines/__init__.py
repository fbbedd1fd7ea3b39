"""Non-neural baselines behind the same `Recommender` contract as the TFRS models."""

from movierec.baselines.als import AlsRecommender, als_loss, als_solve
from movierec.baselines.ease import MAX_EASE_ITEMS, EaseRecommender, ease_weights
from movierec.baselines.markov import MarkovRecommender
from movierec.baselines.popularity import PopularityRecommender

__all__ = [
    "AlsRecommender",
    "als_loss",
    "als_solve",
    "MAX_EASE_ITEMS",
    "EaseRecommender",
    "ease_weights",
    "MarkovRecommender",
    "PopularityRecommender",
]
