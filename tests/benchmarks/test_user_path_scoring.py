"""The scorer of `benchmarks/user_path.py` on hand-worked cases (it is kept apart from movierec.evaluation)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "benchmarks" / "user_path.py"
spec = importlib.util.spec_from_file_location("user_path", SCRIPT)
user_path = importlib.util.module_from_spec(spec)
spec.loader.exec_module(user_path)


def recs_frame(lists: dict[str, list[str]]) -> pd.DataFrame:
    rows = [(user, rank, item) for user, items in lists.items() for rank, item in enumerate(items, start=1)]
    frame = pd.DataFrame(rows, columns=["user_id", "rank", "item_id"])
    return frame.iloc[::-1].reset_index(drop=True)  # reversed: positions must come from `rank`, not row order


def held_out(pairs: list[tuple[str, str]]) -> pd.DataFrame:
    return pd.DataFrame(pairs, columns=["user_id", "item_id"])


def test_score_users_hand_worked() -> None:
    fillers = [f"f{i}" for i in range(20)]
    recs = recs_frame(
        {
            "a": ["C", "A", "D", "B", *fillers[:6]],  # hits at positions 2 and 4
            "b": fillers[:10],  # no hit
            "e": [*fillers[:10], "X"],  # X is 11th: outside the top 10
            "f": [f"r{i}" for i in range(10)],  # 12 relevant, all 10 shown are relevant
        }
    )
    test = held_out(
        [("a", "A"), ("a", "B"), ("b", "Z"), ("c", "Y"), ("d", "W"), ("e", "X")] + [("f", f"r{i}") for i in range(12)]
    )
    scores = user_path.score_users(recs, test, known_users={"a", "b", "c", "e", "f"})  # "d" is unknown
    assert scores.index.tolist() == ["a", "b", "c", "e", "f"]
    # a: DCG = 1/log2(3) + 1/log2(5) = 0.63093 + 0.43068 = 1.06161; IDCG (2 relevant) = 1 + 1/log2(3) = 1.63093
    expected_a = (1 / np.log2(3) + 1 / np.log2(5)) / (1 + 1 / np.log2(3))
    assert scores.loc["a", "ndcg@10"] == pytest.approx(expected_a)
    assert expected_a == pytest.approx(0.650921, abs=1e-6)
    # f: IDCG is over min(12, 10) positions, so a top 10 of relevant items is perfect
    assert scores.loc["f", "ndcg@10"] == pytest.approx(1.0)
    # b: no hit; c: no recommendations at all; e: the hit is ranked 11th
    assert scores["ndcg@10"].tolist()[1:4] == [0.0, 0.0, 0.0]
    assert scores["hr@10"].tolist() == [1.0, 0.0, 0.0, 0.0, 1.0]


def test_paired_difference_and_standard_error() -> None:
    reference = pd.Series([1.0, 0.0, 1.0], index=["u1", "u2", "u3"])
    other = pd.Series([0.0, 0.0, 0.0], index=["u3", "u2", "u1"])  # aligned by user, not position
    result = user_path.paired(reference, other)
    # differences 1, 0, 1: mean 2/3; std(ddof=1) = sqrt(((1/3)^2 * 2 + (2/3)^2) / 2) = sqrt(1/3); SE = 1/3
    assert result["n"] == 3
    assert result["mean"] == pytest.approx(2 / 3)
    assert result["se"] == pytest.approx(1 / 3)
    assert result["se_ratio"] == pytest.approx(2.0)


def test_parse_models_names_presets_and_config_files() -> None:
    names, configs = user_path.parse_models(" default, ease ,mine=cfg/mine.toml,,als")
    assert names == ["default", "ease", "mine", "als"]
    assert configs == {"mine": "cfg/mine.toml"}
    assert user_path.model_flags("default", configs) == []
    assert user_path.model_flags("ease", configs) == ["--preset", "ease"]
    assert user_path.model_flags("mine", configs) == ["--config", str(Path("cfg/mine.toml").resolve())]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("default,ease,default", "distinct names"),
        ("ease,ease=x.toml", "distinct names"),
        ("mine=x.json", "NAME=FILE.toml"),
        ("=x.toml", "NAME=FILE.toml"),
        ("default=x.toml", "NAME=FILE.toml"),
        (" , ", "names no model"),
        ("../up=x.toml", "letters, digits"),
        ("a b", "letters, digits"),
    ],
)
def test_parse_models_refuses_bad_lists(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        user_path.parse_models(text)
