"""Turn `results.json` files of compare runs into Markdown tables people can read without TensorBoard."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from movierec.config import DEFAULT_PRESET
from movierec.evaluation.names import HEADLINE_METRICS, METRIC_LABELS, VALIDATION_LOGS
from movierec.evaluation.paired import PairedDifference, load_per_user, pool_users
from movierec.records import ModelResult, RunResults, load_results

__all__ = ["REPORT_COLUMNS", "load_results", "results_table", "markdown_report", "verdict", "seeds_report"]

# (key in `ModelResult.test`, column header, number format)
REPORT_COLUMNS: tuple[tuple[str, str, str], ...] = tuple(
    (key, METRIC_LABELS[key], ".3f")
    for key in ("factorized_top_1", "factorized_top_10", "factorized_top_100", "recall@10", "recall@20",
                "ndcg@10", "hr@10", "coverage@10")
)  # fmt: skip


@dataclass(frozen=True)
class SeedRun:
    """One run of a seeds report: its results and each model's per-user test metrics (None if not kept)."""

    results: RunResults
    per_user: dict[str, dict[str, np.ndarray] | None]


TFRS_KINDS = ("two_tower", "sequential")  # the TFRS model kinds: the verdicts set them against the baselines
NOT_BASELINES = (
    *TFRS_KINDS,
    "auto",
    "choice",
    "blend",
)  # kinds the verdicts compare with the baselines, not as baselines


def results_table(results: RunResults) -> str:
    """One Markdown table: a row per model, best value of each metric in bold."""
    models = results.models
    best = {}
    for key, _, _ in REPORT_COLUMNS:
        values = [m.test[key] for m in models.values() if key in m.test]
        best[key] = max(values) if values else None
    has_rmse = any("rmse" in m.test for m in models.values())
    header = ["model", "kind"] + [title for _, title, _ in REPORT_COLUMNS] + ["NDCG@10 SE"]
    header += ["RMSE"] if has_rmse else []
    has_race = any("ease" in m.race for m in models.values())
    header += ["train s"] + (["s to EASE"] if has_race else [])
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for name, model in models.items():
        test = model.test
        cells = [name, model.kind]
        for key, _, fmt in REPORT_COLUMNS:
            value = test.get(key)
            text = "–" if value is None else format(value, fmt)
            cells.append(f"**{text}**" if value is not None and value == best[key] else text)
        cells.append(format(test.get("ndcg@10_se", float("nan")), ".3f"))
        if has_rmse:
            cells.append(format(test["rmse"], ".3f") if "rmse" in test else "–")
        cells.append(f"{model.train_seconds:.1f}")
        if has_race:
            reached = model.race.get("ease", "–")
            cells.append("never" if reached is None else reached if reached == "–" else f"{reached:.1f}")
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def verdict(results: RunResults, metrics: tuple[str, ...] = HEADLINE_METRICS) -> str:
    """Plain sentences: does the best TFRS model beat every baseline, metric by metric?"""
    models = results.models
    tfrs = {n: m for n, m in models.items() if m.kind in (*TFRS_KINDS, "choice", "blend")}
    baselines = {n: m for n, m in models.items() if m.kind not in NOT_BASELINES}
    if not tfrs or not baselines:
        return _fit_decisions(results)
    lines = []
    for metric in metrics:
        best_name = max(tfrs, key=lambda n: tfrs[n].test.get(metric, float("-inf")))
        ours = tfrs[best_name].test[metric]
        beaten = [n for n, m in baselines.items() if ours > m.test.get(metric, float("inf"))]
        ahead = [n for n in baselines if n not in beaten]
        text = f"- **{metric}**: best TFRS model `{best_name}` {ours:.3f}; "
        if not ahead:
            text += f"beats every baseline ({', '.join(beaten)})."
        else:
            gaps = ", ".join(f"{n} {baselines[n].test[metric]:.3f}" for n in ahead)
            text += f"**does not beat** {gaps}" + (f"; beats {', '.join(beaten)}." if beaten else ".")
        lines.append(text)
    decisions = _fit_decisions(results)
    return "\n".join(lines + ([decisions] if decisions else []))


