"""Settings' defaults, the API's limits, and the checks run before any request."""

from __future__ import annotations

import base64
import binascii
import dataclasses
import ipaddress
import json
import math
import os
import re
import socket
import time
import typing as t
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import pendulum

from tap_voicegain.redact import without_userinfo

DEFAULT_API_URL = "https://api.voicegain.ai/v1"
PER_PAGE_MAX = 10_000  # API: per_page in 1..10000
PER_PAGE_DEFAULT = 1_000  # the vendor's guide pages by 1000
FILTER_TIME_MAX_CHARS = 32  # API: fromTime/toTime <= 32 characters
DEFAULT_PROJECT = "default"  # partition name when only jwt_token is set
REQUEST_TIMEOUT_DEFAULT = 60  # seconds to connect or to wait between bytes
REQUEST_TIMEOUT_MAX = 3600
DEADLINE_PER_TIMEOUT = 10  # a whole answer may take 10 x request_timeout
REFRESH_WINDOW_DAYS_MAX = 100_000  # ~270 years, before any call; ~740,000 is year 1
MAX_RETRIES_DEFAULT = 6
RETRY_WAIT_BASE_DEFAULT = 2.0  # seconds; doubles per attempt: 2, 4, 8, ...
RETRY_WAIT_MAX_DEFAULT = 300.0  # a Retry-After beyond 5 minutes is capped
TOKEN_WARN_SECONDS = 3600  # warn when the token expires within the hour
EXP_MAX = 253_402_300_799  # 9999-12-31T23:59:59Z; a later exp is not a time
CA_BUNDLE_ENV = ("REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE")  # as requests reads them
CALLS_PATH = "/sa/call"
# RFC 3339 requires the offset; without it the API reads the project's zone.
_UTC_OFFSET = re.compile(r"(?:[zZ]|[+-]\d{2}:\d{2})\Z")


@dataclasses.dataclass(frozen=True)
class Project:
    """One Voicegain project (context) and its token."""

    name: str
    token: str = dataclasses.field(repr=False)  # never shown in logs or errors


def _token(value: t.Any) -> str:  # noqa: ANN401
    # Secret files, Kubernetes secrets and pasted .env lines end in a new line;
    # the header would refuse it (quoting the token), so the ends are trimmed.
    return value.strip() if isinstance(value, str) else ""


def projects(config: t.Mapping[str, t.Any]) -> list[Project]:
    """The projects to export, from ``projects`` or the single ``jwt_token``.

    Values of the wrong type read as empty: the JSON schema names them.
    """
    listed = config.get("projects") or []
    if listed and isinstance(listed, (list, tuple)):
        return [
            Project(str(item.get("name") or ""), _token(item.get("jwt_token")))
            if isinstance(item, dict)
            else Project("", "")
            for item in listed
        ]
    return [Project(DEFAULT_PROJECT, _token(config.get("jwt_token")))]


def jwt_claims(token: str) -> dict[str, t.Any]:
    """The payload of a JWT, read without its key; empty if not a JWT."""
    parts = token.split(".")
    if len(parts) != 3:  # noqa: PLR2004 - header.payload.signature
        return {}
    payload = parts[1] + "=" * (-len(parts[1]) % 4)
    try:
        claims = json.loads(base64.urlsafe_b64decode(payload))
    except (binascii.Error, ValueError, RecursionError):
        return {}
    return claims if isinstance(claims, dict) else {}


def jwt_expiry(token: str) -> int | None:
    """The ``exp`` claim of a JWT; None if absent, not a JWT, or not a time."""
    exp = jwt_claims(token).get("exp")
    if isinstance(exp, bool) or not isinstance(exp, (int, float)):
        return None
    return int(exp) if math.isfinite(exp) and 0 <= exp <= EXP_MAX else None


def is_loopback(host: str) -> bool:
    """Whether ``host`` is this machine, read numerically (no DNS lookup).

    ``ipaddress`` does not read the IPv4 shorthands the OS accepts (``127.1``,
    ``2130706433``); ``inet_aton`` does, as the connection will.
    """
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        pass
    try:
        packed = socket.inet_aton(host)
    except (OSError, ValueError):
        return False
    return ipaddress.IPv4Address(packed).is_loopback


def ca_bundle(config: t.Mapping[str, t.Any]) -> str | None:
    """The CA bundle to verify TLS with: ``ca_bundle``, else requests' variables.

    The SDK sends through ``Session.send``, which ignores the environment, so
    the tap reads ``REQUESTS_CA_BUNDLE``/``CURL_CA_BUNDLE`` itself.
    """
    value = config.get("ca_bundle")
    if isinstance(value, str) and value:
        return value
    for name in CA_BUNDLE_ENV:
        if os.environ.get(name):
            return os.environ[name]
    return None


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
    if not _UTC_OFFSET.search(value):
        errors.append(
            f"{name}: {value!r} has no UTC offset; the API would read it in the "
            "project's time zone. Add Z (UTC) or an offset such as -05:00",
        )
        return None
    return moment


