"""A PCA timeline of 10 checkpoints of 100,000 x 64, ready from the log dir (issue 11: <= 10 s).

The log dir holds 10 checkpoints (``ckpt-1`` … ``ckpt-10``, written by the test writer
with a ``checkpoint`` state file, as ``CheckpointManager`` leaves them) of one embedding
that sharpens from noise into 20 clusters. Each case starts from the path, in a fresh
interpreter (``benchmarks.measure``): open the log dir, read every step's vectors (CRC
checked, from the page cache: the files were just written), then

- ours: one basis fitted on all steps, each step projected into it (``aligned_pca``);
- baseline: 10 separate PCAs of ours (``pca.run`` per step; axes differ between steps);
- baseline: scikit-learn's ``PCA(10)`` fitted on the stacked steps, each step transformed.

Imports happen before the clock starts, for every case.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
from tests.support.tf_bundle_writer import BundleWriter

from benchmarks.measure import Case, Timed, comparison, measure

NAME = "embedding/.ATTRIBUTES/VARIABLE_VALUE"
FULL, SMOKE = (10, 100_000, 64), (3, 2_000, 16)
REPEAT = 3
GOAL_SECONDS = 10.0


def write_timeline(folder: Path, steps: int, n: int, d: int) -> None:
    """``steps`` checkpoints of an embedding moving from noise into 20 clusters."""
    rng = np.random.default_rng(0)
    centres = rng.standard_normal((20, d)).astype(np.float32) * 4
    labels = rng.integers(0, 20, n)
    noise = rng.standard_normal((n, d), dtype=np.float32)
    for step in range(1, steps + 1):
        t = np.float32(step / steps)
        with BundleWriter(folder / f"ckpt-{step}") as writer:
            writer.add(NAME, t * centres[labels] + (1 - 0.8 * t) * noise)
    names = [f"ckpt-{step}" for step in range(1, steps + 1)]
    state = [f'model_checkpoint_path: "{names[-1]}"']
    state += [f'all_model_checkpoint_paths: "{name}"' for name in names]
    (folder / "checkpoint").write_text("\n".join(state) + "\n")


def _read_steps(logdir: str) -> list[np.ndarray]:
    from embedding_projector.dataset.opening import open_path

    (embedding,) = open_path(logdir)
    return [step.vectors for step in embedding.steps]


def _import_reader() -> None:
    """The data layer's imports (pyarrow, protobuf), outside the clock like the others."""
    import embedding_projector.dataset.opening  # noqa: F401


def ours(logdir: str) -> Timed:
    from embedding_projector.compute.timeline import aligned_pca

    _import_reader()
    aligned_pca([np.eye(4, dtype=np.float32)] * 2)  # scipy's import, outside the clock
    started = time.perf_counter()
    steps = _read_steps(logdir)
    read = time.perf_counter() - started
    aligned_pca(steps)
    return Timed(time.perf_counter() - started, {"read_seconds": read})


def separate_pcas(logdir: str) -> Timed:
    from embedding_projector.compute import pca

    _import_reader()
    pca.run(np.eye(4, dtype=np.float32))
    started = time.perf_counter()
    for X in _read_steps(logdir):
        pca.run(X)
    return Timed(time.perf_counter() - started)


def sklearn_stacked(logdir: str) -> Timed:
    from sklearn.decomposition import PCA

    _import_reader()
    started = time.perf_counter()
    steps = _read_steps(logdir)
    fitted = PCA(n_components=10).fit(np.vstack(steps))
    for X in steps:
        fitted.transform(X)
    return Timed(time.perf_counter() - started)


def run(smoke: bool) -> list[dict[str, Any]]:
    """Our aligned PCA timeline beside both baselines, measured in the same run."""
    steps, n, d = SMOKE if smoke else FULL
    repeat = 1 if smoke else REPEAT
    size = f"{steps} steps x {n:,} x {d} float32"
    with tempfile.TemporaryDirectory(prefix="bench_timeline_") as folder:
        write_timeline(Path(folder), steps, n, d)
        results = measure(
            Case(f"{__name__}:ours", (folder,)),
            Case(f"{__name__}:separate_pcas", (folder,)),
            Case(f"{__name__}:sklearn_stacked", (folder,)),
            repeat=repeat,
        )
    ours_result, separate, stacked = results
    loads = [load for result in results for load in result["load"]]
    case = "aligned PCA from the log dir: open, read steps, fit on all, project each"
    note = (
        f"goal <= {GOAL_SECONDS:.0f} s at 10 x 100,000 x 64; reading the steps "
        f"{ours_result['extra']['read_seconds']:.2f} s of it; median of {repeat} fresh "
        f"processes, taking turns; warm page cache; load average {min(loads):.1f}-{max(loads):.1f}"
    )
    return [
        {**comparison("timeline", case, size, ours_result, name, base), "note": note}
        for name, base in (
            (f"{steps} separate PCAs (ours, pca.run per step)", separate),
            ("sklearn PCA(10) fitted on the stacked steps", stacked),
        )
    ]
