"""``show()`` of a timeline (a list or dict of arrays): from a script, and in the widget."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import httpx
import numpy as np
import pytest

import embedding_projector
from embedding_projector.compute.timeline import aligned_pca
from embedding_projector.dataset.opening import open_path
from embedding_projector.errors import InvalidParameterError
from embedding_projector.notebook import _is_timeline, _session_logdir, _steps
from embedding_projector.server.settings import Settings
from tests.test_widget_bridge import JSON_HEADERS, Page, widget_over_comm

RNG = np.random.default_rng(0)
FIRST = RNG.normal(size=(80, 6)).astype(np.float32)
TIMELINE = {"step 0": FIRST, "step 1000": 2 * FIRST + 0.1, "step 2000": 3 * FIRST + 0.2}
WORDS = {"word": [f"w{i}" for i in range(80)]}


@pytest.fixture(autouse=True)
def cache(tmp_path: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EMBEDDING_PROJECTOR_CACHE_DIR", str(tmp_path))


def test_a_dict_shows_one_embedding_with_its_steps_and_an_aligned_pca() -> None:
    shown = embedding_projector.show(TIMELINE, WORDS, open_browser=False, port=0)
    try:
        with httpx.Client(base_url=shown.url, timeout=60) as http:
            check_aligned_pca(http)
    finally:
        shown.stop()


def check_aligned_pca(http: httpx.Client) -> None:
    (only,) = http.get("api/embeddings").json()
    assert only["name"] == "embedding" and only["steps"] == 3 and only["shape"] == [80, 6]
    steps = http.get(f"api/embeddings/{only['id']}/steps").json()["steps"]
    assert [(s["step"], s["label"]) for s in steps] == [
        (0, "embedding:00000"),
        (1000, "embedding:01000"),
        (2000, "embedding:02000"),
    ]
    started = http.post(f"api/embeddings/{only['id']}/timeline", json={"method": "pca"})
    job = started.json()["job"]["id"]
    deadline = time.monotonic() + 120
    while http.get(f"api/jobs/{job}").json()["state"] != "done":
        assert time.monotonic() < deadline
        time.sleep(0.1)
    truth = aligned_pca(list(TIMELINE.values()), n_components=2).coordinates
    for s in range(3):
        got = np.frombuffer(http.get(f"api/jobs/{job}/result?step={s}").content, "<f4")
        np.testing.assert_allclose(got.reshape(80, 2), truth[s], rtol=1e-3, atol=1e-4)


def test_steps_are_numbered_by_the_keys_or_by_their_order() -> None:
    X = np.zeros((3, 2))
    assert [t for t, _ in _steps("e", {"epoch 1": X, "epoch 5": X})] == ["e:00001", "e:00005"]
    assert [t for t, _ in _steps("e", {"late 9": X, "early 2": X})] == ["e:00000", "e:00001"]
    assert [t for t, _ in _steps("e", [X, X, X])] == ["e:00000", "e:00001", "e:00002"]
    assert _is_timeline([X, X]) and _is_timeline({"a": X})
    assert not _is_timeline([[1.0, 2.0], [3.0, 4.0]])  # a list of rows is one array
    with pytest.raises(InvalidParameterError, match="a timeline needs two or more steps, got 1"):
        embedding_projector.show({"only": X}, open_browser=False, port=0)


def test_a_step_of_another_shape_is_listed_as_not_aligned() -> None:
    folder = _session_logdir([("e:00000", FIRST[:50], None, None), ("e:00001", FIRST, None, None)])
    (emb,) = open_path(folder)
    first, last = emb.steps
    assert last.alignable and not first.alignable
    assert first.message == (
        "e:00000 is 50 × 6 but e:00001 is 80 × 6: its rows are not the same points, so it "
        "cannot be aligned with the other steps"
    )


@pytest.fixture
def widget_page(tmp_path: Any) -> Iterator[Page]:
    matrices = _steps("embedding", TIMELINE)
    folder = _session_logdir([(tensor, X, None, None) for tensor, X in matrices])
    with widget_over_comm(open_path(folder), Settings(cache_dir=tmp_path / "c")) as pair:
        yield Page(pair)


def test_the_widget_runs_a_timeline_over_its_comm(widget_page: Page) -> None:
    (only,) = json.loads(widget_page.ask("GET", "embeddings")[2])
    body = json.dumps({"method": "pca", "dims": 2}).encode()
    status, _, answer, _ = widget_page.ask(
        "POST", f"embeddings/{only['id']}/timeline", body, JSON_HEADERS
    )
    assert status == 200
    started = json.loads(answer)
    assert started["steps"] == [0, 1, 2] and started["left_out"] == []
    job = started["job"]["id"]
    deadline = time.monotonic() + 120
    while json.loads(widget_page.ask("GET", f"jobs/{job}")[2])["state"] != "done":
        assert time.monotonic() < deadline
        time.sleep(0.1)
    truth = aligned_pca(list(TIMELINE.values()), n_components=2).coordinates
    got = np.frombuffer(widget_page.ask("GET", f"jobs/{job}/result?step=2")[2], "<f4")
    np.testing.assert_allclose(got.reshape(80, 2), truth[2], rtol=1e-3, atol=1e-4)
