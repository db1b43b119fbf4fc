"""REST plumbing shared by the tap's streams: URL, auth, retries, errors."""

from __future__ import annotations

import contextlib
import functools
import random
import typing as t
from http import HTTPStatus
from importlib import metadata

import backoff
import requests
from singer_sdk.authenticators import BearerTokenAuthenticator
from singer_sdk.exceptions import FatalAPIError, RetriableAPIError
from singer_sdk.streams import RESTStream
from typing_extensions import override

from tap_voicegain import errors, settings
from tap_voicegain.batching import MappedBatches
from tap_voicegain.fastpath import FastRecords
from tap_voicegain.progress import limit_text
from tap_voicegain.ratelimit import RateLimits
from tap_voicegain.session import VoicegainSession

if t.TYPE_CHECKING:
    from collections.abc import Callable, Generator, Iterable, Iterator

    from backoff.types import Details
    from singer_sdk.helpers._batch import BaseBatchFileEncoding, BatchConfig
    from singer_sdk.helpers.types import Context
    from singer_sdk.singerlib import Catalog

# Answers worth another attempt: timeout, too many requests, server errors.
RETRIED_STATUSES = frozenset({HTTPStatus.REQUEST_TIMEOUT, HTTPStatus.TOO_MANY_REQUESTS})
# Failures worth another attempt: those answers and 5xx, and the network's.
TRANSIENT = (
    ConnectionResetError,
    RetriableAPIError,
    requests.exceptions.Timeout,
    requests.exceptions.ConnectionError,
    requests.exceptions.ChunkedEncodingError,
    requests.exceptions.ContentDecodingError,
)


