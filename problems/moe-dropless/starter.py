"""moe-dropless: a dropless MoE expert layer, y[t] = sum_j gate[t, j] * expert_{expert[t, j]}(x[t]).

Read the statement: `sparsebench show moe-dropless`. Grade: `sparsebench grade moe-dropless THIS_FILE`.
"""
from __future__ import annotations

import numpy as np


def moe_dropless(x: np.ndarray, expert: np.ndarray, gate: np.ndarray, w1: np.ndarray, w2: np.ndarray) -> np.ndarray:
    T, D = x.shape
    k = expert.shape[1]
    E, _, H = w1.shape
    # 1. dispatch: group the T*k assignments by expert (moe-dispatch), gather their token rows
    # 2. per expert e on its rows: relu(xs @ w1[e]) @ w2[e] (grouped-gemm, twice)
    # 3. combine: y[t] = sum_j float32(gate[t, j]) * output row of assignment (t, j)
    # y is (T, D) in x's dtype; T = 0 gives (0, D)
    raise NotImplementedError("write moe_dropless")
