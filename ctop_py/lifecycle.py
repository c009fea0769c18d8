"""A container's life across its restarts: restart count, last exit code, OOM kills counted
over every re-creation of its cgroup, started/finished times, memory peak.

Each restart gives a container a new cgroup, whose counters start again at 0, and a 1 s sample
rarely sees the cgroup of a process the kernel kills at once. So the tracker keeps, per
container id: the kernel's `oom_kill` counter as last read (v1 memory.oom_control, v2
memory.events), added up across re-creations; on v2 also the parent cgroup's hierarchical
memory.events, whose `oom_kill` keeps counting after the child is gone (a rise that no
visible child explains goes to the one container of that parent that was re-created or went
away in the same interval, if there is exactly one); and the engine's `oom` and `die` events.
Restart count, exit state and times come from the engine's inspect (cached, re-read after an
event about the container). Never statistics from the engine.
"""

from __future__ import annotations

import os
from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from ctop_py.cgroupfs import CgroupLayout, parse_flat_keyed
from ctop_py.model import ContainerRaw, EngineEvent, Lifecycle
from ctop_py.runtimes.engine_events import EngineInspector, Inspected

# A container not seen for this long (no cgroup, not listed) is forgotten.
FORGET_AFTER_S = 900.0


@dataclass
class _Life:
    """What the tracker keeps of one container between ticks."""

    seen: bool = False  # a baseline of its counters was taken
    present: bool = False  # it had a cgroup on the previous tick
    init_pid: int | None = None
    usage_ns: int | None = None
    oom_counter: int | None = None
    kernel_oom: int = 0
    engine_oom: int = 0
    die_code: int | None = None
    peak: int | None = None
    recreations: int = 0
    last_seen: float = 0.0
    lifecycle: Lifecycle | None = None
    parent: str | None = None  # v2: the directory of its parent cgroup
    memory_max: int | None = None  # the limit last read from its cgroup
    # Its last run ended in an OOM kill, by the engine's events: an `oom`, and no `die` with
    # another code since (the engine's inspect may say OOMKilled false when the exit is
    # processed before the OOM notification).
    last_exit_oom: bool | None = None
    # What `lifecycle` and the last annotated record were made of: an idle container gets
    # the same objects back every tick (no new garbage, and the app sees nothing changed).
    inputs: tuple[object, ...] = ()
    record_in: ContainerRaw | None = None
    record_out: ContainerRaw | None = None
    raw_in: ContainerRaw | None = None  # the collector's record `record_in` was settled from


