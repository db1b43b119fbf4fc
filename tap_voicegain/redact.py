"""Keep known secrets out of every message and log line.

Tokens and URL passwords are remembered when the tap reads its settings;
every log record is then rewritten before any handler sees it (message,
arguments and traceback), whatever logger, handler or formatter is in use.
Errors built by the tap redact their text too, so an exception that is
printed without logging cannot carry a secret either.
"""

from __future__ import annotations

import logging
import threading
import traceback
import typing as t
from urllib.parse import unquote, urlsplit

MASK = "[redacted]"
SECRET_MIN_CHARS = 8  # shorter values are not masked: they would mangle every line
_SIGNATURE_MIN_CHARS = 16  # a JWT's signature, masked on its own too


class Redactor:
    """The secrets known to this process and the masking of text."""

    def __init__(self) -> None:
        """Start with no secrets."""
        self._lock = threading.Lock()
        self._secrets: tuple[str, ...] = ()

    def remember(self, value: str) -> None:
        """Mask ``value`` from now on (and, for a JWT, its signature alone)."""
        found = {value, value.strip()}
        parts = value.strip().split(".")
        if len(parts) == 3 and len(parts[2]) >= _SIGNATURE_MIN_CHARS:  # noqa: PLR2004
            found.add(parts[2])
        with self._lock:
            known = set(self._secrets) | {
                s for s in found if len(s) >= SECRET_MIN_CHARS
            }
            # Longest first, so a token is masked whole before its signature.
            self._secrets = tuple(sorted(known, key=len, reverse=True))

    def redact(self, text: str) -> str:
        """``text`` with every known secret replaced by ``[redacted]``."""
        for secret in self._secrets:
            if secret in text:
                text = text.replace(secret, MASK)
        return text

    def holds_secret(self, text: str) -> bool:
        """Whether ``text`` contains a known secret."""
        return any(secret in text for secret in self._secrets)


REDACTOR = Redactor()  # one per process: log records are process-wide too


def redact(text: str) -> str:
    """``text`` with every known secret masked."""
    return REDACTOR.redact(text)


def strings_in(value: t.Any) -> list[str]:  # noqa: ANN401
    """Every string inside a setting's value, whatever its type."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for item in value.values() for s in strings_in(item)]
    if isinstance(value, (list, tuple)):
        return [s for item in value for s in strings_in(item)]
    return []


def remember_config(config: t.Mapping[str, t.Any]) -> None:
    """Remember the tokens and the api_url password of a config, any shape."""
    secrets = strings_in(config.get("jwt_token"))
    projects = config.get("projects")
    if isinstance(projects, (list, tuple)):
        for item in projects:
            # A list of bare tokens is a likely slip: all of it is masked.
            is_project = isinstance(item, dict)
            secrets += strings_in(item.get("jwt_token") if is_project else item)
    else:
        secrets += strings_in(projects)  # a string or object where a list belongs
    api_url = config.get("api_url")
    if isinstance(api_url, str):
        secrets += url_secrets(api_url)
    for secret in secrets:
        REDACTOR.remember(secret)


def url_secrets(url: str) -> list[str]:
    """The ``user:password`` of a URL and its password, as written and decoded."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return []
    userinfo = parts.netloc.rpartition("@")[0] if "@" in parts.netloc else ""
    found = [userinfo] if userinfo else []
    if parts.password:
        found += [parts.password, unquote(parts.password)]
    return found


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


class _RedactingFactory:
    """A log record factory that masks secrets before any handler runs."""

    def __init__(self, inner: t.Callable[..., logging.LogRecord]) -> None:
        self.inner = inner

    def __call__(self, *args: t.Any, **kwargs: t.Any) -> logging.LogRecord:  # noqa: ANN401
        record = self.inner(*args, **kwargs)
        try:
            message = record.getMessage()
        except Exception:  # noqa: BLE001 - a bad format string is logging's to report
            return record
        if REDACTOR.holds_secret(message):
            record.msg, record.args = REDACTOR.redact(message), ()
        if record.exc_info and record.exc_info[0] is not None:
            text = "".join(traceback.format_exception(*record.exc_info))
            if REDACTOR.holds_secret(text):
                # The text formatter prints exc_text; the structured one would
                # render exc_info itself, so it goes.
                record.exc_text, record.exc_info = REDACTOR.redact(text).rstrip(), None
        return record


def install_log_redaction() -> None:
    """Mask secrets in every log record from now on; idempotent."""
    factory = logging.getLogRecordFactory()
    if not isinstance(factory, _RedactingFactory):
        logging.setLogRecordFactory(_RedactingFactory(factory))
