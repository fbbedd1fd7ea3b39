"""A `train` stopped while it exports resumes from its trained weights instead of training again.

Issue 21, item 2: the training backup was deleted before the export, so a kill during the export meant training
from scratch. The backup now holds the finished fit's weights until the model folder is in place.
"""

from __future__ import annotations

import logging

import numpy as np

from movierec.models.keras_recommender import KerasRecommender
from movierec.serving.model_dir import load_model_dir

CONFIG = 'kind = "two_tower"\nname = "M"\nembedding_dim = 8\nlayer_sizes = [16, 8]\nbatch_size = 32\n'


def test_a_train_stopped_during_export_resumes_from_its_trained_weights(
    tmp_path, block_data, run_cli, monkeypatch, caplog
):
    ratings, config = tmp_path / "r.csv", tmp_path / "m.toml"
    block_data.ratings.to_csv(ratings, index=False)
    config.write_text(CONFIG)
    args = ["train", "--ratings", ratings, "--config", config, "--epochs", "5", "--validation-fraction", "0",
            "--out", tmp_path / "M"]  # fmt: skip
    exported: dict[str, np.ndarray] = {}
    save_state = KerasRecommender._save_state

    def stopped(self, directory):
        exported["movie vectors"] = np.array(self.item_embeddings())
        save_state(self, directory)  # the SavedModel is half the folder: the rest is never written
        raise KeyboardInterrupt  # what SIGTERM (or Ctrl-C) raises in movierec's main thread

    monkeypatch.setattr(KerasRecommender, "_save_state", stopped)
    caplog.set_level(logging.INFO)
    assert run_cli(*args)[::2] == (130, "movierec train: interrupted\n")
    assert not (tmp_path / "M").exists()
    assert (tmp_path / ".M.resume" / "fit" / "trained" / "history.json").is_file()  # the trained weights are kept

    monkeypatch.setattr(KerasRecommender, "_save_state", save_state)
    caplog.clear()
    code, out, _ = run_cli(*args)
    assert code == 0 and "model written to" in out
    assert "resuming from the backup of an interrupted run" in caplog.text
    assert "training had finished before the run was stopped" in caplog.text
    assert "M epoch 1/5" not in caplog.text  # no epoch trained again
    loaded = load_model_dir(tmp_path / "M")
    assert np.array_equal(loaded.recommender.item_embeddings(), exported["movie vectors"])
    assert not (tmp_path / ".M.resume").exists()  # removed once the model folder is in place
