from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np

from embedding_projector.compute.cache import ResultCache, result_key
from embedding_projector.user_cache import default_cache_dir


def test_default_directory_follows_the_environment(cache_dir: Path) -> None:
    assert default_cache_dir() == cache_dir
    assert ResultCache().directory == cache_dir


def test_round_trip_returns_the_same_bytes() -> None:
    cache = ResultCache()
    result = np.random.default_rng(0).standard_normal((50, 2)).astype(np.float32)
    cache.put("k", result, {"explained_variance_ratio": [0.5, 0.25]})
    found = cache.get("k")
    assert found is not None
    assert found[0].tobytes() == result.tobytes()
    assert found[1] == {"explained_variance_ratio": [0.5, 0.25]}
    assert cache.get("missing") is None


def test_a_corrupt_entry_is_ignored_and_removed() -> None:
    cache = ResultCache()
    cache.put("k", np.zeros((10, 2), np.float32))
    path = cache.results_dir / "k.npz"
    path.write_bytes(path.read_bytes()[:40])  # a write cut short
    assert cache.get("k") is None
    assert not path.exists()
    cache.put("k", np.ones((10, 2), np.float32))
    assert cache.get("k") is not None


def test_least_recently_used_entries_go_first() -> None:
    cache = ResultCache(max_bytes=10_000)
    entry = np.zeros((1000,), np.float32)  # ~4 KB each
    for name in ("a", "b"):
        cache.put(name, entry)
    old = cache.results_dir / "a.npz"
    os.utime(old, (1, 1))
    assert cache.get("a") is not None  # reading refreshes "a"
    os.utime(cache.results_dir / "b.npz", (2, 2))
    cache.put("c", entry)
    assert cache.get("b") is None
    assert cache.get("a") is not None and cache.get("c") is not None


def test_only_the_manager_evicts_vectors() -> None:
    cache = ResultCache(max_bytes=100)
    _, old = cache.store_vectors(np.zeros((10, 4), np.float32))
    _, new = cache.store_vectors(np.ones((10, 4), np.float32))
    cache.put("k", np.zeros(10, np.float32))  # a worker: results only
    assert old.exists() and new.exists()
    cache.evict(keep_vectors=[new])
    assert not old.exists() and new.exists()


def test_vectors_in_use_do_not_count_against_the_cap() -> None:
    # Ten million points are more than the cap on their own: their layouts must stay.
    cache = ResultCache(max_bytes=1_000)
    _, vectors = cache.store_vectors(np.zeros((1000, 4), np.float32))  # 16 KB
    cache.put("layout", np.zeros(100, np.float32))  # a worker's put, vectors in use
    assert cache.get("layout") is not None
    cache.evict(keep_vectors=[vectors])
    assert vectors.exists() and cache.get("layout") is not None


def test_vectors_another_process_uses_are_kept(tmp_path: Path) -> None:
    # Two servers on one cache dir: the second's eviction must not delete the first's vectors.
    X = np.arange(4000, dtype=np.float32).reshape(1000, 4)
    np.save(tmp_path / "x.npy", X)
    script = (
        "import sys, numpy as np\n"
        "from embedding_projector.compute.cache import ResultCache\n"
        f"cache = ResultCache({str(tmp_path / 'cache')!r})\n"
        f"print(cache.store_vectors(np.load({str(tmp_path / 'x.npy')!r}))[1], flush=True)\n"
        "sys.stdin.read()\n"
    )
    other = subprocess.Popen(
        [sys.executable, "-c", script], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    try:
        assert other.stdout is not None
        held = Path(other.stdout.readline().strip())
        cache = ResultCache(tmp_path / "cache", max_bytes=100)
        cache.evict(keep_vectors=[])
        assert held.exists()
    finally:
        other.communicate("", timeout=30)
    cache.evict(keep_vectors=[])  # its process is gone: now it may go
    assert not held.exists()


def test_vectors_are_stored_once_by_content() -> None:
    cache = ResultCache()
    X = np.arange(12, dtype=np.float32).reshape(4, 3)
    key, path = cache.store_vectors(X)
    mtime = path.stat().st_mtime_ns
    assert cache.store_vectors(X.astype(np.float64)) == (key, path)
    assert path.stat().st_mtime_ns >= mtime
    np.testing.assert_array_equal(np.load(path, mmap_mode="r"), X)
    path.write_bytes(b"garbage")
    cache.store_vectors(X)  # a damaged file is rewritten
    np.testing.assert_array_equal(np.load(path), X)


def test_keys_depend_on_every_part() -> None:
    assert result_key({"a": 1, "b": [1, 2]}) == result_key({"b": [1, 2], "a": 1})
    assert result_key({"a": 1}) != result_key({"a": 2})
