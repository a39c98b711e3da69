"""Run one solution file in a child process with limits, and talk to it.

The child is a fresh interpreter in its own session, with CPU/address-space/file-size/
open-file/core limits (hard limits too, so it cannot raise them), a scrubbed
environment, a temporary working folder, and its output captured and capped. A
submission's child also gets its own network, mount and PID namespaces where the
system allows (harness/isolation.py), and an audit hook (harness/child.py).

Nothing the child sends is trusted: replies are size-capped and type-checked, result
files must be plain uncompressed .npz files of bounded size, and inputs are written
to a folder the child cannot write to. A child that dies, hangs, floods its output or
leaves processes behind ends as a ChildDied for the grader, never as a hang.
"""
from __future__ import annotations

import hashlib
import json
import math
import os
import resource
import select
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
import threading
import time
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from harness import ROOT, codec
from harness.spec import Limits

CHILD = ROOT / "harness" / "child.py"
ENV_ALLOWLIST = ("PATH", "LANG", "LC_ALL", "TZ", "OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE", "SYSTEMROOT")
THREAD_VARS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMBA_NUM_THREADS",
               "VECLIB_MAXIMUM_THREADS", "NUMEXPR_NUM_THREADS")
# the problems (references, oracles, examples), the LM problems' oracle, the drills' answers, the records
PROTECTED = [ROOT / "problems", ROOT / "tinylm", ROOT / "quiz", ROOT / "results"]
MAX_REPLY_BYTES = 1 << 20  # a reply line is a few hundred bytes; more is a flood
STATUSES = ("ready", "load_error", "ok", "raised", "memory", "bad_output")


def cache_dir() -> Path:
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return base / "sparsebench"


def numba_cache(file: Path, guard: bool) -> Path:
    """References share one cache; each submission file gets its own, the only place
    outside its work folder it may write, so it cannot plant code for anyone else."""
    if not guard:
        return cache_dir() / "numba-ref"
    key = hashlib.sha256(str(Path(file).resolve()).encode()).hexdigest()[:16]
    return cache_dir() / "numba-sub" / key


class CappedOutput:
    """Keeps the first and last `limit` bytes of a stream and counts what was cut."""

    def __init__(self, stream, limit: int):
        self.head = bytearray()
        self.tail = bytearray()
        self.total = 0
        self.limit = limit
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._drain, args=(stream,), daemon=True)
        self._thread.start()

    def _drain(self, stream) -> None:
        while chunk := stream.read1(1 << 16):
            with self._lock:
                self.total += len(chunk)
                room = self.limit - len(self.head)
                if room > 0:
                    self.head += chunk[:room]
                    chunk = chunk[room:]
                self.tail += chunk
                if len(self.tail) > self.limit:
                    del self.tail[:len(self.tail) - self.limit]

    def summary(self) -> dict[str, int]:
        """Bytes the child wrote, kept and cut (the record says how much was lost)."""
        self._thread.join(timeout=1)
        with self._lock:
            kept = len(self.head) + len(self.tail)
            return {"bytes": self.total, "kept_bytes": kept, "cut_bytes": self.total - kept}

    def text(self) -> str:
        cut = self.summary()["cut_bytes"]
        with self._lock:
            head, tail = bytes(self.head), bytes(self.tail)
        middle = f"\n[... {cut:,} bytes cut ...]\n" if cut > 0 else ""
        return head.decode(errors="replace") + middle + tail.decode(errors="replace")


@dataclass
class ChildDied(Exception):
    """The child ended without replying: crash, os._exit, a limit, or a kill."""

    reason: str  # "timeout" | "cpu" | "memory" | "crash" | "exit"
    detail: str
    output: str = ""


