"""What subcommands share: the root from --root, one-line errors, finding a container."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Mapping, Sequence
from typing import Protocol, TypeVar

from ctop_py import present
from ctop_py.collect import Collector
from ctop_py.errors import CtopError
from ctop_py.host import HostRoot
from ctop_py.model import ContainerRaw, EngineStatus, RawSample


class CliError(CtopError):
    """A user-facing failure: printed as one line, exit code 2."""


class Named(Protocol):
    @property
    def id(self) -> str: ...

    @property
    def name(self) -> str: ...


C = TypeVar("C", bound=Named)


def number_in(
    low: float, high: float, what: str = "seconds", whole: bool = False
) -> Callable[[str], float]:
    """An argparse type: a number in [low, high] (0 < value when low is 0), or one clear line."""

    def parse(text: str) -> float:
        try:
            value = int(text) if whole else float(text)
        except ValueError:
            kind = "a whole number" if whole else "a number"
            raise argparse.ArgumentTypeError(f"not {kind} of {what}: {text!r}") from None
        if not (low < value if low == 0 else low <= value) or not value <= high:
            raise argparse.ArgumentTypeError(f"must be between {low:g} and {high:g} {what}: {text}")
        return value

    return parse


def root_of(args: argparse.Namespace) -> HostRoot:
    return HostRoot.at(getattr(args, "root", "/"))


def find_container(containers: Sequence[C], ref: str) -> C:
    """Exact name or id first, then a unique prefix of either."""
    for c in containers:
        if ref in (c.name, c.id):
            return c
    prefixed = [c for c in containers if c.id.startswith(ref) or c.name.startswith(ref)]
    if len(prefixed) == 1:
        return prefixed[0]
    if prefixed:
        raise CliError(f"{present.safe(ref)} matches {len(prefixed)} containers; be more precise")
    raise CliError(f"no such container: {present.safe(ref)}")


def sample_and_find(root: HostRoot, ref: str) -> tuple[RawSample, ContainerRaw]:
    """One sample of the host, and the running container that `ref` names in it."""
    collector = Collector(root)
    try:
        sample = collector.sample()
    finally:
        collector.close()
    try:
        container = find_container(sample.containers, ref)
    except CliError as exc:
        down = [f"{r} engine {s.problem}" for r, s in sample.engine_status.items() if not s.ok]
        if down:
            raise CliError(f"{exc}; names are unknown: {'; '.join(down)}") from None
        raise
    if container.init_pid is None:
        raise CliError(f"container {present.safe(container.name)} is not running")
    return sample, container


def resolve_running(root: HostRoot, ref: str) -> ContainerRaw:
    """The running container that `ref` names (one sample of the host)."""
    return sample_and_find(root, ref)[1]


def note_engines_down(status: Mapping[str, EngineStatus], missing: str) -> None:
    """A note on stderr for each engine that did not answer: its state and what is `missing`."""
    for runtime, state in status.items():
        if not state.ok:
            print(
                f"note: {runtime} engine {present.safe(state.to_text())}: {missing}",
                file=sys.stderr,
            )
