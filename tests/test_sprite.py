"""Sprite atlases: grid choice, tiling of grey/RGB/RGBA/float thumbnails, header reading."""

from __future__ import annotations

import io
import logging
import math
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from PIL import Image

from embedding_projector.errors import FormatError, InvalidParameterError, NotFoundError
from embedding_projector.formats.sprite import (
    MAX_SPRITE_PX,
    build_sprite,
    choose_grid,
    read_sprite_info,
)

from .conftest import FIXTURES


def _decode(png: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(png))
    image.load()
    return image


def _cell(atlas: np.ndarray, index: int, columns: int, width: int, height: int) -> np.ndarray:
    row, column = divmod(index, columns)
    return atlas[row * height : (row + 1) * height, column * width : (column + 1) * width]


@pytest.mark.parametrize(
    ("n", "expected"),
    [(1, (1, 1)), (2, (2, 1)), (90, (10, 9)), (100, (10, 10)), (101, (11, 10)), (1000, (32, 32))],
)
def test_square_thumbnails_get_a_near_square_grid(n: int, expected: tuple[int, int]) -> None:
    assert choose_grid(n, 28, 28) == expected


def test_wide_thumbnails_get_more_rows() -> None:
    columns, rows = choose_grid(100, 32, 16)
    assert (columns, rows) == (7, 15)  # 224 x 240 px; 8 x 13 would be 256 x 208


def test_grid_fits_the_limit_where_a_square_grid_would_not() -> None:
    n, width, height = 5000, 128, 32
    square = math.ceil(math.sqrt(n))
    assert square * width > MAX_SPRITE_PX
    columns, rows = choose_grid(n, width, height)
    assert columns * width <= MAX_SPRITE_PX and rows * height <= MAX_SPRITE_PX
    assert columns * rows >= n


def test_largest_set_that_fits_exactly(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING):
        assert choose_grid(128 * 128, 64, 64) == (128, 128)  # 8192 x 8192 px
    assert not caplog.records


def test_no_grid_fits_warns_and_gives_the_smallest(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING):
        columns, rows = choose_grid(128 * 128 + 1, 64, 64)
    assert (columns, rows) == (129, 128)
    assert "do not fit in 8192x8192 px" in caplog.text
    assert "8256x8192 px" in caplog.text


@given(
    n=st.integers(min_value=1, max_value=400),
    width=st.integers(min_value=1, max_value=300),
    height=st.integers(min_value=1, max_value=300),
)
def test_grid_is_minimal(n: int, width: int, height: int) -> None:
    columns, rows = choose_grid(n, width, height, max_px=10**9)
    assert rows == math.ceil(n / columns)
    best = min(max(c * width, math.ceil(n / c) * height) for c in range(1, n + 1))
    assert max(columns * width, rows * height) == best


def test_rgb_atlas_cells_hold_the_images_in_row_major_order() -> None:
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, size=(23, 6, 10, 3), dtype=np.uint8)  # 10 wide, 6 high
    sprite = build_sprite(images)
    assert sprite.single_image_dim == (10, 6)
    columns, rows = sprite.grid
    image = _decode(sprite.png)
    assert image.mode == "RGB"
    assert image.size == (columns * 10, rows * 6)
    atlas = np.asarray(image)
    for index in range(23):
        np.testing.assert_array_equal(_cell(atlas, index, columns, 10, 6), images[index])
    for index in range(23, columns * rows):
        assert not _cell(atlas, index, columns, 10, 6).any()


def test_grey_images_without_channel_axis() -> None:
    images = np.arange(4 * 3 * 5, dtype=np.uint8).reshape(4, 3, 5)
    sprite = build_sprite(images)
    image = _decode(sprite.png)
    assert image.mode == "L"
    atlas = np.asarray(image)
    for index in range(4):
        np.testing.assert_array_equal(_cell(atlas, index, sprite.grid[0], 5, 3), images[index])


def test_single_channel_axis_is_grey() -> None:
    images = np.full((2, 4, 4, 1), 7, dtype=np.uint8)
    assert _decode(build_sprite(images).png).mode == "L"


