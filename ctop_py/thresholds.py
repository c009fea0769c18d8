"""Every threshold of the events timeline and the diagnosis, in one place.

Documented in the README ("Diagnosis") and in the app's `?` help (`describe()`); tests use
these values on literal inputs.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Thresholds:
    # cpu-throttled: share of CFS periods throttled over the window.
    throttled_warning_percent: float = 10.0
    throttled_critical_percent: float = 50.0
    # A throttling burst (events): starts when an interval's throttled share reaches this,
    # ends when it falls below half of it.
    burst_percent: float = 25.0
    # Counted events (OOM kills, restarts, refused forks) look back this far.
    lookback_s: float = 120.0
    # crash-loop: restarts within the look-back.
    crash_loop_restarts: int = 3
    crash_loop_critical_restarts: int = 5
    # oom-killed: any kill within the look-back is critical; a kill seen only in the
    # engine's older past is a warning.
    oom_critical_kills: int = 1
    # pids-limit: forks refused within the window (pids.events max), or pids at the limit.
    pids_refused_critical: int = 1
    pids_near_limit_percent: float = 90.0
    # memory-high: reclaim events (memory.events high) within the window.
    memory_high_events: int = 1
    memory_high_critical_events: int = 100
    # PSI "some" stall share over the window, per resource.
    pressure_warning_percent: float = 10.0
    pressure_critical_percent: float = 40.0
    # needed cores are rounded up to this step.
    cores_step: float = 0.05


THRESHOLDS = Thresholds()


def describe(t: Thresholds = THRESHOLDS) -> list[str]:
    """One line per rule, for `?` and the README."""
    return [
        f"cpu-throttled: throttled in ≥ {t.throttled_warning_percent:g} % of CFS periods "
        f"(warning), ≥ {t.throttled_critical_percent:g} % (critical); needed cores = used + "
        "throttled time per second",
        f"oom-killed: ≥ {t.oom_critical_kills} OOM kill in the last {t.lookback_s:g} s "
        "(critical); earlier kills still in the engine's buffer (warning)",
        f"crash-loop: ≥ {t.crash_loop_restarts} restarts in the last {t.lookback_s:g} s "
        f"(warning), ≥ {t.crash_loop_critical_restarts} (critical)",
        f"pids-limit: ≥ {t.pids_refused_critical} fork refused at pids.max (critical), "
        f"pids ≥ {t.pids_near_limit_percent:g} % of the limit (warning)",
        f"memory-high: ≥ {t.memory_high_events} memory.high reclaim event (warning), "
        f"≥ {t.memory_high_critical_events} (critical)",
        f"memory/io/cpu-pressure: PSI some ≥ {t.pressure_warning_percent:g} % of the window "
        f"(warning), ≥ {t.pressure_critical_percent:g} % (critical)",
        f"throttling burst (events): an interval throttled ≥ {t.burst_percent:g} %, ends "
        f"below {t.burst_percent / 2:g} %",
    ]
