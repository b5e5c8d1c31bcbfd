"""Property-based requests generated from our own OpenAPI document: never a 5xx.

Schemathesis reads ``/api/openapi.json`` from a real server on the fixtures and sends a
bounded number of generated requests per operation, valid and invalid; every answer
must be a deliberate one (2xx or a JSON 4xx error), never a server error. What the
document cannot describe (raw bodies, the ``Range`` and ``Host`` headers) is generated
by hypothesis directly.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.conftest import FIXTURES, writable_copy
from tests.server_process import ServerProcess, running_server

#: Checks that each answer is one the document describes (not the checks of how precisely
#: it describes the requests it accepts).
DESCRIBED = [
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    logdir = writable_copy(FIXTURES / "tf2_two_embeddings_sprite", tmp_path_factory.mktemp("logs"))
    with running_server(str(logdir), cache_dir=tmp_path_factory.mktemp("cache")) as s:
        yield s


def test_no_server_errors(server: ServerProcess) -> None:
    schema = schemathesis.openapi.from_url(f"{server.base}/api/openapi.json")
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 15
    # Random ids would only ever meet 404s: the generated requests address real ones.
    with httpx.Client(base_url=server.base, timeout=60) as http:
        real = {"emb_id": http.get("/api/embeddings").json()[0]["id"]}
        job = http.post(f"/api/embeddings/{real['emb_id']}/projections", json={"method": "pca"})
        real["job_id"] = job.json()["id"]
    answered: Counter[int] = Counter()

    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(
            max_examples=25, deadline=None, database=None, suppress_health_check=list(HealthCheck)
        )
        def check(case: schemathesis.Case) -> None:
            for name in case.path_parameters or {}:
                if name in real:
                    case.path_parameters[name] = real[name]
            response = case.call(base_url=server.base, timeout=60)
            answered[response.status_code // 100] += 1
            where = f"{case.method} {case.formatted_path}"
            assert response.status_code < 500, (where, response.text[:500])
            if response.status_code >= 400:
                assert set(response.json()["error"]) == {"code", "message", "detail"}, where
            # The answer is the one the document describes: status, media type, schema.
            case.validate_response(response, checks=DESCRIBED)

        check()
    assert answered[2] > 50 and answered[4] > 50, answered  # both kinds really exercised


def _assert_deliberate(response: httpx.Response, where: str) -> None:
    assert response.status_code < 500, (where, response.text[:500])
    if response.status_code >= 400:
        assert set(response.json()["error"]) == {"code", "message", "detail"}, where


_digits = st.text("0123456789", min_size=0, max_size=6000)
# What h11 lets a client send as a header value: latin-1 without control characters.
_header_values = st.text(
    st.characters(codec="latin-1", exclude_categories=("Cc",)), max_size=40
).map(str.strip)
_ranges = _header_values | st.builds(lambda a, b: f"bytes={a}-{b}", _digits, _digits)
_json_texts = st.recursive(
    st.none() | st.booleans() | st.floats() | st.integers() | st.text(max_size=10),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=5), inner),
    max_leaves=20,
).map(repr)  # Python's repr: JSON-like text, often not JSON (NaN, inf, quotes, None)


@settings(max_examples=80, deadline=None, database=None, suppress_health_check=list(HealthCheck))
@given(
    selection=st.binary(max_size=64),
    bookmarks=st.one_of(st.binary(max_size=200), _json_texts.map(str.encode)),
    byte_range=_ranges,
    host=_header_values,
)
def test_raw_bodies_and_headers_never_5xx(
    server: ServerProcess, selection: bytes, bookmarks: bytes, byte_range: str, host: str
) -> None:
    with httpx.Client(base_url=server.base, timeout=60) as http:
        emb = http.get("/api/embeddings").json()[0]["id"]
        base = f"/api/embeddings/{emb}"
        _assert_deliberate(http.put(f"{base}/selection", content=selection), "selection")
        _assert_deliberate(http.put(f"{base}/bookmarks", content=bookmarks), "bookmarks")
        _assert_deliberate(http.get(f"{base}/bookmarks"), "bookmarks read back")
        ranged = http.get(f"{base}/vectors", headers={"Range": byte_range.encode("latin-1")})
        _assert_deliberate(ranged, f"Range {byte_range[:40]!r}")
        hosted = http.get("/api/health", headers={"Host": host.encode("latin-1")})
        assert hosted.status_code in (200, 400, 403), (host, hosted.text)
