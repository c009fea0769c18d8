"""The Engine API read path (ctop_py/runtimes/engine_api.py): HTTP/1.1 framing and the event
stream's JSON on literal bytes; list, inspect and events against the REAL engine, compared
with what the docker CLI says (`docker inspect`, `docker events`); the error mapping on real
sockets; and the cache kept by events (EngineClient) against `docker inspect`."""

from __future__ import annotations

import io
import json
import socket
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from ctop_py.model import EngineEvent, RawSample
from ctop_py.runtimes import engine_api
from ctop_py.runtimes.docker import EngineClient
from ctop_py.runtimes.engine_api import EngineAPI, EngineError, NotFound, Response, json_stream
from ctop_py.runtimes.engine_events import EngineEventWatcher, read_past_events
from tests.conftest import BASE_IMAGE, SLEEP, DockerClient, RunContainer, deadline_s, wait_for

SOCK = "unix:///var/run/docker.sock"


def response(raw: bytes) -> Response:
    return Response(io.BufferedReader(io.BytesIO(raw)))


# -- framing, on literal bytes -------------------------------------------------------------


def test_content_length_body() -> None:
    r = response(
        b'HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 9\r\n\r\n[{"a":1}]'
    )
    assert (r.status, r.length, r.chunked, r.reusable) == (200, 9, False, True)
    assert json.loads(r.read()) == [{"a": 1}]
    assert r.complete


def test_chunked_body_with_extensions_and_trailers() -> None:
    raw = (
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
        b'4;ext=1\r\n[{"a\r\n'
        b'A\r\n":"\xc3\xa9"},{"\r\n'
        b'8\r\nb":2}]\n\n\r\n'
        b"0\r\nX-Trailer: 1\r\n\r\n"
    )
    r = response(raw)
    assert r.chunked and r.reusable
    chunks = list(r.chunks())
    assert chunks == [b'[{"a', b'":"\xc3\xa9"},{"', b'b":2}]\n\n']
    assert json.loads(b"".join(chunks)) == [{"a": "é"}, {"b": 2}]
    assert r.complete


def test_body_until_close_is_not_reusable() -> None:
    r = response(b"HTTP/1.0 200 OK\r\nConnection: close\r\n\r\n{}")
    assert not r.reusable and r.length is None
    assert r.read() == b"{}"


