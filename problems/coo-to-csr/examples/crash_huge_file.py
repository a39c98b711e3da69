# expected-verdict: RE
"""Disk hog: write a 64 GiB file into the work folder (sparsely, by seeking, so nothing
is really written). The file-size limit refuses any byte past the memory limit:
RE (OSError: File too large)."""
from harness.types import COO, CSR


def coo_to_csr(A: COO) -> CSR:
    with open("huge.bin", "wb") as fh:
        fh.seek(64 * 2**30)
        fh.write(b"x")
    raise RuntimeError("unreachable: the write above must fail")
