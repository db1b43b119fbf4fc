"""How the columns of one CSV header feed a record: planned once per page.

The plan groups the columns by kind so that the common cells of a row (text,
plain digits, lists, the dotted ``agent.*``/``queue.*`` columns) are copied by
plain loops in ``records.py``, and only the cells that need a converter take a
call each. (Bulk copies through ``itemgetter``/``compress`` were measured: more
instructions per row than these loops.)
"""

from __future__ import annotations

import typing as t

from tap_voicegain.fields import FIELDS
from tap_voicegain.normalize import to_bool

if t.TYPE_CHECKING:
    from tap_voicegain.normalize import Converter

# Nested objects (agent, queue): record sub-field names, CSV columns.
NESTED = {field.name: field.sub for field in FIELDS if field.kind == "nested"}
NESTED_CSV_COLUMNS = {
    sub.csv: (parent, sub.name) for parent, subs in NESTED.items() for sub in subs
}
# CSV column -> kind of its field (the nested columns are in NESTED_CSV_COLUMNS).
CSV_KINDS = {
    field.csv_column: field.kind for field in FIELDS if field.csv_column is not None
}


class CsvPlan:
    """How each column of one CSV header becomes part of a record."""

    def __init__(
        self,
        header: list[str],
        csv_time: Converter,
        converters: dict[str, Converter],
    ) -> None:
        """Plan ``header``; ``converters`` maps each kind to its converter.

        Raises:
            ValueError: the header has no ``callId`` column.
        """
        if "callId" not in header:
            shown = ", ".join(header[:8]) + (", ..." if len(header) > 8 else "")  # noqa: PLR2004
            msg = f"the CSV header has no callId column (columns: {shown})"
            raise ValueError(msg)
        self.header = header
        self.call_index = header.index("callId")
        text: list[tuple[int, str]] = []
        self.integers: list[tuple[int, str]] = []
        self.lists: list[tuple[int, str]] = []  # a|b|c: no cell is a misfit
        self.other: list[tuple[int, str, Converter]] = []
        nested: dict[str, list[tuple[int, str]]] = {}
        self.extra: list[tuple[int, str]] = []
        # A column met again: the first one feeds the record (it is where the
        # guide puts it), the others go to _extra as "name#2", "name#3", ...
        self.duplicates: dict[str, list[str]] = {}
        seen: set[str] = set()
        # Kinds whose cells need no converter call (records.py reads them).
        groups = {"string": text, "integer": self.integers, "strings": self.lists}
        convert = {**converters, "datetime": csv_time, "boolean": to_bool}
        for index, column in enumerate(header):
            if column in seen:
                names = self.duplicates.setdefault(column, [])
                names.append(f"{column}#{len(names) + 2}")
                self.extra.append((index, names[-1]))
                continue
            seen.add(column)
            kind = CSV_KINDS.get(column)
            group = groups.get(kind)  # type: ignore[arg-type]
            if group is not None:
                group.append((index, column))
            elif kind is not None:
                self.other.append((index, column, convert[kind]))
            elif column in NESTED_CSV_COLUMNS:
                parent, field = NESTED_CSV_COLUMNS[column]
                nested.setdefault(parent, []).append((index, field))
            else:
                self.extra.append((index, column))
        self.text = text
        # parent -> its (index, sub-field) cells, and the object of all nulls.
        self.nested = [
            (parent, cells, dict.fromkeys(sub.name for sub in NESTED[parent]))
            for parent, cells in nested.items()
        ]

    def extra_cells(self, row: list[str]) -> dict[str, str]:
        """The non-empty cells of the columns the field table does not know."""
        return {name: row[i] for i, name in self.extra if row[i] != ""}
