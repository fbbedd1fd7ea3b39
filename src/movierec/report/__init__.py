"""Reports: comparison tables and charts built from the `results.json` of compare runs."""

from movierec.report.charts import plot_curves
from movierec.report.experiment import write_report
from movierec.report.tables import REPORT_COLUMNS, load_results, markdown_report, results_table, verdict

__all__ = [
    "plot_curves",
    "write_report",
    "REPORT_COLUMNS",
    "load_results",
    "markdown_report",
    "results_table",
    "verdict",
]
