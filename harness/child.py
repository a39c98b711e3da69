"""The sandboxed side of a grade: load one solution file and call it on request.

Runs as `python -E harness/child.py CONFIG_JSON` with two inherited pipes: commands come in as
JSON lines, replies go out as JSON lines, a result's data right after its line
(harness/transport.py). Inputs arrive as files the child maps read-only.

Nothing here is trusted by the grader. Everything in this process can be reached and patched by
the submission (its frames, its globals, this module), so the grader measures what it ranks
itself: the wall time around each call, the CPU of every thread and process of the child, the
processes it starts (harness/sandbox.py, harness/accounting.py); inputs are read-only for the
kernel, not for a check in here. What the child reports (its own clock, the audit hook's
findings, aliasing) is a friendly early error layer and a cross-check, never the measure.

A call comes in two commands: `prepare` maps the inputs (untimed: page faults happen here) and
`go` runs the entry function on each of them back to back and materialises every result into
plain data inside the timed region, then replies; the data is copied out after the reply line.

Order at start matters: the clock is bound first, then (without bubblewrap, for submissions) the
process enters its namespaces and drops its privileges (harness/isolation.py), then numpy loads,
then the audit hook goes in, and only then is the submission imported.
"""
from __future__ import annotations

import json
import os
import shutil
import sys
import time
import traceback

_clock = time.perf_counter  # bound before any untrusted code runs (a cross-check only: the grader times calls)
_START = _clock()

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from harness import isolation  # noqa: E402  (standard library only: safe before the namespaces)

np = transport = None  # numpy and harness.transport, imported by main() once the namespaces are set up
_violations: list[str] = []

NETWORK_EVENTS = {"socket.connect", "socket.bind", "socket.sendto", "socket.sendmsg", "socket.getaddrinfo",
                  "socket.gethostbyname", "socket.gethostbyaddr", "socket.getnameinfo"}
PROCESS_EVENTS = {"os.system", "os.fork", "os.forkpty", "os.posix_spawn", "os.spawn", "os.exec", "subprocess.Popen",
                  "pty.spawn"}
WRITE_FLAGS = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_TRUNC | os.O_APPEND
LINK_EVENTS = ("os.symlink", "os.link", "os.rename")


def _reply(fd: int, message: dict) -> None:
    data = (json.dumps(message) + "\n").encode()
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]


def _real(path, dir_fd=None) -> str:
    """Where a path really leads: relative to its dir_fd, links resolved (a link is judged by
    its target, not by where it is made)."""
    path = os.fsdecode(path)
    if dir_fd is not None and dir_fd >= 0 and not os.path.isabs(path):  # AT_FDCWD (-100): the working folder
        try:
            path = os.path.join(os.readlink(f"/proc/self/fd/{dir_fd}"), path)
        except OSError:
            return path
    return os.path.realpath(os.path.abspath(path))


