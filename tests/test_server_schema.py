"""Property-based requests generated from our own OpenAPI document: never a 5xx.

Schemathesis reads ``/api/openapi.json`` from a real server on the fixtures and sends a
bounded number of generated requests per operation, valid and invalid; every answer
must be a deliberate one (2xx or a JSON 4xx error), never a server error.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
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
