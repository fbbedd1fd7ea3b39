"""The report the compare job leaves beside its results: `report.md`, `report.html` and `curves.png`."""

from __future__ import annotations

from pathlib import Path

from movierec._io import write_text_atomic
from movierec.records import RunResults
from movierec.report.charts import plot_curves
from movierec.report.html import html_report
from movierec.report.tables import markdown_report

__all__ = ["write_report"]


def write_report(results: RunResults, experiment_dir: Path) -> None:
    """`report.md` (tables), `report.html` (self-contained page) and `curves.png` beside `results.json`."""
    plot_curves(results, experiment_dir / "curves.png")
    text = markdown_report([experiment_dir / "results.json"], title=f"movierec compare: {results.experiment}")
    text += "\n![per-epoch curves](curves.png)\n"
    write_text_atomic(experiment_dir / "report.md", text)
    title = f"movierec compare: {results.experiment}"
    write_text_atomic(experiment_dir / "report.html", html_report([experiment_dir / "results.json"], title=title))
