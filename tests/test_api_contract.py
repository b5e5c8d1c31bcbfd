"""The HTTP contract: the OpenAPI document describes every answer, requests refuse unknown
fields, the committed contract files match the server, and the methods' defaults apply."""

from __future__ import annotations

import asyncio
import importlib.util
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest
from fastapi.datastructures import DefaultPlaceholder
from fastapi.routing import APIRoute

from embedding_projector.dataset.model import Workspace
from embedding_projector.projector import save_embeddings
from embedding_projector.server.app import create_app
from tests.server_process import client, running_server

REPO = Path(__file__).resolve().parents[1]
JSON = "application/json"


def _app() -> Any:
    return create_app(Workspace(root=REPO, runs=[]))


def _request(method: str, path: str, **kwargs: Any) -> httpx.Response:
    """One request to an app in this process (no workers: its lifespan is not run)."""

    async def send() -> httpx.Response:
        transport = httpx.ASGITransport(app=_app())
        async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as http:
            return await http.request(method, path, **kwargs)

    # A loop of its own, in a thread: Playwright's sync API may hold this thread's loop.
    with ThreadPoolExecutor(1) as thread:
        return thread.submit(asyncio.run, send()).result()


def _contract_script() -> Any:
    spec = importlib.util.spec_from_file_location("api_contract", REPO / "scripts/api_contract.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["api_contract"] = module
    spec.loader.exec_module(module)
    return module


def test_committed_contract_files_match_the_server() -> None:
    """The drift check: the page's types are generated from these files."""
    for path, text in _contract_script().contract_files().items():
        assert path.read_text(encoding="utf-8") == text, (
            f"{path.relative_to(REPO)} is out of date: run `make api-types` and commit it"
        )


def _operations() -> list[tuple[str, str, dict[str, Any]]]:
    paths = _app().openapi()["paths"]
    return [(method, path, op) for path, ops in paths.items() for method, op in ops.items()]


@pytest.mark.parametrize(("method", "path", "operation"), _operations())
def test_every_answer_is_described(method: str, path: str, operation: dict[str, Any]) -> None:
    responses = operation["responses"]
    content = responses["200"]["content"]
    if JSON in content:
        schema = content[JSON]["schema"]
        # A model (or a list of them): never FastAPI's empty schema of an untyped answer.
        assert schema.get("$ref") or schema.get("items") or schema.get("type"), (path, schema)
        assert schema != {}, path
    else:
        ((media_type, body),) = content.items()
        assert body["schema"] == {"type": "string", "format": "binary"}, path
        if media_type == "application/octet-stream":
            assert "X-Shape" in responses["200"]["headers"], path
    for errors in ("4XX", "5XX"):
        error = responses[errors]["content"][JSON]["schema"]
        assert error == {"$ref": "#/components/schemas/ErrorBody"}, (method, path)
    # FastAPI's own 422 body is never sent: validation errors are 400 ErrorBody.
    assert "422" not in responses, path


def _api_routes(routes: list[Any]) -> list[APIRoute]:
    """Every route, through the routers the app includes."""
    found = []
    for route in routes:
        if isinstance(route, APIRoute):
            found.append(route)
        elif hasattr(route, "original_router"):
            found += _api_routes(route.original_router.routes)
    return found


def test_every_json_route_has_a_response_model() -> None:
    routes = _api_routes(_app().routes)
    assert len(routes) >= 17
    for route in routes:
        # Only routes that chose another response class answer anything but JSON.
        binary = not isinstance(route.response_class, DefaultPlaceholder)
        assert binary or route.response_model is not None, route.path


def test_the_stream_frames_and_the_error_body_are_in_the_document() -> None:
    schemas = _app().openapi()["components"]["schemas"]
    for name in ("StatusFrame", "LayoutFrame", "ErrorFrame", "ErrorBody", "JobStatus"):
        assert name in schemas
    states = schemas["JobStatus"]["properties"]["state"]["enum"]
    assert set(states) == {"queued", "running", "cancelling", "done", "failed", "cancelled"}
    assert "job" not in schemas["JobStatus"]["properties"]  # `id`, as the server sends it
    assert "n_samples" not in schemas["JobStatus"]["properties"]


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        ("projections", {"method": "tsne", "perplexity": 5}, "`perplexity`"),
        ("projections", {"method": "tsne", "params": {"n_iters": 5}}, "`params.n_iters`"),
        ("projections", {"method": "pca", "params": {"perplexity": 5}}, "`params.perplexity`"),
        ("neighbors", {"indices": [1], "metrics": "cosine"}, "`metrics`"),
        ("custom-projection", {"left": {"text": "a", "regexp": True}}, "`left.regexp`"),
    ],
)
def test_unknown_fields_are_refused(path: str, body: dict[str, Any], field: str) -> None:
    response = _request("POST", f"/api/embeddings/e/{path}", json=body)
    assert response.status_code == 400, response.text
    error = response.json()["error"]
    assert error["code"] == "invalid_parameter"
    assert error["message"] == f"{field}: Extra inputs are not permitted"


def test_config_serves_the_methods_records() -> None:
    config = _request("GET", "/api/config").json()
    tsne = config["methods"]["tsne"]["params"]
    assert tsne["perplexity"]["default"] == 30
    assert tsne["perplexity"]["below_n"] == {"offset": -1, "divisor": 3}
    assert tsne["n_iter"] == {**tsne["n_iter"], "default": 750, "low": 1, "high": 100_000}
    assert config["methods"]["umap"]["params"]["n_neighbors"]["default"] == 15
    assert config["seed"] == 0
    assert config["sample"] == {"above": 1_000_000, "size": 100_000}
    assert config["cluster"] is False  # no Dask here (tests/test_server_dask.py: True)


def test_default_tsne_on_90_points(tmp_path: Path) -> None:
    """The API's defaults adapt to N as the page's do: no perplexity given → 29 here."""
    vectors = np.random.default_rng(0).standard_normal((90, 8)).astype(np.float32)
    save_embeddings(tmp_path / "logs", "small", vectors)
    with (
        running_server(str(tmp_path / "logs"), cache_dir=tmp_path / "cache") as server,
        client(server) as http,
    ):
        (embedding,) = http.get("/api/embeddings").json()
        url = f"/api/embeddings/{embedding['id']}/projections"
        started = http.post(url, json={"method": "tsne", "params": {"n_iter": 60}})
        assert started.status_code == 200, started.text
        assert _wait(http, started.json()["id"])["state"] == "done"
        layout = http.get(f"/api/jobs/{started.json()['id']}/result")
        assert layout.headers["X-Shape"] == "90,2"
        # Asking for the usual default explicitly is still judged against N.
        refused = http.post(url, json={"method": "tsne", "params": {"perplexity": 30}})
        assert refused.status_code == 400
        assert "(n_samples - 1) / 3 = 29.67" in refused.json()["error"]["message"]


def _wait(http: httpx.Client, job: str, timeout: float = 120) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        status: dict[str, Any] = http.get(f"/api/jobs/{job}").json()
        if status["state"] in ("done", "failed", "cancelled"):
            return status
        time.sleep(0.1)
    raise AssertionError(f"job {job} did not finish")
