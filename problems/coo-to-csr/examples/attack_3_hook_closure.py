# expected-verdict: CE
"""Class 3, disarming the audit hook: find the hook's function through the garbage collector,
empty the list of protected folders in its closure (the hook itself cannot be removed, its data
can), then import the oracle by its path and answer with it. With bubblewrap the hook is only a
courtesy: the problems folder does not exist in the child's view, so the import fails whatever
the hook says: CE (FileNotFoundError while loading)."""
import gc
import importlib.util
from pathlib import Path

for obj in gc.get_objects():
    if callable(obj) and getattr(obj, "__name__", "") == "hook" and getattr(obj, "__closure__", None):
        for cell in obj.__closure__:
            if isinstance(cell.cell_contents, tuple) and all(isinstance(p, str) for p in cell.cell_contents):
                cell.cell_contents = ()

_path = Path(__file__).resolve().parents[1] / "reference" / "numpy.py"
_spec = importlib.util.spec_from_file_location("oracle", _path)
_oracle = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_oracle)
coo_to_csr = _oracle.coo_to_csr
