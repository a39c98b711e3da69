"""The sandboxed side of a grade: load one solution file and call it on request.

Runs as `python -E harness/child.py CONFIG_JSON` with two inherited pipes: commands come
in as JSON lines, replies go out as JSON lines. Arguments and results travel as .npz
files in the child's temporary working folder.

Order matters: the clock is bound first, then (for submissions) the process enters its
namespaces and drops its privileges (harness/isolation.py), then numpy loads, then the
audit hook goes in, and only then is the submission imported. What the child reports
is not trusted blindly: the grader checks its timings against its own clock.
"""
from __future__ import annotations

import json
import os
import sys
import time
import traceback

_clock = time.perf_counter  # bound before any untrusted code runs
_cpu = time.process_time  # all threads of this process
_START = _clock()

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from harness import isolation  # noqa: E402  (standard library only: safe before the namespaces)

np = codec = None  # numpy and harness.codec, imported by main() once the namespaces are set up
_SCALARS = {int, float, bool, str, type(None)}
_TRUSTED_TUPLES: set = {tuple}  # + the shared NamedTuples, once harness.types is imported
_violations: list[str] = []

NETWORK_EVENTS = {"socket.connect", "socket.bind", "socket.sendto", "socket.sendmsg", "socket.getaddrinfo",
                  "socket.gethostbyname", "socket.gethostbyaddr", "socket.getnameinfo"}
PROCESS_EVENTS = {"os.system", "os.fork", "os.forkpty", "os.posix_spawn", "os.spawn", "os.exec", "subprocess.Popen",
                  "pty.spawn"}
WRITE_FLAGS = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_TRUNC | os.O_APPEND


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


def _plain(value):
    """The result rebuilt from plain containers and base-class arrays, inside the timed
    region: a lazy container or an ndarray subclass cannot push work past the clock
    into the result's serialisation. A few microseconds for a CSR (docs/sandbox.md)."""
    kind = type(value)
    if kind is np.ndarray or kind in _SCALARS:
        return value
    if kind in _TRUSTED_TUPLES:  # tuple, CSR, COO: their iteration is the C one
        return kind(*[_plain(v) for v in tuple.__iter__(value)]) if kind is not tuple \
            else tuple([_plain(v) for v in tuple.__iter__(value)])
    if isinstance(value, np.ndarray):
        return np.ndarray.view(value, np.ndarray)
    if isinstance(value, tuple):
        items = [_plain(v) for v in tuple.__iter__(value)]
        fields = next((c.__dict__["_fields"] for c in kind.__mro__ if "_fields" in c.__dict__), None)
        if isinstance(fields, tuple) and len(fields) == len(items) and all(type(f) is str for f in fields):
            return codec._namedtuple(str(type.__dict__["__name__"].__get__(kind)), fields)(*items)
        return tuple(items)
    if isinstance(value, list):
        return [_plain(v) for v in list.__iter__(value)]
    if isinstance(value, dict):
        return {(k if type(k) is str else repr(k)): _plain(v) for k, v in list(dict.items(value))}
    return value


def _install_guards(forbidden: list[str], protected: list[str], writable: list[str], own_file: str) -> None:
    """An audit hook (it cannot be removed) that refuses forbidden imports, reads of the
    references, writes outside the work folder, the network, new processes, signals to
    other processes and raised resource limits. The solution's own file (and its
    bytecode) stays readable, so a reference can be graded like any submission.

    It guards Python-level calls only; native code (ctypes) is held by the namespaces
    and limits instead, where the system grants them."""
    forbidden_t = tuple(forbidden)
    protected_t = tuple(os.path.join(p, "") for p in protected)
    writable_t = tuple(os.path.join(os.path.realpath(w), "") for w in writable) + (os.devnull,)
    folder, name = os.path.split(os.path.abspath(own_file))
    stem = os.path.splitext(name)[0]
    own_t = (os.path.join(folder, name), os.path.join(folder, "__pycache__", stem + "."))
    me = os.getpid()

    def refuse(what: str, exc: type[Exception] = PermissionError) -> None:
        _violations.append(what)
        raise exc(f"sparsebench: {what} is not allowed in a submission")

    def hook(event: str, args: tuple) -> None:
        if event == "import":
            _ForbiddenFinder(forbidden_t).find_spec(args[0] or "")
        elif event == "open":
            path, _mode, flags = args
            if isinstance(path, (str, bytes)):
                path = os.path.abspath(os.fsdecode(path))
                if path.startswith(protected_t) and not path.startswith(own_t):
                    refuse(f"open {path}")
                if isinstance(flags, int) and flags & WRITE_FLAGS and \
                        not (os.path.realpath(path) + "/").startswith(writable_t) and path != os.devnull:
                    refuse(f"write {path} (outside the work folder)")
        elif event in ("os.symlink", "os.link", "os.rename") and len(args) > 1 \
                and isinstance(args[1], (str, bytes)) \
                and not (os.path.realpath(os.path.abspath(os.fsdecode(args[1]))) + "/").startswith(writable_t):
            refuse(f"{event} to {os.fsdecode(args[1])} (outside the work folder)")
        elif event in NETWORK_EVENTS:
            refuse(f"{event} (no network)")
        elif event in PROCESS_EVENTS:
            refuse(event)
        elif event in ("os.kill", "os.killpg") and args and args[0] not in (me, 0):
            refuse(f"{event} of another process")
        elif event in ("resource.setrlimit", "resource.prlimit"):
            refuse(event)

    sys.addaudithook(hook)
    sys.meta_path.insert(0, _ForbiddenFinder(forbidden_t))


