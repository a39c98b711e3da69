"""Values across the process boundary, bounded and checked: a JSON header, then raw array bytes.

One format, both ways. The grader writes a call's inputs to a file the child maps read-only, so
the arrays a submission gets cannot be written (an attempt raises, the kernel refuses even native
writes). The child streams each result to the grader as a header plus the arrays' bytes; the
grader validates the header strictly before it allocates anything: dtypes from an allowlist,
shapes whose sizes add up to exactly the bytes announced, a bounded count of entries and depth,
every array referenced once, in order, so arrays cannot overlap or repeat. No pickle, no zip.

`materialise` turns a returned value into plain data (exact builtin types and base-class arrays)
and is meant to run inside the timed region: whatever work a lazy container, an ndarray subclass
or a numpy scalar subclass would do, it does while the clock runs. After that, sending is a copy
of bytes that calls none of the submission's code.

Layout: 8 bytes little-endian header length, the header (UTF-8 JSON), then the data. In the
header, "trees" are the values (nodes as in `harness.codec`), "arrays" [dtype, shape, offset]
with offsets from the start of the data, in the order the trees reference them.
"""
from __future__ import annotations

import json
import math
import mmap
import os
import struct
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from harness.codec import unflatten

DTYPES = frozenset(np.dtype(t).str for t in (np.bool_, np.int8, np.uint8, np.int16, np.uint16, np.int32, np.uint32,
                                             np.int64, np.uint64, np.float16, np.float32, np.float64, np.complex64,
                                             np.complex128))
ALIGN = 64  # array offsets in an input file: aligned for SIMD loads
_LEN = struct.Struct("<Q")


class TransportError(ValueError):
    """A value that cannot cross the boundary, or a header or payload that breaks the format."""


@dataclass(frozen=True)
class Bounds:
    """What one message may hold. `max_bytes` bounds the data (and so the memory the grader
    allocates for it); the rest bound the header's work."""

    max_bytes: int
    max_arrays: int = 4096
    max_nodes: int = 200_000
    max_depth: int = 32
    max_header: int = 16 << 20
    max_dims: int = 32


@dataclass
class Flat:
    """A value as plain data: its tree and its arrays, in the order the tree references them."""

    trees: list
    arrays: list[np.ndarray]

    @property
    def nbytes(self) -> int:
        return sum(int(a.nbytes) for a in self.arrays)


# -- plain data ------------------------------------------------------------------------------
def materialise(values: list, bounds: Bounds) -> Flat:
    """Plain data for each value in `values`, refusing what is not data or exceeds `bounds`.

    Reads containers through the builtin types' own methods (tuple.__iter__, dict.items), so an
    overriding subclass runs none of its code here, except numpy scalars' and numbers' own
    conversions, which is why this runs inside the timed region."""
    flat = Flat([], [])
    state = {"nodes": 0, "bytes": 0}
    flat.trees = [_plain(v, flat.arrays, state, bounds, 0) for v in values]
    return flat


def _name_of(kind: type) -> str:
    return str(type.__dict__["__name__"].__get__(kind))


def _plain(value: Any, arrays: list, state: dict, bounds: Bounds, depth: int) -> Any:
    state["nodes"] += 1
    if state["nodes"] > bounds.max_nodes:
        raise TransportError(f"more than {bounds.max_nodes:,} values")
    if depth > bounds.max_depth:
        raise TransportError(f"nested deeper than {bounds.max_depth}")
    kind = type(value)
    if value is None or kind is bool or kind is str:
        return value
    if kind is int:
        if not -(1 << 63) <= value < (1 << 64):
            raise TransportError("an integer beyond 64 bits")
        return value
    if kind is float:
        return value if math.isfinite(value) else {"float": repr(value)}
    if isinstance(value, np.ndarray):
        a = value if kind is np.ndarray else np.ndarray.view(value, np.ndarray)
        if a.dtype.str not in DTYPES:
            raise TransportError(f"array of dtype {a.dtype} (allowed: bool, integers, floats, complex)")
        if len(arrays) >= bounds.max_arrays:
            raise TransportError(f"more than {bounds.max_arrays:,} arrays")
        state["bytes"] += int(a.nbytes)
        if state["bytes"] > bounds.max_bytes:
            raise TransportError(f"more than {bounds.max_bytes:,} bytes of arrays (zero-stride views count in full)")
        arrays.append(a)
        return {"array": len(arrays) - 1}
    if isinstance(value, np.generic):
        return _plain(np.generic.item(value), arrays, state, bounds, depth + 1)
    if isinstance(value, bool):  # unreachable (bool cannot be subclassed), kept for clarity
        return bool(value)
    if isinstance(value, int):
        return _plain(int.__int__(value), arrays, state, bounds, depth + 1)
    if isinstance(value, float):
        return _plain(float.__float__(value), arrays, state, bounds, depth + 1)
    if isinstance(value, str):
        return str.__str__(value)
    if isinstance(value, tuple):
        items = [_plain(v, arrays, state, bounds, depth + 1) for v in tuple.__iter__(value)]
        fields = next((c.__dict__["_fields"] for c in kind.__mro__ if "_fields" in c.__dict__), None)
        if kind is not tuple and isinstance(fields, tuple) and len(fields) == len(items) \
                and all(type(f) is str for f in fields):
            return {"namedtuple": [_name_of(kind), list(fields), items]}
        return {"tuple": items}
    if isinstance(value, list):
        return {"list": [_plain(v, arrays, state, bounds, depth + 1) for v in list.__iter__(value)]}
    if isinstance(value, dict):
        out = {}
        for k, v in list(dict.items(value)):
            if not isinstance(k, str):
                raise TransportError("dict keys must be strings")
            out[str.__str__(k)] = _plain(v, arrays, state, bounds, depth + 1)
        return {"dict": out}
    raise TransportError(f"value of type {_name_of(kind)}")


