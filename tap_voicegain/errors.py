"""Every error class of the tap, in one place.

Errors a user can act on derive from :class:`UserError`: the tap ends the run
with their message and exit code 1, no traceback. Their messages name the
culprit (a setting, a project, a callId, a request) and never a token.
"""

from __future__ import annotations

import requests
from singer_sdk.exceptions import FatalAPIError


class UserError(Exception):
    """An error whose message tells the user what to do: shown without a traceback."""


# --- the API's answers ---


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
    """The request about one call (the call itself, its transcript) failed.

    Never stops a run: the call is skipped for this run and remembered
    (``streams/remembered.py``).
    """

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


# --- the run's inputs ---


class ProjectsFailedError(UserError):
    """Some projects could not be exported; the others were, state included."""


class StateError(UserError, ValueError):
    """The state given to the tap cannot be read without guessing."""


class StreamMapError(UserError, ValueError):
    """A stream map expression failed on a record."""


class CatalogError(UserError, ValueError):
    """A catalog the tap cannot read."""


class BatchConfigError(UserError, ValueError):
    """A batch_config this tap cannot honour exactly."""


class SettingsError(UserError, ValueError):
    """A setting the run cannot start with (beyond what the JSON schema says)."""


# --- values ---


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
    """Items read, with keys the table does not know: those go to ``_extra``.

    Not a misfit: the column holds the items, ``extras`` maps each unknown
    key's path (``markers[0].reason``) to its value, as unknown fields are kept.
    """

    def __init__(self, partial: object, extras: dict[str, object]) -> None:
        """The items read, and the unknown keys' values by path."""
        super().__init__("known item keys", partial)
        self.extras = extras


class UnknownLayout(BadValue):
    """A value of a column whose layout no document gives, not (fully) read.

    Never stops a run, whatever ``strict_values`` says: a guess about an
    undocumented layout is no reason to lose calls.
    """
