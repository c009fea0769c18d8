"""Python thread stacks of a process, through py-spy.

py-spy has no Python API: its wheel ships only the executable, which we run
(`py-spy dump --pid PID --json [--nonblocking]`, `py-spy record -f raw`). It needs root or
CAP_SYS_PTRACE; from the host it reads a containerised process by its host pid.

Attaching is the caller's decision: nothing here runs on import or on a timer. Every function
that starts py-spy is blocking (dump: ~10-100 ms; record: its duration) and belongs in a worker.
By default py-spy runs with `--nonblocking` (the target is not paused; a stack may be torn);
`blocking=True` pauses the target while each sample is read.

Failures are typed (`StackError` subclasses) with a one-line message meant for the user.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from enum import StrEnum
from pathlib import Path
from typing import Any

from ctop_py import procfs
from ctop_py.errors import CtopError
from ctop_py.host import Gone, HostError, HostRoot, NoAccess, read_bytes, readlink
from ctop_py.model import ContainerRaw, Process

DUMP_TIMEOUT_S = 15.0
# py-spy prints a Rust backtrace under RUST_BACKTRACE=1: we want its message only.
_ENV_OVERRIDES = {"RUST_BACKTRACE": "0", "RUST_LIB_BACKTRACE": "0"}
_PYTHON_NAME = re.compile(r"^(python|pypy)[0-9.]*[a-z]?$|^python[0-9.]*-dbg$", re.IGNORECASE)


# ---------------------------------------------------------------------------------------------
# Errors


class StackErrorKind(StrEnum):
    PY_SPY_MISSING = "py-spy-missing"
    NOT_PYTHON = "not-python"
    NO_PERMISSION = "no-permission"
    GONE = "gone"
    FAILED = "failed"


class StackError(CtopError):
    """py-spy could not show this process's stacks; str() is one line for the user."""

    kind = StackErrorKind.FAILED

    def __init__(self, message: str, pid: int | None = None) -> None:
        self.pid = pid
        self.message = message
        super().__init__(message)


class PySpyNotFound(StackError):
    kind = StackErrorKind.PY_SPY_MISSING


class NotPython(StackError):
    kind = StackErrorKind.NOT_PYTHON


class NoPermission(StackError):
    kind = StackErrorKind.NO_PERMISSION


class ProcessGone(StackError):
    kind = StackErrorKind.GONE


class PySpyFailed(StackError):
    kind = StackErrorKind.FAILED


# ---------------------------------------------------------------------------------------------
# Records


@dataclass(frozen=True)
class Frame:
    name: str  # function
    filename: str
    short_filename: str | None
    module: str | None
    line: int  # 0 when unknown
    is_entry: bool = False


@dataclass(frozen=True)
class ThreadStack:
    thread_id: int  # the pthread id py-spy reports
    os_thread_id: int | None  # the TID inside the process's pid namespace (1 = main in a ctr)
    name: str | None  # threading name when py-spy can read it
    active: bool  # False = idle (waiting in a lock, sleep, I/O)
    owns_gil: bool
    frames: tuple[Frame, ...]  # innermost (running) frame first, as py-spy prints them
    host_tid: int | None = None  # the TID in the host's pid namespace, when matched
    os_state: str | None = None  # R, S, D, … from /proc/PID/task/TID/stat, when matched

    @property
    def top(self) -> Frame | None:
        return self.frames[0] if self.frames else None


@dataclass(frozen=True)
class ProcessStacks:
    pid: int  # host pid
    pid_in_container: int | None
    comm: str | None
    cmdline: tuple[str, ...]
    threads: tuple[ThreadStack, ...]
    blocking: bool  # whether the target was paused while read

    @property
    def gil_holder(self) -> ThreadStack | None:
        return next((t for t in self.threads if t.owns_gil), None)


@dataclass(frozen=True)
class CollapsedStack:
    """One line of `py-spy record -f raw`: frames outermost first, and how many samples."""

    frames: tuple[Frame, ...]
    count: int


@dataclass(frozen=True)
class HotFunction:
    name: str
    filename: str | None
    self_samples: int  # samples where it was the running frame
    total_samples: int  # samples where it was anywhere on the stack


@dataclass(frozen=True)
class Profile:
    pid: int
    duration_s: float
    rate_hz: int
    samples: int
    stacks: tuple[CollapsedStack, ...]
    hottest: tuple[HotFunction, ...]


