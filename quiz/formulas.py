"""The arithmetic behind the quiz cards: every computed answer comes from here, never typed by hand.

A card names a formula (`formula = "csr_bytes"`) and its inputs (`params = {...}`); the quiz calls
FORMULAS[name](**params) and gets a `Worked(value, working)`: the answer and the arithmetic that
leads to it, shown after the card is answered. The stored `answer` in the card file is checked
against `value` when cards load, so a card can never teach a wrong number.

Conventions: sizes in bytes; a "parameter" is one weight; biases are ignored (as the papers do when
counting); FLOPs count a multiply and an add as two.
"""
from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import NamedTuple


class Worked(NamedTuple):
    value: int | float | str
    working: str


FORMULAS: dict[str, Callable[..., Worked]] = {}


def formula(fn: Callable[..., Worked]) -> Callable[..., Worked]:
    """Register `fn` under its own name, so a card can name it."""
    FORMULAS[fn.__name__] = fn
    return fn


def n(x: int | float) -> str:
    """A number the way the working shows it: 1,234,567 or 0.1667."""
    if isinstance(x, int) or float(x).is_integer() and abs(x) < 1e15:
        return f"{int(x):,}"
    return f"{x:,.0f}" if abs(x) >= 1e3 else f"{x:.4g}"


# -- storage formats --------------------------------------------------------------------
@formula
def dense_bytes(rows: int, cols: int, value_bytes: int) -> Worked:
    total = rows * cols * value_bytes
    return Worked(total, f"{rows}·{cols} entries × {value_bytes} B = {n(total)} B")


@formula
def coo_bytes(nnz: int, index_bytes: int, value_bytes: int) -> Worked:
    total = nnz * (2 * index_bytes + value_bytes)
    return Worked(total, f"row + col + value per entry: {nnz} × ({index_bytes} + {index_bytes} + {value_bytes}) B "
                         f"= {n(total)} B")


@formula
def csr_bytes(rows: int, nnz: int, index_bytes: int, value_bytes: int) -> Worked:
    indptr, entries = (rows + 1) * index_bytes, nnz * (index_bytes + value_bytes)
    total = indptr + entries
    return Worked(total, f"indptr ({rows}+1) × {index_bytes} B = {n(indptr)} B; indices + data "
                         f"{nnz} × ({index_bytes} + {value_bytes}) B = {n(entries)} B; total {n(total)} B")


@formula
def csc_bytes(cols: int, nnz: int, index_bytes: int, value_bytes: int) -> Worked:
    indptr, entries = (cols + 1) * index_bytes, nnz * (index_bytes + value_bytes)
    total = indptr + entries
    return Worked(total, f"indptr ({cols}+1) × {index_bytes} B = {n(indptr)} B; indices + data "
                         f"{nnz} × ({index_bytes} + {value_bytes}) B = {n(entries)} B; total {n(total)} B")


@formula
def ell_bytes(rows: int, width: int, index_bytes: int, value_bytes: int) -> Worked:
    slots = rows * width
    total = slots * (index_bytes + value_bytes)
    return Worked(total, f"{rows} rows × width {width} = {n(slots)} slots (padding included) × "
                         f"({index_bytes} + {value_bytes}) B = {n(total)} B")


@formula
def ell_padding_fraction(rows: int, typical: int, longest: int) -> Worked:
    """All rows hold `typical` entries except one with `longest`; ELL pads every row to `longest`."""
    nnz, slots = (rows - 1) * typical + longest, rows * longest
    frac = 1 - nnz / slots
    return Worked(frac, f"nnz = ({rows}−1)·{typical} + {longest} = {n(nnz)}; width {longest} → {n(slots)} slots; "
                        f"1 − {n(nnz)}/{n(slots)} = {frac:.4g} padding")


@formula
def bsr_bytes(rows: int, block_rows: int, block_cols: int, blocks: int, index_bytes: int,
              value_bytes: int) -> Worked:
    if rows % block_rows:
        raise ValueError(f"rows={rows} is not a multiple of block_rows={block_rows}")
    brows = rows // block_rows
    indptr, idx = (brows + 1) * index_bytes, blocks * index_bytes
    vals = blocks * block_rows * block_cols * value_bytes
    total = indptr + idx + vals
    return Worked(total, f"indptr ({brows}+1) × {index_bytes} B = {n(indptr)} B; one index per block "
                         f"{blocks} × {index_bytes} B = {n(idx)} B; values {blocks} × {block_rows}·{block_cols} × "
                         f"{value_bytes} B = {n(vals)} B; total {n(total)} B")


@formula
def csr_breakeven_density(rows: int, cols: int, index_bytes: int, value_bytes: int) -> Worked:
    nnz = (rows * cols * value_bytes - (rows + 1) * index_bytes) / (index_bytes + value_bytes)
    density = nnz / (rows * cols)
    return Worked(density, f"CSR < dense when (rows+1)·{index_bytes} + nnz·{index_bytes + value_bytes} < "
                           f"rows·cols·{value_bytes}: nnz < {n(nnz)}, density < {density:.4g} "
                           f"(≈ {value_bytes}/{index_bytes + value_bytes} for large matrices)")


@formula
def coo_triplets(dense: Sequence[Sequence[float]]) -> Worked:
    trip = [(i, j, v) for i, row in enumerate(dense) for j, v in enumerate(row) if v != 0]
    text = ", ".join(f"({i},{j},{n(v)})" for i, j, v in trip)
    return Worked(text, f"scan row by row, keep the non-zeros: {text}")


