"""Logs: the frame and line parsing on literal bytes, `--since` as docker reads it, the bounded
buffer; and live against the engine, `ctop-py logs` against `docker logs` with the same options
(tail, follow, since, timestamps, stderr, a TTY container, a 100 kB line, a hostile line)."""

from __future__ import annotations

import os
import struct
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from ctop_py import logs
from ctop_py.commands.logs import format_line
from ctop_py.logs import STDERR, STDOUT, LineAssembler, LogBuffer, LogLine, LogOptions
from tests.conftest import BASE_IMAGE, REPO, RunContainer


def frame(stream: int, payload: bytes) -> bytes:
    return struct.pack(">BxxxL", stream, len(payload)) + payload


def reader(data: bytes, step: int) -> Callable[[int], bytes]:
    """A read(n) that returns at most `step` bytes at a time, like a slow socket."""
    position = 0

    def read(n: int) -> bytes:
        nonlocal position
        chunk = data[position : position + min(n, step)]
        position += len(chunk)
        return chunk

    return read


# -- on literal bytes -------------------------------------------------------------------------


@pytest.mark.parametrize("step", [1, 3, 7, 65536])
def test_frames_to_lines(step: int) -> None:
    data = (
        frame(1, b"out one\n")
        + frame(2, b"err one\n")
        + frame(1, b"part ")  # a partial message: no newline yet
        + frame(2, b"err two\n")
        + frame(1, b"two\n")
        + frame(1, b"no newline at the end")
    )
    chunks = logs.read_frames(reader(data, step))
    lines = list(logs.lines_from(chunks, timestamps=False, framed=True))
    assert [(x.stream, x.text, x.complete) for x in lines] == [
        (STDOUT, "out one", True),
        (STDERR, "err one", True),
        (STDERR, "err two", True),
        (STDOUT, "part two", True),
        (STDOUT, "no newline at the end", False),
    ]


def test_timestamps_partial_messages_and_truncated_frames() -> None:
    ts1, ts2 = b"2024-05-01T10:00:00.123456789Z", b"2024-05-01T10:00:00.223456789Z"
    data = frame(1, ts1 + b" first half ") + frame(1, ts2 + b" second half\n")
    data += frame(2, ts2 + b" 2024-05-01T10:00:00Z is text here\n")
    data += frame(1, b"cut")[:-1]  # the connection dropped mid-frame
    lines = list(logs.lines_from(logs.read_frames(reader(data, 5)), True, True))
    assert lines[0] == LogLine(STDOUT, "first half second half", ts1.decode())
    assert lines[1] == LogLine(STDERR, "2024-05-01T10:00:00Z is text here", ts2.decode())
    assert lines[2].text == "cu" and not lines[2].complete


def test_tty_stream_is_stdout_and_timestamps_per_line() -> None:
    data = b"2024-05-01T10:00:00Z one\r\n2024-05-01T10:00:01Z two\r\n"
    lines = list(logs.lines_from(logs.read_raw(reader(data, 4)), True, framed=False))
    assert [(x.stream, x.timestamp, x.text) for x in lines] == [
        (STDOUT, "2024-05-01T10:00:00Z", "one\r"),
        (STDOUT, "2024-05-01T10:00:01Z", "two\r"),
    ]
    assert format_line(lines[0]) == "2024-05-01T10:00:00Z one\n"  # a TTY's CR is not shown
    assert format_line(lines[0], raw=True) == "2024-05-01T10:00:00Z one\r\n"


def test_a_long_line_is_cut_and_counted() -> None:
    assembler = LineAssembler(timestamps=False, max_line_bytes=10)
    out = assembler.feed(STDOUT, b"0123456789abc")
    out += assembler.feed(STDOUT, b"def\nnext\n")
    assert out == [LogLine(STDOUT, "0123456789", cut=6), LogLine(STDOUT, "next")]
    assert format_line(out[0]) == "0123456789 … [6 more bytes not kept]\n"


