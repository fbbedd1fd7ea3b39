"""The Custom Scalars layout of a compare run: the charts people compare models on, first."""

from __future__ import annotations

from tensorboard.plugins.custom_scalar import layout_pb2

from movierec.evaluation.names import METRIC_LABELS

__all__ = ["comparison_layout", "LAYOUT_METRICS"]

# validation metrics charted for every model (baselines as flat lines), in this order
LAYOUT_METRICS = ("ndcg@10", "recall@10", "factorized_top_100")


def comparison_layout() -> layout_pb2.Layout:
    """Loss, then validation NDCG@10, Recall@10 and factorized top-100 of every run, one chart each."""
    charts = [_chart("train loss per rating", r"^train/loss$")]
    charts += [_chart(f"validation {METRIC_LABELS[key]}", f"^validation/{key}$") for key in LAYOUT_METRICS]
    return layout_pb2.Layout(category=[layout_pb2.Category(title="Compare models", chart=charts)])


def _chart(title: str, tag_regex: str) -> layout_pb2.Chart:
    return layout_pb2.Chart(title=title, multiline=layout_pb2.MultilineChartContent(tag=[tag_regex]))
