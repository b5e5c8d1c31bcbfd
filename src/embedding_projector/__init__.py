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


def __getattr__(name: str) -> object:
    # Lazy, so that `import embedding_projector` (the CLI, the server) does not pay for
    # importing protobuf and Pillow until the writer is used.
    if name == "save_embeddings":
        from embedding_projector.projector import save_embeddings

        return save_embeddings
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
