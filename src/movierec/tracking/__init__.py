"""TensorBoard files written without TensorFlow: event files, HParams, test scalars, projector."""

from movierec.tracking.events import EventWriter
from movierec.tracking.projector import PROJECTOR_CONFIG, write_projector
from movierec.tracking.summaries import flat_hparams, write_hparams_config, write_run_summary

__all__ = [
    "EventWriter",
    "PROJECTOR_CONFIG",
    "write_projector",
    "flat_hparams",
    "write_hparams_config",
    "write_run_summary",
]
