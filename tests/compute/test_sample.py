"""t-SNE and UMAP fitted on a sample, every other row placed by ``transform``, on one machine."""

from __future__ import annotations

import time

import numpy as np
import pytest

from embedding_projector.compute import sample
from embedding_projector.compute.jobs import JobManager
from embedding_projector.compute.progress import Progress, Stopped
from embedding_projector.compute.spec import parse_spec
from embedding_projector.errors import InvalidParameterError
from tests.compute.conftest import knn_accuracy


@pytest.fixture(scope="module")
def labelled() -> tuple[np.ndarray, np.ndarray]:
    from sklearn.datasets import make_blobs

    X, y = make_blobs(n_samples=6_000, n_features=16, centers=6, cluster_std=3.0, random_state=4)
    return X.astype(np.float32), y


def test_sample_size_default_threshold_and_requests() -> None:
    assert sample.sample_size(1_000_000) is None  # up to the threshold: every row is fitted
    assert sample.sample_size(1_000_001) == sample.DEFAULT_SAMPLE
    assert sample.sample_size(50_000, 5_000) == 5_000
    assert sample.sample_size(5_000, 5_000) is None  # as many as the data: a full fit
    with pytest.raises(InvalidParameterError, match="`sample` must be >= 100, got 10"):
        sample.sample_size(50_000, 10)
    with pytest.raises(InvalidParameterError, match="`sample` must be an integer"):
        sample.sample_size(50_000, 0.5)


def test_the_sample_is_drawn_by_the_seed() -> None:
    first = sample.choose(10_000, 500, 7)
    assert np.array_equal(first, sample.choose(10_000, 500, 7))
    assert not np.array_equal(first, sample.choose(10_000, 500, 8))
    assert np.all(np.diff(first) > 0) and first[0] >= 0 and first[-1] < 10_000


def test_spec_resolves_the_sample_into_the_cache_key() -> None:
    full = parse_spec({"method": "umap"}, 5_000, 8)
    assert "sample" not in full.params  # a full fit's key is what it was before samples
    sampled = parse_spec({"method": "umap", "params": {"sample": 1_000}}, 5_000, 8)
    assert sampled.params["sample"] == 1_000
    assert full.cache_parts("v") != sampled.cache_parts("v")
    big = parse_spec({"method": "tsne"}, 2_000_000, 8)
    assert big.params["sample"] == sample.DEFAULT_SAMPLE
    with pytest.raises(InvalidParameterError, match="`perplexity` must be < "):
        parse_spec({"method": "tsne", "params": {"sample": 100, "perplexity": 50}}, 5_000, 8)


# The first UMAP of a process compiles numba's kernels: a minute on a quiet machine, several
# when the cores are shared.
@pytest.mark.timeout(900)
@pytest.mark.parametrize("method", ["tsne", "umap"])
def test_fit_on_a_sample_place_the_rest(
    labelled: tuple[np.ndarray, np.ndarray], method: str
) -> None:
    X, y = labelled
    reports: list[Progress] = []
    params = {"n_iter": 250} if method == "tsne" else {"n_epochs": 100}
    layout = sample.run(method, X, size=600, dims=2, seed=0, params=params,
                        callback=reports.append)  # fmt: skip
    assert layout.shape == (6_000, 2) and layout.dtype == np.float32
    assert np.isfinite(layout).all()
    assert knn_accuracy(layout, y) >= 0.9
    assert all(r.embedding is None for r in reports)  # the fit's layouts are the sample's only
    assert reports[-1].fraction == 1.0 and "placing rows" in reports[-1].message
    again = sample.run(method, X, size=600, dims=2, seed=0, params=params)
    np.testing.assert_array_equal(layout, again)


def test_a_sampled_fit_continues_a_given_start(labelled: tuple[np.ndarray, np.ndarray]) -> None:
    """A timeline's step above the sample threshold starts from the previous step's layout."""
    X, _ = labelled
    params = {"n_iter": 250}
    previous = sample.run("tsne", X, size=600, dims=2, seed=0, params=params)
    turned = previous @ np.array([[0, 1], [-1, 0]], dtype=np.float32)  # a quarter turn
    continued = sample.run("tsne", X, size=600, dims=2, seed=0, params=params, init=turned)
    fresh = sample.run("tsne", X, size=600, dims=2, seed=0, params=params)

    def agreement(layout: np.ndarray) -> float:  # with the start, axis by axis, unaligned
        return min(abs(np.corrcoef(layout[:, k], turned[:, k])[0, 1]) for k in (0, 1))

    assert agreement(continued) > 0.9
    assert agreement(fresh) < 0.5


def test_a_stop_during_the_fit_leaves_no_partial_layout(
    labelled: tuple[np.ndarray, np.ndarray],
) -> None:
    X, _ = labelled
    with pytest.raises(Stopped) as stopped:
        sample.run("tsne", X, size=600, dims=2, seed=0, params={},
                   callback=lambda p: p.iteration is not None and p.iteration >= 20)  # fmt: skip
    assert stopped.value.partial is None


def test_a_sampled_job_in_the_worker_processes(labelled: tuple[np.ndarray, np.ndarray]) -> None:
    X, y = labelled
    with JobManager(n_workers=1) as manager:
        key = manager.register(X)
        job = manager.submit(key, {"method": "tsne", "seed": 0,
                                   "params": {"sample": 600, "n_iter": 250}})  # fmt: skip
        deadline = time.monotonic() + 300
        while manager.status(job)["state"] not in ("done", "failed", "cancelled"):
            assert time.monotonic() < deadline
            time.sleep(0.1)
        assert manager.status(job)["state"] == "done", manager.status(job)
        assert knn_accuracy(manager.result(job), y) >= 0.9
