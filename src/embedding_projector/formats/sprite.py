"""Sprite atlases: thumbnails of one size tiled row-major in one image (SPEC §2.6).

TensorBoard's projector refuses an atlas wider or taller than 8192 px. TensorBoard
2.21 reads the grid from the atlas (columns = atlas width / thumbnail width, rows
likewise), so the grid need not be square: :func:`choose_grid` picks the one whose
longer side is shortest, which fits the limit whenever any grid does.
"""

from __future__ import annotations

import io
import logging
import os
import struct
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt
from PIL import Image, UnidentifiedImageError

from embedding_projector.errors import FormatError, InvalidParameterError, quote_exception
from embedding_projector.formats.files import open_inside

log = logging.getLogger(__name__)

MAX_SPRITE_PX = 8192
"""TensorBoard's largest atlas width and height (``MAX_SPRITE_IMAGE_SIZE_PX``)."""

_CHANNELS = (1, 3, 4)  # grey, RGB, RGBA

# What Pillow's header parsers raise on a corrupt file: SyntaxError for a broken PNG
# chunk, ValueError for a text or ICC chunk that inflates past its limit, zlib.error
# for a broken one, struct.error for a short field.
_PILLOW_ERRORS = (OSError, SyntaxError, ValueError, EOFError, zlib.error, struct.error, IndexError)


@dataclass(frozen=True)
class SpriteAtlas:
    """An encoded atlas and the ``SpriteMetadata`` fields that describe it."""

    png: bytes
    single_image_dim: tuple[int, int]
    """Width and height of one thumbnail, in pixels."""
    grid: tuple[int, int]
    """Columns and rows of thumbnails."""


def build_sprite(images: npt.ArrayLike) -> SpriteAtlas:
    """Tile ``images`` into a PNG atlas, in row-major order.

    Parameters
    ----------
    images
        ``N x H x W`` (grey) or ``N x H x W x C`` with ``C`` = 1 (grey), 3 (RGB) or
        4 (RGBA); ``uint8``, or floats in ``[0, 1]``.

    Returns
    -------
    SpriteAtlas
        The PNG, ``single_image_dim`` = ``(W, H)`` and the grid chosen by
        :func:`choose_grid`; unused cells at the end are zero (black, or transparent).

    Raises
    ------
    InvalidParameterError
        If the shape or the values are not as above.
    """
    pixels = to_uint8_images(images)
    n, height, width, _ = pixels.shape
    columns, rows = choose_grid(n, width, height)
    atlas = tile_images(pixels, columns)
    buffer = io.BytesIO()
    Image.fromarray(atlas[..., 0] if atlas.shape[2] == 1 else atlas).save(buffer, format="PNG")
    return SpriteAtlas(buffer.getvalue(), (width, height), (columns, rows))


def to_uint8_images(images: npt.ArrayLike) -> np.ndarray:
    """Check ``images`` and return them as ``uint8`` with a channel axis, ``N x H x W x C``."""
    array = np.asarray(images)
    if array.ndim == 3:
        array = array[..., np.newaxis]
    if array.ndim != 4 or array.shape[3] not in _CHANNELS or 0 in array.shape:
        hint = ""
        if array.ndim == 4 and array.shape[1] in _CHANNELS:
            hint = " (channels first? use images.transpose(0, 2, 3, 1))"
        raise InvalidParameterError(
            "`images` must be N x H x W or N x H x W x C with C = 1, 3 or 4, "
            f"got shape {np.shape(images)}{hint}"
        )
    if array.dtype == np.uint8:
        return array
    if array.dtype.kind != "f":
        raise InvalidParameterError(
            f"`images` must be uint8 (0-255) or floats in [0, 1], got {array.dtype}"
        )
    if not np.isfinite(array).all():
        raise InvalidParameterError("`images` contains NaN or infinite values")
    low, high = array.min(), array.max()
    if low < 0 or high > 1:
        raise InvalidParameterError(
            f"`images` of floats must be in [0, 1], got values from {low} to {high} "
            "(for 0-255 values, pass images.astype(np.uint8))"
        )
    return np.round(array * 255).astype(np.uint8)


def choose_grid(n: int, width: int, height: int, max_px: int = MAX_SPRITE_PX) -> tuple[int, int]:
    """Columns and rows for ``n`` thumbnails of ``width x height`` px.

    The grid with the shortest longer side: it fits within ``max_px x max_px``
    whenever any grid does. Ties go to fewer empty cells, then to more columns
    (for square thumbnails that is ``ceil(sqrt(n))`` columns, the square grid older
    TensorBoard versions require whenever it is as small as any other).

    Returns
    -------
    tuple of int
        ``(columns, rows)``.
    """
    columns = np.arange(1, n + 1, dtype=np.int64)
    rows = -(-n // columns)
    longer_side = np.maximum(columns * width, rows * height)
    best = np.lexsort((-columns, columns * rows, longer_side))[0]
    if longer_side[best] > max_px:
        log.warning(
            "%d thumbnails of %dx%d px do not fit in %dx%d px with any grid; the atlas "
            "will be %dx%d px: TensorBoard will show no thumbnails (this package will)",
            n,
            width,
            height,
            max_px,
            max_px,
            columns[best] * width,
            rows[best] * height,
        )
    return int(columns[best]), int(rows[best])


def tile_images(images: np.ndarray, columns: int) -> np.ndarray:
    """Tile ``N x H x W x C`` images row-major into a ``rows·H x columns·W x C`` atlas."""
    n, height, width, channels = images.shape
    rows = -(-n // columns)
    padded = np.zeros((rows * columns, height, width, channels), dtype=images.dtype)
    padded[:n] = images
    grid = padded.reshape(rows, columns, height, width, channels)
    return grid.transpose(0, 2, 1, 3, 4).reshape(rows * height, columns * width, channels)


def read_sprite_info(
    path: str | os.PathLike[str], *, root: str | os.PathLike[str] | None = None
) -> tuple[int, int]:
    """Width and height of an atlas image, reading only its header.

    Parameters
    ----------
    path
        A PNG or JPEG file (any format Pillow identifies is accepted).
    root
        The folder it must be inside (see :func:`.files.open_inside`).

    Returns
    -------
    tuple of int
        ``(width, height)`` in pixels.

    Raises
    ------
    NotFoundError
        If the file does not exist.
    FormatError
        If it is not an image Pillow can identify, a corrupt one, or too large to decode
        safely (also a text or colour-profile chunk that inflates past Pillow's limit).
    ProjectorError
        If it cannot be read.
    """
    path = Path(path)
    with open_inside(path, root) as opened:
        try:
            # Image.open parses the header only; pixels are decoded on first access.
            with Image.open(opened.file) as image:
                width, height = image.size
                return width, height
        except UnidentifiedImageError:
            raise FormatError(
                "not an image, or a corrupt one (a PNG or JPEG sprite atlas was expected)",
                path=path,
            ) from None
        except Image.DecompressionBombError as error:
            raise FormatError(
                f"sprite image too large to decode safely: {error}", path=path
            ) from None
        except _PILLOW_ERRORS as error:
            raise FormatError(
                f"a corrupt sprite image ({quote_exception(error)})", path=path
            ) from None
