"""`ctop-py exporter`: serve /metrics for Prometheus."""

from __future__ import annotations

import argparse
import sys
import threading
from typing import Any

from ctop_py.collect import Collector
from ctop_py.commands.common import CliError, number_in, root_of


def _listen(text: str) -> tuple[str, int]:
    host, sep, port = text.rpartition(":")
    if not sep or not port.isdigit() or not 0 < int(port) < 65536:
        raise argparse.ArgumentTypeError(f"expected HOST:PORT, got {text!r}")
    return (host.strip("[]") or "127.0.0.1", int(port))


def register(sub: Any, common: argparse.ArgumentParser) -> None:
    exp = sub.add_parser("exporter", parents=[common], help="serve OpenMetrics on /metrics")
    exp.add_argument("--listen", type=_listen, default=("127.0.0.1", 9464), metavar="HOST:PORT")
    exp.add_argument(
        "--interval",
        type=number_in(0.1, 3600),
        default=2.0,
        metavar="SECONDS",
        help="how often to sample",
    )
    exp.set_defaults(func=cmd_exporter)


def cmd_exporter(args: argparse.Namespace) -> int:
    from prometheus_client import start_http_server
    from prometheus_client.registry import CollectorRegistry

    from ctop_py.export.openmetrics import SampleExporter

    collector = Collector(root_of(args))
    exporter = SampleExporter(collector.sample, args.interval)
    exporter.sample_once()  # the first scrape already has data
    registry = CollectorRegistry(auto_describe=False)
    registry.register(exporter)
    host, port = args.listen
    try:
        server, _thread = start_http_server(port, addr=host, registry=registry)
    except OSError as exc:
        raise CliError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None
    exporter.start()
    print(f"serving http://{host}:{port}/metrics", file=sys.stderr, flush=True)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        pass
    finally:
        server.shutdown()
        exporter.stop()
        collector.close()
    return 0
