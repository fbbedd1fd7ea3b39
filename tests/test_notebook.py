"""The example notebook runs end to end (a small configuration), so it never rots."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")

NOTEBOOK = Path(__file__).resolve().parents[1] / "examples" / "from_tfrs_tutorial.ipynb"


def test_outputs_are_cleared_in_the_repository():
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    assert all(
        not cell.get("outputs") and cell.get("execution_count") is None
        for cell in notebook.cells
        if cell.cell_type == "code"
    )


def test_notebook_runs_end_to_end(tmp_path, monkeypatch):
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    monkeypatch.setenv("MOVIEREC_NOTEBOOK_SMALL", "1")
    monkeypatch.chdir(tmp_path)  # runs/ is written here
    client = nbclient.NotebookClient(
        notebook, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}
    )
    client.execute(env={**os.environ, "MOVIEREC_NOTEBOOK_SMALL": "1"})
    outputs = "\n".join(
        output.get("text", "") + str(output.get("data", {}).get("text/plain", ""))
        for cell in notebook.cells
        if cell.cell_type == "code"
        for output in cell.outputs
    )
    assert "model2 score spread per user" in outputs
    assert "ndcg@10" in outputs and "liked:" in outputs
    assert (tmp_path / "runs" / "notebook" / "results.json").is_file()
