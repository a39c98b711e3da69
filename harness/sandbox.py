"""Run one solution file in a child process with limits, talk to it, and measure it from outside.

The child is a fresh interpreter in its own session, with CPU/address-space/file-size/open-file/
core limits (hard limits too, so it cannot raise them), a scrubbed environment and its output
captured and capped. Where bubblewrap works (harness/bubblewrap.py) every child, the timing
reference included, gets a private file system of its own; otherwise a submission's child enters
hand-made namespaces (harness/isolation.py) or, failing those, relies on the audit hook alone.
`Child.level` says which, and the record carries it.

The grader trusts nothing the child says about itself. It times each call on its own clock
(from the `go` it sends to the reply line it reads), reads the CPU of every thread and process
of the child from a cgroup or /proc (harness/accounting.py), counts the child's processes
itself, writes inputs the child can only map read-only, and reads results through a strictly
validated, bounded format (harness/transport.py). A child that dies, hangs, floods or garbles
its replies ends as a ChildDied for the grader, never as a hang or a grader crash.
"""
from __future__ import annotations

import json
import math
import os
import resource
import secrets
import select
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

from harness import ROOT, accounting, bubblewrap, jitcache, transport
from harness.bubblewrap import SandboxUnavailable
from harness.spec import Limits

CHILD = ROOT / "harness" / "child.py"
ENV_ALLOWLIST = ("PATH", "LANG", "LC_ALL", "TZ", "OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE", "SYSTEMROOT")
THREAD_VARS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMBA_NUM_THREADS",
               "VECLIB_MAXIMUM_THREADS", "NUMEXPR_NUM_THREADS")
# idle OpenMP workers sleep rather than spin, so honest code shows no CPU between calls
PASSIVE = {"OMP_WAIT_POLICY": "PASSIVE", "GOMP_SPINCOUNT": "0", "KMP_BLOCKTIME": "0"}
# the problems (references, oracles, examples), the LM problems' oracle, the drills' answers, the records
PROTECTED = [ROOT / "problems", ROOT / "tinylm", ROOT / "quiz", ROOT / "results", ROOT / "solutions"]
EXPORT_S = 10.0  # the most a child may take to send its Numba cache
MAX_REPLY_BYTES = 1 << 20  # a reply line is a few hundred bytes; more is a flood
STATUSES = ("ready", "load_error", "ok", "raised", "memory", "bad_output", "prepared", "cache")
LEVELS = ("bubblewrap", "namespaces", "audit-hook only")
SANDBOX_ENV = "SPARSEBENCH_SANDBOX"  # force a weaker level: "namespaces" or "audit-hook" (tests, comparisons)
REQUIRE_ENV = "SPARSEBENCH_REQUIRE_SANDBOX"  # "bubblewrap": refuse to grade with anything less (CI)


def cache_dir() -> Path:
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return base / "sparsebench"


def numba_cache(file: Path, guard: bool) -> Path:
    """References share one grader-owned cache (bound read-write into reference children only);
    a submission's child gets a fresh private one, inside its own work folder, gone with it, so
    nothing one submission compiles or stashes there reaches another submission (numba's own
    files go on only to the same file's next child: harness/jitcache.py)."""
    if not guard:
        return cache_dir() / "numba-ref"
    return Path(tempfile.gettempdir()) / f"sparsebench-numba-{secrets.token_hex(8)}"


def shared_cpus(threads: int) -> tuple[int, ...] | None:
    """The CPUs every child of a grade runs on: the last `threads` of those the grader may use,
    so the submission and the reference of a timed pair run on the same core(s) and neither is
    moved between cores. Unpinned on this 2-core machine, the ratios of pairs timed back to back
    on one input ranged 0.61-1.34 at spmv's 3e6 size; pinned, 0.89-1.11. None when the grader
    has no more CPUs than that (pinning would change nothing)."""
    allowed = sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else []
    return tuple(allowed[-threads:]) if threads >= 1 and len(allowed) > threads else None


