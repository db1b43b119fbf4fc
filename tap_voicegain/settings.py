"""Settings' defaults, the API's limits, and the checks run before any request."""

from __future__ import annotations

DEFAULT_API_URL = "https://api.voicegain.ai/v1"
PER_PAGE_MAX = 10_000  # API: per_page in 1..10000
PER_PAGE_DEFAULT = 1_000  # the vendor's guide pages by 1000
DEFAULT_PROJECT = "default"  # partition name when only jwt_token is set

import dataclasses
import typing as t


@dataclasses.dataclass(frozen=True)
class Project:
    """One Voicegain project (context) and its token."""

    name: str
    token: str = dataclasses.field(repr=False)  # never shown in logs or errors


def projects(config: t.Mapping[str, t.Any]) -> list[Project]:
    """The projects to export, from ``projects`` or the single ``jwt_token``."""
    listed = config.get("projects") or []
    if listed:
        return [Project(str(item["name"]), str(item["jwt_token"])) for item in listed]
    return [Project(DEFAULT_PROJECT, str(config.get("jwt_token") or ""))]