@formula
def csr_arrays(dense: Sequence[Sequence[float]]) -> Worked:
    indptr, indices, data = [0], [], []
    for row in dense:
        for j, v in enumerate(row):
            if v != 0:
                indices.append(j)
                data.append(v)
        indptr.append(len(indices))
    text = f"indptr={indptr}, indices={indices}, data={[n(v) for v in data]}".replace("'", "")
    return Worked(text, f"row i's entries are indices/data[indptr[i]:indptr[i+1]]: {text}")


# -- sparse products --------------------------------------------------------------------
def _spmv_traffic(rows: int, cols: int, nnz: int, index_bytes: int, value_bytes: int) -> tuple[int, str]:
    a = nnz * (index_bytes + value_bytes) + (rows + 1) * index_bytes
    xy = (rows + cols) * value_bytes
    return a + xy, (f"matrix {nnz}·({index_bytes}+{value_bytes}) + ({rows}+1)·{index_bytes} = {n(a)} B; "
                    f"x and y ({cols} + {rows})·{value_bytes} = {n(xy)} B")


@formula
def spmv_bytes(rows: int, cols: int, nnz: int, index_bytes: int, value_bytes: int) -> Worked:
    total, why = _spmv_traffic(rows, cols, nnz, index_bytes, value_bytes)
    return Worked(total, f"{why}; total {n(total)} B (each array read or written once)")


@formula
def spmv_intensity(rows: int, cols: int, nnz: int, index_bytes: int, value_bytes: int) -> Worked:
    total, why = _spmv_traffic(rows, cols, nnz, index_bytes, value_bytes)
    ai = 2 * nnz / total
    return Worked(ai, f"2·{n(nnz)} FLOPs / {n(total)} B ({why}) = {ai:.4g} FLOP/B")


@formula
def spmv_time_us(rows: int, cols: int, nnz: int, index_bytes: int, value_bytes: int, gbytes_per_s: float) -> Worked:
    total, why = _spmv_traffic(rows, cols, nnz, index_bytes, value_bytes)
    us = total / (gbytes_per_s * 1e9) * 1e6
    return Worked(us, f"{n(total)} B ({why}) / {n(gbytes_per_s)} GB/s = {n(us)} µs")


@formula
def spmm_intensity(rows: int, cols: int, nnz: int, k: int, index_bytes: int, value_bytes: int) -> Worked:
    a = nnz * (index_bytes + value_bytes) + (rows + 1) * index_bytes
    xy = (rows + cols) * k * value_bytes
    flops = 2 * nnz * k
    ai = flops / (a + xy)
    return Worked(ai, f"2·{n(nnz)}·{k} = {n(flops)} FLOPs / (matrix {n(a)} B + X and Y ({rows}+{cols})·{k}·"
                      f"{value_bytes} = {n(xy)} B) = {ai:.4g} FLOP/B")


@formula
def gustavson_products(a_col_counts: Sequence[int], b_row_counts: Sequence[int]) -> Worked:
    if len(a_col_counts) != len(b_row_counts):
        raise ValueError("A's column counts and B's row counts must have the same length (the inner dimension)")
    terms = [a * b for a, b in zip(a_col_counts, b_row_counts)]
    total = sum(terms)
    return Worked(total, "Σ_k nnz(A col k)·nnz(B row k) = " + " + ".join(
        f"{a}·{b}" for a, b in zip(a_col_counts, b_row_counts)) + f" = {total}")


@formula
def spgemm_products_uniform(rows: int, a_per_row: int, b_per_row: int) -> Worked:
    total = rows * a_per_row * b_per_row
    return Worked(total, f"nnz(A) = {rows}·{a_per_row}; each entry (i,k) meets the {b_per_row} entries of B's "
                         f"row k: {n(rows * a_per_row)} × {b_per_row} = {n(total)} products")


@formula
def compression_ratio(products: int, nnz_c: int) -> Worked:
    r = products / nnz_c
    return Worked(r, f"{n(products)} products / {n(nnz_c)} output entries = {r:.4g}")


@formula
def seed_loop_vs_gustavson(rows: int, a_per_row: int, b_per_row: int, j_steps: int) -> Worked:
    """The seed note's triple loop as written (nnz(A)·len(B[0])·nnz(B) pair tests, len(B[0]) = 3,
    the length of a triplet) over Gustavson's products, for n×n matrices."""
    nnz_a, nnz_b = rows * a_per_row, rows * b_per_row
    seed = nnz_a * j_steps * nnz_b
    gus = nnz_a * b_per_row
    return Worked(seed // gus, f"note: nnz(A)·{j_steps}·nnz(B) = {n(nnz_a)}·{j_steps}·{n(nnz_b)} = {n(seed)} pair "
                               f"tests; Gustavson: {n(nnz_a)}·{b_per_row} = {n(gus)} products; ratio "
                               f"{n(seed // gus)} (= {j_steps}·n)")


def _seed_note_product(a: Sequence[Sequence[float]], b: Sequence[Sequence[float]], shape: Sequence[int]):
    """The seed note's Q3, transcribed (as problems/spgemm/examples/seed_note.py): match A's
    column with B's *column*, add into every j below len(B[0]), the length of a triplet (3)."""
    out = [[0.0] * shape[1] for _ in range(shape[0])]
    for i, k, v in a:
        for j in range(len(b[0])):
            for m, col, w in b:  # noqa: B007 - the note never uses B's row m: that is its bug
                if k == col:
                    out[int(i)][j] += v * w
    return out


def _true_product(a, b, shape):
    out = [[0.0] * shape[1] for _ in range(shape[0])]
    for i, k, v in a:
        for m, j, w in b:
            if k == m:
                out[int(i)][int(j)] += v * w
    return out


