# expected-verdict: CE
"""Cheat: load the reference from its file path, which no static scan can see. The audit
hook refuses to open files under problems/ at run time: CE naming the file."""
import importlib.util
from pathlib import Path

import harness

_path = Path(harness.__file__).resolve().parents[1] / "problems" / "coo-to-csr" / "reference" / ("nu" + "mba.py")
_spec = importlib.util.spec_from_file_location("borrowed", _path)
_module = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_module)
coo_to_csr = _module.coo_to_csr
