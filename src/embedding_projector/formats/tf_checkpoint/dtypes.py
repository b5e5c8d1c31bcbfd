"""TensorFlow ``DataType`` enum values, their names, and how their bytes map to numpy.

Values from ``tensorflow/core/framework/types.proto``. Names are numpy's where numpy has
the type (``"float32"``, ``"float16"``), TensorFlow's otherwise (``"bfloat16"``, ``"string"``).
"""

from __future__ import annotations

import numpy as np

from embedding_projector.formats.stored import bfloat16_to_float32

DT_STRING = 7
DT_BFLOAT16 = 14

# enum value -> (name, little-endian numpy storage type or None when not readable as numbers)
_DTYPES: dict[int, tuple[str, str | None]] = {
    1: ("float32", "<f4"),
    2: ("float64", "<f8"),
    3: ("int32", "<i4"),
    4: ("uint8", "u1"),
    5: ("int16", "<i2"),
    6: ("int8", "i1"),
    7: ("string", None),
    8: ("complex64", "<c8"),
    9: ("int64", "<i8"),
    10: ("bool", "?"),
    11: ("qint8", None),
    12: ("quint8", None),
    13: ("qint32", None),
    # bfloat16 is the top half of a float32; numpy has no such type, so it is read as
    # uint16 and widened (see to_numpy).
    14: ("bfloat16", "<u2"),
    15: ("qint16", None),
    16: ("quint16", None),
    17: ("uint16", "<u2"),
    18: ("complex128", "<c16"),
    19: ("float16", "<f2"),
    20: ("resource", None),
    21: ("variant", None),
    22: ("uint32", "<u4"),
    23: ("uint64", "<u8"),
}


def dtype_name(dtype: int) -> str:
    """The name of a ``DataType`` enum value, e.g. ``"float32"``; unknown values are numbered."""
    known = _DTYPES.get(dtype)
    return known[0] if known else f"dtype {dtype}"


def storage_dtype(dtype: int) -> np.dtype[np.generic] | None:
    """The numpy type of the stored bytes, or ``None`` if the type is not numeric."""
    known = _DTYPES.get(dtype)
    return None if known is None or known[1] is None else np.dtype(known[1])


def to_numpy(stored: np.ndarray, dtype: int) -> np.ndarray:
    """The stored array as the closest numpy type: bfloat16 becomes float32, the rest as is."""
    return bfloat16_to_float32(stored) if dtype == DT_BFLOAT16 else stored
