"""RFC 3339 timestamp helpers (Python 3.10 compatible)."""

from __future__ import annotations

from datetime import datetime, timezone


def format_rfc3339(moment: datetime) -> str:
    """``2024-05-12T18:15:45Z``: UTC, whole seconds; naive values are UTC."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_rfc3339(text: str) -> datetime:
    """Parse RFC 3339 text (``Z`` accepted); naive only if it has no offset.

    Raises:
        ValueError: The text is not an ISO 8601 date-time.
    """
    if text[-1:] in {"Z", "z"}:
        text = text[:-1] + "+00:00"
    return datetime.fromisoformat(text)