def wanted_level() -> str:
    """The best isolation this machine allows for a submission, unless SPARSEBENCH_SANDBOX asks
    for less: "bubblewrap" when bwrap works here, else "namespaces" (what the child then gets
    is in its ready reply: it may end as "audit-hook only")."""
    forced = os.environ.get(SANDBOX_ENV, "")
    if forced.startswith("audit"):
        return "audit-hook only"
    if forced == "namespaces":
        return "namespaces"
    return "bubblewrap" if bubblewrap.probe()[0] else "namespaces"


def require(level: str) -> None:
    """Raise SandboxUnavailable when this run requires bubblewrap and `level` is less."""
    if os.environ.get(REQUIRE_ENV, "") == "bubblewrap" and level != "bubblewrap":
        why = bubblewrap.probe()[1] or f"{SANDBOX_ENV}={os.environ.get(SANDBOX_ENV)}"
        raise SandboxUnavailable(f"{REQUIRE_ENV}=bubblewrap, but this grade would run at level {level!r}: {why}")


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
        return printable(head.decode(errors="replace")) + middle + printable(tail.decode(errors="replace"))


@dataclass
class ChildDied(Exception):
    """The child ended without replying: crash, os._exit, a limit, or a kill."""

    reason: str  # "timeout" | "cpu" | "memory" | "crash" | "exit"
    detail: str
    output: str = ""


class Seen(NamedTuple):
    """What the grader saw around one command, on its own clock and from the child's cgroup.
    `wall_s` is what is ranked; cpu figures are None where nothing measures them."""

    prepare_s: float  # sending the inputs' names to the child's 'prepared' (inputs mapped, pages faulted)
    wall_s: float  # 'go' sent to the reply line read: the calls and the materialising of their results
    post_s: float  # the reply line to the result's last byte
    cpu_s: float | None  # the child's CPU over prepare, call and post (every thread and process)
    idle_s: float  # since the previous command ended
    idle_cpu_s: float | None  # the child's CPU over that idle time
    main_s: float | None = None  # of cpu_s and idle_cpu_s together, what the child's main thread used



