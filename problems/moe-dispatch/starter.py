"""moe-dispatch: group top-k assignments by expert (the permutation of a dropless MoE layer).

Read the statement: `sparsebench show moe-dispatch`. Grade: `sparsebench grade moe-dispatch THIS_FILE`.
"""
from __future__ import annotations

import numpy as np


def moe_dispatch(expert: np.ndarray, num_experts: int):
    T, k = expert.shape
    E = num_experts
    # assignment a = t*k + j is (token t, slot j); raise ValueError for an id outside [0, E)
    # 1. counts (E,): assignments per expert; offsets (E+1,): offsets[0] = 0, offsets[e+1] = offsets[e] + counts[e]
    # 2. order (T*k,): the assignment indices grouped by expert, ascending a within an expert (stable)
    # 3. inverse (T, k): the position of assignment (t, j) in order, so order[inverse[t, j]] == t*k + j
    # every output int32 or int64; return (order, counts, offsets, inverse)
    raise NotImplementedError("write moe_dispatch")
