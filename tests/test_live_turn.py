"""End to end through a real TURN server: the camera's frames reach /live only by relay.

Debian's coturn (apt-get install -y coturn; .ci/run installs it) is started on 127.0.0.1 with
long-term credentials, and the app gets them the way a deployment does: the ICE settings in
MASK_DETECTOR_ICE_SERVERS, plus MASK_DETECTOR_ICE_TRANSPORT_POLICY=relay, which makes the browser
use relayed candidates only (iceTransportPolicy "relay"). The test reads the browser's own
statistics to see that the media path is a relay, and the page to see frames being processed.
Where `unshare -n` is permitted it runs in a network namespace holding only `lo`, so the relay
is the only way through and nothing leaves the machine.
"""

from __future__ import annotations

import json
import secrets
from pathlib import Path

import pytest

from benchmarks import harness
from helpers import browser_test
from mask_detector.app import ice

pytestmark = [
    *browser_test,
    pytest.mark.skipif(not harness.turn_available(), reason="apt-get install -y coturn"),
]


def test_frames_flow_through_a_turn_relay(request: pytest.FixtureRequest, tmp_path: Path) -> None:
    harness.run_isolated(request.node.nodeid, stream_through_turn, tmp_path)


def stream_through_turn(workdir: Path) -> None:
    port = harness.free_port()
    settings = {
        ice.ENV_ICE_SERVERS: json.dumps(
            [
                {
                    "urls": [f"turn:127.0.0.1:{port}?transport=udp"],
                    "username": "mask-detector",
                    "credential": secrets.token_urlsafe(12),
                }
            ]
        ),
        ice.ENV_ICE_TRANSPORT_POLICY: "relay",
    }
    # The TURN server gets its credentials from the app's own ICE settings.
    (turn,) = ice.ice_servers(settings)
    clip = harness.write_y4m(workdir / "face.y4m", harness.clip_frames(seconds=4.0))
    with (
        harness.turn_server(workdir, port, turn["username"], turn["credential"]) as relay,
        harness.app_server(workdir, ice=settings) as server,
        harness.browser_page(clip, workdir) as page,
    ):
        page.context.add_init_script(harness.RECORD_PEER_CONNECTIONS)
        harness.open_live_page(page, server)
        harness.click(page, "START")
        first = harness.wait_for_first_frame(page, timeout_ms=90_000)
        page.wait_for_timeout(4000)
        later = harness.read_live_text(page)
        paths = harness.ice_paths(page)
        harness.click(page, "STOP")
        page.get_by_text(harness.STOPPED_RE).wait_for(timeout=30_000)
        log = server.log_tail(20_000)
        relay_log = relay.log_text()

    assert later.frames is not None and later.frames > (first.frames or 0) + 10, (first, later)
    assert later.with_mask + later.without_mask >= 1, later
    # The browser was held to relayed candidates, and its media went through the relay.
    assert paths, "no RTCPeerConnection recorded in the component"
    path = paths[-1]
    assert path["policy"] == "relay" and path["local"] == "relay", paths
    assert path["bytesSent"] > 100_000, paths
    # coturn saw the credentials and relayed a session.
    assert "ALLOCATE processed, success" in relay_log, relay_log[-3000:]
    assert "Traceback" not in log, log
