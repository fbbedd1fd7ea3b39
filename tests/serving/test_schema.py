"""Schemathesis against /openapi.json: generated requests (bounded) never get a 5xx or an off-schema answer.

Runs in-process over ASGI on one app serving a popularity and a two-tower model directory
(each of them first, in turn: the unprefixed routes serve the first). Every default
check of schemathesis runs on each response (no server error, status code and content type
documented, body matching its schema, ...); examples per operation are bounded, so the test
takes seconds.

JSON Schema cannot tell 5.0 from 5, but the API documents `k` as an integer written as one (a JSON integer
in a body, digits in a query: `5.0` is a 422), so a generated integral float `k` is sent as the integer.
"""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from threadpoolctl import threadpool_info, threadpool_limits

from movierec.serving.api import create_app

MAX_EXAMPLES = 40  # per operation


@pytest.fixture(autouse=True)
def end_the_asgi_event_loop_thread():
    """Ends, with the test, the thread in which schemathesis runs the apps (it would live until exit).

    The app's lifespan sets one BLAS thread from that thread, and while a thread that set OpenBLAS's
    thread count is alive (0.3.30 and 0.3.31 here), other threads' settings read back as its own:
    `threadpool_limits(1)` around EASE's Cholesky factorisation then ran it on every core
    (tests/baselines/test_ease.py failed after this module). `_shutdown` is what schemathesis
    registers with `atexit`: the lifespans end, then the thread.
    """
    yield
    from schemathesis.python import asgi

    shutdown = getattr(asgi, "_shutdown", None)
    assert callable(shutdown), "schemathesis.python.asgi._shutdown is gone: find how it now ends its portal thread"
    shutdown()
    with threadpool_limits(1, user_api="blas"):  # this process's BLAS limit works again
        assert {info["num_threads"] for info in threadpool_info() if info["user_api"] == "blas"} == {1}


@pytest.mark.parametrize("first", ["popularity", "model1"])
def test_api_conforms_to_its_schema(first, model_dirs):
    names = [first, *({"popularity", "model1"} - {first})]
    schema = schemathesis.openapi.from_asgi("/openapi.json", create_app({name: model_dirs[name] for name in names}))
    operations = [result.ok() for result in schema.get_all_operations()]
    assert {op.label for op in operations} == {
        "GET /health", "GET /users/{user_id}/recommendations", "POST /recommendations",
        "GET /movies/{movie_id}/similar", "GET /items", "GET /models",
        "GET /models/{name}/users/{user_id}/recommendations", "POST /models/{name}/recommendations",
        "GET /models/{name}/movies/{movie_id}/similar", "GET /models/{name}/items",
    }  # fmt: skip
    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(max_examples=MAX_EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck), database=None)
        def check(case):
            for values in (case.body, case.query):
                if isinstance(values, dict) and isinstance(values.get("k"), float) and values["k"].is_integer():
                    values["k"] = int(values["k"])
            response = case.call_and_validate()
            assert response.status_code < 500, (case.path, response.text)

        check()