@formula
def seed_q3_wrong_entries(a: Sequence[Sequence[float]], b: Sequence[Sequence[float]], shape: Sequence[int]) -> Worked:
    got, want = _seed_note_product(a, b, shape), _true_product(a, b, shape)
    wrong = [(i, j) for i in range(shape[0]) for j in range(shape[1]) if got[i][j] != want[i][j]]
    nz = ", ".join(f"({i},{j})={n(want[i][j])}" for i in range(shape[0]) for j in range(shape[1]) if want[i][j])
    return Worked(len(wrong), f"true product non-zeros: {nz or 'none'}; the note's rows: "
                              + "; ".join(f"row {i} = {[n(x) for x in got[i]]}" for i in range(shape[0]) if any(got[i]))
                              .replace("'", "") + f"; {len(wrong)} of {shape[0] * shape[1]} entries differ")


# -- MoE layers -------------------------------------------------------------------------
def _ffn_matrices(matrices: int) -> int:
    if matrices not in (2, 3):
        raise ValueError("an FFN expert has 2 matrices (up, down) or 3 (SwiGLU: gate, up, down)")
    return matrices


@formula
def moe_ffn_total_params(d_model: int, d_ff: int, experts: int, matrices: int) -> Worked:
    m = _ffn_matrices(matrices)
    per = m * d_model * d_ff
    router = d_model * experts
    total = experts * per + router
    return Worked(total, f"per expert {m}·{d_model}·{d_ff} = {n(per)}; × {experts} experts = {n(experts * per)}; "
                         f"+ router {d_model}·{experts} = {n(router)}; total {n(total)}")


@formula
def moe_ffn_active_params(d_model: int, d_ff: int, experts: int, top_k: int, matrices: int) -> Worked:
    m = _ffn_matrices(matrices)
    per = m * d_model * d_ff
    router = d_model * experts
    total = top_k * per + router
    return Worked(total, f"{top_k} experts × {m}·{d_model}·{d_ff} = {n(top_k * per)}; + router "
                         f"{d_model}·{experts} = {n(router)} (every token runs it); active {n(total)}")


@formula
def moe_ffn_flops_per_token(d_model: int, d_ff: int, experts: int, top_k: int, matrices: int) -> Worked:
    m = _ffn_matrices(matrices)
    active = top_k * m * d_model * d_ff + d_model * experts
    return Worked(2 * active, f"2 FLOPs per active weight: 2 × ({top_k}·{m}·{d_model}·{d_ff} + "
                              f"{d_model}·{experts}) = {n(2 * active)}")


def _decoder(layers, d_model, d_ff, experts, top_k, heads, kv_heads, vocab):
    head_dim = d_model // heads
    attn = 2 * d_model * d_model + 2 * d_model * kv_heads * head_dim  # Wq, Wo; Wk, Wv (grouped-query)
    expert = 3 * d_model * d_ff  # SwiGLU
    router = d_model * experts if experts > 1 else 0
    norms = 2 * d_model
    embed = 2 * vocab * d_model + d_model  # untied input/output embeddings, final norm
    total = layers * (attn + experts * expert + router + norms) + embed
    active = layers * (attn + top_k * expert + router + norms) + embed
    why = (f"per layer: attention {n(attn)}, {experts} SwiGLU experts × {n(expert)}, router {n(router)}, norms "
           f"{n(norms)}; embeddings + head {n(embed)}")
    return total, active, why


@formula
def decoder_moe_total_params(layers: int, d_model: int, d_ff: int, experts: int, top_k: int, heads: int,
                             kv_heads: int, vocab: int) -> Worked:
    total, _, why = _decoder(layers, d_model, d_ff, experts, top_k, heads, kv_heads, vocab)
    return Worked(total, f"{why}; total {layers} layers → {n(total)} ({total / 1e9:.1f} B)")


@formula
def decoder_moe_active_params(layers: int, d_model: int, d_ff: int, experts: int, top_k: int, heads: int,
                              kv_heads: int, vocab: int) -> Worked:
    _, active, why = _decoder(layers, d_model, d_ff, experts, top_k, heads, kv_heads, vocab)
    return Worked(active, f"{why}; only {top_k} experts per token count: {n(active)} ({active / 1e9:.1f} B)")


@formula
def decoder_moe_weight_gb(layers: int, d_model: int, d_ff: int, experts: int, top_k: int, heads: int,
                          kv_heads: int, vocab: int, bytes_per_param: int) -> Worked:
    total, _, _ = _decoder(layers, d_model, d_ff, experts, top_k, heads, kv_heads, vocab)
    gb = total * bytes_per_param / 1e9
    return Worked(gb, f"{n(total)} parameters × {bytes_per_param} B = {gb:.4g} GB, all resident although each "
                      f"token uses {top_k} of {experts} experts")


@formula
def naive_nx_params(copies: int, layers: int, d_model: int, d_ff: int, heads: int, kv_heads: int,
                    vocab: int) -> Worked:
    dense, _, _ = _decoder(layers, d_model, d_ff, 1, 1, heads, kv_heads, vocab)
    return Worked(copies * dense, f"one dense model {n(dense)}; {copies} whole copies {n(copies * dense)} "
                                  f"({copies * dense / 1e9:.1f} B)")


# -- routing ----------------------------------------------------------------------------
@formula
def expert_capacity(tokens: int, experts: int, top_k: int, capacity_factor: float) -> Worked:
    c = math.ceil(capacity_factor * tokens * top_k / experts)
    return Worked(c, f"ceil({capacity_factor} · {tokens} · {top_k} / {experts}) = ceil("
                     f"{capacity_factor * tokens * top_k / experts:g}) = {c}")


