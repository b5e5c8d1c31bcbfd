"""Native reader of TensorFlow V2 checkpoints (tensor bundles): no TensorFlow needed.

>>> from embedding_projector.formats.tf_checkpoint import CheckpointReader
>>> reader = CheckpointReader("logs/embedding.ckpt-1")  # doctest: +SKIP
>>> {name: info.shape for name, info in reader.variables().items()}  # doctest: +SKIP
"""

from __future__ import annotations

from .reader import CheckpointReader, TensorInfo, prefix_of

__all__ = ["CheckpointReader", "TensorInfo", "prefix_of"]
