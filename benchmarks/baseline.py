# Copyright 2026 tap-voicegain contributors
# SPDX-License-Identifier: Apache-2.0
"""The baseline: the least work any exporter of these calls must do.

A bare loop over the same keyset pages the tap requests (``consecutive=true``,
``afterCallId`` moved to the last callId of each page, ``page=1``, stopping on a
short page), with one ``requests.Session``: ``json.loads`` of each JSON page (or
``csv.DictReader`` of each CSV page) and one compact JSON line per call written to
the output. No normalisation, no schema, no Singer envelope, no state.

Run as its own process so that its wall time and peak RSS are measured exactly
like the tap's::

    python benchmarks/baseline.py --url http://127.0.0.1:8765/v1 --token T \
        --format json --per-page 1000 --out /dev/null

It prints ``baseline exported N calls`` on stderr, like the tap's summary line.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import sys
import typing as t

import requests

if t.TYPE_CHECKING:
    from collections.abc import Iterator, Sequence

TIMEOUT = 60.0


def page_params(fmt: str, after: int, per_page: int) -> dict[str, t.Any]:
    """Query of one page, in the tap's parameter order (same cached response)."""
    return {
        "format": fmt,
        "consecutive": "true",
        "afterCallId": after,
        "page": 1,
        "per_page": per_page,
    }


def read_page(response: requests.Response, fmt: str) -> list[dict[str, t.Any]]:
    """The calls of one page: parsed JSON objects or CSV rows as dicts."""
    if fmt == "csv":
        return list(csv.DictReader(io.StringIO(response.text)))
    calls: list[dict[str, t.Any]] = json.loads(response.content)
    return calls


def walk(url: str, token: str, fmt: str, per_page: int) -> Iterator[dict[str, t.Any]]:
    """Yield every call of the project, page by page, after callId 0."""
    after = 0
    with requests.Session() as session:
        session.headers["Authorization"] = f"Bearer {token}"
        while True:
            response = session.get(
                f"{url}/sa/call",
                params=page_params(fmt, after, per_page),
                timeout=TIMEOUT,
            )
            response.raise_for_status()
            calls = read_page(response, fmt)
            yield from calls
            if len(calls) < per_page:
                return
            after = int(calls[-1]["callId"])


def export(url: str, token: str, fmt: str, per_page: int, out: t.TextIO) -> int:
    """Write one compact JSON line per call to ``out``; return the number of calls."""
    count = 0
    for call in walk(url, token, fmt, per_page):
        out.write(json.dumps(call, separators=(",", ":")) + "\n")
        count += 1
    return count


def main(argv: Sequence[str] | None = None) -> int:
    """Run the baseline export; the exit status is 0 on success."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", required=True, help="API base URL, e.g. …/v1")
    parser.add_argument("--token", required=True, help="bearer token")
    parser.add_argument("--format", choices=("json", "csv"), default="json")
    parser.add_argument("--per-page", type=int, default=1000)
    parser.add_argument("--out", default="/dev/null", help="where the lines go")
    args = parser.parse_args(argv)
    with open(args.out, "w", encoding="utf-8") as out:  # noqa: PTH123
        count = export(args.url, args.token, args.format, args.per_page, out)
    print(f"baseline exported {count} calls", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
