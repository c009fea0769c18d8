"""The collector tick benchmark against another revision of ctop_py (the "before" figures).

`run_before(ref, root)` extracts `ctop_py/` of a git revision and this benchmarks package into
a temporary directory and runs the same tick benchmark there, in a child process, so that
before and after are measured in the same run on the same machine state.

    python -m benchmarks.compare ROOT|live ROUNDS BUDGET_S   (in the extracted directory)
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent


def run_before(ref: str, root: str, rounds: int, budget_s: float) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="ctop-bench-before-") as tmp:
        archive = subprocess.run(
            ["git", "-C", str(REPO), "archive", ref, "ctop_py"],
            capture_output=True,
            timeout=60,
        )
        if archive.returncode != 0:
            return {"error": archive.stderr.decode(errors="replace").strip()[:300]}
        subprocess.run(["tar", "-x", "-C", tmp], input=archive.stdout, check=True, timeout=60)
        shutil.copytree(
            REPO / "benchmarks", Path(tmp) / "benchmarks", ignore=shutil.ignore_patterns("out")
        )
        proc = subprocess.run(
            [sys.executable, "-m", "benchmarks.compare", root, str(rounds), str(budget_s)],
            cwd=tmp,
            capture_output=True,
            text=True,
            timeout=budget_s * 4 + 120,
        )
        if proc.returncode != 0:
            return {"error": proc.stderr.strip()[-600:]}
        result: dict[str, Any] = json.loads(proc.stdout.strip().splitlines()[-1])
        result["ref"] = ref
        return result


def main() -> int:
    from benchmarks.tick import bench_collector, docker_engines, no_engines
    from ctop_py.host import HostRoot

    root, rounds, budget = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
    if root == "live":
        result = bench_collector(HostRoot(), docker_engines, rounds=rounds, budget_s=budget)
    else:
        result = bench_collector(HostRoot.at(root), no_engines, rounds=rounds, budget_s=budget)
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
