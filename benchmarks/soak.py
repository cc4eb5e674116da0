"""Soak test of the /live page: long sessions (memory) and several sessions at once (frame rates).

    .venv/bin/python benchmarks/soak.py                               # 1 session, 10 minutes
    .venv/bin/python benchmarks/soak.py --sessions 3 --duration 60    # 3 sessions at once

Starts one `streamlit run app.py` on a free loopback port and one headless Chromium (Debian's,
driven by Playwright) with a fake camera playing a clip of a face; each session is its own browser
context, i.e. its own Streamlit session and WebRTC connection. Every session presses START and
streams for --duration seconds while the server's resident memory (RSS, from /proc) is sampled
every --interval seconds. Prints:

* the server RSS after warm-up (--warmup s, default 60; at most a third of the run), at the end,
  the growth between the two and the maximum, and PASS/FAIL against growth <= --max-growth MiB;
* processed frames per second per session (frame counters on the pages over the run);
* exceptions / error boxes on the pages and tracebacks in the server log;
* with several sessions, whether STOP on session 1 leaves the others streaming;
* the 1-minute load average seen during the run (other work on the machine slows the figures).

Everything stays on 127.0.0.1 (loopback ICE, no STUN/TURN), inside `unshare -n` where permitted,
exactly as benchmarks/live_stream.py (both use benchmarks/harness.py). Not a CI test:
tests/test_live_many.py is the short version.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks import harness


def load_average() -> float:
    """The 1-minute load average (Linux /proc/loadavg)."""
    return float(Path("/proc/loadavg").read_text().split()[0])


@dataclass
class Sample:
    t_s: float  # seconds since every session showed its first processed frame
    rss_mib: float
    load1: float
    frames: list[int | None]


@dataclass
class SessionResult:
    frames_first: int
    frames_last: int
    fps: float
    dropped: int
    faces_seen: bool
    problems: list[str]


@dataclass
class SoakResult:
    sessions: int
    duration_s: float
    warmup_s: float
    in_netns: bool
    rss_before_start_mib: float
    rss_after_warmup_mib: float
    rss_final_mib: float
    rss_growth_mib: float
    rss_max_mib: float
    max_growth_mib: float
    fps_overall: float
    per_session: list[SessionResult]
    server_tracebacks: int
    load1_min: float
    load1_mean: float
    load1_max: float
    #: Sessions > 1: frame counters of sessions 2.. grew after STOP on session 1, its own did not.
    stop_one_others_continue: bool | None
    passed: bool
    samples: list[Sample] = field(default_factory=list)


def soak(
    sessions: int,
    duration: float,
    interval: float,
    warmup: float,
    max_growth: float,
    workdir: Path,
) -> SoakResult:
    clip = harness.write_y4m(workdir / "face.y4m", harness.clip_frames())
    with harness.app_server(workdir) as server, harness.browser_pages(clip, sessions) as pages:
        for page in pages:
            harness.open_live_page(page, server)
        rss_before = server.rss_mib()
        for page in pages:
            harness.click(page, "START")
        firsts = [harness.wait_for_first_frame(page, timeout_ms=90_000) for page in pages]
        t0 = time.monotonic()
        reads: list[list[harness.LiveText]] = [[f] for f in firsts]
        samples: list[Sample] = []

        def sample() -> None:
            now = time.monotonic() - t0
            texts = [harness.read_live_text(page, now * 1000) for page in pages]
            for got, text in zip(reads, texts, strict=True):
                got.append(text)
            samples.append(
                Sample(round(now, 1), round(server.rss_mib(), 1), load_average(),
                       [t.frames for t in texts])
            )  # fmt: skip
            print(
                f"  {now:6.0f} s  RSS {samples[-1].rss_mib:7.1f} MiB  load {samples[-1].load1:5.2f}"
                f"  frames {samples[-1].frames}",
                flush=True,
            )

        sample()
        while time.monotonic() - t0 < duration:
            pages[0].wait_for_timeout(min(interval, duration - (time.monotonic() - t0)) * 1000)
            sample()
        problems = [harness.page_problems(page) for page in pages]

        stop_ok: bool | None = None
        if sessions > 1:
            harness.click(pages[0], "STOP")
            pages[0].get_by_text(harness.STOPPED_RE).wait_for(timeout=30_000)
            pages[0].wait_for_timeout(1500)
            before = [harness.read_live_text(page) for page in pages]
            pages[0].wait_for_timeout(5000)
            after = [harness.read_live_text(page) for page in pages]
            stop_ok = after[0].stopped_frames == before[0].stopped_frames is not None and all(
                (a.frames or 0) > (b.frames or 0)
                for a, b in zip(after[1:], before[1:], strict=True)
            )
        for page in pages[1 if sessions > 1 else 0 :]:
            harness.click(page, "STOP")
        for page in pages:
            page.get_by_text(harness.STOPPED_RE).wait_for(timeout=30_000)
        log = server.log.read_text(errors="replace")

    per_session = []
    for got, probs in zip(reads, problems, strict=True):
        first, last = got[0], got[-1]
        span = (last.at_ms - first.at_ms) / 1000
        n = (last.frames or 0) - (first.frames or 0)
        per_session.append(
            SessionResult(
                frames_first=first.frames or 0,
                frames_last=last.frames or 0,
                fps=round(n / span, 2) if span > 0 else 0.0,
                dropped=last.dropped or 0,
                faces_seen=any(t.with_mask + t.without_mask for t in got),
                problems=probs,
            )
        )
    warm = next((s for s in samples if s.t_s >= warmup), samples[-1])
    growth = round(samples[-1].rss_mib - warm.rss_mib, 1)
    loads = [s.load1 for s in samples]
    tracebacks = log.count("Traceback")
    passed = (
        growth <= max_growth
        and tracebacks == 0
        and not any(s.problems for s in per_session)
        and all(s.frames_last > s.frames_first for s in per_session)
        and stop_ok is not False
    )
    return SoakResult(
        sessions=sessions,
        duration_s=samples[-1].t_s,
        warmup_s=warm.t_s,
        in_netns=bool(os.environ.get(harness.ENV_IN_NETNS)),
        rss_before_start_mib=round(rss_before, 1),
        rss_after_warmup_mib=warm.rss_mib,
        rss_final_mib=samples[-1].rss_mib,
        rss_growth_mib=growth,
        rss_max_mib=max(s.rss_mib for s in samples),
        max_growth_mib=max_growth,
        fps_overall=round(sum(s.fps for s in per_session), 2),
        per_session=per_session,
        server_tracebacks=tracebacks,
        load1_min=min(loads),
        load1_mean=round(sum(loads) / len(loads), 2),
        load1_max=max(loads),
        stop_one_others_continue=stop_ok,
        passed=passed,
        samples=samples,
    )


def report(r: SoakResult) -> None:
    print(f"{r.sessions} session(s) streamed {r.duration_s} s; loopback-only netns: {r.in_netns}")
    print(f"server RSS before START: {r.rss_before_start_mib} MiB")
    print(f"server RSS after warm-up ({r.warmup_s} s): {r.rss_after_warmup_mib} MiB")
    print(f"server RSS final: {r.rss_final_mib} MiB; max: {r.rss_max_mib} MiB")
    print(f"RSS growth after warm-up: {r.rss_growth_mib:+} MiB (limit {r.max_growth_mib} MiB)")
    for i, s in enumerate(r.per_session, 1):
        print(
            f"session {i}: {s.fps} processed FPS ({s.frames_last - s.frames_first} frames, "
            f"{s.dropped} dropped in total), faces seen: {s.faces_seen}, "
            f"page problems: {s.problems or 'none'}"
        )
    print(f"processed FPS, all sessions together: {r.fps_overall}")
    if r.stop_one_others_continue is not None:
        print(f"STOP on session 1, the others kept streaming: {r.stop_one_others_continue}")
    print(f"tracebacks in the server log: {r.server_tracebacks}")
    print(f"load average (1 min) during the run: {r.load1_min}-{r.load1_max}, mean {r.load1_mean}")
    print("PASS" if r.passed else "FAIL")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sessions", type=int, default=1, help="browser sessions at once")
    parser.add_argument("--duration", type=float, default=600.0, help="seconds of streaming")
    parser.add_argument("--interval", type=float, default=10.0, help="seconds between samples")
    parser.add_argument("--warmup", type=float, default=60.0, help="seconds before the baseline")
    parser.add_argument("--max-growth", type=float, default=50.0, help="MiB allowed after warm-up")
    parser.add_argument("--no-netns", action="store_true", help="do not use unshare -n")
    parser.add_argument("--json", type=Path, help="also write the result here as JSON")
    args = parser.parse_args(argv)
    if not harness.CHROMIUM.exists():
        print(f"{harness.CHROMIUM} not found: apt-get install -y chromium", file=sys.stderr)
        return 2
    if not args.no_netns and harness.netns_available():
        cmd = harness.netns_command(
            [sys.executable, str(Path(__file__).resolve()), *(argv or sys.argv[1:])]
        )
        return subprocess.run(cmd, env={**os.environ, harness.ENV_IN_NETNS: "1"}).returncode
    warmup = min(args.warmup, args.duration / 3)
    with tempfile.TemporaryDirectory(prefix="soak-") as tmp:
        result = soak(
            args.sessions, args.duration, args.interval, warmup, args.max_growth, Path(tmp)
        )
    report(result)
    if args.json:
        args.json.write_text(json.dumps(asdict(result), indent=1))
    return 0 if result.passed else 1


if __name__ == "__main__":
    sys.exit(main())
