"""Peers on the same containers: `docker stats --no-stream` and Glances' containers plugin.

Glances is installed by the benchmark into a throwaway venv under /tmp when it is missing;
when it cannot be installed (no network, no PyPI) the output says so and the run goes on.
"""

from __future__ import annotations

import contextlib
import os
import resource
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from benchmarks.util import DaemonWindow, log, proc_cpu_s, proc_status_kib, spread

GLANCES_VENV = Path("/tmp/ctop-bench-glances-venv")
GLANCES_SPECS = ("glances[containers]", "glances[docker]")


def _children_cpu_s() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def docker_stats_no_stream(runs: int = 3, timeout_s: float = 120.0) -> dict[str, Any]:
    """Wall time of `docker stats --no-stream` (every running container), the CLI's own CPU
    and the daemons' CPU (dockerd, containerd, shims) over each call."""
    docker = shutil.which("docker")
    if docker is None:
        return {"error": "docker CLI not found"}
    results: list[dict[str, Any]] = []
    for _ in range(runs):
        window = DaemonWindow.start()
        cli0 = _children_cpu_s()
        t0 = time.monotonic()
        proc = subprocess.run(
            [docker, "stats", "--no-stream"], capture_output=True, text=True, timeout=timeout_s
        )
        wall = time.monotonic() - t0
        cli = _children_cpu_s() - cli0
        daemons = window.stop()
        if proc.returncode != 0:
            return {"error": proc.stderr.strip()[:300]}
        rows = max(len(proc.stdout.splitlines()) - 1, 0)
        results.append({"wall_s": wall, "cli_cpu_s": cli, "daemons": daemons, "rows": rows})
    return {
        "runs": results,
        "rows": results[-1]["rows"],
        "wall_s": spread([r["wall_s"] for r in results]),
        "cli_cpu_s": spread([r["cli_cpu_s"] for r in results]),
        "daemons_cpu_s": spread([r["daemons"]["cpu_s"] for r in results]),
    }


def ensure_glances(timeout_s: float = 420.0) -> tuple[Path | None, str]:
    """The glances executable in the throwaway venv (installed if missing), or a reason."""
    exe = GLANCES_VENV / "bin" / "glances"
    python = GLANCES_VENV / "bin" / "python"
    if exe.exists() and _glances_has_docker(python):
        return exe, "already installed"
    try:
        if not python.exists():
            subprocess.run(
                [sys.executable, "-m", "venv", str(GLANCES_VENV)],
                check=True,
                capture_output=True,
                timeout=120,
            )
        errors = []
        for spec in GLANCES_SPECS:
            log(f"  installing {spec} into {GLANCES_VENV}")
            proc = subprocess.run(
                [str(python), "-m", "pip", "install", "-q", "--disable-pip-version-check", spec],
                capture_output=True,
                text=True,
                timeout=timeout_s,
            )
            if proc.returncode == 0 and exe.exists() and _glances_has_docker(python):
                return exe, f"installed {spec}"
            errors.append(f"{spec}: {(proc.stderr or proc.stdout).strip()[-300:]}")
        return None, "could not install Glances: " + " | ".join(errors)
    except (OSError, subprocess.SubprocessError) as exc:
        return None, f"could not install Glances: {exc}"


def _glances_has_docker(python: Path) -> bool:
    proc = subprocess.run(
        [str(python), "-c", "import glances, docker"], capture_output=True, timeout=60
    )
    return proc.returncode == 0


def _glances_version(exe: Path) -> str:
    with contextlib.suppress(Exception):
        proc = subprocess.run([str(exe), "--version"], capture_output=True, text=True, timeout=60)
        first = (proc.stdout or proc.stderr).strip().splitlines()[0]
        return " ".join(first.replace("version:", "").split())
    return "unknown"


def _tree_cpu_s(pid: int) -> float:
    """CPU seconds of a process and its live descendants."""
    import psutil

    total = proc_cpu_s(pid) or 0.0
    with contextlib.suppress(psutil.Error):
        for child in psutil.Process(pid).children(recursive=True):
            total += proc_cpu_s(child.pid) or 0.0
    return total


def glances_containers(
    settle_s: float = 10.0, window_s: float = 30.0, refresh_s: float = 1.0
) -> dict[str, Any]:
    """`glances --stdout containers` at a 1 s refresh: its own CPU and the daemons' over the
    window (after `settle_s` of start-up), and its peak RSS."""
    exe, how = ensure_glances()
    if exe is None:
        log(f"  Glances: {how}")
        return {"error": how}
    version = _glances_version(exe)
    cmd = [str(exe), "--stdout", "containers", "-t", str(refresh_s)]
    proc = subprocess.Popen(
        cmd,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    lines: list[bytes] = []
    try:
        import threading

        def drain() -> None:
            assert proc.stdout is not None
            for line in proc.stdout:
                if len(lines) < 100_000:
                    lines.append(line)

        threading.Thread(target=drain, daemon=True).start()
        time.sleep(settle_s)
        if proc.poll() is not None:
            out = b"".join(lines[-20:]).decode(errors="replace")
            return {"error": f"glances exited ({proc.returncode}): {out[-400:]}"}
        window = DaemonWindow.start()
        own0 = _tree_cpu_s(proc.pid)
        time.sleep(window_s)
        own = _tree_cpu_s(proc.pid) - own0
        daemons = window.stop()
        hwm = proc_status_kib(proc.pid, "VmHWM")
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)
    sample_lines = [ln.decode(errors="replace").rstrip()[:200] for ln in lines[-1:]]
    return {
        "version": version,
        "install": how,
        "command": " ".join(["glances", *cmd[1:]]),
        "window_s": daemons["window_s"],
        "own_cpu_s": round(own, 3),
        "own_cpu_percent": round(100 * own / daemons["window_s"], 3),
        "daemons": daemons,
        "peak_rss_mib": None if hwm is None else round(hwm / 1024, 1),
        "output_lines": len(lines),
        "last_output": sample_lines,
    }
