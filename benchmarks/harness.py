"""A real app server and a real browser on loopback, for the /live benchmarks and browser tests.

`benchmarks/live_stream.py`, `benchmarks/soak.py`, `tests/test_live_browser.py` and
`tests/test_live_many.py` drive the /live page with these pieces:

* the fake camera: a Y4M clip of one face moving across a 640x480 frame (`write_y4m`);
* `app_server`: `streamlit run app.py` on a free 127.0.0.1 port with loopback-only ICE
  (MASK_DETECTOR_TEST_LOOPBACK_ICE=1, no STUN/TURN);
* `browser_page` / `browser_pages`: Debian's Chromium driven by Playwright, the clip as webcam;
* reading the page: the live status line and caption (`read_live_text`), START / STOP;
* `unshare -n`: a network namespace holding only `lo`, so nothing can leave the machine.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from mask_detector.benchmark import astronaut

REPO = Path(__file__).resolve().parent.parent
CHROMIUM = Path("/usr/bin/chromium")
#: Set inside the network namespace, so the re-executed process does not unshare again.
ENV_IN_NETNS = "MASK_DETECTOR_IN_NETNS"
COMPONENT_IFRAME = 'iframe[title="streamlit_webrtc.component.webrtc_streamer"]'
STATUS_RE = re.compile(r"([\d.]+) FPS · (\d+) with mask · (\d+) without mask")
FRAMES_RE = re.compile(r"(\d+) frames processed · (\d+) dropped")
FIRST_RE = re.compile(r"first one ([\d.]+) s after connecting")
STOPPED_RE = re.compile(r"Stopped · (\d+) frames processed")
IDLE_TEXT = "Not streaming · press START"

CLIP_SIZE = (640, 480)
CLIP_FPS = 15


# --- the fake camera -----------------------------------------------------------------------------


def face_image() -> np.ndarray:
    """A real face (scikit-image's astronaut, head and shoulders), BGR, about 200 px wide."""
    crop = astronaut()[20:260, 120:330]  # the face box is (177, 66, 95, 95): keep hair and chin
    return cv2.resize(crop, None, fx=0.9, fy=0.9, interpolation=cv2.INTER_AREA)


def clip_frames(seconds: float = 4.0, fps: int = CLIP_FPS) -> Iterator[np.ndarray]:
    """BGR frames of the face sliding from left to right over a plain background."""
    width, height = CLIP_SIZE
    face = face_image()
    fh, fw = face.shape[:2]
    n = max(2, round(seconds * fps))
    y = (height - fh) // 2
    for i in range(n):
        frame = np.full((height, width, 3), 128, np.uint8)
        x = round(10 + (width - fw - 20) * i / (n - 1))
        frame[y : y + fh, x : x + fw] = face
        yield frame


def write_y4m(path: Path, frames: Iterator[np.ndarray], fps: int = CLIP_FPS) -> Path:
    """A raw YUV4MPEG2 (I420) clip: what Chromium's --use-file-for-fake-video-capture reads."""
    width, height = CLIP_SIZE
    with open(path, "wb") as f:
        f.write(f"YUV4MPEG2 W{width} H{height} F{fps}:1 Ip A1:1 C420jpeg\n".encode())
        for frame in frames:
            f.write(b"FRAME\n")
            f.write(cv2.cvtColor(frame, cv2.COLOR_BGR2YUV_I420).tobytes())
    return path


# --- the app server ------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Server:
    process: subprocess.Popen[bytes]
    port: int
    log: Path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def rss_mib(self) -> float:
        """Resident memory of the server process, from /proc (Linux)."""
        status = Path(f"/proc/{self.process.pid}/status").read_text()
        kib = int(re.search(r"VmRSS:\s+(\d+) kB", status).group(1))  # type: ignore[union-attr]
        return kib / 1024

    def log_tail(self, chars: int = 4000) -> str:
        return self.log.read_text(errors="replace")[-chars:] if self.log.exists() else ""

    def cpu_seconds(self) -> float:
        """CPU time the server process has used so far, all its threads, user + system (Linux:
        /proc/PID/stat fields 14 and 15, in clock ticks)."""
        fields = Path(f"/proc/{self.process.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


#: The app's ICE settings in the benchmarks and tests: none at all, WebRTC on 127.0.0.1 only.
LOOPBACK_ICE = {"MASK_DETECTOR_TEST_LOOPBACK_ICE": "1", "MASK_DETECTOR_ICE_SERVERS": "[]"}


def stop(proc: subprocess.Popen) -> None:
    """Ask a server to end; kill it if it has not within 10 s."""
    proc.terminate()
    try:
        proc.wait(10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


@contextlib.contextmanager
def app_server(
    workdir: Path, timeout: float = 90.0, ice: Mapping[str, str] = LOOPBACK_ICE
) -> Iterator[Server]:
    """`streamlit run app.py` on a free 127.0.0.1 port with the ICE settings `ice` (environment
    variables; default: loopback-only, no STUN/TURN); always stopped."""
    port = free_port()
    log = workdir / "streamlit.log"
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("MASK_DETECTOR_ICE")},
        "MASK_DETECTOR_TEST_LOOPBACK_ICE": "",
        **ice,
        "PYTHONUNBUFFERED": "1",
    }
    cmd = [
        sys.executable, "-m", "streamlit", "run", "app.py",
        "--server.headless", "true",
        "--server.port", str(port),
        "--server.address", "127.0.0.1",
        "--server.fileWatcherType", "none",
        "--browser.gatherUsageStats", "false",
    ]  # fmt: skip
    with open(log, "wb") as out:
        proc = subprocess.Popen(cmd, cwd=REPO, env=env, stdout=out, stderr=subprocess.STDOUT)
    server = Server(proc, port, log)
    try:
        deadline = time.monotonic() + timeout
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"streamlit exited ({proc.returncode}):\n{server.log_tail()}")
            try:
                with urllib.request.urlopen(f"{server.url}/_stcore/health", timeout=2) as r:
                    if r.status == 200:
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise TimeoutError(f"streamlit did not start:\n{server.log_tail()}")
            time.sleep(0.3)
        yield server
    finally:
        stop(proc)


