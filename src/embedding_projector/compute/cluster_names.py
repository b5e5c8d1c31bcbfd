"""Names for clusters: their most distinctive terms, their majority category, or a number.

For a text column, class-based TF-IDF (as BERTopic's c-TF-IDF): the texts of
each cluster are joined into one document, scikit-learn's ``CountVectorizer``
counts the terms of these documents (English stop words left out) and its
``TfidfTransformer`` weighs them, so a term scores high in a cluster when it is
frequent there and rare in the other clusters. Equal scores are ordered by where
the term first appears in the data: word lists are usually sorted by frequency,
so a cluster of single words is named by its most frequent ones.

For a categorical column, the name is the cluster's most common value and its
share, "3 (94 %)" (equal counts: the value seen first). Without either, or
when a cluster's texts hold no term, it is "cluster 3".
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import Any

import numpy as np

from embedding_projector.errors import InvalidParameterError

#: Terms in a name drawn from a text column.
N_TERMS = 3


def name_clusters(
    labels: np.ndarray,
    *,
    text: Sequence[Any] | None = None,
    categories: Sequence[Any] | None = None,
) -> list[str]:
    """A short name for every cluster.

    Parameters
    ----------
    labels
        ``(N,)`` cluster of each point, 0 .. C - 1, or -1 for noise (not named).
    text
        A text column (one string per point; None or NaN for none): names are
        the cluster's :data:`N_TERMS` most distinctive terms, joined by ", ".
    categories
        A categorical column, used when there is no text column or a cluster's
        texts hold no term: its majority value and share.

    Returns
    -------
    list of str
        ``C`` names; name ``c`` is that of cluster ``c``.
    """
    labels = np.asarray(labels)
    n_clusters = int(labels.max(initial=-1)) + 1
    for name, column in (("text", text), ("categories", categories)):
        if column is not None and len(column) != labels.size:
            raise InvalidParameterError(
                f"`{name}` must have one value per point ({labels.size}), got {len(column)}"
            )
    names = [f"cluster {c}" for c in range(n_clusters)]
    if categories is not None:
        names = [_majority(categories, labels, c) or names[c] for c in range(n_clusters)]
    if text is not None:
        terms = _distinctive_terms(text, labels, n_clusters)
        names = [", ".join(terms[c]) or names[c] for c in range(n_clusters)]
    return names


def _distinctive_terms(text: Sequence[Any], labels: np.ndarray, n_clusters: int) -> list[list[str]]:
    """The :data:`N_TERMS` highest class-based TF-IDF terms of each cluster."""
    from sklearn.feature_extraction.text import CountVectorizer, TfidfTransformer

    members = [np.flatnonzero(labels == c) for c in range(n_clusters)]
    documents = [" ".join(_as_text(text[i]) for i in rows.tolist()) for rows in members]
    vectorizer = CountVectorizer(stop_words="english")
    try:
        counts = vectorizer.fit_transform(documents)
    except ValueError:  # not a single term in any cluster
        return [[] for _ in range(n_clusters)]
    scores = TfidfTransformer().fit_transform(counts).tocsr()
    vocabulary = vectorizer.get_feature_names_out()
    analyze = vectorizer.build_analyzer()
    terms: list[list[str]] = []
    for c in range(n_clusters):
        row = scores.getrow(c)
        if row.nnz == 0:
            terms.append([])
            continue
        first_seen: dict[str, int] = {}
        for place, term in enumerate(analyze(documents[c])):
            first_seen.setdefault(term, place)
        ranked = sorted(
            zip(row.data.tolist(), vocabulary[row.indices].tolist(), strict=True),
            key=lambda pair: (-pair[0], first_seen[pair[1]]),
        )
        terms.append([term for _, term in ranked[:N_TERMS]])
    return terms


def _majority(categories: Sequence[Any], labels: np.ndarray, cluster: int) -> str | None:
    """The cluster's most common value and its share, or None when it has none."""
    values = [categories[i] for i in np.flatnonzero(labels == cluster).tolist()]
    present = [v for v in values if _as_text(v) != ""]
    if not present:
        return None
    # Counter keeps first-seen order among equal counts.
    value, count = Counter(present).most_common(1)[0]
    return f"{value} ({round(100 * count / len(values))} %)"


def _as_text(value: Any) -> str:
    """A value as text; None and NaN are empty."""
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return ""
    return str(value)
