"""Synthetic ratings shaped like MovieLens 25M, for measuring movierec at that scale without the data.

`write_synthetic` writes a folder in ML-25M's CSV layout, which `--ratings DIR`,
`DataConfig(source=DIR)` and `load_movielens("ml-25m", path=DIR)` read like the real thing:

* `ratings.csv`: `userId,movieId,rating,timestamp`, sorted by user then movie, ratings written
  "4.0" / "3.5" as GroupLens writes them;
* `movies.csv`: `movieId,title,genres`, titles "Movie 17 (1994)" (some "Movie 17, The (1994)",
  quoted, as GroupLens quotes titles holding a comma), `|`-separated genres;
* `README.txt`: the command-line arguments that reproduce the folder.

What is matched, with the defaults (`SyntheticConfig()` is ML-25M's published sizes):

* sizes: 162,541 users, 25,000,095 ratings, 59,047 rated movies, and movies listed but
  never rated in ML-25M's proportion (62,423 listed: 3,376 unrated);
* every user has at least 20 ratings; activity is 20 plus a log-normal share (sigma 1.4),
  so the mean is ML-25M's 154 per user, the median 70 and the most active user rates about
  30k movies (ML-25M's: 32k; capped at 60% of the rated movies);
* item popularity is heavy-tailed: a Zipf-Mandelbrot head (exponent 0.9) bending to a
  steeper tail (exponent 2.2) past the top 4.5% of movies, every movie rated at least once
  (users rate a movie at most once, so the head saturates); at full size (measured, seed 1)
  the most-rated movie has 71k ratings (ML-25M's most-rated: about 81k), half the movies
  have 17 or fewer and the top 1% hold 41% of all ratings;
* ratings are half stars 0.5-5.0 in ML-25M's proportions (4.0 the most common at 26.6%,
  then 3.0 and 5.0; mean 3.53): each chunk's ratings are ordered by user bias + movie
  quality + noise and cut at those shares, popular movies rated a little higher, as in MovieLens;
* timestamps span ML-25M's 1995-01-09 to 2019-11-21; each user rates over one period that
  starts at a random date and lasts log-normally long (a day at the median, years for a few);
* genres: 1-3 per movie from ML-25M's 19 genres in MovieLens-like frequencies (Drama and
  Comedy the most common), and about 8% "(no genres listed)".

Not matched: the rating/time correlations of real users, tags, links, sparse movie ids.

The output is a function of the config alone: the same config gives byte-identical files
(numpy's seeded generators, streams split per chunk of users, fixed chunk boundaries; a
different numpy version may draw differently). Ratings are generated and written in chunks
of about 2M, so memory stays bounded (measured at 25M ratings: under 30 s, peak RSS 0.4 GB).
"""

from __future__ import annotations

import csv
import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv
from scipy.special import ndtri

from movierec._checks import check_k
from movierec._io import atomic_dir
from movierec.errors import ConfigError

__all__ = ["SyntheticConfig", "write_synthetic", "GENRES"]

logger = logging.getLogger(__name__)

GENRES = (
    "Drama", "Comedy", "Thriller", "Romance", "Action", "Horror", "Documentary", "Crime", "Adventure",
    "Sci-Fi", "Children", "Animation", "Mystery", "Fantasy", "War", "Western", "Musical", "Film-Noir", "IMAX",
)  # fmt: skip
_GENRE_WEIGHTS = np.array([40, 27, 14, 11, 12, 9, 9, 8, 7, 6, 4, 4, 4, 4, 3, 2, 2, 1, 0.3])
_LEVELS = tuple(f"{0.5 * k:.1f}" for k in range(1, 11))  # "0.5" .. "5.0"
_LEVEL_COUNTS = np.array(  # ML-25M ratings per half star, 0.5 .. 5.0
    [393_068, 776_815, 399_490, 1_640_868, 1_262_797, 4_896_928, 3_177_318, 6_639_798, 2_200_539, 3_612_474]
)
_FIRST_TS, _LAST_TS = 789_652_009, 1_574_327_703  # ML-25M's first and last rating (1995-01-09, 2019-11-21)
_UNRATED_SHARE = (62_423 - 59_047) / 59_047  # ML-25M lists this many unrated movies per rated one
_NO_GENRES_SHARE = 0.081
_MAX_USER_SHARE = 0.6  # no user rates more than this share of the rated movies
_CHUNK_RATINGS = 2_000_000
_HEAVY_SHARE = 0.02  # users needing more than this share of the movies are sampled exactly (Gumbel top-k)
_HEADER = b"userId,movieId,rating,timestamp\n"


