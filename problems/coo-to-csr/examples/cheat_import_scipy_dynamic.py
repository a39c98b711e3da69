# expected-verdict: CE
"""Cheat: build the module name at run time so the static scan cannot read it, then let
scipy.sparse do the work. The import hook refuses it inside the child: CE naming
scipy.sparse."""
import importlib

from harness.types import COO, CSR


def coo_to_csr(A: COO) -> CSR:
    sp = importlib.import_module("scipy." + "sparse")
    m = sp.coo_matrix((A.data, (A.row, A.col)), shape=A.shape).tocsr()
    m.sum_duplicates()
    return CSR(m.indptr, m.indices, m.data, m.shape)
