"""The sandboxed side of a grade: load one solution file and call it on request.

Runs as `python -E harness/child.py CONFIG_JSON` with two inherited pipes: commands come
in as JSON lines, replies go out as JSON lines. Arguments and results travel as .npz
files in the child's temporary working folder. The clock is bound before the
submission is imported, so patching `time.perf_counter` fools nobody.
"""
from __future__ import annotations

import json
import os
import sys
import time
import traceback

_clock = time.perf_counter  # bound before any untrusted code runs
_START = _clock()

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import importlib.util  # noqa: E402
import inspect  # noqa: E402

import numpy as np  # noqa: E402

from harness import codec  # noqa: E402

_violations: list[str] = []


def _reply(fd: int, message: dict) -> None:
    os.write(fd, (json.dumps(message) + "\n").encode())


def _leaves(value, out: list) -> list:
    if isinstance(value, np.ndarray):
        out.append(value)
    elif isinstance(value, (tuple, list)):
        for v in value:
            _leaves(v, out)
    elif isinstance(value, dict):
        for v in value.values():
            _leaves(v, out)
    return out


def _install_guards(forbidden: list[str], protected: list[str], own_file: str) -> None:
    """An audit hook (it cannot be removed) that refuses forbidden imports, reads of the
    references and writes to results, and new processes. The solution's own file (and
    its bytecode) stays readable, so a reference can be graded like any submission."""
    forbidden_t = tuple(forbidden)
    protected_t = tuple(os.path.join(p, "") for p in protected)
    folder, name = os.path.split(os.path.abspath(own_file))
    stem = os.path.splitext(name)[0]
    own_t = (os.path.join(folder, name), os.path.join(folder, "__pycache__", stem + "."))
    blocked_events = {"os.system", "os.fork", "os.forkpty", "os.posix_spawn", "os.exec", "subprocess.Popen"}

    def hook(event: str, args: tuple) -> None:
        if event == "import":
            name = args[0] or ""
            if any(name == f or name.startswith(f + ".") for f in forbidden_t):
                _violations.append(name)
                raise ImportError(f"sparsebench: import of {name!r} is forbidden for this problem")
        elif event == "open":
            path = args[0]
            if isinstance(path, (str, bytes)):
                path = os.path.abspath(os.fsdecode(path))
                if path.startswith(protected_t) and not path.startswith(own_t):
                    _violations.append(f"open {path}")
                    raise PermissionError(f"sparsebench: {path} is off limits to submissions")
        elif event in blocked_events:
            _violations.append(event)
            raise PermissionError(f"sparsebench: {event} is not allowed in a submission")

    sys.addaudithook(hook)


def _exception_report(exc: BaseException) -> dict:
    tb = "".join(traceback.format_exception(exc))
    return {
        "type": type(exc).__name__,
        "mro": [c.__name__ for c in type(exc).__mro__],
        "message": str(exc)[:2000],
        "traceback": tb[-4000:],
    }


def _load(config: dict):
    """Import the solution and find its entry function; returns (fn, None) or (None, error)."""
    path = config["file"]
    try:
        spec = importlib.util.spec_from_file_location("submission", path)
        module = importlib.util.module_from_spec(spec)
        sys.modules["submission"] = module
        spec.loader.exec_module(module)
    except BaseException as exc:  # noqa: BLE001 - anything at import time is a compile error
        report = _exception_report(exc)
        if isinstance(exc, SyntaxError):
            report["message"] = f"line {exc.lineno}: {exc.msg}"
        return None, report
    fn = getattr(module, config["entry"], None)
    if not callable(fn):
        return None, {"type": "MissingEntry", "mro": [], "traceback": "",
                      "message": f"the file defines no function named {config['entry']!r}"}
    target = getattr(fn, "py_func", fn)  # a numba dispatcher keeps the Python function here
    try:
        signature = inspect.signature(target)
    except (TypeError, ValueError):
        signature = None
    if signature is not None:
        try:
            signature.bind(*range(config["arity"]))
        except TypeError as exc:
            return None, {"type": "WrongSignature", "mro": [], "traceback": "",
                          "message": f"{config['entry']}{signature} cannot take the problem's "
                                     f"{config['arity']} positional arguments ({exc})"}
    return fn, None


_kept: dict = {}  # results kept in the sandbox by name (e.g. a trained model), see Child.call


def _call(fn, command: dict) -> dict:
    args = codec.load(command["input"])
    try:
        if command.get("on"):
            if command["on"] not in _kept:
                raise LookupError(f"no kept object named {command['on']!r}")
            fn = getattr(_kept[command["on"]], command["method"])
        t0 = _clock()
        result = fn(*args)
        seconds = _clock() - t0
    except MemoryError as exc:
        return {"status": "memory", **_exception_report(exc)}
    except BaseException as exc:  # noqa: BLE001 - SystemExit included: it is the submission's
        return {"status": "raised", **_exception_report(exc)}
    if command.get("keep"):
        _kept[command["keep"]] = result
        return {"status": "ok", "seconds": seconds, "aliased": False, "input_digest": None,
                "kept": type(result).__name__}
    inputs = _leaves(args, [])
    aliased = [i for i, a in enumerate(inputs) for o in _leaves(result, []) if np.may_share_memory(o, a)]
    reply = {"status": "ok", "seconds": seconds, "aliased": bool(aliased),
             "input_digest": codec.digest(args) if command.get("digest") else None}
    try:
        codec.save(command["output"], result)
    except codec.CodecError as exc:
        return {"status": "bad_output", "message": f"the result is not plain data: {exc}"}
    except MemoryError as exc:
        return {"status": "memory", **_exception_report(exc)}
    return reply


def main() -> None:
    config = json.loads(sys.argv[1])
    fd_in, fd_out = config["fd_in"], config["fd_out"]
    commands = os.fdopen(fd_in, "r")
    if config.get("guard"):
        _install_guards(config.get("forbidden", []), config.get("protected", []), config["file"])
    t_load = _clock()
    fn, error = _load(config)
    if error is not None:
        _reply(fd_out, {"status": "load_error", "violations": _violations, **error})
        return
    _reply(fd_out, {"status": "ready", "startup_s": t_load - _START, "load_s": _clock() - t_load,
                    "violations": _violations})
    for line in commands:
        command = json.loads(line)
        if command["op"] == "exit":
            break
        reply = _call(fn, command)
        reply["violations"] = list(_violations)
        _reply(fd_out, reply)


if __name__ == "__main__":
    main()
