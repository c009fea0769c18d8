"""`ctop-py snapshot` and `ctop-py ns` import none of the optional subcommands' modules; every
other invocation registers all of them, and the names the lazy path knows are theirs."""

from __future__ import annotations

import subprocess
import sys

from ctop_py import cli
from ctop_py.commands import OPTIONAL_COMMANDS


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
