"""Turn `results.json` files of compare runs into Markdown tables people can read without TensorBoard."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from movierec.data.recency import RecencyDecision
from movierec.errors import DataError
from movierec.evaluation.names import HEADLINE_METRICS, METRIC_LABELS
from movierec.evaluation.paired import PairedDifference, load_per_user, paired_difference, pool_runs
from movierec.experiments.presets import DEFAULT_PRESET
from movierec.order import OrderDecision
from movierec.selection import describe_selection

__all__ = ["REPORT_COLUMNS", "load_results", "results_table", "markdown_report", "verdict", "seeds_report"]

# (key in results["models"][m]["test"], column header, number format)
REPORT_COLUMNS: tuple[tuple[str, str, str], ...] = tuple(
    (key, METRIC_LABELS[key], ".3f")
    for key in ("factorized_top_1", "factorized_top_10", "factorized_top_100", "recall@10", "recall@20",
                "ndcg@10", "hr@10", "coverage@10")
)  # fmt: skip


TFRS_KINDS = ("two_tower", "sequential")  # the TFRS model kinds: the verdicts set them against the baselines
NOT_BASELINES = (*TFRS_KINDS, "auto", "choice")  # kinds the verdicts compare with the baselines, not as baselines


def load_results(path: str | Path) -> dict[str, Any]:
    """Reads one `results.json` written by `movierec compare`.

    Raises:
        DataError: if the file is missing or is not a compare result.
    """
    path = Path(path)
    try:
        results = json.loads(path.read_text())
    except FileNotFoundError as e:
        raise DataError(f"results file not found: {path}") from e
    except json.JSONDecodeError as e:
        raise DataError(f"{path} is not valid JSON: {e}") from e
    if not isinstance(results, dict) or "models" not in results:
        raise DataError(f"{path} is not a `movierec compare` results file (no 'models')")
    return results


def results_table(results: dict[str, Any]) -> str:
    """One Markdown table: a row per model, best value of each metric in bold."""
    models = results["models"]
    best = {}
    for key, _, _ in REPORT_COLUMNS:
        values = [m["test"].get(key) for m in models.values() if m["test"].get(key) is not None]
        best[key] = max(values) if values else None
    has_rmse = any("rmse" in m["test"] for m in models.values())
    header = ["model", "kind"] + [title for _, title, _ in REPORT_COLUMNS] + ["NDCG@10 SE"]
    header += ["RMSE"] if has_rmse else []
    has_race = any("seconds_to_ease" in m for m in models.values())
    header += ["train s"] + (["s to EASE"] if has_race else [])
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for name, model in models.items():
        test = model["test"]
        cells = [name, model["kind"]]
        for key, _, fmt in REPORT_COLUMNS:
            value = test.get(key)
            text = "–" if value is None else format(value, fmt)
            cells.append(f"**{text}**" if value is not None and value == best[key] else text)
        cells.append(format(test.get("ndcg@10_se", float("nan")), ".3f"))
        if has_rmse:
            cells.append(format(test["rmse"], ".3f") if "rmse" in test else "–")
        cells.append(f"{model['train_seconds']:.1f}")
        if has_race:
            reached = model.get("seconds_to_ease", "–")
            cells.append("never" if reached is None else reached if reached == "–" else f"{reached:.1f}")
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def verdict(results: dict[str, Any], metrics: tuple[str, ...] = HEADLINE_METRICS) -> str:
    """Plain sentences: does the best TFRS model beat every baseline, metric by metric?"""
    models = results["models"]
    tfrs = {n: m for n, m in models.items() if m["kind"] in (*TFRS_KINDS, "choice")}
    baselines = {n: m for n, m in models.items() if m["kind"] not in NOT_BASELINES}
    if not tfrs or not baselines:
        return _fit_decisions(results)
    lines = []
    for metric in metrics:
        best_name = max(tfrs, key=lambda n: tfrs[n]["test"].get(metric, float("-inf")))
        ours = tfrs[best_name]["test"][metric]
        beaten = [n for n, m in baselines.items() if ours > m["test"].get(metric, float("inf"))]
        ahead = [n for n in baselines if n not in beaten]
        text = f"- **{metric}**: best TFRS model `{best_name}` {ours:.3f}; "
        if not ahead:
            text += f"beats every baseline ({', '.join(beaten)})."
        else:
            gaps = ", ".join(f"{n} {baselines[n]['test'][metric]:.3f}" for n in ahead)
            text += f"**does not beat** {gaps}" + (f"; beats {', '.join(beaten)}." if beaten else ".")
        lines.append(text)
    decisions = _fit_decisions(results)
    return "\n".join(lines + ([decisions] if decisions else []))


def _fit_decisions(results: dict[str, Any]) -> str:
    """What fitting decided beyond the weights, one line each: the candidate `auto` kept, the recency used."""
    lines = []
    for name, model in results["models"].items():
        if model.get("selection"):
            lines.append(f"- `{name}` {describe_selection(model['selection'], chosen_style='**')}.")
        if model.get("choice"):
            choice = model["choice"]
            lines.append(f"- `{name}` trained **{choice['chosen']}**: {OrderDecision(**choice['order']).summary()}.")
        if model.get("recency"):
            lines.append(f"- `{name}` {RecencyDecision(**model['recency']).summary()}.")
    return "\n".join(lines)


def markdown_report(paths: list[str | Path], title: str = "Results") -> str:
    """A Markdown document with one section per results file."""
    parts = [f"# {title}", "", "Generated by `movierec report`; do not edit by hand.", ""]
    for path in paths:
        results = load_results(path)
        split = results.get("split", {})
        parts += [
            f"## {results.get('experiment', Path(path).parent.name)}: {split.get('strategy', '?')} split",
            "",
            f"{results.get('dataset', '')}; train {split.get('train', '?'):,} / validation "
            f"{split.get('validation', '?'):,} / test {split.get('test', '?'):,} ratings. "
            f"Whole job {results.get('total_seconds', float('nan')):.0f} s.{_test_input(results)}",
            "",
            results_table(results),
            "",
            verdict(results),
            "",
        ]
    return "\n".join(parts)


def _test_input(results: dict[str, Any]) -> str:
    """The sentence saying what models read when scoring test users (runs that recorded it)."""
    if results.get("test_input") != "train+validation":
        return ""
    return (
        " Test users are scored from their train and validation ratings (validation added without "
        "refitting; a model that reads only user ids keeps its trained vectors); movies in either are excluded."
    )


def seeds_report(paths: list[str | Path], metrics: tuple[str, ...] = ("ndcg@10", "hr@10")) -> str:
    """Markdown: per split, each model's mean and range over repeated runs (seeds), and how the default
    TFRS preset (and, if another TFRS model has a higher mean, that one too, labelled as picked on test)
    compares with each baseline: in standard errors of one run's NDCG@10, and, where the runs kept each
    test user's metrics, by the paired standard error of the difference (same users, pooled over seeds).

    Args:
        paths: `results.json` of runs that differ only by seed (any number of splits mixed).
        metrics: Test metrics to summarise.
    """
    by_split: dict[str, list[dict[str, Any]]] = {}
    for path in paths:
        results = load_results(path)
        # each model's per-user test metrics (None if the run kept none), read once per run
        results["_per_user"] = {name: load_per_user(Path(path).parent / name) for name in results["models"]}
        by_split.setdefault(str(results.get("split", {}).get("strategy", "?")), []).append(results)
    parts = []
    for split, runs in by_split.items():
        names = list(runs[0]["models"])
        header = ["model", "runs"] + [f"{METRIC_LABELS.get(m, m)} mean (min–max)" for m in metrics] + ["train s"]
        lines = [
            f"### {split} split, {len(runs)} seeds",
            "",
            "| " + " | ".join(header) + " |",
            "|" + "---|" * len(header),
        ]
        means: dict[str, dict[str, float]] = {}
        for name in names:
            present = [r["models"][name] for r in runs if name in r["models"]]
            cells = [name, str(len(present))]
            means[name] = {}
            for metric in metrics:
                values = [m["test"][metric] for m in present if metric in m["test"]]
                means[name][metric] = sum(values) / len(values)
                cells.append(f"{means[name][metric]:.4f} ({min(values):.4f}–{max(values):.4f})")
            cells.append(f"{sum(m['train_seconds'] for m in present) / len(present):.1f}")
            lines.append("| " + " | ".join(cells) + " |")
        lines += ["", *_seed_verdicts(runs, means, metrics), ""]
        parts += lines
    return "\n".join(parts)


def _seed_verdicts(
    runs: list[dict[str, Any]], means: dict[str, dict[str, float]], metrics: tuple[str, ...]
) -> list[str]:
    kinds = {name: model["kind"] for name, model in runs[0]["models"].items()}
    tfrs = [n for n, k in kinds.items() if k in TFRS_KINDS]
    baselines = [n for n, k in kinds.items() if k not in NOT_BASELINES]
    if not (tfrs or DEFAULT_PRESET in kinds) or not baselines:
        return []
    chosen = [DEFAULT_PRESET] if DEFAULT_PRESET in kinds else []
    top = max(tfrs or chosen, key=lambda n: means[n][metrics[0]])
    chosen += [top] if top not in chosen else []
    out: list[str] = []
    for ours in chosen:
        if len(chosen) > 1:  # say which is the default and which was picked by looking at these test numbers
            out += [
                f"The default, `{ours}`:"
                if ours == DEFAULT_PRESET
                else f"The TFRS model with the highest mean {metrics[0]} here, `{ours}` (picked on these test numbers):"
            ]
        out += _margins(runs, means, metrics, ours, baselines)
    for name in (n for n, k in kinds.items() if k == "choice" and n != DEFAULT_PRESET):
        out += [f"`{name}` (trains what its order check chooses):"]
        out += _margins(runs, means, metrics, name, baselines)
    for name in (n for n, k in kinds.items() if k == "auto"):
        picks = [r["models"][name].get("selection", {}).get("chosen", "?") for r in runs if name in r["models"]]
        counts = ", ".join(f"{pick} in {picks.count(pick)}" for pick in dict.fromkeys(picks))
        out += [f"`{name}` (chooses on validation) kept {counts} of {len(picks)} runs:"]
        out += _margins(runs, means, metrics, name, baselines)
    return out


def _margins(
    runs: list[dict[str, Any]], means: dict[str, dict[str, float]], metrics: tuple[str, ...], ours: str,
    baselines: list[str],
) -> list[str]:  # fmt: skip
    """One line per metric and baseline: `ours`' mean margin, in SE of one run and in paired SE."""
    errors = [r["models"][ours]["test"].get("ndcg@10_se") for r in runs]
    se = sum(e for e in errors if e is not None) / max(1, len([e for e in errors if e is not None]))
    out = []
    for metric in metrics:
        for base in baselines:
            diff = means[ours][metric] - means[base][metric]
            size = f", {diff / se:+.1f} SE of one run" if metric == "ndcg@10" and se > 0 else ""
            paired = _paired(runs, ours, base, metric)
            if paired is not None and paired.se > 0:
                size += f"; paired difference {paired.mean:+.4f} ± {paired.se:.4f} ({paired.mean / paired.se:+.1f} SE)"
            word = "beats" if diff > 0 else "**does not beat**"
            out.append(f"- {metric}: `{ours}` {word} {base} by {diff:+.4f} on average{size}.")
    return out


def _paired(runs: list[dict[str, Any]], ours: str, base: str, metric: str) -> PairedDifference | None:
    """`ours - base` user by user, pooled over the runs; None unless every run kept both models' metrics."""
    differences = []
    for run in runs:
        a, b = run["_per_user"][ours], run["_per_user"][base]
        if a is None or b is None or metric not in a or metric not in b:
            return None
        differences.append(paired_difference(a, b, metric))
    return pool_runs(differences)