@dataclass(frozen=True)
class SyntheticConfig:
    """Sizes and seed of a synthetic MovieLens-like set; the defaults are ML-25M's published sizes.

    Example:
        >>> SyntheticConfig(users=300, items=400, ratings=20_000, seed=1).min_user_ratings
        20
    """

    users: int = 162_541  # users, ids 1..users
    items: int = 59_047  # movies with at least one rating (movies.csv lists ~5.7% more, unrated)
    ratings: int = 25_000_095  # ratings in all
    seed: int = 1  # same seed and sizes -> byte-identical files
    min_user_ratings: int = 20  # every user rates at least this many movies (ML-25M: 20)

    def __post_init__(self) -> None:
        for name in ("users", "items", "ratings", "min_user_ratings"):
            check_k(getattr(self, name), name)
        if not isinstance(self.seed, int) or isinstance(self.seed, bool) or self.seed < 0:
            raise ConfigError(f"`seed` should be a non-negative integer. Received: `seed` = {self.seed!r}")
        if self.items < self.min_user_ratings:
            raise ConfigError(
                f"`items` should be at least min_user_ratings ({self.min_user_ratings}). Received: `items` = {self.items}"
            )
        if self.ratings < self.users * self.min_user_ratings:
            raise ConfigError(
                f"`ratings` should be at least {self.min_user_ratings} per user ({self.users * self.min_user_ratings:,})."
                f" Received: `ratings` = {self.ratings:,}"
            )
        if self.ratings > self.users * self.max_user_ratings:
            raise ConfigError(
                f"`ratings` should be at most {self.users * self.max_user_ratings:,} ({self.max_user_ratings} per user,"
                f" {_MAX_USER_SHARE:.0%} of the movies). Received: `ratings` = {self.ratings:,}"
            )
        if self.items > self.users * self.min_user_ratings:
            raise ConfigError(
                f"`items` should be at most {self.users * self.min_user_ratings:,} so that every movie can be rated."
                f" Received: `items` = {self.items:,}"
            )

    @property
    def max_user_ratings(self) -> int:
        return max(self.min_user_ratings, int(_MAX_USER_SHARE * self.items))


