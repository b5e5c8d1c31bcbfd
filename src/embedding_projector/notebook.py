"""The projector from Python: ``show(vectors, metadata)``, ``compare(a, b)`` and ``serve(path)``.

In a notebook (Jupyter, VS Code, Colab, marimo), ``show()`` and ``%projector`` return a
:class:`~embedding_projector.widget.ProjectorWidget`: the page in the cell's output, its
data over the notebook's own connection, its selection, colours and layout as traits.
In a script, ``show()`` and ``serve()`` start the server in a background thread of this
process and return a :class:`Projector` handle: its ``url``, the rows the user selects
in the page (``selection``, kept current), and ``stop()``; the browser opens.

``%load_ext embedding_projector`` adds ``%projector --logdir DIR`` (or ``%projector
PATH``), as ``%tensorboard`` does.
"""

from __future__ import annotations

import argparse
import atexit
import os
import re
import shlex
import shutil
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import numpy as np

from embedding_projector.dataset.model import Workspace
from embedding_projector.dataset.opening import open_path
from embedding_projector.errors import InvalidParameterError, ProjectorError
from embedding_projector.notebook_proxy import LOCAL, notebook_route
from embedding_projector.server.serve import (
    PreparedServer,
    new_token,
    open_browser_later,
    prepare_server,
)
from embedding_projector.server.settings import DEFAULT_PORT
from embedding_projector.server.state import ServerState, embedding_id
from embedding_projector.user_cache import default_cache_dir
from embedding_projector.widget import DEFAULT_HEIGHT, ProjectorWidget, in_marimo

_STARTED_WITHIN = 30.0
_running: list[Projector] = []


class Projector:
    """A projector served from this process (see :func:`show` and :func:`serve`)."""

    def __init__(self, prepared: PreparedServer) -> None:
        self.url = prepared.url
        self._state: ServerState = prepared.app.state.projector
        self._server = prepared.uvicorn_server()
        self._thread = threading.Thread(
            target=self._server.run, kwargs={"sockets": [prepared.sock]}, daemon=True,
            name="embedding-projector",
        )  # fmt: skip
        self._thread.start()
        deadline = time.monotonic() + _STARTED_WITHIN
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the projector server did not start; see the log above")
            time.sleep(0.01)
        _running.append(self)

    def __repr__(self) -> str:
        state = "running" if self._thread.is_alive() else "stopped"
        return f"<Projector {state} at {self.url}>"

    @property
    def selection(self) -> np.ndarray:
        """Row indices the user selected in the page (the latest selection, ascending)."""
        latest = self._state.last_selected
        if latest is None:
            return np.empty(0, dtype=np.int64)
        return self._state.selections[latest].copy()

    def stop(self) -> None:
        """Stop the server and its worker processes."""
        self._server.should_exit = True
        self._thread.join(timeout=30)
        if self in _running:
            _running.remove(self)

    def wait(self) -> None:
        """Block until Ctrl-C (for scripts), then stop."""
        try:
            while self._thread.is_alive():
                self._thread.join(timeout=0.5)
        except KeyboardInterrupt:
            pass
        finally:
            self.stop()


@atexit.register
def _stop_all() -> None:
    for projector in list(_running):
        projector.stop()


