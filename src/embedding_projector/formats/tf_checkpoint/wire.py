"""Just enough protobuf wire-format decoding for ``BundleHeaderProto`` and ``BundleEntryProto``.

Hand-written rather than generated so the package needs neither TensorFlow's ``.proto``
files nor ``protoc``. Field numbers follow ``tensorflow/core/protobuf/tensor_bundle.proto``
(see ``CHECKPOINT_FORMAT.md`` §3). Unknown fields of every wire type are skipped, as
protobuf parsers do, so checkpoints from newer TensorFlow versions still read.

Errors are raised as :class:`DecodeError` without a file name; the reader adds the file
and the tensor concerned.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

VARINT, FIXED64, LENGTH, START_GROUP, END_GROUP, FIXED32 = range(6)
_MAX_FIELD_NUMBER = (1 << 29) - 1


class DecodeError(ValueError):
    """Bytes that are not valid protobuf / OrderedCode; the message says where."""


def decode_varint(buf: bytes, pos: int, end: int) -> tuple[int, int]:
    """Decode an unsigned varint of at most 64 bits at ``buf[pos:end]``.

    Returns the value and the position after it.
    """
    result = 0
    for shift in range(0, 70, 7):
        if pos >= end:
            raise DecodeError(f"truncated varint at byte {pos}")
        byte = buf[pos]
        pos += 1
        result |= (byte & 0x7F) << shift
        if byte < 0x80:
            if result >> 64:
                break
            return result, pos
    raise DecodeError(f"varint longer than 64 bits ending at byte {pos}")


def _signed(value: int, bits: int) -> int:
    """Reinterpret the low ``bits`` bits of a varint as two's complement (int32/int64 fields)."""
    value &= (1 << bits) - 1
    return value - (1 << bits) if value >> (bits - 1) else value


def iter_fields(buf: bytes) -> Iterator[tuple[int, int, int | bytes]]:
    """Yield ``(field number, wire type, value)`` for each field of a message.

    The value is an ``int`` for varint and fixed-width fields and ``bytes`` for
    length-delimited ones. Groups (a deprecated encoding no bundle field uses) are skipped.
    """
    pos, end = 0, len(buf)
    groups: list[int] = []  # open groups being skipped, innermost last
    while pos < end:
        tag, pos = decode_varint(buf, pos, end)
        number, wire_type = tag >> 3, tag & 7
        if not 0 < number <= _MAX_FIELD_NUMBER:
            raise DecodeError(f"invalid field number {number} before byte {pos}")
        value: int | bytes
        if wire_type == VARINT:
            value, pos = decode_varint(buf, pos, end)
        elif wire_type in (FIXED64, FIXED32):
            width = 8 if wire_type == FIXED64 else 4
            if end - pos < width:
                raise DecodeError(f"truncated fixed{8 * width} field {number} at byte {pos}")
            value = int.from_bytes(buf[pos : pos + width], "little")
            pos += width
        elif wire_type == LENGTH:
            length, pos = decode_varint(buf, pos, end)
            if length > end - pos:
                raise DecodeError(
                    f"field {number} claims {length} bytes at byte {pos}, only {end - pos} remain"
                )
            value = buf[pos : pos + length]
            pos += length
        elif wire_type == START_GROUP:
            groups.append(number)
            continue
        elif wire_type == END_GROUP:
            if not groups or groups.pop() != number:
                raise DecodeError(f"unmatched end of group {number} before byte {pos}")
            continue
        else:
            raise DecodeError(f"invalid wire type {wire_type} for field {number} before byte {pos}")
        if not groups:
            yield number, wire_type, value
    if groups:
        raise DecodeError(f"group {groups[-1]} is not closed")


def _expect_int(number: int, wire_type: int, value: int | bytes, expected: int) -> int:
    """The value of a scalar field, checking it came with the wire type its type implies."""
    if wire_type != expected or not isinstance(value, int):
        raise DecodeError(f"field {number} has wire type {wire_type}, expected {expected}")
    return value


def _expect_bytes(number: int, wire_type: int, value: int | bytes) -> bytes:
    """The value of a message or string field (wire type 2)."""
    if wire_type != LENGTH or not isinstance(value, bytes):
        raise DecodeError(f"field {number} has wire type {wire_type}, expected {LENGTH}")
    return value


def _packed_varints(data: bytes) -> Iterator[int]:
    """The values of a packed repeated varint field."""
    pos = 0
    while pos < len(data):
        value, pos = decode_varint(data, pos, len(data))
        yield value


