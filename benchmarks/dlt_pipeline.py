# Copyright 2026 tap-voicegain contributors
# SPDX-License-Identifier: Apache-2.0
"""The dlt side of the pipeline comparison: the same calls, paging and key.

Run by the benchmark with benchmarks/.venv-dlt/bin/python (dlt is never a
dependency of the tap; ``requirements-dlt.txt``)::

    python benchmarks/dlt_pipeline.py --url http://127.0.0.1:8765/v1 --token T \
        --destination postgres --credentials postgresql://u:p@host:5432/db \
        --dataset voicegain --pipelines-dir DIR --stamps stamps.json

What a dlt user writes for this API, in dlt's REST style: dlt's own
``RESTClient`` with a paginator implementing dlt's paginator protocol
(``update_state(response, data)`` / ``update_request``) for the API's keyset
paging (``consecutive=true&afterCallId=<last callId>&page=1&per_page=1000``,
stopping on a short page, as the tap does), inside a ``@dlt.resource`` with
``dlt.sources.incremental("callId")`` (the next run starts after the last
callId loaded) and ``write_disposition="merge"`` on ``primary_key="callId"``
(the tap's target upserts on callId too). Everything else is dlt's default:
schema inferred, nested lists in child tables, its default file format and
workers.

Why not ``dlt.sources.rest_api``'s declarative config: the API sends callId as
numeric text, and rest_api's incremental step runs before any ``map`` step, so
it would compare callIds as strings ("9999" > "10000"). The resource converts
callId to an integer before dlt's incremental sees it; the requests and the
client are the same as rest_api's.

It prints ``dlt exported N calls`` on stderr, like the tap's summary line, and
writes Unix times of its phases (imported, extracted, normalized, loaded) to
``--stamps``.
"""

from __future__ import annotations

import time

STARTED = time.time()

import argparse  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import sys  # noqa: E402
import typing as t  # noqa: E402

# The tap's Meltano project sends no usage statistics either.
os.environ.setdefault("RUNTIME__DLTHUB_TELEMETRY", "false")

import dlt  # noqa: E402
from dlt.sources.helpers.rest_client import RESTClient  # noqa: E402
from dlt.sources.helpers.rest_client.auth import BearerTokenAuth  # noqa: E402
from dlt.sources.helpers.rest_client.paginators import BasePaginator  # noqa: E402

IMPORTED = time.time()

if t.TYPE_CHECKING:
    from collections.abc import Iterator, Sequence

    from requests import Request, Response


class KeysetPaginator(BasePaginator):  # type: ignore[misc]
    """``afterCallId`` moves to the last callId of each page; a short page ends."""

    def __init__(self, per_page: int) -> None:
        """Page size: a page with fewer calls is the last."""
        super().__init__()
        self.per_page = per_page
        self.after: str | None = None

    def update_state(self, response: Response, data: list[t.Any] | None = None) -> None:  # noqa: ARG002
        """Stop on a short page; otherwise remember the page's last callId."""
        if not data or len(data) < self.per_page:
            self._has_next_page = False
        else:
            self.after = data[-1]["callId"]

    def update_request(self, request: Request) -> None:
        """The next page: after the last callId received."""
        request.params["afterCallId"] = self.after


def calls_resource(url: str, token: str, per_page: int) -> t.Any:  # noqa: ANN401
    """The ``calls`` resource: keyset pages, incremental on callId, merged on it."""
    client = RESTClient(base_url=url, auth=BearerTokenAuth(token))

    @dlt.resource(name="calls", primary_key="callId", write_disposition="merge")
    def calls(
        after: dlt.sources.incremental[int] = dlt.sources.incremental(  # noqa: B008
            "callId", initial_value=0
        ),
    ) -> Iterator[list[dict[str, t.Any]]]:
        params = {
            "format": "json",
            "consecutive": "true",
            "afterCallId": after.last_value,
            "page": 1,
            "per_page": per_page,
        }
        pages = client.paginate(
            "/sa/call", params=params, paginator=KeysetPaginator(per_page)
        )
        for page in pages:
            for call in page:  # numeric text in the API's model
                call["callId"] = int(call["callId"])
            yield page

    return calls


def destination(kind: str, credentials: str) -> t.Any:  # noqa: ANN401
    """dlt's postgres or duckdb destination."""
    if kind == "postgres":
        return dlt.destinations.postgres(credentials=credentials)
    return dlt.destinations.duckdb(credentials=credentials)


def main(argv: Sequence[str] | None = None) -> int:
    """Extract, normalize and load; write the phase times; 0 on success."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", required=True)
    parser.add_argument("--token", required=True)
    parser.add_argument("--per-page", type=int, default=1000)
    parser.add_argument("--destination", choices=("postgres", "duckdb"), required=True)
    parser.add_argument("--credentials", required=True, help="URL or DuckDB file")
    parser.add_argument("--dataset", required=True, help="schema name")
    parser.add_argument("--pipelines-dir", required=True)
    parser.add_argument("--stamps", required=True, help="JSON file of phase times")
    args = parser.parse_args(argv)
    pipeline = dlt.pipeline(
        pipeline_name="voicegain_benchmark",
        destination=destination(args.destination, args.credentials),
        dataset_name=args.dataset,
        pipelines_dir=args.pipelines_dir,
    )
    pipeline.extract(calls_resource(args.url, args.token, args.per_page))
    extracted = time.time()
    info = pipeline.normalize()
    normalized = time.time()
    pipeline.load()
    loaded = time.time()
    rows = info.row_counts.get("calls", 0) if info is not None else 0
    print(f"dlt exported {rows} calls", file=sys.stderr)
    stamps = {
        "started": STARTED,
        "imported": IMPORTED,
        "extracted": extracted,
        "normalized": normalized,
        "loaded": loaded,
    }
    with open(args.stamps, "w", encoding="utf-8") as out:  # noqa: PTH123
        json.dump(stamps, out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
