"""Timeline jobs of a real server on the timeline fixtures, one checkpoint corrupt, one gone."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest
from scipy.spatial import procrustes
from websockets.sync.client import connect

from embedding_projector.compute.timeline import aligned_pca
from tests.compute.test_drift import brute_drift
from tests.server_process import ServerProcess
from tests.test_server_compute import layout, wait_done
from tests.test_steps import damaged_timeline, expected

WORDS = ("torch_add_embedding_steps", "words")
MANAGER = ("tf2_checkpoint_manager", "embedding")


@pytest.fixture(scope="module")
def logdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The timelines, with ckpt-5's data corrupt and ckpt-6 deleted (still in the state file)."""
    return damaged_timeline(tmp_path_factory.mktemp("logs"))


@pytest.fixture(scope="module")
def ids(http: httpx.Client) -> dict[tuple[str, str], str]:
    return {(e["run"], e["name"]): e["id"] for e in http.get("/api/embeddings").json()}


def start(http: httpx.Client, emb_id: str, route: str, **body: Any) -> dict[str, Any]:
    response = http.post(f"/api/embeddings/{emb_id}/{route}", json=body)
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


def step_result(http: httpx.Client, job: str, step: int) -> np.ndarray:
    response = http.get(f"/api/jobs/{job}/result", params={"step": step})
    assert response.status_code == 200, response.text
    n, d = map(int, response.headers["x-shape"].split(","))
    return np.frombuffer(response.content, "<f4").reshape(n, d)


def test_pca_timeline_leaves_out_the_bad_steps_and_aligns_the_others(
    http: httpx.Client, ids: dict[tuple[str, str], str]
) -> None:
    started = start(http, ids[MANAGER], "timeline", method="pca", dims=2)
    assert started["steps"] == [0, 1, 4]  # ckpt-3, ckpt-4, ckpt-7
    left_out = {gone["label"]: gone["message"] for gone in started["left_out"]}
    assert set(left_out) == {"ckpt-5", "ckpt-6"}
    assert "ckpt-5.data" in left_out["ckpt-5"] and "the file is corrupt" in left_out["ckpt-5"]
    assert "ckpt-6" in left_out["ckpt-6"]
    job = started["job"]["id"]
    status = wait_done(http, job)
    assert status["state"] == "done" and status["steps"] == 3 and status["steps_done"] == [0, 1, 2]
    steps = [expected("tf2_checkpoint_manager", f"ckpt-{n}") for n in (3, 4, 7)]
    truth = aligned_pca(steps, n_components=2).coordinates
    for s in range(3):
        np.testing.assert_allclose(step_result(http, job, s), truth[s], rtol=1e-3, atol=1e-4)
    components = {"components": [1, 2]}
    again = start(http, ids[MANAGER], "timeline", method="pca", dims=2, params=components)
    assert again["job"]["state"] == "done" and again["job"]["cached"]
    truth = aligned_pca(steps, n_components=3).coordinates
    np.testing.assert_allclose(
        step_result(http, again["job"]["id"], 2), truth[2][:, [1, 2]], rtol=1e-3, atol=1e-4
    )


def test_tsne_timeline_streams_every_step_then_comes_from_the_cache(
    server: ServerProcess, http: httpx.Client, ids: dict[tuple[str, str], str]
) -> None:
    body = {"method": "tsne", "dims": 2, "params": {"perplexity": 10, "n_iter": 200}}
    started = start(http, ids[WORDS], "timeline", **body)
    assert started["steps"] == [0, 1, 2, 3] and started["left_out"] == []
    job = started["job"]["id"]
    url = server.base.replace("http://", "ws://") + f"/api/jobs/{job}/stream"
    last_of_step: dict[int, np.ndarray] = {}
    states = []
    with connect(url, open_timeout=30) as ws:
        header = None
        for frame in ws:
            if isinstance(frame, bytes):
                assert header is not None
                last_of_step[header["step"]] = np.frombuffer(frame, "<f4").reshape(200, 2)
                header = None
                continue
            message = json.loads(frame)
            if message["type"] == "layout":
                assert message["shape"] == [200, 2] and message["step"] in range(4)
                header = message
            else:
                states.append((message["state"], tuple(message["steps_done"])))
    assert states[-1] == ("done", (0, 1, 2, 3))
    assert sorted(last_of_step) == [0, 1, 2, 3]
    finals = [step_result(http, job, s) for s in range(4)]
    for s in range(4):  # the stream ends each step with its result
        np.testing.assert_array_equal(last_of_step[s], finals[s])
    # Started from the previous step, the last step stays closer to it than a t-SNE of the
    # same vectors started afresh (the plain projection of the default step) does.
    plain = http.post(f"/api/embeddings/{ids[WORDS]}/projections", json=body).json()
    fresh = layout(http, wait_done(http, plain["id"])["id"])
    assert procrustes(finals[2], finals[3])[2] < 0.5 * procrustes(finals[2], fresh)[2]
    started_again = time.monotonic()
    again = start(http, ids[WORDS], "timeline", **body)
    assert again["job"]["state"] == "done" and again["job"]["cached"]
    assert time.monotonic() - started_again < 2.0
    for s in range(4):
        np.testing.assert_array_equal(step_result(http, again["job"]["id"], s), finals[s])


def test_steps_of_other_shapes_leave_no_timeline_and_say_why(
    http: httpx.Client, ids: dict[tuple[str, str], str]
) -> None:
    response = http.post(
        f"/api/embeddings/{ids[('tf2_resized', 'embedding')]}/timeline", json={"method": "pca"}
    )
    assert response.status_code == 400
    message = response.json()["error"]["message"]
    assert "1 step(s) that can be aligned" in message
    assert "ckpt-1 is 50 × 8 but ckpt-3 is 60 × 8: its rows are not the same points" in message
    assert "vectors of 4 and of 8 dimensions share no axes" in message


def test_a_step_result_out_of_range_or_of_a_plain_job_is_refused(
    http: httpx.Client, ids: dict[tuple[str, str], str]
) -> None:
    job = start(http, ids[WORDS], "timeline", method="pca")["job"]["id"]
    wait_done(http, job)
    assert http.get(f"/api/jobs/{job}/result", params={"step": 4}).status_code == 404
    plain = http.post(f"/api/embeddings/{ids[WORDS]}/projections", json={"method": "pca"}).json()
    wait_done(http, plain["id"])
    response = http.get(f"/api/jobs/{plain['id']}/result", params={"step": 0})
    assert response.status_code == 409 and "not a timeline" in response.json()["error"]["message"]


def test_drift_job_equals_brute_force_and_refuses_a_bad_k(
    http: httpx.Client, ids: dict[tuple[str, str], str]
) -> None:
    started = start(http, ids[WORDS], "drift", k=10, metric="euclidean")
    assert started["steps"] == [0, 1, 2, 3]
    status = wait_done(http, started["job"]["id"])
    assert status["method"] == "drift" and status["steps_done"] == [0, 1, 2, 3]
    steps = [expected(*WORDS[:1], f"words:{n:05d}") for n in (0, 100, 200, 300)]
    truth = brute_drift(steps, 10, "euclidean")
    for s in range(4):
        np.testing.assert_array_equal(step_result(http, started["job"]["id"], s), truth[s])
    response = http.post(f"/api/embeddings/{ids[WORDS]}/drift", json={"k": 200})
    assert response.status_code == 400 and "`k` must be between 1 and 199" in response.text
