"""Realistic Snapshots built from the model dataclasses, for screenshots and UI tests.

A small cgroup v2 host with eight CPUs: a web server and its sidecar sharing a network
namespace, a `--cpus 0.1` busy loop throttled in most periods, a database near its memory limit
that the OOM killer hits, a podman API close to its pids limit, an agent in the host's network
and pid namespaces, an `unshare` sandbox and a stopped job. Counters advance deterministically
(no randomness) and every Snapshot is made by the real `derive()`.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field, replace

from ctop_py.demo.host import HOST_NS
from ctop_py.derive import derive
from ctop_py.model import (
    ENGINE_OK,
    HOST_NAMESPACE,
    CgroupEntry,
    CgroupMode,
    CgroupStats,
    ContainerRaw,
    CpuCounters,
    EngineStatus,
    HostInfo,
    IoCounters,
    Limits,
    MemoryCounters,
    NetCounters,
    Process,
    Psi,
    PsiLine,
    RawSample,
    SharedNamespace,
    Sharing,
    Snapshot,
)

MiB = 1024 * 1024
GiB = 1024 * MiB
TICKS = 100
T0 = 1_764_400_000.0  # 2025-11-29, a fixed wall clock


HOST = HostInfo(
    hostname="node-7",
    cgroup_version=2,
    cgroup_mode=CgroupMode.V2,
    cpus=8,
    memory_bytes=32 * GiB - 700 * MiB,
    boot_time=T0 - 86400 * 12,
    clock_ticks=TICKS,
    namespaces=HOST_NS,
)

Rate = Callable[[int], float]  # tick -> value
GUNICORN = ("/usr/bin/python3", "/usr/local/bin/gunicorn", "-w", "4", "api:app")


def const(value: float) -> Rate:
    return lambda _i: value


ZERO: Rate = const(0.0)


def wave(base: float, amplitude: float, period: float = 17.0, phase: float = 0.0) -> Rate:
    return lambda i: max(0.0, base + amplitude * math.sin(2 * math.pi * i / period + phase))


@dataclass
class Proc:
    pid: int
    ppid: int
    comm: str
    cmdline: tuple[str, ...]
    uid: int
    share: float  # of the container's CPU
    rss: int
    threads: int = 1
    nspid: int | None = None  # pid inside the container; None = not in a pid namespace


@dataclass
class Spec:
    id: str
    name: str
    image: str | None
    runtime: str = "docker"
    state: str = "running"
    labels: dict[str, str] = field(default_factory=dict)
    limits: Limits | None = None  # None: no cgroup of its own
    cpu_cores: Rate = ZERO  # CPU used, in cores
    quota_demand: Rate | None = None  # cores wanted (throttled beyond the quota)
    memory_used: Rate = ZERO
    memory_cache: int = 8 * MiB
    net_rx: Rate | None = None  # bytes/s; None: the host's network or unknown
    net_tx: Rate | None = None
    io_read: Rate = ZERO
    io_write: Rate = ZERO
    pids: int | None = None
    procs: list[Proc] = field(default_factory=list)
    namespaces: dict[str, int] = field(default_factory=dict)
    oom_kill_at: tuple[int, ...] = ()  # ticks at which the OOM killer struck
    psi_memory: tuple[float, float, float] = (0.0, 0.0, 0.0)
    psi_cpu: tuple[float, float, float] = (0.0, 0.0, 0.0)


def _ns(
    index: int, share: dict[str, int] | None = None, host: tuple[str, ...] = ()
) -> dict[str, int]:
    own = {t: 4026532200 + index * 16 + n for n, t in enumerate(sorted(HOST_NS))}
    own["user"] = HOST_NS["user"]  # no userns-remap: the host's user namespace
    own["time"] = HOST_NS["time"]
    for t in host:
        own[t] = HOST_NS[t]
    own.update(share or {})
    return own


def default_specs() -> list[Spec]:
    web_ns = _ns(1)
    return [
        Spec(
            id="3f9a1c2e7b4d" + "5e" * 26,
            name="web",
            image="nginx:1.27-alpine",
            labels={"com.docker.compose.project": "shop", "com.docker.compose.service": "web"},
            limits=Limits(pids_max=None),
            cpu_cores=wave(0.03, 0.02, 11),
            memory_used=wave(14 * MiB, 1 * MiB, 29),
            net_rx=wave(48_000, 30_000, 13),
            net_tx=wave(220_000, 150_000, 13),
            io_write=const(1200.0),
            pids=3,
            procs=[
                Proc(
                    2101,
                    2080,
                    "nginx",
                    ("nginx: master process nginx -g daemon off;",),
                    0,
                    0.1,
                    6 * MiB,
                    nspid=1,
                ),
                Proc(2140, 2101, "nginx", ("nginx: worker process",), 101, 0.45, 4 * MiB, nspid=29),
                Proc(2141, 2101, "nginx", ("nginx: worker process",), 101, 0.45, 4 * MiB, nspid=30),
            ],
            namespaces=web_ns,
        ),
        Spec(
            id="b71e0d4c9a2f" + "a1" * 26,
            name="web-envoy",
            image="envoyproxy/envoy:v1.31-latest",
            labels={"com.docker.compose.project": "shop"},
            limits=Limits(memory_max_bytes=256 * MiB, pids_max=1024),
            cpu_cores=wave(0.015, 0.01, 7),
            memory_used=const(38 * MiB),
            net_rx=None,  # its netns is web's: the traffic is counted there
            pids=14,
            procs=[
                Proc(
                    2230,
                    2205,
                    "envoy",
                    ("envoy", "-c", "/etc/envoy/envoy.yaml"),
                    101,
                    1.0,
                    38 * MiB,
                    14,
                    1,
                )
            ],
            namespaces=_ns(2, {"net": web_ns["net"]}),
        ),
        Spec(
            id="c0ffee5a4b3c" + "0d" * 26,
            name="spinner",
            image="busybox:1.36",
            labels={"purpose": "docker run --cpus 0.1 busybox sh -c 'while :; do :; done'"},
            limits=Limits(cpu_quota_us=10_000, cpu_period_us=100_000, cpu_weight=100),
            cpu_cores=const(0.1),
            quota_demand=wave(1.0, 0.03, 5),
            memory_used=const(300 * 1024),
            memory_cache=0,
            net_rx=const(0.0),
            net_tx=const(0.0),
            pids=2,
            procs=[
                Proc(
                    3301,
                    3280,
                    "sh",
                    ("sh", "-c", "while :; do :; done"),
                    0,
                    1.0,
                    300 * 1024,
                    nspid=1,
                ),
            ],
            namespaces=_ns(3),
        ),
        Spec(
            id="d4b2a9e81f60" + "7c" * 26,
            name="db",
            image="postgres:16.4",
            labels={"com.docker.compose.project": "shop", "com.docker.compose.service": "db"},
            limits=Limits(memory_max_bytes=512 * MiB, memory_high_bytes=480 * MiB, pids_max=200),
            cpu_cores=wave(0.22, 0.15, 9),
            memory_used=lambda i: min(509 * MiB, 470 * MiB + i * MiB * 1.1),
            memory_cache=120 * MiB,
            net_rx=wave(90_000, 40_000, 8),
            net_tx=wave(310_000, 100_000, 8, 1.0),
            io_read=wave(2_400_000, 2_000_000, 6),
            io_write=wave(5_800_000, 3_000_000, 10),
            pids=9,
            procs=[
                Proc(4401, 4380, "postgres", ("postgres",), 999, 0.05, 30 * MiB, nspid=1),
                Proc(
                    4420,
                    4401,
                    "postgres",
                    ("postgres: checkpointer",),
                    999,
                    0.05,
                    40 * MiB,
                    nspid=27,
                ),
                Proc(
                    4421,
                    4401,
                    "postgres",
                    ("postgres: background writer",),
                    999,
                    0.1,
                    20 * MiB,
                    nspid=28,
                ),
                Proc(
                    4422, 4401, "postgres", ("postgres: walwriter",), 999, 0.1, 10 * MiB, nspid=29
                ),
                Proc(
                    4460,
                    4401,
                    "postgres",
                    ("postgres: shop shop 172.18.0.3(51234) SELECT",),
                    999,
                    0.7,
                    360 * MiB,
                    nspid=61,
                ),
            ],
            namespaces=_ns(4),
            oom_kill_at=(20,),
            psi_memory=(12.4, 6.1, 2.0),
            psi_cpu=(1.2, 0.8, 0.3),
        ),
        Spec(
            id="e5c3b1a7d9f2" + "3b" * 26,
            name="cache",
            image="redis:7.2",
            limits=Limits(
                cpu_quota_us=200_000,
                cpu_period_us=100_000,
                cpuset_cpus="0-1",
                memory_max_bytes=256 * MiB,
                swap_max_bytes=0,
                pids_max=64,
            ),
            cpu_cores=wave(0.012, 0.006, 5),
            memory_used=const(41 * MiB),
            net_rx=wave(12_000, 8_000, 4),
            net_tx=wave(30_000, 20_000, 4),
            pids=6,
            procs=[
                Proc(
                    5101, 5080, "redis-server", ("redis-server", "*:6379"), 999, 1.0, 41 * MiB, 6, 1
                )
            ],
            namespaces=_ns(5),
        ),
        Spec(
            id="7a1d2c3b4e5f" + "90" * 26,
            name="api",
            image="ghcr.io/acme/api:2.3.1",
            runtime="podman",
            limits=Limits(
                cpu_quota_us=100_000, cpu_period_us=100_000, memory_max_bytes=1 * GiB, pids_max=100
            ),
            cpu_cores=wave(0.36, 0.2, 6),
            quota_demand=wave(0.5, 0.4, 6),
            memory_used=wave(420 * MiB, 40 * MiB, 15),
            net_rx=wave(400_000, 300_000, 7),
            net_tx=wave(900_000, 500_000, 7),
            pids=96,
            procs=[
                Proc(6101, 6080, "gunicorn", GUNICORN, 1000, 0.1, 80 * MiB, 2, 1),
                *(  # its three workers: pid, threads and pid inside the container
                    Proc(pid, 6101, "gunicorn", GUNICORN, 1000, 0.3, 85 * MiB, threads, nspid)
                    for pid, threads, nspid in ((6120, 24, 7), (6121, 24, 8), (6122, 46, 9))
                ),
            ],
            namespaces=_ns(6),
        ),
        Spec(
            id="0b5e8f7a6c1d" + "44" * 26,
            name="node-exporter",
            image="quay.io/prometheus/node-exporter:v1.8.2",
            limits=Limits(memory_max_bytes=128 * MiB),
            cpu_cores=wave(0.004, 0.003, 15),
            memory_used=const(18 * MiB),
            pids=7,
            procs=[
                Proc(
                    1701,
                    1680,
                    "node_exporter",
                    ("/bin/node_exporter", "--path.rootfs=/host"),
                    65534,
                    1.0,
                    18 * MiB,
                    7,
                )
            ],
            namespaces=_ns(7, host=("net", "pid")),
        ),
        Spec(
            id="sandbox-4026532480",
            name="bash[7310]",
            image=None,
            runtime="sandbox",
            limits=None,
            cpu_cores=const(0.0),
            procs=[
                Proc(7310, 7301, "bash", ("/bin/bash",), 1000, 0.0, 4 * MiB, nspid=1),
                Proc(
                    7344,
                    7310,
                    "python3",
                    ("python3", "-m", "http.server"),
                    1000,
                    1.0,
                    19 * MiB,
                    nspid=12,
                ),
            ],
            namespaces=_ns(8, host=("cgroup", "ipc")),
        ),
        Spec(
            id="f00dfeed1234" + "ee" * 26,
            name="nightly-report",
            image="ghcr.io/acme/report:2025.11",
            state="exited",
            limits=None,
        ),
    ]


HOST_PROCS = [
    Process(1, 0, "systemd", "S", 10, 5200, 12 * MiB, 1, 0, (1,), ("/sbin/init",), HOST_NS, ()),
    Process(
        880,
        1,
        "containerd",
        "S",
        900,
        91000,
        52 * MiB,
        14,
        0,
        (880,),
        ("/usr/bin/containerd",),
        HOST_NS,
        (),
    ),
    Process(
        912,
        1,
        "dockerd",
        "S",
        950,
        120000,
        88 * MiB,
        22,
        0,
        (912,),
        ("/usr/bin/dockerd", "-H", "fd://"),
        HOST_NS,
        (),
    ),
    Process(
        1204,
        1,
        "sshd",
        "S",
        1300,
        800,
        8 * MiB,
        1,
        0,
        (1204,),
        ("sshd: /usr/sbin/sshd -D",),
        HOST_NS,
        (),
    ),
    Process(
        9120, 1204, "bash", "S", 900000, 40, 5 * MiB, 1, 1000, (9120,), ("-bash",), HOST_NS, ()
    ),
    Process(
        9188,
        9120,
        "ctop-py",
        "S",
        901000,
        90,
        52 * MiB,
        3,
        1000,
        (9188,),
        ("/usr/bin/python3", "-m", "ctop_py"),
        HOST_NS,
        (),
    ),
]


def _shared(specs: list[Spec]) -> dict[str, dict[str, SharedNamespace]]:
    """type -> whose namespace, as the Collector marks it: the host's, or for a namespace of
    several containers the first one's (it started first) and the others joined it."""
    owners: dict[tuple[str, int], list[str]] = {}
    for s in specs:
        for t, inode in s.namespaces.items():
            owners.setdefault((t, inode), []).append(s.name)
    result: dict[str, dict[str, SharedNamespace]] = {}
    for s in specs:
        shared = {}
        for t, inode in s.namespaces.items():
            if HOST_NS.get(t) == inode:
                shared[t] = HOST_NAMESPACE
                continue
            holders = owners[(t, inode)]
            if len(holders) == 1:
                continue
            if holders[0] == s.name:
                shared[t] = SharedNamespace(Sharing.OWNER, tuple(sorted(holders[1:])))
            else:
                shared[t] = SharedNamespace(Sharing.JOINED, (holders[0],))
        result[s.name] = shared
    return result


