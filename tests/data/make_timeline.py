"""Write the training-timeline log dirs in ``tests/data/timeline/`` with the real libraries.

Neither TensorFlow nor PyTorch is a dependency of the project; run each part in a scratch
environment (``torch==2.13.0`` is the only torch allowed here: a local wheel)::

    python3 -m venv /tmp/tfvenv && /tmp/tfvenv/bin/pip install tensorflow-cpu tensorboard
    /tmp/tfvenv/bin/python tests/data/make_timeline.py tensorflow

    python3 -m venv /tmp/torchvenv
    /tmp/torchvenv/bin/pip install torch==2.13.0 tensorboard tensorboardX
    /tmp/torchvenv/bin/python tests/data/make_timeline.py torch tensorboardx

What each part writes (``timeline/README.md`` has the table):

- ``tensorflow``: ``tf2_checkpoint_manager/``, TensorBoard's embedding tutorial (a Keras
  ``Embedding`` trained on a small sentiment task, rows 1.. saved as
  ``tf.train.Checkpoint(embedding=...)``, ``metadata.tsv``, the tutorial's projector config)
  saved after every epoch by ``tf.train.CheckpointManager(max_to_keep=5)``: 7 saves, so
  ``ckpt-3`` … ``ckpt-7`` are kept; and ``tf2_resized/``, three ``CheckpointManager`` saves
  of an embedding whose shape changes (50 × 8, then 60 × 4, then 60 × 8).
- ``torch``: ``torch_add_embedding_steps/``, ``SummaryWriter.add_embedding`` of an
  ``nn.Embedding`` being trained, at global steps 0, 100, 200 and 300 (tag ``words``, with
  two metadata columns), and tag ``growing``: 100 × 8 at steps 0 and 100, 120 × 8 at 200.
- ``tensorboardx``: ``tensorboardx_add_embedding_steps/``, the same ``words`` training
  written by tensorboardX (which appends to the config file instead of rewriting it).

``expected/<fixture>/<step>.npy`` holds the exact float32 array saved at each step (the
step is the checkpoint's name, or the ``add_embedding`` tensor name with ``:`` as ``_``).
Everything is seeded, but the libraries do not promise identical bytes across versions:
these files were written by the versions named in ``timeline/README.md``.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path
from typing import Any

import numpy as np

OUT = Path(__file__).resolve().parent / "timeline"
VOCAB = 300
"""Keras vocabulary; row 0 is padding and is not saved (as in the tutorial)."""
WORDS = 200
"""Rows of the PyTorch / tensorboardX ``words`` embedding."""
GROUPS = 8


def _fresh(name: str) -> tuple[Path, Path]:
    """An empty fixture folder and its empty folder of expected arrays."""
    folder, expected = OUT / name, OUT / "expected" / name
    for path in (folder, expected):
        shutil.rmtree(path, ignore_errors=True)
        path.mkdir(parents=True)
    return folder, expected


def _sentiment_data() -> tuple[np.ndarray, np.ndarray]:
    """Sequences of token ids 1..VOCAB-1: positive when most tokens are below VOCAB/2."""
    rng = np.random.default_rng(0)
    tokens = rng.integers(1, VOCAB, size=(2000, 12))
    labels = ((tokens < VOCAB // 2).mean(axis=1) > 0.5).astype(np.float32)
    return tokens.astype(np.int32), labels


def tensorflow_checkpoint_manager() -> None:
    """The tutorial's embedding, saved after every epoch by a ``CheckpointManager``."""
    import tensorflow as tf
    from tensorboard.plugins import projector

    folder, expected = _fresh("tf2_checkpoint_manager")
    tf.keras.utils.set_random_seed(0)
    model = tf.keras.Sequential(
        [
            tf.keras.Input((None,), dtype="int32"),
            tf.keras.layers.Embedding(VOCAB, 16),
            tf.keras.layers.GlobalAveragePooling1D(),
            tf.keras.layers.Dense(16, activation="relu"),
            tf.keras.layers.Dense(1),
        ]
    )
    model.compile(
        optimizer=tf.keras.optimizers.Adam(0.01),
        loss=tf.keras.losses.BinaryCrossentropy(from_logits=True),
    )
    tokens, labels = _sentiment_data()
    # As in the tutorial: the embedding without row 0 (padding), in a Checkpoint of its own.
    weights = tf.Variable(model.layers[0].get_weights()[0][1:])
    checkpoint = tf.train.Checkpoint(embedding=weights)
    manager = tf.train.CheckpointManager(checkpoint, str(folder), max_to_keep=5)
    saved: dict[str, np.ndarray] = {}
    for _epoch in range(7):
        model.fit(tokens, labels, epochs=1, batch_size=100, verbose=0)
        weights.assign(model.layers[0].get_weights()[0][1:])
        saved[Path(manager.save()).name] = weights.numpy()
    for name in manager.checkpoints:  # the five kept
        np.save(expected / f"{Path(name).name}.npy", saved[Path(name).name])
    with (folder / "metadata.tsv").open("w") as f:
        for token in range(1, VOCAB):
            f.write(f"{'pos' if token < VOCAB // 2 else 'neg'}_{token}\n")
    config = projector.ProjectorConfig()
    embedding = config.embeddings.add()
    embedding.tensor_name = "embedding/.ATTRIBUTES/VARIABLE_VALUE"
    embedding.metadata_path = "metadata.tsv"
    projector.visualize_embeddings(str(folder), config)