class LifecycleTracker:
    def __init__(
        self,
        layout: CgroupLayout,
        inspectors: Mapping[str, EngineInspector] | None = None,
    ) -> None:
        self.layout = layout
        self.inspectors = dict(inspectors or {})
        # Whose inspect is worth reading (None: every container's): `snapshot` without --all
        # prints only the active ones.
        self.inspect_wanted: Callable[[ContainerRaw], bool] | None = None
        self._lives: dict[tuple[str, str], _Life] = defaultdict(_Life)
        self._parents: dict[str, int] = {}  # v2 parent dir -> its oom_kill counter
        self._parent_dirs: dict[str, str] = {}  # cgroup path -> its parent's directory

    def close(self) -> None:
        for inspector in self.inspectors.values():
            inspector.close()

    def update(
        self, containers: Sequence[ContainerRaw], events: Sequence[EngineEvent], now: float
    ) -> list[ContainerRaw]:
        """The containers with their `lifecycle` set (and `state` "restarting" where the
        engine says so of a container that has no processes right now)."""
        for event in events:
            self._event(event)
        changed: dict[str, list[tuple[str, str]]] = defaultdict(list)  # parent -> candidates
        explained: dict[str, int] = defaultdict(int)  # parent -> kills seen in its children
        lives = self._lives
        lives_of = []  # each container's, in order
        records = []  # the containers, each settled against its previous record
        for c in containers:
            key = (c.runtime, c.id)
            life = lives[key]
            lives_of.append(life)
            if c is life.raw_in:  # the collector's record of the previous tick: as settled then
                c = life.record_in or c
            else:
                life.raw_in = c
                if life.record_in is not None:
                    c = _settled(c, life.record_in)
            records.append(c)
            life.last_seen = now
            if c is life.record_in and life.present:
                # The very record of the previous tick (an idle container): the same counters
                # as last counted, nothing to add.
                if life.parent is not None and life.parent not in explained:
                    explained[life.parent] = 0
                continue
            stats = c.cgroup
            parent = self._parent(c.cgroup_path) or life.parent  # gone: where it was
            life.parent = parent
            if stats is None or stats.gone or not c.pids:
                if life.present and parent is not None:
                    changed[parent].append(key)
                life.present = False
                continue
            counter = stats.memory.events.get("oom_kill")
            usage = stats.cpu.usage_ns
            recreated = life.seen and (
                not life.present
                or (c.init_pid is not None and c.init_pid != life.init_pid)
                or (usage is not None and life.usage_ns is not None and usage < life.usage_ns)
                or (
                    counter is not None
                    and life.oom_counter is not None
                    and counter < life.oom_counter
                )
            )
            added = 0
            if recreated:
                life.recreations += 1
                added = counter or 0  # a new cgroup counts from 0
                if parent is not None:
                    changed[parent].append(key)
            elif life.seen and counter is not None and life.oom_counter is not None:
                added = max(0, counter - life.oom_counter)
            life.kernel_oom += added
            if parent is not None:
                explained[parent] += added
            life.seen = life.present = True
            life.init_pid, life.usage_ns, life.oom_counter = c.init_pid, usage, counter
            life.memory_max = stats.limits.memory_max_bytes
            for peak in (stats.memory.peak_bytes, stats.memory.current_bytes):
                if peak is not None and (life.peak is None or peak > life.peak):
                    life.peak = peak
        if self.layout.mode == "v2":
            self._parent_kills(changed, explained)
        containers = records
        wanted: dict[str, list[str]] = defaultdict(list)
        for c in containers:
            inspector = self.inspectors.get(c.runtime)
            if inspector is not None and (self.inspect_wanted is None or self.inspect_wanted(c)):
                wanted[c.runtime].append(c.id)
                cached = inspector.cached(c.id)
                # It said running, but it has no processes: it died (its event may not have
                # come yet); ask again.
                if not c.pids and cached is not None and cached.status == "running":
                    inspector.invalidate(c.id)
        inspected: dict[tuple[str, str], Inspected] = {}
        for runtime, ids in wanted.items():
            for cid, found in self.inspectors[runtime].get(ids).items():
                inspected[(runtime, cid)] = found
        result = [
            self._annotate(c, life, inspected.get((c.runtime, c.id)) if inspected else None)
            for c, life in zip(containers, lives_of, strict=True)
        ]
        if len(lives) > len(containers):  # some not here: forget those gone for long
            present = {(c.runtime, c.id) for c in containers}
            for key in lives.keys() - present:
                if now - lives[key].last_seen > FORGET_AFTER_S:
                    del lives[key]
        return result

    def _event(self, event: EngineEvent) -> None:
        life = self._lives[(event.runtime, event.container_id)]
        if event.action == "oom":
            life.engine_oom += 1
            life.last_exit_oom = True
        elif event.action == "die":
            code = event.attributes.get("exitCode")
            if code is not None and code.lstrip("-").isdigit():
                life.die_code = int(code)
                if life.die_code != 137:  # SIGKILL, which an OOM kill is
                    life.last_exit_oom = False
        inspector = self.inspectors.get(event.runtime)
        if inspector is not None:
            inspector.invalidate(event.container_id)

    def _parent(self, cgroup_path: str | None) -> str | None:
        if self.layout.mode != "v2" or self.layout.unified is None or not cgroup_path:
            return None
        found = self._parent_dirs.get(cgroup_path)
        if found is None:
            parent = os.path.dirname(cgroup_path.rstrip("/"))
            found = str(self.layout.unified / parent.lstrip("/"))
            if len(self._parent_dirs) >= 16384:
                self._parent_dirs.clear()
            self._parent_dirs[cgroup_path] = found
        return found

    def _parent_kills(
        self, changed: Mapping[str, list[tuple[str, str]]], explained: Mapping[str, int]
    ) -> None:
        """v2: the parent's hierarchical memory.events oom_kill rose by more than the kills
        seen in its children: give the rest to the one child re-created or gone meanwhile."""
        parents = set(changed) | set(explained) | set(self._parents)
        for parent in parents:
            try:
                with open(parent + "/memory.events", "rb") as f:
                    counter = parse_flat_keyed(f.read()).get("oom_kill")
            except (OSError, ValueError):
                counter = None
            before = self._parents.get(parent)
            if counter is None:
                self._parents.pop(parent, None)
                continue
            self._parents[parent] = counter
            if before is None or counter <= before:
                continue
            unexplained = counter - before - explained.get(parent, 0)
            candidates = changed.get(parent, [])
            if unexplained > 0 and len(candidates) == 1:
                self._lives[candidates[0]].kernel_oom += unexplained

    def _annotate(self, c: ContainerRaw, life: _Life, inspected: Inspected | None) -> ContainerRaw:
        state = c.state
        # Between two runs of a crash-loop, or started again after our cgroup scan.
        if inspected is not None and not c.pids and inspected.status in ("restarting", "running"):
            state = "restarting"
        inputs = (inspected, life.die_code, life.kernel_oom, life.engine_oom, life.peak,
                  life.recreations, life.memory_max, life.present, life.last_exit_oom)  # fmt: skip
        lifecycle = life.lifecycle
        if lifecycle is None or inputs != life.inputs:
            lifecycle = self._lifecycle(life, inspected)
            if lifecycle == life.lifecycle:
                lifecycle = life.lifecycle  # the same object as last tick: no new garbage
            life.lifecycle, life.inputs = lifecycle, inputs
        out = life.record_out
        if (
            out is not None
            and c is life.record_in
            and out.state == state
            and out.lifecycle is lifecycle
        ):
            return out  # the same record as last tick
        out = _with(c, state, lifecycle)
        life.record_in, life.record_out = c, out
        return out

    @staticmethod
    def _lifecycle(life: _Life, inspected: Inspected | None) -> Lifecycle:
        oom_killed = inspected.oom_killed if inspected is not None else None
        if life.last_exit_oom is not None:
            oom_killed = life.last_exit_oom
        if oom_killed is None and life.kernel_oom:
            oom_killed = True
        return Lifecycle(
            restart_count=inspected.restart_count if inspected else None,
            last_exit_code=life.die_code
            if life.die_code is not None
            else (inspected.exit_code if inspected else None),
            oom_killed=oom_killed,
            oom_kills=max(life.kernel_oom, life.engine_oom),
            started_at=inspected.started_at if inspected else None,
            finished_at=inspected.finished_at if inspected else None,
            kernel_oom_kills=life.kernel_oom,
            memory_peak_bytes=life.peak,
            recreations=life.recreations,
            memory_max_bytes=life.memory_max
            if life.present or inspected is None
            else inspected.memory_max_bytes,
        )


