"""ep-dispatch, vectorised NumPy reference (the oracle).

Expert e lives on rank e // (E/P). A boolean `need[r, t, d]` (token t of rank r has at least
one expert on rank d) is the whole plan: its sums over t are the send counts, its nonzeros in
(d, t) order are each rank's send buffer (destination-major, token order within a
destination: the layout all_to_all with split sizes needs), and reading the other ranks'
chunks for d in source order is the receive buffer. The combine's result is computed here
straight from its definition, y[r, t] = sum_j gate * w[expert] * x (the Numba reference
simulates the return trip instead).
"""
from __future__ import annotations

from typing import NamedTuple

import numpy as np


class EPDispatch(NamedTuple):
    send_counts: np.ndarray  # (P, P) int: rows rank r sends to rank d (one per token per destination rank)
    send_token: list  # P int arrays: rank r's send buffer holds x[r][send_token[r]], split by send_counts[r]
    recv_x: list  # P float arrays (n_d, D): the rows rank d receives, sources in rank order
    recv_expert: list  # P int arrays (n_d, k): the row's expert ids that live on d, else -1
    recv_gate: list  # P float arrays (n_d, k): their gates, else 0
    y: np.ndarray  # (P, T, D): the combined outputs, back at the tokens' owners
    traffic: dict  # rank_bytes, node_bytes, node_bytes_dedup (dispatch direction, activations only)


def ep_dispatch(x: np.ndarray, expert: np.ndarray, gate: np.ndarray, w: np.ndarray, ranks_per_node: int) -> EPDispatch:
    P, T, D = x.shape
    E = w.shape[0]
    L = E // P  # experts per rank
    owner = expert // L  # (P, T, k) rank of each chosen expert
    need = np.zeros((P, T, P), dtype=bool)
    r_idx, t_idx, _ = np.indices(owner.shape, sparse=True)
    need[r_idx, t_idx, owner] = True
    send_counts = need.sum(axis=1).astype(np.int64)
    send_token, chunks = [], []
    for r in range(P):
        d, t = np.nonzero(need[r].T)  # destination-major, token order within a destination
        send_token.append(t.astype(np.int64))
        chunks.append(np.split(t, np.cumsum(send_counts[r])[:-1]))  # chunks[r][d]: tokens r sends to d
    recv_x, recv_expert, recv_gate = [], [], []
    for d in range(P):
        src = np.concatenate([np.full(send_counts[r, d], r) for r in range(P)]).astype(np.int64)
        tok = np.concatenate([chunks[r][d] for r in range(P)]).astype(np.int64)
        here = owner[src, tok] == d
        recv_x.append(x[src, tok])
        recv_expert.append(np.where(here, expert[src, tok], -1).astype(np.int64))
        recv_gate.append(np.where(here, gate[src, tok], 0).astype(gate.dtype))
    y = (gate[..., None] * w[expert] * x[:, :, None, :]).sum(axis=2, dtype=x.dtype)
    row_bytes = D * x.itemsize
    node = np.arange(P) // ranks_per_node
    remote_rank = node[:, None] != node[None, :]
    n_nodes = P // ranks_per_node
    need_node = need.reshape(P, T, n_nodes, ranks_per_node).any(axis=3)  # token needs some rank of node n
    need_node[np.arange(P), :, node] = False  # its own node costs no inter-node traffic
    traffic = {"rank_bytes": int(send_counts[~np.eye(P, dtype=bool)].sum()) * row_bytes,
               "node_bytes": int(send_counts[remote_rank].sum()) * row_bytes,
               "node_bytes_dedup": int(need_node.sum()) * row_bytes}
    return EPDispatch(send_counts, send_token, recv_x, recv_expert, recv_gate, y, traffic)
