"""Run one solution file in a child process with limits, and talk to it.

The child is a fresh interpreter in its own session (so the whole process group can
be killed), with CPU/address-space/file-size/open-file/core limits, a scrubbed
environment, a temporary working folder, and its output captured and capped.
"""
from __future__ import annotations

import json
import os
import resource
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from harness import ROOT, codec
from harness.spec import Limits

CHILD = ROOT / "harness" / "child.py"
ENV_ALLOWLIST = ("PATH", "LANG", "LC_ALL", "TZ", "OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE", "SYSTEMROOT")
THREAD_VARS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMBA_NUM_THREADS",
               "VECLIB_MAXIMUM_THREADS", "NUMEXPR_NUM_THREADS")
PROTECTED = [ROOT / "solutions" / "reference", ROOT / "solutions" / "baselines", ROOT / "problems",
             ROOT / "results"]


def cache_dir() -> Path:
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return base / "sparsebench"


class CappedOutput:
    """Keeps the first and last `limit` bytes of a stream and counts what was cut."""

    def __init__(self, stream, limit: int):
        self.head = bytearray()
        self.tail = bytearray()
        self.total = 0
        self.limit = limit
        self._thread = threading.Thread(target=self._drain, args=(stream,), daemon=True)
        self._thread.start()

    def _drain(self, stream) -> None:
        while chunk := stream.read(65536):
            self.total += len(chunk)
            room = self.limit - len(self.head)
            if room > 0:
                self.head += chunk[:room]
                chunk = chunk[room:]
            self.tail = (self.tail + chunk)[-self.limit:]

    def text(self) -> str:
        self._thread.join(timeout=2)
        cut = self.total - len(self.head) - len(self.tail)
        middle = f"\n[... {cut} bytes cut ...]\n" if cut > 0 else ""
        return (bytes(self.head).decode(errors="replace") + middle + bytes(self.tail).decode(errors="replace"))


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
    guard: bool = True  # submissions: forbidden imports, protected paths, no subprocesses
    forbidden: tuple[str, ...] = ()
    extra_env: dict[str, str] = field(default_factory=dict)
    ready: dict = field(default_factory=dict)

    def __enter__(self) -> "Child":
        self.workdir = Path(tempfile.mkdtemp(prefix="sparsebench-"))
        cmd_r, self._cmd_w = os.pipe()
        self._res_r, res_w = os.pipe()
        config = {"file": str(Path(self.file).resolve()), "entry": self.entry, "arity": self.arity,
                  "fd_in": cmd_r, "fd_out": res_w, "guard": self.guard, "forbidden": list(self.forbidden),
                  "protected": [str(p) for p in PROTECTED]}
        self.proc = subprocess.Popen(
            [sys.executable, "-E", "-X", "faulthandler", str(CHILD), json.dumps(config)],
            cwd=self.workdir, env=self._env(), stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT, pass_fds=(cmd_r, res_w), start_new_session=True,
            preexec_fn=self._limit)
        os.close(cmd_r)
        os.close(res_w)
        self.output = CappedOutput(self.proc.stdout, self.limits.output_kb * 1024)
        self._buffer = b""
        self._calls = 0
        self.ready = self._receive(timeout=max(60.0, self.limits.wall_s))
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
        role = "sub" if self.guard else "ref"
        env["NUMBA_CACHE_DIR"] = str(cache_dir() / f"numba-{role}")
        env.update(self.extra_env)
        return env

    def _limit(self) -> None:  # runs in the child between fork and exec
        mem = self.limits.mem_mb << 20
        cpu = int(self.limits.cpu_s)
        for what, value in [(resource.RLIMIT_AS, mem), (resource.RLIMIT_CPU, cpu),
                            (resource.RLIMIT_FSIZE, 4 << 30), (resource.RLIMIT_CORE, 0),
                            (resource.RLIMIT_NOFILE, 256)]:
            soft, hard = resource.getrlimit(what)
            cap = value if hard == resource.RLIM_INFINITY else min(value, hard)
            resource.setrlimit(what, (cap, hard if what != resource.RLIMIT_CPU else cap + 5))

    def _receive(self, timeout: float) -> dict:
        deadline = time.monotonic() + timeout
        while b"\n" not in self._buffer:
            left = deadline - time.monotonic()
            if left <= 0:
                self.kill()
                raise ChildDied("timeout", f"no answer within {timeout:g} s (wall clock)", self.output.text())
            ready, _, _ = select.select([self._res_r], [], [], left)
            if not ready:
                continue
            chunk = os.read(self._res_r, 1 << 16)
            if not chunk:
                raise self._death()
            self._buffer += chunk
        line, self._buffer = self._buffer.split(b"\n", 1)
        try:
            return json.loads(line)
        except json.JSONDecodeError as exc:
            self.kill()
            raise ChildDied("crash", f"garbled reply from the child ({exc})", self.output.text()) from None

    def _death(self) -> ChildDied:
        try:
            code = self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.kill()
            code = self.proc.wait()
        self.kill()
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

    def call(self, args: Any, *, digest: bool = True, keep: str | None = None, on: str | None = None,
             method: str | None = None) -> tuple[dict, Any, float]:
        """Run the entry function on `args`; returns (reply, result or None, wall seconds).
        `keep`: the child keeps the result under that name and sends nothing back; `on` and
        `method`: call that method of a kept object instead of the entry function."""
        self._calls += 1
        inp = self.workdir / f"in{self._calls}.npz"
        out = self.workdir / f"out{self._calls}.npz"
        codec.save(inp, args)
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
        result = None
        if reply.get("status") == "ok" and not keep:
            try:
                result = codec.load(out)
            except Exception as exc:  # noqa: BLE001 - a child that wrote garbage
                reply = {"status": "bad_output", "message": f"unreadable result file: {exc}"}
            out.unlink(missing_ok=True)
        return reply, result, wall

    def kill(self) -> None:
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass

    def close(self) -> None:
        if getattr(self, "proc", None) is not None and self.proc.poll() is None:
            try:
                os.write(self._cmd_w, b'{"op": "exit"}\n')
                self.proc.wait(timeout=2)
            except (OSError, subprocess.TimeoutExpired):
                pass
        if getattr(self, "proc", None) is not None:
            self.kill()
            self.proc.wait()
        for fd in (getattr(self, "_cmd_w", None), getattr(self, "_res_r", None)):
            if fd is not None:
                try:
                    os.close(fd)
                except OSError:
                    pass
        shutil.rmtree(getattr(self, "workdir", ""), ignore_errors=True)
