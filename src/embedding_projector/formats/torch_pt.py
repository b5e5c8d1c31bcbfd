"""PyTorch ``.pt`` / ``.pth`` files, when torch is installed (SPEC §2.9).

torch is never a dependency: without it, these files get a clear message with the
install command. Files are loaded with ``weights_only=True`` (no arbitrary code).
"""

from __future__ import annotations

import importlib.util
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import numpy as np

from embedding_projector.errors import FormatError, MissingDependencyError
from embedding_projector.formats.arrays import ArraySource, FileEmbeddings
from embedding_projector.formats.text import os_error


def read_torch(path: Path) -> FileEmbeddings:
    """A saved tensor is one embedding; a saved dict (e.g. a ``state_dict``) gives every
    2-D floating-point tensor in it, named by its (dotted) key."""
    if importlib.util.find_spec("torch") is None:
        raise MissingDependencyError(
            "reading PyTorch files needs torch: `pip install torch`, or save the tensor "
            "with numpy (`np.save('vectors.npy', t.numpy())`)",
            path=path,
        )
    import torch

    try:
        loaded = torch.load(path, map_location="cpu", weights_only=True)
    except OSError as exc:
        raise os_error(path, exc) from exc
    except Exception as exc:  # torch raises many types (pickle, zip, RuntimeError)
        raise FormatError(
            f"torch could not load it with weights_only=True ({type(exc).__name__}: {exc}); "
            "save a tensor or a state_dict rather than a whole model",
            path=path,
        ) from exc
    tensors = [
        (name or path.stem, _source(path, t))
        for name, t in _named_tensors(loaded, "")
        if t.dim() == 2 and t.is_floating_point() and t.numel() > 0
    ]
    if not tensors:
        raise FormatError("holds no 2-D floating-point tensor to use as an embedding", path=path)
    return FileEmbeddings(tensors)


def _named_tensors(obj: Any, name: str) -> Iterator[tuple[str, Any]]:
    """Tensors inside nested dicts / lists, with dotted names like a ``state_dict``'s."""
    import torch

    if isinstance(obj, torch.Tensor):
        yield name, obj
    elif isinstance(obj, Mapping):
        for key, value in obj.items():
            yield from _named_tensors(value, f"{name}.{key}" if name else str(key))
    elif isinstance(obj, list | tuple):
        for i, value in enumerate(obj):
            yield from _named_tensors(value, f"{name}.{i}" if name else str(i))


def _source(path: Path, tensor: Any) -> ArraySource:
    n, d = tensor.shape
    stored = str(tensor.dtype).removeprefix("torch.")

    def load() -> np.ndarray:
        # .float(): numpy has no bfloat16, and the vectors are served as float32 anyway.
        return np.asarray(tensor.detach().float().numpy())

    return ArraySource(path, (int(n), int(d)), stored, load)
