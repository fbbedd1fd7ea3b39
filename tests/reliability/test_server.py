"""Issue 21, items 5, 6 and 10: the HTTP server answers bad requests with 4xx, never a 500 or a traceback."""

from __future__ import annotations

import logging
import re

import pytest
from fastapi.testclient import TestClient

from movierec.serving.api import create_app

JSON = {"content-type": "application/json"}


@pytest.fixture(scope="module", params=[True, False], ids=["hot_path", "fastapi_only"])
def client(request, pop_model):
    with TestClient(create_app(pop_model, hot_path=request.param), raise_server_exceptions=False) as client:
        yield client


@pytest.mark.parametrize("body", [b'{"liked": ["m1"], "k": NaN}', b'{"liked": ["m1"], "k": 5, "x": -Infinity}'])
def test_nan_in_json_body_is_422_without_a_traceback(client, body, caplog):
    with caplog.at_level(logging.DEBUG):
        response = client.post("/recommendations", content=body, headers=JSON)
    assert response.status_code == 422
    assert response.json()["detail"][0]["type"] == "json_invalid"
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR or r.exc_info]


@pytest.mark.parametrize("k", ["5", 5.0, True], ids=["string", "float", "bool"])
def test_k_in_json_must_be_an_integer(client, k):
    response = client.post("/recommendations", json={"liked": ["m1"], "k": k})
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "k"]


@pytest.mark.parametrize("k", ["5.0", "+5", " 5"])
def test_k_in_the_query_must_be_written_in_digits(client, k):
    response = client.get("/users/u1/recommendations", params={"k": k})
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["query", "k"]
    assert client.get("/users/u1/recommendations", params={"k": "5"}).status_code == 200


@pytest.mark.parametrize("page", ["/docs", "/redoc"])
def test_docs_work_offline(client, page):
    response = client.get(page)
    assert response.status_code == 200
    html = response.text
    assert "http://" not in html and "https://" not in html  # no CDN, no web fonts: nothing leaves this server
    assets = re.findall(r'(?:src|href)="(/[^"]+)"', html)
    assert assets and all(asset.startswith("/docs/assets/") for asset in assets)
    for asset in assets:
        answer = client.get(asset)
        assert answer.status_code == 200 and len(answer.content) > 1000, asset
    assert "openapi.json" in html and client.get("/openapi.json").status_code == 200
