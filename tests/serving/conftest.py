"""Model directories trained once per session through the CLI on the two-block data, one per kind."""

from __future__ import annotations

from pathlib import Path

import pytest

from movierec.cli.main import main

KINDS = ("popularity", "ease", "als", "model1")  # every registered kind; model1 is the report's two-tower model


@pytest.fixture(scope="session")
def model_dirs(tmp_path_factory, block_data) -> dict[str, Path]:
    """preset -> model directory, trained on `block_data` (two-tower models for 2 epochs)."""
    folder = tmp_path_factory.mktemp("models")
    block_data.ratings.to_csv(folder / "r.csv", index=False)
    block_data.items.to_csv(folder / "i.csv", index=False)
    for preset in KINDS:
        args = ["train", "--ratings", str(folder / "r.csv"), "--items", str(folder / "i.csv"),
                "--preset", preset, "--epochs", "2", "--out", str(folder / preset)]  # fmt: skip
        assert main(args) == 0
    return {preset: folder / preset for preset in KINDS}
