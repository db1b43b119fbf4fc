"""The tap's settings: each one declared once, with its type, default and words.

:class:`Settings` is the one list: the JSON schema the SDK validates and
``--about`` prints is built from its fields, and the streams read the typed
values from it, defaults applied. The checks a JSON schema cannot express
(time order, zone names, https, token expiry, duplicate projects) are in
:func:`check_config`, run before any request.
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
import datetime as dt
import difflib
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

from singer_sdk import typing as th

DEFAULT_API_URL = "https://api.voicegain.ai/v1"
PER_PAGE_MAX = 10_000  # API: per_page in 1..10000
FILTER_TIME_MAX_CHARS = 32  # API: fromTime/toTime <= 32 characters
DEFAULT_PROJECT = "default"  # partition name when only jwt_token is set
REQUEST_TIMEOUT_MAX = 3600
DEADLINE_PER_TIMEOUT = 10  # a whole answer may take 10 x request_timeout
REFRESH_WINDOW_DAYS_MAX = 100_000  # ~270 years, before any call
RETRY_WAIT_MAX_LIMIT = 3600.0  # no setting makes one wait longer than an hour
TOKEN_WARN_SECONDS = 3600  # warn when the token expires within the hour
EXP_MAX = 253_402_300_799  # 9999-12-31T23:59:59Z; a later exp is not a time
CA_BUNDLE_ENV = ("REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE")  # as requests reads them
CALLS_PATH = "/sa/call"
# RFC 3339 requires the offset; without it the API reads the project's zone.
_UTC_OFFSET = re.compile(r"(?:[zZ]|[+-]\d{2}:\d{2})\Z")
_RFC3339_EXAMPLE = "an RFC 3339 date-time such as 2024-05-12T00:00:00Z"
# API (voicegain-speech 1.142.0): recomputePhase and period values.
RECOMPUTE_PHASES = ("requested", "queued", "processing", "completed", "error")
PERIODS = (
    "today",
    "last24hours",
    "thisWeek",
    "last7days",
    "thisMonth",
    "last30days",
    "thisYear",
    "last365days",
)


def _setting(
    default: t.Any,  # noqa: ANN401
    kind: th.JSONTypeHelper[t.Any] | type[th.JSONTypeHelper[t.Any]],
    title: str,
    description: str,
    *,
    secret: bool = False,
) -> t.Any:  # noqa: ANN401
    """A field of :class:`Settings`: its default, JSON type and words, once."""
    return dataclasses.field(
        default=default,
        repr=not secret,
        metadata={
            "kind": kind,
            "title": title,
            "description": description,
            "secret": secret,
        },
    )


_PROJECT = th.ObjectType(
    th.Property(
        "name",
        th.StringType,
        required=True,
        description="Your name for the project; kept in each record's project "
        "column and in state.",
    ),
    th.Property(
        "jwt_token",
        th.StringType,
        required=True,
        secret=True,
        description="The project's API token (JWT).",
    ),
    # A misspelt key (jwt-token, token) is named, not ignored.
    additional_properties=False,
)


@dataclasses.dataclass(frozen=True)
class Settings:
    """Every setting of the tap, typed, with its default."""

    jwt_token: str | None = _setting(
        None,
        th.StringType(min_length=1),
        "JWT token",
        "Voicegain API token (JWT) of one project, from Project Settings in the "
        "Voicegain web app. Sent only as 'Authorization: Bearer ...'.",
        secret=True,
    )
    projects: list[dict[str, t.Any]] | None = _setting(
        None,
        th.ArrayType(_PROJECT),
        "Projects",
        "Several Voicegain projects, each {name, jwt_token}, read in one run with "
        "one bookmark each. Use instead of jwt_token.",
        secret=True,
    )
    refresh_window_days: int = _setting(
        0,
        th.IntegerType(minimum=0, maximum=REFRESH_WINDOW_DAYS_MAX),
        "Refresh window (days)",
        "After the export, read again the calls that started in the last N days "
        "and emit them again, so QA scores and notes added later reach upserting "
        "targets. 0 turns it off.",
    )
    api_url: str = _setting(
        DEFAULT_API_URL,
        th.StringType,
        "API URL",
        "Base URL of the Voicegain API: https, or http on a loopback host or with "
        "allow_http. The tap adds /sa/call; on Edge, e.g. "
        "https://10.137.16.7:31443/ascalon-web-api.",
    )
    allow_http: bool = _setting(
        False,  # noqa: FBT003
        th.BooleanType,
        "Allow plain http",
        "Allow an http:// api_url on a non-loopback host (an Edge install on a "
        "private network without TLS). The token then travels unencrypted; the "
        "run says so in a WARNING.",
    )
    ca_bundle: str | None = _setting(
        None,
        th.StringType(min_length=1),
        "CA bundle",
        "Path of a PEM file of certificates to trust for https (e.g. a "
        "TLS-inspecting proxy's CA). Default: REQUESTS_CA_BUNDLE or CURL_CA_BUNDLE "
        "if set, else the certifi bundle.",
    )
    max_requests_per_minute: int | None = _setting(
        None,
        th.IntegerType(minimum=1),
        "Maximum requests per minute",
        "The tap sends at most this many requests in any 60 s, leaving the rest of "
        "the account's limit to its other clients. Whatever it is, the tap also "
        "waits whenever the API's RateLimit headers say the window is spent.",
    )
    format: str = _setting(
        "json",
        th.StringType(allowed_values=["json", "csv"]),
        "Export format",
        "Format requested from the API: json or csv. Records are the same.",
    )
    per_page: int = _setting(
        1_000,  # the vendor's guide pages by 1000
        th.IntegerType(minimum=1, maximum=PER_PAGE_MAX),
        "Page size",
        "Calls per request, 1..10000.",
    )
    start_after_call_id: int = _setting(
        0,
        th.IntegerType(minimum=0),
        "Start after callId",
        "Where the first run starts when there is no state: calls with a greater "
        "callId are exported.",
    )
    from_time: str | None = _setting(
        None,
        th.DateTimeType,
        "From time",
        "Only calls that started at or after this RFC 3339 time (sent as fromTime).",
    )
    to_time: str | None = _setting(
        None,
        th.DateTimeType,
        "To time",
        "Only calls that started at or before this RFC 3339 time (sent as toTime).",
    )
    aivr_app_ids: list[str] | None = _setting(
        None,
        th.ArrayType(th.StringType),
        "AIVR app ids",
        "Only calls of these Voicebot (AIVR) apps (sent as aivrAppId).",
    )
    agent_ids: list[str] | None = _setting(
        None,
        th.ArrayType(th.StringType),
        "Agent ids",
        "Only calls of these agents (sent as agentId).",
    )
    queue_ids: list[str] | None = _setting(
        None,
        th.ArrayType(th.StringType),
        "Queue ids",
        "Only calls of these queues (sent as queueId).",
    )
    direction: str | None = _setting(
        None,
        th.StringType(allowed_values=["inbound", "outbound"]),
        "Direction",
        "Only inbound or only outbound calls (sent as direction).",
    )
    internal_endpoints: list[str] | None = _setting(
        None,
        th.ArrayType(th.StringType),
        "Internal endpoints",
        "Only calls of these internal endpoints: DNIS of inbound calls, caller id "
        "of outbound ones (sent as internalEndpoint).",
    )
    user_group_ids: list[str] | None = _setting(
        None,
        th.ArrayType(th.StringType),
        "User group ids",
        "Only calls of agents in these user groups, e.g. teams (sent as "
        "userGroupIds).",
    )
    voicemail: bool | None = _setting(
        None,
        th.BooleanType,
        "Voicemail",
        "true: only calls with a voicemail; false: only calls without one; unset: "
        "all calls (sent as voicemail).",
    )
    recompute_phases: list[str] | None = _setting(
        None,
        th.ArrayType(th.StringType(allowed_values=list(RECOMPUTE_PHASES))),
        "Recompute phases",
        "Only calls whose recompute is in one of these phases: requested, "
        "queued, processing, completed, error (sent as recomputePhase).",
    )
    period: str | None = _setting(
        None,
        th.StringType(allowed_values=list(PERIODS)),
        "Period",
        "Only calls of a recent period: today, last24hours, thisWeek, last7days, "
        "thisMonth, last30days, thisYear or last365days (sent as period; with "
        "from_time/to_time, the calls in both).",
    )
    csv_timezone: str = _setting(
        "UTC",
        th.StringType,
        "CSV time zone",
        "IANA zone of the zone-less times in CSV exports. The API writes them in "
        "the project's time zone (Project Settings): set it to that zone, e.g. "
        "America/Chicago.",
    )
    request_timeout: float = _setting(
        60,
        th.NumberType(minimum=1, maximum=REQUEST_TIMEOUT_MAX),
        "Request timeout",
        "Seconds to wait for the API to connect or send data before the request is "
        "retried; a whole answer may take 10 times this.",
    )
    max_retries: int = _setting(
        6,
        th.IntegerType(minimum=0, maximum=20),
        "Maximum retries",
        "Retries of a request that failed for a transient reason (429, 5xx, "
        "timeout, dropped connection) before the run fails.",
    )
    retry_wait_max: float = _setting(
        300.0,
        th.NumberType(minimum=0, maximum=RETRY_WAIT_MAX_LIMIT),
        "Longest wait between retries",
        "Cap, in seconds (at most 3600), on the backoff and on the API's "
        "Retry-After.",
    )
    retry_wait_base: float = _setting(
        2.0,
        th.NumberType(minimum=0, maximum=RETRY_WAIT_MAX_LIMIT),
        "First backoff wait",
        "Seconds before the first retry; doubles with each attempt.",
    )
    max_processing_hours: int = _setting(
        24,
        # Whole hours: Meltano's decimal kind hands the tap a Decimal it cannot
        # serialise when the value comes from the environment.
        th.IntegerType(minimum=0),
        "Longest processing time (hours)",
        "A call still processing this many hours after its start is stepped over "
        "instead of holding back every later call: it is remembered in the state "
        "and exported by a later run once it finishes.",
    )
    max_rechecks_per_run: int = _setting(
        50,
        th.IntegerType(minimum=0),
        "Remembered calls asked again per run",
        "Per project and stream, the most remembered calls (stepped over while "
        "processing, transcripts not ready, requests that failed) asked for again "
        "in one run, those remembered longest first.",
    )
    give_up_after_hours: int = _setting(
        168,
        th.IntegerType(minimum=1),
        "Give up on a remembered call after (hours)",
        "A remembered call still unfinished, or whose request still fails, this "
        "many hours after it was first remembered, and asked for by at least 3 "
        "runs, is given up: named in a WARNING and kept in the state's "
        "given_up_call_ids.",
    )
    transcripts_per_run: int | None = _setting(
        None,
        th.IntegerType(minimum=1),
        "Transcripts per run",
        "transcripts stream: stop cleanly after this many transcript requests, "
        "bookmark saved, so a scheduled run ends in time; the next run continues. "
        "Unset: no limit.",
    )
    transcript_words: bool = _setting(
        False,  # noqa: FBT003
        th.BooleanType,
        "Transcript words",
        "transcripts stream: fill the words column (every word with its timing and "
        "confidence; large). Off: words is null.",
    )
    keep_unknown_fields: bool = _setting(
        True,  # noqa: FBT003
        th.BooleanType,
        "Keep unknown fields",
        "Keep values of fields this tap's schema does not know yet in the _extra "
        "object column instead of dropping them.",
    )
    strict_values: bool = _setting(
        False,  # noqa: FBT003
        th.BooleanType,
        "Strict values",
        "Stop the run at a value that does not fit its column (naming the callId "
        "and field). Off: the call is emitted with that column null, the raw value "
        "kept in _extra, and a WARNING.",
    )
    flattening_enabled: bool = False  # the SDK's; read for agent/queue objects

    @classmethod
    def from_config(cls, config: t.Mapping[str, t.Any]) -> Settings:
        """The settings in ``config``, each missing one at its default."""
        fields = {field.name: field for field in dataclasses.fields(cls)}
        values = {k: v for k, v in config.items() if k in fields and v is not None}
        for name, value in values.items():
            # Meltano's decimal kind hands the tap a Decimal: arithmetic with it
            # and floats fails, so number settings are read as floats.
            if fields[name].type == "float" and not isinstance(value, bool):
                values[name] = float(value)
        return cls(**values)

    def filter_params(self) -> dict[str, t.Any]:
        """The call-list filters configured, as query parameters."""
        params: dict[str, t.Any] = {}
        if self.from_time:
            params["fromTime"] = self.from_time
        if self.to_time:
            params["toTime"] = self.to_time
        for values, param in (
            (self.aivr_app_ids, "aivrAppId"),
            (self.agent_ids, "agentId"),
            (self.queue_ids, "queueId"),
        ):
            if values:
                params[param] = list(values)  # repeated keys, as in the guide
        # The newer filters, as the vendor's client sends them: lists joined
        # by commas (its collection_format "csv"), booleans as true/false.
        for values, param in (
            (self.internal_endpoints, "internalEndpoint"),
            (self.user_group_ids, "userGroupIds"),
            (self.recompute_phases, "recomputePhase"),
        ):
            if values:
                params[param] = ",".join(values)
        if self.direction:
            params["direction"] = self.direction
        if self.voicemail is not None:
            params["voicemail"] = "true" if self.voicemail else "false"
        if self.period:
            params["period"] = self.period
        return params


def config_schema() -> dict[str, t.Any]:
    """The JSON schema of the settings, built from :class:`Settings`."""
    properties = []
    for field in dataclasses.fields(Settings):
        if "kind" not in field.metadata:
            continue  # the SDK's own setting, declared by the SDK
        meta = field.metadata
        properties.append(
            th.Property(
                field.name,
                meta["kind"],
                default=field.default,
                title=meta["title"],
                description=meta["description"],
                secret=meta["secret"] or None,
            )
        )
    return th.PropertiesList(*properties).to_dict()


# --- projects and tokens ---


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


def context_id(token: str) -> str | None:
    """The project (context) id a token names, if it names one."""
    value = jwt_claims(token).get("contextId")
    return value if isinstance(value, str) and value else None


# --- URLs ---


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


def without_userinfo(url: str) -> str:
    """``url`` with any ``user:password@`` shown as ``***@``."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return url
    if "@" not in parts.netloc:
        return url
    host = parts.netloc.rpartition("@")[2]
    return parts._replace(netloc=f"***@{host}").geturl()


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