def write_synthetic(config: SyntheticConfig, out: str | Path) -> dict[str, float]:
    """Writes a synthetic set in ML-25M's CSV layout into the new folder `out`.

    Args:
        config: Sizes and seed.
        out: Folder to create; it must not exist yet, or be empty. It appears complete or not at all.

    Returns:
        A summary: `ratings`, `users`, `rated_movies`, `movies`, `mean_rating`.

    Raises:
        ConfigError: if `out` exists and is not an empty folder.
    """
    out = Path(out).expanduser()
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise ConfigError(f"`out` should be a new or empty folder. Received: `out` = {str(out)!r}")
    catalogue_seed, users_seed, owner_seed, chunks_seed = np.random.SeedSequence(config.seed).spawn(4)
    movies = _Catalogue(config, np.random.default_rng(catalogue_seed))
    counts, bias, start, span = _users(config, np.random.default_rng(users_seed))
    # the user who surely rates each movie (movie rank r -> owner[r]), so that every movie is rated
    owner = np.random.default_rng(owner_seed).permutation(config.users)[np.arange(config.items) % config.users]
    bounds = _chunk_bounds(counts)
    level_sum = np.zeros(len(_LEVELS), np.int64)
    with atomic_dir(out) as tmp:
        movies.write(tmp / "movies.csv")
        with open(tmp / "ratings.csv", "wb") as handle:
            handle.write(_HEADER)
            options = pacsv.WriteOptions(include_header=False, quoting_style="none")
            with pacsv.CSVWriter(handle, _SCHEMA, write_options=options) as writer:
                for (first, last), seed in zip(bounds, chunks_seed.spawn(len(bounds))):
                    rng = np.random.default_rng(seed)
                    users, movie_ids = _sample(counts, owner, first, last, movies, rng)
                    levels = _levels(bias[users] + movies.quality[movies.rank_of_id[movie_ids]], rng)
                    times = start[users] + (rng.random(len(users)) * span[users]).astype(np.int64)
                    writer.write_table(_chunk_table(users, movie_ids, levels, times))
                    level_sum += np.bincount(levels, minlength=len(_LEVELS))
        (tmp / "README.txt").write_text(
            "Synthetic ratings shaped like MovieLens 25M (not MovieLens data), written by\n"
            f"movierec data synth --users {config.users} --items {config.items} --ratings {config.ratings} "
            f"--seed {config.seed}\nSee movierec/data/synthetic.py for what it matches.\n"
        )
    mean = float(level_sum @ (0.5 * np.arange(1, 11)) / level_sum.sum())
    logger.info("synthetic: %s ratings, mean %.3f, written to %s", f"{config.ratings:,}", mean, out)
    return {"ratings": config.ratings, "users": config.users, "rated_movies": config.items,
            "movies": len(movies.ids), "mean_rating": mean}  # fmt: skip


_SCHEMA = pa.schema(
    [("userId", pa.int32()), ("movieId", pa.int32()), ("rating", pa.string()), ("timestamp", pa.int64())]
)


class _Catalogue:
    """Movies: ids, popularity (by rated movie), quality, and the rows of movies.csv."""

    def __init__(self, config: SyntheticConfig, rng: np.random.Generator):
        n_rated = config.items
        self.ids = np.arange(1, n_rated + int(round(n_rated * _UNRATED_SHARE)) + 1, dtype=np.int32)
        self.rated_ids = np.sort(rng.choice(self.ids, n_rated, replace=False))[rng.permutation(n_rated)]
        rank = np.arange(1, n_rated + 1, dtype=np.float64)  # rated_ids[r] is the (r+1)-th most popular
        head, bend = 15.0 * n_rated / 59_047, max(1.0, 0.045 * n_rated)  # scaled from ML-25M's size
        weight = (rank + head) ** -0.9
        tail = rank > bend
        weight[tail] = (bend + head) ** -0.9 * ((rank[tail] + head) / (bend + head)) ** -2.2
        self.rank_of_id = np.zeros(len(self.ids) + 1, np.int64)
        self.rank_of_id[self.rated_ids] = np.arange(n_rated)
        self.cdf = np.cumsum(weight / weight.sum())
        self.cdf[-1] = 1.0
        popularity = ndtri((n_rated - rank + 0.5) / n_rated)  # normal scores of the popularity ranks
        self.quality = 0.25 * popularity + 0.35 * rng.standard_normal(n_rated)
        self.years = np.clip(2019 - rng.exponential(18.0, len(self.ids)).astype(int), 1902, 2019)
        self.the = rng.random(len(self.ids)) < 0.1
        self.genres = self._genres(rng)

    def _genres(self, rng: np.random.Generator) -> list[str]:
        n = len(self.ids)
        how_many = rng.choice([1, 2, 3], size=n, p=[0.4, 0.35, 0.25])
        keys = np.log(_GENRE_WEIGHTS / _GENRE_WEIGHTS.sum()) + rng.gumbel(size=(n, len(GENRES)))
        order = np.argsort(-keys, axis=1)  # weighted sampling without replacement (Gumbel top-k)
        none = rng.random(n) < _NO_GENRES_SHARE
        return [
            "(no genres listed)" if none[i] else "|".join(GENRES[g] for g in sorted(order[i, : how_many[i]]))
            for i in range(n)
        ]

    def write(self, path: Path) -> None:
        with open(path, "w", encoding="utf-8", newline="") as handle:
            writer = csv.writer(handle, lineterminator="\n")
            writer.writerow(["movieId", "title", "genres"])
            for movie, year, the, genres in zip(self.ids.tolist(), self.years.tolist(), self.the.tolist(), self.genres):
                writer.writerow([movie, f"Movie {movie}{', The' if the else ''} ({year})", genres])


