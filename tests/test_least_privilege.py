"""As a non-root user: every command runs or fails in one line, shows what it can (cgroup
files are world-readable), and says plainly what needs root."""

from __future__ import annotations

import atexit
import contextlib
import functools
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import sysconfig
import tempfile
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from tests.appscript import app_script
from tests.conftest import (
    BASE_IMAGE,
    LAYERED_IMAGE,
    REPO,
    SLEEP,
    SPIN,
    RunContainer,
    deadline_s,
    require,
    wait_for,
)

pytestmark = pytest.mark.docker
NOBODY = 65534


def _nobody_command(python: str, paths: list[str]) -> list[str]:
    bindir = os.path.dirname(sys.executable)  # the venv's bin: py-spy, as root would find it
    return [
        "setpriv", f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups",
        "env", "HOME=/tmp", f"PATH={bindir}:/usr/bin:/bin", f"PYTHONPATH={':'.join(paths)}",
        "PYTHONDONTWRITEBYTECODE=1", python,
    ]  # fmt: skip


def _works(command: list[str]) -> bool:
    probe = subprocess.run([*command, "-c", "import ctop_py.cli"], capture_output=True)
    return probe.returncode == 0


@functools.cache
def nobody_python() -> list[str]:
    """A command line that runs this project's code as nobody. When nobody cannot read the
    interpreter or the venv (e.g. under a 0700 home), a world-readable copy of the project and
    its site-packages is made in a temporary directory (removed at exit)."""
    require(os.geteuid() == 0, "running as nobody needs root (setpriv)")
    require(shutil.which("setpriv") is not None, "setpriv is not installed (util-linux)")
    site = [sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]]
    pythons = [os.path.realpath(sys.executable), "/usr/bin/python3"]
    for python in pythons:
        command = _nobody_command(python, [str(REPO), *dict.fromkeys(site)])
        if _works(command):
            return command
    copy = Path(tempfile.mkdtemp(prefix="ctop-nobody-"))
    atexit.register(shutil.rmtree, copy, True)
    shutil.copytree(REPO / "ctop_py", copy / "ctop_py")
    for path in dict.fromkeys(site):
        shutil.copytree(path, copy / "site", dirs_exist_ok=True, symlinks=True)
    base = Path(sys.base_prefix)
    if not any(os.access(p, os.X_OK) and not str(p).startswith("/root") for p in pythons):
        shutil.copytree(base, copy / "python", symlinks=True)
        pythons.insert(0, str(copy / "python" / "bin" / Path(sys.executable).name))
    subprocess.run(["chmod", "-R", "go+rX", str(copy)], check=True)
    for python in pythons:
        command = _nobody_command(python, [str(copy), str(copy / "site")])
        if _works(command):
            return command
    raise AssertionError("no interpreter runs this project as nobody, even from a copy")


def as_nobody(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*nobody_python(), "-m", "ctop_py", *args],
        capture_output=True,
        text=True,
        timeout=deadline_s(120),
        cwd="/",
    )


def no_traceback(result: subprocess.CompletedProcess[str]) -> None:
    assert "Traceback" not in result.stderr, result.stderr


