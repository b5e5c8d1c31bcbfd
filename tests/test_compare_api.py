"""``compare(a, b, metadata=...)`` from a script: a server whose page opens the compare view."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

import httpx
import numpy as np
import pyarrow as pa
import pytest

import embedding_projector
from embedding_projector.errors import InvalidParameterError

N = 120


@pytest.fixture(autouse=True)
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("EMBEDDING_PROJECTOR_CACHE_DIR", str(tmp_path))
    return tmp_path


def test_compare_serves_both_and_opens_the_compare_view(
    capsys: pytest.CaptureFixture[str], cache: Path
) -> None:
    rng = np.random.default_rng(0)
    a = rng.normal(size=(N, 8))
    b = np.hstack([a, rng.normal(size=(N, 4))])
    words = [f"w{i}" for i in range(N)]
    shuffled = rng.permutation(N)
    metadata = (
        {"word": words, "n": list(range(N))},
        pa.table({"word": [words[i] for i in shuffled], "m": shuffled}),
    )
    p = embedding_projector.compare(
        a, b[shuffled], metadata, names=("base", "tuned"), open_browser=False, port=0
    )
    try:
        printed = capsys.readouterr().out
        url = printed.split("Embedding Projector at ")[1].split()[0]
        view = parse_qs(urlparse(url).fragment)
        base = p.url.rstrip("/")
        embeddings = {e["name"]: e for e in httpx.get(f"{base}/api/embeddings").json()}
        assert embeddings["base"]["shape"] == [N, 8] and embeddings["tuned"]["shape"] == [N, 12]
        assert view == {
            "embedding": [embeddings["base"]["id"]],
            "compare": [embeddings["tuned"]["id"]],
        }
        body = {"a": {"embedding": view["embedding"][0]}, "b": {"embedding": view["compare"][0]}}
        started = httpx.post(f"{base}/api/compare", json=body).json()
        assert started["aligned_by"] == "word" and started["rows"] == N
    finally:
        p.stop()


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({"a": np.ones((5, 2)), "b": np.ones((4, 2))}, "a has 5 rows and b has 4: they are not"),
        ({"a": np.ones((5, 2)), "b": np.zeros(5)}, r"`b` must be N x D"),
        ({"a": [["x"]], "b": np.ones((1, 2))}, r"`a` must hold numbers"),
        (
            {
                "a": np.ones((3, 2)),
                "b": np.ones((3, 2)),
                "metadata": (["p", "q", "r"], ["p", "q", "s"]),
            },
            r"a and b are not the same items: by their unique labels in `label`, 1 of a's 3",
        ),
        ({"a": np.ones((3, 2)), "b": np.ones((3, 2)), "names": ("x", "x")}, "two different names"),
        ({"a": np.ones((3, 2)), "b": np.ones((3, 2)), "labels": ["a"]}, r"`labels` has 1 row"),
    ],
)
def test_bad_input_is_refused_before_anything_is_written(
    arguments: dict[str, Any], message: str, cache: Path
) -> None:
    with pytest.raises(InvalidParameterError, match=message):
        embedding_projector.compare(**arguments, open_browser=False, port=0)
    assert not (cache / "sessions").exists()