@formula
def dropped_assignments(loads: Sequence[int], capacity_factor: float) -> Worked:
    experts, assignments = len(loads), sum(loads)
    c = math.ceil(capacity_factor * assignments / experts)
    dropped = sum(max(0, x - c) for x in loads)
    return Worked(dropped, f"{assignments} assignments over {experts} experts: capacity ceil({capacity_factor}·"
                           f"{assignments}/{experts}) = {c}; dropped " + " + ".join(
                               str(max(0, x - c)) for x in loads) + f" = {dropped}")


@formula
def switch_aux_loss(fractions: Sequence[float], mean_probs: Sequence[float]) -> Worked:
    e = len(fractions)
    dot = sum(f * p for f, p in zip(fractions, mean_probs))
    return Worked(e * dot, f"E · Σ fᵢ·Pᵢ = {e} × ({' + '.join(f'{f:g}·{p:g}' for f, p in zip(fractions, mean_probs))})"
                           f" = {e * dot:.4g}")


def _logsumexp(row: Sequence[float]) -> float:
    m = max(row)
    return m + math.log(sum(math.exp(x - m) for x in row))


def _softmax(row: Sequence[float]) -> list[float]:
    m = max(row)
    ex = [math.exp(x - m) for x in row]
    s = sum(ex)
    return [x / s for x in ex]


@formula
def router_z_loss(logits: Sequence[Sequence[float]]) -> Worked:
    lse = [_logsumexp(r) for r in logits]
    z = sum(x * x for x in lse) / len(lse)
    return Worked(z, "logsumexp per token " + ", ".join(f"{x:.4g}" for x in lse)
                  + f"; mean of squares = {z:.4g}")


@formula
def top1_gate(logits: Sequence[float]) -> Worked:
    p = _softmax(logits)
    top = max(range(len(p)), key=lambda i: (p[i], -i))
    return Worked(p[top], f"softmax = [{', '.join(f'{x:.4g}' for x in p)}]; expert {top} wins with gate {p[top]:.4g}")


@formula
def topk_renormalised_gate(logits: Sequence[float], top_k: int) -> Worked:
    p = _softmax(logits)
    order = sorted(range(len(p)), key=lambda i: (-p[i], i))[:top_k]
    s = sum(p[i] for i in order)
    g = p[order[0]] / s
    return Worked(g, f"softmax = [{', '.join(f'{x:.4g}' for x in p)}]; top-{top_k} experts {order} hold {s:.4g}; "
                     f"first gate {p[order[0]]:.4g}/{s:.4g} = {g:.4g}")


@formula
def experts_touched(experts: int, top_k: int, batch: int) -> Worked:
    """Expected distinct experts one MoE layer reads in a decode step of `batch` tokens, each
    choosing top_k of the experts uniformly and independently: E·(1 − (1 − k/E)^B)."""
    miss = (1 - top_k / experts) ** batch
    touched = experts * (1 - miss)
    return Worked(touched, f"an expert is missed by one token with probability 1 − {top_k}/{experts}, by all "
                           f"{batch} with (1 − {top_k}/{experts})^{batch} = {miss:.4g}; {experts}·(1 − {miss:.4g}) "
                           f"= {touched:.4g} of {experts} experts")


@formula
def routing_combinations(experts: int, top_k: int) -> Worked:
    c = math.comb(experts, top_k)
    return Worked(c, f"C({experts}, {top_k}) = {n(c)}")


# -- expert parallelism -----------------------------------------------------------------
@formula
def all_to_all_bytes(tokens_per_device: int, top_k: int, d_model: int, bytes_per_value: int, devices: int) -> Worked:
    one_way = tokens_per_device * top_k * d_model * bytes_per_value * (devices - 1) / devices
    total = 2 * one_way
    return Worked(total, f"dispatch: {tokens_per_device}·{top_k} copies × {d_model}·{bytes_per_value} B, "
                         f"({devices}−1)/{devices} of them leave the device = {n(one_way)} B; combine returns as "
                         f"much: {n(total)} B per MoE layer, forward pass")


@formula
def expert_bytes_per_device(experts: int, devices: int, d_model: int, d_ff: int, matrices: int,
                            bytes_per_param: int) -> Worked:
    if experts % devices:
        raise ValueError("experts must divide evenly over devices")
    local = experts // devices
    per = _ffn_matrices(matrices) * d_model * d_ff
    total = local * per * bytes_per_param
    return Worked(total, f"{experts}/{devices} = {local} experts per device × {n(per)} weights × "
                         f"{bytes_per_param} B = {n(total)} B")


@formula
def tokens_per_expert(tokens: int, top_k: int, experts: int) -> Worked:
    t = tokens * top_k / experts
    return Worked(t, f"{n(tokens)} tokens × {top_k} / {experts} experts = {n(t)} per expert (balanced)")


# -- weight sparsity --------------------------------------------------------------------
@formula
def nm_sparse_bytes(rows: int, cols: int, n_keep: int, m_group: int, value_bytes: int) -> Worked:
    kept = rows * cols * n_keep // m_group
    bits = math.ceil(math.log2(m_group))
    meta = kept * bits // 8
    total = kept * value_bytes + meta
    return Worked(total, f"{n_keep}:{m_group} keeps {n(kept)} values × {value_bytes} B = {n(kept * value_bytes)} B; "
                         f"a {bits}-bit position per kept value = {n(meta)} B; total {n(total)} B "
                         f"(dense {n(rows * cols * value_bytes)} B)")


@formula
def pruned_csr_fraction(rows: int, cols: int, sparsity: float, index_bytes: int, value_bytes: int) -> Worked:
    nnz = round((1 - sparsity) * rows * cols)
    csr = (rows + 1) * index_bytes + nnz * (index_bytes + value_bytes)
    dense = rows * cols * value_bytes
    return Worked(csr / dense, f"nnz = {n(nnz)}; CSR {n(csr)} B / dense {n(dense)} B = {csr / dense:.4g}")


