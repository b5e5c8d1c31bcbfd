"""Write the reference checkpoints in ``tests/data/checkpoints/`` with real TensorFlow.

TensorFlow is not a dependency of the project; run this with a scratch environment::

    python3 -m venv /tmp/tfvenv && /tmp/tfvenv/bin/pip install tensorflow-cpu
    /tmp/tfvenv/bin/python tests/data/make_checkpoints.py

Each ``<name>/`` gets the checkpoint (prefix ``ckpt``), ``variables.json`` (name, dtype and
shape of every tensor, as ``tf.train.load_checkpoint`` lists them) and ``expected.npz``
(every numeric tensor as ``tf.train.load_checkpoint`` reads it; bfloat16 as float32; key
``/`` escaped as ``__``). ``many_keys`` has no ``expected.npz``: tensor ``k/<i>/...`` holds
``int32(i)`` and no ``variables.json`` (the names follow the same rule). Everything is
seeded, but TensorFlow does not promise identical bytes across versions: these files
were written by the version named in ``README.md``.
"""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

import numpy as np
import tensorflow as tf

OUT = Path(__file__).resolve().parent / "checkpoints"
MANY_KEYS = 1200
"""Enough ~220-byte index entries to pass 256 KiB: a two-block index."""


def many_key_name(i: int) -> str:
    """Even numbers, so most block boundaries get a shortened separator key."""
    return f"k/{2 * i:05d}/" + "x" * 200


def tf1_partitioned(prefix: str) -> None:
    """A TF1 graph-mode ``Saver`` checkpoint with a variable split by ``fixed_size_partitioner``."""
    tf1 = tf.compat.v1
    graph = tf.Graph()
    with graph.as_default():
        tf1.get_variable(
            "part_embedding",
            shape=(90, 6),
            initializer=tf1.random_normal_initializer(seed=1),
            partitioner=tf1.fixed_size_partitioner(3),
        )
        tf1.get_variable("plain", initializer=np.ones((4, 3), np.float32))
        saver = tf1.train.Saver()
        with tf1.Session(graph=graph) as session:
            session.run(tf1.global_variables_initializer())
            saver.save(session, prefix, write_meta_graph=False, write_state=False)


def dtypes(prefix: str) -> None:
    """One tensor of each numeric dtype, a string tensor, an empty one and a sliced one."""
    rng = np.random.default_rng(0)
    values = rng.standard_normal((6, 4))
    tensors = {
        "f16": tf.constant(values, tf.float16),
        "bf16": tf.constant(values, tf.bfloat16),
        "f32": tf.constant(values, tf.float32),
        "f64": tf.constant(values, tf.float64),
        "i8": tf.constant([-128, 0, 127], tf.int8),
        "i16": tf.constant([-32768, 1, 32767], tf.int16),
        "i32": tf.constant([[-(2**31), 2], [3, 2**31 - 1]], tf.int32),
        "i64": tf.constant([-(2**63), 2**63 - 1], tf.int64),
        "u8": tf.constant([0, 255], tf.uint8),
        "u16": tf.constant([0, 65535], tf.uint16),
        "u32": tf.constant([0, 2**32 - 1], tf.uint32),
        "u64": tf.constant([0, 2**64 - 1], tf.uint64),
        "flags": tf.constant([True, False, True], tf.bool),
        "c64": tf.constant([1 + 2j, -3j], tf.complex64),
        "words": tf.constant(["a", "", "ünïcode"], tf.string),
        "empty": tf.zeros((0, 4), tf.float32),
        "scalar": tf.constant(3.5, tf.float64),
    }
    names = list(tensors)
    specs = [""] * len(names)
    # Two slices of one [10, 4] tensor, the second dimension "whole" (-1 in the slice keys).
    sliced = np.arange(40, dtype=np.float32).reshape(10, 4)
    for spec, part in (("10 4 0,6:-", sliced[:6]), ("10 4 6,4:-", sliced[6:])):
        names.append("sliced")
        specs.append(spec)
        tensors[f"sliced {spec}"] = tf.constant(part)
    tf.raw_ops.SaveV2(
        prefix=prefix, tensor_names=names, shape_and_slices=specs, tensors=list(tensors.values())
    )