# --- a TURN server -------------------------------------------------------------------------------

TURNSERVER = Path("/usr/bin/turnserver")


@dataclass
class TurnServer:
    process: subprocess.Popen[bytes]
    port: int
    log: Path

    def log_text(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""


@contextlib.contextmanager
def turn_server(
    workdir: Path, port: int, username: str, password: str, timeout: float = 20.0
) -> Iterator[TurnServer]:
    """Debian's coturn on 127.0.0.1:`port` (UDP and TCP), long-term credentials
    `username`/`password`, relaying between loopback addresses only; always stopped."""
    log = workdir / "turnserver.log"
    binary = shutil.which("turnserver") or str(TURNSERVER)
    cmd = [
        binary, "-n",  # no configuration file: everything is on this line
        "--listening-ip=127.0.0.1", "--relay-ip=127.0.0.1", f"--listening-port={port}",
        "--lt-cred-mech", f"--user={username}:{password}", "--realm=mask-detector.test",
        "--allow-loopback-peers",  # both ends of the relay are on 127.0.0.1 here
        "--no-tls", "--no-dtls", "--no-cli", "--no-software-attribute", "--fingerprint",
        "--verbose", "--simple-log", f"--log-file={log}",
        f"--pidfile={workdir / 'turnserver.pid'}",
    ]  # fmt: skip
    proc = subprocess.Popen(cmd, cwd=workdir, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    server = TurnServer(proc, port, log)
    try:
        deadline = time.monotonic() + timeout
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"turnserver exited ({proc.returncode}):\n{server.log_text()}")
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 1):
                break
            if time.monotonic() > deadline:
                raise TimeoutError(f"turnserver did not start:\n{server.log_text()}")
            time.sleep(0.2)
        yield server
    finally:
        stop(proc)


def turn_available() -> bool:
    return bool(shutil.which("turnserver")) or TURNSERVER.exists()


# --- the browser ---------------------------------------------------------------------------------


def chromium_args(clip: Path | None) -> list[str]:
    """A fake camera playing `clip` (Chromium's own test pattern when None), auto-granted;
    loopback WebRTC; nothing phoning home."""
    camera = [f"--use-file-for-fake-video-capture={clip}"] if clip else []
    return [
        "--use-fake-ui-for-media-stream",
        "--use-fake-device-for-media-stream",
        *camera,
        "--allow-loopback-in-peer-connection",
        "--disable-features=WebRtcHideLocalIpsWithMdns",
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
    ]