@dataclass
class Child:
    """A running solution. Use as a context manager; `call` runs the entry function once."""

    file: Path
    entry: str
    arity: int
    limits: Limits
    threads: int = 1
    guard: bool = True  # submissions: namespaces, audit hook, per-file numba cache
    forbidden: tuple[str, ...] = ()
    extra_env: dict[str, str] = field(default_factory=dict)
    ready: dict = field(default_factory=dict)

    def __enter__(self) -> Child:
        self.workdir = Path(tempfile.mkdtemp(prefix="sparsebench-"))
        self.inbox = Path(tempfile.mkdtemp(prefix="sparsebench-in-"))  # the child may read, never write
        self.numba_dir = numba_cache(self.file, self.guard)
        self.numba_dir.mkdir(parents=True, exist_ok=True)
        self.activity = {"calls": 0, "idle_s": 0.0, "idle_cpu_s": 0.0, "processes": 0}
        cmd_r, self._cmd_w = os.pipe()
        self._res_r, res_w = os.pipe()
        config = {"file": str(Path(self.file).resolve()), "entry": self.entry, "arity": self.arity,
                  "fd_in": cmd_r, "fd_out": res_w, "guard": self.guard, "forbidden": list(self.forbidden),
                  "protected": [str(p) for p in PROTECTED],
                  "writable": [str(self.workdir), str(self.numba_dir)]}
        self.proc = subprocess.Popen(
            [sys.executable, "-E", "-B", "-X", "faulthandler", str(CHILD), json.dumps(config)],
            cwd=self.workdir, env=self._env(), stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT, pass_fds=(cmd_r, res_w), start_new_session=True,
            preexec_fn=self._limit)
        os.close(cmd_r)
        os.close(res_w)
        self.output = CappedOutput(self.proc.stdout, self.limits.output_kb * 1024)
        self._buffer = b""
        self._calls = 0
        self.ready = self._receive(timeout=max(60.0, self.limits.wall_s))
        self._note_activity(self.ready)
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def _env(self) -> dict[str, str]:
        env = {k: os.environ[k] for k in ENV_ALLOWLIST if k in os.environ}
        env.update({k: str(self.threads) for k in THREAD_VARS})
        env["HOME"] = str(self.workdir)
        env["TMPDIR"] = str(self.workdir)
        env["PYTHONHASHSEED"] = "0"
        env["PYTHONDONTWRITEBYTECODE"] = "1"
        env["NUMBA_CACHE_DIR"] = str(self.numba_dir)
        env.update(self.extra_env)
        return env

    def _limit(self) -> None:  # runs in the child between fork and exec
        mem = self.limits.mem_mb << 20
        cpu = max(1, math.ceil(self.limits.cpu_s))
        # a result file is never larger than the memory that held it
        for what, value in [(resource.RLIMIT_AS, mem), (resource.RLIMIT_CPU, cpu),
                            (resource.RLIMIT_FSIZE, max(mem, 64 << 20)), (resource.RLIMIT_CORE, 0),
                            (resource.RLIMIT_NOFILE, 256)]:
            soft, hard = resource.getrlimit(what)
            cap = value if hard == resource.RLIM_INFINITY else min(value, hard)
            # hard = soft, so the child cannot raise them back; CPU keeps 5 s between SIGXCPU and SIGKILL
            new_hard = cap + 5 if what == resource.RLIMIT_CPU else cap
            if hard != resource.RLIM_INFINITY:
                new_hard = min(new_hard, hard)
            resource.setrlimit(what, (cap, new_hard))

    # -- the protocol ----------------------------------------------------------------
    def _receive(self, timeout: float) -> dict:
        deadline = time.monotonic() + timeout
        while b"\n" not in self._buffer:
            left = deadline - time.monotonic()
            if left <= 0:
                self.kill()
                raise ChildDied("timeout", f"no answer within {timeout:g} s (wall clock)", self.output.text())
            ready, _, _ = select.select([self._res_r], [], [], min(left, 0.25))
            if not ready:
                if self.proc.poll() is not None:  # gone, though something it started holds the pipe
                    raise self._death()
                continue
            chunk = os.read(self._res_r, 1 << 16)
            if not chunk:
                raise self._death()
            self._buffer += chunk
            if len(self._buffer) > MAX_REPLY_BYTES:
                self.kill()
                raise ChildDied("crash", "flooded the reply channel", self.output.text())
        line, self._buffer = self._buffer.split(b"\n", 1)
        try:
            return _sane(json.loads(line))
        except (ValueError, TypeError) as exc:
            self.kill()
            raise ChildDied("crash", f"garbled reply from the child ({exc})", self.output.text()) from None

    def _death(self) -> ChildDied:
        try:
            code = self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.kill()
            self.proc.wait()
            return ChildDied("crash", "closed its reply channel but kept running", self.output.text())
        self.kill()  # whatever it started goes too
        if code < 0:
            sig = signal.Signals(-code)
            if sig == signal.SIGXCPU:
                return ChildDied("cpu", f"CPU-time limit of {self.limits.cpu_s:g} s exceeded", self.output.text())
            if sig == signal.SIGXFSZ:
                return ChildDied("crash", "wrote a file past the file-size limit", self.output.text())
            hint = " (the CPU hard limit or the system's out-of-memory killer)" if sig == signal.SIGKILL else ""
            return ChildDied("crash", f"killed by {sig.name}{hint}", self.output.text())
        return ChildDied("exit", f"the process exited with status {code} in the middle of a call",
                         self.output.text())

    def _note_activity(self, reply: dict) -> None:
        self.activity["idle_s"] += reply.get("idle_s", 0.0)
        self.activity["idle_cpu_s"] += reply.get("idle_cpu_s", 0.0)
        self.activity["processes"] = max(self.activity["processes"], reply.get("processes", 0))

    def call(self, args: Any, *, digest: bool = True, keep: str | None = None, on: str | None = None,
             method: str | None = None) -> tuple[dict, Any, float]:
        """Run the entry function on `args`; returns (reply, result or None, wall seconds).
        `keep`: the child keeps the result under that name and sends nothing back; `on` and
        `method`: call that method of a kept object instead of the entry function."""
        self._calls += 1
        self.activity["calls"] += 1
        inp = self.inbox / f"in{self._calls}.npz"
        out = self.workdir / f"out{self._calls}.npz"
        self._write_input(inp, args)
        t0 = time.perf_counter()
        try:
            os.write(self._cmd_w, (json.dumps({"op": "call", "input": str(inp), "output": str(out),
                                               "digest": digest, "keep": keep, "on": on,
                                               "method": method}) + "\n").encode())
        except BrokenPipeError:
            raise self._death() from None
        reply = self._receive(timeout=self.limits.wall_s)
        wall = time.perf_counter() - t0
        inp.unlink(missing_ok=True)
        self._note_activity(reply)
        result = None
        if reply["status"] == "ok" and not keep:
            try:
                result = self._read_result(out)
            except Exception as exc:  # noqa: BLE001 - a child that wrote garbage
                reply = {**reply, "status": "bad_output", "message": f"unreadable result file: {exc}"}
        out.unlink(missing_ok=True)
        return reply, result, wall

    def _write_input(self, path: Path, args: Any) -> None:
        """A new file, never through a link the child may have planted in its place."""
        path.unlink(missing_ok=True)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o644)
        except OSError as exc:
            self.kill()
            raise ChildDied("crash", f"tampered with its input folder ({exc.strerror})", self.output.text()) from None
        codec.save(fd, args)  # open() takes the descriptor and closes it

    def _read_result(self, path: Path) -> Any:
        """Load a result file the child wrote, refusing anything that could hang or
        swamp the grader: links, pipes and devices, oversized or compressed members."""
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
        with os.fdopen(fd, "rb") as fh:
            info = os.fstat(fd)
            if not stat.S_ISREG(info.st_mode):
                raise ValueError("not a regular file")
            if info.st_size > (self.limits.mem_mb << 20):
                raise ValueError(f"{info.st_size:,} bytes, more than the memory limit")
            with zipfile.ZipFile(fh) as archive:
                for member in archive.infolist():
                    if member.compress_type != zipfile.ZIP_STORED or member.file_size > info.st_size:
                        raise ValueError(f"member {member.filename!r} is compressed or larger than the file")
            fh.seek(0)
            return codec.load(fh)

    # -- ending ------------------------------------------------------------------------
    def report(self) -> dict:
        """What the record says about the sandbox: isolation, output cut, background work."""
        return {**self.ready.get("sandbox", {}), "output": self.output.summary(),
                "calls": self.activity["calls"],
                "background_cpu_s": round(self.activity["idle_cpu_s"], 4),
                "between_calls_s": round(self.activity["idle_s"], 4),
                "processes_started": self.activity["processes"]}

    def kill(self) -> None:
        """SIGKILL the process group and every descendant (one that called setsid too)."""
        proc = getattr(self, "proc", None)
        if proc is None:
            return
        stragglers = _descendants(proc.pid)
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        _kill_all(stragglers)

    def close(self) -> None:
        proc = getattr(self, "proc", None)
        stragglers = _descendants(proc.pid) if proc is not None else []  # before an exit orphans them
        if proc is not None and proc.poll() is None:
            try:
                os.write(self._cmd_w, b'{"op": "exit"}\n')
                proc.wait(timeout=2)
            except (OSError, subprocess.TimeoutExpired):
                pass
        if proc is not None:
            self.kill()
            _kill_all(stragglers)
            proc.wait()
        for fd in (getattr(self, "_cmd_w", None), getattr(self, "_res_r", None)):
            if fd is not None:
                try:
                    os.close(fd)
                except OSError:
                    pass
        for folder in (getattr(self, "workdir", None), getattr(self, "inbox", None)):
            if folder is not None:
                shutil.rmtree(folder, ignore_errors=True)
        if self.guard and getattr(self, "numba_dir", None) is not None:
            try:
                self.numba_dir.rmdir()  # only when empty: a file that uses no numba leaves no trace
            except OSError:
                pass