def test_hostile_text_is_escaped_for_the_terminal() -> None:
    text = "[bold red]x[/] \x1b]0;pwned\x07 \x1b[2J\tok \ud8ff"[:-1] + "\udcff"
    shown = format_line(LogLine(STDOUT, text))
    assert shown == "[bold red]x[/] \\x1b]0;pwned\\x07 \\x1b[2J\tok \\xff\n"
    assert format_line(LogLine(STDOUT, text), raw=True) == text + "\n"


def test_buffer_is_bounded_by_lines_and_bytes() -> None:
    buffer = LogBuffer(max_lines=100, max_bytes=10_000)
    for i in range(1000):
        buffer.append(LogLine(STDOUT, f"line {i}"))
    assert len(buffer) == 100 and buffer.lines[0].text == "line 900"
    assert (buffer.received, buffer.dropped) == (1000, 900)
    big = LogLine(STDOUT, "x" * 3000)
    for _ in range(10):
        buffer.append(big)
    assert buffer.bytes <= 10_000 and len(buffer) == 3
    assert buffer.bytes == sum(line.size for line in buffer.lines)


NOW = 1_700_000_000 * 10**9


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1700000000", (1_700_000_000, 0)),
        ("1700000000.5", (1_700_000_000, 500_000_000)),
        ("1700000000.000000001", (1_700_000_000, 1)),
        ("10m", (1_700_000_000 - 600, 0)),
        ("1h30m", (1_700_000_000 - 5400, 0)),
        ("1.5h", (1_700_000_000 - 5400, 0)),
        ("300ms", (1_699_999_999, 700_000_000)),
        ("2023-11-14T22:13:20Z", (1_700_000_000, 0)),
        ("2023-11-14T22:13:20.25Z", (1_700_000_000, 250_000_000)),
        ("2023-11-15T00:13:20+02:00", (1_700_000_000, 0)),
        ("2023-11-14T22:13:20.123456789Z", (1_700_000_000, 123_456_789)),
    ],
)
def test_parse_since(text: str, expected: tuple[int, int]) -> None:
    assert logs.parse_since(text, NOW) == expected


def test_parse_since_local_time_and_errors() -> None:
    local = datetime(2024, 5, 1, 10, 0, 0).astimezone()
    assert logs.parse_since("2024-05-01T10:00:00", NOW)[0] == int(local.timestamp())
    for bad in ("", "yesterday", "10x", "2024-13-01"):
        with pytest.raises(ValueError):
            logs.parse_since(bad, NOW)


def test_options_are_the_engine_query() -> None:
    assert LogOptions().params() == {
        "stdout": 1, "stderr": 1, "timestamps": 0, "follow": 0, "tail": "all",
    }  # fmt: skip
    params = LogOptions(tail=5, follow=True, since=(17, 5), timestamps=True).params()
    assert params["tail"] == "5" and params["since"] == "17.000000005"
    assert params["follow"] == 1 and params["timestamps"] == 1


# -- live, against docker logs ----------------------------------------------------------------

HUNDRED_KB = 100_000
# Lines on stdout and stderr, a line of 100 kB (docker stores it as 16 KiB partial messages), a
# hostile line (Rich markup, an OSC window title, a clear-screen CSI), then quiet.
WRITER = (
    "i=0; while [ $i -lt 30 ]; do echo out $i; echo err $i >&2; i=$((i+1)); done; "
    "printf '[bold red]boom[/] \\033]0;pwned\\007 \\033[2J end\\n'; "
    f"head -c {HUNDRED_KB} /dev/zero | tr '\\0' x; echo; "
    "echo last; exec sleep 3600"
)


def ctop_logs(*args: str, timeout: float = 60) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        [sys.executable, "-m", "ctop_py", "logs", *args],
        capture_output=True,
        timeout=timeout,
        env={**os.environ, "PYTHONPATH": str(REPO)},
    )


def docker_logs(*args: str) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(["docker", "logs", *args], capture_output=True, timeout=60)


