"""The results as markdown tables: the block of BENCHMARKS.md between the RESULTS markers is
replaced by each run (the rest of the file is written by hand), and the same text is printed.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

BEGIN = "<!-- BEGIN RESULTS: written by `make bench`; edit outside these markers -->"
END = "<!-- END RESULTS -->"

GOAL_RATIO = 1.5
GOAL_1000_MS = 60.0
GOAL_APP_CPU = 2.0
GOAL_FIRST_FRAME_S = 1.0
GOAL_LAYERS_10K_S = 1.0
GOAL_LINEAR = 1.25  # per-container cost at 5,000 over that at 1,000
GOAL_1000_RATIO = 1.15  # issue 16: the tick at 1,000 (fake v2) against its traced floor
GOAL_FAKE_LIST_PCT = 5.0  # issue 16: the list at 500 containers (fake v2 root)
GOAL_RSS_MIB = 60.0  # issue 16: peak RSS at 100 containers after 10 minutes
GOAL_RSS_FLAT_MIB = 2.0  # "flat": RSS at the end no more than this above the first reading
GOAL_DAEMONS_PCT = 0.5  # the daemons' CPU beyond idle while ctop-py samples, % of a core


def _get(d: Any, *path: Any) -> Any:
    for key in path:
        if not isinstance(d, dict) or key not in d:
            return None
        d = d[key]
    return d


def _f(value: Any, fmt: str = ".2f", unit: str = "") -> str:
    if value is None:
        return "–"
    return f"{value:{fmt}}{unit}"


def _spread_ms(s: Any) -> str:
    if not isinstance(s, dict) or "median" not in s:
        return "–"
    return f"{s['median']:.2f} ({s['p25']:.2f}–{s['p75']:.2f})"


def _daemon_extra(window: Any, idle: Any) -> tuple[float | None, float | None]:
    """(CPU seconds, % of a core) the daemons spent in `window` beyond their idle rate."""
    cpu, secs = _get(window, "cpu_s"), _get(window, "window_s")
    idle_cpu, idle_secs = _get(idle, "cpu_s"), _get(idle, "window_s")
    if None in (cpu, secs, idle_cpu, idle_secs) or not secs or not idle_secs:
        return None, None
    extra = cpu - idle_cpu / idle_secs * secs
    return extra, 100 * extra / secs


def _daemons_per_tick(entry: Any) -> str:
    """The daemons' CPU beyond their idle rate, per ctop-py tick, as measured while it sampled
    once a second (only at the largest count); never assumed to be 0."""
    sampling = _get(entry, "daemons_while_sampling")
    ticks = _get(sampling, "ticks")
    extra, _ = _daemon_extra(_get(sampling, "daemons"), _get(entry, "daemons_idle"))
    if extra is None or not ticks:
        return "not measured"
    dockerd = _dockerd_extra(_get(sampling, "daemons"), _get(entry, "daemons_idle"))
    of_dockerd = "" if dockerd is None else f" (dockerd {1000 * dockerd / ticks:.0f} ms)"
    return f"{1000 * extra / ticks:.0f} ms{of_dockerd}, measured over {ticks} ticks"


def _load(results: dict[str, Any], step: str) -> str:
    """The step's 1-minute load average before → after, and whether qemu ran."""
    info = _get(results, "steps", step)
    if not isinstance(info, dict):
        return "–"
    text = f"{info['loadavg_before'][0]:.1f}→{info['loadavg_after'][0]:.1f}"
    if info.get("qemu_before") or info.get("qemu_after"):
        text += " qemu"
    return text


def _dockerd_extra(window: Any, idle: Any) -> float | None:
    """dockerd's CPU seconds in `window` beyond its idle rate (the shims are noisy)."""
    cpu = _get(window, "by_process", "dockerd")
    secs, idle_secs = _get(window, "window_s"), _get(idle, "window_s")
    idle_cpu = _get(idle, "by_process", "dockerd")
    if None in (cpu, secs, idle_cpu, idle_secs) or not idle_secs:
        return None
    extra: float = cpu - idle_cpu / idle_secs * secs
    return extra


