"""`configs/ml1m.toml` and `configs/ml25m.toml` end to end through `movierec compare`, on small generated data.

The ML-1M run reads a folder in ml-1m's exact layout (`::`-separated `.dat` files, latin-1,
demographics in users.dat); the ML-25M run reads what `movierec data synth` writes. Known
answer (ML-1M): two blocks of users who each rated 12 of their own block's 15 movies, so after
leave-last-out every user has three unseen movies of their block, one of them the test movie:
an item-item model that ranks a user's block first puts it in the top 10 (HR@10 = 1).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from movierec.cli.main import main

CONFIGS = Path(__file__).resolve().parents[2] / "configs"
N_USERS, BLOCK, RATED = 60, 15, 12
AGES = (1, 18, 25, 35, 45, 50, 56)


def _write_ml1m(folder: Path) -> None:
    rng = np.random.default_rng(7)
    folder.mkdir()
    ratings, users = [], []
    for user in range(1, N_USERS + 1):
        block = user % 2
        movies = rng.choice(BLOCK, RATED, replace=False) + 1 + block * BLOCK
        for step, movie in enumerate(movies):
            ratings.append(f"{user}::{movie}::{rng.integers(1, 6)}::{978300000 + 1000 * user + step}")
        users.append(f"{user}::{'MF'[block]}::{AGES[user % 7]}::{user % 21}::{10000 + user}")
    movies_dat = [
        f"{m}::Movie {m} (199{m % 10})::{'Drama' if m <= BLOCK else 'Comedy'}" for m in range(1, 2 * BLOCK + 1)
    ]
    for name, lines in (("ratings.dat", ratings), ("users.dat", users), ("movies.dat", movies_dat)):
        (folder / name).write_text("\n".join(lines) + "\n", encoding="latin-1")


def _results(logdir: Path, name: str) -> dict:
    return json.loads((logdir / name / "results.json").read_text())


def _by_model(results: dict) -> dict[str, dict]:
    return results["models"]


def _compare_ml1m(tmp_path: Path, *models: str) -> dict[str, dict]:
    _write_ml1m(tmp_path / "ml-1m")
    logdir = tmp_path / "runs"
    only = ["--models", ",".join(models)] if models else []
    code = main(
        ["compare", "--config", str(CONFIGS / "ml1m.toml"), "--data-path", str(tmp_path / "ml-1m"),
         "--cache-dir", str(tmp_path / "cache"), "--logdir", str(logdir), *only]
    )  # fmt: skip
    assert code == 0
    return _by_model(_results(logdir, "ml1m"))


def test_ml1m_config_runs_its_baselines_on_an_ml1m_layout_folder(tmp_path):
    """The config on the ml-1m layout with its closed-form models (`--models`): the block known answer and the
    overrides. Every model of the config, the TFRS ones too, runs in the slow test below (`make test-all`); each
    of those presets trains in its own contract tests."""
    models = _compare_ml1m(tmp_path, "popularity", "ease", "als")
    assert list(models) == ["popularity", "ease", "als"]
    for name, model in models.items():
        assert model["test"]["n_test_users"] == N_USERS, name  # leave-last-out: one test movie per user
        assert 0.0 <= model["test"]["ndcg@10"] <= 1.0, name
    assert models["ease"]["test"]["hr@10"] == 1.0  # the block known answer
    assert models["popularity"]["test"]["hr@10"] < 1.0  # popularity cannot see blocks
    assert models["ease"]["config"]["l2"] == 500.0  # the config's overrides reached the models


def test_ml1m_config_overrides_reach_the_sequential_preset():
    from movierec.cli.compare import build_config
    from movierec.cli.main import build_parser
    from movierec.experiments import get_preset

    parsed = build_config(build_parser().parse_args(["compare", "--config", str(CONFIGS / "ml1m.toml")]))
    sequential = get_preset("sequential", parsed.overrides.get("sequential"))
    assert sequential.kind == "sequential" and sequential.max_length == 200


@pytest.mark.slow  # 20-25 s: trains every model; the two tests above and the presets' own tests cover its parts
def test_ml1m_config_compares_every_model_on_an_ml1m_layout_folder(tmp_path):
    models = _compare_ml1m(tmp_path)
    assert list(models) == ["default", "sequential", "best", "popularity", "ease", "als"]
    for name, model in models.items():
        metrics = model["test"]
        assert metrics["n_test_users"] == N_USERS, name  # leave-last-out: one test movie per user
        assert 0.0 <= metrics["ndcg@10"] <= 1.0, name
    assert models["ease"]["test"]["hr@10"] == 1.0  # the block known answer
    assert models["popularity"]["test"]["hr@10"] < 1.0  # popularity cannot see blocks
    assert models["ease"]["config"]["l2"] == 500.0  # the config's overrides reached the models
    sequential = models["sequential"]["config"]
    assert sequential["kind"] == "sequential" and sequential["max_length"] == 200


def test_ml25m_config_runs_on_a_synthetic_folder(tmp_path):
    synth = tmp_path / "S"
    assert main(["data", "synth", "--users", "80", "--items", "60", "--ratings", "2800", "--out", str(synth)]) == 0
    logdir = tmp_path / "runs"
    code = main(["compare", "--config", str(CONFIGS / "ml25m.toml"), "--ratings", str(synth), "--logdir", str(logdir)])
    assert code == 0
    models = _by_model(_results(logdir, "ml25m"))
    assert list(models) == ["mf_logq", "fast", "popularity", "ease", "als"]
    assert models["ease"]["config"]["max_items"] == 20_000
    for name in ("mf_logq", "fast"):
        assert 1 <= models[name]["epochs_run"] <= 3, name  # the config's epoch budget
    assert {m["test"]["n_test_users"] for m in models.values()} == {80}


@pytest.mark.parametrize("config", ["ml1m.toml", "ml25m.toml"])
def test_scale_configs_name_only_registered_presets(config):
    from movierec.cli.compare import build_config
    from movierec.cli.main import build_parser

    parsed = build_config(build_parser().parse_args(["compare", "--config", str(CONFIGS / config)]))
    assert parsed.split.strategy == "leave_last"
    assert len(parsed.models) >= 5
