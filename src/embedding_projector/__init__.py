"""embedding-projector: see your embeddings, on all of your points, without TensorFlow.

The public API::

    import embedding_projector
    ws = embedding_projector.open("logs/")     # any input of SPEC §2
    emb = ws.runs[0].embeddings[0]
    emb.vectors, emb.metadata, emb.sprite, emb.bookmarks, emb.warnings

    from embedding_projector import projector  # TensorBoard-compatible writer API
"""

from __future__ import annotations

__version__ = "0.1.0"
