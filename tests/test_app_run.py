"""What `CtopApp.run` (the app in a terminal, as `ctop-py` starts it) does before its loop."""

from __future__ import annotations

import gc
import weakref

from textual.pilot import Pilot

from ctop_py.demo import raw_samples
from ctop_py.ui.app import replay_app


def test_run_freezes_what_lives_as_long_as_the_process() -> None:
    """The imports and the app are moved out of the cyclic collector's generations before
    the first frame (so its full passes follow the ticks' garbage, not them)."""
    app = replay_app(raw_samples(3), title="t", playing=False)
    seen: list[int] = []

    class Node:
        pass

    # Garbage already in the oldest generation: only a full pass frees it. Frozen, it would
    # stay for the process's life: run() collects before it freezes.
    node = Node()
    node.self = node  # type: ignore[attr-defined]
    gone = weakref.ref(node)
    gc.collect()
    del node
    assert gone() is not None  # not freed by reference counting

    async def pilot(driver: Pilot[int]) -> None:
        seen.append(gc.get_freeze_count())
        assert gone() is None
        driver.app.exit(0)

    assert gc.get_freeze_count() == 0
    try:
        assert app.run(headless=True, auto_pilot=pilot) == 0
        assert seen and seen[0] > 1000
    finally:
        gc.unfreeze()
