"""Model folders: only those this installation signed load without --trust; manifests must verify something.

Issue 21, items 7 and 10: a crafted SavedModel ran code at load time of `movierec recommend` (its manifest
regenerated to match); a manifest of `{"files": {}}` verified nothing; a popularity `model.json` over an EASE
folder loaded as "popularity".
"""

from __future__ import annotations

import json
import os
import shutil
import stat
from pathlib import Path

import pytest
import uvicorn

from movierec._io import file_sha256
from movierec._trust import KEY_ENV, SIGNATURE, signature
from movierec.serving import model_dir


def _regenerate_manifest(folder, sign: bool = False) -> None:
    """What someone crafting a folder does: a manifest that matches its files (signed with this user's key if asked)."""
    files = {
        path.relative_to(folder).as_posix(): {"bytes": path.stat().st_size, "sha256": file_sha256(path)}
        for path in sorted(folder.rglob("*"))
        if path.is_file() and path.name not in ("manifest.json", SIGNATURE)
    }
    manifest = json.dumps({"files": files}).encode()
    (folder / "manifest.json").write_bytes(manifest)
    (folder / SIGNATURE).unlink(missing_ok=True)
    if sign:
        (folder / SIGNATURE).write_text(signature(manifest))


@pytest.fixture
def crafted(pop_model, tmp_path):
    """A copy of the popularity folder with a changed file and a regenerated manifest (no valid signature)."""
    folder = tmp_path / "crafted"
    shutil.copytree(pop_model, folder)
    (folder / "items.csv").write_text((folder / "items.csv").read_text().replace("Movie 1 ", "Movie one "))
    _regenerate_manifest(folder)
    return folder


def test_unsigned_folder_is_refused_by_every_command_before_it_loads(crafted, pop_model, run_cli, monkeypatch):
    loaded = []
    monkeypatch.setattr(model_dir, "load_recommender", lambda path: loaded.append(path))
    monkeypatch.setattr(uvicorn, "run", lambda *a, **kw: loaded.append("served"))
    test_csv = pop_model.parent / "r.csv"
    for command in (["recommend", "--user", "u1"], ["similar", "--movie", "m1"], ["evaluate", "--test", test_csv],
                    ["serve"], ["serve", "--workers", "2"]):  # fmt: skip
        code, out, err = run_cli(command[0], "--model", crafted, *command[1:])
        assert (code, out, len(err.splitlines())) == (2, "", 1), (command, err)
        assert err.startswith(f"movierec {command[0]}: error: {crafted} was not signed by this installation")
        assert "pass --trust if you trust where it came from" in err
    assert loaded == []  # nothing in the folder was run


def test_trust_loads_an_unsigned_folder(crafted, run_cli):
    code, out, err = run_cli("recommend", "--model", crafted, "--user", "u1", "-k", "1", "--trust")
    assert code == 0, err
    assert len(out.strip().splitlines()) >= 1


def test_folder_signed_with_another_users_key_is_refused(pop_model, tmp_path, run_cli, monkeypatch):
    assert run_cli("recommend", "--model", pop_model, "--user", "u1", "-k", "1")[0] == 0  # signed here: loads
    monkeypatch.setenv(KEY_ENV, str(tmp_path / "another-user" / "signing.key"))
    code, _, err = run_cli("recommend", "--model", pop_model, "--user", "u1", "-k", "1")
    assert code == 2 and "was not signed by this installation" in err


def test_signing_key_is_created_private(pop_model):
    key = os.environ[KEY_ENV]  # the session's key file (tests/conftest.py), made when pop_model was written
    assert stat.S_IMODE(os.stat(key).st_mode) == 0o600
    assert len(bytes.fromhex(Path(key).read_text().strip())) == 32  # 256 random bits


def test_processes_creating_the_key_at_once_all_sign_with_the_first_ones(tmp_path, monkeypatch):
    # 16 threads (one process: the same pid) create the key together; every signature is the one written key's
    import hashlib
    import hmac
    from concurrent.futures import ThreadPoolExecutor

    path = tmp_path / "race" / "signing.key"
    monkeypatch.setenv(KEY_ENV, str(path))
    with ThreadPoolExecutor(16) as pool:
        signed = list(pool.map(lambda _: signature(b"manifest"), range(16)))
    key = bytes.fromhex(path.read_text().strip())
    assert len(key) == 32
    assert set(signed) == {hmac.new(key, b"manifest", hashlib.sha256).hexdigest()}
    assert sorted(p.name for p in path.parent.iterdir()) == ["signing.key"]  # no temporary file left


def test_manifest_that_lists_no_files_is_refused(pop_model, tmp_path, run_cli):
    folder = tmp_path / "empty-manifest"
    shutil.copytree(pop_model, folder)
    manifest = b'{"files": {}}'
    (folder / "manifest.json").write_bytes(manifest)
    (folder / SIGNATURE).write_text(signature(manifest))  # even signed, and even with --trust
    code, out, err = run_cli("recommend", "--model", folder, "--user", "u1", "--trust")
    assert (code, out, err) == (2, "", f"movierec recommend: error: {folder}/manifest.json lists no files: it "
                                "verifies nothing\n")  # fmt: skip


def test_file_the_manifest_does_not_list_is_refused(pop_model, tmp_path, run_cli):
    folder = tmp_path / "extra"
    shutil.copytree(pop_model, folder)
    (folder / "recommender" / "extra.npz").write_bytes(b"x")
    code, _, err = run_cli("recommend", "--model", folder, "--user", "u1", "--trust")
    assert code == 2
    assert err == (f"movierec recommend: error: {folder} holds files its manifest.json does not list "
                   "(recommender/extra.npz): it was changed after it was written\n")  # fmt: skip


def test_popularity_model_json_over_an_ease_folder_is_refused(pop_model, tmp_path, run_cli):
    ease = tmp_path / "ease"
    ratings, items = pop_model.parent / "r.csv", pop_model.parent / "i.csv"
    assert run_cli("train", "--ratings", ratings, "--items", items, "--preset", "ease", "--out", ease)[0] == 0
    shutil.copy(pop_model / "model.json", ease / "model.json")
    _regenerate_manifest(ease, sign=True)  # signed: only the kind check can catch it
    code, out, err = run_cli("recommend", "--model", ease, "--user", "u1")
    assert (code, out) == (2, "")
    assert err == (f"movierec recommend: error: {ease} is inconsistent: model.json describes popularity model "
                   "'popularity', recommender/ holds ease model 'ease'\n")  # fmt: skip
