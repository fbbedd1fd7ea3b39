"""The metric names every consumer shares: tables, charts, TensorBoard and the training logs.

Keys are those of `evaluate`'s result; each table or chart shows a subset, in this order.
"""

from __future__ import annotations

__all__ = ["METRIC_LABELS", "HEADLINE_METRICS", "VALIDATION_LOGS"]

# key in `evaluate`'s result -> short label for tables, charts and TensorBoard
METRIC_LABELS: dict[str, str] = {
    "factorized_top_1": "top-1",
    "factorized_top_5": "top-5",
    "factorized_top_10": "top-10",
    "factorized_top_50": "top-50",
    "factorized_top_100": "top-100",
    "recall@10": "Recall@10",
    "recall@20": "Recall@20",
    "ndcg@10": "NDCG@10",
    "hr@10": "HR@10",
    "mrr": "MRR",
    "coverage@10": "Cov@10",
}

# what the compare command prints and the verdicts judge
HEADLINE_METRICS = ("ndcg@10", "factorized_top_100")

# validation metrics added to the Keras epoch logs (and so to TensorBoard and early stopping)
VALIDATION_LOGS: dict[str, str] = {"recall@10": "val_recall_at_10", "ndcg@10": "val_ndcg_at_10"}