@formula
def l1_prox_zeros(weights: Sequence[float], threshold: float) -> Worked:
    after = [math.copysign(max(abs(w) - threshold, 0.0), w) + 0.0 for w in weights]  # + 0.0: no -0
    zeros = sum(1 for w in after if w == 0)
    return Worked(zeros, f"soft-threshold sign(w)·max(|w| − {threshold:g}, 0): "
                         f"[{', '.join(f'{w:g}' for w in after)}] → {zeros} exact zeros")



# -- MoE systems: dropless dispatch, grouped GEMM, padding, load (moe-systems cards) ------
@formula
def block_padding_fraction(counts: Sequence[int], block: int) -> Worked:
    """Each expert's rows rounded up to a multiple of `block` (MegaBlocks); the padded share."""
    padded = [math.ceil(c / block) * block for c in counts]
    real, total = sum(counts), sum(padded)
    frac = (total - real) / total
    return Worked(frac, f"rows rounded up to multiples of {block}: {', '.join(n(p) for p in padded)} = {n(total)} "
                        f"for {n(real)} real rows; padding {n(total - real)} / {n(total)} = {frac:.4g}")


@formula
def expected_block_padding_rows(experts: int, block: int) -> Worked:
    """Padding (-count) mod block is uniform on 0..block-1 when counts are spread: mean (block-1)/2 per expert."""
    rows = experts * (block - 1) / 2
    return Worked(rows, f"{experts} experts × ({block} − 1)/2 rows each = {n(rows)} padding rows on average")


@formula
def worst_case_padded_rows(tokens: int, top_k: int, experts: int, block: int) -> Worked:
    """The buffer a kernel must allocate before it knows the counts (vLLM's moe_align_block_size)."""
    rows = tokens * top_k + experts * (block - 1)
    return Worked(rows, f"{n(tokens)}·{top_k} = {n(tokens * top_k)} assignments + {experts}·({block} − 1) = "
                        f"{n(experts * (block - 1))} worst-case padding = {n(rows)} rows")


@formula
def max_over_mean_load(counts: Sequence[int]) -> Worked:
    """max load / mean load: padded-batched FLOPs over grouped FLOPs, or an EP step's slowdown."""
    mean = sum(counts) / len(counts)
    ratio = max(counts) / mean
    return Worked(ratio, f"max {n(max(counts))} / mean {n(sum(counts))}/{len(counts)} = {n(mean)} → {ratio:.4g}×")


@formula
def permute_traffic_bytes(tokens: int, top_k: int, d_model: int, bytes_per_value: int) -> Worked:
    """Gather (read and write T·k rows) + combine (read T·k rows, write T rows)."""
    rows = (3 * top_k + 1) * tokens
    total = rows * d_model * bytes_per_value
    return Worked(total, f"gather {n(tokens)}·{top_k} rows read + written, combine {n(tokens)}·{top_k} read + "
                         f"{n(tokens)} written = (3·{top_k} + 1)·{n(tokens)} = {n(rows)} rows × {d_model}·"
                         f"{bytes_per_value} B = {n(total)} B")


@formula
def uniform_load_std(tokens: int, top_k: int, experts: int) -> Worked:
    """One expert's load under uniform top-k routing: Binomial(T, k/E)."""
    p = top_k / experts
    mean, var = tokens * p, tokens * p * (1 - p)
    std = math.sqrt(var)
    return Worked(std, f"each token picks a given expert with p = {top_k}/{experts} = {p:.4g}: load ~ Binomial("
                       f"{n(tokens)}, {p:.4g}), mean {n(mean)}, variance {n(tokens)}·{p:.4g}·{1 - p:.4g} = {var:.4g}, "
                       f"std {std:.4g}")


def _binomial_pmf(trials: int, p: float, i: int) -> float:
    log = (math.lgamma(trials + 1) - math.lgamma(i + 1) - math.lgamma(trials - i + 1)
           + i * math.log(p) + (trials - i) * math.log1p(-p))
    return math.exp(log)


@formula
def uniform_drop_fraction(tokens: int, top_k: int, experts: int, capacity_factor: float) -> Worked:
    """Expected share of assignments dropped by capacity C = ceil(cf·T·k/E) when each expert's load is
    Binomial(T, k/E) (uniform routing); a dropless layer drops none."""
    p = top_k / experts
    C = math.ceil(capacity_factor * tokens * top_k / experts)
    over = sum((i - C) * _binomial_pmf(tokens, p, i) for i in range(C + 1, tokens + 1))
    frac = experts * over / (tokens * top_k)
    return Worked(frac, f"C = ceil({capacity_factor}·{n(tokens)}·{top_k}/{experts}) = {C}; per expert "
                        f"E[max(L − C, 0)] = {over:.4g} with L ~ Binomial({n(tokens)}, {p:.4g}); "
                        f"{experts}·{over:.4g}/({n(tokens)}·{top_k}) = {frac:.4g} of the assignments dropped")


@formula
def grouped_gemm_intensity(rows: int, d_model: int, d_ff: int, bytes_per_value: int) -> Worked:
    """FLOPs per byte of one expert GEMM (rows × d_model) @ (d_model × d_ff): inputs, weights, outputs once."""
    flops = 2 * rows * d_model * d_ff
    moved = bytes_per_value * (rows * d_model + d_model * d_ff + rows * d_ff)
    return Worked(flops / moved, f"2·{rows}·{d_model}·{d_ff} = {n(flops)} FLOPs / {bytes_per_value}·({rows}·{d_model}"
                                 f" + {d_model}·{d_ff} + {rows}·{d_ff}) = {n(moved)} B = {flops / moved:.4g} FLOP/B")


