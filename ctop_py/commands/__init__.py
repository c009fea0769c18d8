"""Subcommands beyond snapshot and ns: one module each, exposing `register(sub, common)`.

`sub` is the argparse subparsers object and `common` the parent parser carrying `--root`;
a module adds its parser with `parents=[common]` and `set_defaults(func=...)`, where func takes
the parsed args and returns an exit code (raise `ctop_py.commands.common.CliError` for a
one-line error, exit 2)."""

from __future__ import annotations

COMMAND_MODULES = (
    "ctop_py.commands.layers",
    "ctop_py.commands.net",
    "ctop_py.commands.stacks",
    "ctop_py.commands.record",
    "ctop_py.commands.exporter",
    "ctop_py.commands.logs",
    "ctop_py.commands.events",
    "ctop_py.commands.diagnose",
)
# The subcommand names those modules register (tests/test_cli_lazy.py checks the two agree):
# `ctop-py snapshot` and `ctop-py ns` import none of the modules when no argument names one,
# so a one-shot command does not pay for layers, stacks, net or record at start-up.
OPTIONAL_COMMANDS = frozenset(
    {"layers", "net", "stacks", "record", "replay", "exporter", "events", "diagnose", "logs"}
)
# The module that registers each: a one-shot `events` or `diagnose` imports only its own.
COMMAND_MODULE_OF = {
    name: f"ctop_py.commands.{'record' if name == 'replay' else name}" for name in OPTIONAL_COMMANDS
}
