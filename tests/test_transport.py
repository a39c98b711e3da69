"""harness/transport.py: values cross the boundary as plain data, results are validated before the
grader allocates anything, and inputs are mapped read-only."""
from __future__ import annotations

import json
import math
import os
import tempfile

import numpy as np
import pytest

from harness import transport
from harness.types import COO, CSR

BOUNDS = transport.Bounds(max_bytes=1 << 20)


def _through_a_pipe(values, bounds=BOUNDS):
    flat = transport.materialise(values, bounds)
    r, w = os.pipe()
    size = transport.message_size(flat)
    assert size < 1 << 16, "keep test messages within one pipe buffer"
    transport.send(w, flat)
    os.close(w)

    def read_into(buf):
        view = memoryview(buf)
        while view:
            n = os.readv(r, [view])
            assert n, "short message"
            view = view[n:]

    try:
        return transport.receive(read_into, size, bounds)
    finally:
        os.close(r)


def _raw(head: dict, data: bytes = b"") -> list:
    text = json.dumps(head).encode()
    raw = memoryview(len(text).to_bytes(8, "little") + text + data)
    at = [0]

    def read_into(buf):
        n = len(buf)
        if at[0] + n > len(raw):
            raise transport.TransportError("short")
        buf[:] = raw[at[0]:at[0] + n]
        at[0] += n

    return transport.receive(read_into, len(raw), BOUNDS)


def test_nested_values_roundtrip():
    A = CSR(np.array([0, 1]), np.array([0], np.int32), np.array([2.0]), (1, 1))
    value = (A, {"k": 3, "x": [1.5, "s", True, None, -math.inf]}, np.float32(2.5), COO(*[np.zeros(0)] * 3, (0, 3)))
    (got,) = _through_a_pipe([value])
    assert isinstance(got[0], CSR) and got[0].indices.dtype == np.int32 and got[0].shape == (1, 1)
    assert got[1] == {"k": 3, "x": [1.5, "s", True, None, -math.inf]} and got[2] == 2.5
    assert isinstance(got[3], COO) and got[3].shape == (0, 3)


class Sneaky(np.float64):
    """A numpy scalar whose own conversion would do work: materialise uses numpy's."""

    def item(self, *args):
        raise AssertionError("the subclass's item() ran")


class LazyArray(np.ndarray):
    def tobytes(self, *a, **k):
        raise AssertionError("the subclass serialised itself")


class LazyTuple(tuple):
    def __iter__(self):
        raise AssertionError("iterated through the subclass")


def test_materialise_reads_through_the_builtin_types():
    flat = transport.materialise([(Sneaky(1.5), np.arange(3.0).view(LazyArray), LazyTuple((1, 2)))], BOUNDS)
    assert flat.trees == [{"tuple": [1.5, {"array": 0}, {"tuple": [1, 2]}]}]
    assert type(flat.arrays[0]) is np.ndarray


@pytest.mark.parametrize("bad", [np.array([object()], dtype=object), {1: 2}, (x for x in ()), {1, 2}, 2 ** 70,
                                 np.zeros(3, dtype=[("a", "<f8")])])
def test_non_data_is_refused(bad):
    with pytest.raises(transport.TransportError):
        transport.materialise([bad], BOUNDS)


def test_bounds_hold_in_the_child_before_anything_is_sent():
    huge = np.broadcast_to(np.zeros(1), (1 << 30,))  # a zero-stride "8 GiB": counted in full
    with pytest.raises(transport.TransportError, match="zero-stride"):
        transport.materialise([huge], BOUNDS)
    deep: list = []
    for _ in range(100):
        deep = [deep]
    with pytest.raises(transport.TransportError, match="deeper"):
        transport.materialise([deep], BOUNDS)
    loop: list = []
    loop.append(loop)
    with pytest.raises(transport.TransportError):
        transport.materialise([loop], BOUNDS)
    with pytest.raises(transport.TransportError, match="arrays"):
        transport.materialise([[np.zeros(0)] * 5000], BOUNDS)


@pytest.mark.parametrize("head,data,why", [
    ({"trees": [{"array": 0}], "arrays": [["<f8", [1 << 40], 0]]}, b"", "past the data"),
    ({"trees": [{"tuple": [{"array": 0}, {"array": 1}]}], "arrays": [["<f8", [4], 0], ["<f8", [4], 0]]},
     bytes(64), "overlap"),
    ({"trees": [{"tuple": [{"array": 0}, {"array": 0}]}], "arrays": [["<f8", [4], 0]]}, bytes(32), "twice"),
    ({"trees": [{"array": 0}], "arrays": [["|O", [1], 0]]}, bytes(8), "not allowed"),
    ({"trees": [{"array": 0}], "arrays": [["<f8", [-1], 0]]}, b"", "bad shape"),
    ({"trees": [{"array": 0}], "arrays": [["<f8", [2], 0]]}, bytes(24), "hold"),
    ({"trees": [{"pickle": "x"}], "arrays": []}, b"", "malformed"),
    ({"trees": [{"namedtuple": ["os.system", ["a"], [1]]}], "arrays": []}, b"", "malformed"),
    ({"trees": [{"list": [[]]}], "arrays": []}, b"", "not a value"),
])
def test_hostile_headers_are_refused(head, data, why):
    with pytest.raises(transport.TransportError, match=why):
        _raw(head, data)


