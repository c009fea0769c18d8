"""The user's config file: `$XDG_CONFIG_HOME/ctop-py/config.toml`, else
`~/.config/ctop-py/config.toml`, or the file named by `--config FILE`.

Read with the standard library's `tomllib`. A missing file at the default place means the
defaults; a broken file (bad TOML, an unknown key, a value of the wrong type or out of range)
gives ONE line naming the file, the line and the key, and the defaults. ctop-py only writes this
file when the user asks it to (the column chooser's "save"), never otherwise.

```toml
sort = "cpu"                 # the column the list starts sorted by
reverse = false              # flip that column's natural direction
columns = ["name", "image", "state", "cpu", "cpuq", "thr", "spark", "mem", "memp",
           "net", "io", "pids", "diagnosis"]   # which columns show, in this order
interval = 1.0               # seconds between samples (0.1 … 3600)
all = false                  # start showing stopped containers too
read_only = false            # no actions: the actions menu is hidden and refuses
shell = "/bin/sh"            # the shell `e` runs in a container (a path, or a command line)
log_lines = 5000             # lines the Logs tab keeps in memory (100 … 1,000,000)

[diagnose]                   # the diagnosis' thresholds (ctop_py.thresholds), name = number
# throttled_warning_percent = 20
```
"""

from __future__ import annotations

import os
import re
import shlex
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from ctop_py.thresholds import THRESHOLDS, Thresholds

APP_DIR = "ctop-py"
FILE_NAME = "config.toml"
READ_ONLY_ENV = "CTOP_PY_READ_ONLY"

# The containers table's column keys, in their default order (ctop_py.ui.columns.COLUMNS has
# the same keys; a test keeps the two equal, this module may not import the UI).
COLUMN_KEYS: tuple[str, ...] = (
    "name", "image", "state", "cpu", "cpuq", "thr", "spark", "mem", "memp", "net", "io", "pids",
    "diagnosis",
)  # fmt: skip
# The columns that can sort (all but the sparkline).
SORT_KEYS: tuple[str, ...] = tuple(k for k in COLUMN_KEYS if k != "spark")

INTERVAL_RANGE = (0.1, 3600.0)
LOG_LINES_RANGE = (100, 1_000_000)


@dataclass(frozen=True)
class Config:
    sort: str = "cpu"
    reverse: bool = False
    columns: tuple[str, ...] = COLUMN_KEYS
    interval: float = 1.0
    all: bool = False
    read_only: bool = False
    shell: tuple[str, ...] = ("/bin/sh",)
    log_lines: int = 5000
    diagnose: Mapping[str, float] = field(default_factory=dict)


DEFAULT = Config()


def thresholds(config: Config) -> Thresholds:
    """The diagnosis' thresholds: the defaults with the config's `[diagnose]` values."""
    known = {f.name: f.type for f in fields(Thresholds)}
    values: dict[str, Any] = {
        k: int(v) if known[k] in (int, "int") else v
        for k, v in config.diagnose.items()
        if k in known
    }
    return replace(THRESHOLDS, **values)


class ConfigError(Exception):
    """A broken config file; the message is the one line to show."""


def default_path(env: Mapping[str, str] | None = None) -> Path:
    env = os.environ if env is None else env
    base = env.get("XDG_CONFIG_HOME") or ""
    # The XDG spec: a relative XDG_CONFIG_HOME is invalid and ignored.
    root = Path(base) if base and os.path.isabs(base) else Path(env.get("HOME") or "~") / ".config"
    return root.expanduser() / APP_DIR / FILE_NAME


def env_read_only(env: Mapping[str, str] | None = None) -> bool:
    """CTOP_PY_READ_ONLY set to anything but "", 0, false, no or off."""
    env = os.environ if env is None else env
    value = env.get(READ_ONLY_ENV, "").strip().lower()
    return value not in ("", "0", "false", "no", "off")


@dataclass(frozen=True)
class Loaded:
    config: Config
    path: Path
    found: bool  # the file existed
    problem: str | None  # the one line about a broken file (then `config` is DEFAULT)


