"""`ctop-py snapshot` and `ctop-py ns` import none of the optional subcommands' modules; a
one-shot optional command imports its own; the app and --help register all of them, and the
names the lazy path knows are theirs. `snapshot --json` reads the engine without the docker SDK
(nor requests, http.client, Textual or Rich)."""

from __future__ import annotations

import argparse
import json
import subprocess
import sys

import pytest

from ctop_py import cli
from ctop_py.commands import COMMAND_MODULE_OF, COMMAND_MODULES, OPTIONAL_COMMANDS
from tests.conftest import BASE_IMAGE, REPO, SLEEP, RunContainer


def test_optional_command_names_are_the_registered_ones() -> None:
    parser = cli.build_parser()
    subs = next(a for a in parser._actions if a.dest == "command")
    registered = set(subs.choices) - {"snapshot", "ns"}  # type: ignore[arg-type]
    assert registered == set(OPTIONAL_COMMANDS)


def test_needs_optional() -> None:
    assert cli._needs_optional([])  # the app, or top-level --help: all
    assert cli._needs_optional(["-h"])
    assert cli._needs_optional(["layers", "web"])
    assert not cli._needs_optional(["snapshot", "--json", "--interval", "1"])
    assert not cli._needs_optional(["--root", "/host", "ns", "--json"])
    # A container called "layers" given to snapshot: the full parser, which parses it alike.
    assert cli._needs_optional(["snapshot", "layers"])


def test_snapshot_parser_imports_no_optional_module() -> None:
    code = (
        "import sys\n"
        "from ctop_py import cli\n"
        "cli.build_parser(['snapshot', '--json'])\n"
        "mods = ('ctop_py.commands.layers', 'ctop_py.commands.stacks', 'ctop_py.stacks', "
        "'ctop_py.commands.record', 'ctop_py.layers.tree')\n"
        "print(','.join(m for m in mods if m in sys.modules))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert out.stdout.strip() == ""


def test_parsing_a_snapshot_imports_no_shutil() -> None:
    # argparse's help formatter, made for every add_argument, imports shutil (and bz2, lzma)
    # for the terminal's width; ours reads it itself.
    code = (
        "import sys\n"
        "from ctop_py import cli\n"
        "argv = ['snapshot', '--json', '--interval', '1']\n"
        "cli.build_parser(argv).parse_args(argv)\n"
        "print(','.join(m for m in ('shutil', 'bz2', 'lzma') if m in sys.modules))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert out.stdout.strip() == ""


@pytest.mark.parametrize("columns", ["57", "133", "0", "wide", None])
def test_help_is_as_wide_as_argparse_makes_it(
    columns: str | None, monkeypatch: pytest.MonkeyPatch
) -> None:
    if columns is None:
        monkeypatch.delenv("COLUMNS", raising=False)
    else:
        monkeypatch.setenv("COLUMNS", columns)
    for argv in ([], ["snapshot"], ["ns"], ["layers"]):
        ours = cli.build_parser(argv)
        theirs = cli.build_parser(argv)
        for parser in (theirs, *_subparsers(theirs)):
            parser.formatter_class = argparse.HelpFormatter
        for mine, stdlib in zip(
            (ours, *_subparsers(ours)), (theirs, *_subparsers(theirs)), strict=True
        ):
            assert mine.format_help() == stdlib.format_help()


def _subparsers(parser: argparse.ArgumentParser) -> list[argparse.ArgumentParser]:
    subs = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    return [p for action in subs for p in action.choices.values()]


def test_a_one_shot_command_registers_only_its_module() -> None:
    assert set(COMMAND_MODULE_OF) == set(OPTIONAL_COMMANDS)
    assert set(COMMAND_MODULE_OF.values()) == set(COMMAND_MODULES)
    assert cli._optional_modules(["diagnose", "web"]) == ("ctop_py.commands.diagnose",)
    assert cli._optional_modules(["replay", "x.rec"]) == ("ctop_py.commands.record",)
    # A command word given as an option's value: both modules, so the parse is the same.
    assert set(cli._optional_modules(["--config", "events", "diagnose"])) == {
        "ctop_py.commands.events",
        "ctop_py.commands.diagnose",
    }
    assert cli._optional_modules([]) == COMMAND_MODULES  # the app
    assert cli._optional_modules(["-h"]) == COMMAND_MODULES
    assert cli._optional_modules(["diagnos"]) == COMMAND_MODULES  # a typo: every choice listed
    parser = cli.build_parser(["--config", "events", "diagnose", "web"])
    args = parser.parse_args(["--config", "events", "diagnose", "web"])
    assert (args.config, args.command, args.containers) == ("events", "diagnose", ["web"])


# Run as `python -m ctop_py ARGS`; the modules loaded by the end are printed to stderr (also
# where a one-shot command ends its process with os._exit, which runs no atexit handler).
_MODULES_AT_EXIT = (
    "import atexit, os, runpy, sys\n"
    "say = lambda: sys.stderr.write('MODULES ' + ' '.join(sorted(sys.modules)) + '\\n')\n"
    "atexit.register(say)\n"
    "_exit = os._exit\n"
    "os._exit = lambda status: (say(), sys.stderr.flush(), _exit(status))\n"
    "sys.argv = ['ctop-py', *sys.argv[1:]]\n"
    "runpy.run_module('ctop_py', run_name='__main__', alter_sys=True)\n"
)
HEAVY = ("docker", "requests", "urllib3", "http.client", "ssl", "textual", "rich")


def _loaded(*args: str) -> tuple[set[str], str]:
    done = subprocess.run(
        [sys.executable, "-c", _MODULES_AT_EXIT, *args],
        capture_output=True, text=True, timeout=120, cwd=REPO,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    line = next(x for x in done.stderr.splitlines() if x.startswith("MODULES "))
    return set(line.split()[1:]), done.stdout


@pytest.mark.docker
def test_snapshot_json_reads_the_engine_without_the_sdk(run_container: RunContainer) -> None:
    ctr = run_container(BASE_IMAGE, SLEEP)
    modules, out = _loaded("snapshot", "--json", "--interval", "0.2")
    data = json.loads(out)
    # It did read the engine: its status, and the container's name and lifecycle from it.
    assert data["engines"]["docker"] == "ok"
    mine = next(c for c in data["containers"] if c["id"] == ctr.id)
    assert mine["name"] == ctr.name
    assert mine["lifecycle"]["restart_count"] == ctr.attrs["RestartCount"]
    assert "ctop_py.runtimes.engine_api" in modules
    assert sorted(m for m in modules if m.split(".")[0] in HEAVY or m in HEAVY) == []
    optional = [m for m in modules if m.startswith(("ctop_py.commands.", "ctop_py.layers"))]
    assert optional == ["ctop_py.commands.common"]


@pytest.mark.docker
def test_one_shot_commands_load_no_sdk_nor_ui(docker_client: object) -> None:
    for args in (("ns", "--json"), ("diagnose", "--window", "1"), ("events", "--since", "1m")):
        modules, _ = _loaded(*args)
        heavy = sorted(m for m in modules if m.split(".")[0] in HEAVY or m in HEAVY)
        assert heavy == [], args
        others = {m for m in modules if m.startswith("ctop_py.commands.")} - {
            "ctop_py.commands.common"
        }
        assert others <= {f"ctop_py.commands.{args[0]}"}, args
