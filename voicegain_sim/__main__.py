"""Command line: serve a simulated Voicegain API until SIGTERM/SIGINT.

Example:
    python -m voicegain_sim --calls 3000 --port 8765 --token demo-token \
        --rate-limit 75/60 --rate-limit 2000/3600 --transcripts-pending 0.05
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading
import time
import typing as t

from voicegain_sim.data import make_calls
from voicegain_sim.faults import HEADER_STYLES
from voicegain_sim.ratelimit import parse_limit
from voicegain_sim.readings import (
    AFTER_CALL_ID_READINGS,
    BILLING_READINGS,
    EMPTY_ANSWERS,
)
from voicegain_sim.server import VoicegainSimulator

if t.TYPE_CHECKING:
    from collections.abc import Sequence
    from types import FrameType


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m voicegain_sim",
        description="Serve a simulated Voicegain API (calls, transcripts) on loopback.",
    )
    parser.add_argument("--calls", type=int, default=3000, help="calls to generate")
    parser.add_argument("--port", type=int, default=8765, help="port (0 = any)")
    parser.add_argument("--host", default="127.0.0.1", help="interface to bind")
    parser.add_argument("--token", default="demo-token", help="bearer token")
    parser.add_argument("--seed", type=int, default=0, help="generator seed")
    parser.add_argument("--csv-timezone", default="UTC", help="IANA zone for CSV")
    parser.add_argument(
        "--callid-as",
        choices=("string", "number", "mixed"),
        default="string",
        help="JSON type of callId",
    )
    parser.add_argument("--prerender", action="store_true", help="cache bodies")
    parser.add_argument(
        "--add-every",
        type=float,
        default=None,
        metavar="SECONDS",
        help="append new DONE calls every SECONDS",
    )
    parser.add_argument("--add-count", type=int, default=1, help="calls per addition")
    parser.add_argument(
        "--rate-limit",
        action="append",
        type=_limit,
        default=None,
        metavar="N/SECONDS",
        help="allow N requests per fixed window of SECONDS (repeatable)",
    )
    parser.add_argument(
        "--max-in-flight",
        type=int,
        default=None,
        metavar="N",
        help="answer 429 (concurrency) beyond N requests at once",
    )
    parser.add_argument(
        "--ratelimit-headers",
        choices=sorted(HEADER_STYLES),
        default="standard",
        help="rate-limit headers as the API sends them, left out, or garbled",
    )
    parser.add_argument(
        "--transcripts-pending",
        type=float,
        default=0.0,
        metavar="FRACTION",
        help="share of transcripts still in progress (400)",
    )
    parser.add_argument(
        "--transcripts-missing",
        type=float,
        default=0.0,
        metavar="FRACTION",
        help="share of transcripts deleted (404)",
    )
    parser.add_argument(
        "--after-call-id",
        choices=sorted(AFTER_CALL_ID_READINGS),
        default="honoured",
        help="afterCallId without consecutive=true: applied, or ignored",
    )
    parser.add_argument(
        "--per-page-cap",
        type=int,
        default=None,
        metavar="N",
        help="never send more than N calls a page, whatever per_page asks",
    )
    parser.add_argument(
        "--empty-answer",
        choices=sorted(EMPTY_ANSWERS),
        default="array",
        help="how a page without calls is answered",
    )
    parser.add_argument(
        "--refuse-reversed-times",
        action="store_true",
        help="answer 400 when fromTime is after toTime",
    )
    parser.add_argument(
        "--segments",
        action="store_true",
        help="answer inclSegments=true with each call's segments",
    )
    parser.add_argument(
        "--full-model",
        action="store_true",
        help="calls carry every field of the vendor's VoiceCall model",
    )
    parser.add_argument(
        "--billing-reading",
        choices=sorted(BILLING_READINGS),
        default="stored",
        help="billing in every answer, or only on /sa/call/{id}?inclBilling=true",
    )
    parser.add_argument(
        "--extra-filters",
        action="store_true",
        help="apply direction, internalEndpoint, userGroupIds, voicemail, "
        "recomputePhase and period",
    )
    parser.add_argument(
        "--latency-ms",
        type=float,
        default=0.0,
        help="wait this long before answering each /sa/call request",
    )
    return parser


def _limit(text: str) -> tuple[int, float]:
    try:
        return parse_limit(text)
    except ValueError:
        msg = f"expected N/SECONDS with N >= 1 and SECONDS > 0, got {text!r}"
        raise argparse.ArgumentTypeError(msg) from None


def main(argv: Sequence[str] | None = None) -> int:
    """Run the simulator until SIGTERM/SIGINT; return the exit status."""
    parser = _parser()
    args = parser.parse_args(argv)
    done = threading.Event()

    def _stop(signum: int, frame: FrameType | None) -> None:  # noqa: ARG001
        done.set()

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    try:
        sim = _simulator(args)
    except ValueError as exc:  # e.g. transcript fractions adding up to over 1
        parser.error(str(exc))
    if args.latency_ms > 0:
        latency = args.latency_ms / 1000

        def _wait(index: int, params: dict[str, list[str]]) -> None:  # noqa: ARG001
            time.sleep(latency)

        sim.on_request = _wait
    with sim:
        sys.stdout.write(f"Voicegain simulator on {sim.url} ({len(sim.calls)} calls)\n")
        sys.stdout.flush()
        while not done.wait(args.add_every):
            if args.add_every is not None:
                sim.add_generated(args.add_count)
    return 0


def _simulator(args: argparse.Namespace) -> VoicegainSimulator:
    return VoicegainSimulator(
        make_calls(args.calls, seed=args.seed, full_model=args.full_model),
        token=args.token,
        csv_timezone=args.csv_timezone,
        callid_as=args.callid_as,
        prerender=args.prerender,
        rate_limits=args.rate_limit,
        max_in_flight=args.max_in_flight,
        ratelimit_headers=args.ratelimit_headers,
        transcripts_pending_fraction=args.transcripts_pending,
        transcripts_missing_fraction=args.transcripts_missing,
        after_call_id_reading=args.after_call_id,
        per_page_cap=args.per_page_cap,
        empty_answer=args.empty_answer,
        refuse_reversed_times=args.refuse_reversed_times,
        segments=args.segments,
        full_model=args.full_model,
        billing_reading=args.billing_reading,
        extra_filters=args.extra_filters,
        host=args.host,
        port=args.port,
    )


if __name__ == "__main__":
    sys.exit(main())