def _url_problems(value: str) -> list[str]:
    """What keeps ``value`` from being a base URL (urlsplit has accepted it)."""
    parts = urlsplit(value)
    problems = []
    if parts.username is not None or parts.password is not None:
        problems.append("must not hold a user name or password (user:...@)")
    if parts.query or value.endswith("?"):
        problems.append("must not have a query (?...)")
    if parts.fragment or value.endswith("#"):
        problems.append("must not have a fragment (#...)")
    if parts.path.rstrip("/").endswith(CALLS_PATH):
        problems.append(f"is the calls endpoint; give its base, without {CALLS_PATH}")
    return problems


def _check_api_url(
    config: t.Mapping[str, t.Any], errors: list[str], warnings: list[str]
) -> None:
    value = config.get("api_url", DEFAULT_API_URL)
    if not isinstance(value, str):
        return  # the JSON schema names the type
    shown = repr(without_userinfo(value))
    try:
        parts = urlsplit(value)
        host = parts.hostname or ""
    except ValueError:
        errors.append(f"api_url: {shown} is not a URL such as {DEFAULT_API_URL}")
        return
    errors.extend(
        f"api_url: {shown} {problem}, e.g. {DEFAULT_API_URL}"
        for problem in _url_problems(value)
    )
    allow_http = config.get("allow_http") is True
    if parts.scheme == "https" and host:
        return
    if parts.scheme == "http" and host and (allow_http or is_loopback(host)):
        if not is_loopback(host):
            warnings.append(
                f"api_url {shown} is plain http (allow_http is on): the token and "
                "the call data travel unencrypted",
            )
        return
    errors.append(
        f"api_url: {shown} must be an https:// URL such as {DEFAULT_API_URL} "
        "(plain http only for loopback hosts, or with allow_http: true for an "
        "Edge install on a private network)",
    )


def _check_ca_bundle(config: t.Mapping[str, t.Any], errors: list[str]) -> None:
    value = config.get("ca_bundle")
    if isinstance(value, str) and value:
        source = "ca_bundle"
    else:
        value = next((os.environ[n] for n in CA_BUNDLE_ENV if os.environ.get(n)), "")
        source = next((n for n in CA_BUNDLE_ENV if os.environ.get(n)), "")
    if value and not os.path.exists(value):  # noqa: PTH110 - a file or a directory
        errors.append(
            f"{source}: {value!r} does not exist; give the path of the PEM file "
            "of certificates to trust (e.g. your TLS-inspecting proxy's CA)",
        )


def _check_claims(
    project: Project, label: str, now: float, errors: list[str], warnings: list[str]
) -> None:
    claims = jwt_claims(project.token)
    if "exp" in claims and jwt_expiry(project.token) is None:
        errors.append(
            f"{label}: its exp claim ({str(claims['exp'])[:40]}) is not a time in "
            "seconds since 1970; create a new token in Project Settings",
        )
    context_id = claims.get("contextId")
    if "contextId" in claims and not (isinstance(context_id, str) and context_id):
        warnings.append(
            f"{label}: its contextId claim is {type(context_id).__name__}, not a "
            "project id; records take contextId from the API's answers only",
        )
    expiry = jwt_expiry(project.token)
    if expiry is None:
        return
    if expiry <= now:
        errors.append(
            f"{label}: the token expired at {_iso(expiry)}; create a new one in "
            "Project Settings of the Voicegain web app",
        )
    elif expiry - now < TOKEN_WARN_SECONDS:
        warnings.append(f"{label} expires soon, at {_iso(expiry)}")


def _check_projects(config: t.Mapping[str, t.Any], errors: list[str]) -> list[Project]:
    listed = config.get("projects")
    if listed and config.get("jwt_token"):
        errors.append("jwt_token and projects: set one of them, not both")
    if listed and not isinstance(listed, (list, tuple)):
        return []  # the JSON schema names the type
    found = projects(config)
    if not listed and not found[0].token:
        errors.append(
            "jwt_token: missing or empty; set it to the project's API token (JWT) "
            "from Project Settings in the Voicegain web app, or list projects",
        )
        return []
    names = [p.name for p in found]
    for index, project in enumerate(found):
        where = f"projects[{index}].jwt_token" if listed else "jwt_token"
        if not project.name:
            errors.append(f"projects[{index}].name: missing or empty")
        elif names.count(project.name) > 1:
            errors.append(f"projects[{index}].name: '{project.name}' is used twice")
        if listed and not project.token:
            errors.append(f"{where}: missing or empty")
        if any(not ch.isprintable() or ch.isspace() for ch in project.token):
            errors.append(
                f"{where}: holds spaces or control characters inside; copy the "
                "token again from Project Settings (its value is not shown)",
            )
        elif not project.token.isascii():
            # A JWT is ASCII; "smart quotes" from a word processor are not, and
            # an HTTP header cannot carry them.
            errors.append(
                f"{where}: holds characters that are not ASCII (curly quotes?); "
                "copy the token again from Project Settings (its value is not "
                "shown)",
            )
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
    _check_api_url(config, errors, warnings)
    _check_ca_bundle(config, errors)
    now = time.time() if now is None else now
    for project in _check_projects(config, errors):
        label = f"jwt_token of project '{project.name}'"
        _check_claims(project, label, now, errors, warnings)
    return errors, warnings