def _fit_decisions(results: RunResults) -> str:
    """What fitting decided beyond the weights, one line each: the candidate `auto` kept, the recency used, when
    the queries were asked."""
    lines = []
    for name, model in results.models.items():
        selection, choice, recency = model.decisions.selection, model.decisions.choice, model.decisions.recency
        if selection is not None:
            lines.append(f"- `{name}` {selection.summary(chosen_style='**')}.")
        if choice is not None:
            lines.append(f"- `{name}` trained **{choice.chosen}**: {choice.order.summary()}.")
        if recency is not None:
            lines.append(f"- `{name}` {recency.summary()}.")
        if model.decisions.query_time is not None:
            lines.append(f"- `{name}` {model.decisions.query_time.summary()}.")
        if model.decisions.blend is not None:
            lines.extend(f"- `{name}` {line}." for line in model.decisions.blend.lines())
    return "\n".join(lines)


def markdown_report(paths: list[str | Path], title: str = "Results") -> str:
    """A Markdown document with one section per results file."""
    parts = [f"# {title}", "", "Generated by `movierec report`; do not edit by hand.", ""]
    for path in paths:
        results = load_results(path)
        split = results.split
        total = results.total_seconds if results.total_seconds is not None else float("nan")
        parts += [
            f"## {results.experiment}: {split.strategy} split",
            "",
            f"{results.dataset}; train {_count(split.train)} / validation {_count(split.validation)} / test "
            f"{_count(split.test)} ratings. Whole job {total:.0f} s.{_test_input(results)}",
            "",
            results_table(results),
            "",
            verdict(results),
            "",
            *_minutes_lines(results),
        ]
    return "\n".join(parts)


def _minutes_lines(results: RunResults) -> list[str]:
    """Per model trained in epochs: validation NDCG@10 at a quarter, half and three quarters of its training
    time (minutes from 2 minutes on, else seconds), and its best (times from `ModelResult.epoch_ends`)."""
    lines = []
    for name, model in results.models.items():
        curve = model.history.get(VALIDATION_LOGS["ndcg@10"])
        if not curve or len(curve) != len(model.epoch_seconds):
            continue
        elapsed = np.array(model.epoch_ends())
        total = float(elapsed[-1])
        picks = sorted({int(np.searchsorted(elapsed, total * share)) for share in (0.25, 0.5, 0.75)})
        best = int(np.argmax(curve))
        unit, scale, digits = ("minutes", 60.0, 1) if total >= 120 else ("seconds", 1.0, 0)
        points = [
            f"best {curve[i]:.4f} at {elapsed[i] / scale:.{digits}f} (epoch {i + 1} of {len(curve)})"
            if i == best
            else f"{curve[i]:.4f} at {elapsed[i] / scale:.{digits}f}"
            for i in sorted({*picks, best})
        ]  # in time order
        lines.append(f"- `{name}`, validation NDCG@10 against training {unit}: {', '.join(points)}.")
    return [*lines, ""] if lines else []


def _count(rows: int | None) -> str:
    return "?" if rows is None else f"{rows:,}"


def _test_input(results: RunResults) -> str:
    """The sentence saying what models read when scoring test users (runs that recorded it)."""
    if results.test_input != "train+validation":
        return ""
    return (
        " Test users are scored from their train and validation ratings (validation added without "
        "refitting; a model that reads only user ids keeps its trained vectors); movies in either are excluded."
    )


