"""nm-sparsity without sparse hardware: prune and compress with NumPy, then multiply the *dense*
pruned matrix by X with float32 BLAS (half of its multiplications are by zero). This is what a
CPU does with a 2:4 model unless a kernel exploits the pattern; graded with --baseline it shows
the dense GEMM's time against the 2:4 reference on the same inputs. Never ranked."""
import numpy as np

from harness.types import Sparse24


def nm_sparsity(W: np.ndarray, X: np.ndarray) -> tuple:
    W, X = np.asarray(W), np.asarray(X)
    if W.ndim != 2 or W.shape[1] % 4:
        raise ValueError(f"W has shape {W.shape}: it must be 2-D with a multiple of 4 columns")
    if X.ndim != 2 or X.shape[0] != W.shape[1]:
        raise ValueError(f"X has shape {X.shape}; W is {W.shape}")
    rows, cols = W.shape
    Wg = W.astype(np.float32).reshape(rows, cols // 4, 4)
    pos = np.sort(np.argsort(-np.abs(Wg), axis=-1, kind="stable")[..., :2], axis=-1)
    kept = np.take_along_axis(Wg, pos, axis=-1)
    nib = (pos[..., 0] | (pos[..., 1] << 2)).astype(np.uint8)
    meta = np.zeros((rows, (cols + 7) // 8), dtype=np.uint8)
    meta[:, : (nib.shape[1] + 1) // 2] = nib[:, 0::2]
    meta[:, : nib.shape[1] // 2] |= nib[:, 1::2] << 4
    pruned = np.zeros_like(Wg)
    np.put_along_axis(pruned, pos, kept, axis=-1)
    with np.errstate(invalid="ignore", over="ignore"):
        Y = pruned.reshape(rows, cols) @ X.astype(np.float32)  # float32 BLAS GEMM, zeros included
    return Sparse24(np.ascontiguousarray(kept.reshape(rows, cols // 2)), meta, (rows, cols)), Y
