"""Protobuf and OrderedCode decoding, on the byte examples of CHECKPOINT_FORMAT.md."""

from __future__ import annotations

import pytest

from embedding_projector.formats.tf_checkpoint.ordered_code import decode_slice_key
from embedding_projector.formats.tf_checkpoint.wire import (
    BundleEntry,
    BundleHeader,
    DecodeError,
    Extent,
    parse_entry,
    parse_header,
)

TUTORIAL_ENTRY = bytes.fromhex("08011209120308e70712020810 28c0f303 352bfda4c3".replace(" ", ""))


def test_entry_from_the_format_doc() -> None:
    assert parse_entry(TUTORIAL_ENTRY) == BundleEntry(1, (999, 16), 0, 0, 63936, 0xC3A4FD2B)


def test_unknown_fields_of_every_wire_type_are_skipped() -> None:
    unknown = bytes.fromhex(
        "f801 05"  # field 31 varint
        "f901 0102030405060708"  # field 31 fixed64
        "fa01 03 616263"  # field 31 length-delimited
        "fb01 0801 fc01"  # field 31 group holding a varint
        "fd01 01020304"  # field 31 fixed32
    )
    assert parse_entry(unknown + TUTORIAL_ENTRY + unknown) == parse_entry(TUTORIAL_ENTRY)


def test_slices_and_negative_int64() -> None:
    slices = bytes.fromhex("3a0a 0a04081e101e 0a021006")  # the doc's example
    negative_offset = bytes.fromhex("20 ffffffffffffffffff01")  # offset = -1
    entry = parse_entry(slices + negative_offset)
    assert entry.slices == ((Extent(30, 30), Extent(0, 6)),)
    assert entry.offset == -1


def test_headers() -> None:
    assert parse_header(bytes.fromhex("0803 1a020801")) == BundleHeader(3, producer=1)
    big_endian = parse_header(bytes.fromhex("0801 1001"))
    assert big_endian.big_endian
    packed = parse_header(bytes.fromhex("1a04 1a020102"))  # bad_consumers: [1, 2], packed
    unpacked = parse_header(bytes.fromhex("1a04 18011802"))
    assert packed.bad_consumers == unpacked.bad_consumers == (1, 2)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ("08", "truncated varint"),
        ("12 05 0102", "field 2 claims 5 bytes"),
        ("0e", "invalid wire type 6"),
        ("fb01", "group 31 is not closed"),
        ("0c", "unmatched end of group 1"),
        ("00", "invalid field number 0"),
        ("12 01 00", "invalid field number 0"),  # inside the shape message
        ("0a 00", "field 1 has wire type 2, expected 0"),
        ("08 ffffffffffffffffff7f", "varint longer than 64 bits"),
    ],
)
def test_malformed_entries(data: str, message: str) -> None:
    with pytest.raises(DecodeError, match=message):
        parse_entry(bytes.fromhex(data.replace(" ", "")))


def test_slice_key_from_the_format_doc() -> None:
    key = b"\x00part_embedding\x00\x01\x01\x02\x80\x9e\x80\x86"
    assert decode_slice_key(key) == (b"part_embedding", ((0, 30), (0, 6)))


@pytest.mark.parametrize(
    ("encoded", "value"),
    [("80", 0), ("9e", 30), ("c07d", 125), ("c0fa", 250), ("c177", 375), ("7f", -1)],
)
def test_signed_numbers_from_the_format_doc(encoded: str, value: int) -> None:
    key = b"\x00x\x00\x01\x01\x01" + bytes.fromhex(encoded) + b"\x80"
    assert decode_slice_key(key) == (b"x", ((value, 0),))


def test_escaped_name_bytes() -> None:
    key = b"\x00a\x00\xffb\xff\x00\x00\x01\x00"
    assert decode_slice_key(key) == (b"a\x00b\xff", ())