@formula
def rows_for_compute_bound(d_model: int, d_ff: int, bytes_per_value: int, flops_per_byte: float) -> Worked:
    """Rows n at which grouped_gemm_intensity reaches the machine balance B: n = B·s·D·H / (2·D·H − B·s·(D + H))."""
    B, s = flops_per_byte, bytes_per_value
    denom = 2 * d_model * d_ff - B * s * (d_model + d_ff)
    if denom <= 0:
        raise ValueError("the weights alone are below the balance: no row count is enough")
    rows = B * s * d_model * d_ff / denom
    return Worked(rows, f"2·n·{d_model}·{d_ff} = {B:g}·{s}·(n·{d_model} + {d_model}·{d_ff} + n·{d_ff}) → n = "
                        f"{B:g}·{s}·{d_model}·{d_ff} / (2·{d_model}·{d_ff} − {B:g}·{s}·{d_model + d_ff}) = "
                        f"{rows:.4g} rows")

# -- DeepSeek-style MoE, expert choice and expert-parallel serving (issue 15; cards/deepseek-ep.toml) --
@formula
def ep_step_all_to_all_bytes(tokens_per_device: int, top_k: int, d_model: int, bytes_per_value: int, devices: int,
                             moe_layers: int) -> Worked:
    one = tokens_per_device * top_k * d_model * bytes_per_value * (devices - 1) / devices
    total = 4 * one * moe_layers
    return Worked(total, f"one exchange: {n(tokens_per_device)}·{top_k} rows × {d_model}·{bytes_per_value} B × "
                         f"({devices}−1)/{devices} leave the device = {n(one)} B; 4 exchanges per MoE layer per step "
                         f"(dispatch and combine, forward and backward) × {moe_layers} layers = {n(total)} B")


@formula
def all_to_all_time_us(bytes_per_device: float, devices: int, latency_us: float, gbytes_per_s: float) -> Worked:
    latency = (devices - 1) * latency_us
    transfer = bytes_per_device / (gbytes_per_s * 1e3)  # GB/s = 1e3 bytes per microsecond
    total = latency + transfer
    return Worked(total, f"α–β model: ({devices}−1) messages × {latency_us:g} µs = {latency:.4g} µs, plus "
                         f"{n(bytes_per_device)} B ÷ {gbytes_per_s:g} GB/s = {n(transfer)} µs; total {n(total)} µs")


@formula
def ep_tp_dp_bytes_per_device(expert_params: int, dense_params: int, ep: int, tp: int, dp: int,
                              bytes_weights_grads: int, bytes_optimizer: int) -> Worked:
    share = expert_params / ep + dense_params / tp
    states = share * bytes_weights_grads
    optim = share * bytes_optimizer / dp
    total = states + optim
    return Worked(total, f"parameters on a device: {n(expert_params)}/{ep} (experts, EP) + {n(dense_params)}/{tp} "
                         f"(the rest, TP) = {n(share)}; weights + gradients {bytes_weights_grads} B each = "
                         f"{n(states)} B; optimizer state {bytes_optimizer} B each, sharded {dp} ways (ZeRO-1) = "
                         f"{n(optim)} B; total {n(total)} B")


@formula
def expected_distinct_experts(experts: int, top_k: int, batch: int) -> Worked:
    value = experts * (1 - (1 - top_k / experts) ** batch)
    return Worked(value, f"each expert is missed by one token with probability 1 − {top_k}/{experts}, by all {batch}: "
                         f"(1 − {top_k}/{experts})^{batch}; expected experts touched {experts}·(1 − "
                         f"{(1 - top_k / experts) ** batch:.4g}) = {value:.4g}")


@formula
def decode_step_expert_bytes(experts: int, top_k: int, batch: int, d_model: int, d_ff: int, matrices: int,
                             bytes_per_param: int, moe_layers: int) -> Worked:
    touched = experts * (1 - (1 - top_k / experts) ** batch)
    per = _ffn_matrices(matrices) * d_model * d_ff * bytes_per_param
    total = touched * per * moe_layers
    return Worked(total, f"{touched:.4g} distinct experts per layer (of {experts}) × {matrices}·{d_model}·{d_ff}·"
                         f"{bytes_per_param} B = {n(per)} B each × {moe_layers} layers = {n(total)} B per decode step")


@formula
def moe_decode_compute_bound_batch(experts: int, top_k: int, peak_tflops: float, bandwidth_tbps: float,
                                   bytes_per_param: int) -> Worked:
    ridge = peak_tflops / bandwidth_tbps  # FLOPs per byte at which compute and memory take equal time
    tokens = ridge * bytes_per_param / 2  # an expert's GEMM does 2 FLOPs per weight per token
    batch = tokens * experts / top_k
    return Worked(batch, f"ridge point {peak_tflops:g} TFLOP/s ÷ {bandwidth_tbps:g} TB/s = {ridge:.4g} FLOP/B; an "
                         f"expert reading {bytes_per_param} B per weight and doing 2 FLOPs per weight per token needs "
                         f"{tokens:.4g} tokens; each token brings {top_k}/{experts} of an expert's load: batch "
                         f"{tokens:.4g}·{experts}/{top_k} = {n(batch)}")


@formula
def expert_choice_capacity(tokens: int, experts: int, capacity_factor: float) -> Worked:
    raw = tokens * capacity_factor / experts
    c = min(tokens, math.ceil(raw))
    return Worked(c, f"ceil({tokens} · {capacity_factor:g} / {experts}) = ceil({raw:.6g}) = {math.ceil(raw)}"
                     + (f", capped at T = {tokens}" if c < math.ceil(raw) else "") + f": {c} tokens per expert")