class _ForbiddenFinder:
    """The audit hook sees `import` statements; importlib.import_module goes round it,
    so the same rule also sits first on sys.meta_path."""

    def __init__(self, forbidden: tuple[str, ...]):
        self.forbidden = forbidden

    def find_spec(self, name: str, path=None, target=None):
        for ban in self.forbidden:
            if name == ban or name.startswith(ban + "."):
                _violations.append(f"import {name} (forbidden: {ban})")
                raise ImportError(f"sparsebench: import of {name!r} is forbidden for this problem")
        return None


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
    import importlib.util
    import inspect

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


def _other_processes() -> int:
    """Processes the submission started that still exist (zombies included)."""
    me = os.getpid()
    try:
        if isolation.fresh_proc:  # /proc lists this grade's namespace only
            return sum(1 for e in os.listdir("/proc") if e.isdigit() and int(e) not in (1, me))
        count = 0
        for task in os.listdir("/proc/self/task"):
            with open(f"/proc/self/task/{task}/children") as fh:
                count += len(fh.read().split())
        return count
    except OSError:
        return 0


_kept: dict = {}  # results kept in the sandbox by name (e.g. a trained model), see Child.call


def _call(fn, command: dict, tools: dict) -> dict:
    args = codec.load(command["input"])
    try:
        if command.get("on"):
            if command["on"] not in _kept:
                raise LookupError(f"no kept object named {command['on']!r}")
            fn = getattr(_kept[command["on"]], command["method"])
        t0 = _clock()
        result = fn(*args) if command.get("keep") else _plain(fn(*args))  # a kept object stays as it is
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
    aliased = [i for i, a in enumerate(inputs) for o in _leaves(result, []) if tools["may_share"](o, a)]
    reply = {"status": "ok", "seconds": seconds, "aliased": bool(aliased),
             "input_digest": tools["digest"](args) if command.get("digest") else None}
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
    sandbox: dict = {}
    if config.get("guard"):
        sandbox = isolation.enter(config.get("writable", []), [fd_in, fd_out])  # forks: this is the worker
        still_privileged = isolation.drop_privileges()
        if still_privileged:
            sandbox["filesystem"] += f" ({still_privileged})"
    global np, codec
    import numpy as np

    from harness import codec, types

    _TRUSTED_TUPLES.update({types.CSR, types.COO})
    tools = {"may_share": np.may_share_memory, "digest": codec.digest}  # bound before the submission loads
    commands = os.fdopen(fd_in, "r")
    if config.get("guard"):
        _install_guards(config.get("forbidden", []), config.get("protected", []), config.get("writable", []),
                        config["file"])
    t_load = _clock()
    fn, error = _load(config)
    if error is not None:
        _reply(fd_out, {"status": "load_error", "violations": _violations, "sandbox": sandbox, **error})
        _exit()
    _reply(fd_out, {"status": "ready", "startup_s": t_load - _START, "load_s": _clock() - t_load,
                    "violations": _violations, "sandbox": sandbox, "processes": _other_processes()})
    while True:
        idle_wall, idle_cpu = _clock(), _cpu()  # between calls only background threads can use CPU
        line = commands.readline()
        idle_wall, idle_cpu = _clock() - idle_wall, _cpu() - idle_cpu
        if not line:
            break
        command = json.loads(line)
        if command["op"] == "exit":
            break
        reply = _call(fn, command, tools)
        reply["violations"] = list(_violations)
        reply["processes"] = _other_processes()
        reply["idle_s"], reply["idle_cpu_s"] = idle_wall, idle_cpu
        _reply(fd_out, reply)
    _exit()


def _exit() -> None:
    """Flush what the submission printed, then leave at once: threads it left running
    do not keep the process alive."""
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except Exception:  # noqa: BLE001 - a replaced or closed stream
            pass
    os._exit(0)


if __name__ == "__main__":
    main()
