"""Keep known secrets out of every message and log line, for the run's life.

While a tap is alive, a log record factory masks its tokens and URL passwords
in every record; once none is, the factory found at start is back
(docs/design.md).
"""

from __future__ import annotations

import contextlib
import logging
import threading
import traceback
import typing as t
import weakref
from urllib.parse import unquote, urlsplit

from tap_voicegain import settings

if t.TYPE_CHECKING:
    from collections.abc import Iterator

MASK = "[redacted]"
SECRET_MIN_CHARS = 8  # shorter values are not masked: they would mangle every line
_SIGNATURE_MIN_CHARS = 16  # a JWT's signature, masked on its own too

_LOCK = threading.Lock()
_ACTIVE: dict[int, tuple[str, ...]] = {}  # live redaction -> its secrets
_SECRETS: tuple[str, ...] = ()  # the union, longest first
_INNER: t.Callable[..., logging.LogRecord] | None = None  # factory found at start
_HELD: list[int] = []  # redactions whose stop waits for the end of a command line run
_HOLDING = [0]


def _secrets_of(value: str) -> set[str]:
    found = {value, value.strip()}
    parts = value.strip().split(".")
    if len(parts) == 3 and len(parts[2]) >= _SIGNATURE_MIN_CHARS:  # noqa: PLR2004
        found.add(parts[2])  # a JWT's signature alone
    return {s for s in found if len(s) >= SECRET_MIN_CHARS}


def redact(text: str) -> str:
    """``text`` with every secret of a live tap replaced by ``[redacted]``."""
    for secret in _SECRETS:
        if secret in text:
            text = text.replace(secret, MASK)
    return text


def _holds_secret(text: str) -> bool:
    return any(secret in text for secret in _SECRETS)


def strings_in(value: t.Any) -> list[str]:  # noqa: ANN401
    """Every string inside a setting's value, whatever its type."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for item in value.values() for s in strings_in(item)]
    if isinstance(value, (list, tuple)):
        return [s for item in value for s in strings_in(item)]
    return []


def url_secrets(url: str) -> list[str]:
    """The ``user:password`` of a URL and its password, as written and decoded."""
    userinfo = settings.userinfo(url)
    found = [userinfo] if userinfo else []
    password = userinfo.partition(":")[2]
    with contextlib.suppress(ValueError):
        password = urlsplit(url).password or password
    if password:
        found += [password, unquote(password)]
    return found


def config_secrets(config: t.Mapping[str, t.Any]) -> list[str]:
    """The tokens and the api_url password of a config, any shape."""
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
    return secrets


def _factory(*args: t.Any, **kwargs: t.Any) -> logging.LogRecord:  # noqa: ANN401
    """The log record factory while a tap is alive: masks secrets."""
    inner = _INNER or logging.LogRecord
    record = inner(*args, **kwargs)
    try:
        message = record.getMessage()
    except Exception:  # noqa: BLE001 - a bad format string is logging's to report
        return record
    if _holds_secret(message):
        record.msg, record.args = redact(message), ()
    if record.exc_info and record.exc_info[0] is not None:
        text = "".join(traceback.format_exception(*record.exc_info))
        if _holds_secret(text):
            # The text formatter prints exc_text; the structured one would render
            # exc_info itself, so it goes.
            record.exc_text, record.exc_info = redact(text).rstrip(), None
    return record


def _publish() -> None:
    global _SECRETS, _INNER  # noqa: PLW0603 - the process's log records are global
    union = {s for secrets in _ACTIVE.values() for s in secrets}
    _SECRETS = tuple(sorted(union, key=len, reverse=True))
    if _ACTIVE and logging.getLogRecordFactory() is not _factory:
        _INNER = logging.getLogRecordFactory()
        logging.setLogRecordFactory(_factory)
    elif not _ACTIVE and logging.getLogRecordFactory() is _factory:
        logging.setLogRecordFactory(_INNER or logging.LogRecord)
        _INNER = None


class Redaction:
    """The secrets of one tap, masked in every log record while it runs."""

    def __init__(self, owner: object) -> None:
        """Forget the secrets when ``owner`` (the tap) is collected, at the latest."""
        self._key = id(self)
        weakref.finalize(owner, _forget, self._key)

    def start(self, config: t.Mapping[str, t.Any]) -> None:
        """Mask the secrets of ``config`` from now on."""
        secrets = {s for value in config_secrets(config) for s in _secrets_of(value)}
        with _LOCK:
            _ACTIVE[self._key] = tuple(secrets)
            _publish()

    def stop(self) -> None:
        """Forget this tap's secrets; the last tap puts the log factory back."""
        _forget(self._key)


def _forget(key: int) -> None:
    with _LOCK:
        if _HOLDING[0]:
            _HELD.append(key)
        elif _ACTIVE.pop(key, None) is not None:
            _publish()


@contextlib.contextmanager
def held() -> Iterator[None]:
    """Keep every redaction started in the block until it ends (CLI last lines)."""
    with _LOCK:
        _HOLDING[0] += 1
    try:
        yield
    finally:
        with _LOCK:
            _HOLDING[0] -= 1
            if not _HOLDING[0]:
                for key in _HELD:
                    _ACTIVE.pop(key, None)
                _HELD.clear()
                _publish()