def _kill_all(pids: list[int]) -> None:
    for pid in pids:
        try:
            os.kill(pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass


def _descendants(pid: int) -> list[int]:
    """Every live descendant of `pid`, from /proc (empty where there is no /proc)."""
    found, todo = [], [pid]
    while todo:
        parent = todo.pop()
        try:
            tasks = os.listdir(f"/proc/{parent}/task")
        except OSError:
            continue
        for tid in tasks:
            try:
                with open(f"/proc/{parent}/task/{tid}/children") as fh:
                    kids = [int(k) for k in fh.read().split()]
            except OSError:
                continue
            found += kids
            todo += kids
    return found


def _sane(reply: Any) -> dict:
    """A reply with the fields the grader reads, of the types it expects: a forged or
    broken reply must not crash the grader (TypeError/ValueError mean a garbled reply)."""
    if not isinstance(reply, dict) or reply.get("status") not in STATUSES:
        raise ValueError("not a reply")
    clean = dict(reply)
    clean["violations"] = [str(v)[:500] for v in _list(reply.get("violations"))]
    clean["mro"] = [str(v)[:200] for v in _list(reply.get("mro"))]
    for key in ("type", "message", "traceback"):
        if key in reply:
            clean[key] = str(reply[key])[:5000]
    for key in ("seconds", "idle_s", "idle_cpu_s", "startup_s", "load_s"):
        if key in reply:
            value = float(reply[key])
            if not math.isfinite(value):
                raise ValueError(f"{key} is {value}")
            clean[key] = value
    if reply["status"] == "ok" and "seconds" not in clean:
        raise ValueError("no time in an ok reply")
    clean["processes"] = int(reply.get("processes") or 0)
    clean["aliased"] = bool(reply.get("aliased"))
    digest = reply.get("input_digest")
    clean["input_digest"] = digest if isinstance(digest, str) else None
    sandbox = reply.get("sandbox")
    clean["sandbox"] = {str(k): str(v)[:500] for k, v in sandbox.items()} if isinstance(sandbox, dict) else {}
    return clean


def _list(value: Any) -> list:
    if value is None:
        return []
    if not isinstance(value, list):
        raise ValueError("expected a list")
    return value