def many_keys(prefix: str) -> None:
    """Over 256 KiB of keys, so the index has two data blocks."""
    names = [many_key_name(i) for i in range(MANY_KEYS)]
    values = [tf.constant(i, tf.int32) for i in range(MANY_KEYS)]
    tf.raw_ops.SaveV2(
        prefix=prefix, tensor_names=names, shape_and_slices=[""] * MANY_KEYS, tensors=values
    )


def keras_model_optimizer(prefix: str) -> None:
    """``tf.train.Checkpoint(model=, optimizer=)`` of a Keras model after one Adam step."""
    tf.keras.utils.set_random_seed(0)
    model = tf.keras.Sequential(
        [tf.keras.Input((3,), dtype="int32"), tf.keras.layers.Embedding(20, 8),
         tf.keras.layers.Flatten(), tf.keras.layers.Dense(2)]
    )  # fmt: skip
    model.compile(optimizer=tf.keras.optimizers.Adam(0.01), loss="mse")
    model.fit(np.arange(30).reshape(10, 3) % 20, np.ones((10, 2)), epochs=1, verbose=0)
    tf.train.Checkpoint(model=model, optimizer=model.optimizer).write(prefix)


def optimizer_slots(prefix: str) -> None:
    """A TF-v1 optimizer in an object-based checkpoint: ``.OPTIMIZER_SLOT`` keys, escaped names."""
    emb = tf.Variable(np.linspace(-1, 1, 24, dtype=np.float32).reshape(6, 4))
    odd = tf.Variable(np.full((2, 3), 0.5, np.float32))
    opt = tf.compat.v1.train.AdamOptimizer(0.1)
    opt.minimize(lambda: tf.reduce_sum(emb**2) + tf.reduce_sum(odd), var_list=[emb, odd])
    tf.train.Checkpoint(emb=emb, opt=opt, **{"odd.name/with slash": odd}).write(prefix)


def save_expected(folder: Path, prefix: str, *, arrays: bool) -> None:
    """Record how TensorFlow itself lists and reads the checkpoint."""
    reader = tf.train.load_checkpoint(prefix)
    shapes, dtypes_ = reader.get_variable_to_shape_map(), reader.get_variable_to_dtype_map()
    listing = {name: {"dtype": dtypes_[name].name, "shape": shapes[name]} for name in shapes}
    if arrays:
        lines = (f" {json.dumps(name)}: {json.dumps(listing[name])}" for name in sorted(listing))
        (folder / "variables.json").write_text("{\n" + ",\n".join(lines) + "\n}\n")
        expected = {
            name.replace("/", "__"): np.asarray(reader.get_tensor(name), np.float32)
            if dtypes_[name] == tf.bfloat16
            else reader.get_tensor(name)
            for name in shapes
            if dtypes_[name] != tf.string
        }
        np.savez(folder / "expected.npz", **expected)


def main() -> None:
    """(Re)write every reference checkpoint."""
    writers = [tf1_partitioned, dtypes, many_keys, keras_model_optimizer, optimizer_slots]
    for write in writers:
        folder = OUT / write.__name__
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir(parents=True)
        write(str(folder / "ckpt"))
        save_expected(folder, str(folder / "ckpt"), arrays=write is not many_keys)
        print(folder, sum(f.stat().st_size for f in folder.iterdir()), "bytes", file=sys.stderr)
    readme = OUT / "README.md"
    readme.write_text(
        "# Reference checkpoints\n\nWritten by TensorFlow "
        f"{tf.__version__} (keras {tf.keras.__version__}) with `tests/data/make_checkpoints.py`; "
        "see its docstring. Read-only in tests.\n"
    )


if __name__ == "__main__":
    main()
