"""Explicit vector code for Numba kernels, where LLVM's auto-vectoriser leaves a loop scalar.

`row_times_dense(indices, data, X, lo, hi, Y, i)` inside an @njit function sets Y[i, :] to
one CSR row (its entries lo..hi-1) times X: blocks of 8 columns through `row_block8`, the last
k % 8 columns one running sum each. `row_block8(indices, data, X, lo, hi, c, Y, y_at)` sets
Y.flat[y_at : y_at + 8] to the sum over entries p in [lo, hi) of data[p] · X[indices[p], c : c + 8]:
one sparse row times an 8-column block of a dense, C-ordered X. The 8 sums live in one
`<8 x double>` register for the whole row, and are added in entry order, so the result is
bitwise the scalar loop's.

Why it exists: a Numba loop `for c in range(k): acc[c] += a * X[j, c]` is vectorised by LLVM
with a body of 32 doubles on an AVX-512 host (8 per zmm register, interleaved 4 times), so at
k = 16 it never runs and every column goes through the scalar remainder. The SLP vectoriser,
which would turn 16 named sums into vector code, is off in Numba by default (numba PR #8852:
miscompilations). Measured in spmm's editorial.

The caller keeps c + 8 <= X.shape[1] and y_at + 8 <= Y.size; nothing here checks bounds.
Shared code, not problem-specific, like harness.prefetch: a submission may import it too.
"""
from __future__ import annotations

import numba
from llvmlite import ir
from numba import types
from numba.core import cgutils
from numba.extending import intrinsic

WIDTH = 8  # doubles per block: one zmm register, or two ymm where AVX-512 is absent


@intrinsic
def row_block8(typingctx, indices, data, X, lo, hi, c, Y, y_at):
    """Y.flat[y_at:y_at+8] = sum over p in [lo, hi), in order, of data[p] * X[indices[p], c:c+8]."""
    arrays_ok = (isinstance(indices, types.Array) and isinstance(indices.dtype, types.Integer)
                 and all(isinstance(a, types.Array) and a.dtype == types.float64 for a in (data, X, Y))
                 and X.ndim == 2 and X.layout == "C" and Y.layout == "C")
    if not arrays_ok or not all(isinstance(v, types.Integer) for v in (lo, hi, c, y_at)):
        return None

    def codegen(context, builder, sig, args):
        i64 = ir.IntType(64)
        vector = ir.VectorType(ir.DoubleType(), WIDTH)
        ind, dat, x, y = (context.make_array(sig.args[q])(context, builder, args[q]) for q in (0, 1, 2, 6))
        lo_, hi_, c_, y_at_ = (context.cast(builder, args[q], sig.args[q], types.int64) for q in (3, 4, 5, 7))
        k = cgutils.unpack_tuple(builder, x.shape, 2)[1]
        total = cgutils.alloca_once_value(builder, ir.Constant(vector, [0.0] * WIDTH))  # promoted to a register
        with cgutils.for_range_slice(builder, lo_, hi_, ir.Constant(i64, 1), inc=True) as (p, _):
            j = builder.load(builder.gep(ind.data, [p]))
            j = builder.zext(j, i64) if j.type.width < 64 else j  # indices are >= 0 (zext suits int and uint)
            a = builder.load(builder.gep(dat.data, [p]))
            block = builder.bitcast(builder.gep(x.data, [builder.add(builder.mul(j, k), c_)]), vector.as_pointer())
            splat = builder.shuffle_vector(
                builder.insert_element(ir.Constant(vector, ir.Undefined), a, ir.Constant(ir.IntType(32), 0)),
                ir.Constant(vector, ir.Undefined), ir.Constant(ir.VectorType(ir.IntType(32), WIDTH), [0] * WIDTH))
            # the product, then the add: two roundings, as the scalar loop (no fused multiply-add)
            builder.store(builder.fadd(builder.load(total), builder.fmul(splat, builder.load(block, align=8))), total)
        out = builder.bitcast(builder.gep(y.data, [y_at_]), vector.as_pointer())
        builder.store(builder.load(total), out, align=8)
        return context.get_dummy_value()

    return types.void(indices, data, X, lo, hi, c, Y, y_at), codegen


@numba.njit(inline="always")
def row_times_dense(indices, data, X, lo, hi, Y, i):
    """Y[i, :] = sum over p in [lo, hi), in order, of data[p] * X[indices[p], :] (Y and X
    C-ordered, float64). Inlined where it is called: a call per row that passes six arrays
    costs more than a short row's work."""
    k = X.shape[1]
    blocked = k - k % WIDTH
    for c in range(0, blocked, WIDTH):
        row_block8(indices, data, X, lo, hi, c, Y, i * k + c)
    for c in range(blocked, k):
        s = 0.0
        for p in range(lo, hi):
            s += data[p] * X[indices[p], c]
        Y[i, c] = s
