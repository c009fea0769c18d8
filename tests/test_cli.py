"""Bad input: one clear line on stderr, exit code 2, never a traceback."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.fakeroot import FakeHost, v2_files

ID = "d89ef6da903ab9e80ab773ffad6eb38d24832a7a06551e4817552ce19ffd7008"


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "ctop_py", *args], capture_output=True, text=True, timeout=60
    )


def assert_one_line_error(result: subprocess.CompletedProcess[str], text: str) -> None:
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert text in lines[0]


@pytest.mark.parametrize(
    ("args", "text"),
    [
        (["--bogus"], "unrecognized arguments"),
        (["snapshot", "--interval", "abc"], "not a number"),
        (["snapshot", "--interval", "-1"], "between 0 and 3600"),
        (["nosuchcommand"], "invalid choice"),
        (["ns", "--type", "bogus"], "invalid choice"),
    ],
)
def test_bad_options(args: list[str], text: str) -> None:
    assert_one_line_error(run(*args), text)


def test_unreadable_root(tmp_path: Path) -> None:
    assert_one_line_error(run("snapshot", "--root", str(tmp_path / "nope")), "no such directory")
    assert_one_line_error(run("ns", "--root", str(tmp_path)), "not a proc filesystem")


def fake_root(tmp_path: Path) -> FakeHost:
    host = FakeHost(tmp_path)
    path = f"/system.slice/docker-{ID}.scope"
    host.write_cgroup(path, v2_files())
    host.add_process(100, "[bold red]x[/]\x1b]0;pwned\x07", cgroup_path=path,
                     namespaces={"pid": 4026532200, "net": 4026532201}, nspid=(100, 1))  # fmt: skip
    return host


def test_unknown_container(tmp_path: Path) -> None:
    host = fake_root(tmp_path)
    result = run("snapshot", "--interval", "0.1", "--root", str(host.base), "nosuch")
    assert_one_line_error(result, "no such container: nosuch")


def test_snapshot_json_on_fake_root(tmp_path: Path) -> None:
    host = fake_root(tmp_path)
    result = run("snapshot", "--interval", "0.1", "--json", "--root", str(host.base), ID[:6])
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["host"]["cgroup_version"] == 2 and data["host"]["cpus"] == 2
    (c,) = data["containers"]
    assert c["id"] == ID and c["limits"]["cpu_quota_cores"] == 0.1
    assert c["processes"][0]["comm"] == "[bold red]x[/]\x1b]0;pwned\x07"  # exact in JSON


def test_text_output_escapes_control_characters(tmp_path: Path) -> None:
    host = fake_root(tmp_path)
    result = run("ns", "--root", str(host.base))
    assert result.returncode == 0, result.stderr
    assert "\x1b" not in result.stdout and "\x07" not in result.stdout
    assert "\\x1b]0;pwned\\x07" in result.stdout
