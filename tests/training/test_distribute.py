"""Training under `tf.distribute`: two replicas train the same model as one device with the same global batch.

Each case runs in a fresh interpreter: logical devices (and multi-worker collectives) must be
configured before TensorFlow initialises its runtime, which this test process already did.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from movierec.errors import ConfigError

# Trains model1 on the contract's block data (80 rows, global batch 16 -> 5 steps an epoch) under each
# strategy in turn, saving the per-epoch losses and the scores of every user. A strategy ending in "+avg"
# trains with the weights averaged over the last epoch (average_epochs=1).
# argv: comma-separated strategies, then one output .npz path per strategy.
SCRIPT = r"""
import sys, os
strategies, outs = sys.argv[1].split(","), sys.argv[2:]
import movierec
from movierec._env import import_tensorflow
tf, _ = import_tensorflow()
if any(s.startswith("mirrored") for s in strategies):  # before TensorFlow's runtime starts; the default strategy still uses one device
    cpu = tf.config.list_physical_devices("CPU")[0]
    tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
import numpy as np
from movierec.config import TrainConfig
from movierec.experiments import PRESETS
from movierec.models import TwoTowerRecommender
from movierec.recommender import FitOptions
from movierec.testing import ALL_USERS, TRAIN
for strategy, out in zip(strategies, outs):
    name, _, average = strategy.partition("+")
    budget = TrainConfig(
        epochs=4, batch_size=16, learning_rate=0.1, seed=42, strategy=name, average_epochs=1.0 if average else 0.0
    )
    rec = TwoTowerRecommender(PRESETS["model1"]).fit(TRAIN, FitOptions(train=budget))
    replicas = rec.model.distribute_strategy.num_replicas_in_sync
    np.savez(out, loss=np.array(rec.history["loss"]), scores=rec.score(ALL_USERS), replicas=replicas)
"""

ROOT = Path(__file__).resolve().parents[2]


def _train(strategy: str, *outs: Path, env: dict[str, str] | None = None) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-c", SCRIPT, strategy, *map(str, outs)],
        cwd=ROOT,
        env={**os.environ, **(env or {})},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _finish(process: subprocess.Popen, *outs: Path) -> list[dict[str, np.ndarray]]:
    _, stderr = process.communicate(timeout=600)
    assert process.returncode == 0, stderr[-3000:]
    results = []
    for out in outs:
        with np.load(out) as data:
            results.append({key: data[key] for key in data.files})
    return results


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture(scope="module")
def runs(tmp_path_factory) -> dict[str, dict[str, np.ndarray]]:
    """Every run of this module, its processes started at once: one device then two mirrored replicas in one
    process (one TensorFlow start-up), and two workers on localhost (`w0`, `w1`)."""
    folder = tmp_path_factory.mktemp("distribute")
    workers = [f"127.0.0.1:{_free_port()}", f"127.0.0.1:{_free_port()}"]
    local_runs = ("default", "mirrored", "default+avg", "mirrored+avg")
    local_outs = [folder / f"{name}.npz" for name in local_runs]
    local = _train(",".join(local_runs), *local_outs)
    processes = {}
    for index in range(2):
        config = {"cluster": {"worker": workers}, "task": {"type": "worker", "index": index}}
        processes[f"w{index}"] = _train("multi_worker", folder / f"w{index}.npz", env={"TF_CONFIG": json.dumps(config)})
    results = dict(zip(local_runs, _finish(local, *local_outs)))
    for name, process in processes.items():
        [results[name]] = _finish(process, folder / f"{name}.npz")
    return results


def test_two_mirrored_replicas_match_one_device(runs):
    one_device, mirrored = runs["default"], runs["mirrored"]
    assert int(one_device["replicas"]) == 1 and int(mirrored["replicas"]) == 2
    # Same global batch, negatives gathered from both replicas, gradients summed: the same
    # training up to float summation order (stated tolerance: 1e-4 relative on losses).
    np.testing.assert_allclose(mirrored["loss"], one_device["loss"], rtol=1e-4)
    np.testing.assert_allclose(mirrored["scores"], one_device["scores"], rtol=1e-3, atol=1e-4)


def test_weights_averaged_over_mirrored_replicas_match_one_device(runs):
    one_device, mirrored = runs["default+avg"], runs["mirrored+avg"]
    assert int(mirrored["replicas"]) == 2
    np.testing.assert_allclose(mirrored["loss"], one_device["loss"], rtol=1e-4)
    np.testing.assert_allclose(mirrored["scores"], one_device["scores"], rtol=1e-3, atol=1e-4)
    # the averaged model is not the last step's: the kept weights (and so the scores) differ from the plain fit's
    np.testing.assert_allclose(one_device["loss"], runs["default"]["loss"], rtol=1e-6)  # same raw trajectory
    assert np.abs(one_device["scores"] - runs["default"]["scores"]).max() > 1e-3


def test_two_workers_on_localhost_train_to_completion_and_agree(runs):
    results = [runs["w0"], runs["w1"]]
    assert [int(r["replicas"]) for r in results] == [2, 2]
    np.testing.assert_array_equal(results[0]["scores"], results[1]["scores"])  # one synchronised model
    np.testing.assert_allclose(results[0]["loss"], runs["default"]["loss"], rtol=1e-3)


def test_multi_worker_without_tf_config_is_a_clear_error(monkeypatch):
    from movierec.training.distribute import _check_tf_config

    monkeypatch.delenv("TF_CONFIG", raising=False)
    with pytest.raises(ConfigError, match="needs the TF_CONFIG"):
        _check_tf_config()
    monkeypatch.setenv("TF_CONFIG", json.dumps({"cluster": {"worker": ["a:1"]}, "task": {"index": 3}}))
    with pytest.raises(ConfigError, match="not among the 1 workers"):
        _check_tf_config()
