"""nm-sparsity, vectorised NumPy reference (the oracle): prune W to 2:4 by magnitude, compress it
to values plus packed 2-bit positions, and multiply the pruned matrix by X.

A stable argsort of −|w| within each group of 4 lists the positions by decreasing magnitude with
equal magnitudes in increasing position, so its first two are the kept ones under the tie rule;
sorted again they give the storage order. The product is taken in float64 from the pruned dense
matrix and rounded once to float32 (an accurate oracle for a float32 contract).
"""
import numpy as np

from harness.types import Sparse24


def nm_sparsity(W: np.ndarray, X: np.ndarray) -> tuple:
    W, X = np.asarray(W), np.asarray(X)
    if W.ndim != 2 or W.shape[1] % 4:
        raise ValueError(f"W has shape {W.shape}: it must be 2-D with a multiple of 4 columns")
    if X.ndim != 2 or X.shape[0] != W.shape[1]:
        raise ValueError(f"X has shape {X.shape}; W is {W.shape[0]}x{W.shape[1]}, so X needs shape ({W.shape[1]}, n)")
    rows, cols = W.shape
    groups = cols // 4
    W = W.astype(np.float32, copy=False)
    Wg = W.reshape(rows, groups, 4)
    order = np.argsort(-np.abs(Wg), axis=-1, kind="stable")[..., :2]  # the two largest, ties -> lower position
    pos = np.sort(order, axis=-1)  # stored in increasing position
    values = np.take_along_axis(Wg, pos, axis=-1).reshape(rows, 2 * groups)
    nib = (pos[..., 0] | (pos[..., 1] << 2)).astype(np.uint8)  # bits 0-1: first position, 2-3: second
    meta = np.zeros((rows, (cols + 7) // 8), dtype=np.uint8)
    meta[:, : (groups + 1) // 2] = nib[:, 0::2]  # even groups: low nibble
    meta[:, : groups // 2] |= nib[:, 1::2] << 4  # odd groups: high nibble
    Wp = np.zeros((rows, groups, 4))
    np.put_along_axis(Wp, pos, np.take_along_axis(Wg, pos, axis=-1).astype(np.float64), axis=-1)
    with np.errstate(invalid="ignore", over="ignore"):  # a kept 0 times inf is NaN
        Y = (Wp.reshape(rows, cols) @ X.astype(np.float64)).astype(np.float32)
    return Sparse24(np.ascontiguousarray(values), meta, (rows, cols)), Y
