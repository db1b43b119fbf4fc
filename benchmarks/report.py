# Copyright 2026 tap-voicegain contributors
# SPDX-License-Identifier: Apache-2.0
"""The printed report: machine, timing table, memory table, targets."""

from __future__ import annotations

import os
import platform
import typing as t
from pathlib import Path

from runs import Ratio

if t.TYPE_CHECKING:
    from runs import Runs

# Targets of the issue "A first backfill can be hundreds of thousands of calls".
WALL_RATIO_TARGET = {"json": 1.5, "csv": 2.0}
RSS_GROWTH_TARGET = 1.15
# Targets of issue 14 (speed): CPU per call against the bare loop's (no
# latency), wall time against it with a slow API (--latency-ms), peak RSS.
CPU_RATIO_TARGET = {"json": 0.8, "csv": 1.2}
LATENCY_WALL_RATIO_TARGET = 0.85
RSS_LIMIT_MB = 100.0
# Issue 22: the tap's wall time against the msgspec floor (floor.py).
FLOOR_RATIO_TARGET = {"json": 1.4, "csv": 2.0, "transcripts": 1.4}


def mb(kilobytes: float) -> float:
    """Decimal megabytes from ``ru_maxrss`` kilobytes (KiB on Linux)."""
    return kilobytes * 1024 / 1e6


def machine() -> str:
    """CPUs, CPU model, OS, Python and load average, on one line."""
    model = "unknown CPU"
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        for line in cpuinfo.read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None
    return (
        f"machine: {cpus or os.cpu_count()} CPUs ({model}), {platform.system()} "
        f"{platform.machine()}, Python {platform.python_version()}, {load()}"
    )


def load() -> str:
    """The 1-minute load average: other work on the machine skews wall times."""
    return f"load average {os.getloadavg()[0]:.2f}"


def timing_table(calls: int, results: dict[str, dict[str, Runs]]) -> list[str]:
    """One row per format and program: wall, records/s, paired ratios, CPU, RSS.

    Ratios are over the floor's and the baseline's run of the same round (runs
    are interleaved), as median (lowest-highest) of the rounds.
    """
    header = (
        f"{'format':<12}{'program':<16}{'wall s':>7}{'min-max':>12}{'rec/s':>8}"
        f"{'CPU s':>7}{'wall/floor':>19}{'CPU/floor':>19}{'wall/base':>19}"
        f"{'RSS MB':>8}"
    )
    lines = [header]
    for fmt, programs in results.items():
        floor, base = programs.get("floor"), programs.get("baseline")
        records = calls if fmt != "transcripts" else None
        for name, runs in programs.items():
            low, high = runs.spread
            rate = f"{records / runs.wall_s:,.0f}" if records else "-"
            versus = [
                str(Ratio.paired(runs, other, cost)) if other else "-"
                for other, cost in (
                    (floor, "wall_s"),
                    (floor, "cpu_s"),
                    (base, "wall_s"),
                )
            ]
            lines.append(
                f"{fmt:<12}{name:<16}{runs.wall_s:>7.2f}{f'{low:.2f}-{high:.2f}':>12}"
                f"{rate:>8}{runs.cpu_s:>7.2f}{versus[0]:>19}{versus[1]:>19}"
                f"{versus[2]:>19}{mb(runs.maxrss_kb):>8.1f}",
            )
    return lines


def memory_table(peaks: dict[str, dict[int, int]]) -> list[str]:
    """Peak RSS of the tap for each export size, and largest/smallest."""
    sizes = sorted({size for by_size in peaks.values() for size in by_size})
    header = f"{'format':<7}" + "".join(f"{f'{n:,} calls':>16}" for n in sizes)
    lines = [header + f"{'growth':>9}"]
    for fmt, by_size in peaks.items():
        cells = "".join(f"{f'{mb(by_size[n]):.1f} MB':>16}" for n in sizes)
        growth = by_size[sizes[-1]] / by_size[sizes[0]]
        lines.append(f"{fmt:<7}{cells}{f'{growth:.2f}x':>9}")
    return lines


def targets(
    results: dict[str, dict[str, Runs]],
    peaks: dict[str, dict[int, int]],
    latency_ms: float = 0.0,
) -> list[str]:
    """The issues' targets, each marked PASS or MISS (informational only)."""
    lines: list[str] = []

    def mark(ok: bool, text: str) -> None:  # noqa: FBT001
        lines.append(f"  [{'PASS' if ok else 'MISS'}] {text}")

    for fmt, programs in results.items():
        tap, floor = programs["tap"], programs["floor"]
        wall = Ratio.paired(tap, floor, "wall_s")
        limit = FLOOR_RATIO_TARGET[fmt]
        cpu = Ratio.paired(tap, floor, "cpu_s")
        mark(
            wall.median <= limit,
            f"{fmt}: tap wall <= {limit}x the msgspec floor: {wall} (CPU {cpu})",
        )
        base = programs.get("baseline")
        if base is None:
            continue
        wall = Ratio.paired(tap, base, "wall_s")
        if latency_ms > 0:
            limit = LATENCY_WALL_RATIO_TARGET
            mark(
                wall.median <= limit,
                f"{fmt}: tap wall <= {limit}x baseline at {latency_ms:g} ms per "
                f"request: {wall}",
            )
            continue
        limit = WALL_RATIO_TARGET[fmt]
        mark(wall.median <= limit, f"{fmt}: tap wall <= {limit}x baseline: {wall}")
        cpu = Ratio.paired(tap, base, "cpu_s")
        limit = CPU_RATIO_TARGET[fmt]
        mark(cpu.median <= limit, f"{fmt}: tap CPU <= {limit}x baseline: {cpu}")
    for fmt, by_size in peaks.items():
        small, large = min(by_size), max(by_size)
        growth = by_size[large] / by_size[small]
        mark(
            growth <= RSS_GROWTH_TARGET,
            f"{fmt}: peak RSS at {large:,} calls <= {RSS_GROWTH_TARGET}x the peak "
            f"at {small:,}: {growth:.2f}x",
        )
        peak = mb(by_size[large])
        mark(
            peak < RSS_LIMIT_MB,
            f"{fmt}: peak RSS at {large:,} calls < {RSS_LIMIT_MB:.0f} MB: "
            f"{peak:.1f} MB",
        )
    return lines