# --- checks beyond the JSON schema ---


# RFC 3339, parsed the same on every Python (3.10's fromisoformat refuses "Z"
# and fractions of other than 3 or 6 digits). ASCII digits only.
_RFC3339 = re.compile(
    r"([0-9]{4})-([0-9]{2})-([0-9]{2})[Tt ]([0-9]{2}):([0-9]{2}):([0-9]{2})"
    r"(?:[.,]([0-9]+))?([Zz]|[+-][0-9]{2}:?[0-9]{2})?"
)


def parse_datetime(value: str) -> dt.datetime:
    """An aware datetime from RFC 3339 text; zone-less text is taken as UTC.

    Raises:
        ValueError: not RFC 3339, or not a date on the calendar.
    """
    match = _RFC3339.fullmatch(value)
    if match is None:
        raise ValueError(value)
    year, month, day, hour, minute, second, fraction, zone = match.groups()
    if zone is None or zone in "Zz":
        tz: dt.tzinfo = dt.timezone.utc
    else:
        sign = -1 if zone[0] == "-" else 1
        offset = dt.timedelta(hours=int(zone[1:3]), minutes=int(zone[-2:]))
        tz = dt.timezone(sign * offset)
    micro = int(fraction[:6].ljust(6, "0")) if fraction else 0
    return dt.datetime(
        int(year), int(month), int(day), int(hour), int(minute), int(second), micro,
        tzinfo=tz,
    )


