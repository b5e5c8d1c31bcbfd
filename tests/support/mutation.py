"""Byte-level mutations of real files, for fuzzing readers with hypothesis.

A mutation is ``(kind, position, argument)``; positions are taken modulo the current
length, so any drawn edit applies to any file. ``mutations(tokens)`` also splices in
tokens that a format's parser treats specially (a deep bracket run for JSON, a PNG
chunk that inflates past Pillow's limit), which random bytes would rarely hit.
"""

from __future__ import annotations

from hypothesis import strategies as st

Edit = tuple[str, int, int | bytes]


def mutations(tokens: tuple[bytes, ...] = ()) -> st.SearchStrategy[Edit]:
    """One edit: flip a bit, truncate, insert, delete, overwrite, or splice in a token."""
    kinds = [
        st.tuples(st.just("flip"), st.integers(0, 10**6), st.integers(0, 7)),
        st.tuples(st.just("truncate"), st.integers(0, 10**6), st.just(0)),
        st.tuples(st.just("insert"), st.integers(0, 10**6), st.binary(min_size=1, max_size=8)),
        st.tuples(st.just("delete"), st.integers(0, 10**6), st.integers(1, 16)),
        st.tuples(st.just("overwrite"), st.integers(0, 10**6), st.binary(min_size=1, max_size=8)),
    ]
    if tokens:
        kinds.append(st.tuples(st.just("insert"), st.integers(0, 10**6), st.sampled_from(tokens)))
    return st.one_of(kinds)


def mutate(data: bytes, edits: list[Edit]) -> bytes:
    """Apply byte-level edits, positions taken modulo the current length."""
    out = bytearray(data)
    for kind, where, arg in edits:
        pos = where % (len(out) + 1)
        if kind == "flip" and pos < len(out) and isinstance(arg, int):
            out[pos] ^= 1 << arg
        elif kind == "truncate":
            del out[pos:]
        elif kind == "insert" and isinstance(arg, bytes):
            out[pos:pos] = arg
        elif kind == "delete" and isinstance(arg, int):
            del out[pos : pos + arg]
        elif kind == "overwrite" and isinstance(arg, bytes):
            out[pos : pos + len(arg)] = arg
    return bytes(out)
