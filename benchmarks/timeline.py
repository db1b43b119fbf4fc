# Copyright 2026 tap-voicegain contributors
# SPDX-License-Identifier: Apache-2.0
"""Where a scheduled run's seconds go: phases from process and request times.

A ``meltano run`` is timed under ``strace -f --seccomp-bpf -e
trace=execve,exit_group`` (only those two system calls stop the processes, so
the cost is small; the report shows the traced runs' wall beside the untimed
ones), which gives when Meltano, the tap's discovery, the tap and the target
started and ended. The simulator's request log gives the first and last call
page asked for. From those:

- Meltano start-up: ``meltano`` started -> it starts the first plugin;
- discovery: ``tap-voicegain --discover`` started -> ended (absent when Meltano
  used its cached catalog);
- Meltano between: discovery ended -> the tap and target started;
- tap start-up: the tap started -> its first request;
- requests + records: first request -> the tap ended;
- target after the tap: the tap ended -> the target ended;
- Meltano end: the target ended -> ``meltano`` ended (state saved).

dlt's run is one process; its script notes when its imports, extract,
normalize and load ended (``dlt_pipeline.py --stamps``).
"""

from __future__ import annotations

import re
import shutil
import statistics
import typing as t

if t.TYPE_CHECKING:
    from pathlib import Path

STRACE = shutil.which("strace")
STRACE_ARGS = (
    "-f",
    "-qq",
    "--seccomp-bpf",
    "-e",
    "trace=execve,exit_group",
    "-e",
    "signal=none",
    "-ttt",
    "-s",
    "200",
)
_LINE = re.compile(r"^(\d+)\s+(\d+\.\d+)\s+(.*)$")
_EXECVE = re.compile(r'execve\("([^"]+)", \[(.*?)\]')

# Phase names in chart order, and the colour of each group.
MELTANO_PHASES = (
    "Meltano start-up",
    "discovery",
    "Meltano between",
    "tap start-up",
    "requests + records",
    "target after the tap",
    "Meltano end",
)
DLT_PHASES = ("dlt start-up", "extract (requests)", "normalize", "load", "dlt end")
COLOURS = {
    "Meltano start-up": "#8c8c8c",
    "Meltano between": "#b0b0b0",
    "Meltano end": "#d0d0d0",
    "discovery": "#e45756",
    "tap start-up": "#f58518",
    "requests + records": "#4c78a8",
    "target after the tap": "#54a24b",
    "dlt start-up": "#f58518",
    "extract (requests)": "#4c78a8",
    "normalize": "#72b7b2",
    "load": "#54a24b",
    "dlt end": "#d0d0d0",
}


class Process(t.NamedTuple):
    """One program a traced run started."""

    path: str
    args: str
    started: float
    ended: float | None


def processes(trace: Path) -> list[Process]:
    """The first successful execve of each process in a strace log, with its exit.

    The first: a venv script whose shebang is too long for the kernel starts
    under /bin/sh, which execs the venv's python in the same process.
    """
    started: dict[str, tuple[str, str, float]] = {}
    ended: dict[str, float] = {}
    pending: dict[str, tuple[str, str, float]] = {}
    for line in trace.read_text(errors="replace").splitlines():
        match = _LINE.match(line)
        if match is None:
            continue
        pid, stamp, call = match.group(1), float(match.group(2)), match.group(3)
        if call.startswith("execve("):
            found = _EXECVE.match(call)
            if found is None:
                continue
            entry = (found.group(1), found.group(2), stamp)
            if call.endswith("= 0"):
                started.setdefault(pid, entry)
            elif "<unfinished" in call:
                pending[pid] = entry
        elif call.startswith("<... execve resumed>") and call.endswith("= 0"):
            if pid in pending:
                started.setdefault(pid, pending.pop(pid))
        elif call.startswith("exit_group("):
            ended[pid] = stamp
    return [
        Process(path, args, stamp, ended.get(pid))
        for pid, (path, args, stamp) in sorted(started.items(), key=lambda i: i[1][2])
    ]