class VoicegainStream(RESTStream[int]):
    """Base stream of the Voicegain API; the page token is ``afterCallId``."""

    @override
    def __init__(self, *args: t.Any, **kwargs: t.Any) -> None:
        """Prepare per-project authenticators and the HTTP session."""
        super().__init__(*args, **kwargs)
        tap = kwargs.get("tap", args[0] if args else None)
        limits = getattr(tap, "rate_limits", None)
        if not isinstance(limits, RateLimits):  # a tap of another class
            limits = RateLimits(self.config.get("max_requests_per_minute"), self.logger)
        timeout = self.timeout
        self._requests_session = VoicegainSession(
            limits,
            deadline=timeout * settings.DEADLINE_PER_TIMEOUT,
            allow_http=self.config.get("allow_http") is True,
            ca_bundle=settings.ca_bundle(self.config),
        )
        self.rate_limits = limits
        self._projects = {p.name: p for p in settings.projects(self.config)}
        self._auth: dict[str, BearerTokenAuthenticator] = {}
        self._project = next(iter(self._projects))
        self._context_ids = {
            name: settings.jwt_claims(project.token).get("contextId")
            for name, project in self._projects.items()
        }
        self.retries = 0  # retries made in this run, for the summary
        self.failed_projects: dict[
            str, str
        ] = {}  # project -> why; the tap fails the run
        # One project: callId is unique. Several: nothing in the vendor's docs
        # promises one callId sequence across projects, so contextId joins the
        # key of every stream (README, "Several projects").
        self.primary_keys = (
            ("contextId", "callId") if self.config.get("projects") else ("callId",)
        )
        self._fast = FastRecords(self)
        self.batching = False  # records go to batch files, not RECORD messages
        self.records_out = 0  # records handed to the SDK (its --test limit counts)

    @property
    @override
    def partitions(self) -> list[dict[str, t.Any]]:
        """One partition (and one bookmark) per project; never holds a token."""
        return [{"project": name} for name in self._projects]

    @property
    @override
    def url_base(self) -> str:
        return str(self.config.get("api_url", settings.DEFAULT_API_URL)).rstrip("/")

    @property
    @override
    def http_headers(self) -> dict[str, str]:
        return {"User-Agent": _user_agent()}

    @property
    @override
    def timeout(self) -> float:  # type: ignore[override]  # requests takes a float
        return float(
            self.config.get("request_timeout", settings.REQUEST_TIMEOUT_DEFAULT)
        )

    @property
    @override
    def authenticator(self) -> BearerTokenAuthenticator:
        """Bearer auth with the token of the project being read."""
        auth = self._auth.get(self._project)
        if auth is None:
            auth = BearerTokenAuthenticator(token=self._projects[self._project].token)
            self._auth[self._project] = auth
        return auth

    def use_project(self, context: Context | None) -> str:
        """Switch the credentials to the project named in ``context``."""
        name = str((context or {}).get("project") or settings.DEFAULT_PROJECT)
        if name not in self._projects:
            msg = f"project '{name}' is not configured"
            raise ValueError(msg)
        self._project = name
        return name

    @override
    def apply_catalog(self, catalog: Catalog) -> None:
        """Apply the catalog; with ``projects``, the key keeps ``contextId``.

        A catalog discovered with a single token says ``["callId"]``; reused
        with several projects, whose callIds may repeat, it would let an
        upserting target overwrite one project's row with another's.
        """
        keys = tuple(self.primary_keys or ())
        super().apply_catalog(catalog)
        if "contextId" in keys and "contextId" not in (self.primary_keys or ()):
            self.logger.warning(
                "The catalog gives stream '%s' the key %s; with projects the key is "
                "%s (callIds may repeat across projects). Discover the catalog "
                "again to silence this.",
                self.name,
                list(self.primary_keys or ()),
                list(keys),
            )
            self.primary_keys = keys
            # The mapper and the SCHEMA message read the key from the catalog.
            entry = catalog.get_stream(self.tap_stream_id)
            if entry is not None:
                entry.key_properties = list(keys)
                entry.metadata.root.table_key_properties = list(keys)

    def context_id(self, project: str) -> str | None:
        """The project's contextId, as its token names it (None if it doesn't)."""
        value = self._context_ids.get(project)
        return value if isinstance(value, str) and value else None

    def starting_call_id(self, context: Context | None) -> int:
        """The bookmark of this project, else ``start_after_call_id``.

        Shared by the streams that walk the calls by callId (each with its own
        bookmark).
        """
        value = self.get_starting_replication_key_value(context)
        if value in {None, ""}:
            return int(self.config.get("start_after_call_id", 0))
        text = str(value)
        if type(value) is bool or not (text.isascii() and text.isdigit()):
            project = (context or {}).get("project")
            msg = (
                f"the state's bookmark for project '{project}' is {value!r}; expected "
                "a callId (an integer >= 0). Fix or remove that state entry."
            )
            raise ValueError(msg)
        if type(value) is not int:
            # Store it back as a number: the SDK compares it with each record's.
            self.get_context_state(context)["replication_key_value"] = int(text)
        return int(text)

    @contextlib.contextmanager
    def project_failures(self, context: Context | None) -> Iterator[str]:
        """Read one project; with several, a failure is kept and the others go on.

        The tap fails the run after every stream is done (``TapVoicegain.sync_all``),
        so the STATE of the projects that succeeded is written first.
        """
        project = self.use_project(context)
        try:
            yield project
        except Exception as exc:
            if len(self._projects) == 1:
                raise
            self.failed_projects[project] = f"{type(exc).__name__}: {exc}"
            self.logger.error("Project %s failed: %s", project, exc)  # noqa: TRY400

    def filter_params(self) -> dict[str, t.Any]:
        """The call-list filters the user configured, as query parameters."""
        config = self.config
        params: dict[str, t.Any] = {}
        if config.get("from_time"):
            params["fromTime"] = config["from_time"]
        if config.get("to_time"):
            params["toTime"] = config["to_time"]
        for setting, param in (
            ("aivr_app_ids", "aivrAppId"),
            ("agent_ids", "agentId"),
            ("queue_ids", "queueId"),
        ):
            if config.get(setting):
                params[param] = list(config[setting])  # repeated keys, as in the guide
        return params

    def peek_after(self, call_id: int) -> list[dict[str, t.Any]] | None:
        """The first call after ``call_id`` under the configured filters.

        Without ``consecutive``, so a call still processing shows. Returns
        ``[]`` when there is none, and None when the API could not say (the
        caller then says nothing it cannot know).
        """
        params = {
            "format": "json",
            **self.filter_params(),
            "afterCallId": call_id,
            "page": 1,
            "per_page": 1,
        }
        request = self.build_prepared_request(
            method="GET",
            url=self.get_url(None),
            params=params,
            headers=self.http_headers,
        )
        try:
            response = self.requests_session.send(request, timeout=self.timeout)
            following = response.json() if response.ok else None
        except (requests.RequestException, ValueError, errors.InsecureRedirectError):
            return None
        if not isinstance(following, list) or not all(
            isinstance(item, dict) for item in following
        ):
            return None
        return following

    # --- the SDK's record limit (--test) ---

    @override
    def post_process(
        self, row: dict[str, t.Any], context: Context | None = None
    ) -> dict[str, t.Any] | None:
        self.records_out += 1  # the SDK calls this once per record yielded
        return row

    def test_limit_reached(self) -> str | None:
        """Why the stream must stop now, if the SDK's record limit is reached.

        ``--test`` (the SDK's dry run) aborts with an error when a stream
        yields more records than ``ABORT_AT_RECORD_COUNT``, counted over all
        projects; stopping at the limit instead ends it as what it is, a success.
        """
        limit = self.ABORT_AT_RECORD_COUNT
        if limit is not None and self.records_out >= limit:
            return limit_text(limit)
        return None

    # --- the SDK's private per-record hooks, fenced (fastpath.py, README) ---

    def bookmark_moves(self) -> bool:
        """Whether the records being read move the bookmark."""
        return True

    @override
    def _increment_stream_state(
        self,
        latest_record: dict[str, t.Any],
        *,
        context: Context | None = None,
    ) -> None:
        if self.bookmark_moves() and not self._fast.bookmark(latest_record, context):
            super()._increment_stream_state(latest_record, context=context)

    @override
    def _write_record_message(self, record: dict[str, t.Any]) -> None:
        if not self._fast.write(record):
            super()._write_record_message(record)

    # --- answers ---

    @override
    def validate_response(self, response: requests.Response) -> None:
        status = response.status_code
        if status in {HTTPStatus.UNAUTHORIZED, HTTPStatus.FORBIDDEN}:
            msg = (
                f"The Voicegain API rejected the token of project '{self._project}' "
                f"(HTTP {status}: {errors.api_message(response)}) at {self.url_base}. "
                "Tokens are created in the Voicegain web app under Project Settings; "
                "set a current one as jwt_token."
            )
            raise errors.TokenRejectedError(msg)
        if status in RETRIED_STATUSES or status >= HTTPStatus.INTERNAL_SERVER_ERROR:
            raise RetriableAPIError(errors.describe_response(response), response)
        if status >= HTTPStatus.BAD_REQUEST:
            msg = (
                f"The Voicegain API refused the request: HTTP {status} "
                f"{errors.quote_text(str(response.reason), 100)}: "
                f"{errors.api_message(response)}"
                f"{errors.request_id(response)}; request: "
                f"{errors.request_summary(response.request.url)}"
            )
            raise FatalAPIError(msg)

    # --- retries ---

    @override
    def request_decorator(self, func: Callable[..., t.Any]) -> Callable[..., t.Any]:
        """Retry transient failures with backoff; say how many attempts were made."""
        attempts = int(self.config.get("max_retries", settings.MAX_RETRIES_DEFAULT)) + 1
        retrying = backoff.on_exception(
            self.backoff_wait_generator,
            TRANSIENT,
            max_tries=attempts,
            giveup=_certificate_failure,
            on_backoff=self.backoff_handler,
            jitter=None,  # the wait generator adds its own, but not to Retry-After
            logger=None,  # backoff_handler logs each retry once
        )(func)

        @functools.wraps(func)
        def call(*args: t.Any, **kwargs: t.Any) -> t.Any:  # noqa: ANN401
            try:
                return retrying(*args, **kwargs)
            except requests.exceptions.SSLError as exc:
                if _certificate_failure(exc):
                    raise errors.CertificateError(
                        self._certificate_message(exc)
                    ) from exc
                raise self._gave_up(attempts, exc) from exc
            except TRANSIENT as exc:
                raise self._gave_up(attempts, exc) from exc

        return call

    @staticmethod
    def _gave_up(attempts: int, exc: BaseException) -> errors.RetriesExhaustedError:
        msg = (
            f"Gave up after {attempts} attempts "
            f"(1 + {attempts - 1} retries); last failure: "
            f"{errors.describe_failure(exc)}"
        )
        return errors.RetriesExhaustedError(msg)

    def _certificate_message(self, exc: BaseException) -> str:
        return (
            f"The TLS certificate of {self.url_base} is not trusted "
            f"({errors.describe_failure(exc)}). Behind a TLS-inspecting proxy, set "
            "ca_bundle (or REQUESTS_CA_BUNDLE) to the PEM file of its CA."
        )

    @override
    def backoff_wait_generator(self) -> Generator[float, t.Any, None]:
        """Wait what ``Retry-After`` asks, else 2, 4, 8... seconds; both capped."""
        base = float(
            self.config.get("retry_wait_base", settings.RETRY_WAIT_BASE_DEFAULT)
        )
        cap = float(self.config.get("retry_wait_max", settings.RETRY_WAIT_MAX_DEFAULT))
        exc = yield 0.0  # backoff primes the generator, then sends each failure
        attempt = 0
        while True:
            asked = errors.retry_after_seconds(getattr(exc, "response", None))
            if asked is None:
                # "Equal jitter": half fixed, half random, so clients spread out.
                wait = base * 2**attempt * (0.5 + random.random() / 2)  # noqa: S311
            else:
                wait = asked
            attempt += 1
            exc = yield min(wait, cap)

    @override
    def backoff_handler(self, details: Details) -> None:
        """Log each retry once, at WARNING, with status, attempt and wait."""
        self.retries += 1
        exc = details.get("exception")
        attempts = int(self.config.get("max_retries", settings.MAX_RETRIES_DEFAULT)) + 1
        self.logger.warning(
            "Retrying: %s (attempt %d of %d failed); waiting %.1f s",
            errors.describe_failure(exc) if exc else "failure",
            details["tries"],
            attempts,
            details.get("wait", 0.0),
            extra={
                "attempt": details["tries"],
                "max_attempts": attempts,
                "wait_seconds": details.get("wait", 0.0),
                "status": getattr(getattr(exc, "response", None), "status_code", None),
            },
        )

    # --- batch files ---

    @override
    def get_batches(
        self, batch_config: BatchConfig, context: Context | None = None
    ) -> Iterable[tuple[BaseBatchFileEncoding, list[str]]]:
        """Batch files holding what RECORD messages would: maps, selection, flattening.

        The SDK's own batch path writes the records as read, ignoring them.
        """
        batches = MappedBatches(self, batch_config)  # refuses what it cannot honour
        self.batching = True
        try:
            records = self._sync_records(context, write_messages=False)
            yield from batches.write(records)
        finally:
            self.batching = False

    def write_state_now(self) -> None:
        """A STATE now, unless records wait for their batch file (BATCH first)."""
        if not self.batching:
            self.state_manager.is_flushed = False
            self._write_state_message()


def _certificate_failure(exc: BaseException) -> bool:
    """A certificate that is not trusted: no retry can change that."""
    return isinstance(exc, requests.exceptions.SSLError) and (
        "CERTIFICATE_VERIFY_FAILED" in str(exc) or "certificate verify" in str(exc)
    )


def _user_agent() -> str:
    try:
        version = metadata.version("tap-voicegain")
    except metadata.PackageNotFoundError:  # running from a source tree
        version = "0+unknown"
    return f"tap-voicegain/{version}"