@formula
def expert_choice_decode_experts(experts: int, capacity_factor: float, top_k: int) -> Worked:
    c = min(1, math.ceil(1 * capacity_factor / experts))
    ran = experts * c
    return Worked(ran, f"one token: C = min(1, ceil(1 · {capacity_factor:g} / {experts})) = {c}, so every one of "
                       f"the {experts} experts takes it: {ran} expert FFNs for one token, {ran / top_k:.4g}× the "
                       f"{top_k} of top-{top_k} token choice")


def _deepseek(layers, dense_layers, d_model, d_ff, moe_d_ff, experts, shared, top_k, heads, q_lora, kv_lora,
              nope, rope, v_dim, vocab):
    q = d_model * q_lora + q_lora + q_lora * heads * (nope + rope)  # MLA: low-rank queries, their norm
    kv = d_model * (kv_lora + rope) + kv_lora + kv_lora * heads * (nope + v_dim)  # compressed keys/values, norm
    attn = q + kv + heads * v_dim * d_model
    expert = 3 * d_model * moe_d_ff
    rest = layers * (attn + 2 * d_model) + dense_layers * 3 * d_model * d_ff + 2 * vocab * d_model + d_model
    moe = layers - dense_layers
    total = rest + moe * ((experts + shared) * expert + experts * d_model)
    active = rest + moe * ((top_k + shared) * expert + experts * d_model)
    why = (f"MLA attention {n(attn)} and norms {n(2 * d_model)} per layer × {layers}; {dense_layers} dense FFNs of "
           f"{n(3 * d_model * d_ff)}; {moe} MoE layers of {experts} routed + {shared} shared experts × {n(expert)} "
           f"and a {n(experts * d_model)} router; embeddings + head {n(2 * vocab * d_model)}")
    return total, active, why


@formula
def deepseek_total_params(layers: int, dense_layers: int, d_model: int, d_ff: int, moe_d_ff: int, experts: int,
                          shared: int, top_k: int, heads: int, q_lora: int, kv_lora: int, nope: int, rope: int,
                          v_dim: int, vocab: int) -> Worked:
    total, _, why = _deepseek(layers, dense_layers, d_model, d_ff, moe_d_ff, experts, shared, top_k, heads, q_lora,
                              kv_lora, nope, rope, v_dim, vocab)
    return Worked(total, f"{why}: total {n(total)} ({total / 1e9:.1f} B)")


@formula
def deepseek_active_params(layers: int, dense_layers: int, d_model: int, d_ff: int, moe_d_ff: int, experts: int,
                           shared: int, top_k: int, heads: int, q_lora: int, kv_lora: int, nope: int, rope: int,
                           v_dim: int, vocab: int) -> Worked:
    total, active, why = _deepseek(layers, dense_layers, d_model, d_ff, moe_d_ff, experts, shared, top_k, heads,
                                   q_lora, kv_lora, nope, rope, v_dim, vocab)
    return Worked(active, f"{why}; a token runs {shared} shared + {top_k} routed experts per MoE layer: active "
                          f"{n(active)} ({active / 1e9:.1f} B, {100 * active / total:.1f}% of the total)")


@formula
def cross_node_copies(nodes: int, experts: int, top_k: int) -> Worked:
    per_node = experts // nodes
    miss = math.comb(experts - per_node, top_k) / math.comb(experts, top_k)
    value = (nodes - 1) * (1 - miss)
    return Worked(value, f"another node holds none of the token's {top_k} experts with probability "
                         f"C({experts - per_node}, {top_k}) / C({experts}, {top_k}) = {miss:.4g}; expected other nodes "
                         f"reached ({nodes}−1)·(1 − {miss:.4g}) = {value:.4g}")

# -- SDDMM and sparse attention ------------------------------------------------------------
def _window_nnz(seq_len: int, window: int) -> int:
    """Allowed pairs of a non-causal sliding window |i - j| <= window // 2 over seq_len tokens
    (border rows are shorter): seq_len·(2h + 1) - h·(h + 1) when seq_len > 2h."""
    h = window // 2
    return sum(min(i + h, seq_len - 1) - max(i - h, 0) + 1 for i in range(seq_len))


@formula
def sddmm_flops(nnz: int, d: int) -> Worked:
    total = 2 * nnz * d
    return Worked(total, f"one d-long dot product per stored entry: 2·{n(nnz)}·{d} = {n(total)} FLOPs")


@formula
def sddmm_vs_dense_flops(rows: int, cols: int, nnz: int) -> Worked:
    ratio = rows * cols / nnz
    return Worked(ratio, f"dense-then-sample does 2·{n(rows)}·{n(cols)}·d, SDDMM 2·{n(nnz)}·d: "
                         f"{n(rows * cols)}/{n(nnz)} = {n(ratio)}× the arithmetic")


@formula
def sddmm_bytes(rows: int, cols: int, nnz: int, d: int, index_bytes: int, value_bytes: int) -> Worked:
    pattern = index_bytes * (nnz + rows + 1)
    dense_in = value_bytes * d * (rows + cols)
    out = value_bytes * nnz
    total = pattern + dense_in + out
    return Worked(total, f"pattern {index_bytes}·({n(nnz)} + {n(rows)} + 1) = {n(pattern)} B; A and B once "
                         f"{value_bytes}·{d}·({n(rows)} + {n(cols)}) = {n(dense_in)} B; out {value_bytes}·{n(nnz)} = "
                         f"{n(out)} B; total {n(total)} B")


@formula
def window_attention_flops(seq_len: int, window: int, d: int, dv: int) -> Worked:
    nnz = _window_nnz(seq_len, window)
    total = 2 * nnz * (d + dv)
    return Worked(total, f"{n(nnz)} allowed pairs (|i − j| ≤ {window // 2}, border rows shorter) × "
                         f"2·({d} + {dv}) = {n(total)} FLOPs")


