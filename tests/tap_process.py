"""Moved to tests/helpers.py; kept so existing imports keep working."""

from __future__ import annotations

from tests.helpers import parse_messages, start_tap, tap_command, tap_env, write_json

__all__ = ["parse_messages", "start_tap", "tap_command", "tap_env", "write_json"]