def load(
    path: str | os.PathLike[str] | None = None, env: Mapping[str, str] | None = None
) -> Loaded:
    """The config at `path` (explicit: --config), else at the XDG place. Never raises for a bad
    file: `problem` says what is wrong and the defaults are used. An explicit path that does not
    exist is a problem too; a missing file at the default place is not."""
    explicit = path is not None
    where = Path(path) if path is not None else default_path(env)
    try:
        raw = where.read_bytes()
    except FileNotFoundError:
        problem = f"{where}: no such config file; using the defaults" if explicit else None
        return Loaded(DEFAULT, where, False, problem)
    except OSError as exc:
        reason = exc.strerror or str(exc)
        return Loaded(DEFAULT, where, True, f"{where}: {reason}; using the defaults")
    try:
        return Loaded(parse(raw, str(where)), where, True, None)
    except ConfigError as exc:
        return Loaded(DEFAULT, where, True, f"{exc}; using the defaults")


def parse(raw: bytes, name: str = "config.toml") -> Config:
    """A Config from the bytes of a config file, or ConfigError naming `name`, line and key."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise ConfigError(f"{name}, line {line}: not UTF-8") from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(_syntax_error(name, text, exc)) from None
    values: dict[str, Any] = {}
    known = {f.name for f in fields(Config)}
    for key, value in data.items():
        if key not in known:
            hint = _suggest(key, known)
            raise _bad(name, text, key, f"unknown key{hint}")
        values[key] = _check(name, text, key, value)
    return Config(**values)


def _check(name: str, text: str, key: str, value: Any) -> Any:
    def bad(why: str) -> ConfigError:
        return _bad(name, text, key, why)

    if key in ("reverse", "all", "read_only"):
        if not isinstance(value, bool):
            raise bad(f"must be true or false, not {_show(value)}")
        return value
    if key == "sort":
        if value not in SORT_KEYS:
            raise bad(f"must be one of {', '.join(SORT_KEYS)}, not {_show(value)}")
        return value
    if key == "columns":
        if not isinstance(value, list) or not value:
            raise bad(f"must be a non-empty list of column names, not {_show(value)}")
        for item in value:
            if item not in COLUMN_KEYS:
                raise bad(f"unknown column {_show(item)}; known: {', '.join(COLUMN_KEYS)}")
        if len(set(value)) != len(value):
            raise bad("names a column twice")
        return tuple(value)
    if key == "interval":
        low, high = INTERVAL_RANGE
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise bad(f"must be a number of seconds, not {_show(value)}")
        if not low <= value <= high:
            raise bad(f"must be between {low:g} and {high:g} seconds, not {value:g}")
        return float(value)
    if key == "log_lines":
        low_n, high_n = LOG_LINES_RANGE
        if isinstance(value, bool) or not isinstance(value, int):
            raise bad(f"must be a whole number of lines, not {_show(value)}")
        if not low_n <= value <= high_n:
            raise bad(f"must be between {low_n} and {high_n}, not {value}")
        return value
    if key == "shell":
        if isinstance(value, str):
            try:
                argv = shlex.split(value)
            except ValueError as exc:
                raise bad(f"cannot be split into words: {exc}") from None
        elif isinstance(value, list) and all(isinstance(v, str) for v in value):
            argv = list(value)
        else:
            raise bad(f"must be a command (a string or a list of strings), not {_show(value)}")
        if not argv or not argv[0]:
            raise bad("is empty")
        return tuple(argv)
    if key == "diagnose":
        if not isinstance(value, dict):
            raise bad(f"must be a table of name = number, not {_show(value)}")
        known = {f.name: f.type for f in fields(Thresholds)}
        out: dict[str, float] = {}
        for sub, number in value.items():
            if sub not in known:
                why = f"is not a threshold{_suggest(sub, set(known))}"
                raise _bad(name, text, sub, why, table="diagnose")
            whole = known[sub] in (int, "int")
            if isinstance(number, bool) or not isinstance(number, int if whole else int | float):
                kind = "a whole number" if whole else "a number"
                raise _bad(
                    name, text, sub, f"must be {kind}, not {_show(number)}", table="diagnose"
                )
            if number < 0:
                raise _bad(name, text, sub, "must not be negative", table="diagnose")
            out[sub] = float(number)
        return out
    raise AssertionError(key)


def _show(value: Any) -> str:
    if isinstance(value, str):
        return repr(value[:40])
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict):
        return "a table"
    if isinstance(value, list):
        return "a list"
    return repr(value)


def _suggest(key: str, known: set[str]) -> str:
    import difflib

    close = difflib.get_close_matches(key, sorted(known), n=1)
    return f" (did you mean {close[0]!r}?)" if close else f" (known: {', '.join(sorted(known))})"


_HEADER = re.compile(r"^\s*\[+\s*([^\]]*?)\s*\]+\s*(#.*)?$")
_KEY = re.compile(r"""^\s*("[^"]*"|'[^']*'|[A-Za-z0-9_.-]+)\s*=""")