@formula
def dense_scores_bytes(seq_len: int, heads: int, value_bytes: int) -> Worked:
    total = seq_len * seq_len * heads * value_bytes
    return Worked(total, f"{n(seq_len)}² scores × {heads} heads × {value_bytes} B = {n(total)} B "
                         f"({total / 2**30:.4g} GiB)")


@formula
def window_scores_bytes(seq_len: int, window: int, heads: int, value_bytes: int) -> Worked:
    nnz = _window_nnz(seq_len, window)
    total = nnz * heads * value_bytes
    return Worked(total, f"{n(nnz)} allowed pairs × {heads} heads × {value_bytes} B = {n(total)} B "
                         f"(dense: {n(seq_len * seq_len * heads * value_bytes)} B)")


@formula
def window_density(seq_len: int, window: int) -> Worked:
    nnz = _window_nnz(seq_len, window)
    frac = nnz / seq_len**2
    return Worked(frac, f"{n(nnz)} allowed pairs / {n(seq_len)}² = {frac:.4g}")


@formula
def three_pass_extra_bytes(seq_len: int, window: int, value_bytes: int) -> Worked:
    nnz = _window_nnz(seq_len, window)
    total = 4 * nnz * value_bytes
    return Worked(total, f"scores written and read back, probabilities written and read back: "
                         f"4 × {n(nnz)} pairs × {value_bytes} B = {n(total)} B that a fused kernel never moves")

# -- structured sparsity (bsr-spmm, sell-spmv, nm-sparsity) -------------------------------
@formula
def bsr_padding(pattern: Sequence[Sequence[int]], block: int) -> Worked:
    """Stored values / non-zeros when the 0/1 `pattern` is stored as BSR with block x block blocks."""
    rows, cols = len(pattern), len(pattern[0])
    if rows % block or cols % block:
        raise ValueError(f"a {rows}x{cols} pattern does not divide into {block}x{block} blocks")
    nnz = sum(1 for row in pattern for v in row if v)
    blocks = sum(1 for I in range(0, rows, block) for J in range(0, cols, block)
                 if any(pattern[i][j] for i in range(I, I + block) for j in range(J, J + block)))
    ratio = blocks * block * block / nnz
    return Worked(ratio, f"{blocks} of the {rows // block}·{cols // block} blocks hold an entry; stored "
                         f"{blocks}·{block}² = {blocks * block * block} values for {nnz} non-zeros: {ratio:.4g}")


def _sell_slots(lengths: Sequence[int], C: int, sigma: int) -> tuple[int, list[int]]:
    order = []
    for w0 in range(0, len(lengths), sigma):
        order += sorted(range(w0, min(w0 + sigma, len(lengths))), key=lambda i: (-lengths[i], i))
    widths = [max(lengths[i] for i in order[c:c + C]) for c in range(0, len(order), C)]
    return C * sum(widths), widths


@formula
def sell_padding(lengths: Sequence[int], C: int, sigma: int) -> Worked:
    """Stored slots / nnz of SELL-C-sigma for rows of these lengths."""
    slots, widths = _sell_slots(lengths, C, sigma)
    nnz = sum(lengths)
    return Worked(slots / nnz, f"sorted within windows of {sigma}, chunks of {C} are {widths} slots wide: "
                               f"{C}·{sum(widths)} = {slots} slots for {nnz} entries: {slots / nnz:.4g}")


@formula
def ell_bytes_of_lengths(lengths: Sequence[int], index_bytes: int, value_bytes: int) -> Worked:
    """Bytes of ELLPACK for rows of these lengths: every row padded to the longest."""
    rows, width, entry = len(lengths), max(lengths), index_bytes + value_bytes
    total = rows * width * entry
    csr = sum(lengths) * entry + (rows + 1) * index_bytes
    return Worked(total, f"{rows} rows × the longest row {width} × {entry} B = {n(total)} B "
                         f"(CSR: {sum(lengths)} × {entry} B + ({rows}+1) × {index_bytes} B = {n(csr)} B)")


@formula
def sell_bytes(lengths: Sequence[int], C: int, sigma: int, index_bytes: int, value_bytes: int) -> Worked:
    """Bytes of SELL-C-sigma: slots (values and columns), chunk_ptr, chunk_len and the row permutation."""
    rows, entry = len(lengths), index_bytes + value_bytes
    slots, widths = _sell_slots(lengths, C, sigma)
    chunks = len(widths)
    total = slots * entry + (2 * chunks + 1) * index_bytes + rows * index_bytes
    return Worked(total, f"chunks {widths} wide: {slots} slots × {entry} B + chunk_ptr and chunk_len "
                         f"(2·{chunks}+1) × {index_bytes} B + perm {rows} × {index_bytes} B = {n(total)} B")


@formula
def nm_speedup_bound(n_keep: int, m_group: int) -> Worked:
    bound = m_group / n_keep
    return Worked(bound, f"{n_keep}:{m_group} keeps {n_keep} of every {m_group} multiply-adds: at most "
                         f"{m_group}/{n_keep} = {bound:.4g}× faster math (memory, other layers and metadata cut it)")


@formula
def nm_ffn_flops_per_token(d_model: int, d_ff: int, n_keep: int, m_group: int) -> Worked:
    """FLOPs per token of a two-matrix FFN whose weights are n:m pruned, when the zeros are skipped."""
    dense = 2 * d_model * d_ff
    kept = dense * n_keep // m_group
    return Worked(2 * kept, f"dense 2·{d_model}·{d_ff} = {n(dense)} weights; {n_keep}:{m_group} keeps {n(kept)}; "
                            f"2 FLOPs each: {n(2 * kept)} per token")
