"""What fills the container screen's on-demand tabs (layers, network, stacks).

Each loader runs in a worker thread, for the container on screen, only when its tab is shown
(or reloaded with R): layer walks, netlink and py-spy are never run for every container on
every tick. Each returns plain text (already escaped), shown literally. What a loader needs
is imported when it first runs: the containers list needs none of it."""

from __future__ import annotations

from collections.abc import Callable

from ctop_py import present
from ctop_py.host import Gone, HostError, HostRoot, NoAccess
from ctop_py.model import ContainerView

Loader = Callable[[ContainerView], object]
MAX_CHANGES_SHOWN = 300


def _running(view: ContainerView) -> int | None:
    return view.raw.init_pid if view.raw.pids else None


def layers_loader(root: HostRoot) -> Loader:
    def load(view: ContainerView) -> object:
        from ctop_py import layers
        from ctop_py.present.layers import stack_text

        pid = _running(view)
        if pid is None:
            return "the container is not running: it has no mounts to show"
        runtime_id = view.raw.id if view.raw.runtime in ("docker", "podman") else None
        try:
            stack = layers.read_stack(root, pid, runtime_id)
        except Gone:
            return "the container exited while its mounts were read"
        except NoAccess as exc:
            return f"{present.safe(str(exc))}\nreading a container's mounts needs root"
        notes: tuple[str, ...] = ()
        changes = None
        try:
            if stack.upper is not None:
                changes = layers.compute_changes(root, stack, max_changes=MAX_CHANGES_SHOWN)
        except (NoAccess, PermissionError):
            notes = ("the container layer is unreadable (needs root)",)
        except Gone:
            notes = ("the container layer vanished (the container exited)",)
        return stack_text(stack, changes, notes)

    return load


def network_loader(root: HostRoot) -> Loader:
    def load(view: ContainerView) -> object:
        from ctop_py import net
        from ctop_py.present.net import format_net

        if _running(view) is None:
            return "the container is not running: it has no network namespace"
        try:
            reading = net.read_container_net(root, view.raw)
        except HostError as exc:
            return present.safe(str(exc))
        return format_net(reading, None)

    return load


def stacks_loader(root: HostRoot, targets: dict[str, int] | None = None) -> Loader:
    """py-spy pauses nothing here (--nonblocking) and runs only when the tab is shown, or when
    `t` on the Processes tab names a process (`targets`: container key -> pid)."""

    def load(view: ContainerView) -> object:
        from ctop_py import stacks
        from ctop_py.present.stacks import outcomes_text
        from ctop_py.ui.history import container_key

        if _running(view) is None:
            return "the container is not running"
        target = (targets or {}).get(container_key(view))
        try:
            if target is not None and target in view.raw.pids:
                dumped = stacks.dump(target, root=root)
                outcomes: tuple[stacks.StackOutcome, ...] = (
                    stacks.StackOutcome(target, None, dumped, None),
                )
            else:
                outcomes = stacks.dump_container(root, view.raw)
        except stacks.StackError as exc:
            return present.safe(str(exc))
        return outcomes_text(outcomes, picked=target is not None)

    return load


def live_loaders(root: HostRoot, targets: dict[str, int] | None = None) -> dict[str, Loader]:
    return {
        "layers": layers_loader(root),
        "network": network_loader(root),
        "stacks": stacks_loader(root, targets),
    }