def show(
    vectors: Any,
    metadata: Any = None,
    images: Any = None,
    *,
    labels: Any = None,
    name: str = "embedding",
    port: int = DEFAULT_PORT,
    open_browser: bool | None = None,
    height: int = DEFAULT_HEIGHT,
    projection: str | None = None,
) -> ProjectorWidget | Projector:
    """Show vectors in the projector: a widget in a notebook, the browser from a script.

    The arguments are checked first: what is wrong with them raises
    :class:`~embedding_projector.errors.InvalidParameterError`, naming the argument, before
    anything is shown.

    Parameters
    ----------
    vectors
        ``N x D`` numbers: a numpy array, nested lists, a PyTorch tensor, a pandas or
        polars DataFrame or a pyarrow Table of numeric columns. Or a training timeline:
        a list of such arrays, or a dict of them (``{"step 0": X0, "step 1000": X1}``),
        oldest first, the same rows in each; the page then has a step slider. Keys that
        end in increasing numbers give the steps those numbers, else steps count 0, 1, ….
        ``metadata``, ``images`` and ``labels`` describe the rows of the last one.
    metadata
        Per-row metadata: a list of labels, a dict of columns, a pandas or polars
        DataFrame, or a pyarrow Table.
    images
        One thumbnail per row (``N x H x W`` or ``N x H x W x C``), shown as sprites.
    labels
        One label per row; added as a ``label`` column in front of ``metadata``.
    name
        The embedding's name in the page.
    port
        Outside a notebook: where to serve; the next free port when busy.
    open_browser
        Outside a notebook: open a browser tab (by default, yes).
    height
        Height of the widget in a notebook, in pixels.
    projection
        The projection to show first (``pca``, ``tsne``, ``umap``, ``custom``).

    Returns
    -------
    ProjectorWidget | Projector
        In a notebook, the widget (displayed): ``.selection``, ``.color_by``,
        ``.label_by``, ``.projection``, ``.dims``, ``.layout``. From a script, the server:
        ``.url``, ``.selection`` (the rows selected in the page), ``.stop()``, ``.wait()``.
    """
    from embedding_projector.formats.arrays import float32_matrix

    steps = _steps(name, vectors) if _is_timeline(vectors) else [(name, vectors)]
    matrices = [(tensor, float32_matrix(_numeric(X))) for tensor, X in steps]
    table = _metadata_table(metadata, labels, matrices[-1][1].shape[0])
    # a timeline's metadata and images go with its last step
    entries = [(tensor, matrix, None, None) for tensor, matrix in matrices[:-1]]
    folder = _session_logdir([*entries, (*matrices[-1], table, images)])
    if _in_notebook() or in_marimo():
        return _widget(open_path(folder), height=height, projection=projection)
    return serve(folder, port=port, open_browser=open_browser, height=height, projection=projection)


def compare(
    a: Any,
    b: Any,
    metadata: Any = None,
    *,
    labels: Any = None,
    names: tuple[str, str] = ("a", "b"),
    port: int = DEFAULT_PORT,
    open_browser: bool | None = None,
    height: int = DEFAULT_HEIGHT,
    projection: str | None = None,
) -> ProjectorWidget | Projector:
    """Compare two embeddings of the same items point by point: the projector's compare view.

    ``a`` and ``b`` side by side, each in its own projection, linked (selection, hover,
    colours, search), coloured by each point's overlap: the share of its k nearest
    neighbours that are the same in both spaces (Jaccard, exact). A list ranks the least
    stable points; selecting one lists its neighbours in each space.

    Parameters
    ----------
    a, b
        ``N x D_a`` and ``N x D_b`` numbers (as for :func:`show`; the dimensions may
        differ): row ``i`` of both is the same item.
    metadata
        Per-row metadata of both (as for :func:`show`), or a pair ``(of_a, of_b)`` when
        the rows of ``b`` are in another order: they are then paired by a column of
        unique labels that both have.
    labels
        One label per row of both; added as a ``label`` column.
    names
        The two embeddings' names in the page.
    port, open_browser, height, projection
        As for :func:`show`.

    Returns
    -------
    ProjectorWidget | Projector
        As :func:`show`: the widget in a notebook, the server from a script.

    Raises
    ------
    InvalidParameterError
        Before anything is shown: naming the argument that is wrong, or saying that ``a``
        and ``b`` are not the same items (their rows differ and no labels pair them).
    """
    from embedding_projector.dataset.alignment import align_rows
    from embedding_projector.formats.arrays import float32_matrix

    if names[0] == names[1]:
        raise InvalidParameterError(f"`names` must be two different names, got {names!r}")
    matrices = (float32_matrix(_numeric(a), "a"), float32_matrix(_numeric(b), "b"))
    pair = metadata if isinstance(metadata, tuple) and len(metadata) == 2 else (metadata,) * 2
    tables = [_metadata_table(m, labels, x.shape[0]) for m, x in zip(pair, matrices, strict=True)]
    try:  # the page would say so too: say it here, before anything is written or shown
        align_rows(_rows_table(tables[0], matrices[0]), _rows_table(tables[1], matrices[1]), names)
    except ProjectorError as error:
        raise InvalidParameterError(str(error)) from None
    folder = _session_logdir(list(zip(names, matrices, tables, (None, None), strict=True)))
    workspace = open_path(folder)
    ids = {e.name: embedding_id(e) for e in workspace.embeddings}
    if _in_notebook() or in_marimo():
        widget = ProjectorWidget(
            workspace, height=height, projection=projection, compare=ids[names[1]]
        )
        if _in_notebook():
            widget.display_once()
        return widget
    fragment = f"embedding={ids[names[0]]}&compare={ids[names[1]]}"
    return serve(
        workspace,
        port=port,
        open_browser=open_browser,
        height=height,
        projection=projection,
        fragment=fragment,
    )