def _settled(c: ContainerRaw, old: ContainerRaw) -> ContainerRaw:
    """The previous record `old` when `c` has its very counters (the collector carries them
    while no file changed) and every other part equal to it (the same type, an equal value),
    else `c`. The collector makes such a record when it reads the engine's list again (new
    names, labels, state, all equal); settled, it is for all that comes after (the ring's
    encoder, derive, the diagnosis, the list: each skips a record that is the same object as
    a tick ago) the unchanged record it is. A busy container's counters are new objects
    every tick: for it this costs two identity checks."""
    if c.cgroup is not old.cgroup or c.net is not old.net:
        return c
    now, was = c.__dict__, old.__dict__
    for name, value in now.items():
        before = was[name]
        if value is not before and (type(value) is not type(before) or value != before):
            return c
    return old


def _with(c: ContainerRaw, state: str, lifecycle: Lifecycle) -> ContainerRaw:
    """dataclasses.replace(c, state=…, lifecycle=…), without re-running __init__: this runs
    for every container on every tick (5× faster: 1,000 containers cost 2 ms, not 10)."""
    new = object.__new__(ContainerRaw)
    new.__dict__.update(c.__dict__)
    new.__dict__["state"] = state
    new.__dict__["lifecycle"] = lifecycle
    return new
