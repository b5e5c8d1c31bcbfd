"""Bookmarks that would break every later read are refused when saved, and a bad file
already on disk is a clear 4xx (or a warning), never a 500.

The attack: bookmarks nested 300 deep were stored (200), then every GET was a 500,
even after a restart; a lone surrogate or a 5,000-digit number was a 500 at once.
"""

from __future__ import annotations

import contextlib
import json
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from embedding_projector.formats.bookmarks import MAX_DEPTH, parse_bookmarks
from tests.conftest import FIXTURES, writable_copy
from tests.server_process import client, running_server

SPRITE_FIXTURE = "tf2_two_embeddings_sprite"


def _nested(depth: int) -> bytes:
    return b'[{"label": "deep", "x": ' + b"[" * depth + b"]" * depth + b"}]"


ATTACKS = {
    "nested 300 deep": (_nested(300), f"nested more than {MAX_DEPTH} levels deep"),
    "nested 100,000 deep": (_nested(100_000), f"nested more than {MAX_DEPTH} levels deep"),
    "a lone surrogate": (b'[{"label": "\\ud800"}]', "lone surrogate ('\\ud800')"),
    "a lone surrogate key": (b'[{"\\udfff": 1}]', "lone surrogate"),
    "5,000 digits": (b'[{"n": ' + b"9" * 5000 + b"}]", "an integer of 5000 digits"),
    "a float overflow": (b'[{"n": 1e400}]', "the number 1e400 is too large for a float"),
    "NaN": (b'[{"n": NaN}]', "NaN is not a JSON number"),
    "-Infinity": (b'[{"n": -Infinity}]', "-Infinity is not a JSON number"),
    "bytes that are not UTF-8": (b'[{"label": "\xff"}]', "the body is not UTF-8 (byte 12)"),
    "not an array of objects": (b'{"label": "x"}', "expected a JSON array of saved states"),
}


@contextmanager
def _serving(logdir: Path) -> Iterator[httpx.Client]:
    with (
        running_server(str(logdir), cache_dir=logdir.parent / "cache") as server,
        client(server) as http,
    ):
        yield http


@pytest.fixture
def logdir(tmp_path: Path) -> Path:
    return writable_copy(FIXTURES / "tf2_keras_tutorial", tmp_path / "logs")


def _emb(http: httpx.Client) -> str:
    emb: str = http.get("/api/embeddings").json()[0]["id"]
    return emb


def _assert_healthy(http: httpx.Client) -> None:
    started = time.monotonic()
    assert http.get("/api/health").status_code == 200
    assert time.monotonic() - started < 1


def test_bookmarks_that_cannot_be_served_back_are_refused(logdir: Path) -> None:
    with _serving(logdir) as http:
        emb = _emb(http)
        url = f"/api/embeddings/{emb}/bookmarks"
        kept = [{"label": "kept", "n": 12345678901234567890, "x": -1.5e-300, "s": "é 日本 🙂"}]
        assert http.put(url, json=kept).status_code == 200
        for name, (body, expected) in ATTACKS.items():
            refused = http.put(url, content=body, headers={"Content-Type": "application/json"})
            assert refused.status_code == 400, (name, refused.text)
            error = refused.json()["error"]
            assert error["code"] == "invalid_parameter", name
            assert error["message"].startswith("bookmarks not saved: "), name
            assert expected in error["message"], (name, error["message"])
            assert len(error["message"]) < 200, name
            # What was saved before is still there, and still served.
            assert http.get(url).json() == kept, name
            _assert_healthy(http)


def test_a_bad_saved_file_is_a_clear_422_across_restarts_until_saved_over(logdir: Path) -> None:
    with _serving(logdir) as http:
        emb = _emb(http)
    # Written by hand, or by a server before this check existed.
    saved = logdir / f"embedding_projector.bookmarks.{emb}.json"
    saved.write_bytes(_nested(300))
    with _serving(logdir) as http:
        url = f"/api/embeddings/{emb}/bookmarks"
        broken = http.get(url)
        assert broken.status_code == 422
        assert broken.json()["error"]["message"] == (
            f"{saved}: is not a bookmarks file: nested more than {MAX_DEPTH} levels deep"
        )
        assert http.get("/api/embeddings").status_code == 200  # the rest is served
        assert http.get(f"/api/embeddings/{emb}/vectors").status_code == 200
        assert http.put(url, json=[{"label": "fresh"}]).status_code == 200
        assert http.get(url).json() == [{"label": "fresh"}]


def test_a_bad_bookmarks_file_named_by_the_config_is_a_warning(tmp_path: Path) -> None:
    logdir = writable_copy(FIXTURES / SPRITE_FIXTURE, tmp_path / "logs")
    (logdir / "bookmarks.json").write_bytes(b'[{"label": "\\udc00"}]')
    with _serving(logdir) as http:
        listed = {e["name"]: e for e in http.get("/api/embeddings").json()}
        words = next(e for name, e in listed.items() if "word" in name)
        assert any("lone surrogate" in w for w in words["warnings"]), words["warnings"]
        assert http.get(f"/api/embeddings/{words['id']}/bookmarks").json() == []


# -- the pure check, on any JSON --------------------------------------------------

_leaves = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**63), max_value=2**64)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=8)
)
_json = st.recursive(
    _leaves,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=4), inner),
    max_leaves=12,
)


def _depth(value: object) -> int:
    if isinstance(value, dict):
        value = list(value.values())
    return 1 + max(map(_depth, value), default=0) if isinstance(value, list) else 0


@settings(max_examples=100, deadline=None)
@given(states=st.lists(st.dictionaries(st.text(max_size=4), _json, max_size=4), max_size=3))
def test_any_json_of_saved_states_is_accepted_as_it_was(states: list[dict[str, object]]) -> None:
    text = json.dumps(states, ensure_ascii=False)
    if _depth(states) > MAX_DEPTH:
        with pytest.raises(ValueError, match="nested more than"):
            parse_bookmarks(text)
    else:
        assert parse_bookmarks(text) == states


@settings(max_examples=300, deadline=None)
@given(text=st.text())
def test_any_text_is_bookmarks_or_a_value_error(text: str) -> None:
    with contextlib.suppress(ValueError):
        assert isinstance(parse_bookmarks(text), list)
