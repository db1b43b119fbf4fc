"""Run the simulator's command line in a child process, for the demo and benchmark.

Tests start :class:`VoicegainSimulator` in-process; the demo and the benchmark
want it in its own process (so its work is never measured, and it outlives no
one): :func:`launched` starts ``python -m voicegain_sim --port 0``,
waits for its banner and yields the API URL, and stops it on the way out.
"""

from __future__ import annotations

import contextlib
import dataclasses
import re
import selectors
import subprocess
import sys
import typing as t

if t.TYPE_CHECKING:
    from collections.abc import Iterator, Sequence
    from pathlib import Path

BANNER = re.compile(r"Voicegain simulator on (\S+) \((\d+) calls\)")


class LaunchError(RuntimeError):
    """The simulator did not start."""


@dataclasses.dataclass(frozen=True)
class Launched:
    """A running simulator process."""

    url: str  # the tap's api_url, ``http://127.0.0.1:PORT/v1``
    pid: int
    banner: str


@contextlib.contextmanager
def launched(
    args: Sequence[str], *, log: Path, timeout: float = 60.0, cwd: Path | None = None
) -> Iterator[Launched]:
    """Start the simulator with ``args`` on a free port; stop it when done.

    The child's stderr goes to ``log``; ``timeout`` bounds the wait for its
    banner (large exports take a while).

    Raises:
        LaunchError: No banner within ``timeout``, or the child exited.
    """
    command = [sys.executable, "-m", "voicegain_sim", *args, "--port", "0"]
    with log.open("wb") as err:
        process = subprocess.Popen(  # noqa: S603 - our own module, fixed argv
            command, stdout=subprocess.PIPE, stderr=err, cwd=cwd
        )
    try:
        banner = _first_line(process, timeout)
        match = BANNER.search(banner)
        if match is None:
            tail = log.read_text(errors="replace")[-2000:]
            msg = f"the simulator did not start (exit status {process.poll()}):\n{tail}"
            raise LaunchError(msg)
        yield Launched(url=match.group(1), pid=process.pid, banner=banner.strip())
    finally:
        _stop(process)


def _first_line(process: subprocess.Popen[bytes], timeout: float) -> str:
    stdout = process.stdout
    if stdout is None:  # pragma: no cover - Popen(stdout=PIPE)
        return ""
    with selectors.DefaultSelector() as selector:
        selector.register(stdout, selectors.EVENT_READ)
        if not selector.select(timeout):
            return ""
    return stdout.readline().decode(errors="replace")


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    if process.stdout is not None:
        process.stdout.close()
