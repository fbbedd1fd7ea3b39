"""The package's shape, enforced: layers only point down, and only models and training load TensorFlow."""

from __future__ import annotations

import ast
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from movierec.registry import KINDS, recommender_class

ROOT = Path(__file__).resolve().parents[1]
TF_FREE = (
    "movierec.config",
    "movierec.records",
    "movierec.data",
    "movierec.ranking",
    "movierec.recommender",
    "movierec.registry",
    "movierec.evaluation",
    "movierec.baselines",
    "movierec.tracking",
    "movierec.selection",
    "movierec.experiments",
    "movierec.report",
    "movierec.serving",
    "movierec.cli.main",
)


def _run(code: str) -> subprocess.CompletedProcess:
    """Runs `code` in a fresh interpreter (nothing imported yet) and returns the finished process."""
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300, cwd=ROOT)


def test_import_linter_contracts_hold():
    """`[tool.importlinter]` in pyproject.toml: the layer order and the TensorFlow boundary."""
    lint = shutil.which("lint-imports") or str(Path(sys.executable).with_name("lint-imports"))
    result = subprocess.run([lint], capture_output=True, text=True, timeout=300, cwd=ROOT)
    assert result.returncode == 0, result.stdout[-3000:]
    assert "Contracts: 3 kept, 0 broken." in result.stdout


@pytest.fixture(scope="module")
def fresh_interpreter(tmp_path_factory, block_data) -> tuple[list[str], Path]:
    """One fresh interpreter checks, in turn, that TensorFlow stays unloaded by `movierec --help` and by
    training a baseline through the CLI (prints `cli ok`), then by importing each TF-free layer (prints
    `layers ok`, or names the first that pulled TensorFlow in). Returns the printed lines and the EASE
    model directory it wrote.
    """
    folder = tmp_path_factory.mktemp("architecture")
    ratings, model = folder / "ratings.csv", folder / "m"
    block_data.ratings.to_csv(ratings, index=False)
    code = f"""
import contextlib, importlib, io, sys
from movierec.cli.main import build_parser, main
with contextlib.redirect_stdout(io.StringIO()), contextlib.suppress(SystemExit):
    build_parser().parse_args(["--help"])
assert "tensorflow" not in sys.modules, "--help loaded TensorFlow"
code = main(["train", "--ratings", {str(ratings)!r}, "--preset", "ease", "--out", {str(model)!r}])
assert code == 0, code
assert "tensorflow" not in sys.modules, "train --preset ease loaded TensorFlow"
print("cli ok")
for module in {TF_FREE!r}:
    importlib.import_module(module)
    assert "tensorflow" not in sys.modules, module + " loaded TensorFlow"
print("layers ok")
"""
    result = _run(code)
    assert result.returncode == 0, result.stderr[-2000:]
    return result.stdout.strip().splitlines(), model


def test_every_tf_free_layer_imports_without_tensorflow(fresh_interpreter):
    """Imports each layer in turn in one fresh interpreter; the first that pulls TensorFlow in is named."""
    assert fresh_interpreter[0][-1] == "layers ok"


def test_cli_help_and_training_a_baseline_never_load_tensorflow(fresh_interpreter):
    lines, model = fresh_interpreter
    assert "cli ok" in lines
    assert (model / "recommender" / "ease.npz").is_file()


def test_the_run_records_are_plain_python():
    """`movierec.records` (read by the report, serving and the CLI) loads neither numpy, pandas nor TensorFlow."""
    result = _run("import sys, movierec.records; print(sorted({'numpy', 'pandas', 'tensorflow'} & set(sys.modules)))")
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip().splitlines()[-1] == "[]"


@pytest.mark.parametrize("kind", ["two_tower", "sequential"])
def test_the_tfrs_kinds_are_the_ones_that_load_tensorflow(kind):
    result = _run(
        f"import sys; from movierec.registry import recommender_class; recommender_class('{kind}'); print('tensorflow' in sys.modules)"
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip().splitlines()[-1] == "True"
    assert [name for name, kind in KINDS.items() if kind.uses_tensorflow] == ["two_tower", "sequential"]


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_registry_classes_match_their_kind(kind):
    assert recommender_class(kind).kind == kind
    assert KINDS[kind].config().kind == kind


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_every_kind_has_a_contract_test_class(kind):
    """Some `Test*(RecommenderContract or a subclass of it)` in tests/ sets `kind = "<kind>"`."""
    found = []
    for path in (ROOT / "tests").rglob("test_*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ClassDef):
                for statement in node.body:
                    if (
                        isinstance(statement, ast.Assign)
                        and any(isinstance(t, ast.Name) and t.id == "kind" for t in statement.targets)
                        and isinstance(statement.value, ast.Constant)
                        and statement.value.value == kind
                    ):
                        found.append(f"{path.name}::{node.name}")
    assert found, f"no contract test class covers kind {kind!r}"
