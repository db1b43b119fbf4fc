"""Per-call rendered JSON and CSV pieces, so a page is a join of bytes.

With ``prerender=True`` every call is rendered once (eagerly at start); each
page of any query is then assembled from those pieces, byte for byte what
rendering the page as a whole gives.
"""

from __future__ import annotations

import csv
import io
import typing as t

from voicegain_sim.csvfmt import CSV_COLUMNS, csv_cells
from voicegain_sim.gcpause import paused_gc
from voicegain_sim.responses import dump_json

if t.TYPE_CHECKING:
    from collections.abc import Iterable, Sequence
    from zoneinfo import ZoneInfo


class Fragments:
    """Cache of rendered calls, keyed by the call dict's identity."""

    def __init__(self, zone: ZoneInfo) -> None:
        """Create an empty cache; CSV times are shown in ``zone``."""
        self._zone = zone
        # Entries keep a reference to their call so an id is never reused.
        self._json: dict[tuple[int, bool], tuple[dict[str, t.Any], bytes]] = {}
        self._csv: dict[int, tuple[dict[str, t.Any], bytes]] = {}
        self._buffer = io.StringIO()
        self._writer = csv.writer(self._buffer)
        self._header = self._row(CSV_COLUMNS)

    def _row(self, cells: Sequence[str]) -> bytes:
        self._buffer.seek(0)
        self._buffer.truncate()
        self._writer.writerow(cells)
        return self._buffer.getvalue().encode("utf-8")

    def forget(self, call: dict[str, t.Any]) -> None:
        """Drop the pieces of one call (after it changed)."""
        key = id(call)
        self._csv.pop(key, None)
        self._json.pop((key, False), None)
        self._json.pop((key, True), None)

    def clear(self) -> None:
        """Drop every piece."""
        self._json.clear()
        self._csv.clear()

    def __len__(self) -> int:
        """Return the number of cached pieces."""
        return len(self._json) + len(self._csv)

    def json_item(self, call: dict[str, t.Any], *, as_number: bool) -> bytes:
        """One call's JSON bytes, rendered on first use."""
        key = (id(call), as_number)
        entry = self._json.get(key)
        if entry is None or entry[0] is not call:
            value = call
            if as_number and not isinstance(call.get("callId"), int):
                value = {**call, "callId": int(call["callId"])}
            entry = self._json[key] = (call, dump_json(value))
        return entry[1]

    def csv_item(self, call: dict[str, t.Any]) -> bytes:
        """One call's CSV row (with line end), rendered on first use."""
        key = id(call)
        entry = self._csv.get(key)
        if entry is None or entry[0] is not call:
            entry = self._csv[key] = (call, self._row(csv_cells(call, self._zone)))
        return entry[1]

    def csv_page(self, calls: Iterable[dict[str, t.Any]]) -> bytes:
        """A CSV export: header then one row per call."""
        return self._header + b"".join(self.csv_item(call) for call in calls)

    def warm(self, calls: Iterable[dict[str, t.Any]], callid_as: str) -> None:
        """Render calls ahead of the first request, in the ``callid_as`` forms."""
        forms = {"string": (False,), "number": (True,)}.get(callid_as, (False, True))
        with paused_gc():
            for call in calls:
                for as_number in forms:
                    self.json_item(call, as_number=as_number)
                self.csv_item(call)
