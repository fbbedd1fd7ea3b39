"""Model directories: a corrupt or inconsistent one is refused in one line; `--out` never deletes other files.

Each corruption is made on a copy of a freshly trained directory, then loaded through
`recommend`, `evaluate` and `serve` as a user would: exit code 2 and one error line, never
a traceback or a server answering 500.
"""

from __future__ import annotations

import argparse
import errno
import json
import shutil

import numpy as np
import pytest
import uvicorn

from movierec.cli import serve
from movierec.cli.main import main
from movierec.errors import ConfigError, ModelDirError
from movierec.serving import check_model_out, load_model_dir
from movierec.serving.api import MODEL_ENV
from movierec.serving.model_dir import MANIFEST


def _truncate(path, keep: float = 0.5) -> None:
    data = path.read_bytes()
    path.write_bytes(data[: int(len(data) * keep)])


def _randomise(path) -> None:
    path.write_bytes(np.random.default_rng(0).bytes(path.stat().st_size))


def _resign(folder) -> None:
    """Rewrites the manifest after a change, so only the consistency checks can catch it."""
    from movierec._io import file_sha256
    from movierec._trust import SIGNATURE, signature

    files = {
        p.relative_to(folder).as_posix(): {"bytes": p.stat().st_size, "sha256": file_sha256(p)}
        for p in sorted(folder.rglob("*"))
        if p.is_file() and p.name not in (MANIFEST, SIGNATURE)
    }
    manifest = json.dumps({"files": files}).encode()
    (folder / MANIFEST).write_bytes(manifest)
    (folder / SIGNATURE).write_text(signature(manifest))  # with this user's key: only the other checks can fail


def _drop_last_item_row(folder) -> None:
    lines = (folder / "items.csv").read_text().splitlines()
    (folder / "items.csv").write_text("\n".join(lines[:-1]) + "\n")
    _resign(folder)


def _drop_last_user(folder) -> None:
    vocab = json.loads((folder / "vocab.json").read_text())
    vocab["user_ids"] = vocab["user_ids"][:-1]
    (folder / "vocab.json").write_text(json.dumps(vocab))
    _resign(folder)


def _model_json_list(folder) -> None:
    (folder / "model.json").write_text("[1, 2]")


CORRUPTIONS = {
    "truncated saved_model.pb": (lambda f: _truncate(f / "recommender/saved_model/saved_model.pb"), "saved_model.pb"),
    "truncated variables": (
        lambda f: _truncate(next((f / "recommender/saved_model/variables").glob("*.data-*"))),
        "variables",
    ),
    "random variables": (
        lambda f: _randomise(next((f / "recommender/saved_model/variables").glob("*.data-*"))),
        "checksum",
    ),
    "truncated seen.npz": (lambda f: _truncate(f / "recommender/seen.npz"), "seen.npz"),
    "missing vocab.json": (lambda f: (f / "vocab.json").unlink(), "vocab.json is missing"),
    "model.json is a list": (_model_json_list, "model.json is not a JSON object"),
    "items.csv one row short": (_drop_last_item_row, "items.csv rows = 29"),
    "vocab.json one user short": (_drop_last_user, "vocab.json users = 39"),
    "truncated seen.npz, manifest rewritten": (
        lambda f: (_truncate(f / "recommender/seen.npz"), _resign(f)),
        "recommender is",
    ),
}


@pytest.fixture(params=sorted(CORRUPTIONS))
def corrupt(request, model_dirs, tmp_path):
    """`(folder, phrase)`: a corrupted copy of the model1 directory and the phrase its error must hold."""
    make, phrase = CORRUPTIONS[request.param]
    folder = tmp_path / "M"
    shutil.copytree(model_dirs["model1"], folder)
    make(folder)
    return folder, phrase


def _one_line(err: str, phrase: str) -> None:
    assert "Traceback" not in err
    lines = err.strip().splitlines()
    assert len(lines) == 1, lines
    assert "error:" in lines[0] and phrase in lines[0], lines[0]


def test_corrupt_model_dir_is_one_line_everywhere(corrupt, model_dirs, capsys, monkeypatch):
    folder, phrase = corrupt
    assert main(["recommend", "--model", str(folder), "--user", "u1"]) == 2
    _one_line(capsys.readouterr().err, phrase)
    ratings = model_dirs["model1"].parent / "r.csv"
    assert main(["evaluate", "--model", str(folder), "--test", str(ratings)]) == 2
    _one_line(capsys.readouterr().err, phrase)
    started = []
    monkeypatch.setattr(uvicorn, "run", lambda *a, **kw: started.append(a))
    assert main(["serve", "--model", str(folder)]) == 2
    _one_line(capsys.readouterr().err, phrase)
    assert started == []  # never serves a model it could not check


