"""The frozen state every screen renders from. The app replaces it (never mutates it) when a
snapshot arrives or the status changes, and pushes it down to its screens inside
`batch_update()`; a screen reads only its own `state`."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from ctop_py.diagnose import Diagnosis
from ctop_py.model import Snapshot
from ctop_py.ui.history import Histories
from ctop_py.ui.replay import ReplayStatus
from ctop_py.ui.source import SelfStats

_NO_NAMES: Mapping[int, str] = MappingProxyType({})


@dataclass(frozen=True)
class UiState:
    snapshot: Snapshot | None = None
    own: SelfStats | None = None  # ctop-py's own cost
    interval_s: float = 1.0
    paused: bool = False
    replay: ReplayStatus | None = None  # the cursor of a replay; None live
    replaying: bool = False  # chosen once: a replay's controller, not the live one
    reads_host: bool = True  # the live-only panes (layers, network, stacks) may read this host
    shadowed: frozenset[str] = frozenset()  # table actions whose keys the controller takes
    user_names: Mapping[int, str] = field(default_factory=lambda: _NO_NAMES)
    # The bounded histories (sparklines). Fed by the app on its thread, read by screens; a
    # replay that jumps replaces them with a rebuilt one (a new state).
    histories: Histories = field(default_factory=Histories)
    generation: int = 0  # snapshots applied so far
    acting: bool = False  # the actions menu and the shell are offered (live, not read-only)
    read_only: bool = False  # --read-only: no actions, no shell, no config file written

    # Findings per container and the newest events (ctop_py.diagnose), computed in the worker.
    diagnosis: Diagnosis = field(default_factory=Diagnosis)