def test_rgba_keeps_alpha_and_empty_cells_are_transparent() -> None:
    images = np.zeros((3, 2, 2, 4), dtype=np.uint8)
    images[..., 0] = 200
    images[..., 3] = np.array([0, 128, 255], dtype=np.uint8)[:, None, None]
    sprite = build_sprite(images)
    assert sprite.grid == (2, 2)
    atlas = np.asarray(_decode(sprite.png))
    assert atlas.shape == (4, 4, 4)
    for index in range(3):
        np.testing.assert_array_equal(_cell(atlas, index, 2, 2, 2), images[index])
    assert not _cell(atlas, 3, 2, 2, 2).any()


def test_float_images_are_scaled_and_rounded() -> None:
    images = np.array([0.0, 0.5, 1.0, 0.2], dtype=np.float32).reshape(4, 1, 1)
    atlas = np.asarray(_decode(build_sprite(images).png))
    assert sorted(atlas.ravel().tolist()) == [0, 51, 128, 255]


def test_non_square_grid_when_it_is_smaller() -> None:
    sprite = build_sprite(np.zeros((2, 8, 8), dtype=np.uint8))
    assert sprite.grid == (2, 1)
    assert _decode(sprite.png).size == (16, 8)


def test_atlas_beyond_the_limit_still_builds(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING):
        sprite = build_sprite(np.zeros((1, 1, MAX_SPRITE_PX + 1), dtype=np.uint8))
    assert _decode(sprite.png).size == (MAX_SPRITE_PX + 1, 1)
    assert "TensorBoard will show no thumbnails" in caplog.text


@pytest.mark.parametrize(
    ("images", "message"),
    [
        (np.zeros((4, 3, 8, 8), np.uint8), r"got shape \(4, 3, 8, 8\) \(channels first\?"),
        (np.zeros((4, 8, 8, 2), np.uint8), "C = 1, 3 or 4"),
        (np.zeros((4, 8), np.uint8), "got shape"),
        (np.zeros((2, 1, 8, 8, 3), np.uint8), "got shape"),
        (np.zeros((0, 8, 8), np.uint8), "got shape"),
        (np.zeros((2, 8, 8), np.int64), "uint8 .* or floats in \\[0, 1\\], got int64"),
        (np.full((2, 8, 8), 2.0), "must be in \\[0, 1\\], got values from 0.0|2.0"),
        (np.full((2, 8, 8), np.nan), "NaN"),
        (np.array([["a"]]), "got shape"),
    ],
)
def test_bad_images(images: np.ndarray, message: str) -> None:
    with pytest.raises(InvalidParameterError, match=message):
        build_sprite(images)


def test_read_sprite_info_of_fixtures() -> None:
    assert read_sprite_info(FIXTURES / "tf2_two_embeddings_sprite" / "sprite.png") == (160, 160)
    width, height = read_sprite_info(FIXTURES / "torch_add_embedding" / "00000/images/sprite.png")
    assert width == height and width % 16 == 0


def test_read_sprite_info_of_our_png_and_a_jpeg(tmp_path: Path) -> None:
    path = tmp_path / "sprite.png"
    path.write_bytes(build_sprite(np.zeros((5, 4, 6), np.uint8)).png)
    assert read_sprite_info(path) == (12, 12)  # 2 x 3 thumbnails of 6 x 4 px
    jpeg = tmp_path / "sprite.jpg"
    Image.new("RGB", (30, 20)).save(jpeg)
    assert read_sprite_info(jpeg) == (30, 20)


def test_read_sprite_info_errors(tmp_path: Path) -> None:
    with pytest.raises(NotFoundError, match=r"missing\.png: file not found"):
        read_sprite_info(tmp_path / "missing.png")
    text = tmp_path / "sprite.png"
    text.write_text("not an image")
    with pytest.raises(FormatError, match=r"sprite.png: not an image, or a corrupt one"):
        read_sprite_info(text)
    truncated = tmp_path / "truncated.png"
    truncated.write_bytes(build_sprite(np.zeros((1, 4, 4), np.uint8)).png[:12])
    with pytest.raises(FormatError, match=r"truncated\.png: not an image"):
        read_sprite_info(truncated)
