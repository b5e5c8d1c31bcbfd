"""The methods' records: one definition of every parameter, used by validation and the worker."""

from __future__ import annotations

from dataclasses import asdict, fields
from typing import get_args

import numpy as np
import pytest

from embedding_projector.compute import params, pca, tsne, umap
from embedding_projector.compute.methods import DEFAULT_SEED, METHODS, MethodName
from embedding_projector.compute.spec import parse_spec
from embedding_projector.errors import InvalidParameterError


def test_every_method_has_one_record() -> None:
    assert tuple(METHODS) == get_args(MethodName)
    for method in METHODS.values():
        declared = params.params_of(method.params)
        # Every field is a declared parameter, with its default as the field's default.
        assert list(declared) == [f.name for f in fields(method.params)]
        assert asdict(method.params()) == {name: p.default for name, p in declared.items()}


def test_defaults_are_the_ones_documented_in_decisions() -> None:
    assert tsne.TsneParams().n_iter == 750  # docs/decisions.md: t-SNE
    assert tsne.TsneParams().perplexity == 30
    assert umap.UmapParams().n_neighbors == 15
    assert pca.PcaParams().components is None


@pytest.mark.parametrize(
    ("n_samples", "perplexity"),
    [(8, 2), (10, 2), (30, 9), (90, 29), (91, 29), (92, 30), (1000, 30)],
)
def test_default_perplexity_fits_n(n_samples: int, perplexity: int) -> None:
    spec = parse_spec({"method": "tsne"}, n_samples, 16)
    assert spec.params["perplexity"] == perplexity
    assert perplexity < (n_samples - 1) / 3
    # The same value is valid when asked for explicitly; one more is not (below 30).
    parse_spec({"method": "tsne", "params": {"perplexity": perplexity}}, n_samples, 16)
    if perplexity < 30:
        with pytest.raises(InvalidParameterError, match="`perplexity` must be <"):
            parse_spec({"method": "tsne", "params": {"perplexity": perplexity + 1}}, n_samples, 16)


@pytest.mark.parametrize(("n_samples", "neighbors"), [(6, 5), (12, 11), (16, 15), (500, 15)])
def test_default_umap_neighbours_fit_n(n_samples: int, neighbors: int) -> None:
    assert parse_spec({"method": "umap"}, n_samples, 4).params["n_neighbors"] == neighbors


def test_too_few_points_for_a_method() -> None:
    with pytest.raises(InvalidParameterError, match="t-SNE needs at least 8 points, got 7"):
        parse_spec({"method": "tsne"}, 7, 4)
    with pytest.raises(InvalidParameterError, match="`n_neighbors` must be < n_samples = 5"):
        parse_spec({"method": "umap"}, 5, 4)


def test_requests_without_a_seed_get_the_default_seed() -> None:
    assert parse_spec({"method": "umap"}, 100, 4).seed == DEFAULT_SEED
    assert parse_spec({"method": "umap", "seed": None}, 100, 4).seed is None


def test_defaults_fill_in_what_is_not_given(small_dataset: np.ndarray) -> None:
    spec = parse_spec({"method": "tsne", "params": {"n_iter": 300}}, *small_dataset.shape)
    assert spec.params == {**asdict(tsne.TsneParams()), "n_iter": 300}


def test_unknown_and_out_of_range_parameters_name_the_field() -> None:
    with pytest.raises(InvalidParameterError, match="unknown parameter `perplexity`"):
        parse_spec({"method": "umap", "params": {"perplexity": 5}}, 100, 4)
    with pytest.raises(InvalidParameterError, match="`n_iter` must be between 1 and 100000"):
        parse_spec({"method": "tsne", "params": {"n_iter": 0}}, 100, 4)
    with pytest.raises(InvalidParameterError, match="`learning_rate` must be a number"):
        parse_spec({"method": "tsne", "params": {"learning_rate": "fast"}}, 100, 4)
