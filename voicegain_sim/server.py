"""The Voicegain API simulator: state plus a background HTTP server."""

from __future__ import annotations

import threading
import typing as t

from voicegain_sim.handler import API_PREFIX, SimHTTPServer
from voicegain_sim.state import SimState

if t.TYPE_CHECKING:
    from types import TracebackType

    from typing_extensions import Self


class VoicegainSimulator(SimState):
    """A local stand-in for ``GET https://api.voicegain.ai/v1/sa/call``.

    Example:
        >>> with VoicegainSimulator(make_calls(10)) as sim:  # doctest: +SKIP
        ...     requests.get(f"{sim.url}/sa/call",
        ...                  headers={"Authorization": "Bearer sim-token"})
    """

    def __init__(  # noqa: PLR0913
        self,
        calls: list[dict[str, t.Any]] | None = None,
        *,
        token: str = "sim-token",  # noqa: S107 - a test token
        projects: dict[str, list[dict[str, t.Any]]] | None = None,
        csv_timezone: str = "UTC",
        callid_as: str = "string",
        prerender: bool = False,
        host: str = "127.0.0.1",
        port: int = 0,
    ) -> None:
        """Create the simulator; nothing listens until :meth:`start`.

        Args:
            calls: Calls of the project reached with ``token`` (copied). When
                both ``calls`` and ``projects`` are ``None``, 100 generated
                calls are used.
            token: Bearer token of the single project.
            projects: Further projects, token -> calls (copied).
            csv_timezone: IANA zone for CSV times.
            callid_as: ``string``, ``number`` or ``mixed`` JSON callIds.
            prerender: Render every call once (at start) and cache response
                bodies per (token, query string); for benchmarks.
            host: Interface to bind.
            port: Port to bind; 0 picks a free one.
        """
        super().__init__(
            calls,
            token=token,
            projects=projects,
            csv_timezone=csv_timezone,
            callid_as=callid_as,
            prerender=prerender,
        )
        self.host = host
        self.port = port
        self._server: SimHTTPServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        """The API base URL, e.g. ``http://127.0.0.1:54321/v1``."""
        return f"http://{self.host}:{self.port}{API_PREFIX}"

    @property
    def running(self) -> bool:
        """Whether the server is listening."""
        return self._server is not None

    def start(self) -> Self:
        """Bind and serve in a background thread.

        Returns:
            The simulator itself.

        Raises:
            RuntimeError: Already started.
        """
        if self._server is not None:
            msg = "simulator already started"
            raise RuntimeError(msg)
        self.warm()
        server = SimHTTPServer((self.host, self.port), self)
        self.port = int(server.server_address[1])
        self._server = server
        self._thread = threading.Thread(
            target=server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name=f"voicegain-simulator-{self.port}",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and close every connection; safe to call twice."""
        server, thread = self._server, self._thread
        if server is None:
            return
        self._server = self._thread = None
        server.stopping.set()
        server.shutdown()
        server.close_connections()
        server.server_close()
        if thread is not None:
            thread.join(timeout=5)

    def __enter__(self) -> Self:
        """Start the server.

        Returns:
            The simulator itself.
        """
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        """Stop the server.

        Args:
            exc_type: Ignored.
            exc: Ignored.
            traceback: Ignored.
        """
        self.stop()
