"""Stream a fake camera clip through the real /live page and measure it.

    .venv/bin/python benchmarks/live_stream.py [--duration 120] [--no-netns]

Starts `streamlit run app.py` on a free loopback port, drives Debian's Chromium with Playwright
(a Y4M clip of one face moving across a 640x480 frame at 15 fps is the fake webcam), presses START,
streams for --duration seconds, presses STOP, and prints:

* processed frames per second (the page's figure, and frames counted over the whole run),
* START click -> first processed frame shown on the page (the page refreshes once a second, so
  this is up to 1 s late) and the server's own connect -> first processed frame,
* the app server's CPU time per processed frame: the CPU time of the whole server process (all
  its threads: WebRTC, Streamlit, the frame processor) while streaming, over the frames processed
  meanwhile; and where it goes: the /live frame processor replayed here, in this process, on the
  same clip at 15 fps (detector, classifier, the rest: tracking, drawing, conversions), the
  difference being WebRTC (VP8 decoding and encoding) and Streamlit,
* the app server's resident memory (RSS) after the run.

Everything stays on 127.0.0.1: no STUN/TURN (MASK_DETECTOR_TEST_LOOPBACK_ICE=1), and by default
the whole run is re-executed inside `unshare -n` (a network namespace holding only `lo`) when
that is permitted. The server, browser and page helpers are in benchmarks/harness.py.
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
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.harness import (
    CHROMIUM,
    CLIP_FPS,
    ENV_IN_NETNS,
    STOPPED_RE,
    app_server,
    browser_page,
    click,
    clip_frames,
    netns_available,
    netns_command,
    open_live_page,
    read_live_text,
    wait_for_first_frame,
    write_y4m,
)


@dataclass
class Result:
    duration_s: float
    clip_fps: int
    frames: int
    dropped: int
    fps_overall: float
    fps_page_median: float
    start_to_first_frame_s: float
    server_connect_to_first_frame_s: float | None
    #: Server process CPU time per processed frame while streaming, in ms.
    server_cpu_ms_per_frame: float
    #: Of which the frame processor (in-process replay): total, detector, classifier, the rest.
    processor_cpu_ms: dict[str, float]
    server_rss_before_mib: float
    server_rss_mib: float
    #: Server RSS once a second while streaming (flat = no leak per frame).
    server_rss_trace: list[float]
    faces_seen: bool
    in_netns: bool
    samples: list[dict[str, Any]] = field(default_factory=list)


def run(duration: float, workdir: Path) -> Result:
    clip = write_y4m(workdir / "face.y4m", clip_frames())
    with app_server(workdir) as server, browser_page(clip, workdir) as page:
        open_live_page(page, server)
        rss_before = server.rss_mib()  # models loaded, page shown, nothing streamed yet
        click(page, "START")
        t0 = time.monotonic()
        first = wait_for_first_frame(page)
        samples = [first]
        rss_trace = [round(server.rss_mib(), 1)]
        start_frames = first.frames or 0
        cpu_start = server.cpu_seconds()
        t_first = time.monotonic()
        while time.monotonic() - t_first < duration:
            page.wait_for_timeout(1000)
            samples.append(read_live_text(page, (time.monotonic() - t0) * 1000))
            rss_trace.append(round(server.rss_mib(), 1))
        last = samples[-1]
        cpu = server.cpu_seconds() - cpu_start
        elapsed = time.monotonic() - t_first
        click(page, "STOP")
        page.get_by_text(STOPPED_RE).wait_for(timeout=30_000)
        rss = server.rss_mib()
    frames = last.frames or 0
    fps_values = sorted(s.fps for s in samples if s.fps)
    return Result(
        duration_s=round(elapsed, 1),
        clip_fps=CLIP_FPS,
        frames=frames,
        dropped=last.dropped or 0,
        # Both ends are page readings, equally stale (the page refreshes once a second).
        fps_overall=round((frames - start_frames) / ((last.at_ms - first.at_ms) / 1000), 2),
        fps_page_median=fps_values[len(fps_values) // 2] if fps_values else 0.0,
        start_to_first_frame_s=round(first.at_ms / 1000, 2),
        # CPU over the frames counted between the same two page readings.
        server_cpu_ms_per_frame=round(cpu * 1000 / max(1, frames - start_frames), 1),
        processor_cpu_ms=processor_cpu(),
        server_connect_to_first_frame_s=first.first_s,
        server_rss_before_mib=round(rss_before, 1),
        server_rss_mib=round(rss, 1),
        server_rss_trace=rss_trace,
        faces_seen=any(s.with_mask + s.without_mask for s in samples),
        in_netns=bool(os.environ.get(ENV_IN_NETNS)),
        samples=[asdict(s) for s in samples],
    )


def processor_cpu(seconds: float = 20.0) -> dict[str, float]:
    """CPU ms per frame of the /live frame processor, replayed in this process on the clip's
    frames at CLIP_FPS with the live page's default settings: total, detector, classifier, the
    rest."""
    import av

    from mask_detector.app.live import LiveProcessor
    from mask_detector.app.state import defaults
    from mask_detector.pipeline import MaskDetector

    settings = defaults("live")  # what /live starts from (photos default to another detector)
    pipeline = MaskDetector.load(
        detector_name=settings.detector_name,
        min_confidence=settings.min_confidence,
        min_face=settings.min_face,
        small_faces=settings.small_faces,
    )
    spent = {"detector": 0.0, "classifier": 0.0}
    detect, classify = pipeline.detector.detect, pipeline.classifier.classify

    def timed(part: str, call: Any) -> Any:
        def run(*args: Any) -> Any:
            start = time.process_time()
            try:
                return call(*args)
            finally:
                spent[part] += time.process_time() - start

        return run

    pipeline.detector.detect = timed("detector", detect)  # type: ignore[method-assign]
    pipeline.classifier.classify = timed("classifier", classify)  # type: ignore[method-assign]
    # What aiortc hands the processor: decoded I420 frames.
    frames = [
        av.VideoFrame.from_ndarray(f, format="bgr24").reformat(format="yuv420p")
        for f in clip_frames(seconds)
    ]
    processor = LiveProcessor(pipeline)
    start = time.process_time()
    for frame in frames:
        began = time.perf_counter()
        processor.recv(frame)
        time.sleep(max(0.0, 1 / CLIP_FPS - (time.perf_counter() - began)))
    total = time.process_time() - start
    per_frame = {"total": total, **spent, "rest": total - sum(spent.values())}
    return {k: round(v * 1000 / len(frames), 1) for k, v in per_frame.items()}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=float, default=120.0, help="seconds of streaming")
    parser.add_argument("--no-netns", action="store_true", help="do not use unshare -n")
    parser.add_argument("--json", action="store_true", help="print the result as JSON")
    args = parser.parse_args(argv)
    if not CHROMIUM.exists():
        print(f"{CHROMIUM} not found: apt-get install -y chromium", file=sys.stderr)
        return 2
    if not args.no_netns and netns_available():
        cmd = netns_command(
            [sys.executable, str(Path(__file__).resolve()), *(argv or sys.argv[1:])]
        )
        return subprocess.run(cmd, env={**os.environ, ENV_IN_NETNS: "1"}).returncode
    with tempfile.TemporaryDirectory(prefix="live-bench-") as tmp:
        result = run(args.duration, Path(tmp))
    if args.json:
        print(json.dumps(asdict(result), indent=1))
        return 0
    print(f"streamed {result.duration_s} s of a {result.clip_fps} fps clip (one face)")
    print(f"in a loopback-only network namespace: {result.in_netns}")
    print(f"processed frames: {result.frames} ({result.dropped} dropped)")
    print(f"processed FPS: {result.fps_overall} overall, {result.fps_page_median} page median")
    print(f"START -> first processed frame on the page: {result.start_to_first_frame_s} s")
    print(f"server connect -> first processed frame: {result.server_connect_to_first_frame_s} s")
    print(f"faces reported: {result.faces_seen}")
    print(f"app server CPU per processed frame: {result.server_cpu_ms_per_frame} ms")
    parts = result.processor_cpu_ms
    print(
        f"  of which the frame processor (replayed in-process): {parts['total']} ms "
        f"(detector {parts['detector']}, classifier {parts['classifier']}, tracking, drawing "
        f"and conversions {parts['rest']}); WebRTC and Streamlit: the remaining "
        f"{result.server_cpu_ms_per_frame - parts['total']:.1f} ms"
    )
    print(
        f"app server RSS: {result.server_rss_before_mib} MiB before START, "
        f"{result.server_rss_mib} MiB after the run"
    )
    trace = result.server_rss_trace
    quarters = [trace[min(len(trace) - 1, len(trace) * q // 4)] for q in range(5)]
    print(f"app server RSS while streaming (0, 25, 50, 75, 100 %): {quarters} MiB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
