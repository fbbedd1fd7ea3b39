"""The route declarations (`movierec.serving.routes`) that FastAPI's endpoints and the hot path are both built from."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from hypothesis import given
from hypothesis import strategies as st

from movierec.serving.api import create_app
from movierec.serving.routes import INCLUDE_SEEN, ROUTES, K, new_user_body

RECOMMEND_USER = ROUTES[0]


@pytest.mark.parametrize(
    ("raw", "value"),
    [(b"1", 1), (b"007", 7), (b"1000", 1000), (b"0", None), (b"1001", None), (b"", None), (b"-1", None),
     (b"1.0", None), (b" 5", None), (b"9999999", None), (b"\xd9\xa3", None)],
)  # fmt: skip
def test_k_reads_plain_digits_within_bounds_only(raw, value):
    assert K.fast(raw) == value


@pytest.mark.parametrize(("raw", "value"), [(b"true", True), (b"0", False), (b"YES", None), (b"", None)])
def test_include_seen_reads_four_spellings_only(raw, value):
    assert INCLUDE_SEEN.fast(raw) == value


def test_read_query_known_answers():
    assert RECOMMEND_USER.read_query(b"") == {"k": 10, "include_seen": False, "explain": False}
    assert RECOMMEND_USER.read_query(b"k=3&other=x&k=5&include_seen=1") == {
        "k": 5,
        "include_seen": True,
        "explain": False,
    }
    assert RECOMMEND_USER.read_query(b"explain=true")["explain"] is True
    assert RECOMMEND_USER.read_query(b"explain=yes") is None  # FastAPI refuses it (422)
    assert RECOMMEND_USER.read_query(b"k=3&k=x") is None  # FastAPI reads (and refuses) it
    assert RECOMMEND_USER.read_query(b"%6B=0") is None  # an encoded key might be `k`


@given(st.binary(max_size=40))
def test_read_query_never_accepts_a_k_out_of_bounds(query):
    values = RECOMMEND_USER.read_query(query)
    assert values is None or (type(values["k"]) is int and 1 <= values["k"] <= 1000)


@pytest.mark.parametrize(
    ("body", "fields"),
    [({"liked": ["m1"]}, {"liked": ["m1"], "k": 10, "explain": False}),
     ({"liked": ["a"], "k": 3, "x": 1}, {"liked": ["a"], "k": 3, "explain": False}),
     ({"liked": ["a"], "explain": True}, {"liked": ["a"], "k": 10, "explain": True}), ({"liked": ["a"], "explain": 1}, None),
     ({"liked": []}, None), ({"liked": ["a"], "k": True}, None), ({"liked": ["a"], "k": 0}, None),
     ({"liked": [1]}, None), (["a"], None), ({"liked": "a"}, None)],
)  # fmt: skip
def test_new_user_body_reads_plain_bodies_only(body, fields):
    assert new_user_body(body) == fields


def test_every_route_is_served_unprefixed_and_per_model(model_dirs):
    with TestClient(create_app({"pop": model_dirs["popularity"]})) as client:
        paths = client.get("/openapi.json").json()["paths"]
    for route in ROUTES:
        for path in (route.path, "/models/{name}" + route.path):
            assert route.method.lower() in paths[path], path