@dataclass
class _Counters:
    usage_ns: float = 0.0
    periods: float = 0.0
    throttled: float = 0.0
    throttled_ns: float = 0.0
    rx: float = 0.0
    tx: float = 0.0
    read: float = 0.0
    write: float = 0.0
    some_mem_us: float = 0.0
    some_cpu_us: float = 0.0
    oom_kill: int = 0
    proc_ticks: dict[int, float] = field(default_factory=dict)


def _advance(spec: Spec, c: _Counters, i: int, dt: float) -> None:
    used = spec.cpu_cores(i)
    c.usage_ns += used * dt * 1e9
    lim = spec.limits
    if lim is not None and lim.cpu_quota_cores is not None and lim.cpu_period_us:
        periods = dt * 1e6 / lim.cpu_period_us
        demand = spec.quota_demand(i) if spec.quota_demand else used
        quota = lim.cpu_quota_cores
        if demand > quota:
            share = min(1.0, 0.92 if spec.name == "spinner" else (demand - quota) / demand + 0.05)
            c.throttled += periods * share
            c.throttled_ns += (demand - used) * dt * 1e9
        elif spec.quota_demand is not None and demand > 0.8 * quota:
            c.throttled += periods * 0.03
            c.throttled_ns += 0.01 * dt * 1e9
        c.periods += periods
    c.rx += (spec.net_rx(i) if spec.net_rx else 0.0) * dt
    c.tx += (spec.net_tx(i) if spec.net_tx else 0.0) * dt
    c.read += spec.io_read(i) * dt
    c.write += spec.io_write(i) * dt
    c.some_mem_us += spec.psi_memory[0] / 100 * dt * 1e6
    c.some_cpu_us += spec.psi_cpu[0] / 100 * dt * 1e6
    if i in spec.oom_kill_at:
        c.oom_kill += 1
    for p in spec.procs:
        c.proc_ticks[p.pid] = c.proc_ticks.get(p.pid, 1000.0) + used * p.share * dt * TICKS


