"""Textual's Linux terminal driver, with an input thread that sleeps while no key comes.

Textual's input thread wakes ten times a second (`select(0.1)`) whether or not a key came: to
see whether the app is quitting, and to time out a lone Esc. On a still screen that was about
0.1 % of a core, a tenth of the list's whole cost at 10 containers (thread CPU from
/proc/<pid>/task, issue 16). Here the thread waits in `select()` until a key comes, with a
timeout only while the parser waits for the rest of an escape sequence (a lone Esc still
arrives after Textual's delay), and `disable_input` (quit, suspend for a shell) wakes it
through a pipe.

It builds on Textual internals (the private XTermParser, LinuxDriver's own input thread and
its attributes); `driver_class()` gives Textual's LinuxDriver where they are not there
(`textual>=8.2,<9` lets another Textual be installed): the same keys, at Textual's cost.
"""

from __future__ import annotations

import contextlib
import importlib
import os
import selectors
from codecs import getincrementaldecoder
from typing import TYPE_CHECKING, Any

from textual.drivers.linux_driver import LinuxDriver

if TYPE_CHECKING:
    from textual._xterm_parser import XTermParser

ESCAPE_POLL_S = 0.1  # Textual's own poll, kept while an escape sequence is incomplete
# LinuxDriver's own methods that QuietLinuxDriver overrides and calls
OVERRIDDEN = ("start_application_mode", "disable_input", "close", "run_input_thread")
# what run_input_thread uses of a LinuxDriver that its __init__ sets (process_message is Driver's)
ATTRIBUTES = ("fileno", "exit_event", "_debug")


def driver_class() -> type[LinuxDriver]:
    """QuietLinuxDriver where the Textual installed has what it builds on, else LinuxDriver."""
    if _parser_class() is not None and all(n in vars(LinuxDriver) for n in OVERRIDDEN):
        return QuietLinuxDriver
    return LinuxDriver


def _parser_class() -> type[XTermParser] | None:
    try:
        module = importlib.import_module("textual._xterm_parser")
    except ImportError:
        return None
    parser: type[XTermParser] | None = getattr(module, "XTermParser", None)
    if parser is None or not all(hasattr(parser, n) for n in ("feed", "tick")):
        return None
    return parser


class QuietLinuxDriver(LinuxDriver):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._wake_read = self._wake_write = -1
        self._open_wake_pipe()

    def _open_wake_pipe(self) -> None:
        self._wake_read, self._wake_write = os.pipe()
        os.set_blocking(self._wake_read, False)

    def start_application_mode(self) -> None:
        # Suspending the app (a shell in a container) closes the driver (Driver.
        # suspend_application_mode), and resuming starts it again: a new pipe then.
        if self._wake_read < 0:
            self._open_wake_pipe()
        super().start_application_mode()  # type: ignore[no-untyped-call]

    def disable_input(self) -> None:
        # The byte stays unread until the next input thread starts: a thread that wakes
        # before the exit event is set only loops until it is.
        if self._wake_write >= 0:
            with contextlib.suppress(OSError):
                os.write(self._wake_write, b"x")
        super().disable_input()

    def close(self) -> None:
        super().close()
        for fd in (self._wake_read, self._wake_write):
            with contextlib.suppress(OSError):
                os.close(fd)
        self._wake_read = self._wake_write = -1  # never written to again: the number is reused

    def run_input_thread(self) -> None:
        """LinuxDriver.run_input_thread, waiting without a timeout while nothing is pending."""
        parser_class = _parser_class()
        if parser_class is None or not all(hasattr(self, n) for n in ATTRIBUTES):
            super().run_input_thread()  # Textual's, polling (the wake-up pipe is not needed)
            return
        with contextlib.suppress(OSError):  # a wake-up left by the last disable_input
            while os.read(self._wake_read, 64):
                pass
        selector = selectors.SelectSelector()
        fileno = self.fileno
        selector.register(fileno, selectors.EVENT_READ)
        selector.register(self._wake_read, selectors.EVENT_READ)
        parser = parser_class(self._debug)
        decode = getincrementaldecoder("utf-8")().decode

        def pending() -> bool:
            # Parser internals: fall back to Textual's poll if they change.
            return getattr(parser, "_timeout_time", 0.0) is not None

        def process(events: list[tuple[selectors.SelectorKey, int]], final: bool = False) -> None:
            keys = [key for key, mask in events if key.fd == fileno and mask & selectors.EVENT_READ]
            for index, _key in enumerate(keys):
                data = decode(os.read(fileno, 1024 * 4), final=final and index == len(keys) - 1)
                if not data:
                    break  # stdin piped and at its end
                for event in parser.feed(data):
                    self.process_message(event)
            for event in parser.tick():
                self.process_message(event)

        try:
            while not self.exit_event.is_set():
                process(selector.select(ESCAPE_POLL_S if pending() else None))
            selector.unregister(fileno)
            process(selector.select(ESCAPE_POLL_S), final=True)
        finally:
            selector.close()
