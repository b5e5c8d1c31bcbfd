"""Connecting to a Dask cluster, and checking that its workers can run our tasks.

``connect("tcp://scheduler:8786")`` joins a running cluster (``dask scheduler`` and
``dask worker`` processes, dask-kubernetes, dask-jobqueue, ...); ``connect("local")``
or ``connect("local:4")`` starts a ``LocalCluster`` of worker processes on this machine
(as many as cores by default). Every failure is one :class:`ProjectorError` sentence:
Dask not installed (with the install command), a scheduler that does not answer, a
cluster without workers, workers without this package or with another version of it.
"""

from __future__ import annotations

import logging
import os
import re
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any

from embedding_projector.errors import (
    ClusterUnavailableError,
    InvalidParameterError,
    MissingDependencyError,
    ProjectorError,
)

#: The environment variable that gives the cluster when ``--dask`` is not given.
ENV_VAR = "EMBEDDING_PROJECTOR_DASK"
#: What to run to get Dask.
INSTALL = "pip install 'embedding-projector[dask]'"
#: Seconds to wait for a scheduler to answer, and for a first worker.
CONNECT_TIMEOUT = 10.0
#: A ``LocalCluster``'s TCP timeout (distributed's ``comm.timeouts.tcp``, default 30 s).
LOCAL_TCP_TIMEOUT = "300s"
_PACKAGE = "embedding-projector"
_LOCAL = re.compile(r"local(?::(\d+))?")


@dataclass
class Cluster:
    """A connected Dask client, and the ``LocalCluster`` behind it when we started one.

    Attributes
    ----------
    client
        ``distributed.Client``: thread-safe, used from the server's threads.
    address
        The scheduler's address, for messages.
    local
        The ``LocalCluster`` started by :func:`connect` (closed by :meth:`close`), or None.
    owns_client
        Whether :meth:`close` closes the client (not one the caller passed in).
    """

    client: Any
    address: str
    local: Any = None
    owns_client: bool = True

    @property
    def connected(self) -> bool:
        """Whether the client still talks to its scheduler."""
        return bool(self.client.status == "running")

    def workers(self) -> list[str]:
        """The addresses of the workers the scheduler knows now."""
        info = self.client.scheduler_info(n_workers=-1)
        return sorted(info.get("workers", {}))

    def close(self) -> None:
        """Disconnect; stop the ``LocalCluster`` if we started it. Idempotent."""
        if self.owns_client:
            self.client.close()
        if self.local is not None:
            self.local.close()
            self.local = None


def require_dask(option: str = "--dask") -> None:
    """Raise :class:`MissingDependencyError` with the install command unless Dask is there."""
    try:
        import dask  # noqa: F401
        import distributed  # noqa: F401
    except ImportError:
        raise MissingDependencyError(
            f"{option} needs Dask, which is not installed: {INSTALL}"
        ) from None


def connect(target: Any, *, cache_dir: Path | None = None) -> Cluster:
    """A connected :class:`Cluster` whose workers run this version of the package.

    Parameters
    ----------
    target
        ``"local"`` or ``"local:N"`` (a ``LocalCluster`` of N worker processes, default
        one per core), a scheduler address (``"tcp://host:8786"``, ``"host:8786"``), or a
        ``distributed.Client`` already connected (kept open by :meth:`Cluster.close`).
    cache_dir
        For a ``LocalCluster``: where its workers keep numba's compiled code
        (``<cache_dir>/numba``) unless ``NUMBA_CACHE_DIR`` is set.

    Raises
    ------
    ProjectorError
        Dask missing (the install command), an unreachable scheduler, no worker within
        :data:`CONNECT_TIMEOUT` seconds, or workers with another package version.
    """
    require_dask()
    from distributed import Client

    if isinstance(target, Client):
        cluster = Cluster(target, str(target.scheduler.address), owns_client=False)
    elif isinstance(target, str) and _LOCAL.fullmatch(target.strip()):
        cluster = _local(target.strip(), cache_dir)
    elif isinstance(target, str) and target.strip():
        cluster = _remote(target.strip())
    else:
        raise InvalidParameterError(
            f"a Dask cluster is 'local', 'local:N' or a scheduler address such as "
            f"tcp://host:8786, got {target!r}"
        )
    try:
        _wait_for_workers(cluster)
        check_versions(cluster)
    except BaseException:
        cluster.close()
        raise
    return cluster


