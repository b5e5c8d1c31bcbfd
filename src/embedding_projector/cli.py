"""The ``projector`` command."""

from __future__ import annotations

import json
import sys
import traceback
from collections.abc import Callable
from typing import Any, TypeVar

import click

from embedding_projector._version import __version__
from embedding_projector.errors import ProjectorError
from embedding_projector.server.settings import DEFAULT_LOD_THRESHOLD

F = TypeVar("F", bound=Callable[..., Any])


def _debug_option(f: F) -> F:
    return click.option("--debug", is_flag=True, help="Show the full traceback of an error.")(f)


def _page_options(f: F) -> F:
    """The options of every command that serves the page."""
    for option in reversed(
        [
            click.option(
                "--port",
                default=6006,
                show_default=True,
                type=click.IntRange(0, 65535),
                help="Port (the next free one if busy).",
            ),
            click.option("--no-browser", is_flag=True, help="Do not open a browser."),
            click.option(
                "--projection",
                type=click.Choice(["pca", "tsne", "umap", "custom"]),
                help="The projection the page shows first (default: PCA; the digits demo: t-SNE).",
            ),
            click.option(
                "--lod-threshold",
                type=click.IntRange(min=1),
                help="Layouts of more points than this reach the page as tiles, loaded as the "
                f"view needs them (default: {DEFAULT_LOD_THRESHOLD:,}).",
            ),
        ]
    ):
        f = option(f)
    return f


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


class _DefaultServe(click.Group):
    """``projector PATH`` and ``projector --logdir DIR`` mean ``projector serve ...``."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        group_flags = {"--help", "-h", "--version"}
        if args and args[0] not in self.commands and args[0] not in group_flags:
            args = ["serve", *args]
        return super().parse_args(ctx, args)


@click.group(cls=_DefaultServe, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="projector")
def main() -> None:
    """See your embeddings: TensorBoard's Embedding Projector, without TensorFlow.

    \b
    projector --logdir DIR      serve a TensorBoard log dir
    projector PATH              serve any input (checkpoint, .npy, .parquet, ...)
    projector inspect PATH      list what PATH holds
    projector demo [NAME]       serve a built-in demo (digits, words, large)
    """


@main.command()
@click.argument("path", required=False, type=click.Path(path_type=str, readable=False))
@click.option("--logdir", type=click.Path(readable=False), help="A TensorBoard log dir to serve.")
@click.option("--metadata", type=click.Path(readable=False), help="A metadata file for PATH.")
@click.option("--sprite", type=click.Path(readable=False), help="A sprite atlas for PATH.")
@click.option(
    "--sprite-size", nargs=2, type=click.IntRange(min=1), help="Width and height of a thumbnail."
)
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@_page_options
@click.option("--workers", type=click.IntRange(min=1), help="Compute processes (default: cores).")
@click.option(
    "--dask",
    metavar="ADDRESS",
    help="Compute on a Dask cluster: a scheduler (tcp://host:8786) or local[:N] for N "
    "local worker processes (default: $EMBEDDING_PROJECTOR_DASK; needs the dask extra).",
)
@_debug_option
def serve(
    path: str | None,
    logdir: str | None,
    metadata: str | None,
    sprite: str | None,
    sprite_size: tuple[int, int] | None,
    host: str,
    port: int,
    no_browser: bool,
    projection: str | None,
    lod_threshold: int | None,
    workers: int | None,
    dask: str | None,
    debug: bool,
) -> None:
    """Serve PATH (or --logdir DIR) in the projector page."""
    from embedding_projector.server.serve import run_server

    target = logdir or path
    if target is None or (logdir and path):
        raise click.UsageError("give a PATH or --logdir DIR (one of them)")
    try:
        run_server(
            target,
            metadata=metadata,
            sprite=sprite,
            sprite_size=sprite_size or None,
            host=host,
            port=port,
            open_browser=not no_browser,
            projection=projection,
            lod_threshold=lod_threshold,
            workers=workers,
            dask=dask,
            debug=debug,
        )
    except Exception as exc:  # one line, or the traceback under --debug
        fail(exc, debug)


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


@main.command()
@click.argument("name", default="digits", type=click.Choice(["digits", "words", "large"]))
@click.option(
    "--rows",
    type=click.IntRange(min=1),
    help="Build the large demo with this many points (e.g. 10000000), once, in the cache.",
)
@_page_options
@_debug_option
def demo(
    name: str,
    rows: int | None,
    port: int,
    no_browser: bool,
    projection: str | None,
    lod_threshold: int | None,
    debug: bool,
) -> None:
    """Serve a built-in demo: digits (1,797 images), words (6,000 word vectors trained on
    Python's own documentation) or large (1,000,000 points; --rows for another size).
    Built once, without a download."""
    from embedding_projector.demos import DEMOS, prepare_demo
    from embedding_projector.server.serve import run_server

    try:
        size = DEMOS[name].size if rows is None else f"{rows:,} points"
        click.echo(f"demo {name}: {DEMOS[name].description} ({size})")
        logdir = prepare_demo(name, rows=rows, progress=lambda step: click.echo(f"  {step}"))
        run_server(
            str(logdir),
            port=port,
            open_browser=not no_browser,
            projection=projection or DEMOS[name].projection,
            lod_threshold=lod_threshold,
            debug=debug,
        )
    except Exception as exc:  # one line, or the traceback under --debug
        fail(exc, debug)