def wait_for_line(container: Any, text: bytes, timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if text in container.logs():
            return
        time.sleep(0.1)
    raise AssertionError(f"{text!r} never appeared in the logs")


@pytest.fixture
def writer(run_container: RunContainer) -> Any:
    container = run_container(BASE_IMAGE, ["sh", "-c", WRITER], network_mode="none")
    wait_for_line(container, b"last\n")
    return container


def plain(data: bytes) -> list[bytes]:
    """All but the hostile line (its escapes are shown escaped by ctop-py, raw by docker)."""
    return [line for line in data.split(b"\n") if b"boom" not in line]


@pytest.mark.docker
def test_logs_equal_docker_logs(writer: Any) -> None:
    ours, theirs = ctop_logs(writer.name), docker_logs(writer.name)
    assert ours.returncode == 0, ours.stderr
    # stdout and stderr told apart exactly as docker does
    assert ours.stderr == theirs.stderr
    assert ours.stderr.startswith(b"err 0\nerr 1\n") and b"out" not in ours.stderr
    assert plain(ours.stdout) == plain(theirs.stdout)
    # the 100 kB line, stored by the engine in 16 KiB pieces, is one line again
    long_lines = [line for line in ours.stdout.split(b"\n") if len(line) >= HUNDRED_KB]
    assert long_lines == [b"x" * HUNDRED_KB]
    # --raw: byte for byte
    raw = ctop_logs(writer.name, "--raw")
    assert (raw.stdout, raw.stderr) == (theirs.stdout, theirs.stderr)


@pytest.mark.docker
def test_hostile_line_is_shown_literally(writer: Any) -> None:
    ours = ctop_logs(writer.name)
    hostile = [line for line in ours.stdout.split(b"\n") if b"boom" in line]
    assert hostile == [b"[bold red]boom[/] \\x1b]0;pwned\\x07 \\x1b[2J end"]
    assert b"\x1b" not in ours.stdout and b"\x07" not in ours.stdout
    assert b"\x1b]0;pwned\x07" in docker_logs(writer.name).stdout  # it was really sent


@pytest.mark.docker
@pytest.mark.parametrize("tail", ["0", "1", "3", "45", "all"])
def test_tail(writer: Any, tail: str) -> None:
    ours, theirs = ctop_logs(writer.name, "--tail", tail), docker_logs("--tail", tail, writer.name)
    assert ours.returncode == 0, ours.stderr
    assert (plain(ours.stdout), ours.stderr) == (plain(theirs.stdout), theirs.stderr)


@pytest.mark.docker
def test_timestamps(writer: Any) -> None:
    ours, theirs = ctop_logs(writer.name, "-t"), docker_logs("-t", writer.name)
    assert ours.stderr == theirs.stderr
    assert ours.stderr.split(b"\n")[0].endswith(b"Z err 0")
    ours_plain = [x for x in plain(ours.stdout) if len(x) < 1000]
    theirs_plain = [x for x in plain(theirs.stdout) if len(x) < 1000]
    assert ours_plain == theirs_plain


@pytest.mark.docker
def test_since(writer: Any) -> None:
    stamped = docker_logs("-t", writer.name).stderr.split(b"\n")
    middle = stamped[15].split(b" ")[0].decode()  # the time of "err 15"
    for since in (middle, "1h", str(int(time.time()) - 3600)):
        ours, theirs = (
            ctop_logs(writer.name, "--since", since),
            docker_logs("--since", since, writer.name),
        )
        assert ours.returncode == 0, ours.stderr
        assert ours.stderr == theirs.stderr
        assert plain(ours.stdout) == plain(theirs.stdout)
    assert ctop_logs(writer.name, "--since", middle).stderr.startswith(b"err 15\n")
    future = (datetime.now(UTC) + timedelta(hours=1)).isoformat()
    assert ctop_logs(writer.name, "--since", future).stdout == b""


@pytest.mark.docker
def test_follow(run_container: RunContainer) -> None:
    """--follow keeps printing while the container writes, and ends when it stops; then what
    it printed equals docker logs. No timing assumption: the container writes until stopped."""
    script = (
        "trap 'exit 0' TERM; i=0; "
        "while :; do echo tick $i; echo tock $i >&2; i=$((i+1)); sleep 0.2; done"
    )
    container = run_container(BASE_IMAGE, ["sh", "-c", script], network_mode="none")
    command = [sys.executable, "-m", "ctop_py", "logs", "--follow", container.name]
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    with subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env) as proc:
        assert proc.stdout is not None and proc.stderr is not None
        seen = [proc.stdout.readline() for _ in range(3)]
        # the container goes on writing: a follower is still there (without -f it would end)
        for _ in range(3):
            seen.append(proc.stdout.readline())
        still_following = proc.poll() is None
        container.stop(timeout=10)
        rest = proc.stdout.read()  # to the end: the container stopped
        err = proc.stderr.read()
        proc.wait(timeout=60)
    assert still_following
    assert proc.returncode == 0, err
    theirs = docker_logs(container.name)
    ours = b"".join(seen) + rest
    assert ours == theirs.stdout and err == theirs.stderr
    count = ours.count(b"\n")
    assert count >= 6 and ours == b"".join(b"tick %d\n" % i for i in range(count))


