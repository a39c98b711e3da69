"""harness/heap.py: inside kept() a large allocation comes from the heap, not its own mmap."""
import ctypes
import ctypes.util
import sys

import numpy as np
import pytest

from harness import heap


class MallInfo2(ctypes.Structure):
    _fields_ = [(name, ctypes.c_size_t) for name in
                ("arena", "ordblks", "smblks", "hblks", "hblkhd", "usmblks", "fsmblks", "uordblks", "fordblks",
                 "keepcost")]


def mmapped_bytes() -> int:
    """glibc's count of the bytes it holds in mmapped chunks (mallinfo2, glibc >= 2.33)."""
    libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
    try:
        fn = libc.mallinfo2
    except AttributeError:
        pytest.skip("no mallinfo2 (glibc older than 2.33)")
    fn.restype = MallInfo2
    return fn().hblkhd


needs_glibc = pytest.mark.skipif(not sys.platform.startswith("linux") or heap._mallopt() is None,
                                 reason="glibc's mallopt only")


@needs_glibc
def test_inside_kept_a_large_array_is_not_mmapped_and_after_it_is_again():
    before = mmapped_bytes()
    with heap.kept() as applied:
        assert applied
        inside = np.ones(8 << 20)  # 64 MB: far above glibc's mmap threshold
        assert mmapped_bytes() - before < 1 << 20
        del inside
    after = np.ones(16 << 20)  # 128 MB: more than the heap kept, so glibc maps it as it does by default
    assert mmapped_bytes() - before >= 128 << 20
    del after


def test_kept_is_a_no_op_where_there_is_no_mallopt(monkeypatch):
    monkeypatch.setattr(heap, "_mallopt", lambda: None)
    with heap.kept() as applied:
        assert applied is False
