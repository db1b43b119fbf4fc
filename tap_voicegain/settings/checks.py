"""Checks of the settings beyond what their JSON schema can say, before any request.

Each message names the setting and what it accepts, never a token's value.
"""

from __future__ import annotations

import datetime as dt
import difflib
import os
import re
import time
import typing as t
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from tap_voicegain.settings import (
    CA_BUNDLE_ENV,
    DEFAULT_API_URL,
    Project,
    Settings,
    ca_bundle,
    context_id,
    is_loopback,
    jwt_claims,
    jwt_expiry,
    parse_datetime,
    projects,
    userinfo,
    without_userinfo,
)

FILTER_TIME_MAX_CHARS = 32  # API: fromTime/toTime <= 32 characters
TOKEN_WARN_SECONDS = 3600  # warn when the token expires within the hour
CALLS_PATH = "/sa/call"
# RFC 3339 requires the offset; without it the API reads the project's zone.
_UTC_OFFSET = re.compile(r"(?:[zZ]|[+-]\d{2}:\d{2})\Z")
_RFC3339_EXAMPLE = "an RFC 3339 date-time such as 2024-05-12T00:00:00Z"
_AGAIN = "copy the token again from Project Settings (its value is not shown)"


def check_config(
    config: t.Mapping[str, t.Any], *, now: float | None = None
) -> tuple[list[str], list[str]]:
    """Check settings beyond their JSON schema: (errors, warnings), no token shown."""
    errors: list[str] = []
    warnings: list[str] = []
    settings = Settings.from_config(
        {k: v for k, v in config.items() if k not in {"projects", "jwt_token"}}
    )
    from_time = _check_time(settings.from_time, "from_time", errors)
    to_time = _check_time(settings.to_time, "to_time", errors)
    if from_time is not None and to_time is not None and from_time > to_time:
        errors.append(
            f"from_time: {settings.from_time} is after to_time {settings.to_time}"
        )
    try:
        ZoneInfo(str(settings.csv_timezone))
    except (ZoneInfoNotFoundError, ValueError):
        errors.append(
            f"csv_timezone: {settings.csv_timezone!r} is not an IANA time zone name "
            "such as UTC or America/Chicago",
        )
    for name in ("internal_endpoints", "user_group_ids"):
        values = config.get(name) or []
        if isinstance(values, list) and any("," in str(v) for v in values):
            errors.append(
                f"{name}: an item holds a comma, which the API reads as a separator"
            )
    _check_api_url(settings, errors, warnings)
    value = ca_bundle(config)
    if value and not os.path.exists(value):  # noqa: PTH110 - a file or a directory
        source = (
            "ca_bundle"
            if config.get("ca_bundle")
            else next(name for name in CA_BUNDLE_ENV if os.environ.get(name))
        )
        errors.append(
            f"{source}: {value!r} does not exist; give the path of the PEM file "
            "of certificates to trust (e.g. your TLS-inspecting proxy's CA)",
        )
    now = time.time() if now is None else now
    for project in _check_projects(config, errors):
        _check_claims(project, now, errors, warnings)
    return errors, warnings


def unknown_settings(
    config: t.Mapping[str, t.Any], known: t.Iterable[str]
) -> list[str]:
    """A warning for each setting the tap does not know, with the closest name."""
    known = list(known)
    warnings = []
    for name in sorted(set(config) - set(known)):
        close = difflib.get_close_matches(name, known, n=1)
        hint = f"; did you mean {close[0]}?" if close else ""
        warnings.append(f"setting '{name}' is not a setting of this tap: ignored{hint}")
    return warnings


def _check_time(value: t.Any, name: str, errors: list[str]) -> dt.datetime | None:  # noqa: ANN401
    if value in {None, ""} or not isinstance(value, str):
        return None  # the JSON schema names the type
    if len(value) > FILTER_TIME_MAX_CHARS:
        errors.append(
            f"{name}: {value!r} is not {_RFC3339_EXAMPLE} (at most 32 characters)"
        )
        return None
    try:
        moment: dt.datetime | None = parse_datetime(value)
    except ValueError:
        moment = None
    if moment is None or value[10] not in "Tt":  # section 5.6 asks for the T
        errors.append(f"{name}: {value!r} is not {_RFC3339_EXAMPLE}")
        return None
    if not _UTC_OFFSET.search(value):
        errors.append(
            f"{name}: {value!r} has no UTC offset as RFC 3339 writes it (Z or "
            "+HH:MM); the API would read it in the project's time zone. Add Z "
            "(UTC) or an offset such as -05:00",
        )
        return None
    return moment