def _key_line(text: str, key: str, table: str = "") -> int | None:
    """The line where `key` is assigned in `table` ("" = top level); tomllib does not say."""
    current = ""
    for number, line in enumerate(text.splitlines(), 1):
        header = _HEADER.match(line)
        if header:
            current = header.group(1).strip().strip("\"'")
            continue
        match = _KEY.match(line)
        if match and current == table and match.group(1).strip("\"'") == key:
            return number
    # `[diagnose]` itself for a table key
    if not table:
        for number, line in enumerate(text.splitlines(), 1):
            header = _HEADER.match(line)
            if header and header.group(1).strip().strip("\"'") == key:
                return number
    return None


def _bad(name: str, text: str, key: str, why: str, table: str = "") -> ConfigError:
    line = _key_line(text, key, table)
    where = f", line {line}" if line is not None else ""
    full = f"{table}.{key}" if table else key
    return ConfigError(f"{name}{where}: key {full!r} {why}")


_AT = re.compile(r"\(at line (\d+), column \d+\)|\(at end of document\)")


def _syntax_error(name: str, text: str, exc: tomllib.TOMLDecodeError) -> str:
    message = str(exc)
    match = _AT.search(message)
    lines = text.splitlines()
    line = int(match.group(1)) if match and match.group(1) else max(1, len(lines))
    reason = _AT.sub("", message).strip()
    key = ""
    if 0 < line <= len(lines):
        found = re.match(r"^\s*([A-Za-z0-9_.\"'-]+)\s*=?", lines[line - 1])
        if found and found.group(1):
            key = f" (key {found.group(1).strip(chr(34) + chr(39))!r})"
    return f"{name}, line {line}{key}: {reason[:1].lower() + reason[1:]}"


def dumps(config: Config) -> str:
    """The TOML text of a config (what "save" writes): every key, so the file documents itself."""

    def value(v: Any) -> str:
        if isinstance(v, bool):
            return "true" if v else "false"
        if isinstance(v, str):
            return '"' + v.replace("\\", "\\\\").replace('"', '\\"') + '"'
        if isinstance(v, tuple | list):
            return "[" + ", ".join(value(x) for x in v) + "]"
        if isinstance(v, float):
            return repr(v)
        return str(v)

    lines = ["# ctop-py config: written by ctop-py when asked to save; edit freely."]
    for f in fields(Config):
        if f.name == "diagnose":
            continue
        lines.append(f"{f.name} = {value(getattr(config, f.name))}")
    if config.diagnose:
        lines += ["", "[diagnose]"]
        lines += [f"{k} = {value(v)}" for k, v in sorted(config.diagnose.items())]
    return "\n".join(lines) + "\n"


def save(config: Config, path: str | os.PathLike[str]) -> Path:
    """Write `config` to `path` atomically (a temporary file renamed over it); the directory is
    created when missing. Raises OSError."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    temporary = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    try:
        temporary.write_text(dumps(config), encoding="utf-8")
        os.replace(temporary, target)
    finally:
        temporary.unlink(missing_ok=True)
    return target
