"""Built-in demo datasets, written as TensorBoard log dirs in the user cache dir.

``digits`` (scikit-learn's handwritten digits with their images), ``words`` (word
vectors trained on the prose of Python's standard library) and ``large`` (a million
synthetic points): each built locally, without a download, the first time it is
asked for::

    from embedding_projector.demos import prepare_demo
    logdir = prepare_demo("digits")   # then: projector --logdir <logdir>
"""

from embedding_projector.demos.registry import DEMOS, Demo, prepare_demo

__all__ = ["DEMOS", "Demo", "prepare_demo"]
