"""The command-line defects of issue 9, each pinned by a test: liked ids, output paths, JSON, titles, OS errors."""

from __future__ import annotations

import json
import math

import pandas as pd
import pytest

import movierec.cli.evaluate as evaluate_module
from movierec.cli.evaluate import json_safe
from movierec.cli.main import main
from movierec.serving import load_model_dir

ODD = pd.DataFrame(
    [
        ("a/b", "x,y", 5.0, 1),
        ("a/b", "m/1", 4.0, 2),
        ("c", "x,y", 3.0, 3),
        ("c", "plain", 4.0, 4),
        ("d", "m/1", 2.0, 5),
        ("d", "plain", 5.0, 6),
    ],
    columns=["user_id", "item_id", "rating", "timestamp"],
)


@pytest.fixture(scope="module")
def odd_model(tmp_path_factory):
    """A popularity model whose ids hold '/' and ',' and whose movie 'plain' has an empty title."""
    folder = tmp_path_factory.mktemp("odd")
    ODD.to_csv(folder / "r.csv", index=False)
    pd.DataFrame(
        {"item_id": ["x,y", "m/1", "plain"], "title": ["Comma, The", "Slash (1999)", ""], "genres": ["", "", ""]}
    ).to_csv(folder / "i.csv", index=False)
    args = ["train", "--ratings", str(folder / "r.csv"), "--items", str(folder / "i.csv"),
            "--preset", "popularity", "--out", str(folder / "M")]  # fmt: skip
    assert main(args) == 0
    return folder / "M"


def _one_line(err: str, phrase: str) -> None:
    assert "Traceback" not in err
    lines = err.strip().splitlines()
    assert len(lines) == 1, lines
    assert "error:" in lines[0] and phrase in lines[0], lines[0]


@pytest.mark.parametrize("value", ["", " , ,"])
def test_empty_liked_is_an_error_not_a_user_named_none(value, odd_model, capsys):
    assert main(["recommend", "--model", str(odd_model), "--liked", value]) == 2
    _one_line(capsys.readouterr().err, "--liked needs at least one movie id")


def test_liked_repeated_and_from_a_file(odd_model, tmp_path, capsys):
    (tmp_path / "liked.txt").write_text("x,y\n\nm/1\n")
    assert main(["recommend", "--model", str(odd_model), "--liked-file", str(tmp_path / "liked.txt")]) == 0
    from_file = capsys.readouterr().out
    assert "[plain]" in from_file and "[x,y]" not in from_file and "[m/1]" not in from_file
    assert main(["recommend", "--model", str(odd_model), "--liked", "plain", "--liked", "m/1"]) == 0
    assert "[x,y]" in capsys.readouterr().out
    (tmp_path / "empty.txt").write_text("\n")
    assert main(["recommend", "--model", str(odd_model), "--liked-file", str(tmp_path / "empty.txt")]) == 2
    _one_line(capsys.readouterr().err, "names no movie id")


def test_empty_title_is_shown_as_untitled(odd_model, capsys):
    assert main(["recommend", "--model", str(odd_model), "--user", "a/b"]) == 0
    assert capsys.readouterr().out.strip() == "1. (untitled)  [plain]  score 2.0000"


def test_similar_command(odd_model, capsys):
    assert main(["similar", "--model", str(odd_model), "--movie", "x,y", "-k", "2"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    model = load_model_dir(odd_model)
    expected = model.similar_items("x,y", 2)
    assert [line.split("[")[1].split("]")[0] for line in lines] == expected.item_id.tolist()
    assert main(["similar", "--model", str(odd_model), "--movie", "nope"]) == 2
    _one_line(capsys.readouterr().err, "unknown item id 'nope'")


@pytest.mark.parametrize("command", ["recommend", "evaluate"])
def test_out_checked_before_loading(command, odd_model, tmp_path, capsys, monkeypatch):
    import movierec.cli.recommend as recommend_module

    for module in (recommend_module, evaluate_module):
        monkeypatch.setattr(module, "load_model_dir", lambda *a: pytest.fail("loaded the model before checking --out"))
    (tmp_path / "d").mkdir()
    (tmp_path / "f").write_text("")
    tail = ["--all-users"] if command == "recommend" else ["--test", str(odd_model.parent / "r.csv")]
    for out, phrase in [(tmp_path / "d", "is a folder"), (tmp_path / "f" / "x.csv", "is a file, not a folder")]:
        assert main([command, "--model", str(odd_model), *tail, "--out", str(out)]) == 2
        _one_line(capsys.readouterr().err, phrase)


def test_all_users_csv_round_trips_odd_ids(odd_model, tmp_path, capsys):
    out = ["--out", str(tmp_path / "o.csv")]
    assert main(["recommend", "--model", str(odd_model), "--all-users", "-k", "3", *out]) == 0
    assert "for 3 users" in capsys.readouterr().out
    recs = pd.read_csv(tmp_path / "o.csv", dtype={"user_id": str, "item_id": str})
    assert set(recs.user_id) == {"a/b", "c", "d"}
    assert set(recs.loc[recs.user_id == "a/b", "item_id"]) == {"plain"}


def test_evaluate_out_writes_null_for_nan(odd_model, tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(evaluate_module, "evaluate", lambda *a, **k: {"ndcg@10": float("nan"), "hr@10": 0.5})
    out = tmp_path / "m.json"
    test = ["--test", str(odd_model.parent / "r.csv")]
    assert main(["evaluate", "--model", str(odd_model), *test, "--out", str(out)]) == 0
    text = out.read_text()
    assert "NaN" not in text
    assert json.loads(text) == {"ndcg@10": None, "hr@10": 0.5, "dropped_rows": 0}
    assert json.loads(capsys.readouterr().out)["ndcg@10"] is None


def test_json_safe():
    assert json_safe({"a": math.inf, "b": -math.inf, "c": 0.123456789, "d": 3}, digits=3) == {
        "a": None, "b": None, "c": 0.123, "d": 3,
    }  # fmt: skip


def test_an_os_error_is_one_line(odd_model, capsys, monkeypatch):
    import movierec.cli.recommend as recommend_module

    def boom(*args, **kwargs):
        raise OSError(28, "No space left on device", "/full/disk/recs.csv")

    monkeypatch.setattr(recommend_module, "load_model_dir", boom)
    assert main(["recommend", "--model", str(odd_model), "--user", "c"]) == 1
    _one_line(capsys.readouterr().err, "No space left on device: /full/disk/recs.csv")