def _rows_table(table: Any, matrix: np.ndarray) -> Any:
    """The metadata the server will pair rows by: ``table``, or row numbers without one."""
    import pyarrow as pa

    return table if table is not None else pa.table({"index": np.arange(matrix.shape[0])})


def serve(
    path_or_workspace: str | os.PathLike[str] | Workspace,
    *,
    port: int = DEFAULT_PORT,
    open_browser: bool | None = None,
    height: int = DEFAULT_HEIGHT,
    projection: str | None = None,
    fragment: str = "",
    dask: Any = None,
) -> Projector:
    """Serve a log dir, any input of :func:`embedding_projector.open`, or a workspace.

    ``fragment`` is the page's view to open (its URL hash, as the page writes it: e.g.
    ``embedding=ID&projection=umap``).

    The server runs in a background thread; in a script, call ``.wait()`` to keep it
    running until Ctrl-C. Displayed inline in Jupyter, like :func:`show`: through the
    Jupyter server's proxy (``<base_url>proxy/<port>/``) when jupyter-server-proxy is
    installed, through Colab's proxy in Colab, so that a browser on another machine than the
    kernel shows it too.

    ``dask`` sends the work that grows with N (projections, neighbour search) to a Dask
    cluster: a ``distributed.Client``, a scheduler's address (``"tcp://host:8786"``) or
    ``"local"`` / ``"local:N"`` (a ``LocalCluster`` of N processes); default
    ``$EMBEDDING_PROJECTOR_DASK``, else this machine only. Needs the ``dask`` extra.
    """
    workspace = (
        path_or_workspace if isinstance(path_or_workspace, Workspace)
        else open_path(path_or_workspace)
    )  # fmt: skip
    inline = _in_notebook()
    route = notebook_route() if inline else LOCAL
    prepared = prepare_server(
        workspace,
        port=port,
        projection=projection,
        dask=dask,
        say=print,
        token=new_token() if route.needs_token else None,
        judge_host=route.judge_host,
    )
    projector = Projector(prepared)
    bound = prepared.sock.getsockname()[1]
    hash_part = f"#{fragment}" if fragment else ""
    url = route.url(projector.url, bound, prepared.token) + hash_part
    if inline:
        route.display(url, bound, height)
    if open_browser if open_browser is not None else not inline:
        open_browser_later(projector.url + hash_part, delay=0)
    print(f"Embedding Projector at {url}{route.note(projector.url)}")
    return projector


def _widget(workspace: Workspace, *, height: int, projection: str | None) -> ProjectorWidget:
    """The widget of ``workspace``, displayed in the cell when this is Jupyter."""
    widget = ProjectorWidget(workspace, height=height, projection=projection)
    if _in_notebook():
        widget.display_once()
    return widget


def _in_notebook() -> bool:
    """Whether this runs in a Jupyter kernel (where an iframe can be displayed)."""
    try:
        from IPython import get_ipython
    except ImportError:
        return False
    return hasattr(get_ipython(), "kernel")


def _metadata_table(metadata: Any, labels: Any, n_rows: int) -> Any:
    """Metadata as a pyarrow Table (or None), with ``labels`` as a first ``label`` column."""
    import pyarrow as pa

    if metadata is None and labels is None:
        return None
    columns: dict[str, Any] = {}
    if labels is not None:
        columns["label"] = _one_per_row("`labels`", list(labels), n_rows)
    if metadata is not None:
        if isinstance(metadata, dict):
            table = pa.table(
                {
                    str(k): _one_per_row(f"column {str(k)!r} of `metadata`", list(v), n_rows)
                    for k, v in metadata.items()
                }
            )
        elif hasattr(metadata, "to_arrow"):  # polars
            table = metadata.to_arrow()
        elif hasattr(metadata, "columns") and hasattr(metadata, "to_dict"):  # pandas
            table = pa.Table.from_pandas(metadata, preserve_index=False)
        elif isinstance(metadata, pa.Table):
            table = metadata
        else:
            table = pa.table({"label" if labels is None else "metadata": list(metadata)})
        _one_per_row("`metadata`", range(table.num_rows), n_rows)
        for column_name in table.column_names:
            if column_name in columns:
                raise InvalidParameterError(f"`metadata` repeats the column {column_name!r}")
            columns[column_name] = table.column(column_name)
    return pa.table(columns)


