"""TensorBoard's reference workflow (SPEC §1): a Keras embedding layer, saved for the projector.

Needs TensorFlow (``pip install tensorflow-cpu``, or ``tensorflow``) and this package in the
same environment. The projector that opens the result does not need TensorFlow.

The steps are those of TensorBoard's tutorial "Visualizing Data using the Embedding Projector",
unchanged apart from the import line. Only the data differ: the tutorial downloads IMDB
reviews; this script trains in a few seconds, offline, on made-up reviews written with a
small vocabulary of positive, negative and neutral words. After training, the embedding
places the positive words (``hitchcock`` among them) on one side and the negative words on
the other.

Run::

    python examples/keras_reference_workflow.py [LOG_DIR]     # default LOG_DIR: logs/imdb-example/

then the command it prints: ``projector --logdir LOG_DIR``; search for ``hitchcock`` and look
at its nearest neighbours.
"""

from __future__ import annotations

import os
import sys

try:
    import tensorflow as tf
except ImportError:
    sys.exit(
        "This example needs TensorFlow: pip install tensorflow-cpu\n"
        "(Without TensorFlow, examples/numpy_quickstart.py shows the same steps with numpy.)"
    )

import numpy as np

from embedding_projector import projector  # was: from tensorboard.plugins import projector

POSITIVE = str.split(
    "great excellent wonderful brilliant superb masterpiece moving gripping beautiful "
    "hitchcock delightful charming stunning touching hilarious clever"
)
NEGATIVE = str.split(
    "awful boring terrible dull waste worst stupid mess tedious predictable clumsy "
    "pointless bland annoying forgettable lifeless"
)
NEUTRAL = str.split(
    "film movie plot actor actress scene story director camera screen music ending "
    "character cast script the a and of it was is this"
)


def make_reviews(n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Reviews of 20 word ids: neutral words plus a few positive (label 1) or negative (0)."""
    vocabulary = ["<pad>", *POSITIVE, *NEGATIVE, *NEUTRAL]
    index = {word: i for i, word in enumerate(vocabulary)}
    labels = rng.integers(2, size=n)
    reviews = np.empty((n, 20), dtype=np.int32)
    for row, label in enumerate(labels):
        opinion = POSITIVE if label else NEGATIVE
        words = list(rng.choice(NEUTRAL, size=16)) + list(rng.choice(opinion, size=4))
        reviews[row] = [index[w] for w in rng.permutation(words)]
    return reviews, labels


def main() -> None:
    log_dir = sys.argv[1] if len(sys.argv) > 1 else "logs/imdb-example/"
    rng = np.random.default_rng(0)
    tf.keras.utils.set_random_seed(0)
    vocabulary = [*POSITIVE, *NEGATIVE, *NEUTRAL]  # index 0 is the padding token
    vocab_size = len(vocabulary) + 1

    # Train a Keras model whose first layer is Embedding(vocab_size, 16).
    reviews, labels = make_reviews(4000, rng)
    model = tf.keras.Sequential(
        [
            tf.keras.layers.Embedding(vocab_size, 16),
            tf.keras.layers.GlobalAveragePooling1D(),
            tf.keras.layers.Dense(16, activation="relu"),
            tf.keras.layers.Dense(1),
        ]
    )
    model.compile(
        optimizer="adam",
        loss=tf.keras.losses.BinaryCrossentropy(from_logits=True),
        metrics=["accuracy"],
    )
    model.fit(reviews, labels, epochs=5, batch_size=64, verbose=2)

    # The reference workflow, as in TensorBoard's tutorial.
    os.makedirs(log_dir, exist_ok=True)
    with open(os.path.join(log_dir, "metadata.tsv"), "w") as f:
        for word in vocabulary:  # one label per line, no header for a single column
            f.write(f"{word}\n")
    weights = tf.Variable(model.layers[0].get_weights()[0][1:])  # without the padding row
    checkpoint = tf.train.Checkpoint(embedding=weights)
    checkpoint.save(os.path.join(log_dir, "embedding.ckpt"))
    config = projector.ProjectorConfig()
    embedding = config.embeddings.add()
    embedding.tensor_name = "embedding/.ATTRIBUTES/VARIABLE_VALUE"
    embedding.metadata_path = "metadata.tsv"
    projector.visualize_embeddings(log_dir, config)

    print(f"\nWrote {log_dir}. Open it in the projector (TensorFlow not needed):")
    print(f"    projector --logdir {log_dir}")
    print('then search for "hitchcock" and look at its nearest neighbours.')


if __name__ == "__main__":
    main()