def test_a_deep_header_is_refused_without_recursion():
    text = '{"list": [' * 50_000 + "1" + "]}" * 50_000  # deeper than json's recursion: RecursionError inside
    with pytest.raises(transport.TransportError):
        transport.parse_header(('{"trees": [' + text + '], "arrays": []}').encode(), 0, BOUNDS)
    shallow_but_long = '{"list": [' * 40 + "1" + "]}" * 40
    with pytest.raises(transport.TransportError, match="deep"):
        transport.parse_header(('{"trees": [' + shallow_but_long + '], "arrays": []}').encode(), 0, BOUNDS)


def test_an_oversized_message_is_refused_before_reading():
    def read_into(buf):
        raise AssertionError("read")

    with pytest.raises(transport.TransportError):
        transport.receive(read_into, 1 << 40, BOUNDS)


def test_input_files_map_read_only_even_through_numpy_tricks():
    fd, path = tempfile.mkstemp()
    try:
        transport.write_file(fd, [(COO(np.arange(3, dtype=np.int32), np.arange(3), np.ones(3), (3, 3)),)],
                             transport.Bounds(1 << 30))
        ((A,),), mm = transport.map_file(path, BOUNDS)
        assert A.row.dtype == np.int32 and A.shape == (3, 3) and A.data.ctypes.data % transport.ALIGN == 0
        for attempt in (lambda: A.data.__setitem__(0, 5.0), lambda: A.data.setflags(write=True),
                        lambda: np.add(A.data, 1, out=A.data)):
            with pytest.raises(ValueError):
                attempt()
        assert not np.lib.stride_tricks.as_strided(A.data).flags.writeable
        assert np.array_equal(A.data, np.ones(3))
    finally:
        os.unlink(path)


def test_a_staged_file_is_rewritten_in_place_and_holds_only_the_latest_batch(tmp_path):
    """The timing phase stages command after command in one file (harness/sandbox.py Staging):
    the same file each time, so its pages are reused, and after a smaller batch only that batch
    is in it (the file is cut to the new length: a map of it reads exactly the new values)."""
    from harness.sandbox import Staging

    staging = Staging(tmp_path)
    big = [(np.arange(100_000, dtype=np.int64), np.ones(5))]
    small = [(np.arange(3, dtype=np.int32), np.full(2, 7.0)), (np.zeros(0), np.ones(1))]
    path = staging.write(big)
    inode, size = os.stat(path).st_ino, os.stat(path).st_size
    assert staging.write(small) == path and os.stat(path).st_ino == inode and os.stat(path).st_size < size
    values, mm = transport.map_file(str(path), BOUNDS)
    assert len(values) == 2 and values[0][0].dtype == np.int32
    assert np.array_equal(values[0][0], [0, 1, 2]) and np.array_equal(values[0][1], [7.0, 7.0])
    assert values[1][0].size == 0 and np.array_equal(values[1][1], [1.0])
    del values, mm
    staging.close()
    assert not path.exists() and not list(tmp_path.iterdir())


def test_a_reserved_staged_file_still_holds_only_its_batch(tmp_path):
    """A size's file can be given its pages while the first input is built (Staging.reserve,
    a background thread): the write waits for it, the file is cut to the batch's length, and a
    map of it reads exactly the batch. A reservation past the batch, one short of it, and none
    (0 bytes) all end the same way; close waits for a reservation never written over."""
    from harness.sandbox import Staging

    batch = [(np.arange(50_000, dtype=np.int64), np.linspace(0, 1, 7))]
    sizes = set()
    for reserve in (0, 64 << 20, 1000):
        staging = Staging(tmp_path)
        staging.reserve(reserve)
        path = staging.write(batch)
        sizes.add(os.stat(path).st_size)
        values, mm = transport.map_file(str(path), BOUNDS)
        assert np.array_equal(values[0][0], batch[0][0]) and np.array_equal(values[0][1], batch[0][1])
        del values, mm
        staging.close()
    assert len(sizes) == 1 and sizes.pop() < 1 << 20
    unused = Staging(tmp_path)
    unused.reserve(8 << 20)
    unused.close()
    assert not list(tmp_path.iterdir())


def test_the_staged_file_reserved_for_a_size_follows_the_sizes_before_it():
    """timing.predicted_bytes: the line through the last two sizes (an input with a fixed part,
    such as an MoE layer's weights, grows by less than its size), proportional to a single one,
    and never below the last size's bytes."""
    from harness.timing import predicted_bytes

    assert predicted_bytes([(1000, 12_000)], 10_000) == 120_000
    assert predicted_bytes([(512, 8_500_000), (2048, 10_000_000)], 8192) == 16_000_000
    assert predicted_bytes([(10, 500), (20, 400)], 40) == 400
