"""The Voicegain tap: its settings and its streams."""

from __future__ import annotations

import copy
import functools
import io
import logging
import os
import signal
import typing as t

from singer_sdk import Tap
from singer_sdk import typing as th
from singer_sdk.exceptions import ConfigValidationError, FatalAPIError
from singer_sdk.helpers._classproperty import classproperty
from typing_extensions import override

from tap_voicegain import (
    batching,
    envconfig,
    errors,
    gc_policy,
    redact,
    settings,
    stuck,
)
from tap_voicegain import state as tap_state
from tap_voicegain.client import VoicegainStream
from tap_voicegain.normalize import RecordError
from tap_voicegain.output import BufferedMsgSpecWriter
from tap_voicegain.ratelimit import RateLimits
from tap_voicegain.streams import CallsStream
from tap_voicegain.transcripts import TranscriptsStream

if t.TYPE_CHECKING:
    from types import FrameType

    from singer_sdk.plugin_base import _ConfigInput
    from singer_sdk.streams import Stream

# Errors whose message tells the user what to do: shown without a traceback.
USER_ERRORS = (
    FatalAPIError,  # the tap's API errors (errors.py) and the SDK's own
    errors.ProjectsFailedError,
    tap_state.StateError,
    batching.BatchConfigError,
    RecordError,
)

# After SIGTERM/SIGINT, how long the final STATE may wait for a target that
# does not read; then the tap ends without it (the last STATE written stands).
STOP_DEADLINE_SECONDS = 5.0


