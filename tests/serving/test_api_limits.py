"""What a product needs from the API besides answers: limits, documented errors, any id reachable, HEAD, similar movies."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from fastapi.testclient import TestClient

from movierec.cli.main import main
from movierec.serving.api import MAX_LIKED, create_app
from movierec.serving.limits import MAX_BODY_BYTES


@pytest.fixture(scope="module", params=["popularity", "model1"])
def client(request, model_dirs):
    with TestClient(create_app(model_dirs[request.param])) as test_client:
        yield test_client


@pytest.fixture(scope="module")
def odd_client(tmp_path_factory):
    """Ids holding '/', '%', '?' and ','."""
    folder = tmp_path_factory.mktemp("odd-api")
    rows = [("a/b", "m/1", 5, 1), ("a/b", "x,y", 4, 2), ("50%?", "x,y", 3, 3), ("50%?", "z", 4, 4)]
    pd.DataFrame(rows, columns=["user_id", "item_id", "rating", "timestamp"]).to_csv(folder / "r.csv", index=False)
    assert (
        main(["train", "--ratings", str(folder / "r.csv"), "--preset", "popularity", "--out", str(folder / "M")]) == 0
    )
    with TestClient(create_app(folder / "M")) as test_client:
        yield test_client


def test_openapi_documents_every_error(client):
    paths = client.get("/openapi.json").json()["paths"]
    user = paths["/users/{user_id}/recommendations"]["get"]["responses"]
    assert {"200", "400", "404", "414", "422"} <= set(user)
    assert user["404"]["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/ErrorDetail"}
    assert {"200", "404", "413", "422"} <= set(paths["/recommendations"]["post"]["responses"])
    assert {"200", "404", "422"} <= set(paths["/movies/{movie_id}/similar"]["get"]["responses"])


def test_body_above_the_limit_is_413(client):
    liked = ["m" * 100] * (MAX_BODY_BYTES // 100)  # about 1.03 MB of JSON
    response = client.post("/recommendations", json={"liked": liked})
    assert response.status_code == 413
    assert response.json() == {"detail": f"request body larger than {MAX_BODY_BYTES:,} bytes"}

    def chunks():  # no Content-Length: the limit counts the streamed bytes
        yield b'{"liked": ["'
        for _ in range(200):
            yield b"m" * 10_000
        yield b'"]}'

    response = client.post("/recommendations", content=chunks(), headers={"content-type": "application/json"})
    assert response.status_code == 413


@pytest.mark.parametrize(
    ("body", "loc"),
    [
        ('{"liked": ["m1"', None),  # malformed JSON
        ("[]", None),
        ('{"liked": "m1"}', ["body", "liked"]),
        ('{"liked": ["m1"], "k": 1.5}', ["body", "k"]),
    ],
)
def test_malformed_bodies_are_422(client, body, loc):
    response = client.post("/recommendations", content=body, headers={"content-type": "application/json"})
    assert response.status_code == 422
    if loc:
        assert response.json()["detail"][0]["loc"] == loc


def test_liked_list_and_search_query_are_bounded(client):
    response = client.post("/recommendations", json={"liked": ["m1"] * (MAX_LIKED + 1)})
    assert response.status_code == 422 and response.json()["detail"][0]["loc"] == ["body", "liked"]
    assert client.get("/items", params={"query": "m" * 201}).status_code == 422
    assert client.get("/items", params={"query": "m" * 9000}).status_code == 414


def test_long_unknown_id_is_not_echoed_whole(client):
    response = client.get("/users/" + "x" * 5000 + "/recommendations")
    assert response.status_code == 404
    detail = response.json()["detail"]
    assert detail.startswith("unknown user id 'xxx") and "5,000 characters" in detail and len(detail) < 200
    assert client.get("/users/" + "x" * 20_000 + "/recommendations").status_code == 414


def test_head_health(client):
    response = client.head("/health")
    assert response.status_code == 200 and response.content == b""
    assert response.headers["content-type"] == "application/json"


def test_ids_with_slashes_and_percent_are_reachable(odd_client):
    response = odd_client.get("/users/a%2Fb/recommendations")
    assert response.status_code == 200, response.text
    assert response.json()["user_id"] == "a/b"
    assert [i["item_id"] for i in response.json()["items"]] == ["z"]
    response = odd_client.get("/users/50%25%3F/recommendations")
    assert response.status_code == 200 and response.json()["user_id"] == "50%?"
    assert odd_client.get("/movies/m%2F1/similar", params={"k": 5}).json()["item_id"] == "m/1"
    assert odd_client.post("/recommendations", json={"liked": ["x,y", "m/1"]}).json()["items"][0]["item_id"] == "z"


def test_similar_movies_match_the_library(client):
    app_engine = client.app.state.engine
    model = app_engine.model
    for item_id in ("m1", "m20"):
        response = client.get(f"/movies/{item_id}/similar", params={"k": 5})
        assert response.status_code == 200
        body = response.json()
        assert body["item_id"] == item_id and body["title"] == app_engine.titles[app_engine.item_index([item_id])[0]]
        items, scores = model.recommender.similar_items(model.vocab.item_index([item_id]), 5)
        assert [i["item_id"] for i in body["items"]] == list(model.vocab.item_ids[items[0]])
        np.testing.assert_array_equal([i["score"] for i in body["items"]], scores[0])
    assert client.get("/movies/nope/similar").status_code == 404
    assert client.get("/movies/m1/similar", params={"k": 0}).status_code == 422
