"""Helpers of the reliability suite (issue 21): each test is one hostile-but-realistic case, named after it."""

from __future__ import annotations

import subprocess
import sys

import pytest

from movierec.cli.main import main


@pytest.fixture
def dead_pid() -> int:
    """The pid of a process that has exited (pids are not reused this quickly)."""
    done = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    return int(done.stdout)


@pytest.fixture
def run_cli(capsys):
    """Runs `movierec ARGS...` in-process: (exit code, stdout, stderr); argparse's exit is a code too."""

    def run(*args: str) -> tuple[int, str, str]:
        capsys.readouterr()
        try:
            code = main([str(a) for a in args])
        except SystemExit as e:  # argparse's errors
            code = int(e.code or 0)
        out, err = capsys.readouterr()
        return code, out, err

    return run


@pytest.fixture(scope="session")
def pop_model(tmp_path_factory, block_data):
    """A popularity model directory trained through the CLI on the two-block data."""
    folder = tmp_path_factory.mktemp("reliability-model")
    block_data.ratings.to_csv(folder / "r.csv", index=False)
    block_data.items.to_csv(folder / "i.csv", index=False)
    args = ["train", "--ratings", folder / "r.csv", "--items", folder / "i.csv", "--preset", "popularity"]
    assert main([*map(str, args), "--out", str(folder / "pop")]) == 0
    return folder / "pop"
