"""The base of the tap's streams: projects, auth, requests, retries, answers."""

from __future__ import annotations

import contextlib
import functools
import typing as t
from http import HTTPStatus
from importlib import metadata

import backoff
import requests
from singer_sdk.authenticators import BearerTokenAuthenticator
from singer_sdk.exceptions import RetriableAPIError
from singer_sdk.streams import RESTStream
from typing_extensions import override

from tap_voicegain import errors, sdk, settings
from tap_voicegain.http import answers, retry
from tap_voicegain.http.ratelimit import RateLimits
from tap_voicegain.http.session import VoicegainSession

if t.TYPE_CHECKING:
    from collections.abc import Callable, Generator, Iterator

    from backoff.types import Details
    from singer_sdk import Tap
    from singer_sdk.helpers.types import Context
    from singer_sdk.singerlib import Catalog

    from tap_voicegain.http.ratelimit import RateLimiter

# Answers worth another attempt besides 5xx: a timeout, too many requests.
RETRIED_STATUSES = frozenset({HTTPStatus.REQUEST_TIMEOUT, HTTPStatus.TOO_MANY_REQUESTS})


class VoicegainStream(sdk.StreamSeam, RESTStream[int]):
    """Base stream of the Voicegain API; the page token is ``afterCallId``."""

    @override
    def __init__(self, tap: Tap, *args: t.Any, **kwargs: t.Any) -> None:
        """Prepare per-project authenticators and the HTTP session."""
        super().__init__(tap, *args, **kwargs)
        self.settings = settings.Settings.from_config(self.config)
        limits = getattr(tap, "rate_limits", None)
        if not isinstance(limits, RateLimits):  # a tap of another class
            limits = RateLimits(self.settings.max_requests_per_minute, self.logger)
        self.rate_limits = limits
        self._session = VoicegainSession(
            limits,
            deadline=self.timeout * settings.DEADLINE_PER_TIMEOUT,
            allow_http=self.settings.allow_http is True,
            ca_bundle=settings.ca_bundle(self.config),
        )
        self._projects = {p.name: p for p in settings.projects(self.config)}
        self._auth: dict[str, BearerTokenAuthenticator] = {}
        self.project = next(iter(self._projects))
        self.retries = 0  # retries made in this run, for the summaries
        self.throttled_seconds = 0.0  # waited for the Retry-After of 429s
        self.failed_projects: dict[str, str] = {}  # project -> why; the tap fails
        # With several projects contextId joins the key: nothing promises one
        # callId sequence across projects (README, "Several projects").
        self.several_projects = bool(self.config.get("projects"))
        self.primary_keys = (
            ("contextId", "callId") if self.several_projects else ("callId",)
        )
        self.record_writer = sdk.RecordWriter(self, tap.message_writer)
        self.records_out = 0  # records handed to the SDK (its --test limit counts)

    list_format = "json"  # the format the stream asks the call list in

    @property
    @override
    def partitions(self) -> list[dict[str, t.Any]]:
        """One partition (and one bookmark) per project; never holds a token."""
        return [{"project": name} for name in self._projects]

    @property
    @override
    def url_base(self) -> str:
        return str(self.settings.api_url).rstrip("/")

    @functools.cached_property
    @override
    def user_agent(self) -> str:
        try:
            version = metadata.version("tap-voicegain")
        except metadata.PackageNotFoundError:  # running from a source tree
            version = "0+unknown"
        return f"tap-voicegain/{version}"

    @property
    @override
    def timeout(self) -> float:  # type: ignore[override]  # requests takes a float
        return float(self.settings.request_timeout)

    @property
    @override
    def requests_session(self) -> requests.Session:
        return self._session

    @property
    @override
    def authenticator(self) -> BearerTokenAuthenticator:
        """Bearer auth with the token of the project being read."""
        auth = self._auth.get(self.project)
        if auth is None:
            auth = BearerTokenAuthenticator(token=self._projects[self.project].token)
            self._auth[self.project] = auth
        return auth

    def limiter(self) -> RateLimiter:
        """The rate limiter of the project being read (one per account)."""
        return self.rate_limits.for_token(self._projects[self.project].token)

    def context_id(self, project: str) -> str | None:
        """The project's contextId, as its token names it (None if it doesn't)."""
        return settings.context_id(self._projects[project].token)

    @contextlib.contextmanager
    def project_scope(self, context: Context | None) -> Iterator[str]:
        """Read one project; with several, a failure is kept and the others go on."""
        name = str((context or {}).get("project") or settings.DEFAULT_PROJECT)
        if name not in self._projects:
            msg = f"project '{name}' is not configured"
            raise errors.StateError(msg)
        self.project = name
        try:
            yield name
        except Exception as exc:
            if len(self._projects) == 1:
                raise
            self.failed_projects[name] = f"{type(exc).__name__}: {exc}"
            self.logger.error("Project %s failed: %s", name, exc)  # noqa: TRY400

    @override
    def apply_catalog(self, catalog: Catalog) -> None:
        """Apply the catalog; with ``projects``, the key keeps ``contextId``."""
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

    @override
    def post_process(
        self, row: dict[str, t.Any], context: Context | None = None
    ) -> dict[str, t.Any] | None:
        self.records_out += 1  # the SDK calls this once per record yielded
        return row

    def test_limit_reached(self) -> str | None:
        """Why the stream must stop now, if the SDK's record limit is reached.

        ``--test`` aborts with an error past the limit; stopping at it is a success.
        """
        limit = self.ABORT_AT_RECORD_COUNT
        if limit is not None and self.records_out >= limit:
            if limit == 1:
                return "stopped after the first record (--test)"
            return f"stopped after {limit} records (record limit)"
        return None

    @override
    def validate_response(self, response: requests.Response) -> None:
        """Status first; then a 200 must be the export asked for (else retried)."""
        self.check_status(response)
        why = answers.not_the_export(response, self.list_format)
        if why is not None:
            msg = f"{why}; {answers.request_summary(response.request.url)}"
            raise errors.NotTheExportError(msg, response=response)

    def check_status(
        self, response: requests.Response, *, one_call: bool = False, path: str = ""
    ) -> None:
        """Raise for an answer that is not a 2xx: retried, token, or fatal.

        ``one_call``: about one call, a 403 is that call's, and its text not quoted.
        """
        status = response.status_code
        if status == HTTPStatus.UNAUTHORIZED or (
            status == HTTPStatus.FORBIDDEN and not one_call
        ):
            msg = (
                f"The Voicegain API rejected the token of project '{self.project}' "
                f"(HTTP {status}: {answers.api_message(response)}) at {self.url_base}. "
                "Tokens are created in the Voicegain web app under Project Settings; "
                "set a current one as jwt_token."
            )
            raise errors.TokenRejectedError(msg)
        if status in RETRIED_STATUSES or status >= HTTPStatus.INTERNAL_SERVER_ERROR:
            described = answers.describe_response(response, quote_body=not one_call)
            raise RetriableAPIError(described, response)
        if status >= HTTPStatus.BAD_REQUEST and one_call:
            msg = f"HTTP {status}"
            raise errors.CallRequestError(msg, status, path)
        if status >= HTTPStatus.BAD_REQUEST:
            described = answers.describe_response(response)
            msg = f"The Voicegain API refused the request: {described}"
            raise errors.APIError(msg)

    def send_one(  # noqa: PLR0913
        self,
        url: str,
        params: dict[str, t.Any],
        endpoint: str,
        accept: Callable[[requests.Response], bool],
        *,
        per_call: bool = True,
        shown: str | None = None,
    ) -> requests.Response:
        """A request about one call, with the stream's auth, pacing and retries.

        ``accept``: answers that are the caller's to read (a 404); others are
        retried or raised. ``per_call=False``: not counted as a per-call request.
        ``shown``: the path errors name. Fails for good with CallRequestError.
        """
        path = f"GET {shown or endpoint}"

        def attempt() -> requests.Response:
            request = self.build_prepared_request(
                method="GET", url=url, params=params, headers=self.http_headers
            )
            if per_call:
                self.on_request_sent()
            response = self.requests_session.send(
                self.authenticator(request),
                timeout=self.timeout,
                allow_redirects=self.allow_redirects,
            )
            sdk.request_metric(self, endpoint, response, {"project": self.project})
            if not accept(response):
                self.check_status(response, one_call=True, path=path)
            return response

        try:
            return t.cast("requests.Response", self.request_decorator(attempt)())
        except errors.RetriesExhaustedError as exc:
            cause = exc.__cause__
            status = getattr(getattr(cause, "response", None), "status_code", None)
            why = (
                f"HTTP {status} after retries" if status else "no answer after retries"
            )
            raise errors.CallRequestError(why, status, path) from None

    def on_request_sent(self) -> None:
        """A request about one call is about to go (every attempt counts)."""

    @override
    def request_decorator(self, func: Callable[..., t.Any]) -> Callable[..., t.Any]:
        """Retry transient failures with backoff; say how many attempts were made."""
        attempts = self.settings.max_retries + 1
        retrying = backoff.on_exception(
            self.backoff_wait_generator,
            retry.TRANSIENT,
            max_tries=attempts,
            giveup=retry.certificate_failure,
            on_backoff=self.backoff_handler,
            jitter=None,  # the wait generator adds its own, but not to Retry-After
            logger=None,  # backoff_handler logs each retry once
        )(func)

        @functools.wraps(func)
        def call(*args: t.Any, **kwargs: t.Any) -> t.Any:  # noqa: ANN401
            try:
                return retrying(*args, **kwargs)
            except requests.exceptions.SSLError as exc:
                if retry.certificate_failure(exc):
                    msg = (
                        f"The TLS certificate of {self.url_base} is not trusted "
                        f"({answers.describe_failure(exc)}). Behind a TLS-inspecting "
                        "proxy, set ca_bundle (or REQUESTS_CA_BUNDLE) to the PEM file "
                        "of its CA."
                    )
                    raise errors.CertificateError(msg) from exc
                raise retry.gave_up(attempts, exc) from exc
            except retry.TRANSIENT as exc:
                raise retry.gave_up(attempts, exc) from exc
            except requests.exceptions.TooManyRedirects as exc:
                msg = (
                    f"The API at {self.url_base} redirected too many times (a "
                    "redirect loop?); check api_url"
                )
                raise errors.APIError(msg) from exc
            except (
                requests.exceptions.InvalidURL,
                requests.exceptions.InvalidSchema,
            ) as exc:
                msg = f"api_url {self.url_base} cannot be requested: {exc}"
                raise errors.APIError(msg) from exc

        return call

    @override
    def backoff_wait_generator(self) -> Generator[float, t.Any, None]:
        return retry.waits(self.settings.retry_wait_base, self.settings.retry_wait_max)

    @override
    def backoff_handler(self, details: Details) -> None:
        """Log each retry once, at WARNING, with status, attempt and wait."""
        self.retries += 1
        exc = details.get("exception")
        status = getattr(getattr(exc, "response", None), "status_code", None)
        wait = details.get("wait", 0.0)
        if status == HTTPStatus.TOO_MANY_REQUESTS:
            self.throttled_seconds += float(wait or 0.0)
        attempts = self.settings.max_retries + 1
        self.logger.warning(
            "Retrying: %s (attempt %d of %d failed); waiting %.1f s",
            answers.describe_failure(exc) if exc else "failure",
            details["tries"],
            attempts,
            wait,
            extra={
                "attempt": details["tries"],
                "max_attempts": attempts,
                "wait_seconds": wait,
                "status": status,
            },
        )