@dataclass(frozen=True)
class BundleHeader:
    """``BundleHeaderProto``: the value of the empty key."""

    num_shards: int = 0
    big_endian: bool = False
    producer: int = 0
    min_consumer: int = 0
    bad_consumers: tuple[int, ...] = ()


@dataclass(frozen=True)
class Extent:
    """One dimension of a ``TensorSliceProto``; ``length=None`` means "to the end"."""

    start: int = 0
    length: int | None = None


@dataclass(frozen=True)
class BundleEntry:
    """``BundleEntryProto``: where a tensor (or one slice of it) is stored.

    ``shape`` is ``None`` when the shape proto says ``unknown_rank``.
    """

    dtype: int = 0
    shape: tuple[int, ...] | None = ()
    shard_id: int = 0
    offset: int = 0
    size: int = 0
    crc32c: int = 0
    slices: tuple[tuple[Extent, ...], ...] = ()


def parse_header(buf: bytes) -> BundleHeader:
    """Decode a serialized ``BundleHeaderProto``."""
    num_shards = endianness = producer = min_consumer = 0
    bad: list[int] = []
    for number, wire_type, value in iter_fields(buf):
        if number == 1:
            num_shards = _signed(_expect_int(number, wire_type, value, VARINT), 32)
        elif number == 2:
            endianness = _signed(_expect_int(number, wire_type, value, VARINT), 32)
        elif number == 3:
            for vnumber, vwire, vvalue in iter_fields(_expect_bytes(number, wire_type, value)):
                if vnumber == 1:
                    producer = _signed(_expect_int(vnumber, vwire, vvalue, VARINT), 32)
                elif vnumber == 2:
                    min_consumer = _signed(_expect_int(vnumber, vwire, vvalue, VARINT), 32)
                elif vnumber == 3 and vwire == LENGTH and isinstance(vvalue, bytes):
                    bad.extend(_signed(v, 32) for v in _packed_varints(vvalue))
                elif vnumber == 3:
                    bad.append(_signed(_expect_int(vnumber, vwire, vvalue, VARINT), 32))
    return BundleHeader(num_shards, endianness == 1, producer, min_consumer, tuple(bad))


def _parse_shape(buf: bytes) -> tuple[int, ...] | None:
    """Decode a ``TensorShapeProto``: the dim sizes, or ``None`` for an unknown rank."""
    dims: list[int] = []
    unknown_rank = False
    for number, wire_type, value in iter_fields(buf):
        if number == 2:
            size = 0
            for dnumber, dwire, dvalue in iter_fields(_expect_bytes(number, wire_type, value)):
                if dnumber == 1:
                    size = _signed(_expect_int(dnumber, dwire, dvalue, VARINT), 64)
            dims.append(size)
        elif number == 3:
            unknown_rank = bool(_expect_int(number, wire_type, value, VARINT))
    return None if unknown_rank else tuple(dims)


def _parse_slice(buf: bytes) -> tuple[Extent, ...]:
    """Decode a ``TensorSliceProto`` into its extents, one per dimension."""
    extents: list[Extent] = []
    for number, wire_type, value in iter_fields(buf):
        if number != 1:
            continue
        start, length = 0, None
        for enumber, ewire, evalue in iter_fields(_expect_bytes(number, wire_type, value)):
            if enumber == 1:
                start = _signed(_expect_int(enumber, ewire, evalue, VARINT), 64)
            elif enumber == 2:
                length = _signed(_expect_int(enumber, ewire, evalue, VARINT), 64)
        extents.append(Extent(start, length))
    return tuple(extents)


def parse_entry(buf: bytes) -> BundleEntry:
    """Decode a serialized ``BundleEntryProto``."""
    fields: dict[str, int] = {}
    shape: tuple[int, ...] | None = ()
    slices: list[tuple[Extent, ...]] = []
    for number, wire_type, value in iter_fields(buf):
        if number == 1:
            fields["dtype"] = _signed(_expect_int(number, wire_type, value, VARINT), 32)
        elif number == 2:
            shape = _parse_shape(_expect_bytes(number, wire_type, value))
        elif number == 3:
            fields["shard_id"] = _signed(_expect_int(number, wire_type, value, VARINT), 32)
        elif number in (4, 5):
            name = "offset" if number == 4 else "size"
            fields[name] = _signed(_expect_int(number, wire_type, value, VARINT), 64)
        elif number == 6:
            fields["crc32c"] = _expect_int(number, wire_type, value, FIXED32)
        elif number == 7:
            slices.append(_parse_slice(_expect_bytes(number, wire_type, value)))
    return BundleEntry(shape=shape, slices=tuple(slices), **fields)