def test_unprivileged_user(run_container: RunContainer, docker_client: Any) -> None:
    ctr = run_container(BASE_IMAGE, SPIN, nano_cpus=100_000_000, pids_limit=33)
    snap = as_nobody("snapshot", "--json", "--interval", "0.5")
    no_traceback(snap)
    assert snap.returncode == 0, snap.stderr
    data = json.loads(snap.stdout)
    found = {c["id"]: c for c in data["containers"]}[ctr.id]
    # The kernel's cgroup files are world-readable: limits and usage are all there.
    assert found["limits"]["cpu_quota_cores"] == pytest.approx(0.1)
    assert found["limits"]["pids_max"] == 33
    assert found["throttling"]["throttled_percent"] > 0
    assert found["name"] == ctr.id[:12]  # the socket is root's: ids, not names
    assert "needs root or the docker group" in data["engines"]["docker"]
    assert any("needs root" in n for n in data["notes"])

    table = as_nobody("snapshot", "--interval", "0.2")
    no_traceback(table)
    assert table.returncode == 0 and ctr.id[:12] in table.stdout
    assert "needs root or the docker group" in table.stderr
    assert "namespaces of other users' processes: permission denied (needs root)" in table.stderr

    ns = as_nobody("ns")
    no_traceback(ns)
    assert ns.returncode == 0 and "need root" in ns.stderr

    short = ctr.id[:12]
    # Each command has one right outcome as nobody: exit 0 with what it could read and a
    # warning of what needs root, or exit 2 with one line saying what needs root.
    layers = as_nobody("layers", short, "--json")
    no_traceback(layers)
    assert layers.returncode == 0, layers.stderr
    graph = docker_client.api.inspect_container(ctr.id)["GraphDriver"]["Data"]
    stack = json.loads(layers.stdout)  # mapped from the world-readable mountinfo of pid 1
    assert stack["upper"]["path"] == graph["UpperDir"]
    # …but the short l/ links are not resolvable without root: count them (init included).
    lowers = len(stack["lowers"]) + (stack["init"] is not None)
    assert lowers == len(graph["LowerDir"].split(":"))
    assert "/var/lib/docker is unreadable: image layer metadata needs root" in stack["warnings"]
    assert layers.stderr == "note: the container layer is unreadable (needs root)\n"
    expected = {
        ("layers", short, "--changes"): "permission denied (reading layer directories needs root)",
        ("net", short): "Permission denied (entering a network namespace needs root)",
        ("stacks", short): f"no Python process in container {short}",  # sh spins
    }
    for command, message in expected.items():
        result = as_nobody(*command)
        no_traceback(result)
        assert result.returncode == 2, (command, result.stdout, result.stderr)
        assert result.stdout == "", command
        (line,) = result.stderr.strip().splitlines()
        assert message in line, (command, line)
    unknown = as_nobody("layers", ctr.name)
    assert "names are unknown" in unknown.stderr and "docker group" in unknown.stderr


# Every syscall that writes a file or changes its metadata (open* are checked for write flags).
CHANGES = (
    "unlink",
    "unlinkat",
    "rename",
    "renameat",
    "renameat2",
    "mkdir",
    "mkdirat",
    "rmdir",
    "truncate",
    "ftruncate",
    "chmod",
    "fchmod",
    "fchmodat",
    "chown",
    "fchown",
    "lchown",
    "fchownat",
    "setxattr",
    "lsetxattr",
    "fsetxattr",
    "removexattr",
    "lremovexattr",
    "fremovexattr",
    "link",
    "linkat",
    "symlink",
    "symlinkat",
    "utime",
    "utimes",
    "futimesat",
    "utimensat",
    "mknod",
    "mknodat",
)
WRITE_FLAGS = ("O_WRONLY", "O_RDWR", "O_CREAT", "O_TRUNC", "O_APPEND")
# Where a write is harmless: the test's own temporary directory and the terminal/null devices.
HARMLESS = ("/dev/null", "/dev/tty", "/dev/pts/", "pipe:", "socket:", "anon_inode:")
_CALL = re.compile(r"^(?:\[pid +\d+\] |\d+ +)?(\w+)\((.*)\) += (-?\d+)(?:<([^>]*)>)?")
_FD = re.compile(r"^(?:AT_FDCWD|-?\d+)<([^>]*)>")


def traced(argv: list[str], tmp: Path, timeout: float = 120) -> tuple[int, list[str]]:
    """Run argv under strace -f -y; return its exit status and every line of every process."""
    out = tmp / "strace"
    env = {**os.environ, "HOME": str(tmp), "XDG_CACHE_HOME": str(tmp), "TMPDIR": str(tmp),
           "PYTHONDONTWRITEBYTECODE": "1"}  # fmt: skip
    result = subprocess.run(
        ["strace", "-f", "-y", "-qq", "-s", "4096", "-o", str(out),
         "-e", "trace=open,openat,openat2,creat," + ",".join(CHANGES), *argv],
        capture_output=True, text=True, timeout=deadline_s(timeout), env=env, cwd=tmp,
    )  # fmt: skip
    lines = out.read_text(errors="replace").splitlines()
    out.unlink()
    return result.returncode, lines


