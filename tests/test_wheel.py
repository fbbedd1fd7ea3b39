"""The built wheel works outside the clone, on every supported Python other than the one running the suite.

Marked `wheel` (minutes: each fresh venv installs the whole stack): `make test` and `make test-all` leave
it out, `make test-wheel` (which `.ci/run` calls after `make test`) runs it. The smoke test is one run of
`scripts/smoke.py` (the script humans run too) over the other supported versions: a venv per version in a
temporary folder outside the clone, `pip install` of the wheel, then `data fetch` into the platform cache,
`train --epochs 1` through `--cache-dir`, `recommend`, `compare --config ml100k` (a packaged experiment)
through `MOVIEREC_CACHE`, and `serve`: `/health`, the web page, one user's top 5. A version the machine
lacks is a printed SKIP line; with no other version at all, the wheel runs on the suite's own Python.
"""

from __future__ import annotations

import importlib.util
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
_spec = importlib.util.spec_from_file_location("movierec_smoke", ROOT / "scripts" / "smoke.py")
assert _spec is not None and _spec.loader is not None
smoke = sys.modules.setdefault("movierec_smoke", importlib.util.module_from_spec(_spec))  # dataclasses look it up
_spec.loader.exec_module(smoke)
SUPPORTED = smoke.SUPPORTED  # what scripts/smoke.py runs by default
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


def _found(version: str) -> bool:
    return subprocess.run([str(ROOT / "scripts" / "find-python"), version], capture_output=True).returncode == 0


@pytest.mark.wheel
def test_the_wheel_installs_and_runs_outside_the_clone(wheel, tmp_path):
    present = [version for version in OTHERS if _found(version)]
    # one run for every other version, so that their venv installs overlap; an absent one is a printed SKIP line;
    # on a machine with no other supported Python the wheel still runs, on this one
    targets = OTHERS if present else [*OTHERS, RUNNING]
    command = [sys.executable, str(ROOT / "scripts" / "smoke.py"), "--wheel", str(wheel), *targets]
    process = subprocess.Popen(command, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    lines = []
    for line in process.stdout or ():
        print(line, end="", flush=True)  # live under `pytest -s` (make test-wheel), else shown on failure
        lines.append(line)
    output = "".join(lines)
    assert process.wait() == 0, output
    for version in OTHERS:
        expected = f"ok Python {version}." if version in present else f"SKIP {version}: no such interpreter"
        assert expected in output, output
    assert present or f"ok Python {RUNNING}." in output, output
    ran = output.count("ok Python ")
    assert ran == len(present or [RUNNING])
    assert output.count("compare --config ml100k (packaged, MOVIEREC_CACHE)") == output.count("web page") == ran
