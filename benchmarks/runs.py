# Copyright 2026 tap-voicegain contributors
# SPDX-License-Identifier: Apache-2.0
"""Run the tap and the baseline as subprocesses: measured, or counting records.

Every measured run goes through ``measure.py`` (a fresh wrapper process per run,
so its peak RSS is this run's alone), writes its Singer output or lines to
``/dev/null`` and its log to a file, and must report the expected number of calls.
"""

from __future__ import annotations

import dataclasses
import json
import re
import statistics
import subprocess
import sys
import typing as t
from pathlib import Path

from simserver import TOKEN

HERE = Path(__file__).resolve().parent
EXPORTED = re.compile(rb"exported (\d+) calls")
RECORD = b'{"type":"RECORD"'


class RunError(RuntimeError):
    """A run crashed or exported a different number of calls than expected."""


@dataclasses.dataclass(frozen=True)
class Run:
    """Costs of one measured process."""

    wall_s: float
    cpu_s: float
    maxrss_kb: int


@dataclasses.dataclass
class Runs:
    """Repeated runs of one program on one format."""

    runs: list[Run] = dataclasses.field(default_factory=list)

    @property
    def wall_s(self) -> float:
        """Median wall time."""
        return statistics.median(run.wall_s for run in self.runs)

    @property
    def cpu_s(self) -> float:
        """Median CPU time (user + system)."""
        return statistics.median(run.cpu_s for run in self.runs)

    @property
    def maxrss_kb(self) -> int:
        """Largest peak RSS of the runs."""
        return max(run.maxrss_kb for run in self.runs)

    @property
    def spread(self) -> tuple[float, float]:
        """Fastest and slowest wall time."""
        walls = [run.wall_s for run in self.runs]
        return min(walls), max(walls)


@dataclasses.dataclass(frozen=True)
class Ratio:
    """A program's cost over the baseline's, paired run by run (same round)."""

    median: float
    low: float
    high: float

    @classmethod
    def paired(cls, runs: Runs, base: Runs, cost: str) -> Ratio:
        """Median, lowest and highest of ``cost`` (wall_s, cpu_s) ratios per round."""
        ratios = [
            getattr(mine, cost) / getattr(theirs, cost)
            for mine, theirs in zip(runs.runs, base.runs, strict=True)
        ]
        return cls(statistics.median(ratios), min(ratios), max(ratios))

    def __str__(self) -> str:
        """``0.81x (0.78-0.84)``."""
        return f"{self.median:.2f}x ({self.low:.2f}-{self.high:.2f})"


@dataclasses.dataclass(frozen=True)
class Target:
    """What to run against one simulator, in one format."""

    url: str
    fmt: str
    per_page: int
    workdir: Path

    def tap_command(self, variant: str | None = None) -> list[str]:
        """The tap, with a config file for this target.

        ``variant`` (``default-gc``, ``no-prefetch``) runs it through
        ``variant.py`` with that measure turned off.
        """
        config = self.workdir / f"tap-{self.fmt}.json"
        settings = {
            "jwt_token": TOKEN,
            "api_url": self.url,
            "format": self.fmt,
            "per_page": self.per_page,
        }
        config.write_text(json.dumps(settings))
        if variant is not None:
            script = str(HERE / "variant.py")
            return [sys.executable, script, f"--{variant}", "--config", str(config)]
        return [sys.executable, "-m", "tap_voicegain", "--config", str(config)]

    def baseline_command(self) -> list[str]:
        """The bare requests + json/csv loop, writing to /dev/null."""
        return [
            sys.executable,
            str(HERE / "baseline.py"),
            "--url",
            self.url,
            "--token",
            TOKEN,
            "--format",
            self.fmt,
            "--per-page",
            str(self.per_page),
            "--out",
            "/dev/null",
        ]


def measured(command: list[str], log: Path, expected: int) -> Run:
    """Run ``command`` under a fresh ``measure.py``; check its exported count."""
    wrapper = [
        sys.executable,
        str(HERE / "measure.py"),
        "--stdout",
        "/dev/null",
        "--stderr",
        str(log),
        "--",
        *command,
    ]
    result = subprocess.run(wrapper, capture_output=True, check=True)
    costs = json.loads(result.stdout)
    if costs["returncode"] != 0:
        _fail(f"exited with status {costs['returncode']}", command, log)
    _check_exported(command, log, expected)
    return Run(costs["wall_s"], costs["cpu_s"], int(costs["maxrss_kb"]))


def counted(command: list[str], log: Path, expected: int) -> None:
    """Run the tap untimed, counting the RECORD messages it writes."""
    with log.open("wb") as err:
        process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=err)
        assert process.stdout is not None  # noqa: S101 - Popen(stdout=PIPE)
        records = sum(1 for line in process.stdout if line.startswith(RECORD))
        status = process.wait()
    if status != 0:
        _fail(f"exited with status {status}", command, log)
    if records != expected:
        _fail(f"wrote {records} RECORD messages, expected {expected}", command, log)


def _check_exported(command: list[str], log: Path, expected: int) -> None:
    found = [int(n) for n in EXPORTED.findall(log.read_bytes())]
    if sum(found) != expected:
        shown = sum(found) if found else "no 'exported N calls' line"
        _fail(f"exported {shown}, expected {expected}", command, log)


def _fail(what: str, command: list[str], log: Path) -> t.NoReturn:
    tail = "\n".join(log.read_text(errors="replace").splitlines()[-15:])
    msg = f"{' '.join(command)} {what}; last lines of {log}:\n{tail}"
    raise RunError(msg)
