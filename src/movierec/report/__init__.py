"""Reports: comparison tables built from the `results.json` of compare runs."""

from movierec.report.tables import REPORT_COLUMNS, load_results, markdown_report, results_table

__all__ = ["REPORT_COLUMNS", "load_results", "markdown_report", "results_table"]