def _url_problems(value: str) -> list[str]:
    """What keeps ``value`` from being a base URL (urlsplit has accepted it)."""
    parts = urlsplit(value)
    problems = []
    if parts.query or value.endswith("?"):
        problems.append("must not have a query (?...)")
    if parts.fragment or value.endswith("#"):
        problems.append("must not have a fragment (#...)")
    if parts.path.rstrip("/").endswith(CALLS_PATH):
        problems.append(f"is the calls endpoint; give its base, without {CALLS_PATH}")
    if any(char.isspace() or not char.isprintable() for char in value):
        problems.append("must not hold spaces or control characters")
    try:
        parts.port  # noqa: B018 - raises for a port outside 0..65535
    except ValueError:
        problems.append("has a port outside 1..65535")
    return problems


def _check_api_url(config: Settings, errors: list[str], warnings: list[str]) -> None:
    value = config.api_url
    if not isinstance(value, str):
        return  # the JSON schema names the type
    shown = repr(without_userinfo(value))
    if userinfo(value):  # first: a password may hold what reads as a query, a port
        errors.append(f"api_url: {shown} must not hold a user name or password")
        return
    try:
        parts = urlsplit(value)
        host = parts.hostname or ""
    except ValueError:
        errors.append(f"api_url: {shown} is not a URL such as {DEFAULT_API_URL}")
        return
    problems = _url_problems(value)
    errors.extend(f"api_url: {shown} {p}, e.g. {DEFAULT_API_URL}" for p in problems)
    if problems or (parts.scheme == "https" and host):
        return
    if (
        parts.scheme == "http"
        and host
        and (config.allow_http is True or is_loopback(host))
    ):
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


def _check_claims(
    project: Project, now: float, errors: list[str], warnings: list[str]
) -> None:
    label = f"jwt_token of project '{project.name}'"
    claims = jwt_claims(project.token)
    expiry = jwt_expiry(project.token)
    if "exp" in claims and expiry is None:
        errors.append(
            f"{label}: its exp claim ({str(claims['exp'])[:40]}) is not a time in "
            "seconds since 1970; create a new token in Project Settings",
        )
    if "contextId" in claims and context_id(project.token) is None:
        warnings.append(
            f"{label}: its contextId claim is {type(claims['contextId']).__name__}, "
            "not a project id; records take contextId from the API's answers only",
        )
    if expiry is None:
        return
    when = dt.datetime.fromtimestamp(expiry, dt.timezone.utc).strftime(
        "%Y-%m-%dT%H:%M:%SZ"
    )
    if expiry <= now:
        errors.append(
            f"{label}: the token expired at {when}; create a new one in "
            "Project Settings of the Voicegain web app",
        )
    elif expiry - now < TOKEN_WARN_SECONDS:
        warnings.append(f"{label} expires soon, at {when}")


def _token_problem(token: str) -> str | None:
    if any(not ch.isprintable() or ch.isspace() for ch in token):
        return "holds spaces or control characters inside"
    if not token.isascii():  # "smart quotes": no HTTP header takes them
        return "holds characters that are not ASCII (curly quotes?)"
    return None


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
    seen: dict[tuple[str, ...], str] = {}
    for index, project in enumerate(found):
        where = f"projects[{index}].jwt_token" if listed else "jwt_token"
        if not project.name:
            errors.append(f"projects[{index}].name: missing or empty")
        elif names.count(project.name) > 1:
            errors.append(f"projects[{index}].name: '{project.name}' is used twice")
        if listed and not project.token:
            errors.append(f"{where}: missing or empty")
        if problem := _token_problem(project.token):
            errors.append(f"{where}: {problem}; {_AGAIN}")
        claims = jwt_claims(project.token)
        # The same project twice would export every call twice.
        same = (
            (str(claims["accountId"]), str(claims["contextId"]))
            if claims.get("accountId") and claims.get("contextId")
            else (project.token,)
        )
        if project.token and same in seen:
            errors.append(
                f"projects '{seen[same]}' and '{project.name}' are the same Voicegain "
                "project (same token or same account and contextId): every call "
                "would be exported twice; keep one",
            )
        seen.setdefault(same, project.name)
    return found


# jsonschema's messages start with the value; these words start what it says of it.
_VERDICTS = (
    *(" is not of type ", " is not one of ", " is not valid ", " is too "),
    *(" should ", " does not match ", " is expected ", " has non-unique "),
)


def hide_token_values(message: str) -> str:
    """A schema message about a token with the value left out, whatever its type.

    ``redact`` masks a token it can find as text; a number, or text quoted with
    escapes inside a list, it cannot.
    """
    value, sep, where = message.rpartition(" in config")
    secret = "jwt_token" in where or where.startswith("['projects']")
    verdict = next((value[value.index(v) :] for v in _VERDICTS if v in value), "")
    if not sep or not secret or not verdict:  # no verdict: the value is not quoted
        return message
    return f"config{where}: the value (not shown: it may be a token){verdict}"
