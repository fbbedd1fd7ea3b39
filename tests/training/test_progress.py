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