def _raw_container(
    spec: Spec, c: _Counters, i: int, shared: dict[str, SharedNamespace]
) -> ContainerRaw:
    cgroup = None
    path = None
    if spec.limits is not None:
        path = (
            f"/system.slice/docker-{spec.id}.scope"
            if spec.runtime == "docker"
            else (f"/machine.slice/libpod-{spec.id}.scope")
        )
        used = int(spec.memory_used(i))
        events = {"low": 0, "high": 0, "max": 0, "oom": c.oom_kill, "oom_kill": c.oom_kill}
        if spec.limits.memory_high_bytes and used > spec.limits.memory_high_bytes:
            events["high"] = 40 + i * 3
        if spec.oom_kill_at:
            events["max"] = 120 + i * 2
        cpu_psi = PsiLine(*spec.psi_cpu, int(c.some_cpu_us))
        cgroup = CgroupStats(
            version=2,
            path=path,
            limits=spec.limits,
            cpu=CpuCounters(
                usage_ns=int(c.usage_ns),
                user_ns=int(c.usage_ns * 0.8),
                system_ns=int(c.usage_ns * 0.2),
                nr_periods=int(c.periods),
                nr_throttled=int(c.throttled),
                throttled_ns=int(c.throttled_ns),
            ),
            memory=MemoryCounters(
                current_bytes=used + spec.memory_cache,
                used_bytes=used,
                peak_bytes=max(used, int(spec.memory_used(0))) + spec.memory_cache,
                swap_current_bytes=0,
                stat={"anon": used, "file": spec.memory_cache, "inactive_file": spec.memory_cache},
                events=events,
            ),
            io=IoCounters(read_bytes=int(c.read), write_bytes=int(c.write)),
            pids_current=spec.pids,
            psi={
                "cpu": Psi(some=cpu_psi, full=PsiLine(0.0, 0.0, 0.0, 0)),
                "memory": Psi(
                    some=PsiLine(*spec.psi_memory, int(c.some_mem_us)),
                    full=PsiLine(
                        spec.psi_memory[0] / 2,
                        spec.psi_memory[1] / 2,
                        spec.psi_memory[2] / 2,
                        int(c.some_mem_us / 2),
                    ),
                ),
                "io": Psi(some=PsiLine(0.4, 0.2, 0.1, 1000), full=PsiLine(0.1, 0.0, 0.0, 300)),
            },
        )
    net = None
    if spec.net_rx is not None:
        net = NetCounters(int(c.rx), int(c.tx), int(c.rx / 900), int(c.tx / 900), ("eth0",))
    init = spec.procs[0].pid if spec.procs else None
    return ContainerRaw(
        id=spec.id,
        runtime=spec.runtime,
        name=spec.name,
        image=spec.image,
        state=spec.state,
        labels=spec.labels,
        cgroup_path=path,
        init_pid=init,
        pids=tuple(sorted(p.pid for p in spec.procs)),
        namespaces=spec.namespaces,
        shared_namespaces=shared,
        cgroup=cgroup,
        net=net,
    )


