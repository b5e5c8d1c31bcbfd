from __future__ import annotations

import numpy as np
import pytest
from sklearn.cluster import HDBSCAN
from sklearn.datasets import make_blobs
from sklearn.metrics import adjusted_rand_score

from embedding_projector.compute import cluster_names, clusters, pca, tsne
from embedding_projector.compute.progress import Progress
from embedding_projector.demos import words
from embedding_projector.errors import InvalidParameterError


@pytest.fixture(scope="module")
def digits_tsne(digits: tuple[np.ndarray, np.ndarray]) -> np.ndarray:
    """The digits demo's t-SNE layout (the demo's vectors are scikit-learn's digits)."""
    layout: np.ndarray = tsne.run(digits[0], n_iter=250, random_state=0)
    return layout


def test_digits_tsne_clusters_are_the_digits(
    digits: tuple[np.ndarray, np.ndarray], digits_tsne: np.ndarray
) -> None:
    found = clusters.find_clusters(digits_tsne)
    assert adjusted_rand_score(digits[1], found.labels) >= 0.8
    assert found.labels.dtype == np.int32
    assert found.min_cluster_size == clusters.default_min_cluster_size(1797) == 42
    assert found.sample_size == 1797
    assert list(found.sizes) == sorted(found.sizes, reverse=True)
    assert found.sizes.sum() == (found.labels >= 0).sum()
    names = cluster_names.name_clusters(found.labels, categories=digits[1].tolist())
    # Each cluster is named by its digit, and most clusters are nearly pure.
    for name, cluster in zip(names, range(found.n_clusters), strict=True):
        majority = np.bincount(digits[1][found.labels == cluster]).argmax()
        assert name.startswith(f"{majority} (")
    shares = [int(name.split("(")[1].removesuffix(" %)")) for name in names]
    assert sum(share >= 90 for share in shares) >= 6


def test_a_sample_clusters_large_sets(monkeypatch: pytest.MonkeyPatch) -> None:
    points, _ = make_blobs(6000, centers=8, cluster_std=0.6, random_state=3)
    reports: list[Progress] = []
    full = clusters.find_clusters(points, min_cluster_size=100)
    monkeypatch.setattr(clusters, "SAMPLE_SIZE", 1500)
    sampled = clusters.find_clusters(points, min_cluster_size=100, callback=reports.append)
    assert sampled.sample_size == 1500 and full.sample_size == 6000
    assert sampled.labels.shape == (6000,)
    assert sampled.n_clusters == full.n_clusters
    assert adjusted_rand_score(full.labels, sampled.labels) > 0.9
    assert [r.fraction for r in reports] == [0.0, 0.8, 1.0]


def test_baseline_hdbscan_agrees_on_small_sets() -> None:
    points, _ = make_blobs(800, centers=5, random_state=4)
    ours = clusters.find_clusters(points, min_cluster_size=30)
    theirs = HDBSCAN(min_cluster_size=30, min_samples=10, copy=True).fit_predict(points)
    assert adjusted_rand_score(theirs, ours.labels) == 1.0


def test_vectors_are_clustered_in_their_principal_components() -> None:
    X, truth = make_blobs(1500, n_features=40, centers=6, random_state=5)
    found = clusters.find_clusters(pca.run(X.astype(np.float32)).coordinates)
    assert adjusted_rand_score(truth, found.labels) > 0.95


def test_all_noise_says_what_to_change() -> None:
    points = np.random.default_rng(0).random((500, 2))
    with pytest.raises(InvalidParameterError) as raised:
        clusters.find_clusters(points, min_cluster_size=500)
    message = raised.value.message
    assert message.startswith("HDBSCAN found no clusters: all 500 points are noise")
    assert "minimum cluster size of 500; try a smaller one (e.g. 125)" in message


def test_invalid_minimum_size() -> None:
    with pytest.raises(InvalidParameterError, match="`min_cluster_size` must be between 2 and 5"):
        clusters.find_clusters(np.zeros((5, 2)), min_cluster_size=1)


@pytest.fixture(scope="module")
def words_model() -> words.WordVectors:
    return words.train_word_vectors(words.read_corpus())


def test_words_cluster_names_are_words_of_the_cluster(words_model: words.WordVectors) -> None:
    layout = tsne.run(words_model.vectors, n_iter=250, metric="cosine", random_state=0)
    found = clusters.find_clusters(layout)
    assert found.n_clusters >= 5
    names = cluster_names.name_clusters(found.labels, text=words_model.words)
    vocabulary = np.array(words_model.words)
    for cluster, name in enumerate(names):
        terms = name.split(", ")
        assert len(terms) == cluster_names.N_TERMS
        members = set(vocabulary[found.labels == cluster].tolist())
        assert set(terms) <= members, (name, sorted(members)[:20])


def test_distinctive_terms_win_and_ties_go_to_the_first_seen() -> None:
    text = [
        "socket connection tcp", "tcp socket closed", "the socket", "lock thread",
        "thread acquire lock", "lock released", "alpha", "beta", "gamma", "delta",
    ]  # fmt: skip
    labels = np.array([0, 0, 0, 1, 1, 1, 2, 2, 2, 2])
    names = cluster_names.name_clusters(labels, text=text)
    assert names[0] == "socket, tcp, connection"
    assert names[1] == "lock, thread, acquire"
    assert names[2] == "alpha, beta, gamma"  # equal scores: in the order of the data


def test_names_fall_back_to_categories_then_numbers() -> None:
    labels = np.array([0, 0, 0, 1, 1, -1, 2])
    categories = ["a", "a", "b", None, None, "z", 7]
    assert cluster_names.name_clusters(labels, categories=categories) == [
        "a (67 %)", "cluster 1", "7 (100 %)",
    ]  # fmt: skip
    text = ["the", "and", "of", "x", "y", "", "is"]  # nothing but stop words and one letter
    assert cluster_names.name_clusters(labels, text=text, categories=categories) == [
        "a (67 %)", "cluster 1", "7 (100 %)",
    ]  # fmt: skip
    assert cluster_names.name_clusters(labels) == ["cluster 0", "cluster 1", "cluster 2"]


def test_a_column_of_the_wrong_length_is_refused() -> None:
    with pytest.raises(InvalidParameterError, match="`text` must have one value per point"):
        cluster_names.name_clusters(np.array([0, 1]), text=["a"])
