"""What a fit decided beyond the weights: the recency used, the order check, the candidate a chooser kept.

Each decision is a frozen dataclass with `to_dict`/`from_dict` (the JSON of `results.json` and of a
model directory's `model.json`) and `summary()`, the one sentence people read. `FitDecisions` holds
the ones a fit made; the report, the CLI and serving read them from here and nowhere else.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from movierec.records._fields import field_of, object_of

__all__ = [
    "RecencyDecision",
    "QueryTimeDecision",
    "OrderDecision",
    "CandidateResult",
    "SelectionRecord",
    "ChoiceRecord",
    "BlendRecord",
    "PrecisionDecision",
    "FitDecisions",
]


@dataclass(frozen=True)
class RecencyDecision:
    """Whether a fit counted its latest ratings more, and the evidence it decided on.

    Attributes:
        mode: The config's `recency`: "off", "on" or "validation".
        used: Whether the training stream repeats the latest ratings.
        share: Share of the training ratings counted as latest.
        repeats: Extra appearances of each of them per epoch.
        plain: Mean log-probability of the validation movies under the plain stream's frequencies
            ("validation" mode with a validation slice; otherwise None).
        weighted: The same under the weighted stream's frequencies.
        gain_se: Standard error of the per-rating difference `weighted - plain`.
    """

    mode: str
    used: bool
    share: float
    repeats: int
    plain: float | None = None
    weighted: float | None = None
    gain_se: float | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Any, where: str = "recency") -> RecencyDecision:
        data = object_of(data, where)
        return cls(
            mode=field_of(data, "mode", str, where),
            used=field_of(data, "used", bool, where),
            share=field_of(data, "share", float, where),
            repeats=field_of(data, "repeats", int, where),
            plain=field_of(data, "plain", float, where, None),
            weighted=field_of(data, "weighted", float, where, None),
            gain_se=field_of(data, "gain_se", float, where, None),
        )

    def summary(self) -> str:
        """One line for people: what was decided, and why."""
        latest = f"the latest {self.share:.0%} of the training ratings"
        counted = f"counted {latest} {1 + self.repeats}x" if self.used else f"counted {latest} like the others"
        if self.plain is None or self.weighted is None:
            return f"{counted} (recency = {self.mode!r})"
        verb = "likelier" if self.used else "not likelier"
        return (
            f"{counted}: the validation movies are {verb} under the weighted movie frequencies "
            f"(mean log-probability {self.weighted:.4f} against {self.plain:.4f}; standard error of the "
            f"per-rating difference {self.gain_se:.4f})"
        )


@dataclass(frozen=True)
class QueryTimeDecision:
    """Whether a two-tower fit read the rating time and asked every query at the end of the training data.

    With `query_time = "validation"`: where most of the validation slice comes after the latest training
    rating (a split in time: the question is what users watch next), the user tower reads the rating time
    and every query is asked "now"; elsewhere the rating time is not the question's and is left out.

    Example:
        >>> QueryTimeDecision(True, 1.0).summary()
        'read the rating time and asked every query at the end of the training data: 100% of the validation ratings come after the latest training rating'

    Attributes:
        used: Whether the user tower reads the rating time, every query asked at the end of the training data.
        later: Share of the validation ratings later than the latest training rating (None: no validation slice).
    """

    used: bool
    later: float | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Any, where: str = "query_time") -> QueryTimeDecision:
        data = object_of(data, where)
        return cls(used=field_of(data, "used", bool, where), later=field_of(data, "later", float, where, None))

    def summary(self) -> str:
        """One line for people: what was decided, and why."""
        if self.later is None:
            return "left the rating time out (query_time = 'validation' without a validation slice)"
        share = f"{self.later:.0%} of the validation ratings come after the latest training rating"
        if self.used:
            return f"read the rating time and asked every query at the end of the training data: {share}"
        return f"left the rating time out: {share} (a question about what comes next needs at least half)"


@dataclass(frozen=True)
class OrderDecision:
    """What the order check (`movierec.order.decide_order`) measured and decided.

    Attributes:
        used: Whether order predicts the validation movies better (an ordered model is chosen: the sequential
            kind, or on small data the Markov chain).
        ordered: Mean validation NDCG@10 of the Markov predictor.
        unordered: Mean validation NDCG@10 of the co-occurrence predictor.
        se: Standard error of the per-user difference (ordered - unordered).
        users: Validation users scored.
        margin_se: The lead, in standard errors, that order needed.
        seconds: What the check cost.
    """

    used: bool
    ordered: float
    unordered: float
    se: float
    users: int
    margin_se: float
    seconds: float

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Any, where: str = "order") -> OrderDecision:
        data = object_of(data, where)
        floats = {
            key: field_of(data, key, float, where) for key in ("ordered", "unordered", "se", "margin_se", "seconds")
        }
        return cls(used=field_of(data, "used", bool, where), users=field_of(data, "users", int, where), **floats)

    def summary(self) -> str:
        """One sentence: the decision and its numbers."""
        lead = (self.ordered - self.unordered) / self.se if self.se > 0 else 0.0
        verdict = (
            "order predicts the next movies: an ordered model" if self.used else "order adds little: factorisation"
        )
        return (
            f"{verdict} (validation NDCG@10 of {self.users} users: Markov chain over the latest movies "
            f"{self.ordered:.4f}, item co-occurrence {self.unordered:.4f}, {lead:+.1f} paired SE, "
            f"threshold {self.margin_se:g}; checked in {self.seconds:.1f} s)"
        )


@dataclass(frozen=True)
class CandidateResult:
    """One candidate of `auto`: fitted and scored on the validation slice, or skipped (time budget).

    `versus`, `gain` and `gain_se` compare it with the choice so far (every fitted candidate after the first).
    """

    name: str
    kind: str
    status: str  # "fitted" or "skipped"
    validation: float | None = None  # the selection metric on the validation slice
    seconds: float | None = None  # fit and scoring
    versus: str | None = None  # the choice so far it was compared with
    gain: float | None = None  # mean per-user difference against `versus`
    gain_se: float | None = None  # its standard error (None: not finite)

    def to_dict(self) -> dict[str, Any]:
        row = asdict(self)
        if self.versus is None:  # the first candidate, or a skipped one: no comparison to record
            del row["versus"], row["gain"], row["gain_se"]
        return row

    @classmethod
    def from_dict(cls, data: Any, where: str) -> CandidateResult:
        data = object_of(data, where)
        return cls(
            name=field_of(data, "name", str, where),
            kind=field_of(data, "kind", str, where, ""),
            status=field_of(data, "status", str, where),
            validation=field_of(data, "validation", float, where, None),
            seconds=field_of(data, "seconds", float, where, None),
            versus=field_of(data, "versus", str, where, None),
            gain=field_of(data, "gain", float, where, None),
            gain_se=field_of(data, "gain_se", float, where, None),
        )

    def summary(self) -> str:
        if self.status != "fitted":
            return f"{self.name} skipped (time budget)"
        if self.versus is None:
            return f"{self.name} {self.validation:.4f}"
        se = "" if self.gain_se is None else f" ± {self.gain_se:.4f}"
        return f"{self.name} {self.validation:.4f} ({self.gain:+.4f}{se} vs {self.versus})"


@dataclass(frozen=True)
class SelectionRecord:
    """The choice of `auto` (`movierec.selection.AutoRecommender`): every candidate's score, the one kept.

    Example:
        >>> record = SelectionRecord("ndcg@10", 1.0, "a", 60.0, 3, (
        ...     CandidateResult("a", "ease", "fitted", 0.5),
        ...     CandidateResult("b", "als", "fitted", 0.6, versus="a", gain=0.1, gain_se=0.2),
        ...     CandidateResult("c", "als", "skipped")))
        >>> record.summary()
        'chose a on the validation ndcg@10 of 3 users, where a later candidate must lead by more than 1 paired SE: a 0.5000, b 0.6000 (+0.1000 ± 0.2000 vs a), c skipped (time budget)'
    """

    metric: str  # the validation metric compared
    margin_se: float  # paired standard errors a later candidate must lead by
    chosen: str  # name of the candidate kept
    time_budget: float  # seconds after which later candidates are skipped
    validation_users: int  # users scored
    candidates: tuple[CandidateResult, ...]  # in the order they were tried

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "candidates": [c.to_dict() for c in self.candidates]}

    @classmethod
    def from_dict(cls, data: Any, where: str = "selection") -> SelectionRecord:
        data = object_of(data, where)
        rows = field_of(data, "candidates", list, where)
        return cls(
            metric=field_of(data, "metric", str, where),
            margin_se=field_of(data, "margin_se", float, where),
            chosen=field_of(data, "chosen", str, where),
            time_budget=field_of(data, "time_budget", float, where, float("inf")),
            validation_users=field_of(data, "validation_users", int, where),
            candidates=tuple(CandidateResult.from_dict(r, f"{where}.candidates[{i}]") for i, r in enumerate(rows)),
        )

    def summary(self, chosen_style: str = "") -> str:
        """The sentence saying which candidate was kept and why; `chosen_style` wraps its name (e.g. "**")."""
        parts = ", ".join(candidate.summary() for candidate in self.candidates)
        return (
            f"chose {chosen_style}{self.chosen}{chosen_style} on the validation {self.metric} of "
            f"{self.validation_users} users, where a later candidate must lead by more than {self.margin_se:g} "
            f"paired SE: {parts}"
        )


@dataclass(frozen=True)
class ChoiceRecord:
    """What the default (`movierec.choice.ChoiceRecommender`) trained, and the order check behind it.

    Example:
        >>> order = OrderDecision(True, 0.10, 0.05, 0.01, 900, 1.0, 0.2)
        >>> ChoiceRecord("markov_ease", order, ratings=99_000, small_ratings=150_000).summary().split("; ")[-1]
        '99,000 training ratings, fewer than 150,000: the ordered candidate for small data'
    """

    chosen: str  # name of the candidate trained
    order: OrderDecision
    ratings: int = 0  # training ratings the size rule read (0: no size rule)
    small_ratings: int = 0  # the choice's `small_ratings` (0: no size rule)

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"chosen": self.chosen, "order": self.order.to_dict()}
        if self.small_ratings:  # a record without the size rule reads as it did before the rule
            data.update(ratings=self.ratings, small_ratings=self.small_ratings)
        return data

    @classmethod
    def from_dict(cls, data: Any, where: str = "choice") -> ChoiceRecord:
        data = object_of(data, where)
        order = OrderDecision.from_dict(field_of(data, "order", dict, where), f"{where}.order")
        return cls(
            chosen=field_of(data, "chosen", str, where),
            order=order,
            ratings=field_of(data, "ratings", int, where, 0),
            small_ratings=field_of(data, "small_ratings", int, where, 0),
        )

    def summary(self) -> str:
        text = f"trained {self.chosen}: {self.order.summary()}"
        if self.small_ratings and self.order.used:
            if self.ratings < self.small_ratings:
                size = f"fewer than {self.small_ratings:,}: the ordered candidate for small data"
            else:
                size = f"at least {self.small_ratings:,}: the ordered candidate for more data"
            text += f"; {self.ratings:,} training ratings, {size}"
        return text


@dataclass(frozen=True)
class BlendRecord:
    """The weight a blend (`movierec.blend.BlendRecommender`) gave its first member, and the evidence.

    Example:
        >>> record = BlendRecord("seq", "ease", 0.5, ((0.0, 0.1), (0.5, 0.3), (1.0, 0.2)), 40, 0.2)
        >>> record.summary()
        'blended 0.5 x seq + 0.5 x ease (standardised scores): validation NDCG@10 of 40 users 0.3000; seq alone 0.2000, ease alone 0.1000; chosen in 0.2 s'
        >>> BlendRecord.from_dict(record.to_dict()) == record
        True
    """

    first: str  # name of the first member
    second: str  # name of the second member
    weight: float  # of the first member's standardised scores
    curve: tuple[tuple[float, float], ...] = ()  # (weight, validation NDCG@10) tried; empty when configured
    users: int = 0  # validation users scored
    seconds: float = 0.0  # what choosing cost
    reason: str = ""  # why the weight was not chosen on validation (empty: chosen, or configured)
    members: tuple[BlendRecord, ...] = ()  # the records of members that are blends themselves

    def to_dict(self) -> dict[str, Any]:
        data = {**asdict(self), "curve": [list(point) for point in self.curve]}
        del data["members"]  # a plain blend's record reads as it did before blends could nest
        if self.members:
            data["members"] = [member.to_dict() for member in self.members]
        return data

    @classmethod
    def from_dict(cls, data: Any, where: str = "blend") -> BlendRecord:
        data = object_of(data, where)
        points = field_of(data, "curve", list, where, [])
        try:
            curve = tuple((float(w), float(v)) for w, v in points)
        except (TypeError, ValueError) as e:
            raise ValueError(f"{where}.curve must be a list of [weight, score] pairs: {e}") from e
        return cls(
            first=field_of(data, "first", str, where),
            second=field_of(data, "second", str, where),
            weight=field_of(data, "weight", float, where),
            curve=curve,
            users=field_of(data, "users", int, where, 0),
            seconds=field_of(data, "seconds", float, where, 0.0),
            reason=field_of(data, "reason", str, where, ""),
            members=tuple(
                cls.from_dict(member, f"{where}.members[{i}]")
                for i, member in enumerate(field_of(data, "members", list, where, []))
            ),
        )

    def lines(self) -> list[str]:
        """`summary()` of each member blend (innermost first), then this blend's."""
        return [line for member in self.members for line in member.lines()] + [self.summary()]

    def summary(self) -> str:
        mix = f"blended {self.weight:g} x {self.first} + {1 - self.weight:g} x {self.second} (standardised scores)"
        if not self.curve:
            return f"{mix}: {self.reason or 'the configured weight'}"
        scores = dict(self.curve)
        alone = [f"{name} alone {scores[w]:.4f}" for name, w in ((self.first, 1.0), (self.second, 0.0)) if w in scores]
        return (
            f"{mix}: validation NDCG@10 of {self.users} users {scores.get(self.weight, float('nan')):.4f}"
            + "".join(f"; {part}" if i == 0 else f", {part}" for i, part in enumerate(alone))
            + f"; chosen in {self.seconds:.1f} s"
        )


