"""The built-in demos: what each holds, that docs/demos.md stays true, how builds are cached."""

from __future__ import annotations

import dataclasses
import functools
import os
import re
import shutil
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from sklearn.datasets import load_digits

import embedding_projector
from embedding_projector import Embedding
from embedding_projector.dataset.metadata import describe_columns
from embedding_projector.demos import DEMOS, Demo, digits, large, prepare_demo, words
from embedding_projector.demos.registry import FINGERPRINT_NAME, demo_fingerprint
from embedding_projector.demos.stdlib_text import PARTS, read_corpus
from embedding_projector.errors import InvalidParameterError, ProjectorError
from embedding_projector.formats.tensor_file import is_text_file
from embedding_projector.projector import save_embeddings
from tests.server_process import client, running_server

from .conftest import REPO_ROOT

DOCS = REPO_ROOT / "docs" / "demos.md"


def _silent(message: str) -> None:
    pass


@pytest.fixture(scope="module")
def cache_dir(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A cache dir for this module, also set as ``EMBEDDING_PROJECTOR_CACHE_DIR``."""
    path = tmp_path_factory.mktemp("cache")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("EMBEDDING_PROJECTOR_CACHE_DIR", str(path))
        yield path


@pytest.fixture(scope="module")
def digits_progress(cache_dir: Path) -> list[str]:
    """The progress lines of a build of ``digits`` into the default cache dir."""
    messages: list[str] = []
    prepare_demo("digits", progress=messages.append)
    return messages


@pytest.fixture(scope="module")
def digits_embedding(cache_dir: Path, digits_progress: list[str]) -> Embedding:
    embeddings = embedding_projector.open(cache_dir / "demos" / "digits").embeddings
    assert len(embeddings) == 1
    return embeddings[0]


@pytest.fixture(scope="module")
def words_dir(cache_dir: Path) -> Iterator[Path]:
    """The ``words`` demo; the corpus it was trained on is kept for a second build."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(words, "read_corpus", functools.cache(words.read_corpus))
        yield prepare_demo("words", cache_dir=cache_dir)


@pytest.fixture(scope="module")
def words_embedding(words_dir: Path) -> Embedding:
    return embedding_projector.open(words_dir).embeddings[0]


@pytest.fixture(scope="module")
def small_large(tmp_path_factory: pytest.TempPathFactory) -> Embedding:
    """The ``large`` demo's generator, at 20,000 points."""
    logdir = tmp_path_factory.mktemp("large")
    large.write_large(logdir, _silent, n_points=20_000)
    return embedding_projector.open(logdir).embeddings[0]


def _kinds(embedding: Embedding) -> dict[str, str]:
    return {column.name: column.kind for column in describe_columns(embedding.metadata)}


def _cosine_neighbours(vectors: np.ndarray, labels: list[str], query: str, k: int) -> list[str]:
    similarity = vectors @ vectors[labels.index(query)]
    return [labels[i] for i in np.argsort(-similarity, kind="stable")[1 : k + 1]]


def _files(folder: Path) -> dict[str, bytes]:
    return {
        str(path.relative_to(folder)): path.read_bytes()
        for path in sorted(folder.rglob("*"))
        if path.is_file() and path.name != FINGERPRINT_NAME
    }


# The registry


def test_the_three_demos_are_described() -> None:
    assert list(DEMOS) == ["digits", "words", "large"]
    assert [demo.size for demo in DEMOS.values()] == ["1,797 × 64", "6,000 × 100", "1,000,000 × 64"]
    for demo in DEMOS.values():
        assert demo.description and "\n" not in demo.description and len(demo.description) < 90


def test_an_unknown_demo_is_refused(tmp_path: Path) -> None:
    with pytest.raises(InvalidParameterError, match="digits, words, large; got 'mnist'"):
        prepare_demo("mnist", cache_dir=tmp_path)
    assert not (tmp_path / "demos").exists()


def test_the_words_fingerprint_follows_the_python_version() -> None:
    demo = DEMOS["words"]
    assert demo.inputs.startswith("Python 3.")
    assert demo_fingerprint(demo) != demo_fingerprint(dataclasses.replace(demo, inputs="Python 4"))


# digits


def test_digits_opens_with_vectors_labels_and_sprites(
    digits_embedding: Embedding, digits_progress: list[str], cache_dir: Path
) -> None:
    assert digits_embedding.shape == (1797, 64)
    assert digits_embedding.warnings == []
    np.testing.assert_array_equal(digits_embedding.vectors, load_digits().data)
    assert digits_embedding.metadata.column_names == ["digit", "ink"]
    assert _kinds(digits_embedding) == {"digit": "numeric", "ink": "numeric"}
    assert sorted(set(digits_embedding.metadata.column("digit").to_pylist())) == list(range(10))
    sprite = digits_embedding.sprite
    assert sprite is not None
    assert sprite.single_image_dim == (32, 32) and sprite.capacity >= 1797
    assert digits_progress[0].startswith("digits: ")
    assert digits_progress[-1].endswith(str(cache_dir / "demos" / "digits"))


def test_digits_atlas_cells_are_the_enlarged_images(digits_embedding: Embedding) -> None:
    sprite = digits_embedding.sprite
    assert sprite is not None
    with Image.open(sprite.image_path) as image:
        atlas = np.asarray(image.convert("L"))
    images = load_digits().images
    columns = sprite.grid[0]
    for index in (0, 1, columns - 1, columns, 1796):
        row, column = divmod(index, columns)
        cell = atlas[row * 32 : (row + 1) * 32, column * 32 : (column + 1) * 32]
        np.testing.assert_array_equal(cell, digits.thumbnails(images[index : index + 1])[0])
        # Nearest-neighbour enlargement: each pixel is a 4×4 block, 0 (blank) white.
        expected = 255 - np.rint(images[index] * 255 / 16)
        np.testing.assert_array_equal(cell[::4, ::4], expected)
        np.testing.assert_array_equal(cell[3::4, 3::4], expected)


def test_digits_nearest_neighbours_share_the_label(digits_embedding: Embedding) -> None:
    vectors = np.asarray(digits_embedding.vectors, dtype=np.float64)
    labels = np.asarray(digits_embedding.metadata.column("digit").to_pylist())
    squared = (vectors**2).sum(axis=1)
    distances = squared[:, None] + squared[None, :] - 2 * vectors @ vectors.T
    np.fill_diagonal(distances, np.inf)
    nearest = np.argsort(distances, axis=1)[:, :5]
    votes = np.array([np.bincount(labels[row], minlength=10).argmax() for row in nearest])
    assert (votes == labels).mean() > 0.98  # docs/demos.md says 98.8%


def test_a_prepared_demo_is_reused_instantly(
    digits_embedding: Embedding, cache_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def fail(logdir: Path, progress: Callable[[str], None]) -> None:
        raise AssertionError("built again")

    monkeypatch.setitem(DEMOS, "digits", dataclasses.replace(DEMOS["digits"], build=fail))
    started = time.perf_counter()
    assert prepare_demo("digits") == cache_dir / "demos" / "digits"
    assert time.perf_counter() - started < 0.5


@pytest.mark.parametrize(("options", "first"), [((), "tsne"), (("--projection", "pca"), "pca")])
def test_the_digits_demo_opens_on_tsne_unless_told(
    digits_embedding: Embedding, cache_dir: Path, options: tuple[str, ...], first: str
) -> None:
    with (
        running_server("demo", "digits", *options, cache_dir=cache_dir) as server,
        client(server) as http,
    ):
        assert http.get("/api/config").json()["projection"] == first


# words


def test_the_corpus_takes_prose_from_sources(tmp_path: Path) -> None:
    source = '''"""Module docstring about sockets.

>>> example_code()
output
"""
# A comment about locks
# that continues here.
TABLE = """
# 1, 2, 3
"""


def f():
    """Function docstring; it's fine, don't worry about __init__'s job."""
    raise ValueError("cannot open the file because it is closed")  # code before: left out
'''
    (tmp_path / "module.py").write_text(source)
    for skipped in ("tests/test_module.py", "site-packages/other.py", "test_module.py"):
        (tmp_path / skipped).parent.mkdir(exist_ok=True)
        (tmp_path / skipped).write_text('"""Not the library\'s prose."""\n')
    (tmp_path / "python2.py").write_text('print "a syntax error now"\n')
    corpus = read_corpus(tmp_path)
    assert corpus["docstrings"] == [
        ["module", "docstring", "about", "sockets"],
        ["function", "docstring", "it", "fine", "don't", "worry", "about", "__init__", "job"],
    ]
    assert corpus["comments"] == [["a", "comment", "about", "locks", "that", "continues", "here"]]
    assert corpus["messages"] == [
        ["cannot", "open", "the", "file", "because", "it", "is", "closed"]
    ]
    assert len(corpus["pydoc topics"]) > 50  # the running Python's help topics


def test_a_library_without_sources_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ProjectorError, match="no Python sources found"):
        read_corpus(tmp_path)


def test_words_vocabulary_and_metadata(words_embedding: Embedding) -> None:
    assert words_embedding.shape == (words.VOCABULARY_SIZE, words.DIMENSIONS) == (6000, 100)
    assert words_embedding.warnings == []
    np.testing.assert_allclose(np.linalg.norm(words_embedding.vectors, axis=1), 1, atol=1e-5)
    metadata = words_embedding.metadata
    assert metadata.column_names == ["word", "frequency", "source"]
    assert _kinds(words_embedding) == {
        "word": "text",
        "frequency": "numeric",
        "source": "categorical",
    }
    vocabulary = metadata.column("word").to_pylist()
    assert len(set(vocabulary)) == len(vocabulary)
    frequency = metadata.column("frequency").to_pylist()
    assert frequency == sorted(frequency, reverse=True) and frequency[-1] >= 3
    assert set(metadata.column("source").to_pylist()) == {*PARTS, words.MIXED}


def _documented_neighbours() -> dict[str, list[str]]:
    section = DOCS.read_text(encoding="utf-8").split("### Nearest neighbours")[1]
    rows = re.findall(r"^\| `([^`]+)` \| ([^|]+) \|$", section, re.MULTILINE)
    return {query: [item.rsplit(" ", 1)[0] for item in text.split(", ")] for query, text in rows}


def test_the_documented_neighbours_hold(words_embedding: Embedding) -> None:
    documented = _documented_neighbours()
    assert len(documented) == 3
    vocabulary = words_embedding.metadata.column("word").to_pylist()
    vectors = np.asarray(words_embedding.vectors)
    for query, expected in documented.items():
        assert len(expected) == 5
        nearest = _cosine_neighbours(vectors, vocabulary, query, 10)
        assert set(expected) <= set(nearest), (query, nearest)


def test_words_are_built_to_the_same_bytes_twice(words_dir: Path, tmp_path: Path) -> None:
    # Same corpus (kept by the fixture: reading it is deterministic, a sorted walk).
    words.write_words(tmp_path, _silent)
    first, second = _files(words_dir), _files(tmp_path)
    assert first.keys() == second.keys() == {"projector_config.pbtxt", *_words_assets()}
    assert first == second


def _words_assets() -> set[str]:
    return {os.path.join("words", name) for name in ("tensor.bytes", "metadata.tsv")}


# large


def test_large_columns_of_each_kind(small_large: Embedding) -> None:
    assert small_large.shape == (20_000, 64)
    assert small_large.warnings == []
    assert _kinds(small_large) == {
        "name": "text",
        "group": "categorical",
        "cluster": "categorical",
        "score": "numeric",
        "size": "numeric",
    }
    metadata = small_large.metadata.to_pydict()
    assert len(set(metadata["name"])) == 20_000
    assert all(0 <= score <= 1 for score in metadata["score"])
    clusters = np.unique(metadata["cluster"], return_counts=True)
    sizes = dict(zip(metadata["cluster"], metadata["size"], strict=True))
    assert {name: sizes[name] for name in clusters[0]} == dict(zip(*clusters, strict=True))
    assert len(clusters[0]) == 36
    # Each cluster lies in one group, and the 8 groups are all there.
    groups = dict(zip(metadata["cluster"], metadata["group"], strict=True))
    assert set(groups.values()) == {f"g{g}" for g in range(8)}
    assert all(groups[c] == g for c, g in zip(metadata["cluster"], metadata["group"], strict=True))


def test_large_has_cluster_structure(small_large: Embedding) -> None:
    vectors = np.asarray(small_large.vectors)
    labels = np.asarray(small_large.metadata.column("cluster").to_pylist())
    rng = np.random.default_rng(0)
    first, second = rng.integers(0, len(vectors), (2, 20_000))
    distance = np.linalg.norm(vectors[first] - vectors[second], axis=1)
    same = labels[first] == labels[second]
    assert np.median(distance[same]) < 0.25 * np.median(distance[~same])
    # The nearest neighbour of a point is in its cluster (curves and sub-clusters included).
    queries = rng.choice(len(vectors), 300, replace=False)
    norms = (vectors**2).sum(axis=1)
    squared = norms[queries, None] + norms[None, :] - 2 * vectors[queries] @ vectors.T
    squared[np.arange(300), queries] = np.inf
    assert (labels[squared.argmin(axis=1)] == labels[queries]).mean() > 0.99


def test_large_generated_in_memory_is_the_written_demo(small_large: Embedding) -> None:
    vectors, cluster = large.generate(20_000)
    np.testing.assert_array_equal(vectors, np.asarray(small_large.vectors))
    names = small_large.metadata.column("cluster").to_pylist()
    assert [f"c{c:02d}" for c in cluster.tolist()] == names
    # More dimensions: the same recipe (its 36 clusters), drawn in them.
    wide, wide_cluster = large.generate(20_000, dimensions=128)
    assert wide.shape == (20_000, 128) and wide.dtype == np.float32
    assert set(wide_cluster.tolist()) == set(cluster.tolist()) == set(range(36))


def test_the_real_large_demo(cache_dir: Path) -> None:
    logdir = prepare_demo("large", cache_dir=cache_dir)
    try:
        embedding = embedding_projector.open(logdir).embeddings[0]
        assert embedding.shape == (1_000_000, 64)  # from the config: nothing read
        tensor = logdir / "large" / "tensor.bytes"
        assert tensor.stat().st_size == 1_000_000 * 64 * 4
        assert not is_text_file(tensor)  # TensorBoard reads it as raw float32 too
        metadata = (logdir / "large" / "metadata.tsv").read_bytes()
        assert metadata.startswith(b"name\tgroup\tcluster\tscore\tsize\n")
        assert metadata.count(b"\n") == 1_000_001
    finally:
        shutil.rmtree(logdir)  # 284 MB


# Building, caching, rebuilding


@pytest.fixture
def tiny(monkeypatch: pytest.MonkeyPatch) -> list[Path]:
    """A demo ``tiny`` of three points; the list records the folders it was built in."""
    builds: list[Path] = []

    def build(logdir: Path, progress: Callable[[str], None]) -> None:
        builds.append(logdir)
        save_embeddings(logdir, "tiny", np.eye(3, dtype=np.float32), metadata=["a", "b", "c"])

    demo = Demo(name="tiny", description="three points", size="3 × 3", build=build, modules=())
    monkeypatch.setitem(DEMOS, "tiny", demo)
    return builds


def test_a_demo_is_built_once(tmp_path: Path, tiny: list[Path]) -> None:
    logdir = prepare_demo("tiny", cache_dir=tmp_path)
    assert logdir == tmp_path / "demos" / "tiny"
    assert prepare_demo("tiny", cache_dir=tmp_path) == logdir
    assert len(tiny) == 1 and tiny[0].parent == logdir.parent and tiny[0].name.startswith(".")
    assert embedding_projector.open(logdir).embeddings[0].shape == (3, 3)
    assert [path.name for path in (tmp_path / "demos").iterdir()] == ["tiny"]


def test_a_changed_generator_rebuilds(
    tmp_path: Path, tiny: list[Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    logdir = prepare_demo("tiny", cache_dir=tmp_path)
    (logdir / "stale.txt").write_text("from the old generator")
    monkeypatch.setitem(DEMOS, "tiny", dataclasses.replace(DEMOS["tiny"], inputs="changed"))
    assert prepare_demo("tiny", cache_dir=tmp_path) == logdir
    assert len(tiny) == 2
    assert not (logdir / "stale.txt").exists()
    assert [path.name for path in (tmp_path / "demos").iterdir()] == ["tiny"]


@pytest.mark.parametrize("interruption", [KeyboardInterrupt, OSError])
def test_an_interrupted_build_leaves_nothing_used(
    tmp_path: Path, tiny: list[Path], monkeypatch: pytest.MonkeyPatch, interruption: type
) -> None:
    working = DEMOS["tiny"]

    def interrupted(logdir: Path, progress: Callable[[str], None]) -> None:
        (logdir / "half.bytes").write_bytes(b"\0" * 100)
        raise interruption(28, "No space left on device")

    monkeypatch.setitem(DEMOS, "tiny", dataclasses.replace(working, build=interrupted))
    expected = ProjectorError if interruption is OSError else KeyboardInterrupt
    with pytest.raises(expected):
        prepare_demo("tiny", cache_dir=tmp_path)
    assert list((tmp_path / "demos").iterdir()) == []

    monkeypatch.setitem(DEMOS, "tiny", working)
    logdir = prepare_demo("tiny", cache_dir=tmp_path)
    assert not (logdir / "half.bytes").exists()


def test_a_failed_rebuild_keeps_the_previous_demo(
    tmp_path: Path, tiny: list[Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    logdir = prepare_demo("tiny", cache_dir=tmp_path)
    before = _files(logdir)

    def broken(logdir: Path, progress: Callable[[str], None]) -> None:
        raise RuntimeError("a bug in the new generator")

    changed = dataclasses.replace(DEMOS["tiny"], build=broken, inputs="changed")
    monkeypatch.setitem(DEMOS, "tiny", changed)
    with pytest.raises(RuntimeError):
        prepare_demo("tiny", cache_dir=tmp_path)
    assert _files(logdir) == before
    assert [path.name for path in (tmp_path / "demos").iterdir()] == ["tiny"]


def test_folders_of_killed_builds_are_removed_later(tmp_path: Path, tiny: list[Path]) -> None:
    demos = tmp_path / "demos"
    killed, running = demos / ".tiny.0badc0de.tmp", demos / ".tiny.5ca1ab1e.tmp"
    for folder in (killed, running):
        folder.mkdir(parents=True)
        (folder / "tensor.bytes").write_bytes(b"\1" * 8)
    two_hours_ago = time.time() - 7200
    os.utime(killed, (two_hours_ago, two_hours_ago))
    prepare_demo("tiny", cache_dir=tmp_path)
    assert not killed.exists()
    assert running.exists()  # perhaps another process building the same demo right now


def test_an_unwritable_cache_is_a_projector_error(tmp_path: Path, tiny: list[Path]) -> None:
    not_a_folder = tmp_path / "file"
    not_a_folder.write_text("")
    with pytest.raises(ProjectorError, match="cannot write the tiny demo"):
        prepare_demo("tiny", cache_dir=not_a_folder)
