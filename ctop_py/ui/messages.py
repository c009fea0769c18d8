"""Messages posted up to the app: what the collect worker delivers, and the intents of screens
and widgets (open a container, want its detail, pick a process for the Stacks tab). Screens and
widgets never call the app; the app answers by pushing a new `UiState` down."""

from __future__ import annotations

from collections.abc import Mapping

from textual.message import Message

from ctop_py.diagnose import Diagnosis
from ctop_py.model import ContainerView, Snapshot
from ctop_py.ui.replay import Frame
from ctop_py.ui.source import SelfStats


class SnapshotReady(Message):
    """Posted by the collect worker (from its thread): the controller's frame (None: nothing
    new), our own cost, and the names of the uids seen for the first time."""

    def __init__(
        self,
        frame: Frame | None,
        own: SelfStats,
        users: Mapping[int, str],
        diagnosis: Diagnosis | None = None,
    ) -> None:
        super().__init__()
        self.frame = frame
        self.diagnosis = diagnosis  # of the frame (None: no frame)
        self.snapshot: Snapshot | None = None if frame is None else frame.snapshot
        self.own = own
        self.users = users

    def can_replace(self, message: Message) -> bool:
        """A newer live snapshot supersedes one still queued (the UI fell behind): it is
        skipped, not rendered late. A replay's frame (a position, histories to feed or
        rebuild) is never skipped."""
        return (
            isinstance(message, SnapshotReady)
            and _live(self.frame)
            and _live(message.frame)
            and not self.users
        )


def _live(frame: Frame | None) -> bool:
    return frame is not None and frame.index is None


class OpenContainer(Message):
    """Show one container in depth (from the table, the palette, a test)."""

    def __init__(self, key: str) -> None:
        super().__init__()
        self.key = key


class DetailWanted(Message):
    """The container screen for `key` opened (wanted) or closed: the app keeps its history
    when it is gone and asks the source for its per-process detail."""

    def __init__(self, key: str, wanted: bool) -> None:
        super().__init__()
        self.key = key
        self.wanted = wanted


class StackTargetPicked(Message):
    """`t` on the Processes tab: the Stacks tab of `key` dumps process `pid`."""

    def __init__(self, key: str, pid: int) -> None:
        super().__init__()
        self.key = key
        self.pid = pid


class ControlMoved(Message):
    """The controller moved outside a key action (the jump dialog answered): collect."""


class ActOn(Message):
    """`x` on a container: open the actions menu (or say why there is none)."""

    def __init__(self, view: ContainerView) -> None:
        super().__init__()
        self.view = view


class ShellIn(Message):
    """`e` on a container: run the configured shell in it, the app suspended meanwhile."""

    def __init__(self, view: ContainerView) -> None:
        super().__init__()
        self.view = view


class SaveColumns(Message):
    """The column chooser's `w`: write these columns to the config file."""

    def __init__(self, columns: tuple[str, ...]) -> None:
        super().__init__()
        self.columns = columns


class OpenImageLayers(Message):
    """Explore the layers of a local image (`i` on a container screen, the palette)."""

    def __init__(self, ref: str) -> None:
        super().__init__()
        self.ref = ref