def traced_exporter(argv: list[str], tmp: Path, url: str) -> list[str]:
    """The exporter under strace: scraped once it serves, then stopped with SIGTERM."""
    out = tmp / "strace"
    tracer = subprocess.Popen(
        ["strace", "-f", "-y", "-qq", "-s", "4096", "-o", str(out),
         "-e", "trace=open,openat,openat2,creat," + ",".join(CHANGES), *argv],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=tmp,
        env={**os.environ, "HOME": str(tmp), "PYTHONDONTWRITEBYTECODE": "1"},
    )  # fmt: skip
    try:

        def scrape() -> str | None:
            with contextlib.suppress(OSError), urllib.request.urlopen(url, timeout=5) as response:
                body = str(response.read().decode())
                return body if "container_cpu_usage_seconds_total" in body else None
            return None

        wait_for(scrape, 60, "the traced exporter to serve a sample", interval=0.5)
        (child,) = (int(p) for p in Path(f"/proc/{tracer.pid}/task/{tracer.pid}/children")
                    .read_text().split())  # fmt: skip
        os.kill(child, signal.SIGTERM)  # SIGINT may be ignored (inherited SIG_IGN)
        tracer.wait(timeout=deadline_s(30))
    finally:
        if tracer.poll() is None:
            tracer.kill()
            tracer.wait()
    lines = out.read_text(errors="replace").splitlines()
    out.unlink()
    return lines


def writes(lines: list[str], allowed: Path) -> list[str]:
    """The lines that opened a file for writing or changed a file, outside `allowed`."""
    bad = []
    for line in lines:
        match = _CALL.match(line)
        if match is None:
            continue  # exits, signals
        name, args, _, result_path = match.groups()
        if name in ("open", "openat", "openat2", "creat"):
            flags = set(re.findall(r"O_[A-Z]+", args))
            if name != "creat" and not flags & set(WRITE_FLAGS):
                continue
        elif name not in CHANGES:
            continue
        paths = _paths(args, result_path)
        if not paths or not all(_harmless(p, allowed) for p in paths):
            bad.append(line)
    return bad


def _paths(args: str, result_path: str | None) -> list[str]:
    """The files a call touches: the opened file, the path arguments resolved against their
    directory fd (-y prints its path), or the fd's path."""
    if result_path:
        return [result_path]
    found: list[str] = []
    base = "/"
    for arg in re.findall(r'(?:AT_FDCWD|-?\d+)<[^>]*>|"(?:[^"\\]|\\.)*"', args):
        fd = _FD.match(arg)
        if fd:
            base = fd.group(1)
            if not args.split(",")[0].startswith(arg.split("<")[0]) or '"' not in args:
                found.append(base)  # fchmod(fd), utimensat(fd, NULL), ftruncate(fd)
            continue
        path = arg[1:-1]
        found.append(path if path.startswith("/") else os.path.join(base, path))
    return found


def _harmless(path: str, allowed: Path) -> bool:
    return path.startswith(HARMLESS) or Path(os.path.normpath(path)).is_relative_to(allowed)


def test_the_strace_check_can_fail(tmp_path: Path) -> None:
    """The checker below finds writes, relative writes through a directory fd, and metadata
    changes: run a writer outside the allowed directory and see each one reported."""
    require(shutil.which("strace") is not None, "strace is not installed")
    allowed, other = tmp_path / "allowed", tmp_path / "other"
    allowed.mkdir()
    other.mkdir()
    (other / "f").write_text("x")
    program = f"""
import os
d = os.open({str(other)!r}, os.O_RDONLY)
os.close(os.open("g", os.O_WRONLY | os.O_CREAT, 0o644, dir_fd=d))
os.chmod({str(other / "f")!r}, 0o600)
os.utime("f", dir_fd=d)
os.setxattr({str(other / "f")!r}, "user.x", b"1")
os.link({str(other / "f")!r}, {str(other / "h")!r})
open({str(allowed / "ok")!r}, "w").close()
"""
    status, lines = traced([sys.executable, "-c", program], allowed)
    assert status == 0, lines[-5:]
    found = writes(lines, allowed)
    names = [_CALL.match(line).group(1) for line in found]  # type: ignore[union-attr]
    assert names == ["openat", "chmod", "utimensat", "setxattr", "link"], found