def meltano_phases(
    trace: Path, request_times: list[float], target: str
) -> dict[str, float] | None:
    """Seconds in each phase of one traced ``meltano run``; None if unreadable."""
    procs = processes(trace)
    if not procs:
        return None
    meltano = procs[0]
    discover = [
        p for p in procs if p.path.endswith("/tap-voicegain") and "--discover" in p.args
    ]
    taps = [
        p
        for p in procs
        if p.path.endswith("/tap-voicegain") and "--discover" not in p.args
    ]
    targets = [p for p in procs if p.path.endswith(f"/{target}")]
    if not taps or not targets or meltano.ended is None:
        return None
    tap, loader = taps[0], targets[0]
    first_plugin = min(p.started for p in (*discover, tap, loader))
    requests = [stamp for stamp in request_times if stamp >= tap.started]
    tap_end = tap.ended or loader.ended or meltano.ended
    loader_end = loader.ended or meltano.ended
    first = requests[0] if requests else tap_end
    phases = {
        "Meltano start-up": first_plugin - meltano.started,
        "discovery": sum((p.ended or p.started) - p.started for p in discover),
        "Meltano between": min(tap.started, loader.started)
        - (discover[-1].ended or first_plugin if discover else first_plugin),
        "tap start-up": first - tap.started,
        "requests + records": tap_end - first,
        "target after the tap": max(loader_end - tap_end, 0.0),
        "Meltano end": meltano.ended - max(loader_end, tap_end),
    }
    phases["discovery runs"] = float(len(discover))
    return phases


def dlt_phases(stamps: dict[str, float], exited: float) -> dict[str, float]:
    """Seconds in each phase of one dlt run (its ``--stamps``; process start/end)."""
    return {
        "dlt start-up": stamps["imported"] - stamps["process_started"],
        "extract (requests)": stamps["extracted"] - stamps["imported"],
        "normalize": stamps["normalized"] - stamps["extracted"],
        "load": stamps["loaded"] - stamps["normalized"],
        "dlt end": exited - stamps["loaded"],
    }


def median_phases(runs: list[dict[str, float]]) -> dict[str, float]:
    """The median of each phase over runs."""
    keys = [key for key in runs[0] if key != "discovery runs"]
    return {key: statistics.median(run[key] for run in runs) for key in keys}


def ascii_bars(rows: dict[str, dict[str, float]], width: int = 60) -> list[str]:
    """One text bar per contender, one letter per phase, and a legend."""
    longest = max(sum(phases.values()) for phases in rows.values()) or 1.0
    pad = max(len(label) for label in rows) + 2
    letters: dict[str, str] = {}
    lines = []
    for label, phases in rows.items():
        bar = ""
        for name, seconds in phases.items():
            letter = letters.setdefault(name, "MDbsrtezSXNLE"[len(letters) % 13])
            bar += letter * round(seconds / longest * width)
        lines.append(f"  {label:<{pad}}{bar} {sum(phases.values()):.2f} s")
    legend = ", ".join(f"{letter} {name}" for name, letter in letters.items())
    return [*lines, f"  ({legend})"]


def svg_chart(rows: dict[str, dict[str, float]], title: str) -> str:
    """A horizontal stacked bar chart of the phases, as an SVG document."""
    # Room for the longest label at about 7.5 px a character (13 px sans-serif).
    left = max(190, 20 + round(7.5 * max(len(label) for label in rows)))
    bar_h, gap, width = 26, 14, 560
    top = 44
    longest = max(sum(phases.values()) for phases in rows.values()) or 1.0
    scale = width / longest
    names: list[str] = []
    for phases in rows.values():
        names += [name for name in phases if name not in names]
    legend_top = top + len(rows) * (bar_h + gap) + 18
    height = legend_top + 22 * ((len(names) + 2) // 3) + 10
    out = [
        (
            f'<svg xmlns="http://www.w3.org/2000/svg" width="{left + width + 80}" '
            f'height="{height}" font-family="sans-serif" font-size="13">'
        ),
        f'<text x="10" y="22" font-size="15" font-weight="bold">{_esc(title)}</text>',
    ]
    for row, (label, phases) in enumerate(rows.items()):
        y = top + row * (bar_h + gap)
        out.append(f'<text x="10" y="{y + 17}">{_esc(label)}</text>')
        x = float(left)
        for name, seconds in phases.items():
            w = seconds * scale
            colour = COLOURS.get(name, "#999999")
            out.append(
                f'<rect x="{x:.1f}" y="{y}" width="{w:.1f}" height="{bar_h}" '
                f'fill="{colour}"><title>{_esc(name)}: {seconds:.2f} s</title></rect>'
            )
            if w > 34:
                out.append(
                    f'<text x="{x + w / 2:.1f}" y="{y + 17}" text-anchor="middle" '
                    f'fill="white" font-size="11">{seconds:.2f}</text>'
                )
            x += w
        out.append(
            f'<text x="{x + 6:.1f}" y="{y + 17}">{sum(phases.values()):.2f} s</text>'
        )
    for i, name in enumerate(names):
        x = 10 + (i % 3) * 250
        y = legend_top + (i // 3) * 22
        out.append(
            f'<rect x="{x}" y="{y}" width="14" height="14" '
            f'fill="{COLOURS.get(name, "#999999")}"/>'
        )
        out.append(f'<text x="{x + 20}" y="{y + 12}">{_esc(name)}</text>')
    out.append("</svg>")
    return "\n".join(out) + "\n"


def _esc(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
