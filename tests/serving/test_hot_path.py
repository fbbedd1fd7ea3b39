"""`HotPath` answers exactly what the FastAPI routes answer, and leaves them everything else.

Two apps serve the same two models (popularity, then the two-tower model1): one with the hot
path, one without. Plain requests must be answered by the hot path itself, byte for byte as
FastAPI answers them; odd spellings, bad values and unknown ids must reach FastAPI, so both
apps give the same status and body.
"""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from movierec.serving.api import create_app
from movierec.serving.hot_path import HotPath

HOT_GETS = [
    "/users/u1/recommendations",
    "/users/u1/recommendations?k=3",
    "/users/u21/recommendations?k=30&include_seen=true",
    "/users/u2/recommendations?include_seen=0&k=007&other=x",
    "/users/u3/recommendations?k=4&k=2",  # the last value wins, as in FastAPI
    "/models/tt/users/u4/recommendations?k=5&include_seen=1",
    "/models/pop/users/u40/recommendations?include_seen=false",
    "/movies/m1/similar",
    "/movies/m16/similar?k=5&include_seen=nonsense",  # similar has no include_seen: ignored
    "/models/tt/movies/m30/similar?k=29",
]
COLD_GETS = [  # (url, status): FastAPI answers these
    ("/users/u1/recommendations?k=0", 422),
    ("/users/u1/recommendations?k=1001", 422),
    ("/users/u1/recommendations?k=", 422),
    ("/users/u1/recommendations?k=ten", 422),
    ("/users/u1/recommendations?k=1.0", 422),  # k is written in digits (pydantic alone would read 1)
    ("/users/u1/recommendations?k=3&k=x", 422),
    ("/users/u1/recommendations?%6B=0", 422),  # an encoded `k`
    ("/users/u1/recommendations?include_seen=maybe", 422),
    ("/users/u1/recommendations?include_seen=YES", 200),  # pydantic's spelling, FastAPI's answer
    ("/users/nobody/recommendations", 404),
    ("/users//recommendations", 404),
    ("/models/nope/users/u1/recommendations", 404),
    ("/models/tt/users/nobody/recommendations", 404),
    ("/movies/m999/similar", 404),
    ("/movies/m1/similar?k=-1", 422),
    ("/models/tt", 404),
    ("/models/tt/health", 404),
    ("/health", 200),  # a FastAPI route
]
HOT_POSTS = [
    ("/recommendations", b'{"liked": ["m1"]}'),
    ("/recommendations", b'{"liked": ["m1", "m2", "m1"], "k": 5, "extra": 1}'),
    ("/models/tt/recommendations", b'{"k": 30, "liked": ["m16"]}'),
]
COLD_POSTS = [  # (url, body, status with a JSON content type; FastAPI reads no other body as JSON)
    ("/recommendations", b'{"liked": ["m1"], "k": 0}', 422),
    ("/recommendations", b'{"liked": ["m1"], "k": "5"}', 422),  # k is strictly a JSON integer
    ("/recommendations", b'{"liked": ["m1"], "k": 5.0}', 422),
    ("/recommendations", b'{"liked": ["m1"], "k": true}', 422),
    ("/recommendations", b'{"liked": ["m1"], "k": NaN}', 422),  # not JSON
    ("/recommendations", b'{"liked": []}', 422),
    ("/recommendations", b'{"liked": "m1"}', 422),
    ("/recommendations", b'{"liked": [1]}', 422),
    ("/recommendations", b'{"liked": ["m1"', 422),
    ("/recommendations", b"[]", 422),
    ("/recommendations", b'{"liked": ["m999"]}', 404),
    ("/models/nope/recommendations", b'{"liked": ["m1"]}', 404),
]


@pytest.fixture(scope="module")
def clients(model_dirs):
    models = {"pop": model_dirs["popularity"], "tt": model_dirs["model1"]}
    with TestClient(create_app(models)) as hot, TestClient(create_app(models, hot_path=False)) as plain:
        yield hot, plain


@pytest.fixture(scope="module")
def hot_path(clients):
    _, plain = clients
    return HotPath(None, plain.app.state.engines, "pop")


@pytest.mark.parametrize("url", HOT_GETS)
def test_hot_gets_are_answered_as_fastapi_answers(clients, hot_path, url):
    hot, plain = clients
    expected = plain.get(url)
    assert expected.status_code == 200
    path, _, query = url.partition("?")
    assert hot_path.answer_get(path, query.encode()) == expected.content  # answered by the hot path itself
    response = hot.get(url)
    assert (response.status_code, response.content) == (200, expected.content)
    assert response.headers["content-type"] == "application/json"
    assert response.headers["content-length"] == str(len(expected.content))


@pytest.mark.parametrize(("url", "status"), COLD_GETS)
def test_other_gets_reach_fastapi(clients, hot_path, url, status):
    hot, plain = clients
    path, _, query = url.partition("?")
    assert hot_path.answer_get(path, query.encode()) is None
    response, expected = hot.get(url), plain.get(url)
    assert (response.status_code, response.content) == (expected.status_code, expected.content)
    assert response.status_code == status


@pytest.mark.parametrize(("url", "body"), HOT_POSTS)
def test_hot_posts_are_answered_as_fastapi_answers(clients, hot_path, url, body):
    hot, plain = clients
    headers = {"content-type": "application/json"}
    expected = plain.post(url, content=body, headers=headers)
    assert expected.status_code == 200
    assert hot_path.answer_post(url, body) == expected.content  # answered by the hot path itself
    response = hot.post(url, content=body, headers=headers)
    assert (response.status_code, response.content) == (200, expected.content)


@pytest.mark.parametrize(("url", "body", "status"), COLD_POSTS)
@pytest.mark.parametrize("content_type", ["application/json", "application/json; charset=utf-8", None])
def test_other_posts_reach_fastapi(clients, url, body, status, content_type):
    hot, plain = clients
    headers = {"content-type": content_type} if content_type else {}
    response, expected = hot.post(url, content=body, headers=headers), plain.post(url, content=body, headers=headers)
    assert (response.status_code, response.content) == (expected.status_code, expected.content)
    assert response.status_code == (status if content_type else 422)


def test_a_body_that_is_not_declared_json_reaches_fastapi(clients):
    hot, plain = clients
    body, headers = b'{"liked": ["m1"]}', {"content-type": "text/plain"}
    response, expected = (
        hot.post("/recommendations", content=body, headers=headers),
        plain.post("/recommendations", content=body, headers=headers),
    )
    assert (response.status_code, response.content) == (expected.status_code, expected.content)
    assert response.status_code == 422