@dataclass(frozen=True)
class StackOutcome:
    """One process of a container: its stacks, or why there are none (for a list view)."""

    pid: int
    comm: str | None
    stacks: ProcessStacks | None
    error: StackError | None


# ---------------------------------------------------------------------------------------------
# Parsers (pure)


def parse_dump_json(text: str, pid: int | None = None) -> tuple[ThreadStack, ...]:
    """`py-spy dump --json` output: a list of threads, each with frames innermost first."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise PySpyFailed(f"py-spy printed unparsable JSON: {exc}", pid) from None
    if not isinstance(data, list):
        raise PySpyFailed("py-spy JSON is not a list of threads", pid)
    try:
        return tuple(_thread(t) for t in data)
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise PySpyFailed(f"py-spy JSON has an unexpected shape: {exc!r}", pid) from None


def _thread(t: dict[str, Any]) -> ThreadStack:
    os_tid = t.get("os_thread_id")
    return ThreadStack(
        thread_id=int(t["thread_id"]),
        os_thread_id=None if os_tid is None else int(os_tid),
        name=t.get("thread_name"),
        active=bool(t.get("active")),
        owns_gil=bool(t.get("owns_gil")),
        frames=tuple(
            Frame(
                name=str(f["name"]),
                filename=str(f["filename"]),
                short_filename=f.get("short_filename"),
                module=f.get("module"),
                line=int(f.get("line") or 0),
                is_entry=bool(f.get("is_entry")),
            )
            for f in t.get("frames", ())
        ),
    )


# "name (file:line)", "name (file)" or a bare "name" (py-spy's flamegraph.rs).
_RAW_FRAME = re.compile(r"^(?P<name>.*?) \((?P<file>.*?)(?::(?P<line>\d+))?\)$", re.DOTALL)


def parse_raw_frame(text: str) -> Frame:
    m = _RAW_FRAME.match(text)
    if m is None:
        return Frame(text, "", None, None, 0)
    filename = m["file"]
    return Frame(m["name"], filename, filename, None, int(m["line"] or 0))


def parse_collapsed(text: str) -> tuple[CollapsedStack, ...]:
    """`py-spy record -f raw` output: `outer (f.py:1);inner (f.py:2) 42` per line."""
    stacks = []
    for line in text.splitlines():
        stack, _, count = line.rstrip().rpartition(" ")
        if not stack or not count.isdigit():
            continue
        stacks.append(CollapsedStack(tuple(map(parse_raw_frame, stack.split(";"))), int(count)))
    return tuple(stacks)


def hottest(stacks: Iterable[CollapsedStack], limit: int = 20) -> tuple[HotFunction, ...]:
    """Functions by samples as the running frame (self), then anywhere on the stack (total).
    A function (name, file) is counted once per sample however deep it recurses."""
    own: Counter[tuple[str, str | None]] = Counter()
    total: Counter[tuple[str, str | None]] = Counter()
    for s in stacks:
        keys = [(f.name, f.filename or None) for f in s.frames]
        if keys:
            own[keys[-1]] += s.count
        for key in set(keys):
            total[key] += s.count
    ranked = sorted(total, key=lambda k: (-own[k], -total[k], k[0], k[1] or ""))
    return tuple(HotFunction(k[0], k[1], own[k], total[k]) for k in ranked[:limit])


def classify_failure(stderr: str, pid: int) -> StackError:
    """A py-spy failure as a typed error, from what py-spy printed."""
    text = stderr.strip()
    lower = text.lower()
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
    errors = [ln.removeprefix("Error:").strip() for ln in lines if ln.startswith("Error:")]
    summary = errors[0] if errors else (lines[0] if lines else "py-spy failed")
    if "permission denied" in lower or "operation not permitted" in lower:
        return NoPermission(
            f"pid {pid}: permission denied: py-spy needs root or CAP_SYS_PTRACE", pid
        )
    if "no such process" in lower:
        return ProcessGone(f"pid {pid}: the process is gone", pid)
    if "failed to find python version" in lower or "failed to find a python interpreter" in lower:
        return NotPython(f"pid {pid}: not a Python process ({summary})", pid)
    return PySpyFailed(f"pid {pid}: py-spy: {summary}", pid)


# ---------------------------------------------------------------------------------------------
# Finding py-spy and Python processes


def find_py_spy() -> Path:
    """The py-spy executable installed with ctop-py (next to the interpreter), else on PATH."""
    beside = Path(sys.executable).parent / "py-spy"
    if beside.is_file() and os.access(beside, os.X_OK):
        return beside
    found = shutil.which("py-spy")
    if found:
        return Path(found)
    raise PySpyNotFound("py-spy is not installed (pip install py-spy)")


def is_python(comm: str | None, cmdline: Sequence[str], exe: str | None = None) -> bool:
    """comm, exe or argv[0] named like python3, python3.11, pypy3."""
    names = [comm or "", os.path.basename(exe or "")]
    if cmdline:
        names.append(os.path.basename(cmdline[0]))
    return any(_PYTHON_NAME.match(n) for n in names if n)


def _exe(root: HostRoot, pid: int) -> str | None:
    try:
        return readlink(root.proc / str(pid) / "exe").removesuffix(" (deleted)")
    except HostError:
        return None


def python_processes(root: HostRoot, processes: Iterable[Process]) -> list[Process]:
    """The Python interpreters among `processes` (by comm, argv[0], or /proc/PID/exe)."""
    return [
        p
        for p in processes
        if is_python(p.comm, p.cmdline) or is_python(None, (), _exe(root, p.pid))
    ]


# ---------------------------------------------------------------------------------------------
# Running py-spy


def _run(
    py_spy: Path, args: list[str], pid: int, timeout: float
) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, **_ENV_OVERRIDES}
    try:
        return subprocess.run(
            [str(py_spy), *args],
            capture_output=True,
            text=True,
            errors="surrogateescape",
            timeout=timeout,
            env=env,
            stdin=subprocess.DEVNULL,
        )
    except subprocess.TimeoutExpired:
        raise PySpyFailed(f"pid {pid}: py-spy did not answer within {timeout:g} s", pid) from None
    except OSError as exc:
        raise PySpyNotFound(f"cannot run {py_spy}: {exc.strerror or exc}", pid) from None


def _check_alive(root: HostRoot, pid: int) -> None:
    if not (root.proc / str(pid)).is_dir():
        raise ProcessGone(f"pid {pid}: no such process", pid)


def _about(root: HostRoot, pid: int) -> tuple[str | None, tuple[str, ...], int | None]:
    try:
        p = procfs.read_process(root, pid)
    except HostError:
        return None, (), None
    return p.comm, p.cmdline, p.pid_in_container


def dump(
    pid: int,
    *,
    root: HostRoot | None = None,
    blocking: bool = False,
    py_spy: Path | None = None,
    timeout: float = DUMP_TIMEOUT_S,
) -> ProcessStacks:
    """Every Python thread's stack in process `pid` (a host pid). Blocking call.

    `root` names the proc the pid belongs to (for comm, cmdline and the in-container pid);
    py-spy itself always looks at the kernel it runs on. Raises a StackError subclass."""
    root = root or HostRoot()
    exe = py_spy or find_py_spy()
    _check_alive(root, pid)
    comm, cmdline, nspid = _about(root, pid)
    states = thread_states(root, pid)
    args = ["dump", "--pid", str(pid), "--json"]
    if not blocking:
        args.append("--nonblocking")
    done = _run(exe, args, pid, timeout)
    if done.returncode != 0:
        raise _failure(root, done.stderr, pid)
    threads = with_thread_states(parse_dump_json(done.stdout, pid), states)
    return ProcessStacks(pid, nspid, comm, cmdline, threads, blocking)


def thread_states(root: HostRoot, pid: int) -> dict[int, tuple[int, str]]:
    """TID in the process's own pid namespace -> (host TID, state letter), for every thread.

    py-spy's os_thread_id is the TID inside the container, while py-spy looks thread states
    up by host TID: for a containerised process it misses and calls every thread "active".
    /proc/PID/task/TID/status has NSpid (host TID first, innermost last)."""
    task = root.proc / str(pid) / "task"
    try:
        tids = [int(n) for n in os.listdir(task) if n.isdigit()]
    except OSError:
        return {}
    states = {}
    for tid in tids:
        base = task / str(tid)
        try:
            stat = procfs.parse_stat(read_bytes(base / "stat"), str(base / "stat"))
            status = procfs.parse_status(read_bytes(base / "status"), str(base / "status"))
        except HostError:
            continue
        inner = status.nspid[-1] if status.nspid else tid
        states[inner] = (tid, stat.state)
    return states


def with_thread_states(
    threads: Iterable[ThreadStack], states: dict[int, tuple[int, str]]
) -> tuple[ThreadStack, ...]:
    """Attach host TID and OS state; a thread py-spy called active is idle unless running (R).
    py-spy's "idle" (its own OS lookup, or its heuristics) is kept."""
    result = []
    for t in threads:
        found = states.get(t.os_thread_id) if t.os_thread_id is not None else None
        if found is None:
            result.append(t)
            continue
        host_tid, state = found
        active = t.active and state == "R"
        result.append(replace(t, active=active, host_tid=host_tid, os_state=state))
    return tuple(result)


