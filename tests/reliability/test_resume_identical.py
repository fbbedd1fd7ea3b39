"""A training run killed with SIGKILL and resumed from its backup ends with the uninterrupted run's model, bit for bit.

Issue 21, item 2: the per-epoch shuffle restarted from its first order after a resume (epochs after the kill had
other losses; 0.3% of users kept the same top-10). Each epoch's order now depends on (seed, epoch) only.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from movierec.serving.model_dir import load_model_dir

ROOT = Path(__file__).resolve().parents[2]


# Tiny models on the 320-rating block data, 10 batches an epoch, so the order of the batches matters: a two-tower
# model whose only random draw is the shuffle, a sequential model with dropout (Keras layers' generators), and a
# two-tower model drawing from its own generators (history dropout, negatives sampled from a popularity mix).
CONFIGS = {
    "shuffle_only": 'kind = "two_tower"\nname = "M"\nembedding_dim = 8\nlayer_sizes = [16, 8]\nbatch_size = 32\n',
    "sequential_dropout": 'kind = "sequential"\nname = "M"\nembedding_dim = 8\nmax_length = 4\nbatch_size = 32\n'
    "dropout = 0.3\n",
    "owned_draws": 'kind = "two_tower"\nname = "M"\nembedding_dim = 8\nlayer_sizes = [16, 8]\nbatch_size = 32\n'
    'user_features = ["history"]\nhistory_dropout = 0.5\n'
    'loss = { kind = "sampled", negatives = 6, sampler = "popularity" }\n',
}
# an epoch takes 0.1-0.3 s after the first (and the export a few seconds more): the kill comes after the first
# epoch's backup, well before the end (14 epochs and the export later); 40 epochs cost the suite a minute more
EPOCHS = 15
EPOCH_LINE = re.compile(r"^M epoch (\d+)/\d+: loss (\S+),", re.MULTILINE)


def _train(ratings: Path, config: Path, out: Path) -> subprocess.Popen:
    command = [sys.executable, "-m", "movierec.cli.main", "train", "--ratings", str(ratings), "--config", str(config),
               "--epochs", str(EPOCHS), "--validation-fraction", "0", "--out", str(out)]  # fmt: skip
    return subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _kill_after_first_epochs(process: subprocess.Popen, backup: Path) -> None:
    deadline = time.monotonic() + 300
    while not list(backup.rglob("checkpoint")):  # an epoch's checkpoint is complete (its index is written last)
        assert process.poll() is None, process.communicate()[1][-2000:]
        assert time.monotonic() < deadline, "no checkpoint was written"
        time.sleep(0.02)
    os.kill(process.pid, signal.SIGKILL)
    process.wait()


@pytest.mark.parametrize("kind", CONFIGS)
def test_resumed_training_gives_the_uninterrupted_model_bit_for_bit(tmp_path, block_data, kind):
    ratings, config = tmp_path / "r.csv", tmp_path / "m.toml"
    block_data.ratings.to_csv(ratings, index=False)
    config.write_text(CONFIGS[kind])
    reference = _train(ratings, config, tmp_path / "R")  # runs beside the killed and resumed one
    killed = _train(ratings, config, tmp_path / "M")
    backup = tmp_path / ".M.resume"
    _kill_after_first_epochs(killed, backup)
    assert not (tmp_path / "M").exists(), "the run ended before it was killed: more epochs needed"
    assert (backup / "fingerprint.json").is_file()  # (these two from tests/cli/test_resume.py, now `slow`)
    resumed = _train(ratings, config, tmp_path / "M")
    stderr = {}
    for name, process in (("resumed", resumed), ("reference", reference)):
        stderr[name] = process.communicate(timeout=600)[1]
        assert process.returncode == 0, stderr[name][-2000:]
    assert "resuming from the backup of an interrupted run" in stderr["resumed"]
    assert not backup.exists()  # removed once training finished

    # every epoch the resumed run trained has the uninterrupted run's loss, to the last printed digit
    losses = {name: dict(EPOCH_LINE.findall(text)) for name, text in stderr.items()}
    assert int(min(losses["resumed"], key=int)) > 1 and max(losses["resumed"], key=int) == str(EPOCHS)
    assert losses["resumed"] == {epoch: losses["reference"][epoch] for epoch in losses["resumed"]}

    one, other = load_model_dir(tmp_path / "M"), load_model_dir(tmp_path / "R")
    vectors = one.recommender.item_embeddings(), other.recommender.item_embeddings()
    assert vectors[0] is not None and vectors[1] is not None
    assert np.array_equal(vectors[0], vectors[1])  # the same weights: the same movie vectors, bit for bit
    users = list(one.vocab.user_ids)
    top = one.recommend_users(users, 10), other.recommend_users(users, 10)
    assert top[0][["user_id", "item_id"]].equals(top[1][["user_id", "item_id"]])
    assert np.array_equal(top[0]["score"].to_numpy(), top[1]["score"].to_numpy())
