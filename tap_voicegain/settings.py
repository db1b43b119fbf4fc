"""Settings' defaults, the API's limits, and the checks run before any request."""

from __future__ import annotations

import base64
import binascii
import dataclasses
import ipaddress
import json
import time
import typing as t
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import pendulum

DEFAULT_API_URL = "https://api.voicegain.ai/v1"
PER_PAGE_MAX = 10_000  # API: per_page in 1..10000
PER_PAGE_DEFAULT = 1_000  # the vendor's guide pages by 1000
FILTER_TIME_MAX_CHARS = 32  # API: fromTime/toTime <= 32 characters
DEFAULT_PROJECT = "default"  # partition name when only jwt_token is set
REQUEST_TIMEOUT_DEFAULT = 60  # seconds to connect or to wait between bytes
MAX_RETRIES_DEFAULT = 6
RETRY_WAIT_BASE_DEFAULT = 2.0  # seconds; doubles per attempt: 2, 4, 8, ...
RETRY_WAIT_MAX_DEFAULT = 300.0  # a Retry-After beyond 5 minutes is capped
TOKEN_WARN_SECONDS = 3600  # warn when the token expires within the hour


@dataclasses.dataclass(frozen=True)
class Project:
    """One Voicegain project (context) and its token."""

    name: str
    token: str = dataclasses.field(repr=False)  # never shown in logs or errors


def projects(config: t.Mapping[str, t.Any]) -> list[Project]:
    """The projects to export, from ``projects`` or the single ``jwt_token``."""
    listed = config.get("projects") or []
    if listed:
        return [
            Project(str(item.get("name") or ""), str(item.get("jwt_token") or ""))
            for item in listed
        ]
    return [Project(DEFAULT_PROJECT, str(config.get("jwt_token") or ""))]


def jwt_claims(token: str) -> dict[str, t.Any]:
    """The payload of a JWT, read without its key; empty if not a JWT."""
    parts = token.split(".")
    if len(parts) != 3:  # noqa: PLR2004 - header.payload.signature
        return {}
    payload = parts[1] + "=" * (-len(parts[1]) % 4)
    try:
        claims = json.loads(base64.urlsafe_b64decode(payload))
    except (binascii.Error, ValueError):
        return {}
    return claims if isinstance(claims, dict) else {}


def jwt_expiry(token: str) -> int | None:
    """The ``exp`` claim of a JWT; None if absent or not a JWT."""
    exp = jwt_claims(token).get("exp")
    return (
        int(exp)
        if isinstance(exp, (int, float)) and not isinstance(exp, bool)
        else None
    )


def _iso(epoch: float) -> str:
    return pendulum.from_timestamp(epoch).to_iso8601_string()


def _check_time(config: t.Mapping[str, t.Any], name: str, errors: list[str]) -> t.Any:  # noqa: ANN401
    value = config.get(name)
    if value in {None, ""}:
        return None
    accepted = "an RFC 3339 date-time such as 2024-05-12T00:00:00Z"
    if not isinstance(value, str):
        return None  # the JSON schema names the type
    if len(value) > FILTER_TIME_MAX_CHARS:
        errors.append(f"{name}: {value!r} is not {accepted} (at most 32 characters)")
        return None
    try:
        moment = pendulum.parse(value, strict=True)
    except (ValueError, pendulum.parsing.exceptions.ParserError):
        moment = None
    if not isinstance(moment, pendulum.DateTime) or "T" not in value.upper():
        errors.append(f"{name}: {value!r} is not {accepted}")
        return None
    return moment


def _check_api_url(value: t.Any, errors: list[str]) -> None:  # noqa: ANN401
    parts = urlsplit(str(value))
    host = parts.hostname or ""
    try:
        loopback = host == "localhost" or ipaddress.ip_address(host).is_loopback
    except ValueError:
        loopback = False
    if parts.scheme == "https" and host:
        return
    if parts.scheme == "http" and loopback:
        return
    errors.append(
        f"api_url: {value!r} must be an https:// URL such as {DEFAULT_API_URL} "
        "(plain http is allowed only for loopback hosts, e.g. the simulator)",
    )


def _check_projects(config: t.Mapping[str, t.Any], errors: list[str]) -> list[Project]:
    listed = config.get("projects")
    if listed and config.get("jwt_token"):
        errors.append("jwt_token and projects: set one of them, not both")
    if not listed and not config.get("jwt_token"):
        errors.append(
            "jwt_token: missing or empty; set it to the project's API token (JWT) "
            "from Project Settings in the Voicegain web app, or list projects",
        )
        return []
    found = projects(config)
    names = [p.name for p in found]
    for index, project in enumerate(found):
        if not project.name:
            errors.append(f"projects[{index}].name: missing or empty")
        elif names.count(project.name) > 1:
            errors.append(f"projects[{index}].name: '{project.name}' is used twice")
        if listed and not project.token:
            errors.append(f"projects[{index}].jwt_token: missing or empty")
    return found


def check_config(
    config: t.Mapping[str, t.Any],
    *,
    now: float | None = None,
) -> tuple[list[str], list[str]]:
    """Check settings beyond what their JSON schema can say.

    Returns:
        (errors, warnings): each names the setting and what it accepts. No value
        of a token is ever part of a message.
    """
    errors: list[str] = []
    warnings: list[str] = []
    from_time = _check_time(config, "from_time", errors)
    to_time = _check_time(config, "to_time", errors)
    if from_time is not None and to_time is not None and from_time > to_time:
        errors.append(
            f"from_time: {config['from_time']} is after to_time {config['to_time']}",
        )
    zone = config.get("csv_timezone", "UTC")
    try:
        ZoneInfo(str(zone))
    except (ZoneInfoNotFoundError, ValueError):
        errors.append(
            f"csv_timezone: {zone!r} is not an IANA time zone name such as UTC or "
            "America/Chicago",
        )
    _check_api_url(config.get("api_url", DEFAULT_API_URL), errors)
    now = time.time() if now is None else now
    for project in _check_projects(config, errors):
        expiry = jwt_expiry(project.token)
        if expiry is None:
            continue
        label = f"jwt_token of project '{project.name}'"
        if expiry <= now:
            errors.append(
                f"{label}: the token expired at {_iso(expiry)}; create a new one in "
                "Project Settings of the Voicegain web app",
            )
        elif expiry - now < TOKEN_WARN_SECONDS:
            warnings.append(f"{label} expires soon, at {_iso(expiry)}")
    return errors, warnings
