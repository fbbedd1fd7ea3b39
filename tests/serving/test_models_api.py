"""Several models in one server: `/models/{name}/...` answers exactly what each model's library calls give.

All four kinds (popularity, EASE, ALS, the two-tower model1) are served together from the
session's model directories (two-block data: 40 users, 30 movies, 320 ratings). Each
answer under a model's prefix is compared, ids and scores, with `recommend`,
`recommend_history` and `similar_items` of that model loaded separately.
"""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pytest
from fastapi.testclient import TestClient

from movierec.records import EpochSearch
from movierec.serving.api import create_app
from movierec.serving.model_dir import load_model_dir

NAMES = {"pop": "popularity", "ease": "ease", "als": "als", "tt": "model1"}  # served name -> conftest kind


@pytest.fixture(scope="module")
def client(model_dirs):
    with TestClient(create_app({name: model_dirs[kind] for name, kind in NAMES.items()})) as test_client:
        yield test_client


@pytest.fixture(scope="module")
def models(model_dirs):
    return {name: load_model_dir(model_dirs[kind]) for name, kind in NAMES.items()}


def _ids_scores(body: dict) -> tuple[list[str], list[float]]:
    return [item["item_id"] for item in body["items"]], [item["score"] for item in body["items"]]


def _library(model, items: np.ndarray, scores: np.ndarray) -> tuple[list[str], list[float]]:
    valid = items[0] >= 0
    return list(model.vocab.item_ids[items[0][valid]]), scores[0][valid].tolist()


@pytest.mark.parametrize("name", list(NAMES))
@pytest.mark.parametrize(("user", "k", "include_seen"), [("u1", 5, False), ("u33", 30, False), ("u7", 30, True)])
def test_known_user_equals_library_recommend(client, models, name, user, k, include_seen):
    model = models[name]
    response = client.get(f"/models/{name}/users/{user}/recommendations", params={"k": k, "include_seen": include_seen})
    assert response.status_code == 200
    items, scores = model.recommender.recommend(model.vocab.user_index([user]), k, exclude_seen=not include_seen)
    assert _ids_scores(response.json()) == _library(model, items, scores)  # same ids, same float32 scores
    assert response.json()["user_id"] == user
    assert len(response.json()["items"]) == (30 if include_seen else min(k, 22))  # 8 of 30 seen


@pytest.mark.parametrize("name", list(NAMES))
@pytest.mark.parametrize("liked", [["m1"], ["m2", "m16", "m3"]])
def test_new_user_equals_library_recommend_history(client, models, name, liked):
    model = models[name]
    response = client.post(f"/models/{name}/recommendations", json={"liked": liked, "k": 6})
    assert response.status_code == 200
    items, scores = model.recommender.recommend_history([model.vocab.item_index(liked)], 6)
    assert _ids_scores(response.json()) == _library(model, items, scores)
    assert not {item["item_id"] for item in response.json()["items"]} & set(liked)
    assert response.json()["user_id"] is None


@pytest.mark.parametrize("name", list(NAMES))
def test_similar_equals_library_similar_items(client, models, name):
    model = models[name]
    for movie in ("m1", "m30"):
        response = client.get(f"/models/{name}/movies/{movie}/similar", params={"k": 4})
        assert response.status_code == 200
        items, scores = model.recommender.similar_items(model.vocab.item_index([movie]), 4)
        assert _ids_scores(response.json()) == _library(model, items, scores)
        assert response.json()["title"] == f"Movie {movie[1:]} ({1989 + int(movie[1:])})"


def test_kinds_differ_so_the_prefix_matters(client):
    answers = {name: _ids_scores(client.get(f"/models/{name}/users/u1/recommendations").json()) for name in NAMES}
    assert len({json.dumps(answer) for answer in answers.values()}) == len(NAMES)


def test_unprefixed_routes_serve_the_first_model(client):
    for path in ("/users/u5/recommendations?k=7", "/movies/m3/similar", "/items?query=movie 2"):
        assert client.get(path).json() == client.get("/models/pop" + path).json()
    body = {"liked": ["m4", "m20"], "k": 3}
    assert (
        client.post("/recommendations", json=body).json()
        == client.post("/models/pop/recommendations", json=body).json()
    )
    assert client.get("/health").json() == {"status": "ok", "model": "popularity", "users": 40, "items": 30}


def test_models_lists_every_model_from_its_model_json(client, model_dirs):
    response = client.get("/models")
    assert response.status_code == 200
    listing = response.json()
    assert [entry["name"] for entry in listing] == list(NAMES)
    assert [entry["default"] for entry in listing] == [True, False, False, False]
    assert [entry["kind"] for entry in listing] == ["popularity", "ease", "als", "two_tower"]
    assert [entry["model"] for entry in listing] == ["popularity", "ease", "als", "model1"]
    for entry in listing:
        meta = json.loads((model_dirs[NAMES[entry["name"]]] / "model.json").read_text())
        assert entry["config"] == meta["model"]
        assert entry["train"] == meta["train"]
        assert entry["data"] == {"dataset": meta["dataset"], "users": 40, "items": 30, "ratings": 320}
        assert entry["metrics"] is None  # trained with --epochs: no epoch search, and no test metrics are stored
    assert listing[3]["config"]["layer_sizes"] == [64, 32]


def test_metrics_are_the_recorded_epoch_search(models):
    model = models["tt"]
    record = {"chosen_epochs": 2, "validation_curve": {"val_ndcg_at_10": [0.25, 0.5, 0.375]}, "refit": False}
    recorded = model.meta
    model.meta = dataclasses.replace(recorded, epoch_search=EpochSearch.from_dict(record))
    try:
        assert model.describe()["metrics"] == record
    finally:
        model.meta = recorded
    assert model.describe()["metrics"] is None


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/models/nope/users/u1/recommendations"),
        ("POST", "/models/nope/recommendations"),
        ("GET", "/models/nope/movies/m1/similar"),
        ("GET", "/models/nope/items?query=movie"),
    ],
)
def test_unknown_model_is_404_naming_it(client, method, path):
    response = client.request(method, path, json={"liked": ["m1"]} if method == "POST" else None)
    assert response.status_code == 404
    assert response.json()["detail"] == "unknown model name 'nope'; serving 'pop', 'ease', 'als', 'tt'"


def test_errors_under_a_prefix_are_the_routes_errors(client):
    response = client.get("/models/ease/users/nobody/recommendations")
    assert response.status_code == 404 and response.json() == {"detail": "unknown user id 'nobody'"}
    response = client.get("/models/als/users/u1/recommendations", params={"k": 0})
    assert response.status_code == 422 and response.json()["detail"][0]["loc"] == ["query", "k"]
    response = client.post("/models/tt/recommendations", json={"liked": []})
    assert response.status_code == 422 and response.json()["detail"][0]["loc"] == ["body", "liked"]
    response = client.post("/models/tt/recommendations", json={"liked": ["m1", "m999"]})
    assert response.status_code == 404 and "unknown item id 'm999'" in response.json()["detail"]


def test_openapi_lists_the_served_names(client):
    paths = client.get("/openapi.json").json()["paths"]
    [name] = [p for p in paths["/models/{name}/users/{user_id}/recommendations"]["get"]["parameters"]
              if p["name"] == "name"]  # fmt: skip
    assert name["schema"]["enum"] == list(NAMES)
    assert {"200", "404", "422"} <= set(paths["/models/{name}/recommendations"]["post"]["responses"])
    assert "/models" in paths and "/models/{name}/items" in paths