def _processes(specs: list[Spec], counters: dict[str, _Counters]) -> tuple[Process, ...]:
    result = list(HOST_PROCS)
    for s in specs:
        for p in s.procs:
            nspid = (p.pid, p.nspid) if p.nspid is not None else (p.pid,)
            result.append(
                Process(
                    pid=p.pid,
                    ppid=p.ppid,
                    comm=p.comm,
                    state="R" if p.share > 0.5 else "S",
                    start_ticks=50_000 + p.pid,
                    cpu_ticks=int(counters[s.name].proc_ticks.get(p.pid, 1000.0)),
                    rss_bytes=p.rss,
                    threads=p.threads,
                    uid=p.uid,
                    nspid=nspid,
                    cmdline=p.cmdline,
                    namespaces=s.namespaces,
                    cgroups=(CgroupEntry(0, (), f"/system.slice/docker-{s.id}.scope"),),
                )
            )
    result.sort(key=lambda p: p.pid)
    return tuple(result)


def raw_samples(
    count: int = 60, specs: list[Spec] | None = None, interval_s: float = 1.0
) -> list[RawSample]:
    specs = specs if specs is not None else default_specs()
    shared = _shared(specs)
    counters = {s.name: _Counters() for s in specs}
    samples = []
    busy = total = 0.0
    for i in range(count):
        if i:
            for s in specs:
                if s.state == "running":
                    _advance(s, counters[s.name], i, interval_s)
        load = sum(s.cpu_cores(i) for s in specs) + 0.35
        busy += load * interval_s * TICKS
        total += HOST.cpus * interval_s * TICKS
        samples.append(
            RawSample(
                monotonic_ns=int((1000.0 + i * interval_s) * 1e9),
                time=T0 + i * interval_s,
                host=HOST,
                containers=tuple(
                    _raw_container(s, counters[s.name], i, shared[s.name])
                    for s in sorted(specs, key=lambda s: s.name)
                ),
                processes=_processes(specs, counters),
                host_cpu_busy_ticks=int(busy),
                host_cpu_total_ticks=int(total),
                engine_status={
                    "docker": ENGINE_OK,
                    "podman": EngineStatus("unreachable: connection refused"),
                },
            )
        )
    return samples


def snapshots(count: int = 60, specs: list[Spec] | None = None) -> list[Snapshot]:
    """`count` Snapshots one second apart (the first has no rates, as in life)."""
    result = []
    previous: RawSample | None = None
    for sample in raw_samples(count, specs):
        result.append(derive(previous, sample))
        previous = sample
    return result


def with_name(spec: Spec, name: str) -> Spec:
    return replace(spec, name=name)