def _users(config: SyntheticConfig, rng: np.random.Generator) -> tuple[np.ndarray, ...]:
    """Ratings per user (summing to `config.ratings`), rating bias, first timestamp and active span."""
    weights = np.exp(1.4 * rng.standard_normal(config.users))
    counts = _allocate(config.ratings, weights, config.min_user_ratings, config.max_user_ratings)
    bias = 0.45 * rng.standard_normal(config.users)
    start = rng.integers(_FIRST_TS, _LAST_TS, size=config.users)
    span = np.exp(np.log(86_400.0) + 2.5 * rng.standard_normal(config.users))
    span = np.minimum(span, _LAST_TS - start).astype(np.int64) + 1
    return counts, bias, start, span


def _allocate(total: int, weights: np.ndarray, low: int, high: int) -> np.ndarray:
    """Integers in [low, high] summing to `total`, proportional to `weights` above `low` (largest remainders)."""
    counts = np.full(len(weights), low, np.int64)
    free = np.ones(len(weights), bool)
    while (left := total - int(counts.sum())) > 0:
        share = left * weights * free / (weights * free).sum()
        extra = np.floor(share).astype(np.int64)
        short = left - int(extra.sum())
        extra[np.argsort(-(share - extra), kind="stable")[:short]] += 1
        counts = np.minimum(counts + extra, high)
        free = counts < high
    return counts


def _chunk_bounds(counts: np.ndarray) -> list[tuple[int, int]]:
    """User ranges `[first, last)` of about `_CHUNK_RATINGS` ratings each."""
    ends = np.searchsorted(np.cumsum(counts), np.arange(_CHUNK_RATINGS, counts.sum(), _CHUNK_RATINGS), side="left")
    edges = np.unique(np.concatenate([[0], ends + 1, [len(counts)]]).clip(0, len(counts)))
    return list(zip(edges[:-1].tolist(), edges[1:].tolist()))


