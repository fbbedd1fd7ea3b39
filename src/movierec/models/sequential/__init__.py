"""The sequential kind: causal self-attention over each user's latest movies, trained next-movie style."""

from movierec.models.sequential.encoder import SequenceEncoder, causal_mask
from movierec.models.sequential.model import SequenceQuery, SequentialModel
from movierec.models.sequential.recommender import SequentialRecommender
from movierec.models.sequential.windows import make_sequence_dataset, sequence_windows

__all__ = [
    "SequenceEncoder",
    "causal_mask",
    "SequenceQuery",
    "SequentialModel",
    "SequentialRecommender",
    "make_sequence_dataset",
    "sequence_windows",
]