def test_broken_framing() -> None:
    with pytest.raises(EngineError, match="bad chunk size"):
        response(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n").read()
    with pytest.raises(ConnectionResetError):  # cut in a chunk
        response(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n10\r\nabc").read()
    with pytest.raises(ConnectionResetError):  # shorter than its length
        response(b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc").read()
    with pytest.raises(EngineError, match="not an HTTP response"):
        response(b"SSH-2.0-OpenSSH_9.2\r\n\r\n")
    with pytest.raises(ConnectionResetError):  # closed before any answer
        response(b"")


def test_json_stream_across_chunk_boundaries() -> None:
    one = {"Type": "container", "Action": "start", "Actor": {"ID": "a" * 64}, "n": "ü"}
    two = {"Type": "container", "Action": "die", "Actor": {"ID": "b" * 64}}
    text = (json.dumps(one, ensure_ascii=False) + "\n" + json.dumps(two) + "\n").encode()
    for size in (1, 2, 3, 7, len(text)):  # every cut, through a 2-byte character too
        pieces = [text[i : i + size] for i in range(0, len(text), size)]
        assert list(json_stream(iter(pieces))) == [one, two], size
    # Two objects in one chunk, no newline between them (the SDK's decoder allows it too).
    assert list(json_stream(iter([b'{"a":1}{"b":2}']))) == [{"a": 1}, {"b": 2}]
    with pytest.raises(EngineError, match="inside a JSON value"):
        list(json_stream(iter([b'{"a":1}\n{"b":'])))
    # Bytes that are not UTF-8 (a container's name is the container's to choose) are U+FFFD.
    assert list(json_stream(iter([b'{"name":"a\xff', b'b"}']))) == [{"name": "a\ufffdb"}]


def test_no_body_whatever_the_headers_say() -> None:
    r = response(b"HTTP/1.1 204 No Content\r\nTransfer-Encoding: chunked\r\n\r\n")
    assert r.read() == b"" and r.reusable


def test_error_status_is_said_with_the_engines_message() -> None:
    with pytest.raises(NotFound, match=r"404.*No such container: x"):
        engine_api._decode(404, b'{"message":"No such container: x"}')
    with pytest.raises(EngineError, match=r"HTTP 500 from the engine$") as info:
        engine_api._decode(500, b"oops")
    assert info.value.status == 500


# -- a scripted engine on a unix socket: keep-alive, and a closed kept-alive connection -----


class ScriptedEngine:
    """Answers each request on a connection with the next canned response; closes the
    connection after the responses listed for it."""

    def __init__(self, path: Path, per_connection: list[list[bytes]]) -> None:
        self.path = path
        self.script = per_connection
        self.requests: list[tuple[int, bytes]] = []  # (connection number, request line)
        self.server = socket.socket(socket.AF_UNIX)
        self.server.bind(str(path))
        self.server.listen(4)
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        for number, answers in enumerate(self.script):
            conn, _ = self.server.accept()
            reader = conn.makefile("rb")
            for answer in answers:
                line = reader.readline()
                while reader.readline() not in (b"\r\n", b""):
                    pass
                self.requests.append((number, line.strip()))
                conn.sendall(answer)
            reader.close()
            conn.close()

    def close(self) -> None:
        self.server.close()


def _ok(body: bytes) -> bytes:
    return b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body)


@pytest.fixture
def sock_dir() -> Iterator[Path]:
    # A short path: a unix socket's path is limited to 108 bytes.
    directory = Path(tempfile.mkdtemp(prefix="ctop-api-"))
    yield directory
    for entry in directory.iterdir():
        entry.unlink()
    directory.rmdir()


def test_keep_alive_and_one_retry_after_the_engine_closed_it(sock_dir: Path) -> None:
    engine = ScriptedEngine(
        sock_dir / "e.sock", [[_ok(b"[]"), _ok(b'{"Id":"x"}')], [_ok(b'[{"Id":"y"}]')]]
    )
    api = EngineAPI(f"unix://{engine.path}", timeout=5)
    try:
        assert api.containers() == []
        assert api.inspect("x") == {"Id": "x"}  # the same connection
        # The engine closed the connection after its two answers: sent again on a new one.
        assert api.containers() == [{"Id": "y"}]
    finally:
        api.close()
        engine.close()
    assert engine.requests == [
        (0, b"GET /containers/json?all=1 HTTP/1.1"),
        (0, b"GET /containers/x/json HTTP/1.1"),
        (1, b"GET /containers/json?all=1 HTTP/1.1"),
    ]


def test_a_container_being_removed_is_listed_again_until_gone(sock_dir: Path) -> None:
    """Without an event stream: a "removing" container has no cgroup, so the kernel and the list
    agree, yet its row must not wait `ttl` for the next list (found by tests/test_churn.py in
    the v2 guest: a "removing" row outlived the removal by two ticks)."""
    cid = "a" * 64
    removing = b'[{"Id":"%s","Names":["/web"],"State":"removing"}]' % cid.encode()
    engine = ScriptedEngine(sock_dir / "e.sock", [[_ok(removing), _ok(b"[]")]])
    client = EngineClient("docker", f"unix://{sock_dir / 'e.sock'}", ttl=3600)
    try:
        assert client.metadata(())[cid].state == "removing"
        assert cid not in client.metadata(())  # listed again at once: gone
        assert client.lists == 2
        client.metadata(())
        assert client.lists == 2  # nothing left to settle: no list until ttl
    finally:
        client.close()
        engine.close()


def test_a_list_again_keeps_each_unchanged_entry_and_replaces_each_changed_one(
    sock_dir: Path,
) -> None:
    """The collector keeps a container's record while its Meta is the same object: a list
    read again hands back the entries the engine did not change (the same objects), and new
    ones, with the engine's new values, for those it did; an event that changes nothing keeps
    the entry too."""
    a, b = "a" * 64, "b" * 64

    def listing(b_state: str) -> bytes:
        entries = [
            {"Id": a, "Names": ["/web"], "Image": "img:1", "State": "running",
             "Labels": {"k": "v"}},
            {"Id": b, "Names": ["/db"], "Image": "img:2", "State": b_state, "Labels": {}},
        ]  # fmt: skip
        return json.dumps(entries).encode()

    engine = ScriptedEngine(
        sock_dir / "e.sock", [[_ok(listing("running")), _ok(listing("paused"))]]
    )
    client = EngineClient("docker", f"unix://{sock_dir / 'e.sock'}", ttl=3600, settle_s=0.0)
    try:
        first = dict(client.metadata((a, b)))
        client.expire()  # list again
        second = dict(client.metadata((a, b)))
        assert client.lists == 2
        assert second[a] is first[a]  # unchanged: the same object
        assert second[b] is not first[b]
        assert (second[b].state, first[b].state) == ("paused", "running")
        assert (second[a].name, second[a].labels) == ("web", {"k": "v"})
        now = time.time() + 1
        client.apply([EngineEvent(now, "docker", b, "pause", {})])  # already paused
        client.apply([EngineEvent(now, "docker", a, "rename", {"name": "/web"})])
        assert client._meta[a] is second[a] and client._meta[b] is second[b]
        client.apply([EngineEvent(now, "docker", b, "unpause", {})])
        assert client._meta[b].state == "running"
    finally:
        client.close()
        engine.close()


def test_reasons_on_real_sockets(sock_dir: Path) -> None:
    missing = f"unix://{sock_dir}/none.sock"
    with pytest.raises(FileNotFoundError) as info:
        EngineAPI(missing).containers()
    assert engine_api.reason(info.value, missing) == f"no socket at {missing}"
    # A socket file nobody listens on (a daemon that died): refused.
    dead = socket.socket(socket.AF_UNIX)
    dead.bind(str(sock_dir / "dead.sock"))
    dead.close()
    refused = f"unix://{sock_dir}/dead.sock"
    with pytest.raises(ConnectionRefusedError) as info2:
        EngineAPI(refused).containers()
    assert engine_api.reason(info2.value, refused).startswith("is the daemon running?")
    denied = PermissionError(13, "Permission denied")
    assert engine_api.reason(denied, SOCK).startswith("needs root or the docker group")
    with pytest.raises(EngineError, match="unsupported engine address"):
        EngineAPI("ssh://host").containers()
    # The collector's status says it the same way.
    client = EngineClient("docker", missing)
    client.metadata(())
    assert client.status == f"unreachable (no socket at {missing})"


# -- the real engine -----------------------------------------------------------------------


def docker_cli(*args: str) -> Any:
    done = subprocess.run(["docker", *args], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return done.stdout


@pytest.mark.docker
def test_list_and_inspect_equal_the_docker_cli(run_container: RunContainer) -> None:
    running = run_container(BASE_IMAGE, SLEEP, labels={"ctop-api": "running"})
    stopped = run_container(BASE_IMAGE, ["true"], labels={"ctop-api": "exited"})
    stopped.wait(timeout=deadline_s(30))
    api = EngineAPI(SOCK)
    try:
        listed = {item["Id"]: item for item in api.containers()}
        for ctr in (running, stopped):
            truth = json.loads(docker_cli("inspect", ctr.id))[0]
            item = listed[ctr.id]
            assert item["Names"] == [truth["Name"]]
            assert item["State"] == truth["State"]["Status"]
            assert item["Labels"] == truth["Config"]["Labels"]
            assert item["Image"] == truth["Config"]["Image"]
            # Inspect is the same document the CLI prints (the same engine, the same version).
            mine = api.inspect(ctr.id)
            for key in ("Id", "Name", "Created", "RestartCount", "Config", "HostConfig", "Image"):
                assert mine[key] == truth[key], key
            assert mine["State"] == truth["State"]
        with pytest.raises(NotFound):
            api.inspect("ctop-py-no-such-container")
    finally:
        api.close()


@pytest.mark.docker
def test_past_events_equal_docker_events(run_container: RunContainer) -> None:
    since = time.time() - 1
    ctr = run_container(BASE_IMAGE, SLEEP)
    ctr.pause()
    ctr.unpause()
    ctr.kill()
    # The die event is stamped when the engine has seen the exit, which on a loaded host came
    # later than a second after kill() returned: `until` is counted from the exit.
    ctr.wait(timeout=deadline_s(30))
    until = time.time() + 1
    time.sleep(1.2)  # `until` in the past: both reads see the same closed window
    mine = [
        e
        for e in read_past_events("docker", SOCK, since)
        if e.container_id == ctr.id and e.time <= until
    ]
    lines = docker_cli(
        "events", "--since", f"{since:.9f}", "--until", f"{until:.9f}",
        "--filter", f"container={ctr.id}", "--filter", "type=container", "--format", "{{json .}}",
    )  # fmt: skip
    theirs = [json.loads(line) for line in lines.splitlines() if line.strip()]
    assert [e.action for e in mine] == [t["Action"].split(":")[0] for t in theirs]
    # The same instants (to a microsecond: a float of epoch seconds holds no more).
    assert all(abs(e.time * 1e9 - t["timeNano"]) < 1000 for e, t in zip(mine, theirs, strict=True))
    assert {"create", "start", "pause", "unpause", "kill", "die"} <= {e.action for e in mine}
    die = next(e for e in mine if e.action == "die")
    assert die.attributes["exitCode"] == "137"
    assert die.attributes["name"] == ctr.name


# -- the cache kept by events --------------------------------------------------------------


@pytest.mark.docker
def test_events_keep_names_and_states_without_listing(run_container: RunContainer) -> None:
    ctr = run_container(BASE_IMAGE, SLEEP)
    watcher = EngineEventWatcher("docker", SOCK, since=time.time())
    # ttl: were it listing by time, every 0.2 s. settle_s=0: another test's container caught
    # in the list as "removing" would have it list on every call for settle_s (rightly: tested
    # in test_a_container_being_removed_is_listed_again_until_gone), since only this test's
    # container's events are applied here.
    client = EngineClient("docker", SOCK, ttl=0.2, settle_s=0.0)
    client.follow(watcher)
    watcher.start()
    mine: list[EngineEvent] = []

    def feed(action: str) -> bool:
        # Only this test's container's events: the shared engine's others would have the
        # cache list again (a container it does not know), which is right but not tested here.
        mine.extend(e for e in watcher.drain() if e.container_id == ctr.id)
        if not any(e.action == action for e in mine):
            return False
        client.apply(mine)
        mine.clear()
        return True

    def truth() -> tuple[str, str]:
        state = json.loads(docker_cli("inspect", ctr.id))[0]
        return state["Name"].lstrip("/"), state["State"]["Status"]

    def kernel(has_cgroup: bool) -> set[str]:
        # The ids with a cgroup, as the collector would pass them: the others' as the cache has
        # them (the shared engine's other containers come and go; the cache would rightly
        # list again for them), and this one's as it is.
        others = {cid for cid, m in client._meta.items() if m.state in ("running", "paused")} - {
            ctr.id
        }
        return others | {ctr.id} if has_cgroup else others

    try:
        wait_for(lambda: watcher.status == "ok" or None, 10, "the event stream")
        meta = client.metadata([ctr.id])
        assert (meta[ctr.id].name, meta[ctr.id].state) == truth() == (ctr.name, "running")
        listed = client.lists

        new_name = ctr.name + "-renamed"
        ctr.rename(new_name)
        ctr.pause()
        wait_for(lambda: feed("pause") or None, 10, "the pause event")
        time.sleep(0.3)  # past the ttl: no list anyway
        meta = client.metadata(kernel(True))
        assert (meta[ctr.id].name, meta[ctr.id].state) == truth() == (new_name, "paused")

        ctr.unpause()
        ctr.kill()
        wait_for(lambda: feed("die") or None, 10, "the die event")
        meta = client.metadata(kernel(False))
        assert meta[ctr.id].state == truth()[1] == "exited"

        ctr.remove()
        wait_for(lambda: feed("destroy") or None, 10, "the destroy event")
        assert ctr.id not in client.metadata(kernel(False))
        assert client.lists == listed  # all of it from the events
    finally:
        watcher.close()
        client.close()


@pytest.mark.docker
def test_an_unknown_container_or_a_reconnection_lists_again(docker_client: DockerClient) -> None:
    # settle_s=0: no events are applied here, so another test's container listed as "removing"
    # would have it list again on every call for settle_s (not what this test counts).
    client = EngineClient("docker", SOCK, ttl=3600, settle_s=0.0)

    class Stream:
        status = "ok"
        connections = 1

    stream = Stream()
    client.follow(stream)

    def with_cgroups() -> set[str]:  # the kernel agrees with the cache: no reason to list
        return {cid for cid, m in client._meta.items() if m.state in ("running", "paused")}

    client.metadata(())
    assert client.lists == 1  # the first call lists, whatever the kernel has
    client.metadata(with_cgroups())
    assert client.lists == 1
    client.apply([EngineEvent(time.time() + 1, "docker", "f" * 64, "start", {})])
    client.metadata(with_cgroups())
    assert client.lists == 2  # an event about a container it did not know
    client.metadata(with_cgroups())
    assert client.lists == 2
    stream.connections = 2  # the stream reconnected: events may have been missed
    client.metadata(with_cgroups())
    assert client.lists == 3
    client.metadata(with_cgroups())
    assert client.lists == 3
    stream.status = "unreachable (no socket at …)"  # no stream: the list every ttl again
    client.ttl = 0.0
    client.metadata(with_cgroups())
    assert client.lists == 4
    client.close()


@pytest.mark.docker
def test_watcher_close_ends_a_quiet_stream(docker_client: DockerClient) -> None:
    watcher = EngineEventWatcher("docker", SOCK, since=time.time())
    watcher.start()
    wait_for(lambda: watcher.status == "ok" or None, 10, "the event stream")
    started = time.monotonic()
    watcher.close()
    assert watcher._thread is not None
    watcher._thread.join(timeout=5)
    assert not watcher._thread.is_alive()
    assert time.monotonic() - started < 5


@pytest.mark.docker
def test_snapshot_inspects_what_it_prints_and_nothing_else(run_container: RunContainer) -> None:
    from ctop_py import cli
    from ctop_py.collect import Collector

    running = [run_container(BASE_IMAGE, SLEEP) for _ in range(2)]
    stopped = run_container(BASE_IMAGE, ["true"])
    stopped.wait(timeout=deadline_s(30))
    collector = Collector(watch_engines=True)
    inspector = collector.lifecycle.inspectors["docker"]
    inspector.per_tick = 1  # as on a host with more containers than the app's bound per tick
    cli._inspect_what_is_printed(collector, everyone=False)
    # Which containers were inspected, and which were active in either of the two samples:
    # on a shared engine others' containers come and go between them (more than the 5 once
    # allowed for), and an event about one has it inspected again in the second.
    inspected: list[str] = []
    samples: list[RawSample] = []
    refresh, sample = inspector._refresh, collector.sample

    def spy_refresh(cid: str) -> None:
        inspected.append(cid)
        refresh(cid)

    def spy_sample(*args: Any, **kwargs: Any) -> RawSample:
        samples.append(sample(*args, **kwargs))
        return samples[-1]

    inspector._refresh = spy_refresh  # type: ignore[method-assign]
    collector.sample = spy_sample  # type: ignore[method-assign]
    try:
        snapshot = cli.take_snapshot(collector, 0.2)
    finally:
        collector.close()
    views = {v.id: v for v in snapshot.containers}
    for ctr in running:
        truth = json.loads(docker_cli("inspect", ctr.id))[0]
        life = views[ctr.id].raw.lifecycle
        assert life is not None and life.restart_count == truth["RestartCount"]
    # The stopped one is not printed without -a: never inspected.
    assert not views[stopped.id].raw.active
    assert inspector.cached(stopped.id) is None
    assert len(samples) == 2 and len(inspected) == inspector.inspects
    active = {c.id for s in samples for c in s.containers if c.active and c.runtime == "docker"}
    assert {ctr.id for ctr in running} <= set(inspected) <= active  # nothing else inspected
    assert max(inspected.count(cid) for cid in inspected) <= 2  # at most once a sample
