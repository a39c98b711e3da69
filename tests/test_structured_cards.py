"""The structured-sparsity quiz formulas against independent oracles: scipy's BSR, the SELL
builder of the sell-spmv inputs, and byte counts of built arrays."""
import math

import numpy as np
import scipy.sparse as sp

from harness.types import CSR
from problems._common import structured
from quiz.formulas import FORMULAS


def _csr_of_lengths(lengths) -> CSR:
    indptr = np.r_[0, np.cumsum(lengths)].astype(np.int32)
    indices = np.concatenate([np.arange(n) for n in lengths]).astype(np.int32)
    return CSR(indptr, indices, np.ones(indices.size), (len(lengths), max(lengths)))


def test_bsr_padding_matches_scipy():
    rng = np.random.default_rng(0)
    for block in (2, 4):
        pattern = (rng.random((8, 8)) < 0.2).astype(int)
        pattern[0, 0] = 1
        b = sp.csr_array(pattern.astype(float)).tobsr(blocksize=(block, block))
        assert math.isclose(FORMULAS["bsr_padding"](pattern=pattern.tolist(), block=block).value,
                            b.data.size / pattern.sum())


def test_sell_formulas_match_a_built_sell():
    lengths = [40, 2, 1, 1, 3, 1, 1, 1]
    A = _csr_of_lengths(lengths)
    for C, sigma in ((2, 8), (4, 1), (4, 8), (1, 1)):
        S = structured.sell_from_csr(A, C, sigma)
        assert math.isclose(FORMULAS["sell_padding"](lengths=lengths, C=C, sigma=sigma).value,
                            S.col.size / sum(lengths))
        nbytes = S.data.nbytes + S.col.nbytes + S.chunk_ptr.nbytes + S.chunk_len.nbytes + S.perm.nbytes
        assert FORMULAS["sell_bytes"](lengths=lengths, C=C, sigma=sigma, index_bytes=4, value_bytes=8).value == nbytes
    assert FORMULAS["ell_bytes_of_lengths"](lengths=lengths, index_bytes=4, value_bytes=8).value == \
        len(lengths) * max(lengths) * 12


def test_nm_formulas_match_compressed_arrays():
    W = np.random.default_rng(1).standard_normal((64, 96)).astype(np.float16)
    S = structured.compress_24(W.astype(np.float32))
    fp16_bytes = S.values.astype(np.float16).nbytes + S.meta.nbytes
    assert FORMULAS["nm_sparse_bytes"](rows=64, cols=96, n_keep=2, m_group=4, value_bytes=2).value == fp16_bytes
    assert FORMULAS["nm_speedup_bound"](n_keep=2, m_group=4).value == 2
    assert FORMULAS["nm_ffn_flops_per_token"](d_model=64, d_ff=96, n_keep=2, m_group=4).value == \
        2 * (S.values.size * 2)  # two 64x96 matrices, half kept, 2 FLOPs each