def _install_guards(forbidden: list[str], protected: list[str], writable: list[str], own_file: str,
                    enforce: bool = True) -> None:
    """An audit hook (it cannot be removed) that refuses forbidden imports, reads of the
    references, writes outside the work folder, the network, new processes, signals to other
    processes and raised resource limits, and names what was attempted (a CE that says why).

    It guards Python-level calls only and can be fooled by native code: with bubblewrap it is a
    courtesy (what it refuses is absent or read-only anyway); without, it is the last layer."""
    forbidden_t = tuple(forbidden)
    protected_t = tuple(os.path.join(os.path.realpath(p), "") for p in protected)
    writable_t = tuple(os.path.join(os.path.realpath(w), "") for w in writable)
    own = os.path.realpath(own_file)
    folder, name = os.path.split(own)
    own_t = (own, os.path.join(folder, "__pycache__", os.path.splitext(name)[0] + "."))
    me = os.getpid()

    def refuse(what: str, exc: type[Exception] = PermissionError) -> None:
        if not enforce:  # a trusted child runs the same hook, so both sides of a timing pay the same
            return
        _violations.append(what)
        raise exc(f"sparsebench: {what} is not allowed in a submission")

    def outside(path: str) -> bool:
        return not (path + "/").startswith(writable_t) and path != os.devnull

    def hook(event: str, args: tuple) -> None:
        if event == "import":
            _ForbiddenFinder(forbidden_t).find_spec(args[0] or "")
        elif event == "open":
            path, _mode, flags = args
            if isinstance(path, (str, bytes)):
                real = _real(path)
                if (real + "/").startswith(protected_t) and not real.startswith(own_t):
                    refuse(f"open {real}")
                if isinstance(flags, int) and flags & WRITE_FLAGS and outside(real):
                    refuse(f"write {real} (outside the work folder)")
        elif event in LINK_EVENTS and len(args) > 1 and isinstance(args[1], (str, bytes)):
            at = 2 if event == "os.symlink" else 3  # (src, dst, dir_fd) or (src, dst, src_dir_fd, dst_dir_fd)
            dst_fd = args[at] if len(args) > at and isinstance(args[at], int) else None
            target = _real(args[1], dst_fd)
            if outside(target):
                refuse(f"{event} to {target} (outside the work folder)")
            if event == "os.symlink" and isinstance(args[0], (str, bytes)):
                source = _real(os.path.join(os.path.dirname(target), os.fsdecode(args[0])))
                if (source + "/").startswith(protected_t):
                    refuse(f"{event} of {source}")
        elif event in NETWORK_EVENTS:
            refuse(f"{event} (no network)")
        elif event in PROCESS_EVENTS:
            refuse(event)
        elif event in ("os.kill", "os.killpg") and args and args[0] not in (me, 0):
            refuse(f"{event} of another process")
        elif event in ("resource.setrlimit", "resource.prlimit"):
            refuse(event)
        elif event == "ctypes.dlopen" and args and isinstance(args[0], (str, bytes)):
            real = _real(args[0]) if os.sep in os.fsdecode(args[0]) else ""
            if real and (real + "/").startswith(protected_t):
                refuse(f"load {real}")

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
    try:
        tb = "".join(traceback.format_exception(exc))
        message = str(exc)
    except BaseException:  # noqa: BLE001 - an exception whose own methods raise
        tb, message = "", "(unprintable exception)"
    return {
        "type": type.__dict__["__name__"].__get__(type(exc)),
        "mro": [type.__dict__["__name__"].__get__(c) for c in type(exc).__mro__],
        "message": message[:2000],
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
    """Processes the submission started that still exist, as this process sees them (advisory:
    the grader counts them itself, from outside)."""
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
_batch: list = []  # the prepared inputs: a list of argument tuples


def _prepare(command: dict, bounds) -> dict:
    """Map the next inputs read-only and fault their pages in, before any clock runs."""
    _batch.clear()  # inputs left by a prepare without a go: two batches never need to fit in memory at once
    values, _ = transport.map_file(command["input"], bounds)
    _batch[:] = values
    return {"status": "prepared", "n": len(values)}


def _inputs(value, out: list) -> list:
    if isinstance(value, np.ndarray):
        out.append(value)
    elif isinstance(value, (tuple, list)):
        for v in value:
            _inputs(v, out)
    return out


def _go(fn, command: dict, fd_out: int, bounds) -> dict | None:
    """Run the prepared calls back to back; the results are plain data before the clock stops.
    Replies itself when there is data to send (the line, then the data) and returns None."""
    batch, keep = list(_batch), command.get("keep")
    # the inputs go with this command: unmapped once answered, their pages are free for the
    # grader's next input (held until the next prepare, each new input needed new memory)
    _batch.clear()
    results = []
    try:
        if command.get("on"):
            if command["on"] not in _kept:
                raise LookupError(f"no kept object named {command['on']!r}")
            fn = getattr(_kept[command["on"]], command["method"])
        t0 = _clock()
        for args in batch:
            results.append(fn(*args))
        flat = None if keep else transport.materialise(results, bounds)  # inside the timed region
        seconds = _clock() - t0
    except transport.TransportError as exc:
        return {"status": "bad_output", "message": f"the result is not plain data: {exc}"}
    except MemoryError as exc:
        return {"status": "memory", **_exception_report(exc)}
    except BaseException as exc:  # noqa: BLE001 - SystemExit included: it is the submission's
        return {"status": "raised", "index": len(results), **_exception_report(exc)}
    if keep:
        _kept[keep] = results[0] if results else None
        return {"status": "ok", "seconds": seconds, "payload": 0, "kept": type(results[0]).__name__}
    aliased = any(not a.flags.writeable for a in flat.arrays) and _aliased_flat(flat, batch)
    head, _, size = transport.header(flat)
    _reply(fd_out, {"status": "ok", "seconds": seconds, "payload": len(head) + size, "aliased": aliased,
                    "violations": list(_violations)})  # processes: the grader counts them, from outside
    transport.send(fd_out, flat, head)
    return None


_tools: dict = {}  # numpy functions bound before the submission loads (it may patch numpy's own)


def _pin(cpus: list[int] | None) -> None:
    """Run on the grade's CPUs from now on, every thread of the process (harness/sandbox.py's
    shared_cpus). Done once loaded, not at the start: the timing children load while correctness
    runs, and pinned from the start they would load one after the other on one CPU."""
    if not cpus:
        return
    try:
        tasks = [int(t) for t in os.listdir("/proc/self/task")]
    except (OSError, ValueError):
        tasks = [0]
    for task in tasks:
        try:
            os.sched_setaffinity(task, cpus)
        except OSError:  # the CPUs went away (a changed cpuset): run unpinned rather than not at all
            pass


def _warm_numba() -> None:
    """Load numba's CPU target registries now, when the file uses numba: its first compile or
    cache load otherwise does it, about 0.4 s inside the first call (arraymath, linalg's BLAS
    binding, the stencil registry). Timing children start while correctness runs, so there the
    cost moves off the grade's path."""
    if "numba" not in sys.modules:
        return
    try:
        from numba.core.registry import cpu_target

        cpu_target.target_context.refresh()
    except Exception:  # noqa: BLE001 - numba's internals moved: the first call pays, as before
        pass


def _seed_cache(config: dict) -> None:
    """Copy the files the grader handed over (the same file's Numba cache, compiled by its
    correctness child: harness/jitcache.py) into this child's own cache. Runs at the first
    command, not at start: a timing child starts while correctness still runs, and numba reads
    its cache at a function's first call, not at import."""
    seed, target = config.get("jit_seed"), config.get("numba_dir")
    if seed and target and os.path.isdir(seed):
        try:
            shutil.copytree(seed, target, dirs_exist_ok=True)
        except OSError:
            pass  # the submission compiles again: slower, never wrong


def _export(config: dict, fd_out: int) -> None:
    """Send this child's Numba cache (numba's index and data files only) as [relative name,
    bytes] pairs, for the grade's next child (the grader checks and bounds what arrives:
    harness/jitcache.py)."""
    root, files = config.get("numba_dir") or "", []
    for folder, _, names in sorted(os.walk(root)) if root else []:
        for name in sorted(names):
            path = os.path.join(folder, name)
            if name.endswith((".nbi", ".nbc")) and os.path.isfile(path) and not os.path.islink(path):
                with open(path, "rb") as fh:
                    files.append([os.path.relpath(path, root), np.frombuffer(fh.read(), dtype=np.uint8)])
    flat = transport.materialise([files], transport.Bounds(max_bytes=1 << 40))
    head, _, size = transport.header(flat)
    _reply(fd_out, {"status": "cache", "payload": len(head) + size})
    transport.send(fd_out, flat, head)


def _aliased_flat(flat, batch: list) -> bool:
    """A returned array that is a view of an input (a contract check, not a measure; inputs are
    read-only mappings, so only a read-only result can be one)."""
    inputs = [i for args in batch for i in _inputs(args, [])]
    share = _tools["may_share"]
    return any(share(o, i) for o in flat.arrays if not o.flags.writeable for i in inputs)


def main() -> None:
    config = json.loads(sys.argv[1])
    fd_in, fd_out = config["fd_in"], config["fd_out"]
    sandbox: dict = {}
    if config.get("guard") and config.get("isolate"):
        sandbox = isolation.enter(config.get("writable", []), [fd_in, fd_out])  # forks: this is the worker
        still_privileged = isolation.drop_privileges()
        if still_privileged:
            sandbox["filesystem"] += f" ({still_privileged})"
    elif config.get("fresh_proc"):
        isolation.fresh_proc = True  # bubblewrap's PID namespace: /proc lists the grade only
    global np, transport
    import numpy as np

    from harness import transport, types  # noqa: F401  (types: the shared NamedTuples, before the submission)

    _tools["may_share"] = np.may_share_memory
    bounds = transport.Bounds(**config["bounds"])
    commands = os.fdopen(fd_in, "r")
    if config.get("guard") or config.get("hook"):
        _install_guards(config.get("forbidden", []), config.get("protected", []), config.get("writable", []),
                        config["file"], enforce=bool(config.get("guard")))
    t_load = _clock()
    fn, error = _load(config)
    if error is not None:
        _reply(fd_out, {"status": "load_error", "violations": _violations, "sandbox": sandbox, **error})
        _exit()
    _warm_numba()
    _pin(config.get("cpus"))
    _reply(fd_out, {"status": "ready", "startup_s": t_load - _START, "load_s": _clock() - t_load,
                    "violations": _violations, "sandbox": sandbox, "processes": _other_processes()})
    seeded = False
    while True:
        line = commands.readline()
        if not line:
            break
        if not seeded:
            _seed_cache(config)
            seeded = True
        command = json.loads(line)
        if command["op"] == "exit":
            break
        if command["op"] == "export":
            _export(config, fd_out)
            continue
        if command["op"] == "prepare":
            reply = _prepare(command, bounds)
        else:
            reply = _go(fn, command, fd_out, bounds)
            if reply is None:
                continue
            reply["violations"] = list(_violations)
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
