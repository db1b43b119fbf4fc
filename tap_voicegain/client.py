"""REST plumbing shared by the tap's streams: URL, auth, errors."""

from __future__ import annotations

import typing as t
from importlib import metadata

from singer_sdk.authenticators import BearerTokenAuthenticator
from singer_sdk.streams import RESTStream
from typing_extensions import override

from tap_voicegain import settings

if t.TYPE_CHECKING:
    from singer_sdk.helpers.types import Context


class VoicegainStream(RESTStream[int]):
    """Base stream of the Voicegain API; the page token is ``afterCallId``."""

    def __init__(self, *args: t.Any, **kwargs: t.Any) -> None:  # noqa: ANN401
        """Prepare per-project authenticators."""
        super().__init__(*args, **kwargs)
        self._projects = {p.name: p for p in settings.projects(self.config)}
        self._auth: dict[str, BearerTokenAuthenticator] = {}
        self._project = next(iter(self._projects))

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
    def authenticator(self) -> BearerTokenAuthenticator:
        """Bearer auth with the token of the project being read."""
        auth = self._auth.get(self._project)
        if auth is None:
            auth = BearerTokenAuthenticator(token=self._projects[self._project].token)
            self._auth[self._project] = auth
        return auth

    def use_project(self, context: Context | None) -> str:
        """Switch the credentials to the project named in ``context``."""
        name = (context or {}).get("project") or settings.DEFAULT_PROJECT
        if name not in self._projects:
            msg = f"state names project '{name}', which is not configured"
            raise ValueError(msg)
        self._project = name
        return name


def _user_agent() -> str:
    try:
        version = metadata.version("tap-voicegain")
    except metadata.PackageNotFoundError:  # running from a source tree
        version = "0+unknown"
    return f"tap-voicegain/{version}"