@contextlib.contextmanager
def browser_page(clip: Path | None, workdir: Path) -> Iterator[Any]:
    """A Playwright page in Debian's Chromium with a fresh profile; closed afterwards."""
    from playwright.sync_api import sync_playwright

    profile = Path(tempfile.mkdtemp(prefix="profile-", dir=workdir))
    with sync_playwright() as p:
        context = p.chromium.launch_persistent_context(
            str(profile),
            executable_path=str(CHROMIUM),
            headless=True,
            args=chromium_args(clip),
            viewport={"width": 1280, "height": 1000},
        )
        try:
            page = context.pages[0] if context.pages else context.new_page()
            page.set_default_timeout(60_000)
            yield page
        finally:
            context.close()


@contextlib.contextmanager
def browser_pages(clip: Path, n: int) -> Iterator[list[Any]]:
    """`n` pages in one Chromium, each in its own browser context (separate cookies, so separate
    Streamlit sessions), all sharing the fake camera playing `clip`; closed afterwards."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=chromium_args(clip)
        )
        try:
            pages = []
            for _ in range(n):
                context = browser.new_context(viewport={"width": 1280, "height": 1000})
                page = context.new_page()
                page.set_default_timeout(60_000)
                pages.append(page)
            yield pages
        finally:
            browser.close()


@dataclass
class LiveText:
    """What the page's live status said at one moment (ms after START)."""

    at_ms: float
    status: str
    fps: float | None = None
    with_mask: int = 0
    without_mask: int = 0
    frames: int | None = None
    dropped: int | None = None
    first_s: float | None = None
    stopped_frames: int | None = None


def read_live_text(page: Any, at_ms: float = 0.0) -> LiveText:
    """Parse the status line and caption the /live page's fragment renders."""
    texts = page.locator('[data-testid="stText"]').all_inner_texts()
    captions = page.locator('[data-testid="stCaptionContainer"]').all_inner_texts()
    status = next((t for t in texts if STATUS_RE.search(t) or "Stopped" in t or IDLE_TEXT in t), "")
    out = LiveText(at_ms, status)
    if m := STATUS_RE.search(status):
        out.fps, out.with_mask, out.without_mask = float(m[1]), int(m[2]), int(m[3])
    if m := STOPPED_RE.search(status):
        out.stopped_frames = int(m[1])
    for caption in captions:
        if m := FRAMES_RE.search(caption):
            out.frames, out.dropped = int(m[1]), int(m[2])
        if m := FIRST_RE.search(caption):
            out.first_s = float(m[1])
    return out


def sidebar_menu(page: Any) -> list[str]:
    """The page names in the sidebar's navigation menu, top to bottom (a material icon is text
    too, its ligature name on a line before the page name: only the last line is kept)."""
    links = page.locator('[data-testid="stSidebarNav"] [data-testid="stSidebarNavLink"]')
    links.first.wait_for(timeout=30_000)
    return [text.strip().splitlines()[-1] for text in links.all_inner_texts()]


#: An init script for every frame: records each RTCPeerConnection made, so a test can read the
#: connection's statistics (which path the media takes) from outside the component.
RECORD_PEER_CONNECTIONS = """
(() => {
  const Native = window.RTCPeerConnection;
  if (!Native || Native.recorded) return;
  window.peerConnections = [];
  function Recorded(...args) {
    const pc = new Native(...args);
    window.peerConnections.push(pc);
    return pc;
  }
  Recorded.prototype = Native.prototype;
  Object.setPrototypeOf(Recorded, Native);
  Recorded.recorded = true;
  window.RTCPeerConnection = Recorded;
})();
"""

#: For each recorded connection: the browser's transport policy, its ICE state and the candidate
#: types ("host", "srflx", "relay") of the pair carrying the media.
_ICE_PATHS = """
async () => Promise.all((window.peerConnections || []).map(async (pc) => {
  const stats = await pc.getStats();
  const byId = {};
  stats.forEach((r) => { byId[r.id] = r; });
  let pair = null;
  stats.forEach((r) => {
    if (r.type === "transport" && r.selectedCandidatePairId) pair = byId[r.selectedCandidatePairId];
  });
  return {
    policy: pc.getConfiguration().iceTransportPolicy,
    state: pc.iceConnectionState,
    local: pair ? byId[pair.localCandidateId].candidateType : null,
    remote: pair ? byId[pair.remoteCandidateId].candidateType : null,
    bytesSent: pair ? pair.bytesSent : 0,
  };
}))
"""