def seeds_report(paths: list[str | Path], metrics: tuple[str, ...] = ("ndcg@10", "hr@10")) -> str:
    """Markdown: per split, each model's mean and range over repeated runs (seeds), and how the default
    TFRS preset (and, if another TFRS model has a higher mean, that one too, labelled as picked on test)
    compares with each baseline: in standard errors of one run's NDCG@10, and, where the runs kept each
    test user's metrics, by the paired standard error of the difference (each user's differences averaged over
    the seeds first, `pool_users`).

    Args:
        paths: `results.json` of runs that differ only by seed (any number of splits mixed).
        metrics: Test metrics to summarise.
    """
    by_split: dict[str, list[SeedRun]] = {}
    for path in paths:
        results = load_results(path)
        # each model's per-user test metrics (None if the run kept none), read once per run
        per_user = {name: load_per_user(Path(path).parent / name) for name in results.models}
        by_split.setdefault(results.split.strategy, []).append(SeedRun(results, per_user))
    parts = [
        "Margins are means over the seeds. A paired standard error averages each test user's difference over the "
        "seeds, then takes the standard error over users: the seeds score the same users, so they are not counted "
        "as independent samples.",
        "",
    ]
    for split, runs in by_split.items():
        names = list(runs[0].results.models)
        header = ["model", "runs"] + [f"{METRIC_LABELS.get(m, m)} mean (min–max)" for m in metrics] + ["train s"]
        lines = [
            f"### {split} split, {len(runs)} seeds",
            "",
            "| " + " | ".join(header) + " |",
            "|" + "---|" * len(header),
        ]
        means: dict[str, dict[str, float]] = {}
        for name in names:
            present = [r.results.models[name] for r in runs if name in r.results.models]
            cells = [name, str(len(present))]
            means[name] = {}
            for metric in metrics:
                values = [m.test[metric] for m in present if metric in m.test]
                means[name][metric] = sum(values) / len(values)
                cells.append(f"{means[name][metric]:.4f} ({min(values):.4f}–{max(values):.4f})")
            cells.append(f"{sum(m.train_seconds for m in present) / len(present):.1f}")
            lines.append("| " + " | ".join(cells) + " |")
        lines += ["", *_seed_verdicts(runs, means, metrics), ""]
        parts += lines
    return "\n".join(parts)


def _seed_verdicts(runs: list[SeedRun], means: dict[str, dict[str, float]], metrics: tuple[str, ...]) -> list[str]:
    kinds = {name: model.kind for name, model in runs[0].results.models.items()}
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
        picks = [_kept(r.results.models[name]) for r in runs if name in r.results.models]
        counts = ", ".join(f"{pick} in {picks.count(pick)}" for pick in dict.fromkeys(picks))
        out += [f"`{name}` (chooses on validation) kept {counts} of {len(picks)} runs:"]
        out += _margins(runs, means, metrics, name, baselines)
    return out


def _kept(model: ModelResult) -> str:
    """The candidate `auto` kept in one run ("?" if the run did not record it)."""
    return model.decisions.selection.chosen if model.decisions.selection is not None else "?"


def _margins(
    runs: list[SeedRun], means: dict[str, dict[str, float]], metrics: tuple[str, ...], ours: str,
    baselines: list[str],
) -> list[str]:  # fmt: skip
    """One line per metric and baseline: `ours`' mean margin, in SE of one run and in paired SE, and with several
    runs, in how many of them `ours` was ahead (the paired SE counts the users' spread, not the training's: two
    runs of one model can differ by about two of them on a small set)."""
    errors = [r.results.models[ours].test.get("ndcg@10_se") for r in runs]
    se = sum(e for e in errors if e is not None) / max(1, len([e for e in errors if e is not None]))
    out = []
    for metric in metrics:
        for base in baselines:
            diff = means[ours][metric] - means[base][metric]
            size = f", {diff / se:+.1f} SE of one run" if metric == "ndcg@10" and se > 0 else ""
            paired = _paired(runs, ours, base, metric)
            if paired is not None and paired.se > 0:
                size += f"; paired difference {paired.mean:+.4f} ± {paired.se:.4f} ({paired.mean / paired.se:+.1f} SE)"
            each = _run_margins(runs, ours, base, metric)
            if len(each) > 1:
                ahead = sum(d > 0 for d in each)
                size += f"; ahead in {ahead} of {len(each)} runs ({', '.join(f'{d:+.4f}' for d in each)})"
            word = "beats" if diff > 0 else "**does not beat**"
            out.append(f"- {metric}: `{ours}` {word} {base} by {diff:+.4f} on average{size}.")
    return out


def _run_margins(runs: list[SeedRun], ours: str, base: str, metric: str) -> list[float]:
    """`ours - base` in each run that scored both on `metric`, in run order."""
    margins = []
    for run in runs:
        a, b = run.results.models.get(ours), run.results.models.get(base)
        if a is not None and b is not None and metric in a.test and metric in b.test:
            margins.append(a.test[metric] - b.test[metric])
    return margins


def _paired(runs: list[SeedRun], ours: str, base: str, metric: str) -> PairedDifference | None:
    """`ours - base` user by user, each user's differences averaged over the runs (`pool_users`); None unless
    every run kept both models' metrics."""
    pairs = []
    for run in runs:
        a, b = run.per_user[ours], run.per_user[base]
        if a is None or b is None or metric not in a or metric not in b:
            return None
        pairs.append((a, b))
    return pool_users(pairs, metric)
