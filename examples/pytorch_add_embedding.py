"""PyTorch: ``SummaryWriter.add_embedding`` with metadata and label images, opened in the projector.

Needs torch and tensorboard (``pip install torch tensorboard``: ``torch.utils.tensorboard``
uses TensorBoard's writer), and scikit-learn, which this package installs. No download: the
data are scikit-learn's bundled handwritten digits (1,797 images of 8 × 8 pixels).

It trains a small network to recognise the digits for a few seconds, then writes two
embeddings into one log dir, each with the digit and the network's guess as metadata and the
images as thumbnails:

- ``pixels``: the 64 pixel values of each image;
- ``hidden``: the 32 activations of the network's hidden layer, where the digits separate.

Run::

    python examples/pytorch_add_embedding.py [LOG_DIR]     # default LOG_DIR: logs/torch-digits

then the command it prints: ``projector --logdir LOG_DIR``. tensorboardX's ``SummaryWriter``
writes the same layout; change the import to use it.
"""

from __future__ import annotations

import sys

try:
    import torch
    from torch.utils.tensorboard import SummaryWriter
except ImportError as error:
    sys.exit(
        f"This example needs torch and tensorboard ({error.name} is missing): "
        "pip install torch tensorboard"
    )

from sklearn.datasets import load_digits


def main() -> None:
    log_dir = sys.argv[1] if len(sys.argv) > 1 else "logs/torch-digits"
    torch.manual_seed(0)
    digits = load_digits()
    pixels = torch.tensor(digits.data, dtype=torch.float32) / 16.0  # 1,797 x 64, in [0, 1]
    labels = torch.tensor(digits.target)

    hidden_layer = torch.nn.Sequential(torch.nn.Linear(64, 32), torch.nn.ReLU())
    model = torch.nn.Sequential(hidden_layer, torch.nn.Linear(32, 10))
    optimizer = torch.optim.Adam(model.parameters(), lr=0.01)
    for _ in range(100):
        optimizer.zero_grad()
        loss = torch.nn.functional.cross_entropy(model(pixels), labels)
        loss.backward()
        optimizer.step()

    with torch.no_grad():
        hidden = hidden_layer(pixels)
        guesses = model(pixels).argmax(dim=1)
    accuracy = (guesses == labels).float().mean().item()
    print(f"trained: {accuracy:.1%} of the digits recognised")

    metadata = [[str(d), str(g)] for d, g in zip(labels.tolist(), guesses.tolist(), strict=True)]
    images = pixels.reshape(-1, 1, 8, 8)  # N x C x H x W, values in [0, 1]
    writer = SummaryWriter(log_dir)
    for tag, features in (("pixels", pixels), ("hidden", hidden)):
        writer.add_embedding(
            features,
            metadata=metadata,
            metadata_header=["digit", "guess"],
            label_img=images,
            tag=tag,
        )
    writer.close()

    print(f"\nWrote {log_dir}. Open it in the projector:")
    print(f"    projector --logdir {log_dir}")
    print("then colour by `digit`, and compare the two tensors with UMAP or t-SNE.")


if __name__ == "__main__":
    main()
