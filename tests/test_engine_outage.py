"""The engine goes away and comes back: containers stay visible from the kernel's view with
their ids, the outage is said, and names return with the engine.

The outage is made with a socket proxy we control (stopping the real dockerd would stop every
container on a host without live-restore, and other tests' too)."""

from __future__ import annotations

import contextlib
import os
import socket
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from ctop_py.collect import Collector
from ctop_py.model import RawSample
from ctop_py.runtimes.docker import EngineClient
from tests.conftest import BASE_IMAGE, SLEEP, RunContainer, wait_for

pytestmark = pytest.mark.docker
DOCKER_SOCK = "/var/run/docker.sock"


class SocketProxy:
    """Forwards a unix socket to dockerd's while `up`; when down, nothing listens."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.server: socket.socket | None = None
        self.thread: threading.Thread | None = None
        self.open: list[socket.socket] = []

    def up(self) -> None:
        self.server = socket.socket(socket.AF_UNIX)
        self.server.bind(str(self.path))
        self.server.listen(16)
        self.thread = threading.Thread(target=self._serve, args=(self.server,), daemon=True)
        self.thread.start()

    def down(self) -> None:
        if self.server is not None:
            self.server.close()
            self.server = None
        for conn in self.open:  # kept-alive HTTP connections die with the daemon too
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)
            conn.close()
        self.open.clear()
        with contextlib.suppress(FileNotFoundError):
            self.path.unlink()

    def _serve(self, server: socket.socket) -> None:
        while True:
            try:
                client, _ = server.accept()
            except OSError:
                return
            upstream = socket.socket(socket.AF_UNIX)
            upstream.connect(DOCKER_SOCK)
            self.open += [client, upstream]
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(a, b), daemon=True).start()

    @staticmethod
    def _pump(src: socket.socket, dst: socket.socket) -> None:
        with contextlib.suppress(OSError):
            while data := src.recv(65536):
                dst.sendall(data)
        with contextlib.suppress(OSError):
            dst.shutdown(socket.SHUT_WR)


@pytest.fixture
def proxy() -> Iterator[SocketProxy]:
    directory = Path(tempfile.mkdtemp(prefix="ctop-engine-"))
    p = SocketProxy(directory / "docker.sock")
    try:
        yield p
    finally:
        p.down()
        os.rmdir(directory)


@pytest.mark.parametrize("events", [False, True], ids=["listing", "events"])
def test_engine_outage_and_return(
    run_container: RunContainer, proxy: SocketProxy, events: bool
) -> None:
    """`events`: the cache kept by the event stream, which dies with the engine too (the list
    is read by time again while the stream is down, and once more after it reconnects)."""
    known = run_container(BASE_IMAGE, SLEEP)
    engine = EngineClient("docker", f"unix://{proxy.path}", ttl=0.1, retry_s=0.1)
    collector = Collector(engines=[engine], watch_engines=events)
    # No names from disk either, so the test sees exactly what the engine gives.
    collector.disk_meta.get = lambda cid: None  # type: ignore[method-assign]
    try:
        proxy.up()
        up = {c.id: c for c in collector.sample().containers}
        assert up[known.id].name == known.name and engine.status == "ok"

        opened = collector.watchers[0].connections if events else 0
        proxy.down()
        during = run_container(BASE_IMAGE, SLEEP)  # started while the engine is unreachable

        def unreachable() -> RawSample | None:
            sample = collector.sample()
            return (
                sample
                if sample.engine_status["docker"].to_text().startswith("unreachable")
                else None
            )

        down = wait_for(unreachable, 10, "the collector to find the engine unreachable")
        by_id = {c.id: c for c in down.containers}
        assert down.engine_status["docker"].to_text().startswith("unreachable")
        assert "no socket" in down.engine_status["docker"].to_text()
        # Still there from the kernel's view: the new one by id, the known one keeps its name.
        assert by_id[during.id].name == during.id[:12]
        assert by_id[during.id].cgroup is not None and by_id[during.id].pids
        assert by_id[known.id].name == known.name

        proxy.up()

        def reachable() -> RawSample | None:
            sample = collector.sample()
            return sample if sample.engine_status["docker"].ok else None

        back = wait_for(reachable, 10, "the collector to reach the engine again")
        assert {c.id: c for c in back.containers}[during.id].name == during.name
        assert back.engine_status["docker"].ok
        if events:  # the stream comes back too (its retry is every 5 s)
            watcher = collector.watchers[0]
            wait_for(
                lambda: (watcher.connections > opened and watcher.status == "ok") or None,
                15,
                "the event stream again",
            )
    finally:
        collector.close()
