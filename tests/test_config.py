"""The config file: where it is looked for, the defaults, every key, and broken files (one line
naming the file, the line and the key; the defaults are used)."""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest

from ctop_py import config as cfg
from ctop_py.cli import apply_config
from ctop_py.thresholds import THRESHOLDS
from ctop_py.ui import columns
from tests.conftest import REPO


def write(tmp_path: Path, text: str | bytes, name: str = "config.toml") -> Path:
    path = tmp_path / name
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text)
    return path


def test_xdg_place(tmp_path: Path) -> None:
    env = {"XDG_CONFIG_HOME": str(tmp_path / "xdg"), "HOME": str(tmp_path / "home")}
    assert cfg.default_path(env) == tmp_path / "xdg" / "ctop-py" / "config.toml"
    # Unset, empty or relative XDG_CONFIG_HOME: ~/.config (the XDG spec ignores a relative one)
    for xdg in (None, "", "relative/dir"):
        env = {"HOME": str(tmp_path / "home")}
        if xdg is not None:
            env["XDG_CONFIG_HOME"] = xdg
        assert cfg.default_path(env) == tmp_path / "home" / ".config" / "ctop-py" / "config.toml"


def test_defaults_without_a_file(tmp_path: Path) -> None:
    env = {"XDG_CONFIG_HOME": str(tmp_path)}
    loaded = cfg.load(env=env)
    assert loaded.config == cfg.Config() == cfg.DEFAULT
    assert (loaded.found, loaded.problem) == (False, None)
    assert loaded.path == tmp_path / "ctop-py" / "config.toml"
    d = cfg.DEFAULT
    assert (d.sort, d.reverse, d.interval, d.all, d.read_only) == ("cpu", False, 1.0, False, False)
    assert d.shell == ("/bin/sh",)
    assert d.columns == cfg.COLUMN_KEYS


def test_column_keys_are_the_tables() -> None:
    assert tuple(c.key for c in columns.COLUMNS) == cfg.COLUMN_KEYS
    assert set(cfg.SORT_KEYS) == {c.key for c in columns.SORTABLE}


def test_the_default_place_is_read(tmp_path: Path) -> None:
    (tmp_path / "ctop-py").mkdir()
    write(tmp_path / "ctop-py", "all = true\n")
    loaded = cfg.load(env={"XDG_CONFIG_HOME": str(tmp_path)})
    assert loaded.found and loaded.problem is None
    assert loaded.config.all is True


def test_every_key(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """
        # every key, with a value that is not its default
        sort = "mem"
        reverse = true
        columns = ["name", "mem",
                   "cpu"]
        interval = 2.5
        all = true
        read_only = true
        shell = "/bin/bash -l"
        log_lines = 200

        [diagnose]
        throttled_warning_percent = 25
        crash_loop_restarts = 4
        """,
    )
    loaded = cfg.load(path)
    assert loaded.problem is None, loaded.problem
    assert loaded.config == cfg.Config(
        sort="mem",
        reverse=True,
        columns=("name", "mem", "cpu"),
        interval=2.5,
        all=True,
        read_only=True,
        shell=("/bin/bash", "-l"),
        log_lines=200,
        diagnose={"throttled_warning_percent": 25.0, "crash_loop_restarts": 4.0},
    )
    # the thresholds the diagnosis uses: the defaults with these two changed
    limits = cfg.thresholds(loaded.config)
    assert (limits.throttled_warning_percent, limits.crash_loop_restarts) == (25.0, 4)
    assert isinstance(limits.crash_loop_restarts, int)
    assert replace(
        limits, throttled_warning_percent=THRESHOLDS.throttled_warning_percent,
        crash_loop_restarts=THRESHOLDS.crash_loop_restarts,
    ) == THRESHOLDS  # fmt: skip
    # Every field of Config is in the file above: a new key needs a line here.
    assert {f for f in cfg.Config.__dataclass_fields__} == {
        "sort", "reverse", "columns", "interval", "all", "read_only", "shell", "log_lines",
        "diagnose",
    }  # fmt: skip


def test_shell_as_a_list(tmp_path: Path) -> None:
    path = write(tmp_path, 'shell = ["/bin/sh", "-c", "exec ash"]\ninterval = 3\n')
    config = cfg.load(path).config
    assert config.shell == ("/bin/sh", "-c", "exec ash")
    assert config.interval == 3.0 and isinstance(config.interval, float)