def _failure(root: HostRoot, stderr: str, pid: int) -> StackError:
    if not (root.proc / str(pid)).is_dir():
        return ProcessGone(f"pid {pid}: the process exited", pid)
    return classify_failure(stderr, pid)


def record(
    pid: int,
    duration_s: int = 2,
    *,
    rate_hz: int = 100,
    root: HostRoot | None = None,
    blocking: bool = False,
    idle: bool = False,
    gil_only: bool = False,
    limit: int = 20,
    py_spy: Path | None = None,
) -> Profile:
    """Sample `pid` for `duration_s` seconds (`py-spy record -f raw`): the collapsed stacks and
    the hottest functions. Blocking for the whole duration. Raises a StackError subclass.

    py-spy leaves idle threads out unless `idle`; but for a process in a container it cannot
    tell idle threads (see `thread_states`), so sleeping threads are sampled too.
    `gil_only` keeps only samples of the thread holding the GIL (`py-spy --gil`)."""
    root = root or HostRoot()
    exe = py_spy or find_py_spy()
    if duration_s < 1:
        raise ValueError("py-spy records whole seconds (duration_s >= 1)")
    _check_alive(root, pid)
    with tempfile.TemporaryDirectory(prefix="ctop-py-spy-") as tmp:
        out = Path(tmp) / "raw.txt"
        args = ["record", "--pid", str(pid), "--duration", str(duration_s)]
        args += ["--rate", str(rate_hz), "--format", "raw", "--output", str(out)]
        if not blocking:
            args.append("--nonblocking")
        if idle:
            args.append("--idle")
        if gil_only:
            args.append("--gil")
        done = _run(exe, args, pid, duration_s + DUMP_TIMEOUT_S)
        if done.returncode != 0 or not out.exists():
            raise _failure(root, done.stderr + done.stdout, pid)
        stacks = parse_collapsed(out.read_text("utf-8", "surrogateescape"))
    return Profile(
        pid=pid,
        duration_s=float(duration_s),
        rate_hz=rate_hz,
        samples=sum(s.count for s in stacks),
        stacks=stacks,
        hottest=hottest(stacks, limit),
    )