def collector_table(results: dict[str, Any]) -> list[str]:
    rows = [
        "| containers | where | full tick `sample(detail=())` ms, median (IQR) | floor: same "
        "syscalls, ms | tick / floor | bare loop, read to EOF, ms | full detail `sample()` ms "
        "(/ its floor) | refresh tick (every 5 s) ms | tick averaged over 5 s, ms | µs per "
        "container | brief tick (the app's) ms (its floor) | load |",
        "|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    ref = _get(results, "meta", "args", "before")
    for kind, label in (("live", "Docker (hybrid v1)"), ("fake", "fake v2 tree")):
        for n, entry in sorted(results.get(kind, {}).items(), key=lambda kv: int(kv[0])):
            for which, suffix in (("collector", ""), ("before", " — before")):
                c = _get(entry, which)
                if not isinstance(c, dict) or "tick" not in c:
                    continue
                count = c.get("containers", n)
                where = label + suffix
                step = f"{kind} {n}: collector ticks" + (f" at {ref}" if suffix else "")
                brief = c.get("brief")
                brief_text = "–"
                if isinstance(brief, dict):
                    brief_text = (
                        f"{brief['tick']['wall_ms']['median']:.2f} "
                        f"({brief['floor']['wall_ms']['median']:.2f})"
                    )
                if kind == "live":
                    where += f" ({entry.get('ours')} ours)"
                rows.append(
                    f"| {count} | {where} | {_spread_ms(c['tick']['wall_ms'])} | "
                    f"{_spread_ms(c['floor']['wall_ms'])} | **{c['ratio_wall']:.2f}×** | "
                    f"{_f(_get(c, 'floor_read_to_eof', 'wall_ms', 'median'))} | "
                    f"{_f(_get(c, 'full_tick', 'wall_ms', 'median'))} "
                    f"({_f(c.get('full_ratio_wall'))}×) | "
                    f"{_f(_get(c, 'refresh_tick', 'wall_ms', 'median'))} | "
                    f"{_f(c.get('amortised_tick_wall_ms'))} | "
                    f"{_f(c.get('per_container_us'), '.0f')} | {brief_text} | "
                    f"{_load(results, step)} |"
                )
    return rows


def peers_tables(results: dict[str, Any]) -> list[str]:
    out: list[str] = []
    live = results.get("live", {})
    if not live:
        return out
    out += [
        "Per sample, on the same containers:",
        "",
        "| containers | what | wall per sample | its own CPU per sample | daemons' CPU per "
        "sample | load |",
        "|---:|---|---:|---:|---:|---|",
    ]
    for n, entry in sorted(live.items(), key=lambda kv: int(kv[0])):
        c = _get(entry, "collector")
        count = _get(c, "containers") or n
        if isinstance(c, dict) and "tick" in c:
            out.append(
                f"| {count} | ctop-py tick, averaged over 5 s | "
                f"{_f(c.get('amortised_tick_wall_ms'))} ms | "
                f"{_f(_get(c, 'tick', 'cpu_ms', 'median'))} ms (steady tick) | "
                f"{_daemons_per_tick(entry)} | {_load(results, f'live {n}: collector ticks')} |"
            )
        ds = _get(entry, "docker_stats")
        if isinstance(ds, dict) and "wall_s" in ds:
            out.append(
                f"| {ds.get('rows', count)} | `docker stats --no-stream` | "
                f"{ds['wall_s']['median']:.2f} s | "
                f"{1000 * ds['cli_cpu_s']['median']:.0f} ms (CLI) | "
                f"{1000 * ds['daemons_cpu_s']['median']:.0f} ms | "
                f"{_load(results, f'live {n}: docker stats --no-stream')} |"
            )
        elif isinstance(ds, dict):
            out.append(f"| {count} | `docker stats --no-stream` | {ds.get('error')} | | | |")
    largest = max(live, key=int)
    entry = live[largest]
    idle = _get(entry, "daemons_idle")
    cad = _get(entry, "cadence")
    if isinstance(cad, dict) and "tick" in cad:
        out += [
            "",
            f"At the app's pace (one tick a second, default settings, {cad['seconds']:.0f} s, "
            f"{largest} containers) caches are cold: the tick costs "
            f"{cad['tick']['cpu_ms']['median']:.1f} ms of CPU (median; mean "
            f"{cad['tick_cpu_ms_mean']:.1f} ms with the refresh ticks) against "
            f"{cad['floor']['cpu_ms']['median']:.1f} ms for its floor "
            f"(**{cad['ratio_cpu_median']:.2f}×**), i.e. "
            f"{cad['tick_cpu_ms_mean'] / 10:.1f} % of a core "
            f"({_load(results, f'live {largest}: tick and floor once a second')}).",
        ]
    out += [
        "",
        f"Running at a 1 s refresh with {largest} of our containers "
        f"({_get(entry, 'running_on_host')} on the host); "
        "CPU in % of one core; daemons = dockerd + containerd + shims, beyond their idle rate "
        f"({_f(_get(idle, 'cpu_percent_of_core'))} % measured just before):",
        "",
        "| tool | own CPU | daemons' extra (of which dockerd) | total | peak RSS | window | load |",
        "|---|---:|---:|---:|---:|---:|---|",
    ]
    sampling = _get(entry, "daemons_while_sampling")
    if isinstance(sampling, dict):
        _, pct = _daemon_extra(sampling.get("daemons"), idle)
        own = sampling.get("collector_cpu_percent")
        dockerd = _pct_of(_dockerd_extra(sampling.get("daemons"), idle), sampling.get("daemons"))
        out.append(
            f"| ctop-py collector, `sample(detail=())` each second "
            f"({sampling.get('stats_api_calls')} stats API calls; Engine requests: "
            f"{_requests(sampling.get('engine_requests'))}) | {_f(own)} % | {_f(pct)} % "
            f"({dockerd}) | "
            f"{_f(None if own is None or pct is None else own + pct)} % | – | "
            f"{_f(_get(sampling, 'daemons', 'window_s'), '.0f')} s | "
            f"{_load(results, f'live {largest}: daemons while ctop-py samples')} |"
        )
    for key, step, what in (
        (
            "app",
            "the app idle",
            "ctop-py app, idle on its containers screen (brief counters for the rows not open, "
            "its default)",
        ),
        (
            "app_full",
            "the app idle, brief off",
            "ctop-py app, the same with brief forced off (`LiveSource(brief=False)`: every "
            "container's full counters)",
        ),
        (  # results of runs before brief was the app's default
            "app_brief",
            "the app idle, brief counters",
            "ctop-py app, the same with `sample(…, brief=True)` forced (then not the default)",
        ),
    ):
        app = _get(entry, key)
        if isinstance(app, dict) and "cpu_percent" in app:
            _, pct = _daemon_extra(app.get("daemons"), idle)
            own = app["cpu_percent"]
            dockerd = _pct_of(_dockerd_extra(app.get("daemons"), idle), app.get("daemons"))
            out.append(
                f"| {what} ({app.get('mode')}) | {own:.2f} % | "
                f"{_f(pct)} % ({dockerd}) | {_f(None if pct is None else own + pct)} % | "
                f"{_f(app.get('peak_rss_mib'), '.1f')} MiB | {app.get('window_s', 0):.0f} s | "
                f"{_load(results, f'live {largest}: {step}')} |"
            )
        elif isinstance(app, dict):
            out.append(f"| {what} | pending: {app.get('pending')} | | | | | |")
    glances = _get(entry, "glances")
    if isinstance(glances, dict) and "own_cpu_percent" in glances:
        _, pct = _daemon_extra(glances.get("daemons"), idle)
        own = glances["own_cpu_percent"]
        dockerd = _pct_of(_dockerd_extra(glances.get("daemons"), idle), glances.get("daemons"))
        out.append(
            f"| {glances.get('version', 'Glances')} "
            f"`{glances.get('command')}` | {own:.2f} % | {_f(pct)} % ({dockerd}) | "
            f"{_f(None if pct is None else own + pct)} % | "
            f"{_f(glances.get('peak_rss_mib'), '.1f')} MiB | {glances.get('window_s', 0):.0f} s | "
            f"{_load(results, f'live {largest}: Glances containers')} |"
        )
    elif isinstance(glances, dict):
        out.append(f"| Glances | not measured: {glances.get('error')} | | | | | |")
    return out


def _pct_of(seconds: float | None, window: Any) -> str:
    secs = _get(window, "window_s")
    if seconds is None or not secs:
        return "–"
    return f"{100 * seconds / secs:.2f} %"


def _requests(requests: Any) -> str:
    if not isinstance(requests, dict) or not requests:
        return "none"
    return ", ".join(f"{k} ×{v}" for k, v in sorted(requests.items()))


def layers_table(results: dict[str, Any]) -> list[str]:
    rows = [
        "| upper entries | image files | changes (A / C / D) | time, median of 3 | load |",
        "|---:|---:|---:|---:|---|",
    ]
    for n, r in sorted(results.get("layers", {}).items(), key=lambda kv: int(kv[0])):
        if not isinstance(r, dict):
            continue
        rows.append(
            f"| {r['upper_entries']} | {r['lower_files']} | {r['changes']} "
            f"({r['added']} / {r['modified']} / {r['deleted']}) | "
            f"{r['seconds']['median']:.2f} s | "
            f"{_load(results, f'layers {n}: changes of the upper directory')} |"
        )
    return rows


def explore_table(results: dict[str, Any]) -> list[str]:
    rows = [
        "| layer files | first listing (/) | flat dir listing | app: root shown / flat dir shown "
        "| full walk with sizes | efficiency | peak memory walk / efficiency | load |",
        "|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for n, r in sorted(results.get("explore", {}).items(), key=lambda kv: int(kv[0])):
        if not isinstance(r, dict):
            continue
        rows.append(
            f"| {r['files']} | {r['first_listing_s']['median'] * 1000:.1f} ms | "
            f"{r['flat_listing_s']['median'] * 1000:.0f} ms ({r['flat_listing_total']} names) | "
            f"{_get(r, 'app_first_paint', 'root_s')} s / "
            f"{_get(r, 'app_first_paint', 'flat_dir_s')} s | "
            f"{r['walk_s']['median']:.2f} s | {r['efficiency_s']['median']:.2f} s | "
            f"{r['walk_peak_mib']} / {r['efficiency_peak_mib']} MiB | "
            f"{_load(results, f'explore {n}: layer tree and efficiency')} |"
        )
    return rows


def _floor_us(collector: dict[str, Any]) -> str:
    """The floor's wall time per container, µs: whether the files themselves scale."""
    return f"{1000 * collector['floor']['wall_ms']['median'] / max(collector['containers'], 1):.0f}"


def fake_app_table(results: dict[str, Any]) -> list[str]:
    """The app on its containers list on a generated v2 tree (counters moving every
    second): CPU and peak RSS; the long run's RSS readings."""
    rows = [
        "| containers | what | app CPU, % of a core | peak RSS (VmHWM) | RSS readings, MiB "
        "(s: MiB) | window | load |",
        "|---:|---|---:|---:|---|---:|---|",
    ]
    for key, label in (("fake_app", "the list"), ("rss", "the list, long run")):
        for n, run in sorted((results.get(key) or {}).items(), key=lambda kv: int(kv[0])):
            if not isinstance(run, dict) or "cpu_percent" not in run:
                pending = run.get("pending") if isinstance(run, dict) else "failed"
                rows.append(f"| {n} | {label} | {pending} | | | | |")
                continue
            readings = ", ".join(f"{t:.0f}: {m}" for t, m in run.get("rss_mib", []))
            load = run.get("loadavg") or [None, None]
            what = f"{label}, counters {'moving' if run.get('moving') else 'still'}"
            rows.append(
                f"| {n} | {what} | {run['cpu_percent']:.2f} % | {run['peak_rss_mib']} MiB | "
                f"{readings if key == 'rss' else '–'} | {run['window_s']:.0f} s | "
                f"{_f(load[0] and load[0][0], '.1f')}→{_f(load[1] and load[1][0], '.1f')} |"
            )
    return rows


def goals(results: dict[str, Any]) -> list[tuple[str, str, bool | None]]:
    found: list[tuple[str, str, bool | None]] = []
    live = results.get("live", {})
    fake = results.get("fake", {})
    c100 = _get(live, "100", "collector")
    if isinstance(c100, dict) and "ratio_wall" in c100:
        r = c100["ratio_wall"]
        found.append(("tick ≤ 1.5× the floor at 100 containers", f"{r:.2f}×", r <= GOAL_RATIO))
    c1000 = _get(fake, "1000", "collector")
    if isinstance(c1000, dict) and "tick" in c1000:
        ms = c1000["tick"]["wall_ms"]["median"]
        avg = c1000.get("amortised_tick_wall_ms")
        found.append(
            (
                "tick ≤ 60 ms at 1,000 (fake v2)",
                f"{ms:.1f} ms (averaged over 5 s with the refresh tick: {_f(avg, '.1f')} ms; "
                f"floor {c1000['floor']['wall_ms']['median']:.1f} ms)",
                ms <= GOAL_1000_MS,
            )
        )
    if isinstance(c1000, dict) and "ratio_wall" in c1000:
        found.append(
            (
                f"tick ≤ {GOAL_1000_RATIO}× its traced floor at 1,000 (fake v2)",
                f"{c1000['ratio_wall']:.2f}× wall ({c1000['tick']['wall_ms']['median']:.1f} "
                f"against {c1000['floor']['wall_ms']['median']:.1f} ms), "
                f"{_f(c1000.get('ratio_cpu'))}× CPU",
                c1000["ratio_wall"] <= GOAL_1000_RATIO,
            )
        )
    c5000 = _get(fake, "5000", "collector")
    if isinstance(c1000, dict) and isinstance(c5000, dict) and "per_container_us" in c5000:
        growth = c5000["per_container_us"] / c1000["per_container_us"]
        found.append(
            (
                "grows linearly (µs per container, 5,000 vs 1,000)",
                f"{c1000['per_container_us']:.0f} → {c5000['per_container_us']:.0f} µs "
                f"(×{growth:.2f}); its floor {_floor_us(c1000)} → {_floor_us(c5000)} µs, "
                f"tick / floor {c1000['ratio_wall']:.2f} → {c5000['ratio_wall']:.2f}",
                growth <= GOAL_LINEAR,
            )
        )
    largest = max(live, key=int) if live else None
    app = _get(live, largest, "app") if largest else None
    if isinstance(app, dict) and "cpu_percent" in app:
        found.append(
            (
                f"app idle ≤ 2 % of a core at {largest} containers, 1 s refresh",
                f"{app['cpu_percent']:.2f} %",
                app["cpu_percent"] <= GOAL_APP_CPU,
            )
        )
        ff = _get(app, "first_frame_s", "median")
        if ff is not None:
            found.append(("first frame ≤ 1 s", f"{ff:.2f} s (median)", ff <= GOAL_FIRST_FRAME_S))
    elif isinstance(app, dict):
        found.append(("app idle ≤ 2 %, first frame ≤ 1 s", f"pending: {app.get('pending')}", None))
    sampling = _get(live, largest, "daemons_while_sampling") if largest else None
    if isinstance(sampling, dict):
        idle = _get(live, largest, "daemons_idle")
        extra_s, pct = _daemon_extra(sampling.get("daemons"), idle)
        dockerd = _pct_of(_dockerd_extra(sampling.get("daemons"), idle), sampling.get("daemons"))
        calls = sampling.get("stats_api_calls")
        found.append(
            (
                "no Engine stats API calls while sampling",
                f"{calls} stats calls, {_requests(sampling.get('engine_requests'))}",
                calls == 0,
            )
        )
        # Judged by the measurement, not by the API calls: the daemons' CPU beyond their idle
        # rate while ctop-py samples.
        found.append(
            (
                f"no load in dockerd/containerd (daemons' extra CPU ≤ {GOAL_DAEMONS_PCT} % "
                "of a core)",
                f"daemons' extra CPU {_f(pct)} % of a core, dockerd's {dockerd} "
                f"({_f(extra_s, '.2f')} s over {_get(sampling, 'daemons', 'window_s'):.0f} s)",
                None if pct is None else pct <= GOAL_DAEMONS_PCT,
            )
        )
    for n, run in sorted((results.get("fake_app") or {}).items(), key=lambda kv: int(kv[0])):
        if isinstance(run, dict) and "cpu_percent" in run and int(n) >= 500:
            found.append(
                (
                    f"the list ≤ {GOAL_FAKE_LIST_PCT:g} % of a core at {n} containers "
                    "(fake v2 root)",
                    f"{run['cpu_percent']:.2f} %, peak RSS {run['peak_rss_mib']} MiB"
                    + _fake_list_floor(run),
                    run["cpu_percent"] <= GOAL_FAKE_LIST_PCT,
                )
            )
    for n, run in (results.get("rss") or {}).items():
        readings = [m for _, m in (run or {}).get("rss_mib", []) if m is not None]
        if readings and run.get("peak_rss_mib") is not None:
            growth = readings[-1] - readings[0]
            minutes = run["window_s"] / 60
            found.append(
                (
                    f"peak RSS ≤ {GOAL_RSS_MIB:g} MiB at {n} containers after {minutes:.0f} "
                    f"min, and flat (≤ {GOAL_RSS_FLAT_MIB:g} MiB of growth)",
                    f"peak {run['peak_rss_mib']} MiB; RSS {readings[0]} → {readings[-1]} MiB "
                    f"({growth:+.1f})",
                    run["peak_rss_mib"] <= GOAL_RSS_MIB and growth <= GOAL_RSS_FLAT_MIB,
                )
            )
    l10k = _get(results, "layers", "10000")
    if isinstance(l10k, dict):
        s = l10k["seconds"]["median"]
        found.append(
            ("upper-layer changes, 10,000 files ≤ 1 s", f"{s:.2f} s", s <= GOAL_LAYERS_10K_S)
        )
    e100k = _get(results, "explore", "100000")
    if isinstance(e100k, dict):
        paint = e100k.get("app_first_paint") or {}
        worst = max(
            e100k["first_listing_s"]["median"],
            e100k["flat_listing_s"]["median"],
            paint.get("root_s", 0.0),
            paint.get("flat_dir_s", 0.0),
        )
        found.append(("first paint of a 100,000-file layer ≤ 1 s", f"{worst:.3f} s", worst <= 1.0))
    return found


def results_block(results: dict[str, Any], json_name: str | None = None) -> str:
    meta = results.get("meta", {})
    lines = [
        f"Run of {meta.get('date')} — {meta.get('cpu')}, {meta.get('cores')} cores, "
        f"{meta.get('memory_gib')} GiB, {meta.get('distro')}, kernel {meta.get('kernel')}, "
        f"cgroup {meta.get('cgroup_mode')}, Docker {meta.get('docker')}, Python "
        f"{meta.get('python')}, ctop-py {meta.get('commit')}; {meta.get('seconds')} s in all.",
        "",
        f"Load average at start {meta.get('loadavg_at_start')}, at end "
        f"{meta.get('loadavg_at_end')}; a qemu VM was "
        + ("**running** (software emulation, ~1 core busy)" if meta.get("qemu_running_at_start")
           or meta.get("qemu_running_at_end") else "not running")
        + " during the run. Per step: see `steps` in the JSON"
        + (f" (`benchmarks/{json_name}`)." if json_name else "."),
        "",
        "### Collector tick",
        "",
        *collector_table(results),
        "",
        "### Side by side with peers",
        "",
        *peers_tables(results),
        "",
        "### Container-layer changes (`docker diff` without the daemon)",
        "",
        *layers_table(results),
        "",
        "### Layers explorer (a layer of 100,000 files)",
        "",
        *explore_table(results),
        "",
        "### The app on a fake v2 root (`--root`, no engine)",
        "",
        *fake_app_table(results),
        "",
        "### Goals",
        "",
        "| goal | this run | met |",
        "|---|---|:---:|",
    ]  # fmt: skip
    for goal, figure, met in goals(results):
        lines.append(
            f"| {goal} | {figure} | {'yes' if met else 'pending' if met is None else '**no**'} |"
        )
    errors = results.get("errors") or {}
    if errors:
        lines += ["", "Steps that failed or were skipped:", ""]
        lines += [f"- {name}: {reason}" for name, reason in sorted(errors.items())]
    return "\n".join(lines) + "\n"


def summary(results: dict[str, Any]) -> str:
    return results_block(results)


def update_markdown(path: Path, results: dict[str, Any], json_name: str) -> None:
    block = f"{BEGIN}\n\n{results_block(results, json_name)}\n{END}"
    text = path.read_text() if path.exists() else f"# Benchmarks\n\n{BEGIN}\n{END}\n"
    if BEGIN in text and END in text:
        head, rest = text.split(BEGIN, 1)
        _, tail = rest.split(END, 1)
        text = head + block + tail
    else:
        text = text.rstrip("\n") + "\n\n" + block + "\n"
    path.write_text(text)


# -- the app per screen (benchmarks/screens.py): its own block, so a `--screens-only` run
# rewrites it and leaves the other results as they were.

SCREENS_BEGIN = "<!-- BEGIN SCREENS: written by `make bench`; edit outside these markers -->"
SCREENS_END = "<!-- END SCREENS -->"
GOAL_LIST_X = 4.0  # the list, at 32 containers: ≤ 4× the floor
GOAL_TAB_X = 6.0  # any tab of the container screen, at 32 containers: ≤ 6× the floor
GOAL_LIST_100_PCT = 2.0


def screens_block(results: dict[str, Any], json_name: str | None = None) -> str:
    meta = results.get("meta", {})
    screens = results.get("screens") or {}
    counts = sorted(screens, key=int)
    lines = [
        f"Run of {meta.get('date')}, ctop-py {meta.get('commit')}, {meta.get('cores')} cores, "
        f"cgroup {meta.get('cgroup_mode')}"
        + (f" (`benchmarks/{json_name}`, key `screens`)" if json_name else "")
        + ". The app in a 200×50 tmux at a 1 s refresh on N containers (one a throttled "
        "spinner, whose container screen is shown); the floor (a bare Python loop reading 8 "
        "cgroup files per container once a second) runs beside it the whole time, and both "
        "are read over the SAME window "
        "(the app: /proc/<pid>/stat, all threads; the floor, one thread: "
        "/proc/<pid>/schedstat, in ns), so each ratio comes from one "
        "load. Load average (1 min) at each window's start and end in the last column.",
        "",
    ]
    if not counts:
        return "\n".join([*lines, "not measured in this run"]) + "\n"
    head = (
        "| screen | "
        + " | ".join(f"{n}: app % / floor % (×), peak RSS" for n in counts)
        + " | load |"
    )
    lines += [head, "|---|" + "---:|" * len(counts) + "---|"]
    keys: list[str] = []
    for n in counts:
        for key in _get(screens, n, "screens") or {}:
            if key not in keys:
                keys.append(key)
    for key in keys:
        cells, label, loads = [], key, []
        for n in counts:
            r = _get(screens, n, "screens", key)
            if not isinstance(r, dict) or "app_cpu_percent" not in r:
                cells.append("–" if r is None else str(r.get("error", "–")))
                continue
            label = r.get("label", key)
            ratio = "–" if r.get("ratio") is None else f"{r['ratio']:.1f}×"
            mark = "" if r.get("shown", True) else " (not shown?)"
            cells.append(
                f"{r['app_cpu_percent']:.2f} / {r['floor_cpu_percent']:.2f} ({ratio}), "
                f"{_f(r.get('peak_rss_mib'), '.1f')} MiB{mark}"
            )
            la = r.get("loadavg") or []
            if len(la) == 2:
                loads.append(f"{la[0][0]:.1f}→{la[1][0]:.1f}")
        lines.append(f"| {label} | " + " | ".join(cells) + f" | {', '.join(loads)} |")
    for n in counts:
        pending = _get(screens, n, "pending")
        if pending:
            lines.append(f"\n{n} containers: pending: {pending}")
    lines += _list_floor_lines(screens, counts)
    snap = results.get("snapshot_cmd")
    if isinstance(snap, dict) and "ratio_median" in snap:
        a, b = snap["snapshot_cpu_s"], snap["bare_cpu_s"]
        lines += [
            "",
            f"`ctop-py snapshot --json --interval 1` beside a bare script reading the list's "
            f"{snap['files']} cgroup files (8 a container) twice a second apart, alternating, "
            f"{snap['rounds']} "
            f"rounds each, whole-process CPU from wait4: {a['median']:.3f} s (median; "
            f"{a['min']:.3f}–{a['max']:.3f}) against {b['median']:.3f} s ({b['min']:.3f}–"
            f"{b['max']:.3f}): {snap['ratio_median']:.1f}×" + _snapshot_conditions(snap) + ".",
        ]
        traced = snap.get("traced")
        if isinstance(traced, dict) and traced.get("ratio_median") is not None:
            t = traced["bare_cpu_s"]
            opens = " + ".join(str(n) for n in traced.get("opens_per_sample", []))
            lines.append(
                f"Beside a bare script reading the files strace saw that snapshot open ({opens} "
                f"cgroup and proc files, in order, a second apart; its {traced.get('readlinks')} "
                f"readlinks not repeated), in the same rounds: {t['median']:.3f} s ({t['min']:.3f}"
                f"–{t['max']:.3f}): {traced['ratio_median']:.1f}×."
            )
    lines += ["", "| goal | this run | met |", "|---|---|:---:|"]
    for goal, figure, met in screen_goals(results):
        lines.append(
            f"| {goal} | {figure} | {'yes' if met else 'pending' if met is None else '**no**'} |"
        )
    return "\n".join(lines) + "\n"


def _snapshot_conditions(snap: dict[str, Any]) -> str:
    said = []
    if snap.get("containers_printed") is not None:
        said.append(f"the snapshot printed {snap['containers_printed']} containers")
    if snap.get("bytecode"):
        said.append("ctop-py compiled to bytecode first, as installed")
    return f" ({'; '.join(said)})" if said else ""


def _list_goal_skips(measured: dict[str, Any]) -> str | None:
    """The list's goals are judged on its settled window when there is one (the first window
    starts while the app still inspects every container: BENCHMARKS.md, How it is measured)."""
    settled = measured.get("list_settled")
    return "list" if isinstance(settled, dict) and settled.get("ratio") is not None else None


def screen_goals(results: dict[str, Any]) -> list[tuple[str, str, bool | None]]:
    found: list[tuple[str, str, bool | None]] = []
    at32 = _get(results, "screens", "32", "screens") or {}
    for key, r in at32.items():
        if not isinstance(r, dict) or r.get("ratio") is None or key == _list_goal_skips(at32):
            continue
        goal = GOAL_LIST_X if key in ("list", "list_settled") else GOAL_TAB_X
        found.append(
            (
                f"{r.get('label', key)} ≤ {goal:g}× the floor at 32 containers",
                f"{r['ratio']:.1f}× ({r['app_cpu_percent']:.2f} %)",
                r["ratio"] <= goal,
            )
        )
    snap = results.get("snapshot_cmd")
    if isinstance(snap, dict) and snap.get("ratio_median") is not None:
        r = snap["ratio_median"]
        found.append(("`snapshot --json --interval 1` ≤ 3× a bare script", f"{r:.1f}×", r <= 3.0))
        traced = snap.get("traced")
        rt = traced.get("ratio_median") if isinstance(traced, dict) else None
        if rt is not None:
            found.append(
                (
                    "`snapshot --json --interval 1` ≤ 3× a bare script reading the files it "
                    "reads (strace)",
                    f"{rt:.1f}×",
                    rt <= 3.0,
                )
            )
    at100 = _get(results, "screens", "100", "screens") or {}
    r100 = at100.get("list_settled") or at100.get("list")
    if isinstance(r100, dict) and "app_cpu_percent" in r100:
        pct = r100["app_cpu_percent"]
        ref = r100.get("list_floor_cpu_percent")
        found.append(
            (
                f"the list ≤ 2 % of a core at 100 containers ({r100.get('label', 'list')})",
                f"{pct:.2f} %" + ("" if ref is None else f" (the list's own floor {ref:.2f} %)"),
                pct <= GOAL_LIST_100_PCT,
            )
        )
    return found


def _fake_list_floor(run: dict[str, Any]) -> str:
    """The list's own floor (benchmarks/list_floor.py) in the fake-app window, if measured."""
    ref = run.get("list_floor_cpu_percent")
    if ref is None:
        return ""
    files = run.get("list_floor_files_per_container") or {}
    app = run.get("app_cpu_percent_beside_floor")
    ratio = f" ({app / ref:.2f}×)" if app is not None and ref > 0 else ""
    return (
        f"; the next window, the list's own floor beside it on its own copy of the tree: app "
        f"{_f(app)} % / floor {ref:.2f} %{ratio} (its reads {files.get('every_tick')} files a "
        f"container every tick, {files.get('due_per_tick')} due)"
    )


def _list_floor_lines(screens: dict[str, Any], counts: list[str]) -> list[str]:
    """The list's own floor (benchmarks/list_floor.py) beside the app's list windows."""
    found = []
    for n in counts:
        files = _get(screens, n, "list_floor_files_per_container")
        for key in ("list", "list_settled"):
            r = _get(screens, n, "screens", key)
            if not isinstance(r, dict) or r.get("list_floor_cpu_percent") is None:
                continue
            app, ref = r["app_cpu_percent"], r["list_floor_cpu_percent"]
            ratio = f" ({app / ref:.1f}×)" if ref > 0 else ""
            found.append(
                f"{n} containers, {r.get('label', key)}: app {app:.2f} % / {ref:.2f} %{ratio}"
            )
        if found and isinstance(files, dict):
            found[-1] += (
                f" (its reads: {files.get('every_tick')} files a container every tick, "
                f"{files.get('due_per_tick')} due)"
            )
    if not found:
        return []
    return [
        "",
        "The list's own floor (`benchmarks/list_floor.py`), in the same windows: the files "
        "ctop-py's collector reads a tick on this host (traced), read through kept fds, plus "
        "a minimal Textual list of the same rows (a Strip a row) with its header, one "
        "process; what an exact list of these columns costs here before any work of its own. "
        + "; ".join(found)
        + ".",
    ]


def update_screens_markdown(path: Path, results: dict[str, Any], json_name: str) -> None:
    block = f"{SCREENS_BEGIN}\n\n{screens_block(results, json_name)}\n{SCREENS_END}"
    text = path.read_text() if path.exists() else "# Benchmarks\n"
    if SCREENS_BEGIN in text and SCREENS_END in text:
        head, rest = text.split(SCREENS_BEGIN, 1)
        _, tail = rest.split(SCREENS_END, 1)
        text = head + block + tail
    else:
        text = text.rstrip("\n") + "\n\n## The app per screen\n\n" + block + "\n"
    path.write_text(text)
