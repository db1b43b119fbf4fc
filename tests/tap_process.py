"""Run the tap as a real process, the way Meltano does."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import typing as t

if t.TYPE_CHECKING:
    from pathlib import Path


def write_json(path: Path, value: t.Any) -> Path:
    path.write_text(json.dumps(value), encoding="utf-8")
    return path


def tap_command(config_path: Path, state_path: Path | None = None) -> list[str]:
    command = [sys.executable, "-m", "tap_voicegain", "--config", str(config_path)]
    if state_path is not None:
        command += ["--state", str(state_path)]
    return command


def tap_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TAP_VOICEGAIN_")}
    env.update(extra)
    return env


def start_tap(
    config_path: Path, state_path: Path | None = None, **env: str
) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        tap_command(config_path, state_path),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=tap_env(**env),
    )


def parse_messages(stdout: bytes) -> list[dict[str, t.Any]]:
    """Complete Singer lines only: a killed process may leave half a line."""
    messages = []
    for line in stdout.split(b"\n"):
        if not line.strip():
            continue
        try:
            messages.append(json.loads(line))
        except ValueError:
            continue
    return messages
