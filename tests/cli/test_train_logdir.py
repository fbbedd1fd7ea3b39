"""`movierec train --logdir`: the training as a TensorBoard run, written as it goes, without changing the model."""

from __future__ import annotations

import pandas as pd
import pytest
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

from movierec.cli.main import main
from movierec.config import TrainConfig, TwoTowerConfig
from movierec.experiments import fit_final
from movierec.experiments.train_log import TrainLog
from movierec.tracking import RunLog, log_epoch

# a small factorisation that stops early: three epochs at most, patience 2
CONFIG = """kind = "two_tower"
name = "small"
embedding_dim = 8
layer_sizes = []
epochs = 3
early_stopping_patience = 2
batch_size = 64
learning_rate = 0.05
"""


def _scalars(run) -> dict[str, list[tuple[int, float]]]:
    import tensorflow as tf

    accumulator = EventAccumulator(str(run)).Reload()
    return {
        tag: [(e.step, float(tf.make_ndarray(e.tensor_proto))) for e in accumulator.Tensors(tag)]
        for tag in accumulator.Tags()["tensors"]
        if "/" in tag and not tag.startswith("_")
    }


def _tags(run) -> set[str]:
    return set(EventAccumulator(str(run)).Reload().Tags()["tensors"])


@pytest.fixture()
def files(tmp_path, block_data):
    block_data.ratings.to_csv(tmp_path / "r.csv", index=False)
    block_data.items.to_csv(tmp_path / "i.csv", index=False)
    (tmp_path / "small.toml").write_text(CONFIG)
    return tmp_path


def _train(folder, out, *extra) -> int:
    return main(
        ["train", "--ratings", str(folder / "r.csv"), "--items", str(folder / "i.csv"),
         "--config", str(folder / "small.toml"), "--out", str(folder / out), *extra]
    )  # fmt: skip


def _recs(folder, model) -> pd.DataFrame:
    out = folder / f"{model}.csv"
    assert main(["recommend", "--model", str(folder / model), "--all-users", "-k", "5", "--out", str(out)]) == 0
    return pd.read_csv(out)


def test_log_epoch_divides_the_loss_by_the_batch_the_model_trained_on(tmp_path):
    with RunLog(tmp_path / "a") as log:  # the logs say 50 targets a batch; the budget said 64
        log_epoch(log, 1, {"loss": 200.0, "val_ndcg_at_10": 0.25, "batch_size": 50.0}, TrainConfig(batch_size=64))
    with RunLog(tmp_path / "b") as log:  # no batch size in the logs: the budget's
        log_epoch(log, 2, {"loss": 256.0}, TrainConfig(batch_size=64), prefix="refit")
    assert _scalars(tmp_path / "a") == {"train/loss": [(1, 4.0)], "validation/ndcg@10": [(1, 0.25)]}
    assert _scalars(tmp_path / "b") == {"refit/loss": [(2, 4.0)]}


def test_train_log_holds_every_epoch_of_both_passes_as_fit_final_reported_them(tmp_path, block_data):
    config = TwoTowerConfig(name="small", embedding_dim=8, layer_sizes=(), epochs=3, early_stopping_patience=2,
                            batch_size=64, learning_rate=0.05)  # fmt: skip
    seen: list[tuple[str, int, dict[str, float]]] = []
    with TrainLog(tmp_path / "run", config, TrainConfig(), fresh=True) as log:

        def spy(phase, epoch, logs):
            seen.append((phase, epoch, logs))
            log.on_epoch(phase, epoch, logs)

        recommender, data, search = fit_final(
            config, block_data.dataset(), TrainConfig(), 0.2, validation_split="random", on_epoch=spy
        )
        log.finish(recommender, data, [f"epochs chosen: {search.chosen_epochs}"])
    assert search is not None and search.refit
    search_epochs = [e for phase, e, _ in seen if phase == "search"]
    refit_epochs = [e for phase, e, _ in seen if phase == "refit"]
    assert search_epochs == [1, 2, 3][: len(search_epochs)] and len(search_epochs) >= 1
    assert refit_epochs == list(range(1, search.chosen_epochs + 1))
    scalars = _scalars(tmp_path / "run")
    assert scalars["train/loss"] == [(e, pytest.approx(logs["loss"] / 64)) for p, e, logs in seen if p == "search"]
    assert scalars["refit/loss"] == [(e, pytest.approx(logs["loss"] / 64)) for p, e, logs in seen if p == "refit"]
    ndcg = [(e, pytest.approx(logs["val_ndcg_at_10"])) for p, e, logs in seen if p == "search"]
    assert scalars["validation/ndcg@10"] == ndcg
    curve = search.validation_curve["val_ndcg_at_10"]
    assert [v for _, v in scalars["validation/ndcg@10"]] == pytest.approx(curve, rel=1e-6)  # float32 in the proto
    tags = _tags(tmp_path / "run")
    assert {"config", "fit", "recommendations", "_hparams_/session_start_info", "custom_scalars__config__"} <= tags
    assert (tmp_path / "run" / "projector_config.pbtxt").is_file()


def test_train_logdir_writes_a_run_named_after_the_model_and_trains_the_same_model(files, capsys):
    assert _train(files, "plain", "--validation-split", "random") == 0
    assert _train(files, "logged", "--validation-split", "random", "--logdir", str(files / "tb")) == 0
    out = capsys.readouterr().out
    assert f"TensorBoard run written to {files / 'tb' / 'logged'} (`movierec tensorboard --logdir" in out
    pd.testing.assert_frame_equal(_recs(files, "plain"), _recs(files, "logged"))
    assert [p.name for p in (files / "tb").iterdir()] == ["logged"]
    scalars = _scalars(files / "tb" / "logged")
    assert {"train/loss", "validation/ndcg@10", "refit/loss"} <= set(scalars)
    assert [step for step, _ in scalars["train/loss"]] == [step for step, _ in scalars["validation/ndcg@10"]]


def test_a_second_train_replaces_the_run_and_leaves_other_files_alone(files):
    run = files / "tb" / "m"
    run.mkdir(parents=True)
    (run / "notes.txt").write_text("mine")
    for _ in range(2):
        assert _train(files, "m", "--epochs", "2", "--logdir", str(files / "tb")) == 0
    events = sorted(p.name for p in run.glob("events.out.tfevents.*"))
    assert len(events) == 1 and (run / "notes.txt").read_text() == "mine"
    scalars = _scalars(run)
    assert [step for step, _ in scalars["train/loss"]] == [1, 2]  # a fixed budget trains once: no refit
    assert "refit/loss" not in scalars


def test_a_logdir_that_cannot_hold_the_run_is_one_line_before_training(files, capsys):
    (files / "tb").write_text("a file")
    assert _train(files, "m", "--logdir", str(files / "tb")) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "error:" in err[0] and "tb" in err[0], err
    assert not (files / "m").exists()
