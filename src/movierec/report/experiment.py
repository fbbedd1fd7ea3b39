"""The report the compare job leaves beside its results: `report.md` and `curves.png`."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from movierec._io import write_text_atomic
from movierec.report.charts import plot_curves
from movierec.report.tables import markdown_report

__all__ = ["write_report"]


def write_report(results: dict[str, Any], experiment_dir: Path) -> None:
    """`report.md` (tables) and `curves.png` (per-epoch curves) beside `results.json`."""
    plot_curves(results, experiment_dir / "curves.png")
    text = markdown_report([experiment_dir / "results.json"], title=f"movierec compare: {results['experiment']}")
    text += "\n![per-epoch curves](curves.png)\n"
    write_text_atomic(experiment_dir / "report.md", text)
