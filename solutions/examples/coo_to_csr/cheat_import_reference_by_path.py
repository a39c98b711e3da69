# expected-verdict: CE
"""Cheat: load the reference from its file path, which no static scan can see. The audit
hook refuses to open files under solutions/reference/ at run time: CE naming the file."""
import importlib.util
from pathlib import Path

_path = Path(__file__).resolve().parents[2] / "reference" / ("coo_to_csr" + "_numba.py")
_spec = importlib.util.spec_from_file_location("borrowed", _path)
_module = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_module)
coo_to_csr = _module.coo_to_csr