def tensorflow_resized() -> None:
    """Three saves of one checkpoint name whose variable changes shape between them."""
    import tensorflow as tf
    from tensorboard.plugins import projector

    folder, expected = _fresh("tf2_resized")
    rng = np.random.default_rng(1)
    checkpoint = tf.train.Checkpoint(embedding=tf.Variable(np.zeros((1, 1), np.float32)))
    manager = tf.train.CheckpointManager(checkpoint, str(folder), max_to_keep=5)
    for shape in ((50, 8), (60, 4), (60, 8)):
        values = rng.standard_normal(shape).astype(np.float32)
        checkpoint.embedding = tf.Variable(values)
        np.save(expected / f"{Path(manager.save()).name}.npy", values)
    config = projector.ProjectorConfig()
    config.embeddings.add().tensor_name = "embedding/.ATTRIBUTES/VARIABLE_VALUE"
    projector.visualize_embeddings(str(folder), config)


def _write_words(writer: Any, expected: Path, as_input: Any) -> None:
    """Train an ``nn.Embedding`` to tell the word groups apart; save it every 100 steps.

    ``as_input`` turns the weights (a tensor) into what ``writer.add_embedding`` is given.
    """
    import torch

    torch.manual_seed(0)
    embedding = torch.nn.Embedding(WORDS, 16)
    head = torch.nn.Linear(16, GROUPS)
    optimizer = torch.optim.SGD([*embedding.parameters(), *head.parameters()], lr=0.5)
    words = torch.arange(WORDS)
    groups = words % GROUPS
    metadata = [[f"word{i}", f"group{i % GROUPS}"] for i in range(WORDS)]
    for step in range(301):
        if step % 100 == 0:
            vectors = embedding.weight.detach().clone()
            writer.add_embedding(
                as_input(vectors),
                metadata=metadata,
                metadata_header=["word", "group"],
                global_step=step,
                tag="words",
            )
            np.save(expected / f"words_{step:05d}.npy", vectors.numpy())
        optimizer.zero_grad()
        torch.nn.functional.cross_entropy(head(embedding(words)), groups).backward()
        optimizer.step()


def torch_add_embedding_steps() -> None:
    """PyTorch's ``SummaryWriter.add_embedding`` with ``global_step``, two tags."""
    import torch
    from torch.utils.tensorboard import SummaryWriter

    folder, expected = _fresh("torch_add_embedding_steps")
    writer = SummaryWriter(str(folder))
    _write_words(writer, expected, lambda tensor: tensor)
    generator = torch.Generator().manual_seed(2)
    for step, rows in ((0, 100), (100, 100), (200, 120)):
        vectors = torch.randn(rows, 8, generator=generator)
        writer.add_embedding(vectors, global_step=step, tag="growing")
        np.save(expected / f"growing_{step:05d}.npy", vectors.numpy())
    writer.close()


def tensorboardx_add_embedding_steps() -> None:
    """tensorboardX's ``SummaryWriter.add_embedding`` with ``global_step`` (numpy input)."""
    from tensorboardX import SummaryWriter

    folder, expected = _fresh("tensorboardx_add_embedding_steps")
    writer = SummaryWriter(str(folder))
    _write_words(writer, expected, lambda tensor: tensor.numpy())
    writer.close()


PARTS = {
    "tensorflow": (tensorflow_checkpoint_manager, tensorflow_resized),
    "torch": (torch_add_embedding_steps,),
    "tensorboardx": (tensorboardx_add_embedding_steps,),
}


def main(parts: list[str]) -> None:
    """Write the fixtures of the parts named on the command line."""
    if not parts or not set(parts) <= set(PARTS):
        raise SystemExit(f"usage: make_timeline.py {{{' | '.join(PARTS)}}} ...")
    for part in parts:
        for write in PARTS[part]:
            write()
            print(write.__name__, "written", file=sys.stderr, flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
