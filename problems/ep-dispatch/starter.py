"""ep-dispatch: expert parallelism's dispatch and combine, simulated with arrays.

Read the statement: `sparsebench show ep-dispatch`. Grade: `sparsebench grade ep-dispatch THIS_FILE`.
"""
from __future__ import annotations

from typing import NamedTuple

import numpy as np


class EPDispatch(NamedTuple):  # return this, or a plain tuple in the same order
    send_counts: np.ndarray  # (P, P) int: rows rank r sends to rank d
    send_token: list  # P int arrays: the tokens in rank r's send buffer, destination-major, token order within
    recv_x: list  # P arrays (n_d, D): rank d's receive buffer, source ranks in order
    recv_expert: list  # P int arrays (n_d, k): each received row's expert ids that live on d, else -1
    recv_gate: list  # P arrays (n_d, k): their gates, else 0
    y: np.ndarray  # (P, T, D): sum over the token's experts of gate * w[e] * x, back at its owner
    traffic: dict  # {"rank_bytes": int, "node_bytes": int, "node_bytes_dedup": int}


def ep_dispatch(x: np.ndarray, expert: np.ndarray, gate: np.ndarray, w: np.ndarray, ranks_per_node: int) -> EPDispatch:
    P, T, D = x.shape
    E = w.shape[0]
    # expert e lives on rank e // (E // P); rank r is on node r // ranks_per_node
    # 1. a token sends ONE row to every rank holding at least one of its experts (its own rank included)
    # 2. send_counts[r, d] = rows rank r sends to rank d; rank r's send buffer lists them destination by
    #    destination (d = 0, 1, ...), tokens ascending within a destination
    # 3. rank d receives the chunks for it from rank 0, 1, ... in that order: recv_x[d] = those rows of x,
    #    recv_expert[d] / recv_gate[d] = the row's k slots, kept where the expert lives on d, else -1 / 0
    # 4. each rank applies its experts (expert e: w[e] * row) and sends the gated sums back: y[r, t]
    # 5. traffic: bytes (D * x.itemsize per row) sent between different ranks, between different nodes,
    #    and the inter-node bytes if each token crossed to each other node it needs only once
    raise NotImplementedError("write ep_dispatch")
