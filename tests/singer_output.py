"""Moved to tests/helpers.py; kept so existing imports keep working."""

from __future__ import annotations

from tests.helpers import TapRun, bookmark, run_tap, state_with_bookmark

__all__ = ["TapRun", "bookmark", "run_tap", "state_with_bookmark"]