def ice_paths(page: Any) -> list[dict[str, Any]]:
    """What `_ICE_PATHS` reads, from the WebRTC component's frame (the page needs
    RECORD_PEER_CONNECTIONS added as an init script before it loads)."""
    frames = [f for f in page.frames if "webrtc" in f.url]
    return [path for frame in frames for path in frame.evaluate(_ICE_PATHS)]


def component(page: Any) -> Any:
    return page.frame_locator(COMPONENT_IFRAME)


def open_live_page(page: Any, server: Server) -> None:
    page.goto(f"{server.url}/live")
    page.get_by_text(IDLE_TEXT).wait_for(timeout=90_000)
    component(page).get_by_role("button", name="START").wait_for(timeout=60_000)


def click(page: Any, name: str) -> None:
    component(page).get_by_role("button", name=name).click()


def output_video_size(page: Any) -> tuple[int, int]:
    """videoWidth/videoHeight of the component's <video>: (0, 0) until frames arrive."""
    video = component(page).locator("video")
    if video.count() == 0:
        return (0, 0)
    w, h = video.first.evaluate("v => [v.videoWidth, v.videoHeight]")
    return (int(w), int(h))


#: Exceptions, st.error and st.warning boxes (the /live page warns when frames fail).
PROBLEM_SELECTOR = (
    '[data-testid="stException"], [data-testid="stAlertContentError"], '
    '[data-testid="stAlertContentWarning"]'
)


def page_problems(page: Any) -> list[str]:
    """The text of every exception, error or warning box on the page (empty when all is well)."""
    return [str(t) for t in page.locator(PROBLEM_SELECTOR).all_inner_texts()]


def wait_for_first_frame(page: Any, timeout_ms: float = 60_000, poll_ms: int = 100) -> LiveText:
    """Poll the page until its status line shows processed frames; at_ms is from the call."""
    start = time.monotonic()
    while True:
        now_ms = (time.monotonic() - start) * 1000
        text = read_live_text(page, now_ms)
        if text.frames:
            return text
        if now_ms > timeout_ms:
            raise TimeoutError(f"no processed frame within {timeout_ms / 1000:.0f} s: {text}")
        page.wait_for_timeout(poll_ms)


# --- network namespace ---------------------------------------------------------------------------


def netns_available() -> bool:
    """True when `unshare -n` works here (root, or user namespaces allowed)."""
    if os.environ.get(ENV_IN_NETNS) or not shutil.which("unshare") or not shutil.which("ip"):
        return False
    probe = subprocess.run(
        ["unshare", "-n", "ip", "link", "set", "lo", "up"], capture_output=True, timeout=20
    )
    return probe.returncode == 0


def netns_command(argv: list[str]) -> list[str]:
    """`argv` run in a fresh network namespace that has only the loopback interface, up."""
    return ["unshare", "-n", "sh", "-c", 'ip link set lo up && exec "$@"', "netns", *argv]


def run_test_in_netns(node_id: str) -> None:
    """Run one pytest test (its node id, e.g. "tests/test_x.py::test_y") again inside
    `netns_command`; fail with its output if it fails."""
    proc = subprocess.run(
        netns_command(
            [sys.executable, "-m", "pytest", node_id, "-q", "-x", "-p", "no:cacheprovider"]
        ),
        cwd=REPO,
        env={**os.environ, ENV_IN_NETNS: "1"},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, (proc.stdout + proc.stderr)[-6000:]
    assert " passed" in proc.stdout, proc.stdout[-3000:]


def run_isolated(node_id: str, body: Callable[[Path], None], workdir: Path) -> None:
    """A browser test's body: the test runs again inside `unshare -n` where that is permitted
    (there, or where it is not, `body(workdir)` runs in this process)."""
    if netns_available():
        run_test_in_netns(node_id)
    else:
        body(workdir)