@pytest.mark.parametrize(
    ("text", "line", "key", "why"),
    [
        ('sort = "cpu"\ninterval = "fast"\n', 2, "interval", "must be a number of seconds"),
        ("\n\ninterval = 0\n", 3, "interval", "between 0.1 and 3600"),
        ('all = "yes"\n', 1, "all", "must be true or false"),
        ("read_only = 1\n", 1, "read_only", "must be true or false"),
        ("reverse = 0\n", 1, "reverse", "must be true or false"),
        ('sort = "spark"\n', 1, "sort", "must be one of"),
        ('columns = ["name", "bogus"]\n', 1, "columns", "unknown column 'bogus'"),
        ('columns = ["name", "name"]\n', 1, "columns", "names a column twice"),
        ("columns = []\n", 1, "columns", "non-empty list"),
        ("shell = 3\n", 1, "shell", "must be a command"),
        ('shell = ""\n', 1, "shell", "is empty"),
        ('shell = "sh -c \'unclosed"\n', 1, "shell", "cannot be split"),
        ("log_lines = 5\n", 1, "log_lines", "between 100"),
        ("log_lines = 1.5\n", 1, "log_lines", "whole number"),
        ("# a comment\nintervall = 2\n", 2, "intervall", "unknown key (did you mean 'interval'?)"),
        ("diagnose = 3\n", 1, "diagnose", "must be a table"),
        (
            '[diagnose]\nburst_percent = 1\nlookback_s = "x"\n',
            3,
            "diagnose.lookback_s",
            "must be a number",
        ),
        ("[diagnose]\nthrottled = 3\n", 2, "diagnose.throttled", "is not a threshold"),
        (
            "[diagnose]\ncrash_loop_restarts = 2.5\n",
            2,
            "diagnose.crash_loop_restarts",
            "must be a whole number",
        ),
        ("[diagnose]\nburst_percent = -1\n", 2, "diagnose.burst_percent", "not be negative"),
    ],
)
def test_wrong_values(tmp_path: Path, text: str, line: int, key: str, why: str) -> None:
    path = write(tmp_path, text)
    loaded = cfg.load(path)
    assert loaded.config == cfg.DEFAULT
    assert loaded.found
    problem = loaded.problem
    assert problem is not None and "\n" not in problem
    assert problem.startswith(f"{path}, line {line}: key {key!r} "), problem
    assert why in problem
    assert problem.endswith("; using the defaults")


@pytest.mark.parametrize(
    ("text", "line", "key"),
    [
        ("sort = \n", 1, "sort"),  # no value
        ('all = true\ninterval = 1\ncolumns = ["name"\n', 3, "columns"),  # unclosed: the end
        ('all = true\nshell = "/bin/sh\n', 2, "shell"),  # unterminated string
        ("all = true\nall = false\n", 2, "all"),  # a key twice
        ("[diagnose\n", 1, None),
    ],
)
def test_syntax_errors(tmp_path: Path, text: str, line: int, key: str | None) -> None:
    path = write(tmp_path, text)
    loaded = cfg.load(path)
    assert loaded.config == cfg.DEFAULT
    problem = loaded.problem
    assert problem is not None and "\n" not in problem
    assert problem.startswith(f"{path}, line {line}"), problem
    if key is not None:
        assert f"(key {key!r})" in problem, problem


def test_not_utf8(tmp_path: Path) -> None:
    path = write(tmp_path, b'all = true\nshell = "/bin/\xff"\n')
    problem = cfg.load(path).problem
    assert problem == f"{path}, line 2: not UTF-8; using the defaults"


def test_explicit_file_missing_or_unreadable(tmp_path: Path) -> None:
    missing = tmp_path / "nope.toml"
    loaded = cfg.load(missing)
    assert loaded.config == cfg.DEFAULT
    assert loaded.problem == f"{missing}: no such config file; using the defaults"
    directory = tmp_path / "dir.toml"
    directory.mkdir()
    loaded = cfg.load(directory)
    assert loaded.problem is not None and loaded.problem.startswith(f"{directory}: ")


def test_save_round_trips_and_is_atomic(tmp_path: Path) -> None:
    config = cfg.Config(
        sort="name",
        reverse=True,
        columns=("name", "state", "pids"),
        shell=("/bin/sh", "-c", 'echo "quoted" \\ back'),
        diagnose={"burst_percent": 1.5},
    )
    target = tmp_path / "new" / "ctop-py" / "config.toml"
    cfg.save(config, target)
    assert cfg.load(target).config == config
    assert [p.name for p in target.parent.iterdir()] == ["config.toml"]  # no temporary left


def test_read_only_environment() -> None:
    for value, expected in [("1", True), ("yes", True), ("true", True), ("", False), ("0", False),
                            ("false", False), ("off", False), ("no", False)]:  # fmt: skip
        assert cfg.env_read_only({cfg.READ_ONLY_ENV: value}) is expected
    assert cfg.env_read_only({}) is False


def _args(**kw: object) -> argparse.Namespace:
    base: dict[str, object] = {"interval": None, "all": False, "read_only": None, "config": None}
    return argparse.Namespace(**{**base, **kw})


def test_precedence(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv(cfg.READ_ONLY_ENV, raising=False)
    path = write(tmp_path, "interval = 5\nall = true\n")
    args = apply_config(_args(config=str(path)))
    assert (args.interval, args.all, args.read_only) == (5.0, True, False)
    # the command line wins over the file
    args = apply_config(_args(config=str(path), interval=0.5))
    assert args.interval == 0.5
    # the environment turns read-only on; so does the flag; so does the file
    monkeypatch.setenv(cfg.READ_ONLY_ENV, "1")
    assert apply_config(_args(config=str(path))).read_only is True
    monkeypatch.delenv(cfg.READ_ONLY_ENV)
    assert apply_config(_args(config=str(path), read_only=True)).read_only is True
    ro = write(tmp_path, "read_only = true\n", "ro.toml")
    assert apply_config(_args(config=str(ro))).read_only is True
    assert capsys.readouterr().err == ""


def test_broken_file_is_one_line_and_defaults(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write(tmp_path, "interval = 2\nall = maybe\n")
    args = apply_config(_args(config=str(path)))
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith(f"ctop-py: {path}, line 2 (key 'all'): ")
    assert (args.interval, args.all, args.config) == (1.0, False, cfg.DEFAULT)


def test_cli_version() -> None:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    out = subprocess.run(
        [sys.executable, "-m", "ctop_py", "--version"], capture_output=True, text=True, env=env
    )
    from importlib.metadata import version

    assert (out.returncode, out.stdout.strip()) == (0, f"ctop-py {version('ctop-py')}")