def _check_time(value: t.Any, name: str, errors: list[str]) -> dt.datetime | None:  # noqa: ANN401
    if value in {None, ""} or not isinstance(value, str):
        return None  # the JSON schema names the type
    if len(value) > FILTER_TIME_MAX_CHARS:
        errors.append(
            f"{name}: {value!r} is not {_RFC3339_EXAMPLE} (at most 32 characters)"
        )
        return None
    try:
        moment = parse_datetime(value)
    except ValueError:
        moment = None
    if moment is None or value[10] not in "Tt":  # section 5.6 asks for the T
        errors.append(f"{name}: {value!r} is not {_RFC3339_EXAMPLE}")
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
    try:
        parts = urlsplit(value)
        host = parts.hostname or ""
    except ValueError:
        errors.append(f"api_url: {shown} is not a URL such as {DEFAULT_API_URL}")
        return
    problems = _url_problems(value)
    errors.extend(f"api_url: {shown} {problem}, e.g. {DEFAULT_API_URL}" for problem in problems)
    if problems:
        return
    if parts.scheme == "https" and host:
        return
    if parts.scheme == "http" and host and (config.allow_http is True or is_loopback(host)):
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
    value = ca_bundle(config)
    if value and not os.path.exists(value):  # noqa: PTH110 - a file or a directory
        source = "ca_bundle" if config.get("ca_bundle") else next(
            name for name in CA_BUNDLE_ENV if os.environ.get(name)
        )
        errors.append(
            f"{source}: {value!r} does not exist; give the path of the PEM file "
            "of certificates to trust (e.g. your TLS-inspecting proxy's CA)",
        )