def _one_per_row(what: str, values: Any, n_rows: int) -> Any:
    """``values``, when there is one per vector."""
    if len(values) != n_rows:
        count = len(values)
        raise InvalidParameterError(
            f"{what} has {count} row{'s' * (count != 1)} but there are {n_rows} vectors; "
            "give one per row"
        )
    return values


def _is_timeline(vectors: Any) -> bool:
    """A dict of arrays, or a list of 2-D arrays (a list of rows is one array)."""
    if isinstance(vectors, dict):
        return True
    return isinstance(vectors, list) and bool(vectors) and all(np.ndim(X) == 2 for X in vectors)


def _steps(name: str, timeline: list[Any] | dict[Any, Any]) -> list[tuple[str, Any]]:
    """The tensors of a timeline, named as ``add_embedding`` names its steps (``name:01000``)."""
    items = list(timeline.items()) if isinstance(timeline, dict) else list(enumerate(timeline))
    if len(items) < 2:
        raise InvalidParameterError(
            f"a timeline needs two or more steps, got {len(items)}; give one array for one step"
        )
    found = [re.search(r"(\d+)\s*$", str(key)) for key, _ in items]
    numbers = [int(m.group(1)) if m else -1 for m in found]
    if any(m is None for m in found) or numbers != sorted(set(numbers)):
        numbers = list(range(len(items)))  # keys without increasing numbers: their order
    return [(f"{name}:{n:05d}", X) for n, (_, X) in zip(numbers, items, strict=True)]


def _session_logdir(entries: list[tuple[str, np.ndarray, Any, Any]]) -> Path:
    """A log dir in the cache holding these tensors (name, vectors, metadata, images: one
    embedding, the steps of a timeline, or the two sides of a comparison), named by their
    content.

    Showing the same data again reuses it, so computed projections come from the cache.
    """
    import xxhash

    from embedding_projector.formats.tsv_writer import metadata_to_tsv
    from embedding_projector.projector import save_embeddings

    digest = xxhash.xxh3_128()
    for name, matrix, metadata, images in entries:
        digest.update(name.encode())
        digest.update(f"{matrix.shape}".encode())
        digest.update(matrix.data.cast("B"))
        if metadata is not None:
            digest.update(metadata_to_tsv(metadata, matrix.shape[0]))
        if images is not None:
            digest.update(np.ascontiguousarray(np.asarray(images)).tobytes())
    folder = default_cache_dir() / "sessions" / digest.hexdigest()[:20]
    if not (folder / "projector_config.pbtxt").is_file():
        folder.parent.mkdir(parents=True, exist_ok=True)
        building = Path(tempfile.mkdtemp(dir=folder.parent, prefix=".building-"))
        try:
            for name, matrix, metadata, images in entries:
                save_embeddings(building, name, matrix, metadata=metadata, images=images)
            if not folder.exists():
                building.rename(folder)  # whole or nothing: a half-written folder is never used
        finally:
            shutil.rmtree(building, ignore_errors=True)
    return folder


def _numeric(vectors: Any) -> Any:
    """A pyarrow Table of numeric columns becomes a matrix (numpy cannot convert one)."""
    import pyarrow as pa

    if isinstance(vectors, pa.Table):
        return np.column_stack([column.to_numpy() for column in vectors.columns])
    return vectors


def projector_magic(line: str) -> ProjectorWidget | None:
    """``%projector --logdir DIR`` or ``%projector PATH [--height PX] [--projection P]``."""
    parser = argparse.ArgumentParser(prog="%projector", exit_on_error=False, add_help=False)
    parser.add_argument("path", nargs="?")
    parser.add_argument("--logdir")
    parser.add_argument("--height", type=int, default=DEFAULT_HEIGHT)
    parser.add_argument("--projection", choices=["pca", "tsne", "umap", "custom"])
    try:
        args = parser.parse_args(shlex.split(line))
    except (argparse.ArgumentError, SystemExit) as exc:
        print(f"%projector: {exc}; usage: %projector --logdir DIR [--height PX]")
        return None
    target = args.logdir or args.path
    if not target:
        print("%projector: give a log dir: %projector --logdir DIR")
        return None
    try:
        return _widget(open_path(target), height=args.height, projection=args.projection)
    except ProjectorError as exc:  # one line in the notebook, as on the command line
        print(f"%projector: {exc}")
        return None


def load_ipython_extension(ipython: Any) -> None:
    """``%load_ext embedding_projector``: registers the ``%projector`` line magic."""
    ipython.register_magic_function(projector_magic, magic_kind="line", magic_name="projector")
