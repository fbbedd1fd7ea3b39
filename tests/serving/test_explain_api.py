"""`explain` through the HTTP API, for every kind's exported model directory (two-block data, trained via the CLI).

Each explained answer must equal the library's `explain` on the same directory loaded separately, name
only movies of the user's history (or the liked movies), leave the list itself unchanged, and be the
same through the hot path and through FastAPI. Off by default: an answer without `explain` has no
`because`, `explanation` or `history`.
"""

from __future__ import annotations

import numpy as np
import pytest
from fastapi.testclient import TestClient

from movierec.recommender import Recommender
from movierec.serving.api import create_app
from movierec.serving.model_dir import load_model_dir

KINDS = ("popularity", "ease", "als", "model1", "auto", "sequential", "default")  # conftest's model directories
METHOD = {
    "popularity": "popularity", "ease": "exact", "als": "exact", "model1": "similarity", "auto": "similarity",
    "sequential": "leave_one_out",
}  # fmt: skip


@pytest.fixture(scope="module")
def apps(model_dirs):
    """kind -> (hot-path client, FastAPI-only client, the directory loaded by the library)."""
    opened = {}
    for kind in KINDS:
        hot = TestClient(create_app(model_dirs[kind])).__enter__()
        plain = TestClient(create_app(model_dirs[kind], hot_path=False)).__enter__()
        opened[kind] = (hot, plain, load_model_dir(model_dirs[kind]))
    yield opened
    for hot, plain, _ in opened.values():
        hot.__exit__(None, None, None)
        plain.__exit__(None, None, None)


def _reasons(model, because, row: int = 0) -> list[list[dict]]:
    ids, titles = model.vocab.item_ids, model.items["title"].tolist()
    return [[{"item_id": ids[j], "title": titles[j], "weight": w} for j, w in slot] for slot in because.row(row)]


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("user", ["u1", "u33"])
def test_known_user_explained_as_the_library_explains(apps, kind, user, block_data):
    hot, plain, model = apps[kind]
    plain_body = hot.get(f"/users/{user}/recommendations?k=5").json()
    body = hot.get(f"/users/{user}/recommendations?k=5&explain=true").json()
    assert set(plain_body) == {"user_id", "items"} and all("because" not in item for item in plain_body["items"])
    assert [{key: item[key] for key in plain_body["items"][0]} for item in body["items"]] == plain_body["items"]
    index = int(model.vocab.user_index([user])[0])
    slots = np.array([[model.vocab.item_index([item["item_id"]])[0] for item in body["items"]]])
    because = model.recommender.explain(np.array([index]), slots, top=3)
    popular = bool(because.popular[0])
    expected = METHOD.get(kind, model.recommender.explanation_method)
    assert body["explanation"] == ("popularity" if popular else expected)
    for item, reasons in zip(body["items"], _reasons(model, because), strict=True):
        assert [r["item_id"] for r in item["because"]] == [r["item_id"] for r in reasons]
        np.testing.assert_allclose([r["weight"] for r in item["because"]], [r["weight"] for r in reasons], rtol=1e-4)
        assert {r["item_id"] for r in item["because"]} <= block_data.seen(user)  # only the user's own movies
    assert {h["item_id"] for h in body["history"]} <= block_data.seen(user) and body["history"]
    if kind != "popularity":
        assert body["items"][0]["because"], "a personal model names a reason for its first movie"
    assert plain.get(f"/users/{user}/recommendations?k=5&explain=true").json() == body  # FastAPI answers the same


@pytest.mark.parametrize("kind", KINDS)
def test_new_user_explained_from_the_liked_movies(apps, kind):
    hot, plain, model = apps[kind]
    request = {"liked": ["m1", "m2", "m3"], "k": 4, "explain": True}
    body = hot.post("/recommendations", json=request).json()
    assert body == plain.post("/recommendations", json=request).json()
    assert body["history"] == [
        {"item_id": i, "title": model.items["title"][int(i[1:]) - 1]} for i in ("m3", "m2", "m1")
    ]
    for item in body["items"]:
        assert {r["item_id"] for r in item["because"]} <= {"m1", "m2", "m3"}
        assert [r["weight"] for r in item["because"]] == sorted((r["weight"] for r in item["because"]), reverse=True)
    off = hot.post("/recommendations", json={"liked": ["m1", "m2", "m3"], "k": 4}).json()
    assert set(off) == {"user_id", "items"} and [i["item_id"] for i in off["items"]] == [
        i["item_id"] for i in body["items"]
    ]


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("GET", "/users/u1/recommendations?explain=maybe", None),
        ("POST", "/recommendations", {"liked": ["m1"], "explain": "yes"}),
        ("POST", "/recommendations", {"liked": ["m1"], "explain": 1}),
    ],
)
def test_a_bad_explain_value_is_422(apps, method, path, body):
    hot, _, _ = apps["ease"]
    response = hot.request(method, path, json=body)
    assert response.status_code == 422 and "explain" in response.text


def test_a_kind_that_cannot_explain_answers_400_in_one_line(apps, monkeypatch):
    hot, _, model = apps["ease"]
    engine_recommender = hot.app.state.engine.recommender
    monkeypatch.setattr(type(engine_recommender), "explanation_method", Recommender.explanation_method)
    response = hot.get("/users/u1/recommendations?k=3&explain=true")
    assert response.status_code == 400
    assert "cannot say why it recommends" in response.json()["detail"]
    assert hot.get("/users/u1/recommendations?k=3").status_code == 200  # without explain it still serves


def test_openapi_documents_explain(apps):
    hot, _, _ = apps["ease"]
    schema = hot.get("/openapi.json").json()
    params = schema["paths"]["/users/{user_id}/recommendations"]["get"]["parameters"]
    assert any(p["name"] == "explain" and p["schema"]["default"] is False for p in params)
    components = schema["components"]["schemas"]
    assert "explain" in components["NewUserRequest"]["properties"]
    assert (
        "because" in components["RankedItem"]["properties"] and "history" in components["Recommendations"]["properties"]
    )
