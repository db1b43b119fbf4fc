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
# The tap's summary lines ("exported N calls"; the transcripts stream's "N
# transcripts from M requests") and the bare loops' ("... exported N calls").
EXPORTED = re.compile(rb"exported (\d+) (?:calls|transcripts)|: (\d+) transcripts from")
RECORD = b'{"type":"RECORD"'


class RunError(RuntimeError):
    """A run crashed or exported a different number of calls than expected."""


@dataclasses.dataclass(frozen=True)
class Run:
    """Costs of one measured process."""

    wall_s: float
    cpu_s: float
    maxrss_kb: int
    started_at: float = 0.0  # Unix time the process was started


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
    """What to run against one simulator, in one format (json, csv, transcripts)."""

    url: str
    fmt: str
    per_page: int
    workdir: Path

    def tap_command(
        self, variant: str | None = None, python: str = sys.executable
    ) -> list[str]:
        """The tap (``python -m tap_voicegain``), with a config file for this target.

        ``variant`` (``default-gc``, ``no-prefetch``) runs it through
        ``variant.py`` with that measure turned off. ``python`` is the
        interpreter of the tap's virtualenv (``--before``: the other checkout's).
        For ``transcripts`` only that stream is selected, by a catalog from the
        tap's own ``--discover``.
        """
        tag = abs(hash(python)) % 10**6
        config = self.workdir / f"tap-{self.fmt}-{tag}.json"
        settings = {
            "jwt_token": TOKEN,
            "api_url": self.url,
            "format": "json" if self.fmt == "transcripts" else self.fmt,
            "per_page": self.per_page,
        }
        config.write_text(json.dumps(settings))
        if variant is not None:
            script = str(HERE / "variant.py")
            command = [python, script, f"--{variant}", "--config", str(config)]
        else:
            command = [python, "-m", "tap_voicegain", "--config", str(config)]
        if self.fmt == "transcripts":
            catalog = self.workdir / f"catalog-transcripts-{tag}.json"
            if not catalog.exists():
                catalog.write_text(
                    json.dumps(select_only(python, config, "transcripts"))
                )
            command += ["--catalog", str(catalog)]
        return command

    def baseline_command(self) -> list[str]:
        """The bare requests + json/csv loop, writing to /dev/null."""
        return self._loop_command("baseline.py")

    def floor_command(self) -> list[str]:
        """The msgspec floor (typed decode + encode, no SDK), writing to /dev/null."""
        return self._loop_command("floor.py")

    def _loop_command(self, script: str) -> list[str]:
        return [
            sys.executable,
            str(HERE / script),
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


def select_only(python: str, config: Path, stream: str) -> dict[str, t.Any]:
    """The tap's discovered catalog with only ``stream`` selected."""
    found = subprocess.run(
        [python, "-m", "tap_voicegain", "--config", str(config), "--discover"],
        capture_output=True,
        check=True,
    )
    catalog: dict[str, t.Any] = json.loads(found.stdout)
    for entry in catalog["streams"]:
        for metadata in entry["metadata"]:
            if metadata["breadcrumb"] == []:
                metadata["metadata"]["selected"] = entry["tap_stream_id"] == stream
    return catalog


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
    return Run(
        costs["wall_s"], costs["cpu_s"], int(costs["maxrss_kb"]), costs["started_at"]
    )


def counted(command: list[str], log: Path, expected: int | None) -> int:
    """Run the tap untimed, counting its RECORD messages; return the count.

    ``expected`` None: any count (transcripts: the calls that have one).
    """
    with log.open("wb") as err:
        process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=err)
        assert process.stdout is not None  # noqa: S101 - Popen(stdout=PIPE)
        records = sum(1 for line in process.stdout if line.startswith(RECORD))
        status = process.wait()
    if status != 0:
        _fail(f"exited with status {status}", command, log)
    if expected is not None and records != expected:
        _fail(f"wrote {records} RECORD messages, expected {expected}", command, log)
    return records


def _check_exported(command: list[str], log: Path, expected: int) -> None:
    found = [int(a or b) for a, b in EXPORTED.findall(log.read_bytes())]
    if sum(found) != expected:
        shown = sum(found) if found else "no 'exported N calls' line"
        _fail(f"exported {shown}, expected {expected}", command, log)


def _fail(what: str, command: list[str], log: Path) -> t.NoReturn:
    tail = "\n".join(log.read_text(errors="replace").splitlines()[-15:])
    msg = f"{' '.join(command)} {what}; last lines of {log}:\n{tail}"
    raise RunError(msg)
