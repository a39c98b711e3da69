"""nm-sparsity, Numba reference (the speed yardstick): prune and compress in one pass over W,
then the product from the compressed form.

Pruning: position j of a group is kept when fewer than two others beat it, where k beats j if
|w_k| > |w_j| or they are equal and k < j (the tie rule); the four counts give a 4-bit keep mask,
and a 16-entry table turns the mask into the two positions. Compressing writes the two kept values
in increasing position and their positions as a 4-bit nibble (two groups per byte).

Product: for each row i and group g with kept positions p0 < p1 and values v0, v1,
Y[i, :] += v0·X[4g + p0, :] + v1·X[4g + p1, :]: half the multiply-adds of the dense product,
the innermost loop contiguous over the n columns of X and Y (vectorised), accumulated in float32.
"""
import numba
import numpy as np

from harness.types import Sparse24


# the positions (p0, p1) of a 4-bit keep mask with two bits set; other masks never occur
FIRST = np.array([0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 1, 0, 2, 0, 0, 0], dtype=np.int64)
SECOND = np.array([0, 0, 0, 1, 0, 2, 2, 0, 0, 3, 3, 0, 3, 0, 0, 0], dtype=np.int64)


@numba.njit(cache=True)
def _compress(W, values, meta, first_of, second_of):
    rows, cols = W.shape
    for i in range(rows):
        w = W[i]
        for g in range(cols // 4):
            a0, a1, a2, a3 = abs(w[4 * g]), abs(w[4 * g + 1]), abs(w[4 * g + 2]), abs(w[4 * g + 3])
            # how many positions beat each one (larger |w|, or equal |w| at a lower position):
            # comparisons summed as integers, no branches to mispredict on random weights
            b0 = (a1 > a0) + (a2 > a0) + (a3 > a0)
            b1 = (a0 >= a1) + (a2 > a1) + (a3 > a1)
            b2 = (a0 >= a2) + (a1 >= a2) + (a3 > a2)
            b3 = (a0 >= a3) + (a1 >= a3) + (a2 >= a3)
            mask = (b0 < 2) | ((b1 < 2) << 1) | ((b2 < 2) << 2) | ((b3 < 2) << 3)
            p0, p1 = first_of[mask], second_of[mask]
            values[i, 2 * g] = w[4 * g + p0]
            values[i, 2 * g + 1] = w[4 * g + p1]
            meta[i, g // 2] |= np.uint8((p0 | (p1 << 2)) << (4 * (g % 2)))


@numba.njit(cache=True)
def _product(values, meta, X, Y):
    rows = values.shape[0]
    n = X.shape[1]
    for i in range(rows):
        y = Y[i]
        for g in range(values.shape[1] // 2):
            nib = (meta[i, g // 2] >> (4 * (g % 2))) & 15
            v0 = values[i, 2 * g]
            v1 = values[i, 2 * g + 1]
            x0 = X[4 * g + (nib & 3)]
            x1 = X[4 * g + (nib >> 2)]
            for t in range(n):  # contiguous: vectorised
                y[t] += v0 * x0[t] + v1 * x1[t]


def nm_sparsity(W: np.ndarray, X: np.ndarray) -> tuple:
    W, X = np.asarray(W), np.asarray(X)
    if W.ndim != 2 or W.shape[1] % 4:
        raise ValueError(f"W has shape {W.shape}: it must be 2-D with a multiple of 4 columns")
    if X.ndim != 2 or X.shape[0] != W.shape[1]:
        raise ValueError(f"X has shape {X.shape}; W is {W.shape[0]}x{W.shape[1]}, so X needs shape ({W.shape[1]}, n)")
    rows, cols = W.shape
    values = np.zeros((rows, cols // 2), dtype=np.float32)
    meta = np.zeros((rows, (cols + 7) // 8), dtype=np.uint8)
    Y = np.zeros((rows, X.shape[1]), dtype=np.float32)
    if rows and cols:
        _compress(np.ascontiguousarray(W, dtype=np.float32), values, meta, FIRST, SECOND)
        if X.shape[1]:
            _product(values, meta, np.ascontiguousarray(X, dtype=np.float32), Y)
    return Sparse24(values, meta, (rows, cols)), Y