@dataclass(frozen=True)
class PrecisionDecision:
    """The number type a catalogue softmax ran its products in (`LossConfig.logits_dtype`).

    "auto" is decided by the CPU the fit ran on, so the same config trains in bfloat16 on one machine and
    float32 on another; the record says which.

    Example:
        >>> PrecisionDecision("auto", "bfloat16").summary()
        "the catalogue's softmax in bfloat16 (loss.logits_dtype = 'auto': this CPU has bfloat16 units)"
    """

    requested: str  # the config's logits_dtype: "auto", "bfloat16" (or "float32")
    used: str  # what the products ran in: "bfloat16" or "float32"

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Any, where: str = "precision") -> PrecisionDecision:
        data = object_of(data, where)
        return cls(requested=field_of(data, "requested", str, where), used=field_of(data, "used", str, where))

    def summary(self) -> str:
        """One line: the type used and why."""
        if self.requested == "auto":
            units = "has" if self.used == "bfloat16" else "has no"
            why = f"this CPU {units} bfloat16 units"
        else:
            why = "as configured"
        return f"the catalogue's softmax in {self.used} (loss.logits_dtype = {self.requested!r}: {why})"


@dataclass(frozen=True)
class FitDecisions:
    """The decisions one fit made; each None when the model did not make it.

    In JSON they are the keys `selection`, `choice`, `recency`, `query_time`, `blend` and `precision` of the object that holds
    them (a model's entry in `results.json`, `epoch_search` in `model.json`), each present only when made.

    Example:
        >>> decisions = FitDecisions(recency=RecencyDecision("on", True, 0.25, 3))
        >>> decisions.to_dict()
        {'recency': {'mode': 'on', 'used': True, 'share': 0.25, 'repeats': 3, 'plain': None, 'weighted': None, 'gain_se': None}}
        >>> FitDecisions.from_dict(decisions.to_dict()) == decisions
        True
        >>> decisions.summary()
        "counted the latest 25% of the training ratings 4x (recency = 'on')"
    """

    selection: SelectionRecord | None = None  # `auto`: the candidate kept
    choice: ChoiceRecord | None = None  # the default: the candidate the order check chose
    recency: RecencyDecision | None = None  # a two-tower model asked to weigh its latest ratings
    query_time: QueryTimeDecision | None = None  # a two-tower model asked when its queries are (the rating time)
    blend: BlendRecord | None = None  # a blend: the weight of its first member
    precision: PrecisionDecision | None = None  # a catalogue softmax not configured float32: the type it ran in

    def __bool__(self) -> bool:
        parts = (self.selection, self.choice, self.recency, self.query_time, self.blend, self.precision)
        return any(value is not None for value in parts)

    def to_dict(self) -> dict[str, Any]:
        parts = {
            "selection": self.selection,
            "choice": self.choice,
            "recency": self.recency,
            "query_time": self.query_time,
            "blend": self.blend,
            "precision": self.precision,
        }
        return {key: value.to_dict() for key, value in parts.items() if value is not None}

    @classmethod
    def from_dict(cls, data: dict[str, Any], where: str = "record") -> FitDecisions:
        """Reads the six keys from `data` (other keys are ignored); absent, null or `{}` means not made."""

        def part(key: str, reader: Any) -> Any:
            value = data.get(key)
            return reader(value, f"{where}.{key}") if value else None

        return cls(
            selection=part("selection", SelectionRecord.from_dict),
            choice=part("choice", ChoiceRecord.from_dict),
            recency=part("recency", RecencyDecision.from_dict),
            query_time=part("query_time", QueryTimeDecision.from_dict),
            blend=part("blend", BlendRecord.from_dict),
            precision=part("precision", PrecisionDecision.from_dict),
        )

    def summary(self) -> str | None:
        """For people, one line per decision (the chooser's first); None if nothing was decided."""
        lines = []
        if self.selection is not None:
            lines.append(self.selection.summary())
        if self.choice is not None:
            lines.append(self.choice.summary())
        if self.blend is not None:
            lines.extend(self.blend.lines())
        # a two-tower model's own decisions: after a chooser's line, say which candidate made them
        chosen = self.choice.chosen if self.choice else self.selection.chosen if self.selection else None
        for decision in (self.recency, self.query_time):
            if decision is not None:
                lines.append((f"{chosen}: " if chosen else "") + decision.summary())
        if self.precision is not None:
            lines.append(self.precision.summary())
        return "\n".join(lines) or None