@dataclass
class Child:
    """A running solution. Use as a context manager; `call` runs the entry function once, `run`
    on a batch of inputs back to back."""

    file: Path
    entry: str
    arity: int
    limits: Limits
    threads: int = 1
    guard: bool = True  # a submission: the strict view, the audit hook, a private Numba cache
    forbidden: tuple[str, ...] = ()
    extra_env: dict[str, str] = field(default_factory=dict)
    ready: dict = field(default_factory=dict)
    level: str | None = None  # None: the best available (wanted_level()); the record says what held
    meter_kind: str | None = None  # None: the best CPU accounting available (harness.accounting.meter)
    cpus: tuple[int, ...] | None = None  # run on these CPUs only (shared_cpus: both sides of a pair alike)

    def __enter__(self) -> Child:
        if getattr(self, "proc", None) is None:
            self.spawn()
        return self.wait_ready()

    def spawn(self) -> None:
        """Start the process without waiting for it to load (two children can start at once)."""
        wanted = self.level or wanted_level()
        self.bwrap = bubblewrap.probe()[0] if wanted == "bubblewrap" else None
        self.level = "bubblewrap" if self.bwrap else wanted
        if self.guard:
            require(self.level)
        self.bounds = transport.Bounds(max_bytes=max(self.limits.mem_mb, 1) << 20)
        self.inbox = Path(tempfile.mkdtemp(prefix="sparsebench-in-"))  # the child may read, never write
        self.inbox.chmod(0o755)
        self.workdir = None if self.bwrap else Path(tempfile.mkdtemp(prefix="sparsebench-"))
        if self.guard:  # private to this child, gone with its work folder
            self.numba_dir = Path(bubblewrap.TMP) / "numba-cache" if self.bwrap else self.workdir / "numba-cache"
        else:
            self.numba_dir = numba_cache(self.file, guard=False)
            self.numba_dir.mkdir(parents=True, exist_ok=True)
        self.meter = accounting.meter(self.meter_kind)
        self.activity = {"calls": 0, "idle_s": 0.0, "idle_cpu_s": 0.0, "processes": 0}
        self._calls = 0
        cmd_r, self._cmd_w = os.pipe()
        self._res_r, res_w = os.pipe()
        for fd in (self._res_r, self._cmd_w):
            _grow_pipe(fd)
        config = {"file": str(Path(self.file).resolve()), "entry": self.entry, "arity": self.arity,
                  "fd_in": cmd_r, "fd_out": res_w, "guard": self.guard,
                  "forbidden": list(self.forbidden) if self.guard else [],
                  "protected": [str(p) for p in PROTECTED], "bounds": {"max_bytes": self.bounds.max_bytes},
                  "isolate": self.guard and not self.bwrap and self.level == "namespaces",
                  "fresh_proc": bool(self.bwrap), "hook": True,
                  "writable": [str(bubblewrap.TMP if self.bwrap else self.workdir)],
                  "numba_dir": str(self.numba_dir),
                  # pinned once loaded (harness/child.py): two timing children load on two CPUs, not one
                  "cpus": list(self.cpus) if self.cpus else None,
                  "jit_seed": f"{bubblewrap.INBOX}/{jitcache.SEED}" if self.bwrap else str(self.inbox / jitcache.SEED)}
        command = [sys.executable, "-E", "-B", "-X", "faulthandler", str(CHILD), json.dumps(config)]
        if self.bwrap:
            view = bubblewrap.View(file=Path(self.file), inbox=self.inbox, trusted=not self.guard,
                                   writable=[] if self.guard else [self.numba_dir],
                                   forbidden=self.forbidden if self.guard else (),
                                   tmp_mb=min(512, max(64, self.limits.mem_mb // 4)))
            command = [self.bwrap, *view.args(), *command]
        try:
            self.proc = subprocess.Popen(
                command, cwd=self.workdir or "/", env=self._env(), stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT, pass_fds=(cmd_r, res_w), start_new_session=True, preexec_fn=self._limit)
        finally:
            os.close(cmd_r)
            os.close(res_w)
        self.meter.attach(self.proc.pid)
        self.output = CappedOutput(self.proc.stdout, self.limits.output_kb * 1024)
        self._buffer = b""

    def wait_ready(self) -> Child:
        """Wait for the started child to load its file and say it is ready."""
        self.ready = self._receive(timeout=max(60.0, self.limits.wall_s))
        # the sandbox's own processes: bwrap and its init, or isolation.py's supervisor and init; the
        # last of the line runs the submission. Anything else is a process the submission started.
        isolated = bool(self.bwrap) or "own PID" in str(self.ready.get("sandbox", {}).get("processes", ""))
        line = accounting.line_of_descent(self.proc.pid, 3 if isolated else 1)
        self._base, self._main = set(line), line[-1]
        if self.meter.kind != "none":
            started = self.meter.pids() - self._base
            self.ready["processes"] = max(self.ready.get("processes", 0), len(started))
        self._idle_from = (time.perf_counter(), self.meter.usage_ns(), self._main_ns())
        self._ready_usage = self._idle_from[1:]  # the child's CPU and its main thread's, when it was ready
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def _env(self) -> dict[str, str]:
        env = {k: os.environ[k] for k in ENV_ALLOWLIST if k in os.environ}
        env.update({k: str(self.threads) for k in THREAD_VARS})
        env.update(PASSIVE)
        home = bubblewrap.TMP if self.bwrap else str(self.workdir)
        env["HOME"] = home
        env["TMPDIR"] = home
        env["PYTHONHASHSEED"] = "0"
        env["PYTHONDONTWRITEBYTECODE"] = "1"
        env["NUMBA_CACHE_DIR"] = str(self.numba_dir)
        env.update(self.extra_env)
        return env

    def _limit(self) -> None:  # runs in the child between fork and exec
        self.meter.join()  # first: everything the child starts is counted
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
    def _fill(self, deadline: float, timeout: float) -> None:
        """Read more of the reply channel into the buffer, or raise the child's death."""
        left = deadline - time.monotonic()
        if left <= 0:
            self.kill()
            if timeout > self.limits.wall_s and self._calls == 1:  # a first call's allowance
                why = (f"no answer within {self.limits.wall_s:g} s (wall clock; a child's first call, which "
                       f"compiles, is allowed {timeout:g} s)")
            else:
                why = f"no answer within {timeout:g} s (wall clock)"
            raise ChildDied("timeout", why, self.output.text())
        ready, _, _ = select.select([self._res_r], [], [], min(left, 0.25))
        if not ready:
            if self.proc.poll() is not None:  # gone, though something it started holds the pipe
                raise self._death()
            return
        chunk = os.read(self._res_r, 1 << 20)
        if not chunk:
            raise self._death()
        self._buffer += chunk

    def _receive(self, timeout: float) -> dict:
        deadline = time.monotonic() + timeout
        while b"\n" not in self._buffer:
            self._fill(deadline, timeout)
            if len(self._buffer) > MAX_REPLY_BYTES:
                self.kill()
                raise ChildDied("crash", "flooded the reply channel", self.output.text())
        line, self._buffer = self._buffer.split(b"\n", 1)
        if len(line) > MAX_REPLY_BYTES:
            self.kill()
            raise ChildDied("crash", "flooded the reply channel", self.output.text())
        try:
            return _sane(json.loads(line))
        except (ValueError, TypeError, RecursionError) as exc:
            self.kill()
            raise ChildDied("crash", f"garbled reply from the child ({type(exc).__name__}: {str(exc)[:200]})",
                            self.output.text()) from None

    def _read_into(self, deadline: float, timeout: float):
        """A reader for transport.receive: fills each buffer from the reply channel, by the deadline."""
        def read_into(view: memoryview) -> None:
            while view:
                if not self._buffer:
                    self._fill(deadline, timeout)
                    continue
                n = min(len(view), len(self._buffer))
                view[:n] = self._buffer[:n]
                self._buffer = self._buffer[n:]
                view = view[n:]
        return read_into

    def _send(self, message: dict) -> None:
        try:
            os.write(self._cmd_w, (json.dumps(message) + "\n").encode())
        except BrokenPipeError:
            raise self._death() from None

    def _garbled(self, why: str) -> ChildDied:
        self.kill()
        return ChildDied("crash", f"garbled reply from the child ({why})", self.output.text())

    def _death(self) -> ChildDied:
        try:
            code = self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.kill()
            self.proc.wait()
            return ChildDied("crash", "closed its reply channel but kept running", self.output.text())
        self.kill()  # whatever it started goes too
        if self.bwrap and code > 128:  # bubblewrap passes a signal on as 128 + its number
            code = -(code - 128)
        if code < 0:
            try:
                sig = signal.Signals(-code)
            except ValueError:
                return ChildDied("crash", f"killed by signal {-code}", self.output.text())
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
        """Run the entry function on `args`; returns (reply, result or None, wall seconds on the
        grader's clock). `keep`: the child keeps the result under that name and sends nothing
        back; `on` and `method`: call that method of a kept object instead of the entry function.
        (`digest` is accepted for old callers: inputs are read-only now, nothing to hash.)"""
        reply, results, seen = self.run([args], keep=keep, on=on, method=method)
        return reply, (results[0] if results else None), seen.wall_s

    def run(self, batch: list, *, keep: str | None = None, on: str | None = None,
            method: str | None = None, staged: Path | None = None) -> tuple[dict, list | None, Seen]:
        """Call the entry function on each argument tuple in `batch`, back to back, in one timed
        command; returns (reply, results or None, what the grader saw). `staged`: the batch
        already written by `stage` (the timing phase gives both children one file)."""
        self._calls += 1
        self.activity["calls"] += len(batch)
        name = f"in{self._calls}.sbx"
        inp = self.inbox / name
        if staged is None or not self._link_input(inp, staged):
            self._write_input(inp, [tuple(a) for a in batch])
        t_idle, u_idle, m_idle = self._idle_from
        t_a, u_a = time.perf_counter(), self.meter.usage_ns()
        idle_cpu = _delta(u_idle, u_a)
        self.activity["idle_s"] += t_a - t_idle
        self.activity["idle_cpu_s"] += idle_cpu or 0.0
        self._send({"op": "prepare", "input": f"{bubblewrap.INBOX}/{name}" if self.bwrap else str(inp)})
        prepared = self._receive(timeout=self.limits.wall_s)
        t_b = time.perf_counter()
        inp.unlink(missing_ok=True)  # the child holds its mapping; the name goes
        if prepared["status"] != "prepared":
            raise self._garbled(f"answered {prepared['status']!r} to 'prepare'")
        go = (json.dumps({"op": "go", "keep": keep, "on": on, "method": method}) + "\n").encode()
        t0 = time.perf_counter()
        try:
            os.write(self._cmd_w, go)
        except BrokenPipeError:
            raise self._death() from None
        reply = self._receive(timeout=self._call_limit())
        t1 = time.perf_counter()
        if reply["status"] in ("ready", "load_error", "prepared", "cache"):
            raise self._garbled(f"answered {reply['status']!r} to 'go'")
        results = None
        if reply["status"] == "ok" and not keep:
            try:
                results = transport.receive(self._read_into(time.monotonic() + self.limits.wall_s, self.limits.wall_s),
                                            reply["payload"], self.bounds)
                if len(results) != len(batch):
                    raise transport.TransportError(f"{len(results)} results for {len(batch)} calls")
            except transport.TransportError as exc:
                self.kill()
                raise ChildDied("crash", f"a malformed result ({exc})", self.output.text()) from None
        t2, u_c, m_c = time.perf_counter(), self.meter.usage_ns(), self._main_ns()
        self._idle_from = (t2, u_c, m_c)
        new = self.meter.pids() - self._base
        if new:
            reply["processes"] = max(reply.get("processes", 0), len(new))
        self.activity["processes"] = max(self.activity["processes"], reply.get("processes", 0))
        return reply, results, Seen(t_b - t_a, t1 - t0, t2 - t1, _delta(u_a, u_c), t_a - t_idle, idle_cpu,
                                    _delta(m_idle, m_c))

    def seed_jit(self, files: dict[str, bytes]) -> None:
        """Hand a started child the same file's Numba cache (its first command copies it in)."""
        if self.guard and getattr(self, "inbox", None) is not None and self._calls == 0:
            jitcache.place(files, self.inbox)

    def export_jit(self) -> dict[str, bytes]:
        """The files of this child's Numba cache, checked and bounded (harness/jitcache.py), for
        the grade's next child of the same file; {} when there are none or the child answers
        anything else (it is then killed: the next child compiles again, the grade goes on)."""
        if not self.guard or getattr(self, "proc", None) is None or self.proc.poll() is not None:
            return {}
        try:
            self._send({"op": "export"})
            reply = self._receive(timeout=EXPORT_S)
            if reply["status"] != "cache":
                raise self._garbled("not a cache")
            values = transport.receive(self._read_into(time.monotonic() + EXPORT_S, EXPORT_S), reply["payload"],
                                       jitcache.BOUNDS)
        except (ChildDied, transport.TransportError):
            self.kill()
            return {}
        return jitcache.checked(values[0] if len(values) == 1 else None)

    FIRST_CALL_FACTOR = 4  # the first call of a child compiles (a submission's cache may start empty);
    # a scoring hook's call with its own wall-clock budget (Driver.call(wall_s=...)) sets `budget`: exact

    def _call_limit(self) -> float:
        """The wall-clock limit of this command: a child's first also holds its JIT compilation,
        from scratch for a submission, whose cache is private to the child."""
        first = self._calls == 1 and not getattr(self, "budget", False)
        return self.limits.wall_s * (self.FIRST_CALL_FACTOR if first else 1)

    def other_threads_cpu_s(self) -> float:
        """CPU its threads and processes other than the main thread used from ready to the end
        of its last call: with one declared thread an honest child has next to none (a thread
        left working, GIL-bound or not, shows here even when it hides from the between-calls
        view by holding the GIL while the main thread waits for it)."""
        (u0, m0), (_, u1, m1) = getattr(self, "_ready_usage", (None, None)), self._idle_from
        if None in (u0, m0, u1, m1):
            return 0.0
        return max(0.0, ((u1 - u0) - (m1 - m0)) / 1e9)

    def _main_ns(self) -> int | None:
        """Run time of the thread that runs the submission's calls (None where /proc cannot tell)."""
        return accounting.thread_ns(self._main) if self._main and self.meter.kind != "none" else None

    def _link_input(self, path: Path, staged: Path) -> bool:
        """A hard link to the staged file (one copy of the pages for both children, read-only to
        each); False where the file systems differ: then it is written again."""
        path.unlink(missing_ok=True)
        try:
            os.link(staged, path)
        except OSError:
            return False
        return True

    def _write_input(self, path: Path, batch: list) -> None:
        """A new file, never through a link the child may have planted in its place."""
        path.unlink(missing_ok=True)
        try:
            _write_new(path, batch)
        except OSError as exc:
            self.kill()
            raise ChildDied("crash", f"tampered with its input folder ({exc.strerror})", self.output.text()) from None

    # -- ending ------------------------------------------------------------------------
    def report(self) -> dict:
        """What the record says about the sandbox: the level and each aspect of it, the CPU
        accounting, output cut, and what the grader saw the child do between calls."""
        if self.bwrap:
            notes = {"network": "isolated (bubblewrap: own network namespace, only a down loopback)",
                     "filesystem": "read-only and private (bubblewrap): the interpreter, its libraries and harness/, "
                                   "its own file and inputs; a private tmpfs as /tmp; forbidden libraries absent; "
                                   "/dev: null, zero, full, random, urandom",
                     "processes": "own PID namespace (bubblewrap): everything the submission starts dies with "
                                  "the grade",
                     "user": f"uid {bubblewrap.INSIDE_UID} inside a user namespace, no capabilities, no new user "
                             "namespaces"}
        else:
            notes = dict(self.ready.get("sandbox", {}))
        level = self.level
        if not self.bwrap and (not notes or any(str(v).startswith("audit-hook") for v in notes.values())):
            level = "audit-hook only"
        cpus = f"pinned to CPU {', '.join(map(str, self.cpus))}, as every child of the grade" if self.cpus else \
            "not pinned"
        return {"level": level, **notes, "cpus": cpus, "cpu_accounting": self.meter.kind,
                "output": self.output.summary(),
                "calls": self.activity["calls"], "background_cpu_s": round(self.activity["idle_cpu_s"], 4),
                "between_calls_s": round(self.activity["idle_s"], 4),
                "processes_started": self.activity["processes"],
                "other_threads_cpu_s": round(self.other_threads_cpu_s(), 4)}

    def kill(self) -> None:
        """SIGKILL the process group, every descendant (one that called setsid too) and every
        process in the child's cgroup."""
        proc = getattr(self, "proc", None)
        if proc is None:
            return
        stragglers = accounting.descendants(proc.pid)
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        _kill_all(stragglers)
        self.meter.kill()

    def close(self) -> None:
        proc = getattr(self, "proc", None)
        stragglers = accounting.descendants(proc.pid) if proc is not None else []  # before an exit orphans them
        if proc is not None and proc.poll() is None and self.ready:  # one still loading is killed at once
            try:
                os.write(self._cmd_w, b'{"op": "exit"}\n')
                proc.wait(timeout=2)
            except (OSError, subprocess.TimeoutExpired):
                pass
        if proc is not None:
            self.kill()
            _kill_all(stragglers)
            proc.wait()
        if getattr(self, "meter", None) is not None:
            self.meter.close()
        for fd in (getattr(self, "_cmd_w", None), getattr(self, "_res_r", None)):
            if fd is not None:
                try:
                    os.close(fd)
                except OSError:
                    pass
        for folder in (getattr(self, "workdir", None), getattr(self, "inbox", None)):
            if folder is not None:
                remove_tree(folder)


class Staging:
    """A timed command's inputs, written once into the grader's `folder` for several children
    (Child.run(..., staged=) links it into each one's inbox; a 10^7-entry input is 120 MB), in
    one file rewritten in place command after command (the timing phase's, per size). The page
    cache keeps the file's pages; a new file per command takes new ones, and on a VM that hands
    freed memory back to its host each new page costs a host page fault (harness/heap.py): a
    10^7-entry spmv input took 41-92 ms to stage as a new file, 21 ms rewritten. The children let
    go of a command's mapping once they answer it (child.py), before the next is written; the
    folder is the grader's own. A submission that keeps an earlier command's arrays sees them
    change to the next input (and past a shortened end, its reads fault): a command's inputs are
    its own, so that can only turn a memo of answers into wrong answers, never a faster time."""

    def __init__(self, folder: Path):
        self.path = folder / f"staged-{secrets.token_hex(6)}.sbx"
        self._reserving: threading.Thread | None = None

    def reserve(self, nbytes: int) -> None:
        """Start giving the file `nbytes` of zeros in a background thread, while the first input
        it will hold is built (no child runs then); `write` waits for it. The page cache's pages
        for a size's file are then found while the grader builds, not after: on a VM that hands
        freed memory back to its host each new page costs a host page fault (harness/heap.py),
        and a 10^7-entry spmv input's 120 MB took 0.33 s to stage the first time, 13 ms after."""
        if nbytes <= 0 or self._reserving is not None:
            return
        self._reserving = threading.Thread(target=_zeros, args=(self.path, nbytes), daemon=True,
                                           name="sparsebench-staging")
        self._reserving.start()

    def write(self, batch: list) -> Path:
        """The file, holding `batch` now (and only it: the file is cut to its new length)."""
        if self._reserving is not None:
            self._reserving.join()
        fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_NOFOLLOW, 0o644)
        transport.write_file(fd, [tuple(a) for a in batch], transport.Bounds(max_bytes=1 << 62))
        return self.path

    def close(self) -> None:
        if self._reserving is not None:
            self._reserving.join()
        self.path.unlink(missing_ok=True)


def _zeros(path: Path, nbytes: int, chunk: int = 4 << 20) -> None:
    """`nbytes` of zeros at the start of the file at `path` (made if missing; never a link)."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_NOFOLLOW, 0o644)
    except OSError:
        return  # write() reports what is wrong with the folder
    try:
        zeros = bytes(chunk)
        for offset in range(0, nbytes, chunk):
            os.pwrite(fd, zeros[:min(chunk, nbytes - offset)], offset)
    except OSError:
        pass  # a full disk: write() says so
    finally:
        os.close(fd)


def _write_new(path: Path, batch: list) -> None:
    """The grader's own inputs, into a file that must not exist yet (never through a link)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o644)
    transport.write_file(fd, batch, transport.Bounds(max_bytes=1 << 62))


def _delta(before: int | None, after: int | None) -> float | None:
    return None if before is None or after is None else max(0, after - before) / 1e9


def _grow_pipe(fd: int) -> None:
    """A 1 MiB pipe buffer: results stream out in fewer, larger writes (where Linux allows)."""
    try:
        import fcntl

        fcntl.fcntl(fd, 1031, 1 << 20)  # F_SETPIPE_SZ
    except (ImportError, OSError):
        pass


def _kill_all(pids: list[int]) -> None:
    for pid in pids:
        try:
            os.kill(pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass


def remove_tree(path: Path) -> None:
    """Remove a folder the child wrote, whatever it left: any depth (no recursion, no path longer
    than a name), links never followed, unreadable folders made readable. Never raises."""
    try:
        top = os.open(path, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW)
    except OSError:
        return
    names: list[str] = []  # the folders entered below `path`, so each can be removed from its parent
    fd = top
    try:
        while True:
            sub = None
            try:
                entries = list(os.scandir(fd))
            except OSError:
                entries = []
            for entry in entries:
                try:
                    if entry.is_dir(follow_symlinks=False):
                        sub = entry.name
                        break
                    os.unlink(entry.name, dir_fd=fd)
                except OSError:
                    pass
            if sub is not None:
                try:
                    os.chmod(sub, 0o700, dir_fd=fd, follow_symlinks=False)
                except (OSError, NotImplementedError):
                    pass
                try:
                    child = os.open(sub, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW, dir_fd=fd)
                except OSError:
                    try:
                        os.rmdir(sub, dir_fd=fd)
                    except OSError:
                        return  # cannot enter nor remove it: leave the rest
                    continue
                names.append(sub)
                if fd != top:
                    os.close(fd)
                fd = child
                continue
            if not names:
                break
            parent = os.open("..", os.O_RDONLY | os.O_DIRECTORY, dir_fd=fd)
            os.close(fd)
            fd = parent
            try:
                os.rmdir(names.pop(), dir_fd=fd)
            except OSError:
                return
    except OSError:
        return
    finally:
        if fd != top:
            os.close(fd)
        os.close(top)
    try:
        os.rmdir(path)
    except OSError:
        pass


_CONTROL = {c: f"\\x{c:02x}" for c in range(32) if chr(c) not in "\n\t"} | {127: "\\x7f"}
_CONTROL |= {c: f"\\u{c:04x}" for c in range(0x80, 0xa0)}


def printable(text: str) -> str:
    """Submission text with control characters spelled out (\\x1b...), so an escape sequence in a
    message cannot repaint a terminal or a page."""
    return text.translate(_CONTROL)


def _sane(reply: Any) -> dict:
    """A reply with the fields the grader reads, of the types it expects: a forged or
    broken reply must not crash the grader (TypeError/ValueError mean a garbled reply)."""
    if not isinstance(reply, dict) or reply.get("status") not in STATUSES:
        raise ValueError("not a reply")
    clean = dict(reply)
    clean["violations"] = [printable(str(v)[:500]) for v in _list(reply.get("violations"))]
    clean["mro"] = [printable(str(v)[:200]) for v in _list(reply.get("mro"))]
    for key in ("type", "message", "traceback", "kept"):
        if key in reply:
            clean[key] = printable(str(reply[key])[:5000])
    for key in ("seconds", "startup_s", "load_s"):
        if key in reply:
            value = float(reply[key])
            if not math.isfinite(value):
                raise ValueError(f"{key} is {value}")
            clean[key] = value
    if reply["status"] == "ok" and "seconds" not in clean:
        raise ValueError("no time in an ok reply")
    for key in ("processes", "payload", "index", "n"):
        value = reply.get(key) or 0
        if type(value) is not int or value < 0:
            raise ValueError(f"{key} is not a count")
        clean[key] = value
    clean["aliased"] = bool(reply.get("aliased"))
    sandbox = reply.get("sandbox")
    clean["sandbox"] = {printable(str(k))[:100]: printable(str(v)[:500]) for k, v in sandbox.items()} \
        if isinstance(sandbox, dict) else {}
    return clean


def _list(value: Any) -> list:
    if value is None:
        return []
    if not isinstance(value, list):
        raise ValueError("expected a list")
    return value


__all__ = ["Child", "ChildDied", "Seen", "SandboxUnavailable", "remove_tree", "printable", "numba_cache", "Staging",
           "shared_cpus",
           "cache_dir", "wanted_level", "require"]
