"""``python -m embedding_projector`` is the ``projector`` command."""

from embedding_projector.cli import main

main()