@pytest.mark.docker
def test_tty_container(run_container: RunContainer) -> None:
    container = run_container(
        BASE_IMAGE, ["sh", "-c", "echo one; echo two >&2; exec sleep 3600"], tty=True,
        network_mode="none",
    )  # fmt: skip
    wait_for_line(container, b"two")
    ours, theirs = ctop_logs(container.name), docker_logs(container.name)
    assert ours.stderr == theirs.stderr == b""  # a TTY has one stream: docker says stdout too
    assert theirs.stdout == b"one\r\ntwo\r\n"
    assert ours.stdout == b"one\ntwo\n"
    assert ctop_logs("--raw", container.name).stdout == theirs.stdout


@pytest.mark.docker
def test_driver_that_cannot_be_read(run_container: RunContainer) -> None:
    container = run_container(
        BASE_IMAGE, ["sleep", "3600"], log_config={"type": "none"}, network_mode="none"
    )
    ours = ctop_logs(container.name)
    assert docker_logs(container.name).returncode != 0  # docker cannot either
    assert ours.returncode == 2
    message = ours.stderr.decode()
    assert message.count("\n") == 1 and "Traceback" not in message
    assert "log driver 'none'" in message


@pytest.mark.docker
def test_fast_logger_stays_bounded(run_container: RunContainer, docker_client: Any) -> None:
    container = run_container(BASE_IMAGE, ["sh", "-c", "exec yes flood"], network_mode="none")
    buffer = LogBuffer(max_lines=1000)
    stream = logs.LogStream(docker_client, container.id, LogOptions(follow=True, tail=0))
    deadline = time.monotonic() + 60
    with stream:
        for line in stream:
            buffer.append(line)
            if buffer.received >= 20 * buffer.max_lines or time.monotonic() > deadline:
                break
    assert buffer.received >= 20 * buffer.max_lines  # it really logged that much
    assert len(buffer) == 1000 and buffer.dropped == buffer.received - 1000
    assert all(line.text == "flood" for line in buffer.lines)


@pytest.mark.docker
def test_unknown_container_and_no_socket(docker_client: Any, tmp_path: Path) -> None:
    result = ctop_logs("ctop-no-such-container-xyz")
    assert (result.returncode, result.stderr) == (
        2, b"ctop-py: no such container: ctop-no-such-container-xyz\n",
    )  # fmt: skip
    result = ctop_logs("--root", str(tmp_path), "anything")
    sock = tmp_path / "var/run/docker.sock"
    assert result.stderr.decode() == f"ctop-py: logs needs the Docker socket: no socket at {sock}\n"
    assert ctop_logs("x", "--since", "soon").stderr.startswith(b"ctop-py: --since: not a time")


@pytest.mark.docker
def test_as_nobody_logs_say_they_need_the_socket(writer: Any) -> None:
    from tests.test_least_privilege import as_nobody, no_traceback

    result = as_nobody("logs", writer.name)
    no_traceback(result)
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1
    assert result.stderr.startswith("ctop-py: logs needs the Docker socket: permission denied")
