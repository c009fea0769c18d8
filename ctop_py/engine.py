"""A Docker Engine API client for what needs the engine itself: logs and actions.

Statistics never come from here (see runtimes/docker.py). Every failure becomes an
`EngineError` whose message is one readable line: no socket, permission denied on the socket,
no such container, or the engine's own explanation.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

from ctop_py.errors import CtopError
from ctop_py.host import HostRoot

if TYPE_CHECKING:
    import docker

SOCKET = "/var/run/docker.sock"


class EngineError(CtopError):
    """A failure talking to the engine, as one line for the user."""


class NoSuchContainer(EngineError):
    pass


class NeedsSocket(EngineError):
    """The socket is missing or not ours to use (non-root without the docker group)."""


def engine_url(root: HostRoot, env: dict[str, str] | None = None) -> str:
    """DOCKER_HOST on the real root, else the socket under the root."""
    env_map = os.environ if env is None else env
    docker_host = env_map.get("DOCKER_HOST") if root.is_real_root else None
    return docker_host or f"unix://{root.path(SOCKET)}"


def _socket_path(url: str) -> str | None:
    for prefix in ("unix://", "unix:"):
        if url.startswith(prefix):
            return url[len(prefix) :] or None
    return None


def socket_problem(root: HostRoot, what: str = "this") -> str | None:
    """Why the engine's unix socket cannot be used (one line), or None: a stat and an access
    check, no connection."""
    path = _socket_path(engine_url(root))
    if path is None:
        return None
    if not os.path.exists(path):
        return f"{what} needs the Docker socket: no socket at {path}"
    if not os.access(path, os.R_OK | os.W_OK):
        return (
            f"{what} needs the Docker socket: permission denied on {path} "
            "(run as root or in the docker group)"
        )
    return None


def connect(root: HostRoot, timeout: float = 10.0, what: str = "this") -> docker.DockerClient:
    """A client for the engine of `root`, checked with a ping. `what` names the feature that
    needs it in the one-line error ("logs", "actions")."""
    import docker as sdk

    url = engine_url(root)
    problem = socket_problem(root, what)
    if problem is not None:
        raise NeedsSocket(problem)
    try:
        client = sdk.DockerClient(base_url=url, timeout=int(timeout) or 1)
        client.ping()
    except Exception as exc:  # the SDK raises many types; say it in one line
        raise EngineError(f"{what} needs the Docker engine: {one_line(exc, url)}") from None
    return client


def one_line(exc: BaseException, url: str = "") -> str:
    """An SDK or HTTP exception as one readable line (the engine's explanation when it gave one)."""
    explanation = getattr(exc, "explanation", None)
    if isinstance(explanation, bytes):
        explanation = explanation.decode("utf-8", "replace")
    text = str(explanation or exc or type(exc).__name__)
    if "Permission denied" in text or isinstance(exc, PermissionError):
        where = url or "the Docker socket"
        return f"permission denied on {where} (run as root or in the docker group)"
    if "Connection refused" in text or "FileNotFoundError" in text or "No such file" in text:
        return f"is the daemon running? cannot connect to {url or 'the Docker socket'}"
    text = " ".join(text.split())
    return text[:400] + ("…" if len(text) > 400 else "")


def raise_engine(exc: BaseException, ref: str) -> None:
    """Re-raise an SDK exception about container `ref` as an EngineError."""
    from docker import errors

    if isinstance(exc, errors.NotFound):
        raise NoSuchContainer(f"no such container: {ref}") from None
    raise EngineError(one_line(exc)) from None


def get_container(client: docker.DockerClient, ref: str) -> Any:
    """The SDK's Container for a name, id or unique id prefix (the engine resolves them)."""
    try:
        return client.containers.get(ref)
    except Exception as exc:
        raise_engine(exc, ref)
        raise AssertionError("unreachable") from exc
