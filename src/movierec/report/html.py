"""A self-contained HTML report of one or more compare runs: open it from disk, no network needed.

Built from `results.json` alone (never a trained model, so it still works after the models are
deleted): a leaderboard across every experiment given, then per experiment its table, the
per-epoch curves, the popularity histogram of the recommendations and sample recommendations.
Images are embedded as base64 PNG; the page loads nothing else.
"""

from __future__ import annotations

import base64
import html
from pathlib import Path

from movierec.evaluation.names import METRIC_LABELS
from movierec.records import RunResults, load_results
from movierec.report.charts import curves_png, popularity_png
from movierec.report.tables import REPORT_COLUMNS

__all__ = ["html_report"]

_STYLE = """
body { font-family: system-ui, sans-serif; margin: 2em auto; max-width: 1200px; color: #222; }
table { border-collapse: collapse; margin: 1em 0; font-size: 0.9em; }
th, td { border: 1px solid #ccc; padding: 0.25em 0.6em; text-align: right; }
th:first-child, td:first-child, td.text { text-align: left; }
td.best { font-weight: bold; background: #eef6ee; }
img { max-width: 100%; }
.samples { display: flex; flex-wrap: wrap; gap: 1.5em; }
.samples div { flex: 1 1 320px; }
"""


def html_report(paths: list[str | Path], title: str = "movierec results") -> str:
    """The report as one HTML string (see the module docstring)."""
    runs = [(Path(path), load_results(path)) for path in paths]
    parts = [
        "<!doctype html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>{html.escape(title)}</title><style>{_STYLE}</style></head><body>",
        f"<h1>{html.escape(title)}</h1>",
        "<p>Test metrics on held-out ratings; NDCG@10, Recall@10 and HR@10 with each user's seen movies "
        "excluded. The best value of each column is in bold.</p>",
        "<h2>Leaderboard</h2>",
        _leaderboard(runs),
    ]
    for path, results in runs:
        parts += _experiment_section(path, results)
    parts.append("</body></html>")
    return "\n".join(parts)


def _leaderboard(runs: list[tuple[Path, RunResults]]) -> str:
    rows = [(results.experiment, name, model) for _, results in runs for name, model in results.models.items()]
    rows.sort(key=lambda row: -float(row[2].test.get("ndcg@10", float("-inf"))))
    keys = [key for key, _, _ in REPORT_COLUMNS]
    best = {key: max((m.test.get(key, float("-inf")) for _, _, m in rows), default=None) for key in keys}
    header = ["experiment", "model", "kind"] + [METRIC_LABELS[key] for key in keys] + ["NDCG@10 SE", "train s"]
    lines = ['<table id="leaderboard"><thead><tr>' + "".join(f"<th>{html.escape(h)}</th>" for h in header)]
    lines.append("</tr></thead><tbody>")
    for experiment, name, model in rows:
        cells = [f'<td class="text">{html.escape(str(v))}</td>' for v in (experiment, name, model.kind)]
        for key in keys:
            value = model.test.get(key)
            text = "–" if value is None else f"{value:.3f}"
            style = ' class="best"' if value is not None and value == best[key] else ""
            cells.append(f"<td{style}>{text}</td>")
        cells.append(f"<td>{model.test.get('ndcg@10_se', float('nan')):.3f}</td>")
        cells.append(f"<td>{model.train_seconds:.1f}</td>")
        lines.append("<tr>" + "".join(cells) + "</tr>")
    lines.append("</tbody></table>")
    return "\n".join(lines)


def _experiment_section(path: Path, results: RunResults) -> list[str]:
    split = results.split
    name = html.escape(results.experiment or path.parent.name)
    sizes = [("?" if rows is None else rows) for rows in (split.train, split.validation, split.test)]
    parts = [
        f"<h2>{name}: {html.escape(split.strategy)} split</h2>",
        f"<p>{html.escape(results.dataset)}; train {sizes[0]} / validation {sizes[1]} / test {sizes[2]} ratings.</p>",
        f'<img alt="per-epoch curves of {name}" src="{_data_uri(curves_png(results))}">',
    ]
    if any(m.popularity is not None for m in results.models.values()):
        parts.append(f'<img alt="popularity of recommendations in {name}" src="{_data_uri(popularity_png(results))}">')
    samples = [(model_name, m.samples) for model_name, m in results.models.items() if m.samples]
    if samples:
        parts.append("<h3>What three users get (top 10, seen movies excluded)</h3>")
        for model_name, lists in samples:
            parts.append(f'<h4>{html.escape(model_name)}</h4><div class="samples">')
            for sample in lists:
                watched = "; ".join(html.escape(t) for t in sample["watched"])
                items = "".join(f"<li>{html.escape(item['title'])}</li>" for item in sample["top"])
                parts.append(
                    f"<div><b>user {html.escape(sample['user_id'])}</b><br><small>watched last: {watched}</small>"
                    f"<ol>{items}</ol></div>"
                )
            parts.append("</div>")
    return parts


def _data_uri(png: bytes) -> str:
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")
