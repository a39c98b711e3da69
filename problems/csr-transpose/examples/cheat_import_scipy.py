# expected-verdict: CE
"""Cheat: let scipy.sparse do the transpose. The static scan finds the import before the
file runs: CE naming scipy.sparse."""
import scipy.sparse as sp

from harness.types import CSR


def csr_transpose(A: CSR) -> CSR:
    t = sp.csr_matrix((A.data, A.indices, A.indptr), shape=A.shape).T.tocsr()
    t.sort_indices()
    return CSR(t.indptr, t.indices, t.data, t.shape)
