"""ep-dispatch, Numba reference (the speed yardstick): two passes over the tokens, then the
experts and the return trip, as an expert-parallel layer runs them.

1. Count: per token, mark the ranks (and nodes) its k experts live on, with a stamp per
   token so that a rank holding two of its experts is counted once: send_counts and the
   de-duplicated inter-node rows.
2. Place: prefix sums give every (source, destination) chunk its offset in the source's send
   buffer (destination-major) and in the destination's receive buffer (source-major); a
   second pass in token order writes each row to both, so tokens stay in order within a
   chunk. This is the all-to-all, simulated as copies.
3. Each receiving rank applies its local experts to its rows (expert e scales a row by w[e])
   and the partial outputs travel back: y[src, tok] += partial, the combine.
No (P, T, P) temporaries.
"""
from __future__ import annotations

from typing import NamedTuple

import numba
import numpy as np


class EPDispatch(NamedTuple):
    send_counts: np.ndarray  # (P, P) int: rows rank r sends to rank d (one per token per destination rank)
    send_token: list  # P int arrays: rank r's send buffer holds x[r][send_token[r]], split by send_counts[r]
    recv_x: list  # P float arrays (n_d, D): the rows rank d receives, sources in rank order
    recv_expert: list  # P int arrays (n_d, k): the row's expert ids that live on d, else -1
    recv_gate: list  # P float arrays (n_d, k): their gates, else 0
    y: np.ndarray  # (P, T, D): the combined outputs, back at the tokens' owners
    traffic: dict  # rank_bytes, node_bytes, node_bytes_dedup (dispatch direction, activations only)


@numba.njit(cache=True)
def _count(expert, L, rpn, send_counts):
    """send_counts[r, d] += 1 per token of r needing rank d; returns the inter-node (token, node) pairs."""
    P, T, k = expert.shape
    rank_stamp = np.full(P, -1, dtype=np.int64)
    node_stamp = np.full(P // rpn, -1, dtype=np.int64)
    dedup = 0
    for r in range(P):
        for t in range(T):
            stamp = r * T + t
            for j in range(k):
                d = expert[r, t, j] // L
                if rank_stamp[d] != stamp:
                    rank_stamp[d] = stamp
                    send_counts[r, d] += 1
                n = d // rpn
                if n != r // rpn and node_stamp[n] != stamp:
                    node_stamp[n] = stamp
                    dedup += 1
    return dedup


@numba.njit(cache=True)
def _place(x, expert, gate, L, send_counts, send_token, recv_x, recv_src, recv_tok, recv_expert, recv_gate):
    P, T, k = expert.shape
    D = x.shape[2]
    send_pos = np.zeros((P, P), dtype=np.int64)  # next free row of chunk (r -> d) in r's send buffer
    recv_pos = np.zeros((P, P), dtype=np.int64)  # ... and in d's receive buffer (flat over all d)
    base = 0
    for d in range(P):  # receive buffers laid end to end: d's rows start after d-1's
        for r in range(P):
            recv_pos[r, d] = base
            base += send_counts[r, d]
    for r in range(P):  # chunks inside each rank's own send buffer, destination-major
        off = 0
        for d in range(P):
            send_pos[r, d] = off
            off += send_counts[r, d]
    send_base = 0  # where rank r's send buffer starts in the flat array
    stamp = np.full(P, -1, dtype=np.int64)
    for r in range(P):
        for t in range(T):
            for j in range(k):
                d = expert[r, t, j] // L
                if stamp[d] == r * T + t:
                    continue  # this token already has a row for rank d
                stamp[d] = r * T + t
                send_token[send_base + send_pos[r, d]] = t
                send_pos[r, d] += 1
                i = recv_pos[r, d]
                recv_pos[r, d] += 1
                recv_src[i] = r
                recv_tok[i] = t
                for c in range(D):
                    recv_x[i, c] = x[r, t, c]
                for m in range(k):  # the slots of this token whose expert lives on d
                    e = expert[r, t, m]
                    if e // L == d:
                        recv_expert[i, m] = e
                        recv_gate[i, m] = gate[r, t, m]
                    else:
                        recv_expert[i, m] = -1
                        recv_gate[i, m] = 0.0
        send_base += send_pos[r, P - 1]  # = the length of rank r's send buffer


@numba.njit(cache=True)
def _experts_and_combine(recv_x, recv_src, recv_tok, recv_expert, recv_gate, w, y):
    """Every received row: partial = sum over its local slots of gate * w[e] * row, returned to its owner."""
    n, D = recv_x.shape
    k = recv_expert.shape[1]
    partial = np.empty(D, dtype=y.dtype)
    for i in range(n):
        partial[:] = 0.0
        for m in range(k):
            e = recv_expert[i, m]
            if e >= 0:
                g = recv_gate[i, m]
                for c in range(D):
                    partial[c] += g * w[e, c] * recv_x[i, c]
        r, t = recv_src[i], recv_tok[i]
        for c in range(D):
            y[r, t, c] += partial[c]


def ep_dispatch(x: np.ndarray, expert: np.ndarray, gate: np.ndarray, w: np.ndarray, ranks_per_node: int) -> EPDispatch:
    P, T, D = x.shape
    k = expert.shape[2]
    L = w.shape[0] // P
    e64 = np.ascontiguousarray(expert, dtype=np.int64)
    send_counts = np.zeros((P, P), dtype=np.int64)
    dedup = _count(e64, L, ranks_per_node, send_counts)
    rows = int(send_counts.sum())
    send_token = np.empty(rows, dtype=np.int64)
    recv_x = np.empty((rows, D), dtype=x.dtype)
    recv_src = np.empty(rows, dtype=np.int64)
    recv_tok = np.empty(rows, dtype=np.int64)
    recv_expert = np.empty((rows, k), dtype=np.int64)
    recv_gate = np.empty((rows, k), dtype=gate.dtype)
    _place(np.ascontiguousarray(x), e64, np.ascontiguousarray(gate), L, send_counts, send_token, recv_x, recv_src,
           recv_tok, recv_expert, recv_gate)
    y = np.zeros((P, T, D), dtype=x.dtype)
    _experts_and_combine(recv_x, recv_src, recv_tok, recv_expert, recv_gate, np.ascontiguousarray(w), y)
    split_send = np.cumsum(send_counts.sum(axis=1))[:-1]
    split_recv = np.cumsum(send_counts.sum(axis=0))[:-1]
    row_bytes = D * x.itemsize
    node = np.arange(P) // ranks_per_node
    traffic = {"rank_bytes": int(rows - np.trace(send_counts)) * row_bytes,
               "node_bytes": int(send_counts[node[:, None] != node[None, :]].sum()) * row_bytes,
               "node_bytes_dedup": int(dedup) * row_bytes}
    return EPDispatch(send_counts, np.split(send_token, split_send), np.split(recv_x, split_recv),
                      np.split(recv_expert, split_recv), np.split(recv_gate, split_recv), y, traffic)
