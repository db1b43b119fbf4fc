# Copyright 2026 tap-voicegain contributors
# SPDX-License-Identifier: Apache-2.0
"""What the call_segments stream costs: bytes per page, the tap's time.

    .venv/bin/python benchmarks/segments.py [--calls 20000] [--repeat 3]

The simulator (its own process, pages pre-rendered, ``--segments``: 1 to 4
segments a call) serves the same calls to three runs of the tap, interleaved:
``calls`` alone, ``call_segments`` alone (the list asked with
``inclSegments=true``) and both. Printed: the size of one 1,000-call JSON page
without and with segments, and each run's median wall and CPU time, records and
requests. Not a test: it never fails on a time.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

import requests

from voicegain_sim.launch import launched

HERE = Path(__file__).resolve().parent
TOKEN = "benchmark-token"  # noqa: S105 - the simulator's token, not a secret
RUNS = {
    "calls": ["calls"],
    "call_segments": ["call_segments"],
    "both": ["calls", "call_segments"],
}


def catalog(tap: Path, config: Path, streams: list[str], out: Path) -> Path:
    """The discovered catalog with only ``streams`` selected."""
    found = subprocess.run(
        [str(tap), "--config", str(config), "--discover"],
        capture_output=True,
        check=True,
    )
    doc = json.loads(found.stdout)
    for entry in doc["streams"]:
        for meta in entry["metadata"]:
            if meta["breadcrumb"] == []:
                meta["metadata"]["selected"] = entry["tap_stream_id"] in streams
    out.write_text(json.dumps(doc))
    return out


def run_once(tap: Path, config: Path, cat: Path, work: Path) -> dict[str, float]:
    """One tap run, output counted; wall/CPU from benchmarks/measure.py."""
    out = work / "out.jsonl"
    measure = [sys.executable, str(HERE / "measure.py"), "--stdout", str(out), "--"]
    measured = subprocess.run(
        [*measure, str(tap), "--config", str(config), "--catalog", str(cat)],
        capture_output=True,
        check=True,
        text=True,
    )
    result = json.loads(measured.stdout)
    records = sum(1 for line in out.open() if line.startswith('{"type":"RECORD"'))
    if result["returncode"] != 0:
        msg = f"the tap failed (exit {result['returncode']})"
        raise SystemExit(msg)
    return {"wall_s": result["wall_s"], "cpu_s": result["cpu_s"], "records": records}


def main() -> int:
    """Time the three runs; print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=20_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    tap = Path(sys.executable).with_name("tap-voicegain")
    sim_args = ["--calls", str(args.calls), "--token", TOKEN, "--segments"]
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        sim_log = work / "sim.log"
        with launched([*sim_args, "--prerender"], log=sim_log, timeout=900) as sim:
            return report(args, tap, work, sim.url)


def report(args: argparse.Namespace, tap: Path, work: Path, url: str) -> int:
    """Page sizes, then the interleaved runs; print the table."""
    config = work / "config.json"
    config.write_text(json.dumps({"jwt_token": TOKEN, "api_url": url}))
    headers = {"Authorization": f"Bearer {TOKEN}"}
    sizes = {}
    for label, extra in (("without", {}), ("with", {"inclSegments": "true"})):
        params = {"consecutive": "true", "per_page": 1000, "format": "json"}
        page = requests.get(
            f"{url}/sa/call", params={**params, **extra}, headers=headers, timeout=60
        )
        page.raise_for_status()
        sizes[label] = len(page.content)
    cats = {
        name: catalog(tap, config, streams, work / f"{name}.json")
        for name, streams in RUNS.items()
    }
    for cat in cats.values():  # untimed: every page rendered and cached once
        run_once(tap, config, cat, work)
    times: dict[str, list[dict[str, float]]] = {name: [] for name in RUNS}
    for _ in range(args.repeat):
        for name, cat in cats.items():
            times[name].append(run_once(tap, config, cat, work))
    print(f"{args.calls:,} calls, median of {args.repeat} interleaved runs")
    without, with_ = sizes["without"], sizes["with"]
    print(
        f"1,000-call JSON page: {without / 1024:,.0f} KiB without segments, "
        f"{with_ / 1024:,.0f} KiB with ({with_ / without:.2f}x)"
    )
    print("| run | wall s | CPU s | records | CPU / calls alone |")
    print("|---|---|---|---|---|")
    base = statistics.median(r["cpu_s"] for r in times["calls"])
    for name, rows in times.items():
        wall = statistics.median(r["wall_s"] for r in rows)
        cpu = statistics.median(r["cpu_s"] for r in rows)
        records = rows[0]["records"]
        print(f"| {name} | {wall:.2f} | {cpu:.2f} | {records:,} | {cpu / base:.2f}x |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