def _local(target: str, cache_dir: Path | None) -> Cluster:
    from distributed import Client, LocalCluster

    count = _LOCAL.fullmatch(target).group(1)  # type: ignore[union-attr]
    n_workers = int(count) if count else os.cpu_count() or 1
    if n_workers < 1:
        raise InvalidParameterError(f"`{target}`: a LocalCluster needs at least 1 worker")
    if cache_dir is not None:
        # The worker processes inherit the environment: UMAP's compiled code is kept.
        os.environ.setdefault("NUMBA_CACHE_DIR", str(cache_dir / "numba"))
    _tolerate_starved_peers()
    local = LocalCluster(
        n_workers=n_workers,
        threads_per_worker=1,
        processes=True,
        # Any free port: the default, 8787, may be another cluster's (or server's).
        dashboard_address=":0",
        silence_logs=logging.ERROR,
    )
    return Cluster(Client(local), str(local.scheduler_address), local=local)


def _tolerate_starved_peers() -> None:
    """Let this machine's processes be slow to read, for :data:`LOCAL_TCP_TIMEOUT`.

    distributed sets ``TCP_USER_TIMEOUT`` to ``comm.timeouts.tcp`` on every connection:
    Linux then aborts a connection whose peer has left a few MB unread that long (a
    socket pair here, one side writing 4 MB, the other not reading: "Connection timed
    out" after the timeout). On one machine shared by other work (load 25-40 on 2
    cores) an event loop can be starved for 30 s, and a UMAP of 10M rows lost its
    in-process scheduler so (``scheduler-connection-lost``). A dead local process
    needs no timeout: the kernel closes its sockets, and the nanny restarts a worker.
    Set for the whole process before the cluster starts: the scheduler's connections
    are accepted later, and the nannies hand this configuration to their workers.
    """
    import dask

    dask.config.set({"distributed.comm.timeouts.tcp": LOCAL_TCP_TIMEOUT})


def _remote(address: str) -> Cluster:
    from distributed import Client

    try:
        client = Client(address, timeout=CONNECT_TIMEOUT)
    except (OSError, TimeoutError) as error:
        reason = str(error).splitlines()[0] if str(error) else type(error).__name__
        raise ProjectorError(
            f"cannot reach the Dask scheduler at {address} ({reason}); start one with "
            "`dask scheduler`, or check the address and port"
        ) from None
    return Cluster(client, address)


def _wait_for_workers(cluster: Cluster) -> None:
    try:
        cluster.client.wait_for_workers(1, timeout=CONNECT_TIMEOUT)
    except (OSError, TimeoutError):
        raise ProjectorError(
            f"the Dask scheduler at {cluster.address} has no worker after "
            f"{CONNECT_TIMEOUT:g} s; start some with `dask worker {cluster.address}`"
        ) from None


def explain(cluster: Cluster, error: BaseException) -> BaseException:
    """The error to show for what went wrong on the cluster (a :class:`ProjectorError`).

    A lost scheduler and workers that died (naming the last one) get a sentence of their
    own; our own errors (a worker that cannot read the file, ...) pass through.
    """
    from distributed.scheduler import KilledWorker

    from embedding_projector.compute.progress import Stopped

    if isinstance(error, ProjectorError | Stopped):
        return error
    if not cluster.connected:
        return ClusterUnavailableError(
            f"lost the Dask scheduler at {cluster.address} ({type(error).__name__}: {error}); "
            "what was computed is still served, new work on the cluster fails until the "
            "server is restarted with a running scheduler"
        )
    if isinstance(error, KilledWorker):
        return ProjectorError(
            f"Dask workers died while running this task, the last one "
            f"{error.last_worker.address}; see that worker's log (out of memory?)"
        )
    return ProjectorError(f"the Dask cluster failed: {type(error).__name__}: {error}")


def check_versions(cluster: Cluster) -> None:
    """Refuse workers without this package, or with another version of it.

    Raises
    ------
    ProjectorError
        Naming the first such worker and both versions.
    """
    ours = metadata.version(_PACKAGE)
    found = cluster.client.run(metadata.version, _PACKAGE, on_error="return")
    for worker, theirs in sorted(found.items()):
        if isinstance(theirs, BaseException):
            raise ProjectorError(
                f"Dask worker {worker} does not have {_PACKAGE} installed (this server runs "
                f"{ours}): install {_PACKAGE}=={ours} on every worker"
            )
        if theirs != ours:
            raise ProjectorError(
                f"Dask worker {worker} runs {_PACKAGE} {theirs}, this server {ours}: "
                f"install {_PACKAGE}=={ours} on every worker"
            )
