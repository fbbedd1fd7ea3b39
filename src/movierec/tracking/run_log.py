"""One TensorBoard run per model: scalars, text, histograms, HParams and the scalars layout.

`RunLog` keeps one event file open for a run and writes TensorBoard's summary protos
directly (no TensorFlow), so the compare job logs TFRS models and baselines the same way.
Tags of a run:

* `train/loss`: training loss per rating, each epoch (TFRS sums it over a batch; divided
  by the batch size so models with different batches share a scale);
* `validation/<metric>`: validation metrics each epoch (flat lines for the baselines);
* `test/<metric>`: the held-out test metrics, at the last epoch's step;
* text `config` (the resolved config), `samples` (what three fixed users get each epoch);
* histograms `popularity/recommended` and `popularity/catalogue`.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from types import TracebackType
from typing import Any

import numpy as np
from tensorboard.plugins.custom_scalar import layout_pb2
from tensorboard.plugins.custom_scalar import summary as custom_scalar_summary
from tensorboard.plugins.histogram.summary_v2 import histogram_pb
from tensorboard.plugins.hparams import summary_v2 as hp
from tensorboard.plugins.scalar.summary_v2 import scalar_pb
from tensorboard.plugins.text.summary_v2 import text_pb

from movierec.tracking.events import EventWriter

__all__ = ["RunLog"]


class RunLog:
    """Writes the summaries of one run (a model's folder) into one event file.

    Example:
        >>> with RunLog(run_dir) as log:  # doctest: +SKIP
        ...     log.scalars({"ndcg@10": 0.21}, step=1, prefix="validation")
    """

    def __init__(self, run_dir: str | Path) -> None:
        self.run_dir = Path(run_dir)
        self._writer = EventWriter(self.run_dir)

    def scalars(self, values: Mapping[str, Any], step: int, prefix: str) -> None:
        """`<prefix>/<name>` for every finite number of `values`."""
        for name, value in values.items():
            if isinstance(value, (int, float, np.number)) and not isinstance(value, bool) and np.isfinite(value):
                self._writer.add(scalar_pb(f"{prefix}/{name}", float(value)), step)

    def text(self, tag: str, markdown: str, step: int = 0) -> None:
        """Markdown shown in the Text tab."""
        self._writer.add(text_pb(tag, markdown), step)

    def histogram(self, tag: str, values: np.ndarray, step: int = 0, buckets: int = 30) -> None:
        self._writer.add(histogram_pb(tag, np.asarray(values, dtype=np.float64), buckets=buckets), step)

    def hparams(self, hparams: Mapping[str, bool | int | float | str]) -> None:
        """The run's HParams session (the dashboard infers its columns from every run's session)."""
        self._writer.add(hp.hparams_pb(dict(hparams), trial_id=self.run_dir.name))

    def layout(self, layout: layout_pb2.Layout) -> None:
        """The Custom Scalars layout (TensorBoard merges identical layouts of several runs)."""
        self._writer.add(custom_scalar_summary.pb(layout))

    def flush(self) -> None:
        self._writer.flush()

    def close(self) -> None:
        self._writer.close()

    def __enter__(self) -> RunLog:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()
