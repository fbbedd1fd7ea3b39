"""EpochProgress: log lines per epoch off a terminal, and inside long epochs."""

from __future__ import annotations

import logging

from movierec.training.callbacks import EpochProgress, peak_rss_mb


def test_each_epoch_logs_loss_validation_seconds_and_memory(caplog):
    progress = EpochProgress("m", epochs=3)
    progress.set_params({"steps": 10, "epochs": 3})
    with caplog.at_level(logging.INFO, logger="movierec.training.callbacks"):
        progress.on_train_begin()
        progress.on_epoch_begin(0)
        for batch in range(10):
            progress.on_train_batch_end(batch)
        progress.on_epoch_end(0, {"loss": 2.5, "val_ndcg_at_10": 0.125})
        progress.on_train_end()
    lines = [r.getMessage() for r in caplog.records]
    assert len(lines) == 1  # a short epoch logs nothing inside it
    assert lines[0].startswith("m epoch 1/3: loss 2.5, val NDCG@10 0.125, ")
    assert lines[0].endswith(" MB")


def test_a_long_epoch_logs_every_tenth(caplog):
    progress = EpochProgress("big", epochs=1, long_epoch=50)
    progress.set_params({"steps": 100, "epochs": 1})
    with caplog.at_level(logging.INFO, logger="movierec.training.callbacks"):
        progress.on_train_begin()
        progress.on_epoch_begin(0)
        for batch in range(100):
            progress.on_train_batch_end(batch)
    lines = [r.getMessage() for r in caplog.records]
    assert [line.split(": ")[1].split(" ")[0] for line in lines] == [f"{p}%" for p in range(10, 101, 10)]
    assert lines[2].startswith("big epoch 1: 30% (30/100 batches), ")


def test_peak_memory_is_this_process():
    assert 10 < peak_rss_mb() < 1_000_000  # a Python process with TensorFlow loaded: tens of MB at least


def test_grouped_batches_log_once_per_tenth_crossed(caplog):
    """With steps_per_execution = 32, Keras reports batches 31, 63, 95, ...: one line per tenth crossed."""
    progress = EpochProgress("big", epochs=1, long_epoch=50)
    progress.set_params({"steps": 1000, "epochs": 1})
    with caplog.at_level(logging.INFO, logger="movierec.training.callbacks"):
        progress.on_train_begin()
        progress.on_epoch_begin(0)
        for batch in list(range(31, 1000, 32)) + [999]:
            progress.on_train_batch_end(batch)
    counts = [r.getMessage().split("(")[1].split("/")[0] for r in caplog.records]
    # first call at or past 100, 200, ...: 128 (4 groups of 32), 224, 320, 416, 512, 608, 704, 800, 928, 1,000
    assert counts == ["128", "224", "320", "416", "512", "608", "704", "800", "928", "1,000"]


def test_stop_on_non_finite_loss_reads_grouped_batches_past_each_threshold():
    import numpy as np
    import pytest

    from movierec.errors import ModelFitError
    from movierec.training.callbacks import StopOnNonFiniteLoss

    class Loss:  # counts the reads: each one waits for the device in real training
        reads = 0

        def __init__(self, value):
            self.value = value

        def __float__(self):
            Loss.reads += 1
            return self.value

    stop = StopOnNonFiniteLoss(every=50)
    stop.on_epoch_begin(0)
    for batch in range(31, 320, 32):  # 31, 63, ..., 319: reads at 32 (first), 63 (>= 50), 127, 159, 223, 255, 319
        stop.on_train_batch_end(batch, {"loss": Loss(1.0)})
    assert Loss.reads == 7
    with pytest.raises(ModelFitError, match="at epoch 1, by batch 352"):
        stop.on_train_batch_end(351, {"loss": Loss(np.nan)})
