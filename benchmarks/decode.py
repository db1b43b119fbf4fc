"""What a JSON page costs to decode, with fields the tap knows and with new ones.

    .venv/bin/python benchmarks/decode.py [--calls 1000] [--repeat 15]

Pages of simulator calls are decoded by the tap's reader into records; the same
page is timed as the API sends it today, with one and with five fields the field
table does not know added to every call (a new API release: a number; then an
integer, text, an object and a list too), and with one value per call that
misfits its column (the per-value route). Beside each, ``msgspec.json.decode``
of the same bytes into plain Python objects: what the bigger page costs any
decoder. Rounds are interleaved; the median per page and the ratios to the
plain page are printed. Not a test: it never fails on a time.
"""

from __future__ import annotations

import argparse
import statistics
import time

import msgspec

from tap_voicegain.records.reader import CallReader
from voicegain_sim import make_calls

NEW_FIELDS = {
    "routingScore": 0.42,
    "escalationLevel": 2,
    "channelName": "voice",
    "surveyAnswers": {"q1": "yes", "q2": 5},
    "flags": ["vip", "callback"],
}


def pages(count: int) -> dict[str, bytes]:
    calls = make_calls(count, seed=5)
    one_new = [{**call, "routingScore": 0.42} for call in calls]
    with_new = [{**call, **NEW_FIELDS} for call in calls]
    misfit = [{**call, "duration": "about 9 minutes"} for call in calls]
    return {
        "known fields": msgspec.json.encode(calls),
        "1 new field": msgspec.json.encode(one_new),
        "5 new fields": msgspec.json.encode(with_new),
        "a misfit per call": msgspec.json.encode(misfit),
    }


def time_page(body: bytes, reader: CallReader) -> tuple[float, float]:
    started = time.perf_counter()
    reader.page(body, "json")
    middle = time.perf_counter()
    msgspec.json.decode(body)
    return middle - started, time.perf_counter() - middle


def main() -> None:
    """Time each kind of page, interleaved; print medians and ratios."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=15)
    args = parser.parse_args()
    bodies = pages(args.calls)
    # One reader per kind, as a run has one: what it learns stays learned.
    readers = {name: CallReader(strict_values=False) for name in bodies}
    for name, body in bodies.items():  # warm: the first page learns new fields
        readers[name].page(body, "json")
    times: dict[str, list[float]] = {name: [] for name in bodies}
    plain: dict[str, list[float]] = {name: [] for name in bodies}
    for _ in range(args.repeat):
        for name, body in bodies.items():
            tap, alone = time_page(body, readers[name])
            times[name].append(tap)
            plain[name].append(alone)
    base = statistics.median(times["known fields"])
    plain_base = statistics.median(plain["known fields"])
    print(f"{args.calls}-call JSON page, median of {args.repeat} interleaved rounds")
    print(f"  {'page':<20} {'tap reader':>24} {'x':>6} {'msgspec alone':>14} {'x':>6}")
    for name, values in times.items():
        median = statistics.median(values)
        spread = f"({min(values) * 1000:.1f}..{max(values) * 1000:.1f})"
        alone = statistics.median(plain[name])
        print(
            f"  {name:<20} {median * 1000:7.1f} ms {spread:>14} {median / base:5.2f}x"
            f" {alone * 1000:11.1f} ms {alone / plain_base:5.2f}x"
        )


if __name__ == "__main__":
    main()
