"""Model directories trained once per session through the CLI on the two-block data, one per kind."""

from __future__ import annotations

from pathlib import Path

import pytest

from movierec.cli.main import main

# every registered kind; model1 is the report's two-tower model, auto keeps model1 (its first candidate,
# with a margin no later one can pass) over popularity, so its directory serves a chosen two-tower export;
# sequential is the sequential kind's export, default the choice `train` makes without a preset
KINDS = ("popularity", "ease", "als", "markov", "model1", "auto", "sequential", "default")
AUTO_TOML = """kind = "auto"
name = "auto"
margin_se = 1e9
[[candidates]]
kind = "two_tower"
name = "model1"
embedding_dim = 32
layer_sizes = [64, 32]
activation = "relu"
[[candidates]]
kind = "popularity"
"""


@pytest.fixture(scope="session")
def model_dirs(build_once, block_data) -> dict[str, Path]:
    """preset -> model directory, trained on `block_data` (two-tower models for 2 epochs); built once per test run
    and shared by the xdist workers (`build_once`): tests must not change them (copy one first)."""

    def train_all(folder: Path) -> None:
        block_data.ratings.to_csv(folder / "r.csv", index=False)
        block_data.items.to_csv(folder / "i.csv", index=False)
        (folder / "auto.toml").write_text(AUTO_TOML)
        for preset in KINDS:
            choice = ["--config", str(folder / "auto.toml")] if preset == "auto" else ["--preset", preset]
            args = ["train", "--ratings", str(folder / "r.csv"), "--items", str(folder / "i.csv"),
                    *choice, "--epochs", "2", "--out", str(folder / preset)]  # fmt: skip
            assert main(args) == 0

    folder = build_once("serving-models", train_all)
    return {preset: folder / preset for preset in KINDS}
