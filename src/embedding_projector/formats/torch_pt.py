"""PyTorch ``.pt`` / ``.pth`` files, when torch is installed (SPEC §2.9).

torch is never a dependency: without it, these files get a clear message with the
install command. Files are loaded with ``weights_only=True`` (no arbitrary code), which
is only safe from torch 2.6 on (CVE-2025-32434: older versions run code from a crafted
file even so); older versions are refused.
"""

from __future__ import annotations

import importlib.util
import re
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import numpy as np

from embedding_projector.errors import FormatError, MissingDependencyError, quote_exception
from embedding_projector.formats.arrays import ArraySource, FileEmbeddings
from embedding_projector.formats.files import open_inside

#: The first torch whose ``weights_only=True`` loading is safe (CVE-2025-32434).
MIN_TORCH = (2, 6)
_INSTALL = (
    "`pip install 'torch>=2.6'`, or save the tensor with numpy "
    "(`np.save('vectors.npy', t.numpy())`)"
)


def read_torch(path: Path, *, root: Path | None = None) -> FileEmbeddings:
    """A saved tensor is one embedding; a saved dict (e.g. a ``state_dict``) gives every
    2-D floating-point tensor in it, named by its (dotted) key."""
    if importlib.util.find_spec("torch") is None:
        raise MissingDependencyError(f"reading PyTorch files needs torch: {_INSTALL}", path=path)
    import torch

    check_torch_version(torch.__version__, path)
    with open_inside(path, root) as opened:
        try:
            loaded = torch.load(opened.file, map_location="cpu", weights_only=True)
        except Exception as exc:  # torch raises many types (pickle, zip, RuntimeError)
            raise FormatError(
                f"torch could not load it with weights_only=True ({quote_exception(exc)}); "
                "save a tensor or a state_dict rather than a whole model",
                path=path,
            ) from None
    tensors = [
        (name or path.stem, _source(path, t))
        for name, t in _named_tensors(loaded, "")
        if t.dim() == 2 and t.is_floating_point() and t.numel() > 0
    ]
    if not tensors:
        raise FormatError("holds no 2-D floating-point tensor to use as an embedding", path=path)
    return FileEmbeddings(tensors)


def check_torch_version(version: str, path: Path) -> None:
    """Refuse a torch older than :data:`MIN_TORCH`, whose ``weights_only`` is unsafe."""
    match = re.match(r"(\d+)\.(\d+)", version)
    if match is None or (int(match[1]), int(match[2])) < MIN_TORCH:
        raise MissingDependencyError(
            f"reading PyTorch files needs torch 2.6 or later (torch {version} is installed, "
            f"whose weights_only loading can run code from a crafted file): {_INSTALL}",
            path=path,
        )


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
