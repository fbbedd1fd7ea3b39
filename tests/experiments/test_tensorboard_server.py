"""`movierec tensorboard` on a small compare run, checked through TensorBoard's own HTTP API."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from movierec.config import ExperimentConfig, TrainConfig
from movierec.experiments import run_experiment

EPOCHS = 2


def _get(port: int, path: str):
    with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=30) as response:
        body = response.read()
    return json.loads(body) if body[:1] in (b"{", b"[") else body.decode()


def _loaded(port: int) -> bool:
    """Whether TensorBoard answers and has loaded the last events the tests read (each run's test scalars, texts)."""
    try:
        scalars, texts = _get(port, "/data/plugin/scalars/tags"), _get(port, "/data/plugin/text/tags")
    except OSError:
        return False
    runs = ("model1", "popularity")
    return all("test/ndcg@10" in scalars.get(run, {}) and "recommendations" in texts.get(run, []) for run in runs)


@pytest.fixture(scope="module")
def server(block_data, tmp_path_factory):
    logdir = tmp_path_factory.mktemp("runs")
    config = ExperimentConfig(
        name="tiny", logdir=str(logdir), models=("model1", "popularity"),
        train=TrainConfig(epochs=EPOCHS, batch_size=64, learning_rate=0.1),
    )  # fmt: skip
    run_experiment(config, dataset=block_data.dataset())
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    process = subprocess.Popen(
        [sys.executable, "-m", "movierec.cli.main", "tensorboard", "--logdir", str(Path(logdir) / "tiny"),
         "--port", str(port)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 120
        while not _loaded(port):  # until the multiplexer has read both runs' scalars and texts
            if time.monotonic() > deadline or process.poll() is not None:
                pytest.fail("TensorBoard did not start, or did not load both runs")
            time.sleep(0.2)
        yield port
    finally:
        process.terminate()
        process.wait(timeout=30)


def test_one_run_per_model_and_no_dot_run(server):
    runs = _get(server, "/data/runs")
    assert sorted(runs) == ["model1", "popularity"]
    scalar_tags = _get(server, "/data/plugin/scalars/tags")
    for run in runs:  # no run without data
        assert "validation/ndcg@10" in scalar_tags[run] and "test/ndcg@10" in scalar_tags[run]
    assert "train/loss" in scalar_tags["model1"]


def test_projector_default_run_has_titles(server):
    runs = _get(server, "/data/plugin/projector/runs")
    assert runs == ["model1"]  # only the run that has embeddings, listed with its labels
    info = _get(server, "/data/plugin/projector/info?run=model1")
    embedding = info["embeddings"][0]
    assert embedding["metadataPath"] and embedding["tensorShape"] == [30, 32]
    metadata = _get(server, f"/data/plugin/projector/metadata?run=model1&name={embedding['tensorName']}")
    assert metadata.splitlines()[0] == "title\tgenres\tpopularity"
    assert "Movie 1 (1990)" in metadata


def test_custom_scalars_layout_is_served(server):
    layout = _get(server, "/data/plugin/custom_scalars/layout")
    charts = layout["category"][0]["chart"]
    assert layout["category"][0]["title"] == "Compare models"
    assert [c["title"] for c in charts][:2] == ["train loss per rating", "validation NDCG@10"]


def test_text_plugin_has_the_sample_recommendations(server):
    tags = _get(server, "/data/plugin/text/tags")
    assert "samples" in tags["model1"] and "config" in tags["popularity"]
    assert "recommendations" in tags["model1"] and "recommendations" in tags["popularity"]
    samples = _get(server, "/data/plugin/text/text?run=model1&tag=samples")
    assert [s["step"] for s in samples] == list(range(1, EPOCHS + 1))  # what three users get, each epoch
    assert "recommended" in samples[-1]["text"] and "Movie" in samples[-1]["text"]
