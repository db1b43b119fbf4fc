"""Every error class of the tap, in one place.

A :class:`UserError` ends the run with its message and exit code 1, no
traceback; its message names the culprit, never a token.
"""

from __future__ import annotations

import requests
from singer_sdk.exceptions import FatalAPIError


class UserError(Exception):
    """An error whose message tells the user what to do: shown without a traceback."""


class APIError(FatalAPIError, UserError):
    """An answer of the API that the run cannot go past."""


class TokenRejectedError(APIError):
    """The API refused the token (401/403): retrying cannot help."""


class RetriesExhaustedError(APIError):
    """A transient failure outlasted every retry."""


class BadPageError(APIError):
    """A 200 answer whose body is not the export that was asked for."""


class InsecureRedirectError(APIError):
    """The API redirected to a URL the token must not travel to (plain http)."""


class CertificateError(APIError):
    """The API's TLS certificate is not trusted: retrying cannot help."""


class RequestDeadlineError(requests.exceptions.ReadTimeout):
    """An answer still arriving when its request's total time ran out."""


class NotTheExportError(requests.exceptions.RequestException):
    """A 200 whose body is not what was asked for (a maintenance page): retried."""


class CallRequestError(Exception):
    """The request about one call failed: the call is skipped and remembered."""

    def __init__(self, why: str, status: int | None = None, path: str = "") -> None:
        """``why``: status or shape, never the body; ``path``: the request's."""
        super().__init__(f"{path}: {why}" if path else why)
        self.why = why
        self.status = status
        self.path = path


class NotReadyError(Exception):
    """What a call emits is not ready yet (its transcript is in progress)."""


class PrefetchCancelledError(Exception):
    """The stream moved on: the prefetch must not send (another) request."""


class ProjectsFailedError(UserError):
    """Some projects could not be exported; the others were, state included."""


class StateError(UserError, ValueError):
    """The state given to the tap cannot be read without guessing."""


class StreamMapError(UserError, ValueError):
    """A stream map expression failed on a record."""


class ConfigFileError(UserError, ValueError):
    """A ``--config`` file the tap cannot read as settings."""


class CatalogError(UserError, ValueError):
    """A catalog the tap cannot read."""


class BatchConfigError(UserError, ValueError):
    """A batch_config this tap cannot honour exactly."""


class RecordError(UserError, ValueError):
    """A value from the API that does not fit its column (``strict_values``)."""

    def __init__(self, call_id: object, field: str, shape: str, expected: str) -> None:
        """Name the call, the field, the value's shape (never its content)."""
        super().__init__(
            f"callId {call_id}: field '{field}' has {shape}, expected {expected}"
        )
        self.call_id = call_id
        self.field = field


class BadValue(Exception):  # noqa: N818 - a signal, turned into a kept raw value
    """A converter's answer to a value that does not fit: what was expected."""

    def __init__(self, expected: str, partial: object = None) -> None:
        """``partial``: what the column gets instead of null (items read)."""
        super().__init__(expected)
        self.expected = expected
        self.partial = partial


class ItemExtras(BadValue):
    """Items read, with unknown keys for ``_extra`` by path: not a misfit."""

    def __init__(self, partial: object, extras: dict[str, object]) -> None:
        """The items read, and the unknown keys' values by path."""
        super().__init__("known item keys", partial)
        self.extras = extras


class UnknownLayout(BadValue):
    """A value in a layout no document gives: never stops a run."""
