"""Numbers of thousands of digits in a request: a 4xx or the right answer, never a 500.

Python refuses to convert more than 4,300 digits to an int (``ValueError``); a ``Range``
header of 5,000 digits was a 500.
"""

from __future__ import annotations

import time
from collections.abc import Iterator

import httpx
import pytest

from tests.conftest import serving_copy
from tests.server_process import ServerProcess

HUGE = "9" * 5000


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    with serving_copy("tf2_keras_tutorial", tmp_path_factory.mktemp("server")) as s:
        yield s


@pytest.fixture(scope="module")
def emb(http: httpx.Client) -> str:
    emb_id: str = http.get("/api/embeddings").json()[0]["id"]
    return emb_id


def _vectors(http: httpx.Client, emb: str, range_header: str) -> httpx.Response:
    return http.get(f"/api/embeddings/{emb}/vectors", headers={"Range": range_header})


def _assert_healthy(http: httpx.Client) -> None:
    started = time.monotonic()
    assert http.get("/api/health").status_code == 200
    assert time.monotonic() - started < 1


def test_a_range_of_thousands_of_digits_is_416_or_the_whole_array(
    http: httpx.Client, emb: str
) -> None:
    whole = http.get(f"/api/embeddings/{emb}/vectors").content
    size = len(whole)

    beyond = _vectors(http, emb, f"bytes={HUGE}-")
    assert beyond.status_code == 416
    error = beyond.json()["error"]
    assert error["code"] == "range_not_satisfiable"
    assert f"is outside the {size} bytes" in error["message"]
    assert len(error["message"]) < 200  # the header is not echoed whole

    # A last position past the end means "to the end" (RFC 9110), however long it is.
    to_end = _vectors(http, emb, f"bytes=8-{HUGE}")
    assert to_end.status_code == 206
    assert to_end.headers["content-range"] == f"bytes 8-{size - 1}/{size}"
    assert to_end.content == whole[8:]
    suffix = _vectors(http, emb, f"bytes=-{HUGE}")
    assert suffix.status_code == 206 and suffix.content == whole
    padded = _vectors(http, emb, f"bytes={'0' * 5000}4-{'0' * 5000}7")
    assert padded.status_code == 206 and padded.content == whole[4:8]
    _assert_healthy(http)


@pytest.mark.parametrize(
    "query",
    [f"vectors?start={HUGE}", f"vectors?stop={HUGE}", f"neighbors?index={HUGE}",
     f"neighbors?index=1&k={HUGE}", f"neighbors?indices=1,{HUGE}", f"neighbors?indices=-{HUGE}"],
)  # fmt: skip
def test_long_numbers_in_the_query_are_400(http: httpx.Client, emb: str, query: str) -> None:
    response = http.get(f"/api/embeddings/{emb}/{query}")
    assert response.status_code == 400, response.text
    assert response.json()["error"]["code"] == "invalid_parameter"
    _assert_healthy(http)


def test_long_numbers_in_json_bodies_are_400(http: httpx.Client, emb: str) -> None:
    for path, body in [
        (f"/api/embeddings/{emb}/neighbors", f'{{"indices": [{HUGE}]}}'),
        (f"/api/embeddings/{emb}/neighbors", f'{{"vector": [{HUGE}], "k": 3}}'),
        (f"/api/embeddings/{emb}/projections", f'{{"method": "pca", "dims": {HUGE}}}'),
        (f"/api/embeddings/{emb}/projections", f'{{"method": "tsne", "seed": {HUGE}}}'),
    ]:
        response = http.post(path, content=body, headers={"Content-Type": "application/json"})
        assert response.status_code == 400, (body[:40], response.text)
        assert set(response.json()["error"]) == {"code", "message", "detail"}
    _assert_healthy(http)
