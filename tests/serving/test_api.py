"""The HTTP API over model directories trained through the CLI (popularity and model1, 2 epochs).

Every answer is checked against `TrainedModel` loaded separately from the same folder:
the API must return exactly what `movierec recommend` would.
"""

from __future__ import annotations

import argparse

import pytest
import uvicorn
from fastapi.testclient import TestClient

from movierec.cli import serve
from movierec.cli.main import main
from movierec.errors import ModelDirError
from movierec.serving.api import create_app
from movierec.serving.model_dir import load_model_dir

N_USERS, N_ITEMS = 40, 30


@pytest.fixture(scope="module", params=["popularity", "model1"])
def served(request, model_dirs):
    """`(client, model, preset)`: a TestClient on the session's model dir and the same dir loaded directly."""
    with TestClient(create_app(model_dirs[request.param])) as client:
        yield client, load_model_dir(model_dirs[request.param]), request.param


def _expected(table) -> list[dict]:
    return [
        {"rank": int(r.rank), "item_id": r.item_id, "title": r.title, "score": float(r.score)}
        for r in table.itertuples(index=False)
    ]


def test_health(served):
    client, _, preset = served
    response = client.get("/health")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "model": preset, "users": N_USERS, "items": N_ITEMS}


@pytest.mark.parametrize("user", ["u1", "u33"])
def test_known_user_matches_trained_model(served, block_data, user):
    client, model, _ = served
    response = client.get(f"/users/{user}/recommendations", params={"k": 5})
    assert response.status_code == 200
    body = response.json()
    assert body["user_id"] == user
    assert [item["rank"] for item in body["items"]] == [1, 2, 3, 4, 5]
    assert not {item["item_id"] for item in body["items"]} & block_data.seen(user)
    assert body["items"] == _expected(model.recommend_users([user], 5))  # same ids, titles and scores, exactly
    titles = dict(zip(block_data.items.item_id, block_data.items.title))
    assert [item["title"] for item in body["items"]] == [titles[item["item_id"]] for item in body["items"]]


def test_default_k_is_ten(served):
    client, _, _ = served
    assert len(client.get("/users/u1/recommendations").json()["items"]) == 10


def test_include_seen(served, block_data):
    client, model, _ = served
    without = client.get("/users/u1/recommendations", params={"k": N_ITEMS}).json()["items"]
    assert {i["item_id"] for i in without} == set(block_data.item_block) - block_data.seen("u1")  # 22 of 30
    with_seen = client.get("/users/u1/recommendations", params={"k": N_ITEMS, "include_seen": "true"}).json()["items"]
    assert {i["item_id"] for i in with_seen} == set(block_data.item_block)
    assert with_seen == _expected(model.recommend_users(["u1"], N_ITEMS, include_seen=True))


def test_new_user_excludes_liked(served):
    client, model, _ = served
    response = client.post("/recommendations", json={"liked": ["m1", "m2"], "k": 5})
    assert response.status_code == 200
    items = response.json()["items"]
    assert [i["rank"] for i in items] == [1, 2, 3, 4, 5]
    assert not {i["item_id"] for i in items} & {"m1", "m2"}
    assert items == _expected(model.recommend_new_user(["m1", "m2"], 5))


def test_unknown_user_is_404(served):
    client, _, _ = served
    response = client.get("/users/nobody/recommendations")
    assert response.status_code == 404
    assert response.json() == {"detail": "unknown user id 'nobody'"}


def test_unknown_liked_item_is_404(served):
    client, _, _ = served
    response = client.post("/recommendations", json={"liked": ["m1", "m999"]})
    assert response.status_code == 404
    assert "unknown item id 'm999'" in response.json()["detail"]


@pytest.mark.parametrize("k", [0, -1, 1001, "ten"])
def test_bad_k_is_422(served, k):
    client, _, _ = served
    assert client.get("/users/u1/recommendations", params={"k": k}).status_code == 422
    response = client.post("/recommendations", json={"liked": ["m1"], "k": k})
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "k"]


def test_empty_liked_is_422(served):
    client, _, _ = served
    response = client.post("/recommendations", json={"liked": []})
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "liked"]


def test_item_search_is_case_insensitive(served):
    client, _, _ = served
    response = client.get("/items", params={"query": "movie 1 (", "limit": 20})
    assert response.status_code == 200
    assert response.json() == [{"item_id": "m1", "title": "Movie 1 (1990)", "genres": "Comedy|Romance"}]
    assert len(client.get("/items", params={"query": "MOVIE", "limit": 7}).json()) == 7
    assert client.get("/items", params={"query": "no such film"}).json() == []
    assert client.get("/items", params={"query": "movie", "limit": 0}).status_code == 422


def test_page_is_self_contained(served):
    client, _, _ = served
    response = client.get("/")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert "default-src 'self'" in response.headers["content-security-policy"]
    page = response.text
    assert "Known user" in page and "New user" in page
    assert "http://" not in page and "https://" not in page  # no CDN, no external requests


def test_serve_command_loads_the_model_then_runs_uvicorn(monkeypatch, tmp_path, block_data):
    block_data.ratings.to_csv(tmp_path / "r.csv", index=False)
    train = ["train", "--ratings", str(tmp_path / "r.csv"), "--preset", "popularity", "--out", str(tmp_path / "M")]
    assert main(train) == 0
    parser = argparse.ArgumentParser()
    serve.register(parser.add_subparsers())
    calls = []
    monkeypatch.setattr(uvicorn, "run", lambda app, **options: calls.append((app, options)))
    with pytest.raises(ModelDirError, match="model directory not found"):
        serve.run(parser.parse_args(["serve", "--model", str(tmp_path / "nope")]))
    assert calls == []  # a bad --model fails before any port is opened
    assert serve.run(parser.parse_args(["serve", "--model", str(tmp_path / "M"), "--port", "8123"])) == 0
    [(app, options)] = calls
    assert (options["host"], options["port"]) == ("127.0.0.1", 8123)
    assert TestClient(app).get("/health").json()["model"] == "popularity"
