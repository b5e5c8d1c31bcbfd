"""The ``projector`` command."""

from __future__ import annotations

import json
import sys
import traceback
from collections.abc import Callable
from typing import Any, TypeVar

import click

from embedding_projector import __version__
from embedding_projector.errors import ProjectorError

F = TypeVar("F", bound=Callable[..., Any])


def _debug_option(f: F) -> F:
    return click.option("--debug", is_flag=True, help="Show the full traceback of an error.")(f)


def fail(exc: BaseException, debug: bool) -> None:
    """Report an error on one line of stderr (with the traceback under ``--debug``), exit 1."""
    if debug:
        traceback.print_exception(exc)
    elif isinstance(exc, ProjectorError):
        click.echo(f"error: {exc}", err=True)
    else:
        click.echo(
            f"error: {type(exc).__name__}: {exc} (this is a bug; run with --debug and report it)",
            err=True,
        )
    sys.exit(1)


@click.group()
@click.version_option(__version__, prog_name="projector")
def main() -> None:
    """See your embeddings: TensorBoard's Embedding Projector, without TensorFlow."""


@main.command()
@click.argument("path", type=click.Path(path_type=str, readable=False))
@click.option("--json", "as_json", is_flag=True, help="Print one JSON document instead of text.")
@click.option(
    "--metadata", type=click.Path(readable=False), help="A metadata file for a file or checkpoint."
)
@_debug_option
def inspect(path: str, as_json: bool, metadata: str | None, debug: bool) -> None:
    """List the runs and embeddings found in PATH, with metadata, sprites and warnings."""
    from embedding_projector.cli_inspect import format_workspace
    from embedding_projector.dataset.opening import open_path
    from embedding_projector.dataset.summary import describe_workspace

    try:
        document = describe_workspace(open_path(path, metadata=metadata))
    except Exception as exc:  # every error gets one line; --debug shows the rest
        fail(exc, debug)
    if as_json:
        click.echo(json.dumps(document, indent=2))
    else:
        click.echo(format_workspace(document))