class TapVoicegain(Tap):
    """Singer tap for Voicegain Speech Analytics call data."""

    name = "tap-voicegain"
    package_name = "tap-voicegain"
    # msgspec serialises records several times faster than the default writer.
    message_writer_class = BufferedMsgSpecWriter

    config_jsonschema = th.PropertiesList(
        th.Property(
            "jwt_token",
            th.StringType(min_length=1),
            secret=True,
            title="JWT token",
            description=(
                "Voicegain API token (JWT) of one project, from Project Settings in "
                "the Voicegain web app. Sent only as 'Authorization: Bearer ...'."
            ),
        ),
        th.Property(
            "projects",
            th.ArrayType(
                th.ObjectType(
                    th.Property(
                        "name",
                        th.StringType,
                        required=True,
                        description="Your name for the project; kept in "
                        "each record's project column and in state.",
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
                ),
            ),
            title="Projects",
            description="Several Voicegain projects, each {name, jwt_token}, read in "
            "one run with one bookmark each. Use instead of jwt_token.",
        ),
        th.Property(
            "refresh_window_days",
            th.IntegerType(minimum=0, maximum=settings.REFRESH_WINDOW_DAYS_MAX),
            default=0,
            title="Refresh window (days)",
            description="After the export, read again the calls that started in the "
            "last N days and emit them again, so QA scores and notes added later "
            "reach upserting targets. 0 turns it off.",
        ),
        th.Property(
            "api_url",
            th.StringType,
            default=settings.DEFAULT_API_URL,
            title="API URL",
            description="Base URL of the Voicegain API: https, or http on a "
            "loopback host or with allow_http. The tap adds /sa/call; on Edge, "
            "e.g. https://10.137.16.7:31443/ascalon-web-api.",
        ),
        th.Property(
            "allow_http",
            th.BooleanType,
            default=False,
            title="Allow plain http",
            description="Allow an http:// api_url on a non-loopback host (an Edge "
            "install on a private network without TLS). The token then travels "
            "unencrypted; the run says so in a WARNING.",
        ),
        th.Property(
            "ca_bundle",
            th.StringType(min_length=1),
            title="CA bundle",
            description="Path of a PEM file of certificates to trust for https "
            "(e.g. a TLS-inspecting proxy's CA). Default: REQUESTS_CA_BUNDLE or "
            "CURL_CA_BUNDLE if set, else the certifi bundle.",
        ),
        th.Property(
            "max_requests_per_minute",
            th.IntegerType(minimum=1),
            title="Maximum requests per minute",
            description="The tap sends at most this many requests in any 60 s, "
            "leaving the rest of the account's limit to its other clients. "
            "Whatever it is, the tap also waits whenever the API's RateLimit "
            "headers say the window is spent.",
        ),
        th.Property(
            "format",
            th.StringType(allowed_values=["json", "csv"]),
            default="json",
            title="Export format",
            description="Format requested from the API: json or csv. Records are "
            "the same.",
        ),
        th.Property(
            "per_page",
            th.IntegerType(minimum=1, maximum=settings.PER_PAGE_MAX),
            default=settings.PER_PAGE_DEFAULT,
            title="Page size",
            description="Calls per request, 1..10000.",
        ),
        th.Property(
            "start_after_call_id",
            th.IntegerType(minimum=0),
            default=0,
            title="Start after callId",
            description="Where the first run starts when there is no state: calls "
            "with a greater callId are exported.",
        ),
        th.Property(
            "from_time",
            th.DateTimeType,
            title="From time",
            description="Only calls that started at or after this RFC 3339 time "
            "(sent as fromTime).",
        ),
        th.Property(
            "to_time",
            th.DateTimeType,
            title="To time",
            description="Only calls that started at or before this RFC 3339 time "
            "(sent as toTime).",
        ),
        th.Property(
            "aivr_app_ids",
            th.ArrayType(th.StringType),
            title="AIVR app ids",
            description="Only calls of these Voicebot (AIVR) apps (sent as aivrAppId).",
        ),
        th.Property(
            "agent_ids",
            th.ArrayType(th.StringType),
            title="Agent ids",
            description="Only calls of these agents (sent as agentId).",
        ),
        th.Property(
            "queue_ids",
            th.ArrayType(th.StringType),
            title="Queue ids",
            description="Only calls of these queues (sent as queueId).",
        ),
        th.Property(
            "csv_timezone",
            th.StringType,
            default="UTC",
            title="CSV time zone",
            description="IANA zone of the zone-less times in CSV exports. The API "
            "writes them in the project's time zone (Project Settings): set it to "
            "that zone, e.g. America/Chicago.",
        ),
        th.Property(
            "request_timeout",
            th.NumberType(minimum=1, maximum=settings.REQUEST_TIMEOUT_MAX),
            default=settings.REQUEST_TIMEOUT_DEFAULT,
            title="Request timeout",
            description="Seconds to wait for the API to connect or send data before "
            "the request is retried; a whole answer may take 10 times this.",
        ),
        th.Property(
            "max_retries",
            th.IntegerType(minimum=0, maximum=20),
            default=settings.MAX_RETRIES_DEFAULT,
            title="Maximum retries",
            description="Retries of a request that failed for a transient reason "
            "(429, 5xx, timeout, dropped connection) before the run fails.",
        ),
        th.Property(
            "retry_wait_max",
            th.NumberType(minimum=0),
            default=settings.RETRY_WAIT_MAX_DEFAULT,
            title="Longest wait between retries",
            description="Cap, in seconds, on the backoff and on the API's Retry-After.",
        ),
        th.Property(
            "retry_wait_base",
            th.NumberType(minimum=0),
            default=settings.RETRY_WAIT_BASE_DEFAULT,
            title="First backoff wait",
            description="Seconds before the first retry; doubles with each attempt.",
        ),
        th.Property(
            "max_processing_hours",
            # Whole hours: Meltano's decimal kind hands the tap a Decimal it
            # cannot serialise when the value comes from the environment.
            th.IntegerType(minimum=0),
            default=stuck.MAX_PROCESSING_HOURS_DEFAULT,
            title="Longest processing time (hours)",
            description="A call still processing this many hours after its start "
            "is stepped over instead of holding back every later call: it is "
            "remembered in the state and exported by a later run once it finishes.",
        ),
        th.Property(
            "transcripts_per_run",
            th.IntegerType(minimum=1),
            title="Transcripts per run",
            description="transcripts stream: stop cleanly after this many "
            "transcripts (one request each), bookmark saved, so a scheduled run "
            "ends in time; the next run continues. Unset: no limit.",
        ),
        th.Property(
            "transcript_words",
            th.BooleanType,
            default=False,
            title="Transcript words",
            description="transcripts stream: fill the words column (every word "
            "with its timing and confidence; large). Off: words is null.",
        ),
        th.Property(
            "keep_unknown_fields",
            th.BooleanType,
            default=True,
            title="Keep unknown fields",
            description="Keep values of fields this tap's schema does not know yet "
            "in the _extra object column instead of dropping them.",
        ),
        th.Property(
            "strict_values",
            th.BooleanType,
            default=False,
            title="Strict values",
            description="Stop the run at a value that does not fit its column "
            "(naming the callId and field). Off: the call is emitted with that "
            "column null, the raw value kept in _extra, and a WARNING.",
        ),
    ).to_dict()

    @classproperty
    def _env_var_config(cls) -> dict[str, t.Any]:  # noqa: N805
        """Settings from ``TAP_VOICEGAIN_*`` variables, numbers included.

        Overridden (although private) because the SDK leaves number settings
        as text and fails on bad values without naming the setting.
        """
        schema = cls.config_jsonschema
        cls.append_builtin_config(schema)
        return envconfig.parse_env(schema, cls._env_var_prefix)

    @functools.cached_property
    def rate_limits(self) -> RateLimits:
        """The run's rate limiters, shared by every stream (one per account)."""
        return RateLimits(self.config.get("max_requests_per_minute"), self.logger)

    @override
    def __init__(self, *args: t.Any, **kwargs: t.Any) -> None:
        """Refuse a state that is not an object before the SDK reads it as none."""
        given = kwargs.get("state")
        if given is not None and not isinstance(given, (dict, str, os.PathLike)):
            tap_state.check_object(given)  # raises, naming what it is
        self._stopping = False
        super().__init__(*args, **kwargs)

    @classmethod
    @override
    def invoke(  # type: ignore[override]
        cls,
        *,
        about: bool = False,
        about_format: str | None = None,
        config: _ConfigInput | None = None,
        state: t.IO[str] | None = None,
        catalog: t.IO[str] | None = None,
    ) -> None:
        """Check the ``--state`` file, then run as the SDK does, GC tuned.

        The SDK reads a file holding ``null`` or ``[]`` as no state at all, and
        would start again at the beginning without a word.

        The cyclic GC is set for the run here (``gc_policy.tuned_gc``), not at
        import: importing the tap changes nothing, and a process that runs the
        tap in-process keeps its own GC settings.
        """
        try:
            if state is not None:
                text = state.read()
                tap_state.parse_state_text(text, getattr(state, "name", "--state"))
                state = io.StringIO(text)
            with gc_policy.tuned_gc():
                super().invoke(
                    about=about,
                    about_format=about_format,
                    config=config,
                    state=state,
                    catalog=catalog,
                )
        except USER_ERRORS as exc:
            # An error the message explains (a token, the state, the API's
            # answer): the message, not a traceback through the SDK and click.
            logging.getLogger(cls.name).error("The run failed: %s", exc)  # noqa: TRY400
            raise SystemExit(1) from None

    @override
    def load_state(self, state: dict[str, t.Any]) -> None:
        """Read the state in the shapes README "State shapes accepted" lists.

        Raises:
            StateError: A shape the tap would have to guess about.
        """
        state = tap_state.check_object(state)
        if state:
            names = [project.name for project in settings.projects(self.config)]
            state, notes = tap_state.normalize(copy.deepcopy(state), names)
            for level, note in notes:
                self.logger.log(level, note)
        super().load_state(state)

    @override
    def _validate_config(self, *, raise_errors: bool = True) -> list[str]:
        """Check the settings before any request; run by the SDK at start-up.

        Overridden (although private) because it is the one hook that runs before
        any stream exists and that the SDK skips for --about and --discover. The
        JSON schema checks types and ranges; ``settings.check_config`` adds only
        what a schema cannot say (time order, zone names, https, token expiry).

        It is also the first hook that sees the settings: from here on, no log
        line can carry a token or the api_url's password (``redact.py``).
        """
        redact.remember_config(self.config)
        redact.install_log_redaction()
        found = super()._validate_config(raise_errors=False)
        ours, warnings = settings.check_config(self.config)
        for warning in warnings:
            self.logger.warning(warning)
        # The schema's messages quote values: a token of the wrong type included.
        found = [redact.redact(message) for message in [*found, *ours]]
        if found and raise_errors:
            raise ConfigValidationError(
                "Config validation failed: " + "; ".join(found),
                errors=found,
            )
        return found

    @override  # type: ignore[misc]  # final for typing only
    def sync_all(self) -> None:
        """Sync every selected stream; then fail the run if a project failed.

        The SDK marks ``sync_all`` final; it is its public entry point, and this
        override runs all of it first (README "Departures").

        With several projects, one that fails does not stop the others: its
        error is kept, and raised here once every stream has written its STATE.
        """
        batch_config = self.config.get("batch_config")
        if batch_config:  # refused before any request, not after the SCHEMA
            for stream in self.streams.values():
                if stream.selected:
                    config = stream.get_batch_config(self.config)
                    if config is not None:
                        batching.check(stream, config)
        try:
            super().sync_all()
        finally:
            writer = self.message_writer
            if isinstance(writer, BufferedMsgSpecWriter):
                writer.flush()
        failed = [
            f"{stream.name} of project '{project}': {why}"
            for stream in self.streams.values()
            if isinstance(stream, VoicegainStream)
            for project, why in stream.failed_projects.items()
        ]
        if failed:
            msg = f"{len(failed)} project pass(es) failed: " + "; ".join(failed)
            raise errors.ProjectsFailedError(msg)

    @override
    def _handle_termination(self, signum: int, frame: FrameType | None) -> None:
        """SIGTERM/SIGINT: write the STATE of what was emitted; exit 128 + signal.

        The SDK's handler exits 0, so a stopped run looked like a finished one.
        A target that no longer reads must not keep the tap alive: an alarm
        ends the process after STOP_DEADLINE_SECONDS, without the STATE.
        """
        name = signal.Signals(signum).name
        if self._stopping:  # a second signal: the user means now
            os._exit(128 + signum)
        self._stopping = True
        self.logger.warning(
            "Stopped by %s; writing the STATE of what was emitted", name
        )
        for stream in self.streams.values():
            if isinstance(stream, CallsStream):
                stream.stopped(f"stopped by {name}")
        if hasattr(signal, "setitimer"):

            def give_up(_signum: int, _frame: FrameType | None) -> None:
                self.logger.error(
                    "Stopped by %s, but stdout was not read for %.0f s: ending "
                    "without a final STATE (the last STATE written stands)",
                    name,
                    STOP_DEADLINE_SECONDS,
                )
                logging.shutdown()
                os._exit(128 + signum)

            signal.signal(signal.SIGALRM, give_up)
            signal.setitimer(signal.ITIMER_REAL, STOP_DEADLINE_SECONDS)
        writer = self.message_writer
        if isinstance(writer, BufferedMsgSpecWriter):
            writer.when_idle(lambda: self._stop(signum, name))
        else:
            self._stop(signum, name)

    def _stop(self, signum: int, name: str) -> None:
        batching_now = any(
            isinstance(stream, VoicegainStream) and stream.batching
            for stream in self.streams.values()
        )
        if batching_now:
            # The bookmark covers records still waiting for their batch file.
            self.logger.warning(
                "%s during a batch export: the last STATE, written after the last "
                "BATCH message, stands",
                name,
            )
        else:
            self._state_writer.write_state(self.state)
        writer = self.message_writer
        if isinstance(writer, BufferedMsgSpecWriter):
            writer.flush()
        if hasattr(signal, "setitimer"):
            signal.setitimer(signal.ITIMER_REAL, 0)
        raise SystemExit(128 + signum)

    @override  # type: ignore[misc]  # final for typing only
    def run_sync_dry_run(
        self,
        dry_run_record_limit: int | None = 1,
        streams: t.Iterable[Stream] | None = None,
    ) -> bool:
        """``--test``: one record from each selected stream.

        The SDK selects every stream for the test; transcripts cost a request
        per call and hold personal data, so the test reads what a run would.
        (``run_connection_test`` passes every stream; the SDK marks both
        methods final for typing only: README "Departures".)
        """
        chosen = [s for s in (streams or self.streams.values()) if s.selected]
        return super().run_sync_dry_run(dry_run_record_limit, chosen)

    @override
    def setup_mapper(self) -> None:
        """Set up stream maps once the streams have read the catalog.

        The mapper takes each stream's key from the catalog; the streams first
        mend a key that would be wrong for this config (``apply_catalog``).
        """
        _ = self.streams
        super().setup_mapper()

    @override
    def discover_streams(self) -> t.Sequence[Stream]:
        """Return the tap's streams.

        Returns:
            ``calls``, and ``transcripts``, which is selected only on request
            (one API request per call).
        """
        return [CallsStream(self), TranscriptsStream(self)]