def test_never_writes_outside_a_temp_dir(
    run_container: RunContainer, tmp_path: Path, docker_client: Any
) -> None:
    """Read-only by default: every command (and the app, briefly) under strace -f -y: no
    write-mode open and no metadata change anywhere but the test's temporary directory, with
    relative opens through directory fds (the layer walks) resolved."""
    require(shutil.which("strace") is not None, "strace is not installed")
    require(os.geteuid() == 0, "the read-only check traces the commands as root (all paths)")
    ctr = run_container(LAYERED_IMAGE, SLEEP)
    ctr.exec_run(["sh", "-c", "echo x >> /app/hello.txt; mkdir /opt/new"])
    rec = tmp_path / "rec"
    python = [sys.executable, "-m", "ctop_py"]
    commands: list[tuple[list[str], int]] = [
        (["snapshot", "--interval", "0.2"], 0),
        (["snapshot", "--json", "--interval", "0.2", "-a"], 0),
        (["ns"], 0),
        (["ns", "--json"], 0),
        (["layers", ctr.name], 0),
        (["layers", ctr.name, "--changes"], 0),
        (["layers", ctr.name, "--path", "/app/hello.txt"], 0),
        (["layers", ctr.name, "--json"], 0),
        (["net", ctr.name, "--interval", "0.2"], 0),
        (["stacks", ctr.name], 2),  # no Python in a busybox container: one line, exit 2
        (["record", str(rec), "--interval", "0.2", "--duration", "1"], 0),
        (["snapshot", "--replay", str(rec)], 0),
    ]
    for command, status in commands:
        rc, lines = traced([*python, *command], tmp_path)
        assert rc == status, (command, lines[-5:])
        assert lines, command
        assert writes(lines, tmp_path) == [], command
    # The exporter serves and samples for a few seconds, then is stopped.
    with socket.socket() as probe:  # a free port
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    serve = [*python, "exporter", "--listen", f"127.0.0.1:{port}", "--interval", "0.5"]
    lines = traced_exporter(serve, tmp_path, f"http://127.0.0.1:{port}/metrics")
    assert any("/sys/fs/cgroup/" in line for line in lines), lines[-5:]  # it sampled
    assert writes(lines, tmp_path) == []
    # The app: two ticks, a container opened, every tab of its screen.
    rc, lines = traced([sys.executable, "-c", APP_BRIEFLY, ctr.id], tmp_path)
    assert rc == 0, lines[-10:]
    assert writes(lines, tmp_path) == []


APP_AS_NOBODY = app_script(
    before="""
    print("HEADER", plain(app.screen.query_one("HostHeader", Static).content))
    print("ROW", view.name, view.limits.pids_max)
    """,
    after="""
    await pilot.press("5")
    for _ in range(300):  # the explorer's workers (some replace others: no wait_for_complete)
        await pilot.pause(0.02)
        if all(w.is_finished for w in app.workers):
            break
    await pilot.pause()
    print("LAYERS", plain(app.screen.query_one("#pane-layers #lx-head", Static).content))
    """,
)


def test_the_app_as_nobody(run_container: RunContainer) -> None:
    ctr = run_container(BASE_IMAGE, SPIN, pids_limit=21)
    command = nobody_python()
    result = subprocess.run(
        [*command, "-c", APP_AS_NOBODY, ctr.id],
        capture_output=True,
        text=True,
        timeout=120,
        cwd="/",
    )
    no_traceback(result)
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert f"ROW {ctr.id[:12]} 21" in out  # cgroup limits, by id (names need the socket)
    assert "docker group" in out.split("ROW")[0]  # the header says why there are no names
    assert "needs root" in out.split("LAYERS", 1)[1]


APP_BRIEFLY = app_script(
    after="""
    for key in "123456789":
        await pilot.press(key)
        await app.workers.wait_for_complete()
        await pilot.pause()
    """
)
