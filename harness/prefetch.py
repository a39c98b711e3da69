"""Software prefetch for Numba kernels, and a test of when it pays.

`prefetch(a, i)` inside an @njit function asks the CPU to start loading the cache line holding
a.flat[i] (LLVM's llvm.prefetch: a read, kept in every cache level). It changes no value: a
prefetch of an address past the array's end is harmless, but the kernels below only prefetch
addresses inside it. Used by the references whose inner loop reads a dense operand at the
column indices of a sparse matrix (spmv's x[j], spmm's X[j, :]): with scattered columns each
read is a cache miss the out-of-order core cannot see coming; a prefetch issued a few entries
earlier overlaps those misses. For a banded matrix (a stencil) the reads stream and the
hardware prefetchers already cover them: there the extra instructions cost time, so
`scattered_columns` decides, from a sample, whether a matrix needs it.

Shared code, not problem-specific: the references import it like harness.types; a submission may too.
"""
from __future__ import annotations

import numpy as np
from llvmlite import ir
from numba import types
from numba.core import cgutils
from numba.extending import intrinsic

L2_BYTES = 1 << 20  # reads scattered over more than this reach past a core's L2: worth prefetching
PER_ROW = 8  # sampled entries per sampled row


@intrinsic
def prefetch(typingctx, arr, index):
    """prefetch(a, i): start loading the cache line of a.flat[i] (C-ordered a). Returns nothing."""
    if not isinstance(arr, types.Array) or not isinstance(index, types.Integer):
        return None

    def codegen(context, builder, sig, args):
        array = context.make_array(sig.args[0])(context, builder, args[0])
        address = builder.bitcast(builder.gep(array.data, [args[1]]), ir.IntType(8).as_pointer())
        i32 = ir.IntType(32)
        fn = cgutils.get_or_insert_function(
            builder.module, ir.FunctionType(ir.VoidType(), [ir.IntType(8).as_pointer(), i32, i32, i32]),
            "llvm.prefetch.p0i8")
        # read (0), keep in all cache levels (locality 3), data cache (1)
        builder.call(fn, [address, ir.Constant(i32, 0), ir.Constant(i32, 3), ir.Constant(i32, 1)])
        return context.get_dummy_value()

    return types.void(arr, index), codegen


def scattered_columns(indptr: np.ndarray, indices: np.ndarray, shape: tuple[int, int], row_bytes: int,
                      samples: int = 64) -> bool:
    """Do the rows read the dense operand (`row_bytes` per column index) far from where the row
    sits? The median distance |j - i·cols/rows| over the first entries of `samples` evenly spaced
    rows, in bytes, against a core's L2. A stencil's columns stay within a few grid planes of the
    diagonal (streams the hardware prefetches); random columns are anywhere. O(samples) work."""
    n_rows, n_cols = int(shape[0]), int(shape[1])
    if n_rows == 0 or indices.size == 0 or n_cols * row_bytes <= L2_BYTES:
        return False
    rows = (n_rows - 1) * np.arange(min(samples, n_rows)) // max(min(samples, n_rows) - 1, 1)
    starts = np.asarray(indptr[rows], dtype=np.int64)
    counts = np.minimum(np.asarray(indptr[rows + 1], dtype=np.int64) - starts, PER_ROW)
    if not counts.sum():
        return False
    owner = np.repeat(rows, counts)  # the row of each sampled entry, its first PER_ROW entries
    first = np.repeat(starts, counts) + np.arange(counts.sum()) - np.repeat(np.cumsum(counts) - counts, counts)
    distance = np.abs(np.asarray(indices[first], dtype=np.float64) - owner * (n_cols / n_rows))
    # the median is past L2 when more than half the distances are: a count, not np.median,
    # which cost 0.2 ms a call here (3% of a 10^6-row stencil's spmv); NumPy, not Numba,
    # whose compile would cost every fresh child time
    return bool(2 * np.count_nonzero(distance * row_bytes > L2_BYTES) > distance.size)