def _iso(epoch: float) -> str:
    return dt.datetime.fromtimestamp(epoch, dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _check_claims(
    project: Project, label: str, now: float, errors: list[str], warnings: list[str]
) -> None:
    claims = jwt_claims(project.token)
    if "exp" in claims and jwt_expiry(project.token) is None:
        errors.append(
            f"{label}: its exp claim ({str(claims['exp'])[:40]}) is not a time in "
            "seconds since 1970; create a new token in Project Settings",
        )
    if "contextId" in claims and context_id(project.token) is None:
        warnings.append(
            f"{label}: its contextId claim is {type(claims['contextId']).__name__}, "
            "not a project id; records take contextId from the API's answers only",
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


def _token_problem(token: str) -> str | None:
    if any(not ch.isprintable() or ch.isspace() for ch in token):
        return (
            "holds spaces or control characters inside; copy the token again from "
            "Project Settings (its value is not shown)"
        )
    if not token.isascii():
        # A JWT is ASCII; "smart quotes" from a word processor are not, and an
        # HTTP header cannot carry them.
        return (
            "holds characters that are not ASCII (curly quotes?); copy the token "
            "again from Project Settings (its value is not shown)"
        )
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
        problem = _token_problem(project.token)
        if problem:
            errors.append(f"{where}: {problem}")
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


def unknown_settings(config: t.Mapping[str, t.Any], known: t.Iterable[str]) -> list[str]:
    """A warning for each setting the tap does not know, with the closest name."""
    known = list(known)
    warnings = []
    for name in sorted(set(config) - set(known)):
        close = difflib.get_close_matches(name, known, n=1)
        hint = f"; did you mean {close[0]}?" if close else ""
        warnings.append(f"setting '{name}' is not a setting of this tap: ignored{hint}")
    return warnings


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
    settings = Settings.from_config(
        {k: v for k, v in config.items() if k not in {"projects", "jwt_token"}}
    )
    from_time = _check_time(settings.from_time, "from_time", errors)
    to_time = _check_time(settings.to_time, "to_time", errors)
    if from_time is not None and to_time is not None and from_time > to_time:
        errors.append(f"from_time: {settings.from_time} is after to_time {settings.to_time}")
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
    _check_ca_bundle(config, errors)
    now = time.time() if now is None else now
    for project in _check_projects(config, errors):
        label = f"jwt_token of project '{project.name}'"
        _check_claims(project, label, now, errors, warnings)
    return errors, warnings
