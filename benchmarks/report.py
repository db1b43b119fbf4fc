# Copyright 2026 tap-voicegain contributors
# SPDX-License-Identifier: Apache-2.0
"""The printed report: machine, timing table, memory table, targets."""

from __future__ import annotations

import os
import platform
import typing as t
from pathlib import Path

if t.TYPE_CHECKING:
    from runs import Runs

# Targets of the issue "A first backfill can be hundreds of thousands of calls".
WALL_RATIO_TARGET = {"json": 1.5, "csv": 2.0}
RSS_GROWTH_TARGET = 1.15
RSS_LIMIT_MB = 250.0


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
    """One row per format and program: wall, calls/s, ratio, CPU, peak RSS."""
    header = (
        f"{'format':<7}{'program':<10}{'wall s':>8}{'min-max':>14}{'calls/s':>10}"
        f"{'tap/base':>10}{'CPU s':>8}{'peak RSS MB':>13}"
    )
    lines = [header]
    for fmt, programs in results.items():
        base = programs["baseline"].wall_s
        for name, runs in programs.items():
            low, high = runs.spread
            ratio = f"{runs.wall_s / base:.2f}x" if name == "tap" else "1.00x"
            lines.append(
                f"{fmt:<7}{name:<10}{runs.wall_s:>8.2f}{f'{low:.2f}-{high:.2f}':>14}"
                f"{calls / runs.wall_s:>10,.0f}{ratio:>10}{runs.cpu_s:>8.2f}"
                f"{mb(runs.maxrss_kb):>13.1f}",
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
) -> list[str]:
    """The issue's targets, each marked PASS or MISS (informational only)."""
    lines: list[str] = []

    def mark(ok: bool, text: str) -> None:  # noqa: FBT001
        lines.append(f"  [{'PASS' if ok else 'MISS'}] {text}")

    for fmt, programs in results.items():
        ratio = programs["tap"].wall_s / programs["baseline"].wall_s
        limit = WALL_RATIO_TARGET[fmt]
        mark(ratio <= limit, f"{fmt}: tap wall <= {limit}x baseline: {ratio:.2f}x")
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
