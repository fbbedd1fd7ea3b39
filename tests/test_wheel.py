"""The built wheel works outside the clone, on every supported Python other than the one running the suite.

Marked `wheel` (a few minutes per interpreter: a fresh venv installs the whole stack): `make test` and
`make test-all` leave it out, `make test-wheel` (which `.ci/run` calls after `make test`) runs it.
Each case is one run of `scripts/smoke.py` (the script humans run too): `pip wheel . --no-deps`, a
venv in a temporary folder outside the clone, `pip install` of the wheel, then `data fetch` into the
platform cache, `train --epochs 1` through `--cache-dir`, `recommend`, `compare --config ml100k` (a
packaged experiment) through `MOVIEREC_CACHE`, and `serve`: `/health`, the web page, one user's top 5.
An interpreter the machine lacks is a skip whose reason names it (`-ra` prints it).
"""

from __future__ import annotations

import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SUPPORTED = ("3.11", "3.12", "3.13")  # pyproject.toml: requires-python = ">=3.11,<3.14"
RUNNING = f"{sys.version_info.major}.{sys.version_info.minor}"
OTHERS = [version for version in SUPPORTED if version != RUNNING]


def test_the_supported_versions_are_the_ones_pyproject_declares():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert project["requires-python"] == ">=3.11,<3.14"
    assert [c.rsplit(" ", 1)[-1] for c in project["classifiers"] if ":: Python :: 3." in c] == list(SUPPORTED)


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("wheel")
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "-w", str(folder), str(ROOT)],
                   check=True, cwd=ROOT)  # fmt: skip
    (built,) = folder.glob("movierec-*.whl")
    return built


@pytest.mark.wheel
def test_the_wheel_ships_the_web_page_and_the_experiment_configs(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    assert "movierec/serving/static/index.html" in names
    packaged = sorted(name for name in names if name.startswith("movierec/configs/"))
    assert packaged == [f"movierec/configs/{path.name}" for path in sorted((ROOT / "configs").glob("*.toml"))]


@pytest.mark.wheel
@pytest.mark.parametrize("version", OTHERS)
def test_the_wheel_installs_and_runs_outside_the_clone(version, wheel, tmp_path):
    found = subprocess.run([str(ROOT / "scripts" / "find-python"), version], capture_output=True, text=True)
    if found.returncode != 0:
        pytest.skip(f"python{version} not on PATH or in pyenv: no wheel smoke run on Python {version}")
    command = [sys.executable, str(ROOT / "scripts" / "smoke.py"), "--require", "--wheel", str(wheel), version]
    process = subprocess.Popen(command, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    lines = []
    for line in process.stdout or ():
        print(line, end="", flush=True)  # live under `pytest -s` (make test-wheel), else shown on failure
        lines.append(line)
    output = "".join(lines)
    assert process.wait() == 0, output
    assert f"ok Python {version}." in output
    assert "compare --config ml100k (packaged, MOVIEREC_CACHE)" in output
    assert "serve (" in output and "web page" in output
