"""Issue 21, items 3, 9 and 10: a model TOML value that TensorFlow would crash or silently misuse is one line
naming the field, before any data is read."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _train_config(tmp_path, ratings_csv, run_cli, body: str):
    config = tmp_path / "model.toml"
    config.write_text(f'kind = "two_tower"\nname = "bad"\n{body}\n')
    return run_cli("train", "--ratings", ratings_csv, "--config", config, "--out", tmp_path / "M", "--epochs", "1")


def test_rating_layers_zero_is_one_line_not_an_abort(tmp_path, ratings_csv):
    # a fresh interpreter: today's code aborts the process (exit 134, oneDNN), which would take pytest with it
    config = tmp_path / "model.toml"
    config.write_text('kind = "two_tower"\nname = "bad"\nrating_weight = 1.0\nrating_layers = [0]\n')
    command = [sys.executable, "-m", "movierec.cli.main", "train", "--ratings", str(ratings_csv), "--config",
               str(config), "--out", str(tmp_path / "M"), "--epochs", "1"]  # fmt: skip
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert (done.returncode, done.stderr) == (
        2,
        "movierec train: error: rating_layers must all be positive integers. Received: `rating_layers` = (0,)\n",
    )


def test_rating_layers_negative_is_one_line(tmp_path, ratings_csv, run_cli):
    code, _, err = _train_config(tmp_path, ratings_csv, run_cli, "rating_weight = 1.0\nrating_layers = [-2]")
    assert (code, err) == (
        2,
        "movierec train: error: rating_layers must all be positive integers. Received: `rating_layers` = (-2,)\n",
    )


def test_feature_dim_zero_is_one_line(tmp_path, ratings_csv, run_cli):
    code, _, err = _train_config(tmp_path, ratings_csv, run_cli, "feature_dim = 0")
    assert (code, err) == (
        2,
        "movierec train: error: feature_dim should be a positive integer. Received: `feature_dim` = 0\n",
    )


def test_temperature_nan_is_one_line(tmp_path, ratings_csv, run_cli):
    code, _, err = _train_config(tmp_path, ratings_csv, run_cli, "temperature = nan")
    assert (code, err) == (
        2,
        "movierec train: error: temperature must be a finite number. Received: `temperature` = nan\n",
    )


def test_any_non_finite_float_in_a_config_is_one_line(tmp_path, ratings_csv, run_cli):
    code, _, err = _train_config(tmp_path, ratings_csv, run_cli, "learning_rate = inf")
    assert (code, err) == (
        2,
        "movierec train: error: learning_rate must be a finite number. Received: `learning_rate` = inf\n",
    )
    config = tmp_path / "als.toml"
    config.write_text('kind = "als"\nname = "a"\nalpha = -inf\n')
    code, _, err = run_cli("train", "--ratings", ratings_csv, "--config", config, "--out", tmp_path / "A")
    assert (code, err) == (2, "movierec train: error: als.alpha must be a finite number. Received: `alpha` = -inf\n")


def test_negative_seed_is_one_line(tmp_path, ratings_csv, run_cli):
    code, _, err = run_cli("train", "--ratings", ratings_csv, "--preset", "popularity", "--out", tmp_path / "M",
                           "--seed", "-1")  # fmt: skip
    assert (code, err) == (
        2,
        "movierec train: error: argument --seed: `seed` should be an integer from 0 to 4294967295. "
        "Received: `seed` = -1 (see --help)\n",
    )


def test_23_digit_seed_is_one_line(tmp_path, ratings_csv, run_cli):
    seed = "1" * 23
    code, _, err = run_cli("compare", "--ratings", ratings_csv, "--models", "popularity", "--logdir", tmp_path,
                           "--seed", seed)  # fmt: skip
    assert (code, err) == (
        2,
        f"movierec compare: error: argument --seed: `seed` should be an integer from 0 to 4294967295. "
        f"Received: `seed` = {seed} (see --help)\n",
    )
