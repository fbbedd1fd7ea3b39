"""TensorBoard files written without TensorFlow: one run per model, HParams, layout, projector."""

from movierec.tracking.curves import config_markdown, log_curves, log_epoch
from movierec.tracking.events import EventWriter
from movierec.tracking.layout import LAYOUT_METRICS, comparison_layout
from movierec.tracking.projector import PROJECTOR_CONFIG, write_projector
from movierec.tracking.run_log import RunLog
from movierec.tracking.summaries import flat_hparams

__all__ = [
    "EventWriter",
    "LAYOUT_METRICS",
    "comparison_layout",
    "PROJECTOR_CONFIG",
    "write_projector",
    "RunLog",
    "flat_hparams",
    "config_markdown",
    "log_curves",
    "log_epoch",
]
