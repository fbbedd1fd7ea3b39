"""Metrics as plain numpy functions and `evaluate`, which runs them for any recommender."""

from movierec.evaluation.evaluate import LIST_KS, evaluate
from movierec.evaluation.metrics import (
    accuracy_from_ranks,
    coverage_at_k,
    factorized_top_k_accuracy,
    hit_rate_at_k,
    mean_popularity_at_k,
    mrr,
    ndcg_at_k,
    positive_ranks,
    recall_at_k,
)
from movierec.evaluation.names import HEADLINE_METRICS, METRIC_LABELS, VALIDATION_LOGS
from movierec.evaluation.paired import PER_USER_FILE, PairedDifference, load_per_user, paired_difference, pool_users
from movierec.evaluation.sampling import sample_users

__all__ = [
    "LIST_KS",
    "evaluate",
    "accuracy_from_ranks",
    "coverage_at_k",
    "factorized_top_k_accuracy",
    "hit_rate_at_k",
    "mean_popularity_at_k",
    "mrr",
    "ndcg_at_k",
    "positive_ranks",
    "recall_at_k",
    "HEADLINE_METRICS",
    "METRIC_LABELS",
    "VALIDATION_LOGS",
    "sample_users",
    "PER_USER_FILE",
    "PairedDifference",
    "load_per_user",
    "paired_difference",
    "pool_users",
]