def container_processes(
    root: HostRoot, container: ContainerRaw, processes: Iterable[Process] | None = None
) -> list[Process]:
    """The container's processes, from a sample's list or read now from proc."""
    wanted = set(container.pids)
    if processes is not None:
        return [p for p in processes if p.pid in wanted]
    found = []
    reader = procfs.ProcessReader(root)
    for pid in sorted(wanted):
        try:
            found.append(reader.read(pid))
        except (Gone, NoAccess):
            continue
    return found


def dump_container(
    root: HostRoot,
    container: ContainerRaw,
    processes: Iterable[Process] | None = None,
    *,
    blocking: bool = False,
    py_spy: Path | None = None,
) -> tuple[StackOutcome, ...]:
    """Dump every Python process of a container (one py-spy run each). Blocking.

    Raises NotPython when the container has no Python process and PySpyNotFound when py-spy
    is missing; per-process failures are StackOutcome.error."""
    exe = py_spy or find_py_spy()
    candidates = python_processes(root, container_processes(root, container, processes))
    if not candidates:
        raise NotPython(f"no Python process in container {container.name}")
    outcomes = []
    for p in candidates:
        try:
            stacks = dump(p.pid, root=root, blocking=blocking, py_spy=exe)
            outcomes.append(StackOutcome(p.pid, p.comm, stacks, None))
        except (NotPython, ProcessGone, NoPermission, PySpyFailed) as exc:
            outcomes.append(StackOutcome(p.pid, p.comm, None, exc))
    return tuple(outcomes)
