"""`ctop-py` with only the app's own options imports none of the optional subcommands' modules
(issue 16: ~1.7 MiB of the app's memory), and parses those options as the whole parser does;
any other argument (a command, --help, a typo, an abbreviation) still gets every subcommand."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from ctop_py import cli
from ctop_py.commands import COMMAND_MODULES
from tests.conftest import REPO

APP_ARGVS = [
    [],
    ["--root", "/host"],
    ["--root=/host", "-a", "--interval", "2", "--read-only", "--config", "c.toml"],
    ["--config", "layers", "--all", "--demo"],  # a command word as an option's value
]

# In a fresh process (this one has imported every command already): the optional modules
# loaded once the arguments are parsed as `cli.main` parses them, and what was parsed.
SCRIPT = """
import json, sys
from ctop_py import cli
from ctop_py.commands import COMMAND_MODULES
argv = json.loads(sys.argv[1])
args = cli.build_parser(argv).parse_args(argv)
print(json.dumps({"loaded": [m for m in COMMAND_MODULES if m in sys.modules],
                  "args": vars(args)}))
"""


@pytest.mark.parametrize("argv", APP_ARGVS, ids=lambda a: " ".join(a) or "none")
def test_the_app_parses_its_options_without_the_optional_commands(argv: list[str]) -> None:
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT, json.dumps(argv)],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=REPO,
    )
    assert done.returncode == 0, done.stderr
    seen = json.loads(done.stdout)
    assert seen["loaded"] == []
    whole = cli.build_parser(None).parse_args(argv)  # every subcommand registered
    assert seen["args"] == json.loads(json.dumps(vars(whole)))


@pytest.mark.parametrize(
    "argv",
    [
        ["-h"],
        ["--root", "/host", "layrs"],
        ["--root=/host", "events"],  # the value was in the option: "events" is the command
        ["--int", "2"],
        ["events"],
        ["-ah"],
        ["--help"],
    ],
)
def test_anything_else_registers_every_subcommand(argv: list[str]) -> None:
    assert not cli._app_only(argv)
    assert cli._optional_modules(argv) and set(cli._optional_modules(argv)) <= set(COMMAND_MODULES)


def test_a_typo_still_lists_every_command(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        cli.build_parser(["layrs"]).parse_args(["layrs"])
    err = capsys.readouterr().err
    assert "layrs" in err and "layers" in err and "diagnose" in err
