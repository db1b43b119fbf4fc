# Copyright 2026 tap-voicegain contributors
# SPDX-License-Identifier: Apache-2.0
"""RFC 3339 timestamp helpers (Python 3.10 compatible)."""

from __future__ import annotations

from datetime import datetime, timezone


def format_rfc3339(moment: datetime) -> str:
    """Format a datetime as RFC 3339 UTC with whole seconds.

    Args:
        moment: A timezone-aware datetime (naive values are taken as UTC).

    Returns:
        Text like ``2024-05-12T18:15:45Z``.
    """
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_rfc3339(text: str) -> datetime:
    """Parse an RFC 3339 timestamp; a ``Z`` suffix is accepted.

    Args:
        text: Text like ``2024-05-12T18:15:45Z`` or ``...+02:00``.

    Returns:
        The datetime; naive only if the text carries no offset.

    Raises:
        ValueError: The text is not an ISO 8601 date-time.
    """
    if text[-1:] in {"Z", "z"}:
        text = text[:-1] + "+00:00"
    return datetime.fromisoformat(text)