def _sample(
    counts: np.ndarray, owner: np.ndarray, first: int, last: int, movies: _Catalogue, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """Distinct (user, movie id) pairs for users `first..last-1`, sorted: each user's count, by popularity.

    Each movie's `owner` rates it for sure, so every movie gets a rating. The others are drawn
    by popularity without repeats: by oversampled draws for most users, by Gumbel top-k for
    users who rate a large share of the movies.
    """
    cdf = movies.cdf
    n_items = len(cdf)
    need = counts[first:last]
    covered = np.flatnonzero((owner >= first) & (owner < last))
    keys = (owner[covered] - first).astype(np.int64) * n_items + covered  # key = local user * n_items + rank
    heavy = np.flatnonzero(need > _HEAVY_SHARE * n_items)
    if len(heavy):
        keys = np.concatenate([keys, _gumbel_top_k(heavy, need, keys, cdf, rng)])
    keys = _top_up(keys, need, cdf, rng)
    users, movie_ids = keys // n_items, movies.rated_ids[keys % n_items].astype(np.int64)
    by_movie = np.sort(users * (len(movies.ids) + 1) + movie_ids)  # GroupLens order: user, then movie
    return by_movie // (len(movies.ids) + 1) + first, by_movie % (len(movies.ids) + 1)


def _gumbel_top_k(
    heavy: np.ndarray, need: np.ndarray, fixed: np.ndarray, cdf: np.ndarray, rng: np.random.Generator
) -> np.ndarray:
    """Exact popularity sampling without repeats (Efraimidis-Spirakis) for the `heavy` local users."""
    n_items = len(cdf)
    log_p = np.log(np.diff(cdf, prepend=0.0).clip(1e-300))
    fixed = np.sort(fixed)
    chosen = []
    for user in heavy.tolist():
        own = fixed[np.searchsorted(fixed, user * n_items) : np.searchsorted(fixed, (user + 1) * n_items)] % n_items
        scores = log_p + rng.gumbel(size=n_items)
        scores[own] = -np.inf
        k = int(need[user]) - len(own)
        best = np.argpartition(-scores, k - 1)[:k] if k > 0 else np.empty(0, np.int64)
        chosen.append(user * n_items + best.astype(np.int64))
    return np.concatenate(chosen)


def _top_up(keys: np.ndarray, need: np.ndarray, cdf: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Adds popularity draws until every local user has `need` distinct movies (keeps `keys`)."""
    n_items = len(cdf)
    collide = float(np.diff(cdf, prepend=0.0) @ np.diff(cdf, prepend=0.0))  # chance two draws repeat
    keys = _unique(keys)
    while True:
        deficit = need - np.bincount(keys // n_items, minlength=len(need))
        if not deficit.any():
            return keys
        extra = np.where(deficit > 0, deficit + np.ceil(deficit * (deficit + need) * collide).astype(np.int64) + 2, 0)
        users = np.repeat(np.arange(len(need), dtype=np.int64), extra)
        draws = users * n_items + np.searchsorted(cdf, rng.random(len(users)), side="right").clip(max=n_items - 1)
        draws = _unique(draws)
        fresh = draws[~_contains(keys, draws)]
        # keep a random `deficit` of each user's fresh draws
        fresh = fresh[rng.permutation(len(fresh))]
        fresh = fresh[np.argsort(fresh // n_items, kind="stable")]
        owners = fresh // n_items
        starts = np.searchsorted(owners, np.arange(len(need)))
        keep = np.arange(len(fresh)) - starts[owners] < deficit[owners]
        keys = np.sort(np.concatenate([keys, fresh[keep]]))


def _unique(values: np.ndarray) -> np.ndarray:
    """Sorted distinct values (sort-based: faster here than numpy's hash-based `np.unique`)."""
    values = np.sort(values)
    return values[np.concatenate([[True], values[1:] != values[:-1]])] if len(values) else values


def _contains(sorted_keys: np.ndarray, values: np.ndarray) -> np.ndarray:
    """Whether each of `values` is in `sorted_keys`."""
    at = np.searchsorted(sorted_keys, values).clip(max=max(len(sorted_keys) - 1, 0))
    return sorted_keys[at] == values if len(sorted_keys) else np.zeros(len(values), bool)


def _levels(score: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Half-star levels 0..9 (0.5..5.0) in ML-25M's shares, ordered by a latent score plus noise.

    The levels are cut at quantiles of the chunk's latent scores, so each chunk holds
    ML-25M's share of every level.
    """
    latent = score + 0.8 * rng.standard_normal(len(score))
    first_of_level = np.round(np.cumsum(_LEVEL_COUNTS)[:-1] / _LEVEL_COUNTS.sum() * len(latent)).astype(np.int64)
    first_of_level = first_of_level.clip(0, len(latent) - 1)
    cuts = np.partition(latent, first_of_level)[first_of_level]
    return np.searchsorted(cuts, latent, side="right").astype(np.int8)


def _chunk_table(users: np.ndarray, movie_ids: np.ndarray, levels: np.ndarray, times: np.ndarray) -> pa.Table:
    return pa.table(
        {
            "userId": pa.array(users + 1, pa.int32()),
            "movieId": pa.array(movie_ids, pa.int32()),
            "rating": pa.array(_LEVELS, pa.string()).take(pa.array(levels)),
            "timestamp": pa.array(times, pa.int64()),
        },
        schema=_SCHEMA,
    )
