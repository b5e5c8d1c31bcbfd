"""The ``words`` demo: word vectors trained here, in seconds, on Python's own prose.

The classic count-based recipe (Levy, Goldberg and Dagan, "Improving distributional
similarity with lessons learned from word embeddings", 2015), on the corpus of
:mod:`.stdlib_text`:

1. drop English stop words and words of fewer than two letters, which carry no topic;
2. count how often two words occur within :data:`WINDOW` words of each other,
   weighting a pair by 1 / distance;
3. positive pointwise mutual information (PPMI), with the context counts raised
   to the power :data:`CONTEXT_SMOOTHING` so that rare contexts do not dominate;
4. truncated SVD, ``U · Σ^0.5``, rows scaled to unit length (cosine neighbours).

Neighbours come out as a programmer expects: ``socket`` is near ``sockets``,
``connected``, ``tcp``; ``lock`` near ``acquire``, ``released``.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from embedding_projector.demos.stdlib_text import PARTS, Corpus, read_corpus
from embedding_projector.projector import save_embeddings

VOCABULARY_SIZE = 6000
"""The most frequent words get vectors; rarer ones (seen 4 times or fewer) would be noise."""
DIMENSIONS = 100
WINDOW = 5
MIN_CONTEXT_COUNT = 3
"""Words seen fewer times are not used as contexts."""
CONTEXT_SMOOTHING = 0.75
EIGENVALUE_POWER = 0.5
RANDOM_STATE = 0
MIXED = "mixed"
"""The ``source`` of a word that no single part of the corpus holds most of."""


@dataclass(frozen=True)
class WordVectors:
    """Trained word vectors, most frequent word first."""

    words: list[str]
    vectors: np.ndarray
    """``float32``, one unit-length row per word."""
    frequency: list[int]
    """Occurrences in the corpus."""
    source: list[str]
    """The part of the corpus each word is characteristic of (see :func:`characteristic_parts`)."""


def write_words(logdir: Path, progress: Callable[[str], None]) -> None:
    """Write the ``words`` log dir.

    Parameters
    ----------
    logdir
        An empty folder: receives ``projector_config.pbtxt`` and ``words/`` (raw
        float32 vectors and ``metadata.tsv`` with the columns ``word``,
        ``frequency`` and ``source``).
    progress
        Called with a line of text at each step.
    """
    progress("words: reading the docstrings, comments and help texts of Python's library")
    corpus = read_corpus()
    total = sum(len(passage) for passages in corpus.values() for passage in passages)
    progress(f"words: training word vectors (PPMI + SVD) on {total:,} words")
    model = train_word_vectors(corpus)
    metadata = {"word": model.words, "frequency": model.frequency, "source": model.source}
    save_embeddings(logdir, "words", model.vectors, metadata=metadata)


def train_word_vectors(corpus: Corpus) -> WordVectors:
    """Train PPMI + SVD word vectors.

    Parameters
    ----------
    corpus
        Passages of words, by part (see :func:`.stdlib_text.read_corpus`).

    Returns
    -------
    WordVectors
        Up to :data:`VOCABULARY_SIZE` words, of :data:`DIMENSIONS` dimensions.
    """
    kept = content_words(corpus)
    part_counts = {part: Counter(w for p in passages for w in p) for part, passages in kept.items()}
    counts = sum(part_counts.values(), Counter())
    # By frequency, ties alphabetically: the same order on every run.
    by_frequency = sorted(counts.items(), key=lambda item: (-item[1], item[0]))
    contexts = [word for word, count in by_frequency if count >= MIN_CONTEXT_COUNT]
    passages = [passage for part in PARTS for passage in kept[part]]
    ppmi = ppmi_matrix(cooccurrence_matrix(passages, contexts, WINDOW))
    # A word whose every context is less frequent than chance has no vector.
    rows = np.flatnonzero(np.diff(ppmi.indptr) > 0)[:VOCABULARY_SIZE]
    vocabulary = [contexts[row] for row in rows]
    return WordVectors(
        words=vocabulary,
        vectors=embed(ppmi[rows], DIMENSIONS),
        frequency=[counts[word] for word in vocabulary],
        source=characteristic_parts(vocabulary, part_counts),
    )


def content_words(corpus: Corpus) -> Corpus:
    """The corpus without stop words and words of fewer than two letters, which carry no topic."""
    # Imported here: only this demo needs it, and scikit-learn is slow to import.
    from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

    distinct = {word for passages in corpus.values() for passage in passages for word in passage}
    # Two letters at least: "a0", "x2" are hex digits and variables, not words.
    content = {
        word
        for word in distinct
        if word not in ENGLISH_STOP_WORDS and sum(char.isalpha() for char in word) > 1
    }
    return {
        part: [[word for word in passage if word in content] for passage in passages]
        for part, passages in corpus.items()
    }


def cooccurrence_matrix(passages: list[list[str]], words: list[str], window: int) -> Any:
    """Co-occurrence counts, weighted by 1 / distance, as a ``scipy.sparse`` CSR matrix.

    Row and column ``i`` stand for ``words[i]``; other words are skipped but keep
    their place, so distances are counted in the original text. Passages do not
    run into each other.
    """
    import scipy.sparse

    index = {word: i for i, word in enumerate(words)}
    gap = [-1] * window
    ids = np.array(
        [i for passage in passages for i in [*(index.get(w, -1) for w in passage), *gap]],
        dtype=np.int64,
    )
    rows, columns, weights = [], [], []
    for distance in range(1, window + 1):
        left, right = ids[:-distance], ids[distance:]
        both = (left >= 0) & (right >= 0)
        rows += [left[both], right[both]]
        columns += [right[both], left[both]]
        weights.append(np.full(2 * int(both.sum()), 1.0 / distance))
    n = len(words)
    # Duplicate (row, column) pairs are summed when the matrix is built.
    return scipy.sparse.csr_matrix(
        (np.concatenate(weights), (np.concatenate(rows), np.concatenate(columns))), shape=(n, n)
    )


def ppmi_matrix(counts: Any) -> Any:
    """Positive PMI of a co-occurrence matrix, with smoothed context probabilities.

    ``PMI(w, c) = log(P(w, c) / (P(w) · P_a(c)))`` with ``P_a(c) ∝ count(c)^a``,
    ``a`` = :data:`CONTEXT_SMOOTHING`; negative values become 0 (absent).
    """
    import scipy.sparse

    pairs = counts.tocoo()
    word_totals = np.asarray(counts.sum(axis=1)).ravel()
    context_weights = np.asarray(counts.sum(axis=0)).ravel() ** CONTEXT_SMOOTHING
    pmi = np.log(
        pairs.data * context_weights.sum() / (word_totals[pairs.row] * context_weights[pairs.col])
    )
    positive = pmi > 0
    return scipy.sparse.csr_matrix(
        (pmi[positive], (pairs.row[positive], pairs.col[positive])), shape=counts.shape
    )


def embed(ppmi: Any, dimensions: int) -> np.ndarray:
    """``U · Σ^p`` (p = :data:`EIGENVALUE_POWER`) of a truncated SVD, rows of unit length."""
    from sklearn.utils.extmath import randomized_svd
    from threadpoolctl import threadpool_limits

    # One BLAS thread: the same bytes on any machine, and faster than threads that
    # compete for a busy machine's cores (5 s against 1 s measured on 2 cores).
    with threadpool_limits(limits=1, user_api="blas"):
        u, sigma, _ = randomized_svd(ppmi, dimensions, n_iter=5, random_state=RANDOM_STATE)
    vectors = u * sigma**EIGENVALUE_POWER
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    return np.asarray(vectors, dtype=np.float32)


def characteristic_parts(words: list[str], part_counts: dict[str, Counter[str]]) -> list[str]:
    """The part of the corpus where each word is most at home, or :data:`MIXED`.

    A word's rate in a part is its count per word of that part. The part whose rate
    is more than half of the sum of the rates is the word's part: ``syntax`` is a
    ``pydoc topics`` word, ``xxx`` a ``comments`` word, ``deprecated`` a
    ``messages`` word; ``file`` is ``mixed``.
    """
    parts = list(part_counts)
    sizes = np.array([max(part_counts[part].total(), 1) for part in parts], dtype=np.float64)
    rates = np.array([[part_counts[part][word] for part in parts] for word in words]) / sizes
    best = rates.argmax(axis=1)
    at_home = rates.max(axis=1) > rates.sum(axis=1) / 2
    return [parts[b] if home else MIXED for b, home in zip(best, at_home, strict=True)]
