"""TensorBoard event files written without TensorFlow.

An event file is a sequence of length-prefixed, CRC-checked `Event` protos (the TFRecord
framing); TensorBoard's own `RecordWriter` does the framing. Writing summaries this way
keeps the compare job's HParams, test scalars and baselines' logs free of TensorFlow, so
a command that trains only baselines never loads it.
"""

from __future__ import annotations

import os
import socket
import time
from pathlib import Path
from types import TracebackType
from typing import Any

from tensorboard.compat.proto import event_pb2
from tensorboard.summary.writer.record_writer import RecordWriter

__all__ = ["EventWriter"]


class EventWriter:
    """Appends summaries to a new event file in `run_dir` (the folder TensorBoard lists as a run).

    Example:
        >>> with EventWriter(run_dir) as writer:  # doctest: +SKIP
        ...     writer.add(scalar_pb("test/ndcg@10", 0.42), step=0)
    """

    def __init__(self, run_dir: str | Path) -> None:
        run_dir = Path(run_dir)
        run_dir.mkdir(parents=True, exist_ok=True)
        # The same name pattern as TensorFlow's writer, plus a suffix so two writers never collide.
        name = f"events.out.tfevents.{int(time.time())}.{socket.gethostname()}.{os.getpid()}.{id(self)}.movierec"
        self.path = run_dir / name
        self._records = RecordWriter(open(self.path, "wb"))  # noqa: SIM115  (closed by close())
        self._write(event_pb2.Event(wall_time=time.time(), file_version="brain.Event:2"))

    def add(self, summary: Any, step: int = 0) -> None:
        """Writes one `Summary` proto at `step`.

        Some TensorBoard helpers return TensorFlow's own `Summary` class once TensorFlow is loaded;
        going through the wire format accepts either.
        """
        event = event_pb2.Event(wall_time=time.time(), step=int(step))
        event.summary.ParseFromString(summary.SerializeToString())
        self._write(event)

    def _write(self, event: event_pb2.Event) -> None:
        self._records.write(event.SerializeToString())

    def flush(self) -> None:
        """Makes what was added so far readable (TensorBoard reads a run while it is written)."""
        if not self._records.closed:
            self._records.flush()

    def close(self) -> None:
        if not self._records.closed:
            self._records.flush()
            self._records.close()

    def __enter__(self) -> EventWriter:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()
