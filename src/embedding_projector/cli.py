"""The ``projector`` command."""

from __future__ import annotations

import click

from embedding_projector import __version__


@click.group()
@click.version_option(__version__, prog_name="projector")
def main() -> None:
    """See your embeddings: TensorBoard's Embedding Projector, without TensorFlow."""