def rebuild(node: Any, arrays: list) -> Any:
    """The value a tree describes (the shared NamedTuples come back as themselves)."""
    return unflatten(node, arrays)


# -- the header ------------------------------------------------------------------------------
def _layout(arrays: list[np.ndarray], align: int) -> tuple[list[int], int]:
    offsets, at = [], 0
    for a in arrays:
        at = -(-at // align) * align
        offsets.append(at)
        at += int(a.nbytes)
    return offsets, at


def header(flat: Flat, align: int = 1) -> tuple[bytes, list[int], int]:
    """The encoded header (length prefix included), each array's offset and the data's size."""
    offsets, size = _layout(flat.arrays, align)
    meta = [[a.dtype.str, list(a.shape), o] for a, o in zip(flat.arrays, offsets)]
    text = json.dumps({"trees": flat.trees, "arrays": meta}, allow_nan=False, separators=(",", ":")).encode()
    return _LEN.pack(len(text)) + text, offsets, size


def parse_header(text: bytes, data_size: int, bounds: Bounds, *, align: int = 1) -> tuple[list, list[tuple]]:
    """The trees and (dtype, shape, offset) of each array, after every check the format makes;
    `data_size` is the number of bytes that follow the header."""
    if len(text) > bounds.max_header:
        raise TransportError(f"header of {len(text):,} bytes (limit {bounds.max_header:,})")
    try:
        head = json.loads(text)
    except (ValueError, RecursionError) as exc:
        raise TransportError(f"header is not JSON ({type(exc).__name__})") from None
    if not isinstance(head, dict) or set(head) != {"trees", "arrays"} or not isinstance(head["trees"], list) \
            or not isinstance(head["arrays"], list):
        raise TransportError("header is not {trees, arrays}")
    metas = head["arrays"]
    if len(metas) > bounds.max_arrays:
        raise TransportError(f"{len(metas):,} arrays (limit {bounds.max_arrays:,})")
    arrays, at = [], 0
    for i, meta in enumerate(metas):
        if not (isinstance(meta, list) and len(meta) == 3 and isinstance(meta[0], str) and isinstance(meta[1], list)
                and type(meta[2]) is int):
            raise TransportError(f"array {i}: not [dtype, shape, offset]")
        dtype, shape, offset = meta
        if dtype not in DTYPES:
            raise TransportError(f"array {i}: dtype {dtype!r} not allowed")
        if len(shape) > bounds.max_dims or not all(type(n) is int and n >= 0 for n in shape):
            raise TransportError(f"array {i}: bad shape")
        nbytes = math.prod(shape) * np.dtype(dtype).itemsize  # Python ints: no overflow
        expected = -(-at // align) * align
        if offset != expected:
            raise TransportError(f"array {i}: offset {offset} where the layout puts it at {expected} "
                                 "(arrays may not overlap, repeat or leave gaps)")
        at = offset + nbytes
        if at > data_size or at > bounds.max_bytes:
            raise TransportError(f"array {i}: ends at byte {at:,}, past the data ({data_size:,} bytes, "
                                 f"limit {bounds.max_bytes:,})")
        arrays.append((dtype, tuple(shape), offset))
    if at != data_size and not (align > 1 and data_size - at < align):
        raise TransportError(f"the arrays hold {at:,} bytes, the message {data_size:,}")
    _check_trees(head["trees"], len(arrays), bounds)
    return head["trees"], arrays


def _check_trees(trees: list, n_arrays: int, bounds: Bounds) -> None:
    """Every node well formed, depth and count bounded, arrays referenced once each, in order."""
    stack = [(t, 1) for t in reversed(trees)]
    nodes, seen = 0, 0
    while stack:
        node, depth = stack.pop()
        nodes += 1
        if nodes > bounds.max_nodes or depth > bounds.max_depth + 1:
            raise TransportError("header too large or too deep")
        if node is None or isinstance(node, (bool, int, float, str)):
            continue
        if not isinstance(node, dict) or len(node) != 1:
            raise TransportError("header node is not a value")
        (kind, payload), = node.items()
        if kind == "array":
            if payload != seen or type(payload) is not int:
                raise TransportError("arrays referenced out of order or twice")
            seen += 1
        elif kind == "float":
            if payload not in ("inf", "-inf", "nan"):
                raise TransportError("bad float")
        elif kind in ("tuple", "list") and isinstance(payload, list):
            stack += [(v, depth + 1) for v in reversed(payload)]
        elif kind == "dict" and isinstance(payload, dict):
            stack += [(v, depth + 1) for v in reversed(list(payload.values()))]
        elif kind == "namedtuple" and isinstance(payload, list) and len(payload) == 3 \
                and isinstance(payload[0], str) and payload[0].isidentifier() and isinstance(payload[1], list) \
                and isinstance(payload[2], list) and len(payload[1]) == len(payload[2]) \
                and all(isinstance(f, str) and f.isidentifier() and not f.startswith("_") for f in payload[1]) \
                and len(set(payload[1])) == len(payload[1]):
            stack += [(v, depth + 1) for v in reversed(payload[2])]
        else:
            raise TransportError(f"header node {kind!r} is malformed")
    if seen != n_arrays:
        raise TransportError(f"{n_arrays} arrays announced, {seen} referenced")


# -- a stream (results, child -> grader) -------------------------------------------------------
def send(fd: int, flat: Flat, head: bytes | None = None) -> None:
    """Write the message to `fd`: the header (`head`, when already encoded), then each array's
    bytes (a copy, nothing else)."""
    _write_all(fd, head if head is not None else header(flat)[0])
    for a in flat.arrays:
        if a.nbytes:
            _write_all(fd, memoryview(np.ascontiguousarray(a)).cast("B"))


def message_size(flat: Flat) -> int:
    """Bytes `send` writes for `flat`."""
    head, _, size = header(flat)
    return len(head) + size


def _write_all(fd: int, data) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]


def receive(read_into: Callable[[memoryview], None], size: int, bounds: Bounds) -> list:
    """Read one message of exactly `size` bytes through `read_into` (fills the buffer it is given
    or raises) and return its values; allocates only what a validated header allows."""
    if size < _LEN.size or size > bounds.max_bytes + bounds.max_header + _LEN.size:
        raise TransportError(f"a message of {size:,} bytes (limit {bounds.max_bytes:,} of data)")
    prefix = bytearray(_LEN.size)
    read_into(memoryview(prefix))
    (length,), rest = _LEN.unpack(prefix), size - _LEN.size
    if length > min(rest, bounds.max_header):
        raise TransportError(f"header of {length:,} bytes in a message of {size:,}")
    text = bytearray(length)
    read_into(memoryview(text))
    trees, metas = parse_header(bytes(text), rest - length, bounds)
    arrays = []
    for dtype, shape, _ in metas:
        a = np.empty(shape, dtype=dtype)
        if a.nbytes:
            read_into(memoryview(a).cast("B"))
        arrays.append(a)
    return [rebuild(t, arrays) for t in trees]


# -- a file (inputs, grader -> child) ----------------------------------------------------------
def write_file(fd: int, values: list, bounds: Bounds) -> int:
    """Write `values` to the open file `fd` (then closed), arrays aligned for mapping; returns the size."""
    flat = materialise(values, bounds)
    head, offsets, size = header(flat, ALIGN)
    pad = -len(head) % ALIGN  # the data starts aligned too (JSON allows trailing blanks)
    head = _LEN.pack(len(head) - _LEN.size + pad) + head[_LEN.size:] + b" " * pad
    with os.fdopen(fd, "wb") as fh:
        fh.write(head)
        start = len(head)
        for a, offset in zip(flat.arrays, offsets):
            fh.seek(start + offset)
            fh.write(memoryview(np.ascontiguousarray(a)).cast("B") if a.nbytes else b"")
        fh.truncate(start + size + 1)  # never empty, so it can always be mapped
    return start + size + 1


def map_file(path: str, bounds: Bounds) -> tuple[list, mmap.mmap]:
    """The values in an input file, as arrays over a read-only shared mapping of it (writes raise;
    native writes fault), with the pages faulted in now rather than in the timed call."""
    fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
    try:
        size = os.fstat(fd).st_size
        flags = mmap.MAP_SHARED | getattr(mmap, "MAP_POPULATE", 0)
        mm = mmap.mmap(fd, size, flags=flags, prot=mmap.PROT_READ)
    finally:
        os.close(fd)
    (length,) = _LEN.unpack(mm[:_LEN.size])
    start = _LEN.size + length
    trees, metas = parse_header(mm[_LEN.size:start], size - start - 1, bounds, align=ALIGN)
    arrays = []
    for dtype, shape, offset in metas:
        dt = np.dtype(dtype)
        a = np.frombuffer(mm, dtype=dt, count=math.prod(shape), offset=start + offset).reshape(shape)
        arrays.append(a)
    if not getattr(mmap, "MAP_POPULATE", 0):  # touch one byte per page instead
        np.frombuffer(mm, dtype=np.uint8)[::mmap.PAGESIZE].sum()
    return [rebuild(t, arrays) for t in trees], mm
