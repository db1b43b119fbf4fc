"""The tap's settings, each declared once with its type, default and words.

:class:`Settings` is the one list: the JSON schema the SDK validates and
``--about`` prints is built from it. Checks a schema cannot express are in
``checks.py``.
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
import datetime as dt
import ipaddress
import json
import math
import os
import re
import socket
import typing as t

from singer_sdk import typing as th

DEFAULT_API_URL = "https://api.voicegain.ai/v1"
PER_PAGE_MAX = 10_000  # API: per_page in 1..10000
DEFAULT_PROJECT = "default"  # partition name when only jwt_token is set
REQUEST_TIMEOUT_MAX = 3600
DEADLINE_PER_TIMEOUT = 10  # a whole answer may take 10 x request_timeout
REFRESH_WINDOW_DAYS_MAX = 100_000  # ~270 years, before any call
RETRY_WAIT_MAX_LIMIT = 3600  # no setting makes one wait longer than an hour
EXP_MAX = 253_402_300_799  # 9999-12-31T23:59:59Z; a later exp is not a time
CA_BUNDLE_ENV = ("REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE")  # as requests reads them
# API (voicegain-speech 1.142.0): recomputePhase and period values.
RECOMPUTE_PHASES = ("requested", "queued", "processing", "completed", "error")


def _choice(*values: str) -> th.StringType:
    """One of ``values``; null too, which is the setting left unset."""
    return th.StringType(allowed_values=[*values, None])


# An empty id would be dropped or sent as "": every call, not a filter.
_ID = th.StringType(min_length=1, pattern=r"\S")
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
    kind: th.JSONTypeHelper[t.Any] | type[th.JSONTypeHelper[t.Any]],
    title: str,
    description: str,
    default: t.Any = None,  # noqa: ANN401
    *,
    secret: bool = False,
) -> t.Any:  # noqa: ANN401
    """A field of :class:`Settings`: its default, JSON type and words, once."""
    meta = {"kind": kind, "title": title, "description": description, "secret": secret}
    return dataclasses.field(default=default, repr=not secret, metadata=meta)


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
        th.StringType(min_length=1),
        "JWT token",
        "Voicegain API token (JWT) of one project, from Project Settings in the "
        "Voicegain web app. Sent only as 'Authorization: Bearer ...'.",
        secret=True,
    )
    projects: list[dict[str, t.Any]] | None = _setting(  # noqa: RUF009
        th.ArrayType(_PROJECT),
        "Projects",
        "Several Voicegain projects, each {name, jwt_token}, read in one run with "
        "one bookmark each. Use instead of jwt_token.",
        secret=True,
    )
    refresh_window_days: int = _setting(
        th.IntegerType(minimum=0, maximum=REFRESH_WINDOW_DAYS_MAX),
        "Refresh window (days)",
        "After the export, read again the calls that started in the last N days "
        "and emit them again, so QA scores and notes added later reach upserting "
        "targets. 0 turns it off.",
        default=0,
    )
    api_url: str = _setting(
        th.StringType,
        "API URL",
        "Base URL of the Voicegain API: https, or http on a loopback host or with "
        "allow_http. The tap adds /sa/call; on Edge, e.g. "
        "https://10.137.16.7:31443/ascalon-web-api.",
        default=DEFAULT_API_URL,
    )
    allow_http: bool = _setting(
        th.BooleanType,
        "Allow plain http",
        "Allow an http:// api_url on a non-loopback host (an Edge install on a "
        "private network without TLS). The token then travels unencrypted; the "
        "run says so in a WARNING.",
        default=False,
    )
    ca_bundle: str | None = _setting(
        th.StringType(min_length=1),
        "CA bundle",
        "Path of a PEM file of certificates to trust for https (e.g. a "
        "TLS-inspecting proxy's CA). Default: REQUESTS_CA_BUNDLE or CURL_CA_BUNDLE "
        "if set, else the certifi bundle.",
    )
    max_requests_per_minute: int | None = _setting(
        th.IntegerType(minimum=1),
        "Maximum requests per minute",
        "The tap sends at most this many requests in any 60 s, leaving the rest of "
        "the account's limit to its other clients. Whatever it is, the tap also "
        "waits whenever the API's RateLimit headers say the window is spent.",
    )
    format: str = _setting(
        _choice("json", "csv"),
        "Export format",
        "Format requested from the API: json or csv. Records are the same.",
        default="json",
    )
    per_page: int = _setting(
        th.IntegerType(minimum=1, maximum=PER_PAGE_MAX),
        "Page size",
        "Calls per request, 1..10000.",
        default=1_000,  # the vendor's guide pages by 1000
    )
    start_after_call_id: int = _setting(
        th.IntegerType(minimum=0),
        "Start after callId",
        "Where the first run starts when there is no state: calls with a greater "
        "callId are exported.",
        default=0,
    )
    from_time: str | None = _setting(
        th.DateTimeType,
        "From time",
        "Only calls that started at or after this RFC 3339 time (sent as fromTime).",
    )
    to_time: str | None = _setting(
        th.DateTimeType,
        "To time",
        "Only calls that started at or before this RFC 3339 time (sent as toTime).",
    )
    aivr_app_ids: list[str] | None = _setting(  # noqa: RUF009
        th.ArrayType(_ID),
        "AIVR app ids",
        "Only calls of these Voicebot (AIVR) apps (sent as aivrAppId).",
    )
    agent_ids: list[str] | None = _setting(  # noqa: RUF009
        th.ArrayType(_ID),
        "Agent ids",
        "Only calls of these agents (sent as agentId).",
    )
    queue_ids: list[str] | None = _setting(  # noqa: RUF009
        th.ArrayType(_ID),
        "Queue ids",
        "Only calls of these queues (sent as queueId).",
    )
    direction: str | None = _setting(
        _choice("inbound", "outbound"),
        "Direction",
        "Only inbound or only outbound calls (sent as direction).",
    )
    internal_endpoints: list[str] | None = _setting(  # noqa: RUF009
        th.ArrayType(_ID),
        "Internal endpoints",
        "Only calls of these internal endpoints: DNIS of inbound calls, caller id "
        "of outbound ones (sent as internalEndpoint).",
    )
    user_group_ids: list[str] | None = _setting(  # noqa: RUF009
        th.ArrayType(_ID),
        "User group ids",
        "Only calls of agents in these user groups, e.g. teams (sent as userGroupIds).",
    )
    voicemail: bool | None = _setting(
        th.BooleanType,
        "Voicemail",
        "true: only calls with a voicemail; false: only calls without one; unset: "
        "all calls (sent as voicemail).",
    )
    recompute_phases: list[str] | None = _setting(  # noqa: RUF009
        th.ArrayType(th.StringType(allowed_values=list(RECOMPUTE_PHASES))),
        "Recompute phases",
        "Only calls whose recompute is in one of these phases: requested, "
        "queued, processing, completed, error (sent as recomputePhase).",
    )
    period: str | None = _setting(
        _choice(*PERIODS),
        "Period",
        "Only calls of a recent period: today, last24hours, thisWeek, last7days, "
        "thisMonth, last30days, thisYear or last365days (sent as period; with "
        "from_time/to_time, the calls in both).",
    )
    csv_timezone: str = _setting(
        th.StringType,
        "CSV time zone",
        "IANA zone of the zone-less times in CSV exports. The API writes them in "
        "the project's time zone (Project Settings): set it to that zone, e.g. "
        "America/Chicago.",
        default="UTC",
    )
    request_timeout: float = _setting(
        th.NumberType(minimum=1, maximum=REQUEST_TIMEOUT_MAX),
        "Request timeout",
        "Seconds to wait for the API to connect or send data before the request is "
        "retried; a whole answer may take 10 times this.",
        default=60,
    )
    max_retries: int = _setting(
        th.IntegerType(minimum=0, maximum=20),
        "Maximum retries",
        "Retries of a request that failed for a transient reason (429, 5xx, "
        "timeout, dropped connection) before the run fails.",
        default=6,
    )
    retry_wait_max: float = _setting(
        th.NumberType(minimum=0, maximum=RETRY_WAIT_MAX_LIMIT),
        "Longest wait between retries",
        "Cap, in seconds (at most 3600), on the backoff and on the API's Retry-After.",
        default=300.0,
    )
    retry_wait_base: float = _setting(
        th.NumberType(minimum=0, maximum=RETRY_WAIT_MAX_LIMIT),
        "First backoff wait",
        "Seconds before the first retry; doubles with each attempt.",
        default=2.0,
    )
    max_processing_hours: int = _setting(
        # Whole hours: Meltano's decimal kind hands the tap a Decimal it cannot
        # serialise when the value comes from the environment.
        th.IntegerType(minimum=0),
        "Longest processing time (hours)",
        "A call still processing this many hours after its start is stepped over "
        "instead of holding back every later call: it is remembered in the state "
        "and exported by a later run once it finishes.",
        default=24,
    )
    max_rechecks_per_run: int = _setting(
        th.IntegerType(minimum=0),
        "Remembered calls asked again per run",
        "Per project and stream, the most remembered calls (stepped over while "
        "processing, transcripts not ready, requests that failed) asked for again "
        "in one run, those remembered longest first.",
        default=50,
    )
    give_up_after_hours: int = _setting(
        th.IntegerType(minimum=1),
        "Give up on a remembered call after (hours)",
        "A remembered call still unfinished, or whose request still fails, this "
        "many hours after it was first remembered, and asked for by at least 3 "
        "runs, is given up: named in a WARNING and kept in the state's "
        "given_up_call_ids.",
        default=168,
    )
    transcripts_per_run: int | None = _setting(
        th.IntegerType(minimum=1),
        "Transcripts per run",
        "transcripts stream: stop cleanly after this many transcript requests, "
        "bookmark saved, so a scheduled run ends in time; the next run continues. "
        "Unset: no limit.",
    )
    transcript_words: bool = _setting(
        th.BooleanType,
        "Transcript words",
        "transcripts stream: fill the words column (every word with its timing and "
        "confidence; large). Off: words is null.",
        default=False,
    )
    keep_unknown_fields: bool = _setting(
        th.BooleanType,
        "Keep unknown fields",
        "Keep values of fields this tap's schema does not know yet in the _extra "
        "object column instead of dropping them.",
        default=True,
    )
    strict_values: bool = _setting(
        th.BooleanType,
        "Strict values",
        "Stop the run at a value that does not fit its column (naming the callId "
        "and field). Off: the call is emitted with that column null, the raw value "
        "kept in _extra, and a WARNING.",
        default=False,
    )
    flattening_enabled: bool = False  # the SDK's; read for agent/queue objects

    @classmethod
    def from_config(cls, config: t.Mapping[str, t.Any]) -> Settings:
        """The settings in ``config``, each missing one at its default."""
        fields = {field.name: field for field in dataclasses.fields(cls)}
        values = {k: v for k, v in config.items() if k in fields and v is not None}
        for name, value in values.items():
            # Meltano's decimal kind hands the tap a Decimal, which floats refuse.
            if fields[name].type == "float" and not isinstance(value, bool):
                values[name] = float(value)
        return cls(**values)

    def filter_params(self) -> dict[str, t.Any]:
        """The call-list filters configured, as query parameters."""
        # Lists: repeated keys as in the guide, or (the newer filters) joined by
        # commas as the vendor's client sends them.
        joined = (self.internal_endpoints, self.user_group_ids, self.recompute_phases)
        endpoints, groups, phases = (",".join(v) if v else None for v in joined)
        mail = self.voicemail
        params: dict[str, t.Any] = {
            "fromTime": self.from_time,
            "toTime": self.to_time,
            "aivrAppId": list(self.aivr_app_ids or ()),
            "agentId": list(self.agent_ids or ()),
            "queueId": list(self.queue_ids or ()),
            "internalEndpoint": endpoints,
            "userGroupIds": groups,
            "recomputePhase": phases,
            "direction": self.direction,
            "voicemail": None if mail is None else ("true" if mail else "false"),
            "period": self.period,
        }
        return {k: v for k, v in params.items() if v}


def config_schema() -> dict[str, t.Any]:
    """The JSON schema of the settings, built from :class:`Settings`."""
    return th.PropertiesList(
        *(
            th.Property(
                field.name,
                field.metadata["kind"],
                default=field.default,
                title=field.metadata["title"],
                description=field.metadata["description"],
                secret=field.metadata["secret"] or None,
            )
            for field in dataclasses.fields(Settings)
            if "kind" in field.metadata  # else the SDK's own setting
        )
    ).to_dict()


@dataclasses.dataclass(frozen=True)
class Project:
    """One Voicegain project (context) and its token."""

    name: str
    token: str = dataclasses.field(repr=False)  # never shown in logs or errors


def _token(value: t.Any) -> str:  # noqa: ANN401
    # Secret files and pasted .env lines end in a new line, which a header refuses.
    return value.strip() if isinstance(value, str) else ""


def projects(config: t.Mapping[str, t.Any]) -> list[Project]:
    """The projects, from ``projects`` or ``jwt_token``; wrong types read as empty."""
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
    try:
        claims = json.loads(
            base64.urlsafe_b64decode(parts[1] + "=" * (-len(parts[1]) % 4))
        )
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


def is_loopback(host: str) -> bool:
    """Whether ``host`` is this machine, read numerically (no DNS lookup)."""
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        pass
    try:  # the IPv4 shorthands the OS accepts (127.1), which ipaddress refuses
        return ipaddress.IPv4Address(socket.inet_aton(host)).is_loopback
    except (OSError, ValueError):
        return False


def userinfo(url: str) -> str:
    """What stands between ``://`` and the last ``@`` of ``url``: ``user:password``.

    Not urlsplit's reading: a password with an unencoded ``#``, ``?`` or ``/``
    ends its netloc early, and a URL it refuses may still hold one.
    """
    scheme, sep, rest = url.partition("://")
    return (rest if sep else scheme).rpartition("@")[0]


def without_userinfo(url: str) -> str:
    """``url`` with any ``user:password@`` shown as ``***@``."""
    secret = userinfo(url)
    return url.replace(secret + "@", "***@", 1) if secret else url


def ca_bundle(config: t.Mapping[str, t.Any]) -> str | None:
    """The CA bundle to verify TLS with: ``ca_bundle``, else requests' variables.

    The SDK sends through ``Session.send``, which ignores the environment.
    """
    value = config.get("ca_bundle")
    if isinstance(value, str) and value:
        return value
    return next(
        (os.environ[name] for name in CA_BUNDLE_ENV if os.environ.get(name)), None
    )


# RFC 3339 alike on every Python (3.10's fromisoformat refuses "Z"); ASCII digits.
_RFC3339 = re.compile(
    r"([0-9]{4})-([0-9]{2})-([0-9]{2})[Tt ]([0-9]{2}):([0-9]{2}):([0-9]{2})"
    r"(?:[.,]([0-9]+))?([Zz]|[+-][0-9]{2}:?[0-9]{2})?"
)


def parse_datetime(value: str) -> dt.datetime:
    """An aware datetime from RFC 3339 text (zone-less: UTC), else ValueError."""
    match = _RFC3339.fullmatch(value)
    if match is None:
        raise ValueError(value)
    *numbers, fraction, zone = match.groups()
    tz: dt.tzinfo = dt.timezone.utc
    if zone is not None and zone not in "Zz":
        offset = dt.timedelta(hours=int(zone[1:3]), minutes=int(zone[-2:]))
        tz = dt.timezone(-offset if zone[0] == "-" else offset)
    micro = int(fraction[:6].ljust(6, "0")) if fraction else 0
    year, month, day, hour, minute, second = (int(n) for n in numbers)
    return dt.datetime(year, month, day, hour, minute, second, micro, tzinfo=tz)
