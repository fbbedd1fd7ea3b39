"""Reports: comparison tables and charts built from the `results.json` of compare runs."""

from movierec.records import load_results
from movierec.report.charts import plot_curves
from movierec.report.experiment import write_report
from movierec.report.html import html_report
from movierec.report.runs import find_runs, keep_record, runs_table
from movierec.report.tables import (
    REPORT_COLUMNS,
    markdown_report,
    results_table,
    seeds_report,
    verdict,
)

__all__ = [
    "plot_curves",
    "write_report",
    "html_report",
    "find_runs",
    "keep_record",
    "runs_table",
    "REPORT_COLUMNS",
    "load_results",
    "markdown_report",
    "results_table",
    "verdict",
    "seeds_report",
]