def test_every_kind_loads_and_verifies(model_dirs):
    for preset, folder in model_dirs.items():
        model = load_model_dir(folder)
        assert model.recommender.n_items == len(model.items) == 30, preset


# ----------------------------------------------------------------------------- where a model may be written


def test_out_refuses_a_folder_with_other_files(tmp_path, block_data, capsys):
    victim = tmp_path / "x" / "victim"
    victim.mkdir(parents=True)
    (victim / "notes.txt").write_text("hi")
    block_data.ratings.to_csv(tmp_path / "r.csv", index=False)
    for out in (victim, tmp_path / "x", victim / ".."):
        code = main(["train", "--ratings", str(tmp_path / "r.csv"), "--preset", "popularity", "--out", str(out)])
        assert code == 2
        _one_line(capsys.readouterr().err, "holds other files, not a movierec model")
    assert (victim / "notes.txt").read_text() == "hi"
    assert sorted(p.name for p in (tmp_path / "x").iterdir()) == ["victim"]  # no .partial left behind


def test_out_replaces_only_a_model_and_an_empty_folder_is_fine(tmp_path, block_data):
    block_data.ratings.to_csv(tmp_path / "r.csv", index=False)
    (tmp_path / "M").mkdir()
    assert check_model_out(tmp_path / "M") is False  # empty
    train = ["train", "--ratings", str(tmp_path / "r.csv"), "--out", str(tmp_path / "M")]
    assert main([*train, "--preset", "popularity"]) == 0
    assert check_model_out(tmp_path / "M") is True  # a model: replaced
    assert main([*train, "--preset", "ease"]) == 0
    assert load_model_dir(tmp_path / "M").recommender.kind == "ease"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["M", "r.csv"]


@pytest.mark.parametrize(
    ("make", "phrase"),
    [
        ("file", "exists and is not a folder"),
        ("parent is a file", "is a file, not a folder"),
    ],
)
def test_out_checked_before_training(make, phrase, tmp_path, block_data, capsys, monkeypatch):
    block_data.ratings.to_csv(tmp_path / "r.csv", index=False)
    (tmp_path / "f").write_text("not a folder")
    out = tmp_path / "f" if make == "file" else tmp_path / "f" / "sub" / "M"
    import movierec.cli.train as train_module

    monkeypatch.setattr(train_module, "fit_final", lambda *a, **k: pytest.fail("trained before checking --out"))
    assert main(["train", "--ratings", str(tmp_path / "r.csv"), "--preset", "popularity", "--out", str(out)]) == 2
    _one_line(capsys.readouterr().err, phrase)
    assert (tmp_path / "f").read_text() == "not a folder"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["f", "r.csv"]


def test_full_disk_while_writing_is_one_line_and_keeps_the_old_model(tmp_path, block_data, capsys, monkeypatch):
    block_data.ratings.to_csv(tmp_path / "r.csv", index=False)
    train = ["train", "--ratings", str(tmp_path / "r.csv"), "--preset", "popularity", "--out", str(tmp_path / "M")]
    assert main(train) == 0
    from movierec.baselines.popularity import PopularityRecommender

    def full(self, directory):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(PopularityRecommender, "_save_state", full)
    assert main(train) == 2
    _one_line(capsys.readouterr().err, "No space left on device")
    assert load_model_dir(tmp_path / "M").recommender.kind == "popularity"  # the old model is intact
    assert sorted(p.name for p in tmp_path.iterdir()) == ["M", "r.csv"]


def test_check_model_out_refuses_a_file(tmp_path):
    (tmp_path / "f").write_text("x")
    with pytest.raises(ConfigError, match="exists and is not a folder"):
        check_model_out(tmp_path / "f")


def test_serve_with_workers_checks_the_model_first(tmp_path, model_dirs, monkeypatch):
    parser = argparse.ArgumentParser()
    serve.register(parser.add_subparsers())
    calls = []
    monkeypatch.setenv(MODEL_ENV, "")  # restored after the test: serve.run sets it for the workers
    monkeypatch.setattr(uvicorn, "run", lambda app, **options: calls.append((app, options)))
    with pytest.raises(ModelDirError, match="not found"):
        serve.run(parser.parse_args(["serve", "--model", str(tmp_path / "nope"), "--workers", "2"]))
    assert calls == []
    with pytest.raises(KeyboardInterrupt):  # uvicorn returned with no worker failure: stopped by a signal
        serve.run(parser.parse_args(["serve", "--model", str(model_dirs["popularity"]), "--workers", "2"]))
    [(app, options)] = calls
    assert app == "movierec.serving.api:app_from_environment" and options["factory"] and options["workers"] == 2
